/* interval.h: confidence intervals of estimates made from counts, and
 * whether two estimates differ by more than chance.
 *
 * The methods are those of the UK public-health indicator methods
 * (the PHE/OHID technical guide, as the R package PHEindicatormethods
 * implements them: wilson_lower/upper, byars_lower/upper, phe_rate):
 *
 * - a proportion x / n: Wilson's score interval,
 *     (2x + z^2 -+ z sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2));
 * - a count x (the numerator of a rate x / n, the denominator taken as
 *   known): under 10 events the exact Poisson limits,
 *     lower = qchisq(a/2, 2x) / 2,  upper = qchisq(1 - a/2, 2x + 2) / 2,
 *   from 10 on Byar's approximation of them,
 *     lower = x (1 - 1/(9x) - z/(3 sqrt x))^3,
 *     upper = (x + 1)(1 - 1/(9(x + 1)) + z/(3 sqrt(x + 1)))^3;
 *   a rate's limits are the count's divided by n (times its factor);
 * - z = qnorm(c + (1 - c)/2) for a two-sided interval of confidence c.
 *
 * Each interval carries the estimate's variance (p(1 - p)/n for a
 * proportion, x for a count), for comparisons: two independent
 * estimates differ by more than chance when |a - b| > z sqrt(var a +
 * var b), the test the year-on-year check of figures (flags.h) makes
 * with z = 3 on two counts, and reports make with z at 95 % on two
 * periods' values.
 */
#ifndef TALLY_INTERVAL_H
#define TALLY_INTERVAL_H

#define TALLY_INTERVAL_CONFIDENCE 0.95 /* of every interval a report shows */
#define TALLY_INTERVAL_EXACT_BELOW 10  /* counts under it: exact limits */

typedef struct {
  double lower, upper; /* the limits; lower is NAN where Byar's is < 0 */
  double var;          /* the estimate's variance */
} tally_interval;

/* z of a two-sided interval of confidence c, 0 < c < 1 (1.959964 for
 * 0.95); NAN for any other c. */
double tally_interval_z(double confidence);

/* Wilson's score interval of the proportion x / n (a proportion of 1:
 * the caller scales it). Returns 0, or TALLY_EVALUE when a number is not
 * finite, x < 0, n <= 0, x > n or confidence is not in (0, 1). */
int tally_interval_wilson(double x, double n, double confidence,
                          tally_interval *out);

/* Byar's limits of a count x (PHE's byars_lower and byars_upper: the
 * lower limit is NAN where the formula gives less than 0). Returns 0 or
 * TALLY_EVALUE (x < 0 or not finite, a bad confidence). */
int tally_interval_byar(double x, double confidence, tally_interval *out);

/* The limits of a count x as phe_rate takes them: exact under
 * TALLY_INTERVAL_EXACT_BELOW events, Byar's from there on. Returns 0 or
 * TALLY_EVALUE. */
int tally_interval_poisson(double x, double confidence, tally_interval *out);

/* The exact Poisson limits of a count x (for any x >= 0: the gamma
 * quantiles the chi-squared ones are). Returns 0 or TALLY_EVALUE. */
int tally_interval_exact_poisson(double x, double confidence,
                                 tally_interval *out);

/* 1 when a is above b by more than z standard deviations of the
 * difference of two independent estimates of variances var_a and var_b,
 * -1 when below, 0 when chance explains the difference (with no
 * variance at all, any difference is more than chance). */
int tally_interval_differ(double a, double var_a, double b, double var_b,
                          double z);

/* 1 when the whole interval lies above benchmark, -1 when below, 0 when
 * it holds it (or a limit is not a number): how the UK indicators
 * compare an area with its region or country. */
int tally_interval_against(const tally_interval *i, double benchmark);

#endif
