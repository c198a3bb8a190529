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
