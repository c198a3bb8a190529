/* interval.c: confidence intervals from counts; see interval.h for the
 * methods and their source. The quantiles (of the normal and of the
 * gamma distributions) are found by bisection on the distribution
 * functions, to the last bits a double holds. */
#include "interval.h"

#include "error.h"

#include <math.h>
#include <stddef.h>

/* The standard normal distribution function. */
static double normal_cdf(double z) { return 0.5 * erfc(-z / sqrt(2)); }

double tally_interval_z(double confidence) {
  if (!(confidence > 0 && confidence < 1))
    return NAN;
  double p = confidence + (1 - confidence) / 2, lo = 0, hi = 40;
  for (int i = 0; i < 200; i++) {
    double mid = (lo + hi) / 2;
    if (mid == lo || mid == hi)
      break;
    if (normal_cdf(mid) < p)
      lo = mid;
    else
      hi = mid;
  }
  return (lo + hi) / 2;
}

static int confidence_ok(double c) { return c > 0 && c < 1; }

int tally_interval_wilson(double x, double n, double confidence,
                          tally_interval *out) {
  if (!isfinite(x) || !isfinite(n) || x < 0 || n <= 0 || x > n ||
      !confidence_ok(confidence))
    return TALLY_EVALUE;
  double z = tally_interval_z(confidence), z2 = z * z;
  double root = z * sqrt(z2 + 4 * x * (1 - x / n));
  out->lower = (2 * x + z2 - root) / 2 / (n + z2);
  out->upper = (2 * x + z2 + root) / 2 / (n + z2);
  double p = x / n;
  out->var = p * (1 - p) / n;
  return 0;
}

int tally_interval_byar(double x, double confidence, tally_interval *out) {
  if (!isfinite(x) || x < 0 || !confidence_ok(confidence))
    return TALLY_EVALUE;
  double z = tally_interval_z(confidence);
  double lower = x * pow(1 - 1 / (9 * x) - z / (3 * sqrt(x)), 3);
  double y = x + 1;
  out->lower = x > 0 && lower >= 0 ? lower : NAN;
  out->upper = y * pow(1 - 1 / (9 * y) + z / (3 * sqrt(y)), 3);
  out->var = x;
  return 0;
}

/* The regularized lower incomplete gamma function P(a, y), a > 0,
 * y >= 0: by its series below a + 1, else by the continued fraction of
 * its complement (modified Lentz). */
static double gamma_p(double a, double y) {
  if (y <= 0)
    return 0;
  double front = exp(a * log(y) - y - lgamma(a));
  if (y < a + 1) {
    double term = 1 / a, sum = term;
    for (int n = 1; n < 10000; n++) {
      term *= y / (a + n);
      sum += term;
      if (fabs(term) < fabs(sum) * 1e-17)
        break;
    }
    return front * sum;
  }
  const double tiny = 1e-300;
  double b = y + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (int n = 1; n < 10000; n++) {
    double an = -n * (n - a);
    b += 2;
    d = an * d + b;
    if (fabs(d) < tiny)
      d = tiny;
    c = b + an / c;
    if (fabs(c) < tiny)
      c = tiny;
    d = 1 / d;
    double step = d * c;
    h *= step;
    if (fabs(step - 1) < 1e-17)
      break;
  }
  return 1 - front * h;
}

/* The p quantile of the gamma distribution of shape a (scale 1). */
static double gamma_quantile(double a, double p) {
  double lo = 0, hi = a + 10 + 20 * sqrt(a);
  while (gamma_p(a, hi) < p)
    hi *= 2;
  for (int i = 0; i < 400; i++) {
    double mid = (lo + hi) / 2;
    if (mid == lo || mid == hi)
      break;
    if (gamma_p(a, mid) < p)
      lo = mid;
    else
      hi = mid;
  }
  return (lo + hi) / 2;
}

int tally_interval_exact_poisson(double x, double confidence,
                                 tally_interval *out) {
  if (!isfinite(x) || x < 0 || !confidence_ok(confidence))
    return TALLY_EVALUE;
  double tail = (1 - confidence) / 2;
  /* qchisq(p, 2k) / 2 is the p quantile of the gamma of shape k. */
  out->lower = x > 0 ? gamma_quantile(x, tail) : 0;
  out->upper = gamma_quantile(x + 1, 1 - tail);
  out->var = x;
  return 0;
}

int tally_interval_poisson(double x, double confidence, tally_interval *out) {
  if (x < TALLY_INTERVAL_EXACT_BELOW)
    return tally_interval_exact_poisson(x, confidence, out);
  return tally_interval_byar(x, confidence, out);
}

int tally_interval_differ(double a, double var_a, double b, double var_b,
                          double z) {
  double d = a - b;
  if (d == 0 || !(fabs(d) > z * sqrt(var_a + var_b)))
    return 0;
  return d > 0 ? 1 : -1;
}

int tally_interval_against(const tally_interval *i, double benchmark) {
  if (i->lower > benchmark)
    return 1;
  if (i->upper < benchmark)
    return -1;
  return 0;
}
