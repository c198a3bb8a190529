/* kind.c: the table of indicator kinds, and each kind's functions.
 *
 * A kind's row (at the end of the file) names its functions: how a
 * unit's share of the sums is taken from its figures, how the value is
 * computed from the sums over many units, and the formula in words.
 * Which periods a share reads is said once, by the row's reads; the
 * share functions read those periods, and the rollup and the lock
 * look-back find them through tally_kind_changed_by and
 * tally_kind_report_reads (tests/test_kind.c checks that the three
 * agree for every row).
 */
#include "kind.h"

#include "figure.h"
#include "interval.h"
#include "lifetable.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const tally_kind_keys[TALLY_KEY_COUNT] = {
    "numerator", "denominator", "element", "weight",         "births",
    "deaths",    "population",  "factor",  "bounded",        "base_year",
    "from_year", "method",      "params",  "min_population", "unit_target"};

/* ---- a unit's share ---- */

/* A unit's figures of one period. */
typedef struct {
  const double *value;
  const unsigned char *has;
} row;

static int row_of(const tally_catalog *cat, tally_source *src, int unit,
                  const tally_period *p, row *out) {
  return src->row(src, unit, p, &out->value, &out->has);
}

static int get(const row *r, int element, tally_amount *v) {
  if (!r->has[element])
    return 0;
  *v = tally_amount_of(r->value[element]);
  return 1;
}

/* Every age group of groups into v; 1 when all are there. */
static int get_groups(const tally_catalog *cat, const row *r, int groups,
                      tally_amount *v) {
  const tally_age_groups *g = &cat->age_groups[groups];
  for (int k = 0; k < g->n; k++)
    if (!get(r, g->first + k, &v[k]))
      return 0;
  return 1;
}

/* A ratio's term: a plain element, or every age group of one summed;
 * 1 when all are there. */
static int get_term(const tally_catalog *cat, const row *r, int element,
                    int groups, tally_amount *v) {
  if (groups < 0)
    return get(r, element, v);
  const tally_age_groups *g = &cat->age_groups[groups];
  tally_amount one;
  *v = 0;
  for (int k = 0; k < g->n; k++) {
    if (!get(r, g->first + k, &one))
      return 0;
    *v += one;
  }
  return 1;
}

/* numerator, denominator: ratio, unit_threshold. */
static int share_ratio(const tally_catalog *cat, const tally_indicator *in,
                       tally_source *src, int unit, const tally_period *p,
                       tally_amount *v) {
  row r;
  int rc = row_of(cat, src, unit, p, &r);
  if (rc != 0)
    return rc;
  return get_term(cat, &r, in->numerator, in->numerator_groups, &v[0]) &&
         get_term(cat, &r, in->denominator, in->denominator_groups, &v[1]);
}

/* element: total, milestone. */
static int share_element(const tally_catalog *cat, const tally_indicator *in,
                         tally_source *src, int unit, const tally_period *p,
                         tally_amount *v) {
  row r;
  int rc = row_of(cat, src, unit, p, &r);
  if (rc != 0)
    return rc;
  return get(&r, in->element, &v[0]);
}

/* element x weight, weight. */
static int share_weighted_mean(const tally_catalog *cat,
                               const tally_indicator *in, tally_source *src,
                               int unit, const tally_period *p,
                               tally_amount *v) {
  row r;
  int rc = row_of(cat, src, unit, p, &r);
  if (rc != 0)
    return rc;
  if (!r.has[in->element] || !get(&r, in->weight, &v[1]))
    return 0;
  v[0] = tally_amount_of(r.value[in->element] * r.value[in->weight]);
  return 1;
}

/* True when a growth's share of p reads its base year: p is a year
 * after it. */
static int growth_has_base(const tally_indicator *in, const tally_period *p) {
  return in->base_year > 0 && p->kind == TALLY_PERIOD_YEAR &&
         p->year > in->base_year;
}

/* element in p, element in the period before; then (a year after the
 * base year, when there is one) element in the base year, else 0. */
static int share_growth(const tally_catalog *cat, const tally_indicator *in,
                        tally_source *src, int unit, const tally_period *p,
                        tally_amount *v) {
  row r, o;
  tally_period before;
  int rc = row_of(cat, src, unit, p, &r);
  if (rc != 0)
    return rc;
  if (tally_period_prev(p, &before) != 0 || !get(&r, in->element, &v[0]))
    return 0;
  if ((rc = row_of(cat, src, unit, &before, &o)) != 0)
    return rc;
  if (!get(&o, in->element, &v[1]))
    return 0;
  v[2] = 0;
  if (!growth_has_base(in, p))
    return 1;
  tally_period base = {in->base_year, TALLY_PERIOD_YEAR, 0};
  if ((rc = row_of(cat, src, unit, &base, &o)) != 0)
    return rc;
  return get(&o, in->element, &v[2]);
}

/* numerator, denominator in p; the same in the base year. */
static int share_intensity_reduction(const tally_catalog *cat,
                                     const tally_indicator *in,
                                     tally_source *src, int unit,
                                     const tally_period *p, tally_amount *v) {
  row r, o;
  tally_period base = {in->base_year, TALLY_PERIOD_YEAR, 0};
  int rc = row_of(cat, src, unit, p, &r);
  if (rc != 0)
    return rc;
  if (!get(&r, in->numerator, &v[0]) || !get(&r, in->denominator, &v[1]))
    return 0;
  if ((rc = row_of(cat, src, unit, &base, &o)) != 0)
    return rc;
  return get(&o, in->numerator, &v[2]) && get(&o, in->denominator, &v[3]);
}

/* element summed over the years from_year .. p; nothing for a period
 * that is not such a year. */
static int share_cumulative(const tally_catalog *cat, const tally_indicator *in,
                            tally_source *src, int unit, const tally_period *p,
                            tally_amount *v) {
  row o;
  tally_amount w;
  int rc;
  if (p->kind != TALLY_PERIOD_YEAR || p->year < in->from_year)
    return 0;
  v[0] = 0;
  for (int y = in->from_year; y <= p->year; y++) {
    tally_period year = {y, TALLY_PERIOD_YEAR, 0};
    if ((rc = row_of(cat, src, unit, &year, &o)) != 0)
      return rc;
    if (!get(&o, in->element, &w))
      return 0;
    v[0] += w;
  }
  return 1;
}

/* Deaths by age group, population by age group, then (life expectancy)
 * births. */
static int share_by_age(const tally_catalog *cat, const tally_indicator *in,
                        tally_source *src, int unit, const tally_period *p,
                        tally_amount *v) {
  row r;
  int rc = row_of(cat, src, unit, p, &r);
  if (rc != 0)
    return rc;
  int nd = cat->age_groups[in->deaths_groups].n,
      np = cat->age_groups[in->population_groups].n;
  if (!get_groups(cat, &r, in->deaths_groups, v) ||
      !get_groups(cat, &r, in->population_groups, v + nd))
    return 0;
  if (in->kind == TALLY_KIND_LIFE_EXPECTANCY) {
    v[nd + np] = 0; /* births, for the methods that take them */
    if (!in->q0_population && in->births >= 0 &&
        !get(&r, in->births, &v[nd + np]))
      return 0;
  }
  return 1;
}

/* ---- the value from the sums ---- */

/* A ratio's term in words, into buf (TERM_MAX). */
#define TERM_MAX (TALLY_CODE_MAX + 3)
static const char *term_of(const tally_catalog *cat, int element, int groups,
                           char *buf);

static void note(tally_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(tally_result *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->note, sizeof r->note, fmt, ap);
  va_end(ap);
}

static const char *code_of(const tally_catalog *cat, int element) {
  return cat->elements[element].code;
}

static void set_value(tally_result *r, double v) {
  r->has_value = 1;
  r->value = v;
}

/* The sums above and below the line (has_den: there is one below),
 * as numbers and as text. */
static void set_sums(tally_result *r, tally_amount num, int has_den,
                     tally_amount den) {
  r->has_numerator = 1;
  r->numerator = tally_amount_value(num);
  tally_figure_amount(r->numerator_text, sizeof r->numerator_text, num);
  r->has_denominator = has_den;
  if (has_den) {
    r->denominator = tally_amount_value(den);
    tally_figure_amount(r->denominator_text, sizeof r->denominator_text, den);
  }
}

static double quotient(tally_amount a, tally_amount b) {
  return (double)a / (double)b;
}

/* s[0] / s[1] * factor, the sums of elements top and bottom: a ratio's
 * numerator and denominator, a weighted mean's element and weight. */
static int value_quotient(const tally_indicator *in, const tally_amount *s,
                          tally_result *r, const char *top,
                          const char *bottom) {
  if (r->units_counted == 0) {
    note(r, "insufficient data: no unit reported both %s and %s", top,
         bottom);
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  set_sums(r, s[0], 1, s[1]);
  if (s[1] == 0) {
    note(r, "undefined: %s sums to 0", bottom);
    return TALLY_STATUS_UNDEFINED;
  }
  set_value(r, quotient(s[0], s[1]) * in->factor);
  return 0;
}

static int value_ratio(const tally_catalog *cat, const tally_indicator *in,
                       const tally_period *p, const tally_amount *s,
                       tally_result *r) {
  char top[TERM_MAX], bottom[TERM_MAX];
  (void)p;
  return value_quotient(
      in, s, r, term_of(cat, in->numerator, in->numerator_groups, top),
      term_of(cat, in->denominator, in->denominator_groups, bottom));
}

static int value_total(const tally_catalog *cat, const tally_indicator *in,
                       const tally_period *p, const tally_amount *s,
                       tally_result *r) {
  (void)p;
  if (r->units_counted == 0) {
    note(r, "insufficient data: no unit reported %s",
         code_of(cat, in->element));
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  set_sums(r, s[0], 0, 0);
  set_value(r, r->numerator * in->factor);
  return 0;
}

static int value_weighted_mean(const tally_catalog *cat,
                               const tally_indicator *in, const tally_period *p,
                               const tally_amount *s, tally_result *r) {
  (void)p;
  return value_quotient(in, s, r, code_of(cat, in->element),
                        code_of(cat, in->weight));
}

static int value_growth(const tally_catalog *cat, const tally_indicator *in,
                        const tally_period *p, const tally_amount *s,
                        tally_result *r) {
  tally_period prev;
  char ptext[TALLY_PERIOD_STRLEN];
  if (tally_period_prev(p, &prev) != 0)
    return TALLY_STATUS_INSUFFICIENT_DATA;
  tally_period_format(&prev, ptext);
  if (r->units_counted == 0) {
    note(r,
         "insufficient data: no unit reported %s for both this period "
         "and %s",
         code_of(cat, in->element), ptext);
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  set_sums(r, s[0], 1, s[1]);
  if (s[1] == 0) {
    note(r, "undefined: %s was 0 in %s", code_of(cat, in->element), ptext);
    return TALLY_STATUS_UNDEFINED;
  }
  /* The difference is taken exactly, before the quotient. */
  set_value(r, quotient(s[0] - s[1], s[1]) * 100);
  if (growth_has_base(in, p) && s[2] > 0 && s[0] > 0) {
    /* (x(t) / x(b))^(1 / (t - b)) - 1, as a percent. */
    int years = p->year - in->base_year;
    r->has_average = 1;
    r->average_from = in->base_year;
    r->average = expm1(log1p(quotient(s[0] - s[2], s[2])) / years) * 100;
  }
  return 0;
}

static int value_intensity_reduction(const tally_catalog *cat,
                                     const tally_indicator *in,
                                     const tally_period *p,
                                     const tally_amount *s, tally_result *r) {
  tally_period base = {in->base_year, TALLY_PERIOD_YEAR, 0};
  char btext[TALLY_PERIOD_STRLEN];
  tally_period_format(&base, btext);
  if (p->year < in->base_year) {
    /* A reduction against the base year is counted from it on. */
    note(r, "no value before the base year %d", in->base_year);
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  if (r->units_counted == 0) {
    note(r,
         "insufficient data: no unit reported %s and GDP (%s) for both "
         "this period and the base year",
         code_of(cat, in->numerator), code_of(cat, in->denominator));
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  if (s[1] == 0 || s[3] == 0 || s[2] == 0) {
    note(r, "undefined: %s sums to 0 in %s",
         code_of(cat, s[2] == 0 ? in->numerator : in->denominator),
         s[1] == 0 ? "this period" : btext);
    return TALLY_STATUS_UNDEFINED;
  }
  /* Shown: the intensity now and in the base year. */
  r->has_numerator = r->has_denominator = 1;
  r->numerator = quotient(s[0], s[1]);
  r->denominator = quotient(s[2], s[3]);
  tally_figure_quotient(r->numerator_text, sizeof r->numerator_text, s[0],
                        s[1]);
  tally_figure_quotient(r->denominator_text, sizeof r->denominator_text, s[2],
                        s[3]);
  set_value(r, (1 - r->numerator / r->denominator) * 100);
  note(r, "intensity %s now against %s in %s", r->numerator_text,
       r->denominator_text, btext);
  return 0;
}

/* Over the years from from_year to the period, over the units that
 * reported every one of those years: a unit missing a year is left out
 * of the whole sum. */
static int value_cumulative(const tally_catalog *cat, const tally_indicator *in,
                            const tally_period *p, const tally_amount *s,
                            tally_result *r) {
  if (p->kind != TALLY_PERIOD_YEAR) {
    note(r, "a cumulative total is counted over years: ask for a year");
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  if (p->year < in->from_year) {
    note(r, "the count starts in a later year");
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  if (r->units_counted == 0) {
    char years_text[32];
    snprintf(years_text, sizeof years_text, "%d to %d", in->from_year, p->year);
    note(r, "insufficient data: no unit reported %s for every year from %s",
         code_of(cat, in->element), years_text);
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  set_sums(r, s[0], 0, 0);
  set_value(r, r->numerator * in->factor);
  return 0;
}

/* The age group of element e: "85+" of "deaths.85+". */
static const char *group_label(const tally_catalog *cat, int e) {
  const char *dot = strchr(cat->elements[e].code, '.');
  return dot ? dot + 1 : cat->elements[e].code;
}

/* A life table's status into r: its value, or why there is none. A
 * table that cannot be made names the group and the elements it read
 * (deaths_el and pop_el give the elements of each group; births the
 * element q0 was taken over, or -1). */
static int table_status(const tally_catalog *cat, const tally_indicator *in,
                        int rc, const tally_lifetable_result *res,
                        const int *deaths_el, const int *pop_el, int births,
                        tally_result *r) {
  if (rc != 0) {
    const char *why = res->reason ? res->reason : "the table cannot be made";
    int g = res->bad_group;
    if (g < 0)
      note(r, "undefined: %s", why);
    else if (g == 0 && births >= 0)
      note(r, "undefined: age group %s (%s, %s, %s): %s",
           group_label(cat, deaths_el[0]), code_of(cat, deaths_el[0]),
           code_of(cat, pop_el[0]), code_of(cat, births), why);
    else
      note(r, "undefined: age group %s (%s, %s): %s",
           group_label(cat, deaths_el[g]), code_of(cat, deaths_el[g]),
           code_of(cat, pop_el[g]), why);
    return TALLY_STATUS_UNDEFINED;
  }
  if (res->status == TALLY_LIFETABLE_TOO_SMALL) {
    note(r,
         "population too small for a stable life table (%.0f, %g or "
         "fewer)",
         res->population, in->min_population);
    return TALLY_STATUS_TOO_SMALL;
  }
  if (res->status == TALLY_LIFETABLE_TOO_WIDE) {
    note(r,
         "population too small: the 95%% interval of life expectancy "
         "would be wider than %g years (+- %.1f)",
         TALLY_LIFETABLE_MAX_CI_YEARS, TALLY_LIFETABLE_Z * res->se);
    return TALLY_STATUS_TOO_SMALL;
  }
  set_value(r, res->value);
  return 0;
}

static int no_groups(const tally_catalog *cat, const tally_indicator *in,
                     tally_result *r) {
  note(r, "insufficient data: no unit reported every age group of %s and %s",
       cat->age_groups[in->deaths_groups].code,
       cat->age_groups[in->population_groups].code);
  return TALLY_STATUS_INSUFFICIENT_DATA;
}

/* The life table of sums s into *res (its rc); the elements of each
 * group into deaths_el and pop_el, the element q0 is taken over into
 * *births (-1 for the population aged 0), and the sums of deaths and of
 * population into r. */
static int life_table(const tally_catalog *cat, const tally_indicator *in,
                      const tally_amount *s, tally_lifetable_result *res,
                      int *deaths_el, int *pop_el, int *births,
                      tally_result *r) {
  const tally_age_groups *dg = &cat->age_groups[in->deaths_groups],
                         *pg = &cat->age_groups[in->population_groups];
  int n = dg->n;
  double deaths[TALLY_LIFETABLE_MAX_GROUPS], pop[TALLY_LIFETABLE_MAX_GROUPS];
  int start[TALLY_LIFETABLE_MAX_GROUPS];
  tally_amount dsum = 0, psum = 0;
  for (int k = 0; k < n; k++) {
    deaths_el[k] = dg->first + k;
    pop_el[k] = pg->first + k;
    start[k] = cat->elements[deaths_el[k]].age_from;
    deaths[k] = tally_amount_value(s[k]);
    pop[k] = tally_amount_value(s[n + k]);
    dsum += s[k];
    psum += s[n + k];
  }
  double b = tally_amount_value(s[n + pg->n]);
  tally_lifetable_params lp;
  tally_lifetable_params_default(&lp, (tally_lifetable_method)in->method);
  lp.min_population = in->min_population;
  if (!isnan(in->a0))
    lp.chiang_a0 = lp.cn_a0 = in->a0;
  if (!isnan(in->a))
    lp.chiang_a = in->a;
  if (in->sex)
    lp.sex = (tally_lifetable_sex)in->sex;
  lp.nax = in->nax;
  *births = -1;
  if (in->method == TALLY_LIFETABLE_CN_TEXTBOOK && !in->q0_population)
    *births = in->births;
  if (in->q0_population)
    b = pop[0]; /* q0 = deaths aged 0 / population aged 0 */
  tally_lifetable_input li = {n, start, deaths, pop, b};
  set_sums(r, dsum, 1, psum);
  return tally_lifetable_compute(&li, &lp, res, NULL);
}

static int value_life_expectancy(const tally_catalog *cat,
                                 const tally_indicator *in,
                                 const tally_period *p, const tally_amount *s,
                                 tally_result *r) {
  (void)p;
  int deaths_el[TALLY_LIFETABLE_MAX_GROUPS], pop_el[TALLY_LIFETABLE_MAX_GROUPS],
      births;
  tally_lifetable_result res;
  if (r->units_counted == 0)
    return no_groups(cat, in, r);
  int rc = life_table(cat, in, s, &res, deaths_el, pop_el, &births, r);
  return table_status(cat, in, rc, &res, deaths_el, pop_el, births, r);
}

/* SDG 3.4.1's deaths and population of 30-34 ... 65-69 from sums s
 * into *res (its rc); the elements of each group into deaths_el and
 * pop_el; the sums of both into r. */
static int sdg_table(const tally_catalog *cat, const tally_indicator *in,
                     const tally_amount *s, tally_lifetable_result *res,
                     int *deaths_el, int *pop_el, tally_result *r) {
  const tally_age_groups *dg = &cat->age_groups[in->deaths_groups],
                         *pg = &cat->age_groups[in->population_groups];
  double deaths[TALLY_SDG341_GROUPS], pop[TALLY_SDG341_GROUPS];
  /* The population of 30-34 ... 65-69 (the loader checked they exist). */
  tally_amount dsum = 0, psum = 0;
  for (int k = 0; k < TALLY_SDG341_GROUPS; k++) {
    deaths_el[k] = dg->first + k;
    deaths[k] = tally_amount_value(s[k]);
    dsum += s[k];
    for (int j = 0; j < pg->n; j++)
      if (cat->elements[pg->first + j].age_from == 30 + 5 * k) {
        pop_el[k] = pg->first + j;
        pop[k] = tally_amount_value(s[dg->n + j]);
        psum += s[dg->n + j];
      }
  }
  set_sums(r, dsum, 1, psum);
  return tally_sdg341_compute(deaths, pop, in->min_population, res);
}

static int value_premature_mortality(const tally_catalog *cat,
                                     const tally_indicator *in,
                                     const tally_period *p,
                                     const tally_amount *s, tally_result *r) {
  (void)p;
  int deaths_el[TALLY_SDG341_GROUPS], pop_el[TALLY_SDG341_GROUPS];
  tally_lifetable_result res;
  if (r->units_counted == 0)
    return no_groups(cat, in, r);
  int rc = sdg_table(cat, in, s, &res, deaths_el, pop_el, r);
  return table_status(cat, in, rc, &res, deaths_el, pop_el, -1, r);
}

static int value_milestone(const tally_catalog *cat, const tally_indicator *in,
                           const tally_period *p, const tally_amount *s,
                           tally_result *r) {
  (void)p;
  const tally_element *e = &cat->elements[in->element];
  if (r->units_counted == 0) {
    note(r, "insufficient data: the district office has not reported %s",
         e->code);
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  double v = tally_amount_value(s[0]);
  const tally_level *l = tally_element_level(e, (int)v);
  r->level = (int)v;
  set_value(r, v);
  note(r, "status: %s (%s)", l ? l->zh : "?", l ? l->en : "?");
  return 0;
}

/* ---- the value's confidence interval ---- */

/* Sets r's interval from iv, scaled by k (its variance by k^2). */
static void set_interval(tally_result *r, const tally_interval *iv, double k,
                         const char *method) {
  r->has_interval = 1;
  r->lower = iv->lower * k;
  r->upper = iv->upper * k;
  r->variance = iv->var * k * k;
  r->interval_method = method;
}

/* A ratio of two counts: a percentage is a proportion (Wilson's score
 * interval); a rate per 1,000, 10,000 or 100,000 counts events (exact
 * Poisson limits under 10 events, Byar's from there on). Amounts and
 * other factors have none: they are no samples of chance events. */
static void interval_ratio(const tally_catalog *cat, const tally_indicator *in,
                           const tally_amount *s, tally_result *r) {
  tally_interval iv;
  if (cat->elements[in->numerator].type != TALLY_ELEMENT_COUNT ||
      cat->elements[in->denominator].type != TALLY_ELEMENT_COUNT || s[1] <= 0)
    return;
  double x = tally_amount_value(s[0]), n = tally_amount_value(s[1]);
  if (in->factor == 100) {
    if (tally_interval_wilson(x, n, TALLY_INTERVAL_CONFIDENCE, &iv) == 0)
      set_interval(r, &iv, in->factor, "Wilson score");
  } else if (in->factor == 1000 || in->factor == 10000 ||
             in->factor == 100000) {
    if (tally_interval_poisson(x, TALLY_INTERVAL_CONFIDENCE, &iv) == 0)
      set_interval(r, &iv, in->factor / n,
                   x < TALLY_INTERVAL_EXACT_BELOW ? "exact Poisson" : "Byar");
  }
}

/* A life table's or SDG 3.4.1's interval from its result. */
static void interval_of_table(const tally_lifetable_result *res,
                              const char *method, tally_result *r) {
  if (res->status != TALLY_LIFETABLE_VALUE || isnan(res->lower))
    return;
  tally_interval iv = {res->lower, res->upper, res->se * res->se};
  set_interval(r, &iv, 1, method);
}

static void interval_life_expectancy(const tally_catalog *cat,
                                     const tally_indicator *in,
                                     const tally_amount *s, tally_result *r) {
  int deaths_el[TALLY_LIFETABLE_MAX_GROUPS], pop_el[TALLY_LIFETABLE_MAX_GROUPS],
      births;
  tally_lifetable_result res;
  tally_result sums = *r; /* the table's sums go nowhere */
  if (life_table(cat, in, s, &res, deaths_el, pop_el, &births, &sums) == 0)
    interval_of_table(&res, "Chiang, Silcocks for the open group", r);
}

static void interval_premature_mortality(const tally_catalog *cat,
                                         const tally_indicator *in,
                                         const tally_amount *s,
                                         tally_result *r) {
  int deaths_el[TALLY_SDG341_GROUPS], pop_el[TALLY_SDG341_GROUPS];
  tally_lifetable_result res;
  tally_result sums = *r;
  if (sdg_table(cat, in, s, &res, deaths_el, pop_el, &sums) == 0)
    interval_of_table(&res, "Chiang, for 40q30", r);
}

/* ---- the formula in words ---- */

/* A ratio's term: an element's code, or "CODE.*" for every age group
 * of one, into buf. */
static const char *term_of(const tally_catalog *cat, int element, int groups,
                           char *buf) {
  if (groups >= 0)
    snprintf(buf, TERM_MAX, "%s.*", cat->age_groups[groups].code);
  else
    snprintf(buf, TERM_MAX, "%s",
             element >= 0 ? cat->elements[element].code : "");
  return buf;
}

static const char *num_of(const tally_catalog *cat, const tally_indicator *in) {
  return in->numerator >= 0 ? cat->elements[in->numerator].code : "";
}

static const char *den_of(const tally_catalog *cat, const tally_indicator *in) {
  return in->denominator >= 0 ? cat->elements[in->denominator].code : "";
}

static const char *el_of(const tally_catalog *cat, const tally_indicator *in) {
  return in->element >= 0 ? cat->elements[in->element].code : "";
}

static const char *deaths_of(const tally_catalog *cat,
                             const tally_indicator *in) {
  return in->deaths_groups >= 0 ? cat->age_groups[in->deaths_groups].code : "";
}

static const char *pop_of(const tally_catalog *cat, const tally_indicator *in) {
  return in->population_groups >= 0
             ? cat->age_groups[in->population_groups].code
             : "";
}

static const char *formula_ratio(const tally_catalog *cat,
                                 const tally_indicator *in, tally_arena *a) {
  char top[TERM_MAX], bottom[TERM_MAX];
  return tally_arena_printf(
      a,
      "sum of %s / sum of %s x %g, both summed over the units that "
      "reported both",
      term_of(cat, in->numerator, in->numerator_groups, top),
      term_of(cat, in->denominator, in->denominator_groups, bottom),
      in->factor);
}

static const char *formula_total(const tally_catalog *cat,
                                 const tally_indicator *in, tally_arena *a) {
  return tally_arena_printf(a, "sum of %s over the units x %g", el_of(cat, in),
                            in->factor);
}

static const char *formula_weighted_mean(const tally_catalog *cat,
                                         const tally_indicator *in,
                                         tally_arena *a) {
  return tally_arena_printf(
      a, "sum of (%s x %s) / sum of %s, over the units that reported both",
      el_of(cat, in), cat->elements[in->weight].code,
      cat->elements[in->weight].code);
}

static const char *formula_growth(const tally_catalog *cat,
                                  const tally_indicator *in, tally_arena *a) {
  if (in->base_year > 0)
    return tally_arena_printf(
        a,
        "(sum of %s / sum of %s in the period before - 1) x 100; judged: "
        "the average annual growth since %d, ((sum of %s / the same in %d) "
        "^ (1 / years since %d) - 1) x 100; over the units that reported "
        "all three years",
        el_of(cat, in), el_of(cat, in), in->base_year, el_of(cat, in),
        in->base_year, in->base_year);
  return tally_arena_printf(
      a,
      "(sum of %s / sum of %s in the period before - 1) x 100, over the "
      "units that reported both periods",
      el_of(cat, in), el_of(cat, in));
}

static const char *formula_intensity_reduction(const tally_catalog *cat,
                                               const tally_indicator *in,
                                               tally_arena *a) {
  return tally_arena_printf(
      a,
      "(1 - (sum of %s / sum of %s) / (the same in %d)) x 100, over the "
      "units that reported both years",
      num_of(cat, in), den_of(cat, in), in->base_year);
}

static const char *formula_cumulative(const tally_catalog *cat,
                                      const tally_indicator *in,
                                      tally_arena *a) {
  return tally_arena_printf(
      a, "sum of %s over the units and over the years from %d x %g",
      el_of(cat, in), in->from_year, in->factor);
}

static const char *formula_life_expectancy(const tally_catalog *cat,
                                           const tally_indicator *in,
                                           tally_arena *a) {
  return tally_arena_printf(
      a,
      "life expectancy at birth of an abridged life table (%s method) "
      "from %s.* and %s.* summed by age group over the units that "
      "reported every group; no value for %g persons or fewer",
      in->method == TALLY_LIFETABLE_CHIANG2        ? "Chiang II"
      : in->method == TALLY_LIFETABLE_COALE_DEMENY ? "Coale-Demeny"
                                                   : "Chinese textbook",
      deaths_of(cat, in), pop_of(cat, in), in->min_population);
}

static const char *formula_premature_mortality(const tally_catalog *cat,
                                               const tally_indicator *in,
                                               tally_arena *a) {
  return tally_arena_printf(
      a,
      "WHO SDG 3.4.1: 1 - product over 30-34 ... 65-69 of (1 - 5M / "
      "(1 + 2.5M)), M = %s / %s summed over the units, as a percent",
      deaths_of(cat, in), pop_of(cat, in));
}

static const char *formula_milestone(const tally_catalog *cat,
                                     const tally_indicator *in,
                                     tally_arena *a) {
  return tally_arena_printf(a,
                            "the status %s reported by the district "
                            "office",
                            el_of(cat, in));
}

static const char *formula_unit_threshold(const tally_catalog *cat,
                                          const tally_indicator *in,
                                          tally_arena *a) {
  char top[TERM_MAX], bottom[TERM_MAX];
  return tally_arena_printf(
      a,
      "sum of %s / sum of %s x %g; the target holds only if every unit's "
      "own rate is %s %g",
      term_of(cat, in->numerator, in->numerator_groups, top),
      term_of(cat, in->denominator, in->denominator_groups, bottom),
      in->factor,
      tally_op_text(in->unit_target.op), in->unit_target.value);
}

/* ---- the table ---- */

/* The keys by short names, for the table. */
#define NUM TALLY_KEY_NUM
#define DEN TALLY_KEY_DEN
#define ELEM TALLY_KEY_ELEM
#define WEIGHT TALLY_KEY_WEIGHT
#define BIRTHS TALLY_KEY_BIRTHS
#define DEATHS TALLY_KEY_DEATHS
#define POP TALLY_KEY_POP
#define FACTOR TALLY_KEY_FACTOR
#define BOUNDED TALLY_KEY_BOUNDED
#define BASE TALLY_KEY_BASE
#define FROM TALLY_KEY_FROM
#define METHOD TALLY_KEY_METHOD
#define PARAMS TALLY_KEY_PARAMS
#define MINPOP TALLY_KEY_MINPOP
#define UTARGET TALLY_KEY_UTARGET

/* clang-format off */
const tally_kind_def tally_kinds[TALLY_KIND_COUNT] = {
    [TALLY_KIND_RATIO] = {
        .name = "ratio", .kind = TALLY_KIND_RATIO,
        .need = NUM | DEN, .allow = FACTOR | BOUNDED,
        .sums = 2, .reads = TALLY_READS_OWN,
        .share = share_ratio, .value = value_ratio,
        .interval = interval_ratio, .formula = formula_ratio},
    [TALLY_KIND_TOTAL] = {
        .name = "total", .kind = TALLY_KIND_TOTAL,
        .need = ELEM, .allow = FACTOR,
        .sums = 1, .reads = TALLY_READS_OWN,
        .share = share_element, .value = value_total,
        .formula = formula_total},
    [TALLY_KIND_WEIGHTED_MEAN] = {
        .name = "weighted_mean", .kind = TALLY_KIND_WEIGHTED_MEAN,
        .need = ELEM | WEIGHT, .allow = FACTOR,
        .sums = 2, .reads = TALLY_READS_OWN,
        .share = share_weighted_mean, .value = value_weighted_mean,
        .formula = formula_weighted_mean},
    [TALLY_KIND_GROWTH] = {
        .name = "growth", .kind = TALLY_KIND_GROWTH,
        .need = ELEM, .allow = BASE,
        .sums = 3, .reads = TALLY_READS_BEFORE_AND_BASE,
        .share = share_growth, .value = value_growth,
        .formula = formula_growth},
    [TALLY_KIND_INTENSITY_REDUCTION] = {
        .name = "intensity_reduction", .kind = TALLY_KIND_INTENSITY_REDUCTION,
        .need = NUM | DEN | BASE, .allow = 0,
        .sums = 4, .reads = TALLY_READS_BASE_YEAR,
        .share = share_intensity_reduction, .value = value_intensity_reduction,
        .formula = formula_intensity_reduction},
    [TALLY_KIND_CUMULATIVE] = {
        .name = "cumulative", .kind = TALLY_KIND_CUMULATIVE,
        .need = ELEM | FROM, .allow = FACTOR,
        .sums = 1, .reads = TALLY_READS_YEARS_FROM,
        .share = share_cumulative, .value = value_cumulative,
        .formula = formula_cumulative},
    [TALLY_KIND_LIFE_EXPECTANCY] = {
        .name = "life_expectancy", .kind = TALLY_KIND_LIFE_EXPECTANCY,
        .need = DEATHS | POP | METHOD, .allow = BIRTHS | PARAMS | MINPOP,
        .sums = 1, .by_age = 1, .reads = TALLY_READS_OWN,
        .share = share_by_age, .value = value_life_expectancy,
        .interval = interval_life_expectancy,
        .formula = formula_life_expectancy},
    [TALLY_KIND_PREMATURE_MORTALITY] = {
        .name = "premature_mortality", .kind = TALLY_KIND_PREMATURE_MORTALITY,
        .need = DEATHS | POP, .allow = MINPOP,
        .sums = 0, .by_age = 1, .reads = TALLY_READS_OWN,
        .share = share_by_age, .value = value_premature_mortality,
        .interval = interval_premature_mortality,
        .formula = formula_premature_mortality},
    [TALLY_KIND_MILESTONE] = {
        .name = "milestone", .kind = TALLY_KIND_MILESTONE,
        .need = ELEM, .allow = 0,
        .sums = 1, .reads = TALLY_READS_OWN,
        .share = share_element, .value = value_milestone,
        .formula = formula_milestone},
    [TALLY_KIND_UNIT_THRESHOLD] = {
        .name = "unit_threshold", .kind = TALLY_KIND_UNIT_THRESHOLD,
        .need = NUM | DEN | UTARGET, .allow = FACTOR | BOUNDED,
        .sums = 2, .reads = TALLY_READS_OWN,
        .share = share_ratio, .value = value_ratio,
        .interval = interval_ratio, .formula = formula_unit_threshold},
};
/* clang-format on */

#undef NUM
#undef DEN
#undef ELEM
#undef WEIGHT
#undef BIRTHS
#undef DEATHS
#undef POP
#undef FACTOR
#undef BOUNDED
#undef BASE
#undef FROM
#undef METHOD
#undef PARAMS
#undef MINPOP
#undef UTARGET

const tally_kind_def *tally_kind_get(tally_kind kind) {
  if ((unsigned)kind >= TALLY_KIND_COUNT)
    return NULL;
  return &tally_kinds[kind];
}

const tally_kind_def *tally_kind_find(const char *name) {
  for (size_t i = 0; i < TALLY_KIND_COUNT; i++)
    if (strcmp(tally_kinds[i].name, name) == 0)
      return &tally_kinds[i];
  return NULL;
}

const char *tally_kind_name(tally_kind kind) {
  const tally_kind_def *k = tally_kind_get(kind);
  return k ? k->name : "?";
}

int tally_kind_sums(const tally_catalog *cat, const tally_indicator *in) {
  const tally_kind_def *k = tally_kind_get(in->kind);
  if (k == NULL)
    return 0;
  if (!k->by_age)
    return k->sums;
  return k->sums + cat->age_groups[in->deaths_groups].n +
         cat->age_groups[in->population_groups].n;
}

/* ---- which periods a share reads ---- */

/* Calls fn with each period a share of p reads, as the row's reads
 * says (and as the row's share function does). */
static int each_read(const tally_indicator *in, const tally_period *p,
                     int (*fn)(void *arg, const tally_period *p), void *arg) {
  const tally_kind_def *k = tally_kind_get(in->kind);
  tally_period other;
  int rc;
  if (k == NULL)
    return 0;
  switch (k->reads) {
  case TALLY_READS_OWN:
    break;
  case TALLY_READS_BEFORE:
    if (tally_period_prev(p, &other) == 0 && (rc = fn(arg, &other)) != 0)
      return rc;
    break;
  case TALLY_READS_BEFORE_AND_BASE:
    if (tally_period_prev(p, &other) != 0)
      break; /* without the period before, nothing else is read */
    if ((rc = fn(arg, &other)) != 0)
      return rc;
    if (growth_has_base(in, p)) {
      other = (tally_period){in->base_year, TALLY_PERIOD_YEAR, 0};
      if ((rc = fn(arg, &other)) != 0)
        return rc;
    }
    break;
  case TALLY_READS_BASE_YEAR:
    other = (tally_period){in->base_year, TALLY_PERIOD_YEAR, 0};
    if ((rc = fn(arg, &other)) != 0)
      return rc;
    break;
  case TALLY_READS_YEARS_FROM:
    if (p->kind != TALLY_PERIOD_YEAR || p->year < in->from_year)
      return 0; /* reads nothing, not even p */
    for (int y = in->from_year; y < p->year; y++) {
      other = (tally_period){y, TALLY_PERIOD_YEAR, 0};
      if ((rc = fn(arg, &other)) != 0)
        return rc;
    }
    break;
  }
  return fn(arg, p);
}

/* Periods in key order, each once, the earliest max of them. */
struct period_set {
  tally_period *out;
  int n, max;
};

static int add_period(void *arg, const tally_period *p) {
  struct period_set *s = arg;
  uint32_t key = tally_period_key(p);
  int at = 0;
  while (at < s->n && tally_period_key(&s->out[at]) < key)
    at++;
  if ((at < s->n && tally_period_key(&s->out[at]) == key) || at >= s->max)
    return 0;
  if (s->n == s->max)
    s->n--; /* the latest makes room */
  memmove(&s->out[at + 1], &s->out[at], (size_t)(s->n - at) * sizeof *s->out);
  s->out[at] = *p;
  s->n++;
  return 0;
}

int tally_kind_reads_of(const tally_indicator *in, const tally_period *p,
                        tally_period *out, int max) {
  struct period_set s = {out, 0, max};
  each_read(in, p, add_period, &s);
  return s.n;
}

int tally_kind_report_reads(const tally_indicator *in, const tally_period *p,
                            tally_period *out, int max) {
  struct period_set s = {out, 0, max};
  tally_period before;
  each_read(in, p, add_period, &s);
  if (tally_period_prev(p, &before) == 0)
    each_read(in, &before, add_period, &s);
  return s.n;
}

/* Calls v->found with p and with the period after p: the reports whose
 * share, or whose share of the period before, is p's. */
static int found_with_next(const tally_kind_visit *v, const tally_period *p) {
  tally_period next;
  int rc = v->found(v->arg, p);
  if (rc == 0 && tally_period_next(p, &next) == 0)
    rc = v->found(v->arg, &next);
  return rc;
}

/* found_with_next for every period with figures (v->every's): all of
 * them, or (years_from) the years from q's on. */
static int found_among_every(const tally_kind_visit *v, const tally_period *q,
                             int years_from) {
  const uint32_t *keys;
  int n, rc = v->every(v->arg, &keys, &n);
  for (int i = 0; i < n && rc == 0; i++) {
    tally_period p;
    if (tally_period_from_key(keys[i], &p) != 0 ||
        (years_from && (p.kind != TALLY_PERIOD_YEAR || p.year < q->year)))
      continue;
    rc = found_with_next(v, &p);
  }
  return rc;
}

int tally_kind_changed_by(const tally_indicator *in, const tally_period *q,
                          const tally_kind_visit *v) {
  const tally_kind_def *k = tally_kind_get(in->kind);
  tally_period next;
  int rc;
  if (k == NULL)
    return 0;
  switch (k->reads) {
  case TALLY_READS_OWN:
    return found_with_next(v, q);
  case TALLY_READS_BEFORE: /* q's share, and the next period's */
    if ((rc = found_with_next(v, q)) == 0 && tally_period_next(q, &next) == 0)
      rc = found_with_next(v, &next);
    return rc;
  case TALLY_READS_BEFORE_AND_BASE: /* the same; and every later year's */
    if ((rc = found_with_next(v, q)) == 0 && tally_period_next(q, &next) == 0)
      rc = found_with_next(v, &next);
    if (rc != 0 || in->base_year <= 0 || q->kind != TALLY_PERIOD_YEAR ||
        q->year != in->base_year)
      return rc;
    return found_among_every(v, q, 1); /* each later year reads it */
  case TALLY_READS_BASE_YEAR:
    if ((rc = found_with_next(v, q)) != 0)
      return rc;
    if (q->kind != TALLY_PERIOD_YEAR || q->year != in->base_year)
      return 0;
    return found_among_every(v, q, 0); /* every period reads it */
  case TALLY_READS_YEARS_FROM:
    if (q->kind != TALLY_PERIOD_YEAR || q->year < in->from_year)
      return 0; /* no share reads it */
    if ((rc = found_with_next(v, q)) != 0)
      return rc;
    return found_among_every(v, q, 1); /* each later sum reads it */
  }
  return 0;
}
