/* guard.h: slows down token guessing. Failed sign-ins are counted per
 * client address (without the port); an address with too many in a
 * window may not try again until the window has passed. The table has a
 * fixed size: when it is full the oldest address is forgotten. */
#ifndef TALLY_GUARD_H
#define TALLY_GUARD_H

#include <stdint.h>

#define TALLY_GUARD_LIMIT 10      /* failures allowed per address ... */
#define TALLY_GUARD_WINDOW_S 300  /* ... in this many seconds */
#define TALLY_GUARD_DELAY_MS 1000 /* a refused sign-in is answered this late */

typedef struct tally_guard tally_guard;

tally_guard *tally_guard_new(void);
void tally_guard_free(tally_guard *g);

/* Seconds until peer ("HOST:PORT") may try again; 0 = it may now. */
int64_t tally_guard_wait(tally_guard *g, const char *peer, int64_t now);

/* Counts a failed sign-in from peer. */
void tally_guard_fail(tally_guard *g, const char *peer, int64_t now);

/* Forgets the failures of sender (as tally_address_sender gives it:
 * "192.0.2.7", "2001:db8::/64"; or any address of that /64), so that it
 * may sign in again at once: an admin's doing. Returns the failures
 * forgotten (0: none were counted). */
unsigned tally_guard_clear(tally_guard *g, const char *sender);

/* Calls fn for each sender locked out at now (its failures, and the Unix
 * time the lockout ends). */
void tally_guard_each_locked(const tally_guard *g, int64_t now,
                             void (*fn)(void *arg, const char *sender,
                                        unsigned failures, int64_t until),
                             void *arg);

#endif
