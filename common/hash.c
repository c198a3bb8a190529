/* hash.c: FNV-1a (Fowler, Noll, Vo), 64-bit. */
#include "hash.h"

uint64_t tally_hash_fnv1a_more(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull; /* the FNV prime */
  return h;
}

uint64_t tally_hash_fnv1a(const void *data, size_t n) {
  return tally_hash_fnv1a_more(TALLY_FNV1A_BASIS, data, n);
}
