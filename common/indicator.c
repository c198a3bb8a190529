#include "indicator.h"

#include <errno.h>
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

const tally_target *tally_indicator_target(const tally_catalog *cat, int ind,
                                           const tally_period *period) {
  const tally_indicator *in = &cat->indicators[ind];
  if (period->year < cat->plans[in->plan].start_year)
    return NULL;
  for (size_t i = 0; i < in->n_targets; i++)
    if (in->targets[i].year >= period->year)
      return &in->targets[i];
  return NULL;
}

int tally_target_met(const tally_target *t, double value) {
  switch (t->op) {
  case TALLY_OP_GE: return value >= t->value;
  case TALLY_OP_GT: return value > t->value;
  case TALLY_OP_LE: return value <= t->value;
  case TALLY_OP_LT: return value < t->value;
  }
  return 0;
}

/* Appends ", code" of unit to a note, keeping it NUL-terminated. */
static void note_unit(char *note, size_t n, int *listed, const char *code) {
  size_t len = strlen(note);
  if (len + 1 >= n)
    return;
  snprintf(note + len, n - len, "%s%s", *listed ? ", " : "", code);
  (*listed)++;
}

int tally_indicator_compute(const tally_catalog *cat, int ind,
                            const tally_figures *f, int scope,
                            const tally_period *period, tally_result *out) {
  const tally_indicator *in = &cat->indicators[ind];
  int is_ratio = in->kind == TALLY_KIND_RATIO;
  double num = 0, den = 0;
  int listed = 0;
  char missing[192] = "";

  memset(out, 0, sizeof *out);
  for (size_t u = 0; u < cat->n_units; u++) {
    double a, b = 0;
    if (!cat->units[u].is_leaf || !tally_catalog_unit_within(cat, (int)u, scope))
      continue;
    out->units_expected++;
    int has_a = tally_figures_get(f, (int)u, in->numerator, &a);
    int has_b = !is_ratio || tally_figures_get(f, (int)u, in->denominator, &b);
    if (!has_a || !has_b) {
      note_unit(missing, sizeof missing, &listed, cat->units[u].code);
      continue;
    }
    num += a;
    den += b;
    out->units_counted++;
  }

  out->target = tally_indicator_target(cat, ind, period);
  if (out->units_counted == 0) {
    out->status = TALLY_STATUS_INSUFFICIENT_DATA;
    if (is_ratio)
      snprintf(out->note, sizeof out->note,
               "insufficient data: no unit reported both %s and %s",
               cat->elements[in->numerator].code,
               cat->elements[in->denominator].code);
    else
      snprintf(out->note, sizeof out->note,
               "insufficient data: no unit reported %s",
               cat->elements[in->numerator].code);
    return 0;
  }

  out->has_numerator = 1;
  out->numerator = num;
  if (is_ratio) {
    out->has_denominator = 1;
    out->denominator = den;
  }
  if (listed)
    snprintf(out->note, sizeof out->note, "not reported by %d of %d: %s",
             out->units_expected - out->units_counted, out->units_expected,
             missing);

  if (is_ratio && den == 0) {
    out->status = TALLY_STATUS_UNDEFINED;
    snprintf(out->note, sizeof out->note, "undefined: %s sums to 0",
             cat->elements[in->denominator].code);
    return 0;
  }
  out->has_value = 1;
  out->value = (is_ratio ? num / den : num) * in->factor;
  if (out->target == NULL)
    out->status = TALLY_STATUS_NO_TARGET;
  else if (tally_target_met(out->target, out->value))
    out->status = TALLY_STATUS_MET;
  else
    out->status = TALLY_STATUS_NOT_MET;
  return 0;
}
