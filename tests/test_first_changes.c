/* test_first_changes.c: a new report's history changes, packed directly
 * (server/first_changes.c), are the bytes protobuf-c packs for a
 * ChangeSet of the same changes, and read back as them. */
#include "first_changes.h"
#include "tally.pb-c.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* protobuf-c's bytes for the items as changes, into *out (malloc'd). */
static size_t protobuf_c_bytes(const tally_store_item *items, size_t n,
                               uint8_t **out) {
  Tally__ChangeSet cs = TALLY__CHANGE_SET__INIT;
  Tally__Change *c = calloc(n + 1, sizeof *c);
  Tally__Change **list = calloc(n + 1, sizeof *list);
  cr_assert(c && list);
  for (size_t i = 0; i < n; i++) {
    tally__change__init(&c[i]);
    c[i].element = (char *)items[i].element;
    c[i].has_new = 1;
    c[i].new_value = items[i].value;
    list[i] = &c[i];
  }
  cs.changes = list;
  cs.n_changes = n;
  size_t len = tally__change_set__get_packed_size(&cs);
  *out = malloc(len + 1);
  cr_assert(*out);
  cr_assert_eq(tally__change_set__pack(&cs, *out), len);
  free(c);
  free(list);
  return len;
}

/* The items packed both ways are the same bytes, which unpack to them. */
static void same_as_protobuf_c(const tally_store_item *items, size_t n) {
  uint8_t *want;
  size_t want_len = protobuf_c_bytes(items, n, &want);
  size_t len = tally_first_changes_size(items, n);
  cr_assert_eq(len, want_len, "%zu items: %zu bytes, protobuf-c %zu", n, len,
               want_len);
  uint8_t *got = malloc(len + 1);
  cr_assert(got);
  got[len] = 0xee; /* not written past */
  tally_first_changes_pack(items, n, got);
  cr_assert_eq(got[len], 0xee);
  cr_assert_eq(memcmp(got, want, len), 0, "%zu items: other bytes", n);

  Tally__ChangeSet *back = tally__change_set__unpack(NULL, len, got);
  cr_assert(back);
  cr_assert_eq(back->n_changes, n);
  for (size_t i = 0; i < n; i++) {
    const Tally__Change *c = back->changes[i];
    cr_assert_str_eq(c->element, items[i].element);
    cr_assert(c->has_new && !c->had_old);
    cr_assert(c->new_value == items[i].value ||
              (isnan(c->new_value) && isnan(items[i].value)));
  }
  tally__change_set__free_unpacked(back, NULL);
  free(got);
  free(want);
}

Test(first_changes, none) {
  same_as_protobuf_c(NULL, 0);
  cr_assert_eq(tally_first_changes_size(NULL, 0), 0);
}

Test(first_changes, the_values_proto3_leaves_out_and_those_it_keeps) {
  const tally_store_item items[] = {
      {"live_births", 1255},    {"infant_deaths", 0},
      {"negative_zero", -0.0},  {"deaths.85+", 3},
      {"", 7},                  {"gdp", 123456789012.5},
      {"tiny", 5e-324},         {"big", 1.7976931348623157e308},
      {"not_a_number", NAN}};
  for (size_t i = 0; i < sizeof items / sizeof items[0]; i++)
    same_as_protobuf_c(&items[i], 1);
  same_as_protobuf_c(items, sizeof items / sizeof items[0]);
}

/* Lengths past 127 take two bytes of varint: an element's, and a
 * Change's. */
Test(first_changes, long_codes) {
  static char codes[4][300];
  tally_store_item items[4];
  const size_t lens[] = {115, 126, 127, 290};
  for (int i = 0; i < 4; i++) {
    memset(codes[i], 'a' + i, lens[i]);
    codes[i][lens[i]] = 0;
    items[i] = (tally_store_item){codes[i], 1000 + i};
  }
  same_as_protobuf_c(items, 4);
}

Test(first_changes, random_reports) {
  static char codes[200][40];
  tally_store_item items[200];
  srand(17);
  for (int round = 0; round < 300; round++) {
    size_t n = (size_t)rand() % 200;
    for (size_t i = 0; i < n; i++) {
      size_t len = (size_t)rand() % 39;
      for (size_t k = 0; k < len; k++)
        codes[i][k] = (char)('a' + rand() % 26);
      codes[i][len] = 0;
      double v = rand() % 4 == 0 ? 0 : (double)(rand() % 100000) / 8;
      items[i] = (tally_store_item){codes[i], v};
    }
    same_as_protobuf_c(items, n);
  }
}
