/* test_kind.c: every row of the kind table (common/kind.c) through the
 * same checks, so that a row added is checked like the others.
 *
 * For each kind: the loader takes an indicator with exactly the keys
 * the row needs, and refuses it without each of them or with a key the
 * row does not allow; its formula text is as written here; the engine
 * computes a value from the units' shares; the sums the rollup keeps
 * through submissions and corrections of earlier periods equal sums
 * made afresh; the periods the row's share reads are those its reads
 * field says; and the periods the rollup re-takes when a period changes
 * are exactly those whose report reads it.
 *
 * Units: d (the district, the root) over a and b. */
#include "catalog.h"
#include "error.h"
#include "figures.h"
#include "fixture.h"
#include "indicator.h"
#include "kind.h"
#include "period.h"
#include "rollup.h"
#include "rows.h"
#include "store.h"
#include "store_figures.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char catalog_head[] =
    "{'format':'tally-catalog/1','name':'kinds',"
    "'units':["
    " {'code':'d','name_zh':'区','name_en':'D','level':'district'},"
    " {'code':'a','parent':'d','name_zh':'甲','name_en':'A','level':'town'},"
    " {'code':'b','parent':'d','name_zh':'乙','name_en':'B','level':'town'}],"
    "'plans':[{'code':'p','name_zh':'规划','name_en':'P','start_year':2021}],"
    "'data_elements':["
    " {'code':'num','name_zh':'分子','name_en':'N','unit':'u','type':'count'},"
    " {'code':'den','name_zh':'分母','name_en':'D','unit':'u','type':'count'},"
    " {'code':'el','name_zh':'值','name_en':'E','unit':'u','type':'amount'},"
    " {'code':'w','name_zh':'权','name_en':'W','unit':'u','type':'count'},"
    " {'code':'births','name_zh':'活产','name_en':'B','unit':'u','type':'count'},"
    " {'code':'stage','name_zh':'阶段','name_en':'S','unit':'s','type':'status',"
    "  'reported_by':'district','levels':[{'value':0,'zh':'未','en':'no'},"
    "  {'value':1,'zh':'是','en':'yes'}]},"
    " {'code':'deaths','name_zh':'死亡','name_en':'D','unit':'u','type':'count',"
    "  'age_groups':['0','1-4','5-9','10+']},"
    " {'code':'pop','name_zh':'人口','name_en':'P','unit':'u','type':'count',"
    "  'age_groups':['0','1-4','5-9','10+']},"
    " {'code':'ncd','name_zh':'慢病','name_en':'N','unit':'u','type':'count',"
    "  'age_groups':['30-34','35-39','40-44','45-49','50-54','55-59','60-64',"
    "  '65-69']},"
    " {'code':'pop5','name_zh':'人口','name_en':'P','unit':'u','type':'count',"
    "  'age_groups':['30-34','35-39','40-44','45-49','50-54','55-59','60-64',"
    "  '65-69','70+']}],"
    "'indicators':[";

/* A value for each key, fit for kind. */
static const char *key_value(const tally_kind_def *k, unsigned key) {
  int pm = k->kind == TALLY_KIND_PREMATURE_MORTALITY;
  switch (key) {
  case TALLY_KEY_NUM: return "'num'";
  case TALLY_KEY_DEN: return "'den'";
  case TALLY_KEY_ELEM:
    return k->kind == TALLY_KIND_MILESTONE ? "'stage'" : "'el'";
  case TALLY_KEY_WEIGHT: return "'w'";
  case TALLY_KEY_BIRTHS: return "'births'";
  case TALLY_KEY_DEATHS: return pm ? "'ncd'" : "'deaths'";
  case TALLY_KEY_POP: return pm ? "'pop5'" : "'pop'";
  case TALLY_KEY_FACTOR: return "10";
  case TALLY_KEY_BOUNDED: return "true";
  case TALLY_KEY_BASE: return "2020";
  case TALLY_KEY_FROM: return "2021";
  case TALLY_KEY_METHOD: return "'chiang2'";
  case TALLY_KEY_PARAMS: return "{}";
  case TALLY_KEY_MINPOP: return "0";
  case TALLY_KEY_UTARGET: return "{'op':'>','value':90}";
  }
  cr_assert_fail("no value for key bit %#x: add one", key);
  return NULL;
}

/* Appends an indicator of kind k with the given keys to buf. */
static void add_indicator(char *buf, size_t n, const tally_kind_def *k,
                          unsigned keys) {
  size_t len = strlen(buf);
  snprintf(buf + len, n - len,
           "%s{'code':'K_%s','plan':'p','name_zh':'指','name_en':'I',"
           "'unit':'u','source':'s','direction':'up','kind':'%s'",
           buf[len - 1] == '[' ? "" : ",", k->name, k->name);
  for (int b = 0; b < TALLY_KEY_COUNT; b++)
    if (keys & (1u << b)) {
      len = strlen(buf);
      snprintf(buf + len, n - len, ",'%s':%s", tally_kind_keys[b],
               key_value(k, 1u << b));
    }
  len = strlen(buf);
  snprintf(buf + len, n - len, "}");
}

/* Loads buf + "]}" with ' for ". Returns the loader's code. */
static int load(char *buf, size_t n, tally_catalog **out, char *err,
                size_t errlen) {
  size_t len = strlen(buf);
  snprintf(buf + len, n - len, "]}");
  for (char *p = buf; *p; p++)
    if (*p == '\'')
      *p = '"';
  return tally_catalog_load_buffer("kinds.json", buf, strlen(buf), out, err,
                                   errlen);
}

/* A catalog of one indicator of kind k with keys. */
static int load_one(const tally_kind_def *k, unsigned keys,
                    tally_catalog **out, char *err, size_t errlen) {
  static char buf[8192];
  snprintf(buf, sizeof buf, "%s", catalog_head);
  add_indicator(buf, sizeof buf, k, keys);
  return load(buf, sizeof buf, out, err, errlen);
}

/* The catalog of one minimal indicator of every kind, K_<name>. */
static tally_catalog *load_all(void) {
  static char buf[16384];
  char err[512];
  tally_catalog *cat;
  snprintf(buf, sizeof buf, "%s", catalog_head);
  for (int i = 0; i < TALLY_KIND_COUNT; i++)
    add_indicator(buf, sizeof buf, &tally_kinds[i], tally_kinds[i].need);
  cr_assert_eq(load(buf, sizeof buf, &cat, err, sizeof err), 0, "%s", err);
  cr_assert_eq(cat->n_indicators, TALLY_KIND_COUNT);
  return cat;
}

Test(kind, every_row_is_whole) {
  for (int i = 0; i < TALLY_KIND_COUNT; i++) {
    const tally_kind_def *k = &tally_kinds[i];
    cr_assert_not_null(k->name, "row %d has no name", i);
    cr_expect_eq((int)k->kind, i, "%s is in the wrong row", k->name);
    cr_expect_eq(tally_kind_find(k->name), k, "%s", k->name);
    cr_expect_eq(tally_kind_get(k->kind), k, "%s", k->name);
    cr_expect_str_eq(tally_kind_name(k->kind), k->name);
    cr_expect(k->share && k->value && k->formula, "%s", k->name);
    cr_expect_eq(k->need & k->allow, 0, "%s: a key both needed and allowed",
                 k->name);
    cr_expect(k->sums + k->by_age > 0, "%s keeps no sums", k->name);
  }
  cr_expect_null(tally_kind_find("average"));
  cr_expect_null(tally_kind_get((tally_kind)TALLY_KIND_COUNT));
}

Test(kind, the_loader_takes_exactly_the_needed_keys) {
  char err[512];
  tally_catalog *cat;
  for (int i = 0; i < TALLY_KIND_COUNT; i++) {
    const tally_kind_def *k = &tally_kinds[i];
    cr_assert_eq(load_one(k, k->need, &cat, err, sizeof err), 0, "%s: %s",
                 k->name, err);
    cr_expect_eq(cat->indicators[0].kind, k->kind, "%s", k->name);
    tally_catalog_free(cat);
    cr_assert_eq(load_one(k, k->need | k->allow, &cat, err, sizeof err), 0,
                 "%s with every key it allows: %s", k->name, err);
    tally_catalog_free(cat);
    for (int b = 0; b < TALLY_KEY_COUNT; b++) {
      unsigned bit = 1u << b;
      char want[96];
      if (k->need & bit) {
        snprintf(want, sizeof want, "kind needs a %s", tally_kind_keys[b]);
        cr_expect_eq(load_one(k, k->need & ~bit, &cat, err, sizeof err),
                     TALLY_ECATALOG, "%s without %s loads", k->name,
                     tally_kind_keys[b]);
      } else if (!(k->allow & bit)) {
        snprintf(want, sizeof want, "kind %s does not take %s", k->name,
                 tally_kind_keys[b]);
        cr_expect_eq(load_one(k, k->need | bit, &cat, err, sizeof err),
                     TALLY_ECATALOG, "%s with %s loads", k->name,
                     tally_kind_keys[b]);
      } else {
        continue;
      }
      cr_expect(strstr(err, want), "%s: '%s' is not '%s'", k->name, err,
                want);
    }
  }
}

/* What tally explain shows for each minimal indicator. */
static const struct {
  const char *kind, *formula;
} formulas[] = {
    {"ratio", "sum of num / sum of den x 1, both summed over the units that "
              "reported both"},
    {"total", "sum of el over the units x 1"},
    {"weighted_mean",
     "sum of (el x w) / sum of w, over the units that reported both"},
    {"growth", "(sum of el / sum of el in the period before - 1) x 100, over "
               "the units that reported both periods"},
    {"intensity_reduction",
     "(1 - (sum of num / sum of den) / (the same in 2020)) x 100, over the "
     "units that reported both years"},
    {"cumulative",
     "sum of el over the units and over the years from 2021 x 1"},
    {"life_expectancy",
     "life expectancy at birth of an abridged life table (Chiang II method) "
     "from deaths.* and pop.* summed by age group over the units that "
     "reported every group; no value for 5000 persons or fewer"},
    /* 5q = 5M / (1 + 2.5M), as tally_sdg341_compute takes it. */
    {"premature_mortality",
     "WHO SDG 3.4.1: 1 - product over 30-34 ... 65-69 of (1 - 5M / "
     "(1 + 2.5M)), M = ncd / pop5 summed over the units, as a percent"},
    {"milestone", "the status stage reported by the district office"},
    {"unit_threshold", "sum of num / sum of den x 1; the target holds only "
                       "if every unit's own rate is > 90"},
};

Test(kind, the_formula_text_of_every_kind) {
  tally_catalog *cat = load_all();
  tally_arena a = {0};
  for (size_t i = 0; i < cat->n_indicators; i++) {
    const char *name = tally_kind_name(cat->indicators[i].kind);
    const char *want = NULL;
    for (size_t f = 0; f < sizeof formulas / sizeof formulas[0]; f++)
      if (strcmp(formulas[f].kind, name) == 0)
        want = formulas[f].formula;
    cr_assert_not_null(want, "no formula written here for %s", name);
    const char *got = tally_indicator_formula(cat, (int)i, &a);
    cr_assert_not_null(got);
    cr_expect_str_eq(got, want, "%s", name);
  }
  tally_arena_free(&a);
  tally_catalog_free(cat);
}

/* ---- figures ---- */

/* Every element's figure of unit u in p: positive, different by unit
 * and year, small deaths against large populations (but a fifth of the
 * open age group's, as in life, so that a life table's interval is
 * narrow enough for a value). */
static double figure(const tally_catalog *cat, int e, int u,
                     const tally_period *p) {
  const tally_element *el = &cat->elements[e];
  int step = (p->year - 2018) * 13 + p->index;
  if (el->type == TALLY_ELEMENT_STATUS)
    return 1;
  if (el->group >= 0 && strncmp(el->code, "pop", 3) == 0)
    return 10000 + 100 * step + u;
  if (el->group >= 0)
    return (el->age_width == 0 ? 2000 : 5) + (step + u) % 7;
  if (strcmp(el->code, "den") == 0)
    return 1000 + 10 * step;
  return 100 + 7 * step + 3 * u;
}

/* The periods a share of some_periods (below) or of 2022 reads, and
 * more: years 2017-2025, the quarters of 2018-2023 and the months of
 * 2019-2022. */
static int figure_periods(tally_period *out) {
  int n = 0;
  for (int y = 2017; y <= 2025; y++)
    out[n++] = (tally_period){y, TALLY_PERIOD_YEAR, 0};
  for (int y = 2018; y <= 2023; y++)
    for (int q = 1; q <= 4; q++)
      out[n++] = (tally_period){y, TALLY_PERIOD_QUARTER, q};
  for (int y = 2019; y <= 2022; y++)
    for (int m = 1; m <= 12; m++)
      out[n++] = (tally_period){y, TALLY_PERIOD_MONTH, m};
  return n;
}

/* A tally_source that gives every unit every figure of every period a
 * share reads (from a store, through the row reader), and notes the
 * periods asked for. */
struct recorder {
  tally_source src;          /* first: the engine's view */
  tally_test_figures *fig;
  tally_source *rows;        /* the reader over fig's store */
  tally_period has[128];     /* the periods with figures */
  int n_has;
  uint32_t asked[4096];
  int n_asked;
};

static int recorder_row(tally_source *src, int unit, const tally_period *p,
                        const double **value, const unsigned char **has) {
  struct recorder *r = (struct recorder *)src;
  char text[TALLY_PERIOD_STRLEN];
  int with_figures = 0;
  if (r->n_asked < 4096)
    r->asked[r->n_asked++] = tally_period_key(p);
  for (int i = 0; i < r->n_has; i++)
    with_figures |= tally_period_key(&r->has[i]) == tally_period_key(p);
  cr_assert(with_figures, "a share reads %s, which has no figures here: add "
            "it to figure_periods", tally_period_format(p, text));
  return r->rows->row(r->rows, unit, p, value, has);
}

static void recorder_init(struct recorder *r, const tally_catalog *cat) {
  memset(r, 0, sizeof *r);
  r->src.row = recorder_row;
  r->fig = tally_test_figures_new(cat);
  r->n_has = figure_periods(r->has);
  for (int i = 0; i < r->n_has; i++) {
    char text[TALLY_PERIOD_STRLEN];
    tally_period_format(&r->has[i], text);
    for (size_t u = 0; u < cat->n_units; u++)
      for (size_t e = 0; e < cat->n_elements; e++)
        tally_test_figures_set(r->fig, (int)u, (int)e, text,
                               figure(cat, (int)e, (int)u, &r->has[i]));
  }
  r->rows = tally_test_figures_source(r->fig);
}

static void recorder_free(struct recorder *r) {
  tally_test_figures_free(r->fig);
}

static int asked(const struct recorder *r, uint32_t key) {
  for (int i = 0; i < r->n_asked; i++)
    if (r->asked[i] == key)
      return 1;
  return 0;
}

Test(kind, the_engine_computes_a_value_from_shares) {
  tally_catalog *cat = load_all();
  struct recorder rec;
  recorder_init(&rec, cat);
  tally_period p = {2022, TALLY_PERIOD_YEAR, 0};
  for (size_t i = 0; i < cat->n_indicators; i++) {
    const tally_indicator *in = &cat->indicators[i];
    const char *name = tally_kind_name(in->kind);
    tally_result r;
    tally_sums one, sum;
    int n = tally_sums_size(cat, (int)i);
    cr_assert_eq(tally_indicator_compute(cat, (int)i, &rec.src, cat->root, &p,
                                         &r),
                 0);
    cr_expect(r.has_value, "%s: no value: %s", name, r.note);
    cr_expect_eq(r.units_counted, r.units_expected, "%s: %s", name, r.note);
    cr_expect(r.has_previous, "%s: no previous value: %s", name, r.note);
    if (in->kind == TALLY_KIND_MILESTONE)
      continue; /* the district's own */
    /* The value is the one the two units' shares make. */
    memset(&sum, 0, sizeof sum);
    int units[] = {tally_catalog_unit(cat, "a"), tally_catalog_unit(cat, "b")};
    for (int u = 0; u < 2; u++) {
      cr_assert_eq(tally_sums_unit(cat, (int)i, &rec.src, units[u], &p, &one),
                   0);
      cr_expect_eq(one.counted, 1, "%s: unit %d has no share", name, u);
      tally_sums_add(&sum, &one, n, 1);
    }
    tally_result from_sums;
    memset(&from_sums, 0, sizeof from_sums);
    from_sums.units_counted = (int)sum.counted;
    cr_assert_eq(tally_kind_get(in->kind)->value(cat, in, &p, sum.cur,
                                                  &from_sums),
                 0, "%s: %s", name, from_sums.note);
    cr_expect(memcmp(&from_sums.value, &r.value, sizeof r.value) == 0,
              "%s: %.17g from the shares, %.17g computed", name,
              from_sums.value, r.value);
  }
  recorder_free(&rec);
  tally_catalog_free(cat);
}

/* ---- periods ---- */

/* Years 2018-2025, the quarters of 2019-2023 and the months of 2020 and
 * 2022. */
static int some_periods(tally_period *out) {
  int n = 0;
  for (int y = 2018; y <= 2025; y++)
    out[n++] = (tally_period){y, TALLY_PERIOD_YEAR, 0};
  for (int y = 2019; y <= 2023; y++)
    for (int q = 1; q <= 4; q++)
      out[n++] = (tally_period){y, TALLY_PERIOD_QUARTER, q};
  for (int y = 2020; y <= 2022; y += 2)
    for (int m = 1; m <= 12; m++)
      out[n++] = (tally_period){y, TALLY_PERIOD_MONTH, m};
  return n;
}

Test(kind, a_share_reads_the_periods_its_row_says) {
  tally_catalog *cat = load_all();
  tally_period ps[64], reads[64];
  int np = some_periods(ps), a = tally_catalog_unit(cat, "a");
  struct recorder rec;
  recorder_init(&rec, cat);
  for (size_t i = 0; i < cat->n_indicators; i++) {
    const tally_indicator *in = &cat->indicators[i];
    const tally_kind_def *k = tally_kind_get(in->kind);
    for (int j = 0; j < np; j++) {
      tally_amount v[TALLY_SUMS_MAX];
      char text[TALLY_PERIOD_STRLEN];
      rec.n_asked = 0;
      cr_assert_geq(k->share(cat, in, &rec.src, a, &ps[j], v), 0);
      int n = tally_kind_reads_of(in, &ps[j], reads, 64);
      tally_period_format(&ps[j], text);
      for (int r = 0; r < n; r++)
        cr_expect(asked(&rec, tally_period_key(&reads[r])),
                  "%s %s: the row says it reads a period the share does not",
                  k->name, text);
      for (int s = 0; s < rec.n_asked; s++) {
        int said = 0;
        for (int r = 0; r < n; r++)
          said |= tally_period_key(&reads[r]) == rec.asked[s];
        cr_expect(said, "%s %s: the share reads a period its row does not "
                  "say (key %#x)", k->name, text, rec.asked[s]);
      }
    }
  }
  recorder_free(&rec);
  tally_catalog_free(cat);
}

/* What tally_kind_changed_by finds, among some_periods. */
struct found {
  uint32_t key[256];
  int n;
  uint32_t every[64];
  int n_every;
};

static int found_one(void *arg, const tally_period *p) {
  struct found *f = arg;
  if (f->n < 256)
    f->key[f->n++] = tally_period_key(p);
  return 0;
}

static int found_every(void *arg, const uint32_t **keys, int *n) {
  struct found *f = arg;
  *keys = f->every;
  *n = f->n_every;
  return 0;
}

Test(kind, a_change_retakes_exactly_the_reports_that_read_it) {
  tally_catalog *cat = load_all();
  tally_period ps[64], reads[64];
  int np = some_periods(ps);
  struct found f;
  for (int j = 0; j < np; j++)
    f.every[j] = tally_period_key(&ps[j]);
  f.n_every = np;
  tally_kind_visit v = {found_one, found_every, &f};
  for (size_t i = 0; i < cat->n_indicators; i++) {
    const tally_indicator *in = &cat->indicators[i];
    const char *name = tally_kind_name(in->kind);
    for (int qi = 0; qi < np; qi++) {
      f.n = 0;
      cr_assert_eq(tally_kind_changed_by(in, &ps[qi], &v), 0);
      for (int pi = 0; pi < np; pi++) {
        char qt[TALLY_PERIOD_STRLEN], pt[TALLY_PERIOD_STRLEN];
        int retaken = 0, reads_q = 0;
        uint32_t pk = tally_period_key(&ps[pi]);
        for (int k = 0; k < f.n; k++)
          retaken |= f.key[k] == pk;
        int n = tally_kind_report_reads(in, &ps[pi], reads, 64);
        for (int r = 0; r < n; r++)
          reads_q |= tally_period_key(&reads[r]) == f.every[qi];
        tally_period_format(&ps[qi], qt);
        tally_period_format(&ps[pi], pt);
        cr_expect_eq(retaken, reads_q,
                     "%s: a change to %s %s the share of %s, whose report "
                     "%s it",
                     name, qt, retaken ? "re-takes" : "does not re-take", pt,
                     reads_q ? "reads" : "does not read");
      }
    }
  }
  tally_catalog_free(cat);
}

/* ---- kept sums ---- */

static char dir[256];
static tally_store *store;
static tally_catalog *kept_cat;
static tally_rollup *rollup;

static void store_setup(void) {
  int rebuilt;
  uint64_t reports;
  tally_test_tmpdir(dir, sizeof dir);
  cr_assert_eq(tally_store_open(dir, 0, 0, &store), 0);
  kept_cat = load_all();
  cr_assert_eq(tally_rollup_new(kept_cat, store, &rollup), 0);
  cr_assert_eq(tally_rollup_prepare(rollup, &rebuilt, &reports), 0);
}

static void store_teardown(void) {
  tally_rollup_free(rollup);
  tally_store_close(store);
  tally_catalog_free(kept_cat);
  tally_test_rmtree(dir);
}

TestSuite(kind_kept, .init = store_setup, .fini = store_teardown,
          .timeout = 120);

/* Submits unit's figures of p, each plus extra; replace drops the
 * figures of el. */
static void submit(const char *unit, const tally_period *p, double extra,
                   int replace) {
  const tally_catalog *cat = kept_cat;
  static tally_store_item items[256];
  tally_store_submission s;
  tally_store_result res;
  int u = tally_catalog_unit(cat, unit);
  memset(&s, 0, sizeof s);
  for (size_t e = 0; e < cat->n_elements; e++) {
    const tally_element *el = &cat->elements[e];
    if (el->district_only != (u == cat->root) ||
        (replace && strcmp(el->code, "el") == 0))
      continue;
    items[s.n].element = el->code;
    items[s.n++].value = figure(cat, (int)e, u, p) + extra;
  }
  s.unit = unit;
  s.period_key = tally_period_key(p);
  s.items = items;
  s.replace = replace;
  s.now = 1700000000;
  cr_assert_eq(tally_store_submit(store, &s, &res), 0);
}

static int kept_sums(tally_source *src, int ind, int scope,
                     const tally_period *p, tally_sums *out) {
  tally_rows *rows = (tally_rows *)src;
  return tally_rollup_read(rows->cat, rows->txn, ind, scope,
                           tally_period_key(p), out);
}

/* Every indicator for d in every one of some_periods, from the kept
 * sums and from the figures, and the records against records remade. */
static void expect_kept_equal_fresh(const char *after) {
  tally_store_txn *txn;
  tally_rows kept, raw;
  tally_period ps[64];
  int np = some_periods(ps), with_value = 0;
  const tally_catalog *cat = kept_cat;
  cr_assert_eq(tally_store_read_begin(store, &txn), 0);
  tally_rows_init(&kept, cat, txn);
  tally_rows_init(&raw, cat, txn);
  kept.src.kept = kept_sums;
  for (size_t i = 0; i < cat->n_indicators; i++)
    for (int j = 0; j < np; j++) {
      tally_result a, b;
      char text[TALLY_PERIOD_STRLEN];
      cr_assert_eq(tally_indicator_compute(cat, (int)i, &kept.src, cat->root,
                                           &ps[j], &a),
                   0);
      cr_assert_eq(tally_indicator_compute(cat, (int)i, &raw.src, cat->root,
                                           &ps[j], &b),
                   0);
      tally_period_format(&ps[j], text);
      cr_expect(a.has_value == b.has_value &&
                    memcmp(&a.value, &b.value, sizeof a.value) == 0 &&
                    a.has_previous == b.has_previous &&
                    memcmp(&a.previous, &b.previous, sizeof a.previous) == 0 &&
                    a.units_counted == b.units_counted,
                "after %s, %s %s: kept %.17g (previous %.17g, %d units), "
                "afresh %.17g (previous %.17g, %d units)",
                after, cat->indicators[i].code, text, a.value, a.previous,
                a.units_counted, b.value, b.previous, b.units_counted);
      with_value += a.has_value;
    }
  tally_rows_free(&kept);
  tally_rows_free(&raw);
  tally_store_txn_end(txn);
  cr_expect_gt(with_value, 2 * TALLY_KIND_COUNT, "after %s", after);
  tally_rollup_check c;
  cr_assert_eq(tally_rollup_verify(cat, store, &c), 0);
  cr_expect_eq(c.mismatches, 0, "after %s: %s", after, c.first);
  cr_expect_gt(c.records, 0);
}

Test(kind_kept, kept_sums_equal_sums_made_afresh_after_earlier_changes) {
  tally_period ps[64];
  int np = some_periods(ps);
  /* Later periods first, so that every change below is to a period that
   * later ones read. */
  for (int j = np - 1; j >= 0; j--) {
    submit("a", &ps[j], 0, 0);
    submit("b", &ps[j], 0, 0);
    submit("d", &ps[j], 0, 0);
  }
  expect_kept_equal_fresh("the first submissions");
  tally_period y2019 = {2019, TALLY_PERIOD_YEAR, 0},
               y2020 = {2020, TALLY_PERIOD_YEAR, 0}, /* the base year */
               y2021 = {2021, TALLY_PERIOD_YEAR, 0}, /* the first summed */
               q2 = {2022, TALLY_PERIOD_QUARTER, 2};
  submit("a", &y2020, 11, 0);
  expect_kept_equal_fresh("a correction of the base year");
  submit("b", &y2021, 5, 0);
  expect_kept_equal_fresh("a correction of the first year summed");
  submit("a", &y2019, 3, 1);
  expect_kept_equal_fresh("a year before the others, replaced without el");
  submit("b", &q2, 2, 0);
  expect_kept_equal_fresh("a correction of a quarter");
  submit("a", &y2021, 0, 1);
  expect_kept_equal_fresh("the first year summed, replaced without el");
}
