/* outlier.c: the outlier tests on one unit's figures (outlier.h).
 *
 * The happy path: a history test reads the unit's row of the same
 * period in each earlier year and compares; a units test reads the
 * unit's siblings' rows and sums their numerators and denominators.
 * The failure modes: a store error or no memory while reading rows
 * fails the check; too short a history, no spread, no other unit or no
 * count at all make the test say nothing.
 */
#include "outlier.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double tally_outlier_median(double *x, size_t n) {
  qsort(x, n, sizeof *x, by_value);
  return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

static double binomial_pmf(unsigned long i, unsigned long n, double q) {
  return exp(lgamma((double)n + 1) - lgamma((double)i + 1) -
             lgamma((double)(n - i) + 1) + (double)i * log(q) +
             (double)(n - i) * log1p(-q));
}

double tally_outlier_binomial_p(unsigned long k, unsigned long n, double q) {
  /* Past this many trials the tails are summed no more (a sum near the
   * mean takes about sqrt(n) terms): the normal approximation with its
   * continuity correction is as good, and takes no time on the writer. */
  if (n > TALLY_OUTLIER_EXACT_MAX) {
    double sd = sqrt((double)n * q * (1 - q));
    double z = (fabs((double)k - (double)n * q) - 0.5) / sd;
    double p = z > 0 ? erfc(z / M_SQRT2) : 1;
    return p < 1 ? p : 1;
  }
  double at = binomial_pmf(k, n, q), tail = 0, lo, hi;
  /* The tail away from the mean, summed outwards until its terms no
   * longer count; the other is what remains. */
  if ((double)k <= (double)n * q) {
    for (unsigned long i = k + 1; i-- > 0;) {
      double t = binomial_pmf(i, n, q);
      tail += t;
      if (t <= tail * 1e-17) /* 0 too: a term that underflowed */
        break;
    }
    lo = tail;
    hi = 1 - lo + at;
  } else {
    for (unsigned long i = k; i <= n; i++) {
      double t = binomial_pmf(i, n, q);
      tail += t;
      if (t <= tail * 1e-17) /* 0 too: a term that underflowed */
        break;
    }
    hi = tail;
    lo = 1 - hi + at;
  }
  double p = 2 * fmin(lo, hi);
  return p < 1 ? p : 1;
}

static int history(const tally_catalog *cat, tally_rows *rows,
                   const tally_rule *r, int unit, const tally_period *p,
                   tally_violation *v) {
  int e = r->left.elements[0];
  const double *value;
  const unsigned char *has;
  int rc = tally_rows_read(rows, unit, p, &value, &has);
  if (rc != 0 || !has[e])
    return rc;
  double x = value[e], *past = malloc((size_t)r->years * sizeof *past);
  size_t n = 0;
  if (past == NULL)
    return -ENOMEM;
  tally_period q = *p;
  /* Stops when the years left could not make min_years any more. */
  for (int y = 0; y < r->years && q.year > TALLY_PERIOD_MIN_YEAR &&
                  n + (size_t)(r->years - y) >= (size_t)r->min_years;
       y++) {
    q.year--;
    if ((rc = tally_rows_read(rows, unit, &q, &value, &has)) != 0)
      goto out;
    if (has[e])
      past[n++] = value[e];
  }
  rc = 0;
  if (n < (size_t)r->min_years)
    goto out;
  double median = tally_outlier_median(past, n);
  for (size_t i = 0; i < n; i++)
    past[i] = fabs(past[i] - median);
  double mad = tally_outlier_median(past, n);
  if (mad == 0)
    goto out;
  double z = TALLY_MODIFIED_Z * (x - median) / mad;
  if (fabs(z) > r->threshold) {
    *v = (tally_violation){(int)(r - cat->rules), x, median, 0, mad, z};
    rc = 1;
  }
out:
  free(past);
  return rc;
}

/* A sibling's numerator and denominator, for the others' rate. */
struct sibling {
  double k, d;
};

static int by_rate(const void *a, const void *b) {
  const struct sibling *x = a, *y = b;
  double l = x->k * y->d, r = y->k * x->d; /* x->k/x->d against y's */
  return (l > r) - (l < r);
}

static int units(const tally_catalog *cat, tally_rows *rows,
                 const tally_rule *r, int unit, const tally_period *p,
                 tally_violation *v) {
  int num = r->left.elements[0], den = r->right.elements[0];
  int parent = cat->units[unit].parent;
  const double *value;
  const unsigned char *has;
  int rc = tally_rows_read(rows, unit, p, &value, &has);
  if (rc != 0 || !has[num] || !has[den] || parent < 0 ||
      cat->units[parent].leaves > TALLY_OUTLIER_UNITS_MAX)
    return rc;
  double k = value[num], d = value[den], others_k = 0, others_d = 0;
  struct sibling sib[TALLY_OUTLIER_UNITS_MAX];
  size_t n = 0;
  const tally_unit *up = &cat->units[parent];
  for (int i = 0; i < up->n_children && n < TALLY_OUTLIER_UNITS_MAX; i++) {
    int u = up->children[i];
    if (u == unit || !cat->units[u].is_leaf)
      continue;
    if ((rc = tally_rows_read(rows, u, p, &value, &has)) != 0)
      return rc;
    if (has[num] && has[den] && value[den] > 0)
      sib[n++] = (struct sibling){value[num], value[den]};
  }
  /* One wild sibling must not make every other unit an outlier: the
   * highest and lowest rates (a tenth at each end, at least one from
   * five on) are left out of the others' rate. */
  qsort(sib, n, sizeof *sib, by_rate);
  size_t trim = n >= 5 ? (n / 10 > 1 ? n / 10 : 1) : 0;
  for (size_t i = trim; i + trim < n; i++) {
    others_k += sib[i].k;
    others_d += sib[i].d;
  }
  double all = k + others_k;
  if (d <= 0 || others_d <= 0 || all <= 0 || all > 1e9)
    return 0;
  double share = d / (d + others_d);
  double pv = tally_outlier_binomial_p((unsigned long)k, (unsigned long)all,
                                       share);
  if (pv >= r->alpha)
    return 0;
  *v = (tally_violation){(int)(r - cat->rules), k, d, all * share,
                         others_k / others_d, pv};
  return 1;
}

int tally_outlier_check(const tally_catalog *cat, tally_rows *rows, int rule,
                        int unit, const tally_period *p, tally_violation *v) {
  const tally_rule *r = &cat->rules[rule];
  switch (r->test) {
  case TALLY_RULE_HISTORY:
    return history(cat, rows, r, unit, p, v);
  case TALLY_RULE_UNITS:
    return units(cat, rows, r, unit, p, v);
  default:
    return 0;
  }
}
