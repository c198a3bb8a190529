/* budget.h: one memory budget for what every connection holds.
 *
 * The server counts, across all its connections, the bytes held by
 * replies queued for the socket, by frames partly read and by bytes
 * read but not handled yet. Past the limit, connections that hold
 * replies wait, and a frame that would need more memory is refused
 * (server/server.c). This is the arithmetic alone.
 */
#ifndef TALLY_BUDGET_H
#define TALLY_BUDGET_H

#include <stddef.h>

#define TALLY_BUDGET_DEFAULT (256u << 20) /* 256 MiB */

typedef struct {
  size_t limit;   /* bytes the connections may hold together */
  size_t held;    /* bytes they hold now */
} tally_budget;

/* Sets b up with limit bytes (0 = TALLY_BUDGET_DEFAULT), none held. */
void tally_budget_init(tally_budget *b, size_t limit);

/* Counts n bytes more held, or n bytes given back (never more than are
 * held: the count stays at 0 or above). */
void tally_budget_take(tally_budget *b, size_t n);
void tally_budget_give(tally_budget *b, size_t n);

/* Counts a holding that went from was to now bytes. */
void tally_budget_move(tally_budget *b, size_t was, size_t now);

/* True when more than the limit is held. */
int tally_budget_over(const tally_budget *b);

/* The bytes that may still be taken within the limit (0 when over). */
size_t tally_budget_left(const tally_budget *b);

#endif
