/* hash.c: FNV-1a (Fowler, Noll, Vo), 64-bit. */
#include "hash.h"

uint64_t tally_hash_fnv1a(const void *data, size_t n) {
  const unsigned char *p = data;
  uint64_t h = 0xcbf29ce484222325ull; /* the offset basis */
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull; /* the FNV prime */
  return h;
}
