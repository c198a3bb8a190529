/* test_rows.c: the row reader (server/rows.c): one unit's figures of one
 * period from a store transaction, by catalog element, the last few
 * kept.
 *
 * Units: d (the root) over a and b; elements births, deaths, pop. */
#include "catalog.h"
#include "fixture.h"
#include "period.h"
#include "rows.h"
#include "store.h"
#include "store_figures.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char catalog_json[] =
    "{'format':'tally-catalog/1','name':'rows',"
    "'units':["
    " {'code':'d','name_zh':'区','name_en':'D','level':'district'},"
    " {'code':'a','parent':'d','name_zh':'甲','name_en':'A','level':'town'},"
    " {'code':'b','parent':'d','name_zh':'乙','name_en':'B','level':'town'}],"
    "'plans':[{'code':'p','name_zh':'规划','name_en':'P','start_year':2021}],"
    "'data_elements':["
    " {'code':'births','name_zh':'活产','name_en':'B','unit':'persons','type':'count'},"
    " {'code':'deaths','name_zh':'死亡','name_en':'D','unit':'persons','type':'count'},"
    " {'code':'pop','name_zh':'人口','name_en':'P','unit':'persons','type':'count'}],"
    "'indicators':[{'code':'T01','plan':'p','name_zh':'人口','name_en':'P',"
    " 'unit':'u','source':'s','kind':'total','element':'pop','direction':'up'}]}";

static char dir[256];
static tally_store *store;
static tally_catalog *cat;
static tally_store_txn *txn;
static tally_rows rows;
static int A, B, D, BIRTHS, DEATHS, POP;

static void setup(void) {
  cat = tally_test_catalog(catalog_json);
  A = tally_catalog_unit(cat, "a");
  B = tally_catalog_unit(cat, "b");
  D = tally_catalog_unit(cat, "d");
  BIRTHS = tally_catalog_element(cat, "births");
  DEATHS = tally_catalog_element(cat, "deaths");
  POP = tally_catalog_element(cat, "pop");
  tally_test_tmpdir(dir, sizeof dir);
  cr_assert_eq(tally_store_open(dir, 0, 0, &store), 0);
  txn = NULL;
  tally_rows_init(&rows, cat, NULL);
}

static void teardown(void) {
  tally_rows_free(&rows);
  if (txn)
    tally_store_txn_end(txn);
  tally_store_close(store);
  tally_catalog_free(cat);
  tally_test_rmtree(dir);
}

TestSuite(rows, .init = setup, .fini = teardown);

static uint32_t key_of(const char *period) {
  tally_period p;
  cr_assert_eq(tally_period_parse(period, &p), 0);
  return tally_period_key(&p);
}

/* Writes figures of unit for period: element codes (any, the catalog's
 * or not) and values. */
static void put(const char *unit, const char *period, size_t n,
                const tally_store_item *items) {
  tally_store_result res;
  tally_store_submission sub = {.unit = unit, .period_key = key_of(period),
                                .items = items, .n = n, .now = 1700000000};
  cr_assert_eq(tally_store_submit(store, &sub, &res), 0);
}

/* A fresh snapshot for rows to read (the rows read are forgotten). */
static void snapshot(void) {
  if (txn)
    tally_store_txn_end(txn);
  cr_assert_eq(tally_store_read_begin(store, &txn), 0);
  rows.txn = txn;
  tally_rows_reset(&rows);
}

struct row {
  const double *value;
  const unsigned char *has;
};

static struct row read_row(int unit, const char *period) {
  tally_period p;
  struct row r;
  cr_assert_eq(tally_period_parse(period, &p), 0);
  cr_assert_eq(tally_rows_read(&rows, unit, &p, &r.value, &r.has), 0);
  return r;
}

Test(rows, a_units_figures_by_catalog_element) {
  put("a", "2022", 2,
      (tally_store_item[]){{"pop", 1200}, {"births", 32}});
  snapshot();
  struct row r = read_row(A, "2022");
  cr_assert_eq(r.has[BIRTHS], 1);
  cr_assert_eq(r.value[BIRTHS], 32);
  cr_assert_eq(r.has[POP], 1);
  cr_assert_eq(r.value[POP], 1200);
  cr_assert_eq(r.has[DEATHS], 0); /* not submitted: not a zero */

  /* The engine's view reads the same row. */
  tally_period p;
  const double *value;
  const unsigned char *has;
  cr_assert_eq(tally_period_parse("2022", &p), 0);
  cr_assert_eq(rows.src.row(&rows.src, A, &p, &value, &has), 0);
  cr_assert_eq(has[POP], 1);
  cr_assert_eq(value[POP], 1200);
}

Test(rows, a_zero_is_a_figure) {
  put("a", "2022", 1, (tally_store_item[]){{"deaths", 0}});
  snapshot();
  struct row r = read_row(A, "2022");
  cr_assert_eq(r.has[DEATHS], 1);
  cr_assert_eq(r.value[DEATHS], 0);
}

Test(rows, another_units_or_periods_figures_are_not_mixed_in) {
  put("a", "2022", 1, (tally_store_item[]){{"births", 32}});
  put("b", "2022", 2, (tally_store_item[]){{"births", 224}, {"deaths", 3}});
  put("d", "2022", 1, (tally_store_item[]){{"pop", 99}});
  put("a", "2021", 2, (tally_store_item[]){{"deaths", 1}, {"pop", 7}});
  put("a", "2022Q1", 1, (tally_store_item[]){{"deaths", 2}});
  snapshot();
  struct row a = read_row(A, "2022");
  cr_assert_eq(a.has[BIRTHS], 1);
  cr_assert_eq(a.value[BIRTHS], 32);
  cr_assert_eq(a.has[DEATHS], 0); /* b's, 2021's and 2022Q1's */
  cr_assert_eq(a.has[POP], 0);    /* d's and 2021's */
  struct row b = read_row(B, "2022");
  cr_assert_eq(b.value[BIRTHS], 224);
  cr_assert_eq(b.value[DEATHS], 3);
  cr_assert_eq(b.has[POP], 0);
  struct row d = read_row(D, "2022");
  cr_assert_eq(d.has[BIRTHS], 0);
  cr_assert_eq(d.has[POP], 1);
  cr_assert_eq(d.value[POP], 99);
  /* Both rows handed out last are still a's and b's... */
  a = read_row(A, "2022");
  b = read_row(B, "2022");
  cr_assert_eq(a.value[BIRTHS], 32);
  cr_assert_eq(b.value[BIRTHS], 224);
  /* ...and a's other periods are its own. */
  struct row y = read_row(A, "2021");
  cr_assert_eq(y.has[BIRTHS], 0);
  cr_assert_eq(y.value[DEATHS], 1);
  cr_assert_eq(y.value[POP], 7);
  struct row q = read_row(A, "2022Q1");
  cr_assert_eq(q.value[DEATHS], 2);
  cr_assert_eq(q.has[POP], 0);
}

Test(rows, an_element_the_catalog_no_longer_has_is_skipped) {
  /* Codes before, between and after the catalog's, as a store written
   * with an older catalog holds them. */
  put("a", "2022", 5,
      (tally_store_item[]){{"aaa", 1}, {"births", 32}, {"cows", 5},
                           {"deaths", 1}, {"zzz", 9}});
  snapshot();
  struct row r = read_row(A, "2022");
  cr_assert_eq(r.has[BIRTHS], 1);
  cr_assert_eq(r.value[BIRTHS], 32);
  cr_assert_eq(r.has[DEATHS], 1);
  cr_assert_eq(r.value[DEATHS], 1);
  cr_assert_eq(r.has[POP], 0);
}

Test(rows, a_report_with_no_figures) {
  /* b never reported; a's report was replaced by one without figures;
   * 2030 has nothing at all. */
  tally_store_submission sub = {0};
  tally_store_result res;
  put("a", "2022", 1, (tally_store_item[]){{"pop", 10}});
  sub.unit = "a";
  sub.period_key = key_of("2022");
  sub.replace = 1;
  sub.now = 1700000001;
  cr_assert_eq(tally_store_submit(store, &sub, &res), 0);
  cr_assert_eq(res.removed, 1);
  snapshot();
  const char *const periods[] = {"2022", "2030"};
  const int units[] = {A, B, D};
  for (int i = 0; i < 2; i++)
    for (int u = 0; u < 3; u++) {
      struct row r = read_row(units[u], periods[i]);
      for (size_t e = 0; e < cat->n_elements; e++)
        cr_assert_eq(r.has[e], 0, "unit %d, %s, element %zu", units[u],
                     periods[i], e);
    }
}

/* unit's figures of the i-th month from 2019-01, different for each. */
static const char *month(int i) {
  static char text[TALLY_PERIOD_STRLEN];
  snprintf(text, sizeof text, "%d-%02d", 2019 + i / 12, 1 + i % 12);
  return text;
}

static double births_of(int unit, int i) { return 1000 * i + unit; }

/* Two units' figures of 72 months: 144 rows, more than are kept. */
#define MONTHS 72
static void put_months(void) {
  static tally_store_submission subs[2 * MONTHS];
  static tally_store_item items[2 * MONTHS];
  static char codes[2][2] = {"a", "b"};
  tally_store_result res[2 * MONTHS];
  int rcs[2 * MONTHS];
  for (int i = 0; i < 2 * MONTHS; i++) {
    int u = i % 2 ? B : A;
    items[i] = (tally_store_item){"births", births_of(u, i / 2)};
    memset(&subs[i], 0, sizeof subs[i]);
    subs[i].unit = codes[i % 2];
    subs[i].period_key = key_of(month(i / 2));
    subs[i].items = &items[i];
    subs[i].n = 1;
    subs[i].now = 1700000000;
  }
  cr_assert_eq(tally_store_submit_batch(store, subs, 2 * MONTHS, res, rcs), 0);
  for (int i = 0; i < 2 * MONTHS; i++)
    cr_assert_eq(rcs[i], 0);
}

Test(rows, a_row_stays_valid_while_one_other_is_read) {
  cr_assert_lt(TALLY_ROWS_KEPT, 2 * MONTHS);
  put_months();
  snapshot();
  /* Every row in turn, each beside the one before. */
  struct row before = read_row(A, month(0));
  int before_unit = A, before_i = 0;
  for (int k = 1; k < 3 * 2 * MONTHS; k++) {
    int i = (k / 2) % MONTHS, u = k % 2 ? B : A;
    struct row now = read_row(u, month(i));
    cr_assert_eq(now.value[BIRTHS], births_of(u, i));
    cr_assert_eq(before.value[BIRTHS], births_of(before_unit, before_i),
                 "row %d lost by reading one other", k - 1);
    before = now;
    before_unit = u;
    before_i = i;
  }
}

Test(rows, the_oldest_row_is_kept_when_it_was_handed_out_last) {
  put_months();
  snapshot();
  /* Fill every slot; the first row read is now the oldest, and is
   * handed out again (from its slot) just before a new row is read. */
  for (int i = 0; i < TALLY_ROWS_KEPT; i++)
    read_row(i % 2 ? B : A, month(i / 2));
  struct row first = read_row(A, month(0));
  struct row next = read_row(A, month(MONTHS - 1));
  cr_assert_eq(next.value[BIRTHS], births_of(A, MONTHS - 1));
  cr_assert_eq(first.value[BIRTHS], births_of(A, 0));
}

Test(rows, a_row_read_again_is_the_kept_one_until_forgotten) {
  put("a", "2022", 1, (tally_store_item[]){{"pop", 10}});
  snapshot();
  struct row r = read_row(A, "2022");
  read_row(B, "2022");
  cr_assert_eq(read_row(A, "2022").value, r.value); /* not read again */

  /* The figures change (as in the rollup's write transaction, where the
   * rows outlive a change): the kept row is the old one until it is
   * forgotten. */
  tally_store_txn_end(txn); /* one transaction a thread */
  put("a", "2022", 1, (tally_store_item[]){{"pop", 11}});
  cr_assert_eq(tally_store_read_begin(store, &txn), 0);
  rows.txn = txn;
  cr_assert_eq(read_row(A, "2022").value[POP], 10);
  tally_rows_forget(&rows, A, key_of("2022"));
  cr_assert_eq(read_row(A, "2022").value[POP], 11);
  tally_store_txn_end(txn);
  txn = NULL;
  put("a", "2022", 1, (tally_store_item[]){{"pop", 12}});
  snapshot(); /* a fresh snapshot, the rows forgotten */
  cr_assert_eq(read_row(A, "2022").value[POP], 12);
}

/* What a submission's check saw of its report, read through the rows in
 * its own transaction: the row as the store holds it after the write
 * (a report written just now is read from its items, not the store). */
struct seen_in_check {
  const char *unit;
  double births, pop;
  int has_births, has_pop, calls;
};

static int read_in_check(void *arg, tally_store_txn *t,
                         Tally__Explanation ***kept, size_t *n_kept) {
  struct seen_in_check *s = arg;
  tally_rows in_txn;
  tally_period p;
  const double *value;
  const unsigned char *has;
  (void)kept;
  (void)n_kept;
  tally_rows_init(&in_txn, cat, t);
  cr_assert_eq(tally_period_parse("2022", &p), 0);
  cr_assert_eq(tally_rows_read(&in_txn, tally_catalog_unit(cat, s->unit), &p,
                               &value, &has), 0);
  s->has_births = has[BIRTHS];
  s->births = value[BIRTHS];
  s->has_pop = has[POP];
  s->pop = value[POP];
  s->calls++;
  tally_rows_free(&in_txn);
  return 0;
}

static void put_checked(const char *unit, size_t n,
                        const tally_store_item *items, const uint32_t *order,
                        struct seen_in_check *seen) {
  tally_store_result res;
  tally_store_submission sub = {.unit = unit, .period_key = key_of("2022"),
                                .items = items, .n = n, .order = order,
                                .now = 1700000000, .check = read_in_check,
                                .check_arg = seen};
  seen->unit = unit;
  cr_assert_eq(tally_store_submit(store, &sub, &res), 0);
  cr_assert_eq(seen->calls, 1);
}

Test(rows, a_check_reads_the_report_as_written_new_or_not) {
  struct seen_in_check s = {0};
  /* New: both items, given in code order (births before pop). */
  put_checked("a", 2, (tally_store_item[]){{"pop", 1200}, {"births", 32}},
              (uint32_t[]){1, 0}, &s);
  cr_assert(s.has_births && s.births == 32 && s.has_pop && s.pop == 1200);

  /* b holds births; pop is appended past every key, but b is not new. */
  memset(&s, 0, sizeof s);
  put("b", "2022", 1, (tally_store_item[]){{"births", 7}});
  put_checked("b", 1, (tally_store_item[]){{"pop", 300}}, (uint32_t[]){0}, &s);
  cr_assert(s.has_births && s.births == 7, "b's earlier figure is read too");
  cr_assert(s.has_pop && s.pop == 300);

  /* a again, one item changed: read from the store. */
  memset(&s, 0, sizeof s);
  put_checked("a", 1, (tally_store_item[]){{"births", 33}}, (uint32_t[]){0},
              &s);
  cr_assert(s.has_births && s.births == 33 && s.has_pop && s.pop == 1200);
}
