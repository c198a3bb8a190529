/* test_rollup.c: the sums kept for inner units, against sums made afresh.
 *
 * The catalog is the built-in one with its ten units put under a deeper
 * tree (changqing -> north, south; north -> hills), so that sums are kept
 * at three levels. A seeded random mix of submissions, corrections and
 * removals goes through the real store; then every indicator for every
 * inner unit and period is computed from the kept sums and from the raw
 * figures, and the two must agree to the last bit; and
 * tally_rollup_verify, which remakes the records, must find them equal,
 * and must find a record changed behind its back.
 */
#include "catalog.h"
#include "error.h"
#include "fixture.h"
#include "indicator.h"
#include "period.h"
#include "rollup.h"
#include "rows.h"
#include "store.h"
#include "store_figures.h"
#include "store_sums.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char tally_catalog_builtin_json[];
extern const size_t tally_catalog_builtin_len;

static char dir[256];
static tally_store *store;
static tally_catalog *cat;
static tally_rollup *rollup;

/* The built-in catalog on a deeper tree. Variants: EXTRA_UNIT adds one
 * more leaf (a different catalog); CHIANG makes H01 a Chiang II life
 * table, which takes no births. */
enum { EXTRA_UNIT = 1, CHIANG = 2 };
static char *deep_catalog_json(int variant) {
  int extra_unit = variant & EXTRA_UNIT;
  json_error_t e;
  json_t *doc = json_loadb(tally_catalog_builtin_json,
                           tally_catalog_builtin_len, 0, &e);
  cr_assert_not_null(doc, "%s", e.text);
  json_t *units = json_object_get(doc, "units");
  size_t i;
  json_t *u;
  json_array_foreach(units, i, u) {
    if (json_object_get(u, "parent") == NULL)
      continue;
    /* 1-2 under hills (itself under north), 3-5 under north, 6-10 south */
    const char *parent = i <= 2 ? "hills" : i <= 5 ? "north" : "south";
    json_object_set_new(u, "parent", json_string(parent));
  }
  json_array_append_new(units, json_pack("{s:s,s:s,s:s,s:s,s:s}", "code",
                                         "north", "parent", "changqing",
                                         "level", "area", "name_zh", "北",
                                         "name_en", "North"));
  json_array_append_new(units, json_pack("{s:s,s:s,s:s,s:s,s:s}", "code",
                                         "south", "parent", "changqing",
                                         "level", "area", "name_zh", "南",
                                         "name_en", "South"));
  json_array_append_new(units, json_pack("{s:s,s:s,s:s,s:s,s:s}", "code",
                                         "hills", "parent", "north", "level",
                                         "area", "name_zh", "山",
                                         "name_en", "Hills"));
  if (variant & CHIANG) {
    json_t *ind;
    json_array_foreach(json_object_get(doc, "indicators"), i, ind) {
      if (strcmp(json_string_value(json_object_get(ind, "code")), "H01"))
        continue;
      json_object_del(ind, "births");
      json_object_del(ind, "params");
      json_object_set_new(ind, "method", json_string("chiang2"));
    }
  }
  if (extra_unit)
    json_array_append_new(units, json_pack("{s:s,s:s,s:s,s:s,s:s}", "code",
                                           "newtown", "parent", "south",
                                           "level", "town", "name_zh", "新",
                                           "name_en", "New town"));
  char *text = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  return text;
}

static tally_catalog *load_deep(int variant) {
  char err[512];
  tally_catalog *c;
  char *text = deep_catalog_json(variant);
  int rc = tally_catalog_load_buffer("deep.json", text, strlen(text), &c, err,
                                     sizeof err);
  free(text);
  cr_assert_eq(rc, 0, "%s", err);
  return c;
}

static void setup(void) {
  tally_test_tmpdir(dir, sizeof dir);
  cr_assert_eq(tally_store_open(dir, 0, 0, &store), 0);
  cat = load_deep(0);
  cr_assert_eq(tally_rollup_new(cat, store, &rollup), 0);
  int rebuilt;
  uint64_t reports;
  cr_assert_eq(tally_rollup_prepare(rollup, &rebuilt, &reports), 0);
  cr_assert_eq(rebuilt, 1, "a new store has no sums yet: made afresh");
  cr_assert_eq(reports, 0);
}

static void teardown(void) {
  tally_rollup_free(rollup);
  tally_store_close(store);
  tally_catalog_free(cat);
  tally_test_rmtree(dir);
}

TestSuite(rollup, .init = setup, .fini = teardown, .timeout = 120);

static uint32_t key(int year) {
  tally_period p = {year, TALLY_PERIOD_YEAR, 0};
  return tally_period_key(&p);
}

/* ---- a seeded random mix ---- */

static unsigned long long rng = 88172645463325252ull;
static unsigned next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng >> 11);
}

static double random_value(const tally_element *e) {
  if (e->type == TALLY_ELEMENT_AMOUNT)
    return (double)(next_rand() % 1000000) / 100; /* two decimals */
  /* Counts: now and then a real zero. */
  return next_rand() % 10 == 0 ? 0 : (double)(1 + next_rand() % 5000);
}

static int random_leaf(void) {
  for (;;) {
    int u = (int)(next_rand() % cat->n_units);
    if (cat->units[u].is_leaf)
      return u;
  }
}

#define MAX_ITEMS 512
struct sub {
  tally_store_submission s;
  tally_store_item items[MAX_ITEMS];
};

/* A submission of unit for year: a random part of the elements it
 * reports (most of them, or all), merged or replacing what was there. */
static void make_sub(struct sub *b, int unit, int year, int replace) {
  memset(b, 0, sizeof *b);
  int keep = next_rand() % 3 == 0 ? 100 : 85; /* % of elements sent */
  for (size_t e = 0; e < cat->n_elements && b->s.n < MAX_ITEMS; e++) {
    const tally_element *el = &cat->elements[e];
    if (el->district_only || (int)(next_rand() % 100) >= keep)
      continue;
    b->items[b->s.n].element = el->code;
    b->items[b->s.n].value = random_value(el);
    b->s.n++;
  }
  b->s.unit = cat->units[unit].code;
  b->s.period_key = key(year);
  b->s.items = b->items;
  b->s.replace = replace;
  b->s.now = 1700000000;
}

/* n random operations, some one at a time and some in batches. */
static void random_mix(int n) {
  static struct sub batch[8];
  static tally_store_result res[8];
  int codes[8];
  for (int i = 0; i < n;) {
    int m = next_rand() % 4 == 0 ? 1 + (int)(next_rand() % 8) : 1;
    for (int k = 0; k < m; k++) {
      int year = 2019 + (int)(next_rand() % 4); /* 2019 ... 2022 */
      make_sub(&batch[k], random_leaf(), year, next_rand() % 4 == 0);
      if (next_rand() % 5 == 0)
        batch[k].s.n /= 3; /* a correction of a few figures */
    }
    tally_store_submission subs[8];
    for (int k = 0; k < m; k++)
      subs[k] = batch[k].s;
    cr_assert_eq(tally_store_submit_batch(store, subs, (size_t)m, res, codes),
                 0);
    for (int k = 0; k < m; k++)
      cr_assert_eq(codes[k], 0, "%s", tally_strerror(codes[k]));
    i += m;
  }
}

/* ---- kept against raw ---- */

static void expect_same(const tally_result *a, const tally_result *b,
                        const char *what) {
  cr_expect_eq(a->status, b->status, "%s: status %d vs %d", what, a->status,
               b->status);
  cr_expect_eq(a->has_value, b->has_value, "%s", what);
  cr_expect(memcmp(&a->value, &b->value, sizeof a->value) == 0,
            "%s: value %.17g vs %.17g", what, a->value, b->value);
  cr_expect(memcmp(&a->numerator, &b->numerator, sizeof a->numerator) == 0,
            "%s: numerator %.17g vs %.17g", what, a->numerator, b->numerator);
  cr_expect(memcmp(&a->denominator, &b->denominator,
                   sizeof a->denominator) == 0,
            "%s: denominator %.17g vs %.17g", what, a->denominator,
            b->denominator);
  cr_expect_eq(a->units_counted, b->units_counted, "%s", what);
  cr_expect_eq(a->units_expected, b->units_expected, "%s", what);
  cr_expect_eq(a->has_previous, b->has_previous, "%s", what);
  cr_expect(memcmp(&a->previous, &b->previous, sizeof a->previous) == 0,
            "%s: previous %.17g vs %.17g", what, a->previous, b->previous);
  cr_expect_str_eq(a->note, b->note, "%s", what);
}

static int kept_sums(tally_source *src, int ind, int scope,
                     const tally_period *p, tally_sums *out) {
  tally_rows *rows = (tally_rows *)src;
  return tally_rollup_read(rows->cat, rows->txn, ind, scope,
                           tally_period_key(p), out);
}

/* Every indicator, inner unit and year: from the kept sums and from the
 * units' figures. Returns how many results had a value. */
static int compare_all(void) {
  tally_store_txn *txn;
  tally_rows kept, raw;
  int with_value = 0;
  cr_assert_eq(tally_store_read_begin(store, &txn), 0);
  tally_rows_init(&kept, cat, txn);
  tally_rows_init(&raw, cat, txn);
  kept.src.kept = kept_sums;
  for (size_t u = 0; u < cat->n_units; u++) {
    if (cat->units[u].is_leaf)
      continue;
    for (int year = 2019; year <= 2023; year++) {
      tally_period p = {year, TALLY_PERIOD_YEAR, 0};
      for (size_t i = 0; i < cat->n_indicators; i++) {
        tally_result a, b;
        char what[96];
        snprintf(what, sizeof what, "%s %s %d", cat->indicators[i].code,
                 cat->units[u].code, year);
        cr_assert_eq(tally_indicator_compute(cat, (int)i, &kept.src, (int)u,
                                             &p, &a),
                     0);
        cr_assert_eq(tally_indicator_compute(cat, (int)i, &raw.src, (int)u,
                                             &p, &b),
                     0);
        expect_same(&a, &b, what);
        with_value += a.has_value;
      }
    }
  }
  tally_rows_free(&kept);
  tally_rows_free(&raw);
  tally_store_txn_end(txn);
  return with_value;
}

static tally_rollup_check verify(void) {
  tally_rollup_check c;
  cr_assert_eq(tally_rollup_verify(cat, store, &c), 0);
  return c;
}

Test(rollup, kept_sums_equal_sums_made_afresh) {
  random_mix(400);
  int with_value = compare_all();
  /* The mix must leave some indicators with values and some without. */
  cr_assert_gt(with_value, 100);
  tally_rollup_check c = verify();
  cr_assert_eq(c.mismatches, 0, "%s", c.first);
  cr_assert_gt(c.records, 500);
  cr_assert_gt(c.reports, 30);
}

/* A sums record changed, removed or added behind the store's back is
 * found. */
struct tamper {
  int how; /* 0 change, 1 remove, 2 add */
};

static int tamper_txn(void *arg, tally_store_txn *t) {
  struct tamper *tp = arg;
  int ind = tally_catalog_indicator(cat, "H02");
  int north = tally_catalog_unit(cat, "north");
  const void *data;
  size_t len;
  if (tp->how == 2) {
    /* A record for a year nobody reported. */
    int rc = tally_store_txn_sums_get(t, key(2022), "north", "H02", &data,
                                      &len);
    cr_assert_eq(rc, 0);
    char copy[1024];
    cr_assert_leq(len, sizeof copy);
    memcpy(copy, data, len);
    return tally_store_txn_sums_put(t, key(2030), "north", "H02", copy, len);
  }
  if (tp->how == 1)
    return tally_store_txn_sums_put(t, key(2022), "north", "H02", NULL, 0);
  tally_sums s;
  cr_assert_eq(tally_rollup_read(cat, t, ind, north, key(2022), &s), 0);
  cr_assert_gt(s.counted, 0);
  char copy[1024];
  cr_assert_eq(tally_store_txn_sums_get(t, key(2022), "north", "H02", &data,
                                        &len),
               0);
  memcpy(copy, data, len);
  copy[28] ^= 1; /* the lowest bit of the first sum */
  return tally_store_txn_sums_put(t, key(2022), "north", "H02", copy, len);
}

static void every_unit_reports_2022(void) {
  struct sub b;
  for (size_t u = 0; u < cat->n_units; u++) {
    if (!cat->units[u].is_leaf)
      continue;
    make_sub(&b, (int)u, 2022, 0);
    tally_store_result res;
    cr_assert_eq(tally_store_submit(store, &b.s, &res), 0);
  }
}

Test(rollup, verify_finds_a_changed_record) {
  every_unit_reports_2022();
  cr_assert_eq(verify().mismatches, 0);
  struct tamper tp = {0};
  cr_assert_eq(tally_store_write(store, tamper_txn, &tp), 0);
  tally_rollup_check c = verify();
  cr_assert_eq(c.mismatches, 1, "%s", c.first);
  cr_assert(strstr(c.first, "2022 north H02: differs"), "%s", c.first);
}

Test(rollup, verify_finds_a_missing_record) {
  every_unit_reports_2022();
  struct tamper tp = {1};
  cr_assert_eq(tally_store_write(store, tamper_txn, &tp), 0);
  tally_rollup_check c = verify();
  cr_assert_eq(c.mismatches, 1, "%s", c.first);
  cr_assert(strstr(c.first, "2022 north H02: missing"), "%s", c.first);
}

Test(rollup, verify_finds_an_extra_record) {
  every_unit_reports_2022();
  struct tamper tp = {2};
  cr_assert_eq(tally_store_write(store, tamper_txn, &tp), 0);
  tally_rollup_check c = verify();
  cr_assert_eq(c.mismatches, 1, "%s", c.first);
  cr_assert(strstr(c.first, "2030 north H02: a record of a period without"),
            "%s", c.first);
}

/* A refused submission in a batch changes no sum; the others do. */
Test(rollup, refused_submissions_leave_the_sums_alone) {
  every_unit_reports_2022();
  struct sub good, bad;
  int wenchang = tally_catalog_unit(cat, "wenchang");
  make_sub(&good, wenchang, 2022, 0);
  make_sub(&bad, wenchang, 2022, 0);
  bad.s.check_revision = 1;
  bad.s.base_revision = 99; /* a conflict */
  tally_store_submission subs[2] = {bad.s, good.s};
  tally_store_result res[2];
  int codes[2];
  cr_assert_eq(tally_store_submit_batch(store, subs, 2, res, codes), 0);
  cr_assert_eq(codes[0], TALLY_ECONFLICT);
  cr_assert_eq(codes[1], 0);
  tally_rollup_check c = verify();
  cr_assert_eq(c.mismatches, 0, "%s", c.first);
  compare_all();
}

/* Another catalog: the sums are made afresh when the rollup is
 * prepared, and not when the catalog is the same. */
Test(rollup, another_catalog_makes_the_sums_afresh) {
  random_mix(60);
  int rebuilt;
  uint64_t reports;
  cr_assert_eq(tally_rollup_prepare(rollup, &rebuilt, &reports), 0);
  cr_assert_eq(rebuilt, 0);

  tally_rollup_free(rollup);
  tally_catalog *other = load_deep(EXTRA_UNIT);
  tally_catalog_free(cat);
  cat = other;
  cr_assert_eq(tally_rollup_new(cat, store, &rollup), 0);
  tally_rollup_check c;
  cr_assert_eq(tally_rollup_verify(cat, store, &c), 0);
  cr_assert_gt(c.mismatches, 0, "made for the other catalog");
  cr_assert_eq(tally_rollup_prepare(rollup, &rebuilt, &reports), 0);
  cr_assert_eq(rebuilt, 1);
  cr_assert_gt(reports, 10);
  c = verify();
  cr_assert_eq(c.mismatches, 0, "%s", c.first);
  compare_all();
}

/* ---- through tallyd and the tally client ---- */

static tally_test_server srv;
static char files[256];
static char catalog_path[300];

static void server_setup(void) {
  tally_test_tmpdir(files, sizeof files);
  snprintf(catalog_path, sizeof catalog_path, "%s/deep.json", files);
  char *text = deep_catalog_json(0);
  tally_test_write_file(catalog_path, text);
  free(text);
  char spool[300];
  snprintf(spool, sizeof spool, "%s/spool", files);
  setenv("TALLY_SPOOL", spool, 1);
  tally_test_server_start(&srv, (const char *const[]){"--catalog",
                                                      catalog_path, NULL});
  setenv("TALLY_SERVER", srv.address, 1);
}

static void server_teardown(void) {
  tally_test_server_stop(&srv);
  tally_test_rmtree(files);
}

static void submit_as(const char *unit, const char *period, const char *file,
                      int replace) {
  char *err = NULL;
  tally_test_sign_in(&srv, "reporter", unit);
  int rc = replace ? RUN(NULL, &err, "submit", "--unit", unit, "--period",
                         period, "--file", file, "--replace")
                   : RUN(NULL, &err, "submit", "--unit", unit, "--period",
                         period, "--file", file);
  cr_assert_eq(rc, 0, "%s %s: %s", unit, period, err);
  free(err);
}

/* The sample file of unit and year, or a part of it (every other row),
 * with each count multiplied by scale. */
static const char *sample(const char *unit, int year, int part,
                          int scale) {
  static char out[400];
  char path[512];
  snprintf(path, sizeof path, "%s/deploy/sample/%d/%s.csv", TALLY_SOURCE_DIR,
           year, unit);
  if (!part && scale == 1)
    return strcpy(out, path);
  char *text = tally_test_read_file(path), *line, *save = NULL;
  cr_assert_not_null(text, "%s", path);
  snprintf(out, sizeof out, "%s/%s-%d-%d-%d.csv", files, unit, year, part,
           scale);
  FILE *f = fopen(out, "w");
  cr_assert_not_null(f);
  int row = 0;
  for (line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    char element[128];
    long long v;
    int end = 0;
    if (line[0] == '#' || strncmp(line, "data_element", 12) == 0)
      continue;
    if (part && row++ % 2)
      continue;
    /* Counts (whole numbers) scaled, all alike, so that the catalog's
     * rules (deaths.0 = infant_deaths, ...) still hold. */
    if (sscanf(line, "%127[^,],%lld%n", element, &v, &end) == 2 &&
        line[end] == 0)
      fprintf(f, "%s,%lld\n", element, v * scale);
    else
      fprintf(f, "%s\n", line);
  }
  fclose(f);
  free(text);
  return out;
}

static const char *const leaves[] = {"wenchang", "pingan", "guyunhu",
                                     "wufengshan", "guide", "wande",
                                     "zhangxia", "xiaoli", "mashan",
                                     "shuangquan"};

TestSuite(rollup_server, .init = server_setup, .fini = server_teardown,
          .timeout = 240);

Test(rollup_server, admin_verify_after_submissions_corrections_removals) {
  char *out = NULL, *err = NULL;
  for (int y = 2021; y <= 2022; y++)
    for (int i = 0; i < 10; i++) {
      char period[8];
      snprintf(period, sizeof period, "%d", y);
      submit_as(leaves[i], period, sample(leaves[i], y, 0, 1), 0);
    }
  /* Corrections (counts doubled), a removal of half a report, a report
   * taken down to a part and put back. */
  submit_as("wenchang", "2022", sample("wenchang", 2022, 0, 2), 0);
  submit_as("guide", "2022", sample("guide", 2022, 1, 1), 1);
  submit_as("mashan", "2021", sample("mashan", 2021, 1, 3), 1);
  submit_as("mashan", "2021", sample("mashan", 2021, 0, 1), 0);

  tally_test_sign_in(&srv, "admin", NULL);
  int rc = RUN(&out, &err, "admin", "verify");
  cr_assert_eq(rc, 0, "%s%s", out, err);
  cr_assert(strstr(out, "20 unit reports read"), "%s", out);
  cr_assert(strstr(out, "all match"), "%s", out);
  free(out);
  free(err);

  /* Reports for the units in between read the kept sums too. */
  rc = RUN(&out, &err, "report", "--period", "2022", "--unit", "hills",
           "--indicator", "H05", "--format", "csv");
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert(strstr(out, "H05"), "%s", out);
  free(out);
  free(err);

  /* Not for an analyst. */
  tally_test_sign_in(&srv, "analyst", NULL);
  rc = RUN(&out, &err, "admin", "verify");
  cr_assert_eq(rc, 1);
  cr_assert(strstr(err, "permission denied"), "%s", err);
  free(out);
  free(err);
}

/* The same catalog again: the sums are kept; the built-in catalog (a
 * different tree): made afresh at start, and still equal to the figures. */
Test(rollup_server, restart_with_another_catalog_makes_them_afresh) {
  for (int i = 0; i < 10; i++)
    submit_as(leaves[i], "2022", sample(leaves[i], 2022, 0, 1), 0);
  char data[256];
  snprintf(data, sizeof data, "%s", srv.dir);
  srv.own_dir = 0;
  cr_assert_eq(tally_test_server_stop(&srv), 0);

  tally_test_server_start_in(&srv, data, (const char *const[]){
                                             "--catalog", catalog_path, NULL});
  char *log = tally_test_read_file(srv.log);
  cr_assert_not_null(log);
  cr_assert(strstr(log, "listening on"), "%s", log);
  cr_assert_null(strstr(log, "sums made afresh"), "%s", log);
  free(log);
  cr_assert_eq(tally_test_server_stop(&srv), 0);

  tally_test_server_start_in(&srv, data, NULL);
  setenv("TALLY_SERVER", srv.address, 1);
  log = tally_test_read_file(srv.log);
  cr_assert(strstr(log, "sums made afresh for catalog"), "%s", log);
  cr_assert(strstr(log, "from 10 unit reports"), "%s", log);
  free(log);
  char *out = NULL, *err = NULL;
  tally_test_sign_in(&srv, "admin", NULL);
  int rc = RUN(&out, &err, "admin", "verify");
  cr_assert_eq(rc, 0, "%s%s", out, err);
  cr_assert(strstr(out, "all match"), "%s", out);
  free(out);
  free(err);
  srv.own_dir = 1;
}

/* In one batch: a period's first report (pingan 2023), then a change
 * that every later report of the unit looks back at (pingan 2021, the
 * first year of a cumulative sum): the period begun in the same batch is
 * among those updated. */
Test(rollup, a_period_begun_in_the_same_batch) {
  struct sub b[4];
  tally_store_result res[3];
  int codes[3];
  make_sub(&b[0], tally_catalog_unit(cat, "guide"), 2020, 0);
  cr_assert_eq(tally_store_submit(store, &b[0].s, res), 0);
  make_sub(&b[0], tally_catalog_unit(cat, "pingan"), 2022, 0);
  cr_assert_eq(tally_store_submit(store, &b[0].s, res), 0);
  make_sub(&b[1], tally_catalog_unit(cat, "wenchang"), 2021, 0);
  make_sub(&b[2], tally_catalog_unit(cat, "pingan"), 2023, 0);
  make_sub(&b[3], tally_catalog_unit(cat, "pingan"), 2021, 0);
  tally_store_submission subs[3] = {b[1].s, b[2].s, b[3].s};
  cr_assert_eq(tally_store_submit_batch(store, subs, 3, res, codes), 0);
  for (int i = 0; i < 3; i++)
    cr_assert_eq(codes[i], 0);
  tally_rollup_check c = verify();
  cr_assert_eq(c.mismatches, 0, "%s", c.first);
  compare_all();
}

/* More periods than any fixed list would hold: a unit's months of six
 * years all look at its base year (an intensity reduction), so a change
 * to the base year changes every one of their shares. */
Test(rollup, a_base_year_looked_at_by_many_periods) {
  struct sub b;
  tally_store_result res;
  int wenchang = tally_catalog_unit(cat, "wenchang");
  for (int year = 2021; year <= 2026; year++)
    for (int month = 1; month <= 12; month++) {
      tally_period p = {year, TALLY_PERIOD_MONTH, month};
      make_sub(&b, wenchang, year, 0);
      b.s.period_key = tally_period_key(&p);
      cr_assert_eq(tally_store_submit(store, &b.s, &res), 0);
    }
  make_sub(&b, wenchang, 2020, 0);
  cr_assert_eq(tally_store_submit(store, &b.s, &res), 0);
  make_sub(&b, wenchang, 2020, 0); /* a correction of the base year */
  cr_assert_eq(tally_store_submit(store, &b.s, &res), 0);
  tally_rollup_check c = verify();
  cr_assert_eq(c.mismatches, 0, "%s", c.first);
  cr_assert_gt(c.reports, 72);
}

/* A life table without births (Chiang II): every unit that reported its
 * age groups is counted, and nothing is read for births (under ASan, a
 * read of the element before the first was caught here). */
Test(rollup, a_life_table_that_takes_no_births) {
  tally_rollup_free(rollup);
  tally_catalog_free(cat);
  cat = load_deep(CHIANG);
  cr_assert_eq(tally_rollup_new(cat, store, &rollup), 0);
  int rebuilt;
  uint64_t reports;
  cr_assert_eq(tally_rollup_prepare(rollup, &rebuilt, &reports), 0);
  int ind = tally_catalog_indicator(cat, "H01");
  const tally_indicator *h01 = &cat->indicators[ind];
  for (size_t u = 0; u < cat->n_units; u++) {
    if (!cat->units[u].is_leaf)
      continue;
    /* 10 deaths and 5,000 people in every age group, 2,500 deaths in
     * the open one (so few there, and its interval is too wide for a
     * value). */
    struct sub b;
    memset(&b, 0, sizeof b);
    int groups[2] = {h01->deaths_groups, h01->population_groups};
    for (int g = 0; g < 2; g++)
      for (int k = 0; k < cat->age_groups[groups[g]].n; k++) {
        b.items[b.s.n].element =
            cat->elements[cat->age_groups[groups[g]].first + k].code;
        b.items[b.s.n++].value =
            g == 1 ? 5000 : k == cat->age_groups[groups[g]].n - 1 ? 2500 : 10;
      }
    b.s.unit = cat->units[u].code;
    b.s.period_key = key(2022);
    b.s.items = b.items;
    tally_store_result res;
    cr_assert_eq(tally_store_submit(store, &b.s, &res), 0);
  }
  tally_rollup_check c = verify();
  cr_assert_eq(c.mismatches, 0, "%s", c.first);
  compare_all();

  tally_store_txn *txn;
  tally_rows rows;
  tally_result r;
  tally_period p = {2022, TALLY_PERIOD_YEAR, 0};
  cr_assert_eq(tally_store_read_begin(store, &txn), 0);
  tally_rows_init(&rows, cat, txn);
  rows.src.kept = kept_sums;
  cr_assert_eq(tally_indicator_compute(cat, ind, &rows.src, cat->root, &p, &r),
               0);
  tally_rows_free(&rows);
  tally_store_txn_end(txn);
  cr_assert_eq(r.units_counted, 10, "%d: %s", r.units_counted, r.note);
  cr_assert(r.has_value, "%s", r.note);
}
