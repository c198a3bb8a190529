#include "arena.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE 16384

struct tally_arena_block {
  tally_arena_block *next;
  size_t used;
  size_t size;
  max_align_t data[]; /* size bytes */
};

void *tally_arena_alloc(tally_arena *a, size_t n) {
  const size_t align = sizeof(max_align_t);
  tally_arena_block *b = a->head;
  size_t need = (n + align - 1) / align * align;

  if (need == 0)
    need = align;
  if (b == NULL || b->size - b->used < need) {
    size_t size = need > BLOCK_SIZE ? need : BLOCK_SIZE;
    b = malloc(sizeof *b + size);
    if (b == NULL)
      return NULL;
    b->size = size;
    b->used = 0;
    b->next = a->head;
    a->head = b;
  }
  void *p = (char *)b->data + b->used;
  b->used += need;
  memset(p, 0, n);
  return p;
}

char *tally_arena_strdup(tally_arena *a, const char *s) {
  if (s == NULL)
    return NULL;
  size_t n = strlen(s) + 1;
  char *d = tally_arena_alloc(a, n);
  if (d)
    memcpy(d, s, n);
  return d;
}

char *tally_arena_printf(tally_arena *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return NULL;
  char *s = tally_arena_alloc(a, (size_t)n + 1);
  if (s == NULL)
    return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

int tally_arena_reserve(tally_arena *a, void *array, size_t n, size_t *cap,
                        size_t size) {
  void **items = array;
  if (n < *cap)
    return 0;
  size_t grown = *cap ? *cap * 2 : 16;
  void *p = tally_arena_alloc(a, grown * size);
  if (p == NULL)
    return -ENOMEM;
  if (n)
    memcpy(p, *items, n * size);
  *items = p;
  *cap = grown;
  return 0;
}

void tally_arena_wipe(tally_arena *a) {
  for (tally_arena_block *b = a->head; b; b = b->next)
    explicit_bzero(b->data, b->used);
  tally_arena_free(a);
}

void tally_arena_free(tally_arena *a) {
  tally_arena_block *b = a->head;
  while (b) {
    tally_arena_block *next = b->next;
    free(b);
    b = next;
  }
  a->head = NULL;
}
