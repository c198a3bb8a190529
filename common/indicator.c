#include "indicator.h"

#include "lifetable.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tally_figures_init(tally_figures *f, const tally_catalog *cat) {
  size_t n = cat->n_units * cat->n_elements;
  f->cat = cat;
  f->value = calloc(n ? n : 1, sizeof *f->value);
  f->has = calloc(n ? n : 1, 1);
  if (f->value == NULL || f->has == NULL) {
    tally_figures_free(f);
    return -ENOMEM;
  }
  return 0;
}

void tally_figures_free(tally_figures *f) {
  free(f->value);
  free(f->has);
  f->value = NULL;
  f->has = NULL;
}

void tally_figures_set(tally_figures *f, int unit, int element, double v) {
  size_t i = (size_t)unit * f->cat->n_elements + (size_t)element;
  f->value[i] = v;
  f->has[i] = 1;
}

int tally_figures_get(const tally_figures *f, int unit, int element,
                      double *v) {
  size_t i = (size_t)unit * f->cat->n_elements + (size_t)element;
  if (!f->has[i])
    return 0;
  *v = f->value[i];
  return 1;
}

/* ---- targets ---- */

const tally_target *tally_indicator_target(const tally_catalog *cat, int ind,
                                           tally_source *src,
                                           const tally_period *period) {
  const tally_indicator *in = &cat->indicators[ind];
  if (period->year < cat->plans[in->plan].start_year)
    return NULL;
  for (size_t i = 0; i < in->n_targets; i++) {
    const tally_target *t = &in->targets[i];
    if (t->year < period->year)
      continue;
    if (t->op == TALLY_OP_ASSIGNED && src && src->assigned) {
      const tally_target *set = src->assigned(src, ind, t->year);
      if (set)
        return set;
    }
    return t;
  }
  return NULL;
}

int tally_target_met(const tally_target *t, double value) {
  switch (t->op) {
  case TALLY_OP_GE: return value >= t->value;
  case TALLY_OP_GT: return value > t->value;
  case TALLY_OP_LE: return value <= t->value;
  case TALLY_OP_LT: return value < t->value;
  case TALLY_OP_ABOUT: return fabs(value - t->value) <= t->tolerance;
  default: return 0;
  }
}

/* The same comparison on a change. */
static int change_met(const tally_target *t, double change) {
  switch (t->op) {
  case TALLY_OP_CHANGE_LE: return change <= t->value;
  case TALLY_OP_CHANGE_GE: return change >= t->value;
  case TALLY_OP_CHANGE_LT: return change < t->value;
  case TALLY_OP_CHANGE_GT: return change > t->value;
  default: return 0;
  }
}

static int is_change(tally_op op) {
  return op >= TALLY_OP_CHANGE_LE && op <= TALLY_OP_CHANGE_GT;
}

void tally_target_text(const tally_catalog *cat, int ind,
                       const tally_target *t, char *buf, size_t n) {
  const tally_indicator *in = &cat->indicators[ind];
  if (t == NULL) {
    snprintf(buf, n, "%s", "");
    return;
  }
  if (t->has_level) {
    const tally_level *l =
        tally_element_level(&cat->elements[in->element], (int)t->value);
    snprintf(buf, n, "%s %s (%d)", tally_op_text(t->op),
             l ? l->zh : "?", t->year);
  } else if (t->op == TALLY_OP_TEXT) {
    snprintf(buf, n, "%s (%d)", t->text, t->year);
  } else if (t->op == TALLY_OP_ASSIGNED) {
    snprintf(buf, n, "%s (%d): not set yet", t->text ? t->text : "assigned",
             t->year);
  } else if (t->op == TALLY_OP_ABOUT) {
    snprintf(buf, n, "about %g +- %g (%d)", t->value, t->tolerance, t->year);
  } else if (is_change(t->op)) {
    snprintf(buf, n, "change %s %g on the year before (%d)",
             tally_op_text(t->op) + 6, t->value, t->year);
  } else {
    snprintf(buf, n, "%s %g (%d)", tally_op_text(t->op), t->value, t->year);
  }
  if (in->kind == TALLY_KIND_UNIT_THRESHOLD) {
    size_t len = strlen(buf);
    snprintf(buf + len, n - len, "; %s %g in every unit",
             tally_op_text(in->unit_target.op), in->unit_target.value);
  }
}

/* ---- which units ---- */

/* True when the indicator's inputs are reported by the district alone. */
static int district_reported(const tally_catalog *cat,
                             const tally_indicator *in) {
  int e = in->numerator >= 0 ? in->numerator : in->element;
  if (e < 0 && in->deaths_groups >= 0)
    e = cat->age_groups[in->deaths_groups].first;
  return e >= 0 && cat->elements[e].district_only;
}

int tally_indicator_units(const tally_catalog *cat, int ind, int scope,
                          int *units, int max) {
  const tally_indicator *in = &cat->indicators[ind];
  int n = 0;
  if (district_reported(cat, in)) {
    if (tally_catalog_unit_within(cat, cat->root, scope) ||
        scope == cat->root) {
      if (max > 0)
        units[0] = cat->root;
      return 1;
    }
    return 0;
  }
  for (size_t u = 0; u < cat->n_units; u++)
    if (cat->units[u].is_leaf && tally_catalog_unit_within(cat, (int)u, scope)) {
      if (n < max)
        units[n] = (int)u;
      n++;
    }
  return n;
}

/* ---- the kinds ---- */

/* What one computation works on. */
struct calc {
  const tally_catalog *cat;
  const tally_indicator *in;
  int ind;
  tally_source *src;
  const tally_period *period;
  int *units;
  int n_units;
  tally_result *r;
  unsigned char *counted; /* [i]: units[i]'s figures are in the sums */
  char missing[256];   /* units left out, for the note */
  int n_missing;
};

static void note(struct calc *c, const char *fmt, const char *a,
                 const char *b) {
  snprintf(c->r->note, sizeof c->r->note, fmt, a, b);
}

static void left_out(struct calc *c, int unit) {
  size_t len = strlen(c->missing);
  if (len + 2 < sizeof c->missing)
    snprintf(c->missing + len, sizeof c->missing - len, "%s%s",
             c->n_missing ? ", " : "", c->cat->units[unit].code);
  c->n_missing++;
}

static const tally_figures *figures_of(struct calc *c, const tally_period *p) {
  return c->src->figures(c->src, p);
}

/* Sums of up to four elements over the units that reported all of them
 * in f (and, when g is not NULL, elements eg in g too). */
static int sum_together(struct calc *c, const tally_figures *f,
                        const int *el, int ne, double *sums,
                        const tally_figures *g, const int *eg, int ng,
                        double *gsums) {
  int counted = 0;
  for (int k = 0; k < ne; k++)
    sums[k] = 0;
  for (int k = 0; k < ng; k++)
    gsums[k] = 0;
  for (int i = 0; i < c->n_units; i++) {
    double v[4], w[4];
    int ok = 1, u = c->units[i];
    for (int k = 0; k < ne && ok; k++)
      ok = tally_figures_get(f, u, el[k], &v[k]);
    for (int k = 0; k < ng && ok; k++)
      ok = tally_figures_get(g, u, eg[k], &w[k]);
    if (!ok) {
      left_out(c, u);
      continue;
    }
    for (int k = 0; k < ne; k++)
      sums[k] += v[k];
    for (int k = 0; k < ng; k++)
      gsums[k] += w[k];
    c->counted[i] = 1;
    counted++;
  }
  return counted;
}

static const char *code_of(struct calc *c, int element) {
  return c->cat->elements[element].code;
}

static void set_value(struct calc *c, double v) {
  c->r->has_value = 1;
  c->r->value = v;
}

static int calc_ratio(struct calc *c, const tally_figures *f) {
  const tally_indicator *in = c->in;
  int el[2] = {in->numerator, in->denominator};
  double s[2];
  c->r->units_counted = sum_together(c, f, el, 2, s, NULL, NULL, 0, NULL);
  if (c->r->units_counted == 0) {
    note(c, "insufficient data: no unit reported both %s and %s",
         code_of(c, in->numerator), code_of(c, in->denominator));
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  c->r->has_numerator = c->r->has_denominator = 1;
  c->r->numerator = s[0];
  c->r->denominator = s[1];
  if (s[1] == 0) {
    note(c, "undefined: %s sums to 0%s", code_of(c, in->denominator), "");
    return TALLY_STATUS_UNDEFINED;
  }
  set_value(c, s[0] / s[1] * in->factor);
  return 0;
}

static int calc_total(struct calc *c, const tally_figures *f) {
  double s;
  c->r->units_counted =
      sum_together(c, f, &c->in->element, 1, &s, NULL, NULL, 0, NULL);
  if (c->r->units_counted == 0) {
    note(c, "insufficient data: no unit reported %s%s",
         code_of(c, c->in->element), "");
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  c->r->has_numerator = 1;
  c->r->numerator = s;
  set_value(c, s * c->in->factor);
  return 0;
}

static int calc_weighted_mean(struct calc *c, const tally_figures *f) {
  const tally_indicator *in = c->in;
  double xw = 0, w = 0;
  for (int i = 0; i < c->n_units; i++) {
    double x, wi;
    int u = c->units[i];
    if (!tally_figures_get(f, u, in->element, &x) ||
        !tally_figures_get(f, u, in->weight, &wi)) {
      left_out(c, u);
      continue;
    }
    xw += x * wi;
    w += wi;
    c->counted[i] = 1;
    c->r->units_counted++;
  }
  if (c->r->units_counted == 0) {
    note(c, "insufficient data: no unit reported both %s and %s",
         code_of(c, in->element), code_of(c, in->weight));
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  c->r->has_numerator = c->r->has_denominator = 1;
  c->r->numerator = xw;
  c->r->denominator = w;
  if (w == 0) {
    note(c, "undefined: %s sums to 0%s", code_of(c, in->weight), "");
    return TALLY_STATUS_UNDEFINED;
  }
  set_value(c, xw / w * in->factor);
  return 0;
}

static int calc_growth(struct calc *c, const tally_figures *f) {
  tally_period prev;
  char ptext[TALLY_PERIOD_STRLEN];
  double now, before;
  if (tally_period_prev(c->period, &prev) != 0)
    return TALLY_STATUS_INSUFFICIENT_DATA;
  const tally_figures *g = figures_of(c, &prev);
  if (g == NULL)
    return -ENOMEM;
  c->r->units_counted = sum_together(c, f, &c->in->element, 1, &now, g,
                                     &c->in->element, 1, &before);
  if (c->r->units_counted == 0) {
    note(c, "insufficient data: no unit reported %s for both this period "
         "and %s", code_of(c, c->in->element), tally_period_format(&prev, ptext));
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  c->r->has_numerator = c->r->has_denominator = 1;
  c->r->numerator = now;
  c->r->denominator = before;
  if (before == 0) {
    note(c, "undefined: %s was 0 in %s", code_of(c, c->in->element),
         tally_period_format(&prev, ptext));
    return TALLY_STATUS_UNDEFINED;
  }
  set_value(c, (now / before - 1) * 100);
  return 0;
}

static int calc_intensity_reduction(struct calc *c, const tally_figures *f) {
  const tally_indicator *in = c->in;
  tally_period base = {in->base_year, TALLY_PERIOD_YEAR, 0};
  int el[2] = {in->numerator, in->denominator};
  double s[2], b[2];
  char btext[TALLY_PERIOD_STRLEN];
  const tally_figures *g = figures_of(c, &base);
  if (g == NULL)
    return -ENOMEM;
  tally_period_format(&base, btext);
  c->r->units_counted = sum_together(c, f, el, 2, s, g, el, 2, b);
  if (c->r->units_counted == 0) {
    note(c, "insufficient data: no unit reported %s and GDP (%s) for both "
         "this period and the base year",
         code_of(c, in->numerator), code_of(c, in->denominator));
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  if (s[1] == 0 || b[1] == 0 || b[0] == 0) {
    note(c, "undefined: a sum is 0 (%s or %s, this period or the base year)",
         code_of(c, in->numerator), code_of(c, in->denominator));
    return TALLY_STATUS_UNDEFINED;
  }
  /* Shown: the intensity now and in the base year. */
  c->r->has_numerator = c->r->has_denominator = 1;
  c->r->numerator = s[0] / s[1];
  c->r->denominator = b[0] / b[1];
  set_value(c, (1 - c->r->numerator / c->r->denominator) * 100);
  snprintf(c->r->note, sizeof c->r->note,
           "intensity %.6g now against %.6g in %s", c->r->numerator,
           c->r->denominator, btext);
  return 0;
}

/* Over the years from from_year to the period, over the units that
 * reported every one of those years: a unit missing a year is left out
 * of the whole sum, and named. */
static int calc_cumulative(struct calc *c, const tally_figures *f) {
  const tally_indicator *in = c->in;
  const tally_figures *years[TALLY_PERIOD_MAX_YEAR - TALLY_PERIOD_MIN_YEAR + 1];
  int n_years = c->period->year - in->from_year + 1;
  double total = 0;
  if (c->period->kind != TALLY_PERIOD_YEAR) {
    note(c, "a cumulative total is counted over years: ask for a year%s%s",
         "", "");
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  if (n_years < 1) {
    note(c, "the count starts in a later year%s%s", "", "");
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  for (int k = 0; k < n_years; k++) {
    tally_period p = {in->from_year + k, TALLY_PERIOD_YEAR, 0};
    years[k] = k == n_years - 1 ? f : figures_of(c, &p);
    if (years[k] == NULL)
      return -ENOMEM;
  }
  for (int i = 0; i < c->n_units; i++) {
    double sum = 0, v;
    int k, u = c->units[i];
    for (k = 0; k < n_years && tally_figures_get(years[k], u, in->element, &v);
         k++)
      sum += v;
    if (k < n_years) {
      left_out(c, u);
      continue;
    }
    total += sum;
    c->counted[i] = 1;
    c->r->units_counted++;
  }
  if (c->r->units_counted == 0) {
    char years_text[32];
    snprintf(years_text, sizeof years_text, "%d to %d", in->from_year,
             c->period->year);
    note(c, "insufficient data: no unit reported %s for every year from %s",
         code_of(c, in->element), years_text);
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  c->r->has_numerator = 1;
  c->r->numerator = total;
  set_value(c, total * in->factor);
  return 0;
}

/* Sums the age groups of deaths (and population) over the units that
 * reported every group; the index of the first group in each. */
static int sum_groups(struct calc *c, const tally_figures *f, int dg, int pg,
                      int births, double *deaths, double *pop, double *b) {
  const tally_catalog *cat = c->cat;
  int nd = cat->age_groups[dg].n, np = cat->age_groups[pg].n, counted = 0;
  memset(deaths, 0, (size_t)nd * sizeof *deaths);
  memset(pop, 0, (size_t)np * sizeof *pop);
  *b = 0;
  for (int i = 0; i < c->n_units; i++) {
    int u = c->units[i], ok = 1;
    double v;
    for (int k = 0; k < nd && ok; k++)
      ok = tally_figures_get(f, u, cat->age_groups[dg].first + k, &v);
    for (int k = 0; k < np && ok; k++)
      ok = tally_figures_get(f, u, cat->age_groups[pg].first + k, &v);
    if (ok && births >= 0)
      ok = tally_figures_get(f, u, births, &v);
    if (!ok) {
      left_out(c, u);
      continue;
    }
    for (int k = 0; k < nd; k++) {
      tally_figures_get(f, u, cat->age_groups[dg].first + k, &v);
      deaths[k] += v;
    }
    for (int k = 0; k < np; k++) {
      tally_figures_get(f, u, cat->age_groups[pg].first + k, &v);
      pop[k] += v;
    }
    if (births >= 0) {
      tally_figures_get(f, u, births, &v);
      *b += v;
    }
    c->counted[i] = 1;
    counted++;
  }
  return counted;
}

static int table_status(struct calc *c, int rc,
                        const tally_lifetable_result *res) {
  char pop[32];
  if (rc != 0) {
    snprintf(c->r->note, sizeof c->r->note, "undefined: %s",
             res->reason ? res->reason : "the table cannot be made");
    return TALLY_STATUS_UNDEFINED;
  }
  if (res->status == TALLY_LIFETABLE_TOO_SMALL) {
    snprintf(pop, sizeof pop, "%.0f", res->population);
    note(c, "population too small for a stable life table (%s, under "
         "%s)", pop, c->in->min_population == 5000 ? "5,000" : "the minimum");
    return TALLY_STATUS_TOO_SMALL;
  }
  set_value(c, res->value);
  return 0;
}

static int calc_life_expectancy(struct calc *c, const tally_figures *f) {
  const tally_catalog *cat = c->cat;
  const tally_indicator *in = c->in;
  int n = cat->age_groups[in->deaths_groups].n;
  double deaths[TALLY_LIFETABLE_MAX_GROUPS], pop[TALLY_LIFETABLE_MAX_GROUPS],
      births;
  int start[TALLY_LIFETABLE_MAX_GROUPS];

  c->r->units_counted = sum_groups(c, f, in->deaths_groups,
                                   in->population_groups,
                                   in->q0_population ? -1 : in->births,
                                   deaths, pop, &births);
  if (c->r->units_counted == 0) {
    note(c, "insufficient data: no unit reported every age group of %s and "
         "%s", cat->age_groups[in->deaths_groups].code,
         cat->age_groups[in->population_groups].code);
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  for (int k = 0; k < n; k++)
    start[k] = cat->elements[cat->age_groups[in->deaths_groups].first + k].age_from;
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, (tally_lifetable_method)in->method);
  p.min_population = in->min_population;
  if (!isnan(in->a0))
    p.chiang_a0 = p.cn_a0 = in->a0;
  if (!isnan(in->a))
    p.chiang_a = in->a;
  if (in->sex)
    p.sex = (tally_lifetable_sex)in->sex;
  if (in->q0_population)
    births = pop[0]; /* q0 = deaths aged 0 / population aged 0 */
  tally_lifetable_input li = {n, start, deaths, pop, births};
  tally_lifetable_result res;
  double dsum = 0, psum = 0;
  for (int k = 0; k < n; k++) {
    dsum += deaths[k];
    psum += pop[k];
  }
  c->r->has_numerator = c->r->has_denominator = 1;
  c->r->numerator = dsum;
  c->r->denominator = psum;
  return table_status(c, tally_lifetable_compute(&li, &p, &res, NULL), &res);
}

static int calc_premature_mortality(struct calc *c, const tally_figures *f) {
  const tally_catalog *cat = c->cat;
  const tally_indicator *in = c->in;
  const tally_age_groups *pg = &cat->age_groups[in->population_groups];
  double deaths[TALLY_SDG341_GROUPS], all[TALLY_LIFETABLE_MAX_GROUPS], b,
      pop[TALLY_SDG341_GROUPS];

  c->r->units_counted = sum_groups(c, f, in->deaths_groups,
                                   in->population_groups, -1, deaths, all, &b);
  if (c->r->units_counted == 0) {
    note(c, "insufficient data: no unit reported every age group of %s and "
         "%s", cat->age_groups[in->deaths_groups].code, pg->code);
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  /* The population of 30-34 ... 65-69 (the loader checked they exist). */
  double dsum = 0, psum = 0;
  for (int k = 0; k < TALLY_SDG341_GROUPS; k++) {
    for (int j = 0; j < pg->n; j++)
      if (cat->elements[pg->first + j].age_from == 30 + 5 * k)
        pop[k] = all[j];
    dsum += deaths[k];
    psum += pop[k];
  }
  c->r->has_numerator = c->r->has_denominator = 1;
  c->r->numerator = dsum;
  c->r->denominator = psum;
  tally_lifetable_result res;
  return table_status(
      c, tally_sdg341_compute(deaths, pop, in->min_population, &res), &res);
}

static int calc_milestone(struct calc *c, const tally_figures *f) {
  const tally_element *e = &c->cat->elements[c->in->element];
  double v;
  c->r->units_expected = 1;
  if (!tally_figures_get(f, c->cat->root, c->in->element, &v)) {
    note(c, "insufficient data: the district office has not reported %s%s",
         e->code, "");
    return TALLY_STATUS_INSUFFICIENT_DATA;
  }
  const tally_level *l = tally_element_level(e, (int)v);
  c->r->units_counted = 1;
  c->r->level = (int)v;
  set_value(c, v);
  snprintf(c->r->note, sizeof c->r->note, "status: %s (%s)", l ? l->zh : "?",
           l ? l->en : "?");
  return 0;
}

/* The ratio of each unit against the unit target: names those that miss
 * it. Returns how many miss it. */
static int units_missing_target(struct calc *c, const tally_figures *f,
                                char *names, size_t n) {
  const tally_indicator *in = c->in;
  int missing = 0;
  names[0] = 0;
  for (int i = 0; i < c->n_units; i++) {
    double a, b;
    int u = c->units[i];
    if (!tally_figures_get(f, u, in->numerator, &a) ||
        !tally_figures_get(f, u, in->denominator, &b) || b == 0)
      continue;
    double rate = a / b * in->factor;
    if (tally_target_met(&in->unit_target, rate))
      continue;
    size_t len = strlen(names);
    snprintf(names + len, n - len, "%s%s %.4g", missing ? ", " : "",
             c->cat->units[u].code, rate);
    missing++;
  }
  return missing;
}

/* Computes the value of ind for the period into c->r: returns 0 when
 * there is a value, a status without one, or -ENOMEM. */
static int calc_value(struct calc *c) {
  const tally_figures *f = figures_of(c, c->period);
  if (f == NULL)
    return -ENOMEM;
  switch (c->in->kind) {
  case TALLY_KIND_RATIO:
  case TALLY_KIND_UNIT_THRESHOLD: return calc_ratio(c, f);
  case TALLY_KIND_TOTAL: return calc_total(c, f);
  case TALLY_KIND_WEIGHTED_MEAN: return calc_weighted_mean(c, f);
  case TALLY_KIND_GROWTH: return calc_growth(c, f);
  case TALLY_KIND_INTENSITY_REDUCTION: return calc_intensity_reduction(c, f);
  case TALLY_KIND_CUMULATIVE: return calc_cumulative(c, f);
  case TALLY_KIND_LIFE_EXPECTANCY: return calc_life_expectancy(c, f);
  case TALLY_KIND_PREMATURE_MORTALITY: return calc_premature_mortality(c, f);
  case TALLY_KIND_MILESTONE: return calc_milestone(c, f);
  }
  return TALLY_STATUS_UNDEFINED;
}

/* Judges the value against the target; the value is there. */
static tally_status judge(struct calc *c) {
  tally_result *r = c->r;
  const tally_target *t = r->target;
  if (c->in->kind == TALLY_KIND_UNIT_THRESHOLD && t != NULL) {
    char names[256];
    const tally_figures *f = figures_of(c, c->period);
    int missing = f ? units_missing_target(c, f, names, sizeof names) : 0;
    if (missing) {
      size_t len = strlen(r->note);
      snprintf(r->note + len, sizeof r->note - len,
               "%sunits under the target: %s", len ? "; " : "", names);
      return TALLY_STATUS_NOT_MET;
    }
    if (c->n_missing)
      return TALLY_STATUS_INSUFFICIENT_DATA;
    return TALLY_STATUS_MET;
  }
  if (t == NULL)
    return TALLY_STATUS_NO_TARGET;
  if (t->op == TALLY_OP_TEXT || t->op == TALLY_OP_ASSIGNED)
    return TALLY_STATUS_NOT_JUDGED;
  if (is_change(t->op)) {
    if (!r->has_previous) {
      size_t len = strlen(r->note);
      snprintf(r->note + len, sizeof r->note - len,
               "%sno value for the period before, to judge the change",
               len ? "; " : "");
      return TALLY_STATUS_INSUFFICIENT_DATA;
    }
    return change_met(t, r->value - r->previous) ? TALLY_STATUS_MET
                                                 : TALLY_STATUS_NOT_MET;
  }
  int met = tally_target_met(t, r->value);
  if (t->has_level)
    return met ? TALLY_STATUS_MET : TALLY_STATUS_NOT_MET;
  r->has_gap = 1;
  r->gap = r->value - t->value;
  if (!met && t->year > c->period->year) {
    r->has_needed = 1;
    r->needed_per_year = (t->value - r->value) / (t->year - c->period->year);
  }
  return met ? TALLY_STATUS_MET : TALLY_STATUS_NOT_MET;
}

int tally_indicator_compute(const tally_catalog *cat, int ind,
                            tally_source *src, int scope,
                            const tally_period *period, tally_result *out) {
  struct calc c = {cat, &cat->indicators[ind], ind, src, period, NULL, 0, out,
                   NULL, "", 0};
  int rc, *before = NULL;

  memset(out, 0, sizeof *out);
  int n = tally_indicator_units(cat, ind, scope, NULL, 0);
  c.units = malloc((size_t)(n ? n : 1) * sizeof *c.units);
  c.counted = calloc((size_t)(n ? n : 1), 1);
  before = malloc((size_t)(n ? n : 1) * sizeof *before);
  if (c.units == NULL || c.counted == NULL || before == NULL) {
    rc = -ENOMEM;
    goto err;
  }
  c.n_units = tally_indicator_units(cat, ind, scope, c.units, n);
  out->units_expected = c.n_units;
  out->target = tally_indicator_target(cat, ind, src, period);

  if (c.n_units == 0 && c.in->kind != TALLY_KIND_MILESTONE) {
    out->status = TALLY_STATUS_INSUFFICIENT_DATA;
    snprintf(out->note, sizeof out->note,
             "reported by the district office alone, not by %s",
             cat->units[scope].code);
    goto out;
  }
  rc = calc_value(&c);
  if (rc < 0)
    goto err;
  if (rc > 0) {
    out->status = (tally_status)rc;
    goto out;
  }
  if (c.n_missing && out->note[0] == 0)
    snprintf(out->note, sizeof out->note, "not reported by %d of %d: %s",
             c.n_missing, c.n_units, c.missing);

  /* The previous period's value, for the change: over the same units as
   * this period's, so that a change is never a change of units. */
  tally_period prev;
  if (tally_period_prev(period, &prev) == 0) {
    tally_result pr;
    struct calc pc = c;
    int nb = 0;
    for (int i = 0; i < c.n_units; i++)
      if (c.counted[i])
        before[nb++] = c.units[i];
    memset(&pr, 0, sizeof pr);
    memset(c.counted, 0, (size_t)c.n_units);
    pc.period = &prev;
    pc.r = &pr;
    pc.units = before;
    pc.n_units = nb;
    pc.n_missing = 0;
    pc.missing[0] = 0;
    rc = calc_value(&pc);
    if (rc < 0)
      goto err;
    /* Only when every unit of this period was there the period before. */
    if (rc == 0 && (pr.units_counted == nb ||
                    c.in->kind == TALLY_KIND_MILESTONE)) {
      out->has_previous = 1;
      out->previous = pr.value;
    }
  }
  out->status = judge(&c);
out:
  free(c.units);
  free(c.counted);
  free(before);
  return 0;
err:
  free(c.units);
  free(c.counted);
  free(before);
  return rc;
}

const char *tally_indicator_formula(const tally_catalog *cat, int ind,
                                    tally_arena *a) {
  const tally_indicator *in = &cat->indicators[ind];
  const char *num = in->numerator >= 0 ? cat->elements[in->numerator].code : "",
             *den = in->denominator >= 0 ? cat->elements[in->denominator].code
                                         : "",
             *el = in->element >= 0 ? cat->elements[in->element].code : "";
  const char *dg = in->deaths_groups >= 0
                       ? cat->age_groups[in->deaths_groups].code
                       : "",
             *pg = in->population_groups >= 0
                       ? cat->age_groups[in->population_groups].code
                       : "";
  switch (in->kind) {
  case TALLY_KIND_RATIO:
    return tally_arena_printf(
        a, "sum of %s / sum of %s x %g, both summed over the units that "
           "reported both",
        num, den, in->factor);
  case TALLY_KIND_TOTAL:
    return tally_arena_printf(a, "sum of %s over the units x %g", el,
                              in->factor);
  case TALLY_KIND_WEIGHTED_MEAN:
    return tally_arena_printf(
        a, "sum of (%s x %s) / sum of %s, over the units that reported both",
        el, cat->elements[in->weight].code, cat->elements[in->weight].code);
  case TALLY_KIND_GROWTH:
    return tally_arena_printf(
        a, "(sum of %s / sum of %s in the period before - 1) x 100, over the "
           "units that reported both periods",
        el, el);
  case TALLY_KIND_INTENSITY_REDUCTION:
    return tally_arena_printf(
        a, "(1 - (sum of %s / sum of %s) / (the same in %d)) x 100, over the "
           "units that reported both years",
        num, den, in->base_year);
  case TALLY_KIND_CUMULATIVE:
    return tally_arena_printf(
        a, "sum of %s over the units and over the years from %d x %g", el,
        in->from_year, in->factor);
  case TALLY_KIND_LIFE_EXPECTANCY:
    return tally_arena_printf(
        a, "life expectancy at birth of an abridged life table (%s method) "
           "from %s.* and %s.* summed by age group over the units that "
           "reported every group; no value under %g persons",
        in->method == TALLY_LIFETABLE_CHIANG2        ? "Chiang II"
        : in->method == TALLY_LIFETABLE_COALE_DEMENY ? "Coale-Demeny"
                                                     : "Chinese textbook",
        dg, pg, in->min_population);
  case TALLY_KIND_PREMATURE_MORTALITY:
    return tally_arena_printf(
        a, "WHO SDG 3.4.1: 1 - product over 30-34 ... 65-69 of (1 - 5M / "
           "(1/5 + M/2)), M = %s / %s summed over the units, as a percent",
        dg, pg);
  case TALLY_KIND_MILESTONE:
    return tally_arena_printf(a, "the status %s reported by the district "
                                 "office", el);
  case TALLY_KIND_UNIT_THRESHOLD:
    return tally_arena_printf(
        a, "sum of %s / sum of %s x %g; the target holds only if every unit's "
           "own rate is %s %g",
        num, den, in->factor, tally_op_text(in->unit_target.op),
        in->unit_target.value);
  }
  return "";
}
