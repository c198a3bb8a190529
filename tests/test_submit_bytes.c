/* test_submit_bytes.c: what server/submit_bytes.c writes directly is
 * what protobuf-c writes: a submission's digest is FNV-1a over
 * tally__submit_request__pack's bytes, and a new report's history
 * changes are the bytes it packs for a ChangeSet of them, which read
 * back as them. */
#include "hash.h"
#include "submit_bytes.h"

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

/* ---- the digest ---- */

/* FNV-1a over protobuf-c's bytes of s. */
static uint64_t want_digest(const Tally__SubmitRequest *s) {
  size_t n = tally__submit_request__get_packed_size(s);
  uint8_t *buf = malloc(n + 1);
  cr_assert(buf);
  tally__submit_request__pack(s, buf);
  uint64_t h = tally_hash_fnv1a(buf, n);
  free(buf);
  return h;
}

static char *random_text(char *buf, size_t max) {
  size_t len = (size_t)rand() % max;
  for (size_t k = 0; k < len; k++)
    buf[k] = (char)(rand() % 3 == 0 ? 0xe4 + rand() % 3 : 'a' + rand() % 26);
  buf[len] = 0;
  return buf;
}

Test(digest, every_field_of_random_submissions) {
  static char texts[64][300];
  Tally__Value values[150], *vp[150];
  Tally__Explanation ex[3], *xp[3];
  srand(29);
  for (int round = 0; round < 500; round++) {
    Tally__SubmitRequest s = TALLY__SUBMIT_REQUEST__INIT;
    int t = 0;
    s.unit = random_text(texts[t++], 40);
    s.period = random_text(texts[t++], 10);
    s.submission_id = random_text(texts[t++], 65);
    s.check_revision = rand() % 2;
    s.base_revision = rand() % 3 ? 0 : (uint64_t)rand() << 33 | (unsigned)rand();
    s.replace = rand() % 2;
    s.dry_run = rand() % 2;
    s.n_values = (size_t)rand() % 150;
    for (size_t i = 0; i < s.n_values; i++) {
      tally__value__init(&values[i]);
      values[i].element = random_text(texts[t % 64], 200); /* 2-byte lengths */
      t++;
      int k = rand() % 5;
      values[i].value = k == 0 ? 0 : k == 1 ? -0.0 : k == 2 ? NAN
                        : (double)rand() / 7;
      vp[i] = &values[i];
    }
    s.values = vp;
    s.n_explanations = (size_t)rand() % 4;
    for (size_t i = 0; i < s.n_explanations; i++) {
      tally__explanation__init(&ex[i]);
      ex[i].rule = random_text(texts[t++ % 64], 20);
      ex[i].text = random_text(texts[t++ % 64], 300);
      ex[i].time_unix = rand() % 2 ? -(int64_t)rand() : rand();
      ex[i].left = (double)rand() / 3;
      xp[i] = &ex[i];
    }
    s.explanations = xp;
    cr_assert_eq(tally_submit_digest(&s), want_digest(&s), "round %d", round);
  }
}

/* Fields this build does not know, kept by protobuf-c and written again:
 * in the submission (after its own) and in a value. */
Test(digest, fields_it_does_not_know) {
  Tally__Value v = TALLY__VALUE__INIT, *vp = &v;
  Tally__SubmitRequest s = TALLY__SUBMIT_REQUEST__INIT;
  s.unit = "wenchang";
  s.period = "2022";
  s.submission_id = "id-1";
  v.element = "live_births";
  v.value = 1255;
  s.values = &vp;
  s.n_values = 1;
  uint8_t buf[256];
  size_t n = tally__submit_request__pack(&s, buf);
  /* field 15, a varint, at the end; then a value with a field 7 */
  const uint8_t more[] = {15 << 3, 5, 3 << 3 | 2, 6, 1 << 3 | 2, 2, 'a', 'b',
                          7 << 3, 1};
  memcpy(buf + n, more, sizeof more);
  Tally__SubmitRequest *got =
      tally__submit_request__unpack(NULL, n + sizeof more, buf);
  cr_assert(got);
  cr_assert_eq(got->base.n_unknown_fields, 1);
  cr_assert_eq(got->n_values, 2);
  cr_assert_eq(got->values[1]->base.n_unknown_fields, 1);
  cr_assert_eq(tally_submit_digest(got), want_digest(got));
  got->n_values = 1; /* the submission's own, its values plain */
  cr_assert_eq(tally_submit_digest(got), want_digest(got));
  got->n_values = 2;
  tally__submit_request__free_unpacked(got, NULL);
}

/* The digests the store keeps must not change: one, as it was. */
Test(digest, as_the_store_keeps_it) {
  Tally__Value a = TALLY__VALUE__INIT, b = TALLY__VALUE__INIT, *vp[] = {&a, &b};
  Tally__SubmitRequest s = TALLY__SUBMIT_REQUEST__INIT;
  s.unit = "wenchang";
  s.period = "2022";
  s.submission_id = "8c1f-42";
  a.element = "live_births";
  a.value = 1255;
  b.element = "infant_deaths";
  b.value = 3;
  s.values = vp;
  s.n_values = 2;
  /* FNV-1a over tally__submit_request__pack's bytes, as tallyd kept it
   * before the digest was made here */
  cr_assert_eq(tally_submit_digest(&s), 0xd34fdc902ea87c68ull);
  cr_assert_eq(want_digest(&s), 0xd34fdc902ea87c68ull);
}
