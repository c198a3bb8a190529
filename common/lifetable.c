/* lifetable.c: abridged life tables and SDG 3.4.1; see lifetable.h for
 * the formulas and their sources. */
#include "lifetable.h"

#include "error.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>

void tally_lifetable_params_default(tally_lifetable_params *p,
                                    tally_lifetable_method m) {
  p->method = m;
  p->min_population = TALLY_LIFETABLE_MIN_POPULATION;
  p->chiang_a0 = 0.1;
  p->chiang_a = 0.5;
  p->sex = TALLY_LIFETABLE_BOTH;
  p->srb = 1.05;
  p->nax = NULL;
  p->cn_a0 = 0.15;
}

static void result_reset(tally_lifetable_result *res) {
  res->status = TALLY_LIFETABLE_VALUE;
  res->value = NAN;
  res->se = res->lower = res->upper = NAN;
  res->population = 0;
  res->bad_group = -1;
  res->reason = NULL;
}

static int bad(tally_lifetable_result *res, int group, const char *why) {
  res->bad_group = group;
  res->reason = why;
  return TALLY_EVALUE;
}

static int is_fraction(double v) { return isfinite(v) && v >= 0 && v <= 1; }

static int params_ok(const tally_lifetable_params *p) {
  if (!(isfinite(p->min_population) && p->min_population >= 0))
    return 0;
  switch (p->method) {
  case TALLY_LIFETABLE_CHIANG2:
    return is_fraction(p->chiang_a0) && is_fraction(p->chiang_a);
  case TALLY_LIFETABLE_COALE_DEMENY:
    if (p->sex != TALLY_LIFETABLE_MALE && p->sex != TALLY_LIFETABLE_FEMALE &&
        p->sex != TALLY_LIFETABLE_BOTH)
      return 0;
    return p->sex != TALLY_LIFETABLE_BOTH || (isfinite(p->srb) && p->srb > 0);
  case TALLY_LIFETABLE_CN_TEXTBOOK:
    return is_fraction(p->cn_a0);
  }
  return 0;
}

/* Coale-Demeny a0 and 4a1 for one sex, PHG (2001) table 3.3. */
static void cd_rule(int female, double m0, double *a0, double *a1) {
  if (female) {
    *a0 = m0 >= 0.107 ? 0.350 : 0.053 + 2.800 * m0;
    *a1 = m0 >= 0.107 ? 1.361 : 1.522 - 1.518 * m0;
  } else {
    *a0 = m0 >= 0.107 ? 0.330 : 0.045 + 2.684 * m0;
    *a1 = m0 >= 0.107 ? 1.352 : 1.651 - 2.816 * m0;
  }
}

/* The years a lived in closed group i of width n by those who die in it. */
static double group_a(const tally_lifetable_params *p, int i, int n,
                      double m0) {
  if (p->nax && !isnan(p->nax[i]))
    return p->nax[i];
  switch (p->method) {
  case TALLY_LIFETABLE_CHIANG2:
    return n * (i == 0 ? p->chiang_a0 : p->chiang_a);
  case TALLY_LIFETABLE_CN_TEXTBOOK:
    return i == 0 ? p->cn_a0 : n / 2.0;
  case TALLY_LIFETABLE_COALE_DEMENY:
    break;
  }
  if (i >= 2)
    return n / 2.0;
  double m[2], f[2];
  cd_rule(0, m0, &m[0], &m[1]);
  cd_rule(1, m0, &f[0], &f[1]);
  if (p->sex == TALLY_LIFETABLE_MALE)
    return m[i];
  if (p->sex == TALLY_LIFETABLE_FEMALE)
    return f[i];
  return (p->srb * m[i] + f[i]) / (p->srb + 1);
}

/* Checks one group's counts: finite, not negative, deaths only where
 * there is population and never more than it. */
static int counts_ok(double d, double pop, tally_lifetable_result *res,
                     int group) {
  if (!isfinite(d) || !isfinite(pop))
    return bad(res, group, "a count is not a finite number");
  if (d < 0 || pop < 0)
    return bad(res, group, "a count is negative");
  if (pop == 0)
    return bad(res, group, "no population in the age group");
  if (d > pop)
    return bad(res, group, "more deaths than population in a group");
  return 0;
}

int tally_lifetable_compute(const tally_lifetable_input *in,
                            const tally_lifetable_params *p,
                            tally_lifetable_result *res,
                            tally_lifetable_row *rows) {
  if (!res)
    return -EINVAL;
  result_reset(res);
  if (!in || !p || !params_ok(p))
    return -EINVAL;
  int k = in->n_groups;
  if (k < 2)
    return bad(res, -1, "fewer than 2 age groups");
  if (k > TALLY_LIFETABLE_MAX_GROUPS)
    return bad(res, -1, "too many age groups");
  if (!in->start || !in->deaths || !in->population)
    return -EINVAL;

  /* Shape: 0, 1, 5, 10, ... in steps of 5; the last group is open. */
  for (int i = 0; i < k; i++) {
    int want = i == 0 ? 0 : i == 1 ? 1 : 5 * (i - 1);
    if (in->start[i] != want)
      return bad(res, i, "age groups must start at 0, 1, 5, 10, ... "
                         "in steps of 5");
  }
  if (p->nax) { /* years within each closed group, or NAN */
    for (int i = 0; i < k - 1; i++)
      if (!isnan(p->nax[i]) && !(isfinite(p->nax[i]) && p->nax[i] >= 0 &&
                                 p->nax[i] <= in->start[i + 1] - in->start[i]))
        return -EINVAL;
  }

  double total = 0;
  for (int i = 0; i < k; i++) {
    int rc = counts_ok(in->deaths[i], in->population[i], res, i);
    if (rc)
      return rc;
    total += in->population[i];
  }
  if (p->method == TALLY_LIFETABLE_CN_TEXTBOOK) {
    if (!isfinite(in->births) || in->births <= 0)
      return bad(res, 0, "live births are needed for q0 and must be above 0");
    if (in->deaths[0] > in->births)
      return bad(res, 0,
                 "more infant deaths than the births q0 is taken "
                 "over");
  }

  res->population = total;
  if (total <= p->min_population) {
    res->status = TALLY_LIFETABLE_TOO_SMALL;
    return 0;
  }
  if (in->deaths[k - 1] <= 0)
    return bad(res, k - 1, "no deaths in the open age group");

  /* Forward pass: M, a, q, l, d, L. Rows are staged in a local table so
   * that nothing reaches the caller's buffer on failure. */
  tally_lifetable_row t[TALLY_LIFETABLE_MAX_GROUPS];
  double m0 = in->population[0] > 0 ? in->deaths[0] / in->population[0] : 0;
  double l = TALLY_LIFETABLE_RADIX;
  for (int i = 0; i < k; i++) {
    tally_lifetable_row *r = &t[i];
    double pop = in->population[i];
    r->start = in->start[i];
    r->M = pop > 0 ? in->deaths[i] / pop : 0;
    r->l = l;
    if (i == k - 1) { /* open group: everyone dies, L = l / M */
      r->n = 0;
      r->q = 1;
      r->d = l;
      r->L = l / r->M;
      r->a = 1 / r->M;
      break;
    }
    r->n = in->start[i + 1] - r->start;
    r->a = group_a(p, i, r->n, m0);
    if (i == 0 && p->method == TALLY_LIFETABLE_CN_TEXTBOOK)
      r->q = in->deaths[0] / in->births; /* q0 = infant mortality rate */
    else
      r->q = r->n * r->M / (1 + (r->n - r->a) * r->M);
    if (r->q > 1)
      return bad(res, i, "death rate too high: q would exceed 1");
    r->d = l * r->q;
    l -= r->d;
    r->L = r->n * l + r->a * r->d;
  }

  /* Backward pass: T and e, then e's variance (Chiang; Silcocks et al.
   * for the open group), summed from the top as T is. */
  double T = 0, ST = 0;
  for (int i = k - 1; i >= 0; i--) {
    T += t[i].L;
    t[i].T = T;
    t[i].e = t[i].l > 0 ? T / t[i].l : 0;
  }
  for (int i = k - 1; i >= 0; i--) {
    double D = in->deaths[i], l2 = t[i].l * t[i].l;
    if (i == k - 1) {
      ST += l2 / (D * t[i].M * t[i].M);
    } else if (D > 0) {
      double q = t[i].q, w = t[i].n - t[i].a + t[i + 1].e;
      ST += q * q * (1 - q) / D * l2 * w * w;
    }
    t[i].se = t[i].l > 0 ? sqrt(ST / l2) : 0;
  }
  double z = TALLY_LIFETABLE_Z;
  res->se = t[0].se;
  if (2 * z * res->se > TALLY_LIFETABLE_MAX_CI_YEARS) {
    res->status = TALLY_LIFETABLE_TOO_WIDE;
    return 0;
  }
  res->value = t[0].e;
  res->lower = res->value - z * res->se;
  res->upper = res->value + z * res->se;
  if (rows)
    for (int i = 0; i < k; i++)
      rows[i] = t[i];
  return 0;
}

int tally_sdg341_compute(const double deaths[TALLY_SDG341_GROUPS],
                         const double population[TALLY_SDG341_GROUPS],
                         double min_population, tally_lifetable_result *res) {
  if (!res)
    return -EINVAL;
  result_reset(res);
  if (!deaths || !population || !isfinite(min_population) ||
      min_population < 0)
    return -EINVAL;
  double total = 0;
  for (int i = 0; i < TALLY_SDG341_GROUPS; i++) {
    int rc = counts_ok(deaths[i], population[i], res, i);
    if (rc)
      return rc;
    total += population[i];
  }
  res->population = total;
  if (total <= min_population) {
    res->status = TALLY_LIFETABLE_TOO_SMALL;
    return 0;
  }
  double survive = 1, rel = 0; /* rel: Var(40p30) / 40p30^2 */
  for (int i = 0; i < TALLY_SDG341_GROUPS; i++) {
    double m = deaths[i] / population[i];
    double q = 5 * m / (1 + 2.5 * m);
    if (q > 1)
      return bad(res, i, "death rate too high: 5q would exceed 1");
    survive *= 1 - q;
    if (deaths[i] > 0 && q < 1)
      rel += q * q / ((1 - q) * deaths[i]);
  }
  double z = TALLY_LIFETABLE_Z;
  res->value = 100 * (1 - survive);
  res->se = 100 * survive * sqrt(rel);
  res->lower = fmax(0, res->value - z * res->se);
  res->upper = fmin(100, res->value + z * res->se);
  return 0;
}
