/* test_hash.c: FNV-1a (common/hash.c), against the published values: the
 * store keeps these hashes, so they must never change. */
#include "hash.h"

#include <criterion/criterion.h>
#include <string.h>

Test(hash, fnv1a_gives_the_published_64_bit_values) {
  cr_assert_eq(tally_hash_fnv1a("", 0), 0xcbf29ce484222325ull);
  cr_assert_eq(tally_hash_fnv1a("a", 1), 0xaf63dc4c8601ec8cull);
  cr_assert_eq(tally_hash_fnv1a("foobar", 6), 0x85944171f73967e8ull);
}

Test(hash, fnv1a_in_pieces_is_fnv1a_of_the_whole) {
  const char *s = "wenchang 2022 live_births=1255";
  size_t n = strlen(s);
  for (size_t cut = 0; cut <= n; cut++) {
    uint64_t h = tally_hash_fnv1a_more(TALLY_FNV1A_BASIS, s, cut);
    cr_assert_eq(tally_hash_fnv1a_more(h, s + cut, n - cut),
                 tally_hash_fnv1a(s, n), "cut at %zu", cut);
  }
  cr_assert_eq(tally_hash_fnv1a_more(TALLY_FNV1A_BASIS, "", 0),
               0xcbf29ce484222325ull);
}
