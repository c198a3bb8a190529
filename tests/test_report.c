/* test_report.c: the report of a scope, built from one snapshot: the
 * units left out of a sum are counted always, and named at once only in
 * a scope small enough for that to be cheap (else on request). */
#include "catalog.h"
#include "fixture.h"
#include "interval.h"
#include "period.h"
#include "report.h"
#include "rollup.h"
#include "store.h"
#include "store_figures.h"

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

/* The built-in catalog with extra towns town1..townN under the district. */
static tally_catalog *with_towns(int n) {
  json_error_t e;
  json_t *doc = json_loadb(tally_catalog_builtin_json,
                           tally_catalog_builtin_len, 0, &e);
  cr_assert_not_null(doc, "%s", e.text);
  json_t *units = json_object_get(doc, "units");
  for (int i = 1; i <= n; i++) {
    char code[16];
    snprintf(code, sizeof code, "town%d", i);
    json_array_append_new(units, json_pack("{s:s,s:s,s:s,s:s,s:s}", "code",
                                           code, "parent", "changqing",
                                           "level", "town", "name_zh", "镇",
                                           "name_en", code));
  }
  char *text = json_dumps(doc, JSON_COMPACT), err[512];
  json_decref(doc);
  tally_catalog *c;
  int rc = tally_catalog_load_buffer("towns.json", text, strlen(text), &c, err,
                                     sizeof err);
  free(text);
  cr_assert_eq(rc, 0, "%s", err);
  return c;
}

static void open_with(int towns) {
  int rebuilt;
  uint64_t reports;
  tally_test_tmpdir(dir, sizeof dir);
  cr_assert_eq(tally_store_open(dir, 0, 0, &store), 0);
  cat = with_towns(towns);
  cr_assert_eq(tally_rollup_new(cat, store, &rollup), 0);
  cr_assert_eq(tally_rollup_prepare(rollup, &rebuilt, &reports), 0);
}

static void teardown(void) {
  tally_rollup_free(rollup);
  tally_store_close(store);
  tally_catalog_free(cat);
  tally_test_rmtree(dir);
}

TestSuite(report, .fini = teardown);

static uint32_t key2022(void) {
  tally_period p = {2022, TALLY_PERIOD_YEAR, 0};
  return tally_period_key(&p);
}

/* Every leaf but skip reports its births and infant deaths for 2022. */
static void submit_all_but(const char *skip) {
  for (size_t u = 0; u < cat->n_units; u++) {
    if (!cat->units[u].is_leaf || strcmp(cat->units[u].code, skip) == 0)
      continue;
    tally_store_item items[] = {{"live_births", 1000}, {"infant_deaths", 3}};
    tally_store_submission sub = {.unit = cat->units[u].code,
                                  .period_key = key2022(), .items = items,
                                  .n = 2, .now = 1700000000};
    tally_store_result res;
    cr_assert_eq(tally_store_submit(store, &sub, &res), 0);
  }
}

/* H02's note in the district's 2022 report. */
static void h02_note(int name_missing, char *note, size_t n, int *counted,
                     int *expected) {
  tally_store_txn *txn;
  tally_arena a = TALLY_ARENA_INIT;
  Tally__ReportReply *rep;
  tally_period p = {2022, TALLY_PERIOD_YEAR, 0};
  tally_report_filter f = {.indicator = tally_catalog_indicator(cat, "H02"),
                           .plan = -1, .name_missing = name_missing};
  cr_assert_eq(tally_store_read_begin(store, &txn), 0);
  cr_assert_eq(tally_report_build(cat, txn, NULL, &p, cat->root, &f, &a, &rep),
               0);
  tally_store_txn_end(txn);
  cr_assert_eq(rep->n_rows, 1);
  snprintf(note, n, "%s", rep->rows[0]->note);
  *counted = (int)rep->rows[0]->units_counted;
  *expected = (int)rep->rows[0]->units_expected;
  tally_arena_free(&a);
}

Test(report, a_small_district_names_its_missing_units) {
  char note[512];
  int counted, expected;
  open_with(0);
  submit_all_but("guide");
  h02_note(0, note, sizeof note, &counted, &expected);
  cr_assert_eq(counted, 9);
  cr_assert_eq(expected, 10);
  cr_assert(strstr(note, "not reported by 1 of 10: guide"), "%s", note);
}

Test(report, a_large_one_counts_them_and_names_them_on_request) {
  char note[512];
  int counted, expected;
  open_with(TALLY_NAMED_UNITS); /* 10 + 64 leaves: one more than named */
  submit_all_but("town40");
  h02_note(0, note, sizeof note, &counted, &expected);
  cr_assert_eq(counted, 73);
  cr_assert_eq(expected, 74);
  cr_assert(strstr(note, "not reported by 1 of 74"), "%s", note);
  cr_assert_null(strstr(note, "town40"), "not walked for: %s", note);
  cr_assert(strstr(note, "tally report --missing"), "%s", note);

  h02_note(1, note, sizeof note, &counted, &expected);
  cr_assert(strstr(note, "not reported by 1 of 74: town40"), "%s", note);
}

/* infant_deaths and live_births of every leaf for year, with unit
 * odd's own deaths (if odd is not NULL). */
static void submit_year(int year, int deaths, const char *odd, int odd_deaths) {
  for (size_t u = 0; u < cat->n_units; u++) {
    if (!cat->units[u].is_leaf)
      continue;
    int d = odd && strcmp(cat->units[u].code, odd) == 0 ? odd_deaths : deaths;
    tally_store_item items[] = {{"live_births", 1000}, {"infant_deaths", d}};
    tally_period p = {year, TALLY_PERIOD_YEAR, 0};
    tally_store_submission sub = {.unit = cat->units[u].code,
                                  .period_key = tally_period_key(&p),
                                  .items = items,
                                  .n = 2,
                                  .now = 1700000000};
    tally_store_result res;
    cr_assert_eq(tally_store_submit(store, &sub, &res), 0);
  }
}

/* H02 (per 1,000 live births) over ten towns of 1,000 births: 2021 3
 * deaths each, 30 in all (3 per 1,000); 2022 the same but guide's 25,
 * 52 in all (5.2 per 1,000). The report and the explanation carry each
 * value's interval (Byar's for 52 deaths, exact for 3), the change
 * judged against chance (up by 2.2 with sd sqrt(0.52 + 0.30) = 0.91:
 * more than 1.96 sd, worse), and each town against the district
 * (guide's 25 per 1,000, 16.2 to 36.9, lies above 5.2: worse; 3 per
 * 1,000, 0.62 to 8.77, holds it: similar). */
Test(report, intervals_and_comparisons_reach_the_report) {
  open_with(0);
  submit_year(2021, 3, NULL, 0);
  submit_year(2022, 3, "guide", 25);
  tally_store_txn *txn;
  tally_arena a = TALLY_ARENA_INIT;
  Tally__ReportReply *rep;
  Tally__ExplainReply *x;
  tally_period p = {2022, TALLY_PERIOD_YEAR, 0};
  int h02 = tally_catalog_indicator(cat, "H02");
  tally_report_filter f = {.indicator = h02, .plan = -1};
  cr_assert_eq(tally_store_read_begin(store, &txn), 0);
  cr_assert_eq(tally_report_build(cat, txn, NULL, &p, cat->root, &f, &a, &rep),
               0);
  cr_assert_eq(tally_report_explain(cat, txn, NULL, &p, cat->root, h02, &a, &x),
               0);
  tally_store_txn_end(txn);

  const Tally__ReportRow *row = rep->rows[0];
  tally_interval iv;
  cr_assert_eq(tally_interval_poisson(52, 0.95, &iv), 0);
  cr_assert(row->has_interval);
  cr_assert_float_eq(row->value, 5.2, 1e-12);
  cr_assert_float_eq(row->lower, iv.lower / 10, 1e-12);
  cr_assert_float_eq(row->upper, iv.upper / 10, 1e-12);
  cr_assert_str_eq(row->interval_method, "Byar");
  cr_assert_eq(row->change_compared, TALLY__COMPARE__COMPARE_WORSE);

  cr_assert_eq(x->n_units, 10);
  for (size_t i = 0; i < x->n_units; i++) {
    const Tally__ExplainUnit *u = x->units[i];
    int guide = strcmp(u->unit, "guide") == 0;
    cr_assert(u->row->has_interval);
    cr_assert_str_eq(u->row->interval_method, guide ? "Byar" : "exact Poisson");
    cr_assert_eq(u->compared,
                 guide ? TALLY__COMPARE__COMPARE_WORSE
                       : TALLY__COMPARE__COMPARE_SIMILAR,
                 "%s", u->unit);
  }
  tally_arena_free(&a);
}

/* unit's births and infant deaths for year. */
static void submit_h02(const char *unit, int year, double births,
                       double deaths) {
  tally_period p = {year, TALLY_PERIOD_YEAR, 0};
  tally_store_item items[] = {{"live_births", births},
                              {"infant_deaths", deaths}};
  tally_store_submission sub = {.unit = unit, .period_key = tally_period_key(&p),
                                .items = items, .n = 2, .now = 1700000000};
  tally_store_result res;
  cr_assert_eq(tally_store_submit(store, &sub, &res), 0);
}

/* The district's H02 row for 2022, from the kept sums. */
static Tally__ReportRow *h02_row(tally_arena *a) {
  tally_store_txn *txn;
  Tally__ReportReply *rep;
  tally_period p = {2022, TALLY_PERIOD_YEAR, 0};
  tally_report_filter f = {.indicator = tally_catalog_indicator(cat, "H02"),
                           .plan = -1};
  cr_assert_eq(tally_store_read_begin(store, &txn), 0);
  cr_assert_eq(tally_report_build(cat, txn, NULL, &p, cat->root, &f, a, &rep),
               0);
  tally_store_txn_end(txn);
  cr_assert_eq(rep->n_rows, 1);
  return rep->rows[0];
}

/* A unit missing from the year before no longer takes the change away:
 * it is over the units in both years, from the kept sums. Every leaf
 * has 1,000 births, 2 infant deaths in 2021 and 3 in 2022; guide did
 * not report 2021 and has 30 deaths in 2022. */
static void change_over_both(int towns) {
  open_with(towns);
  for (size_t u = 0; u < cat->n_units; u++) {
    if (!cat->units[u].is_leaf)
      continue;
    int guide = strcmp(cat->units[u].code, "guide") == 0;
    if (!guide)
      submit_h02(cat->units[u].code, 2021, 1000, 2);
    submit_h02(cat->units[u].code, 2022, 1000, guide ? 30 : 3);
  }
  int leaves = cat->units[cat->root].leaves;
  tally_arena a = TALLY_ARENA_INIT;
  Tally__ReportRow *row = h02_row(&a);
  cr_assert_eq((int)row->units_counted, leaves);
  cr_assert_float_eq(row->value, (3.0 * (leaves - 1) + 30) / leaves, 1e-9);
  cr_assert(row->has_change);
  cr_assert_eq((int)row->units_change, leaves - 1);
  cr_assert_float_eq(row->previous, 2, 1e-9);
  cr_assert_float_eq(row->change, 1, 1e-9); /* 3 - 2, guide left out */
  cr_assert(strstr(row->note, "the change is over the"), "%s", row->note);
  tally_arena_free(&a);

  /* guide missing from 2022 instead: the same change, over the same
   * units. */
  submit_h02("guide", 2021, 1000, 2);
  tally_period p = {2022, TALLY_PERIOD_YEAR, 0};
  tally_store_submission gone = {.unit = "guide",
                                 .period_key = tally_period_key(&p),
                                 .replace = 1, .now = 1700000001};
  tally_store_result res;
  cr_assert_eq(tally_store_submit(store, &gone, &res), 0); /* withdrawn */
  cr_assert_eq(res.removed, 2);
  row = h02_row(&a);
  cr_assert_eq((int)row->units_counted, leaves - 1);
  cr_assert_eq((int)row->units_change, leaves - 1);
  cr_assert_float_eq(row->change, 1, 1e-9);
  tally_arena_free(&a);
}

Test(report, the_change_is_over_the_units_in_both_years) {
  change_over_both(0);
}

Test(report, the_change_over_both_in_a_large_district) {
  change_over_both(TALLY_NAMED_UNITS);
}
