/* arena.h: a bump allocator for building one message, freed at once.
 *
 * Replies are trees of protobuf-c structs and strings; building them in
 * an arena means one tally_arena_free() releases the whole tree.
 */
#ifndef TALLY_ARENA_H
#define TALLY_ARENA_H

#include <stddef.h>

typedef struct tally_arena_block tally_arena_block;

typedef struct {
  tally_arena_block *head; /* newest block first */
} tally_arena;

#define TALLY_ARENA_INIT {NULL}

/* Zeroed memory of n bytes, aligned for any type; NULL when out of
 * memory. Valid until tally_arena_free(). */
void *tally_arena_alloc(tally_arena *a, size_t n);

/* A copy of s (NULL stays NULL; on failure returns NULL). */
char *tally_arena_strdup(tally_arena *a, const char *s);

/* printf into the arena; NULL when out of memory. */
char *tally_arena_printf(tally_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Makes room for one more item in a growing array of n items of size
 * bytes in the arena, *cap items allocated: *array moves (doubling)
 * when it is full. Returns 0 or -ENOMEM. */
int tally_arena_reserve(tally_arena *a, void *array, size_t n, size_t *cap,
                        size_t size);

void tally_arena_free(tally_arena *a);

/* Frees the arena after zeroing what it held (a reply with a token). */
void tally_arena_wipe(tally_arena *a);

#endif
