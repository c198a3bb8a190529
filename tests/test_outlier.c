/* test_outlier.c: the arithmetic of the outlier tests (server/outlier.c)
 * against values computed elsewhere; the tests at work through tallyd
 * are in test_rules.c. */
#include "outlier.h"

#include <criterion/criterion.h>
#include <math.h>

static void expect_near(double got, double want, double rel) {
  cr_expect(fabs(got - want) <= rel * want, "%.10g, not %.10g", got, want);
}

/* Exact binomial tails: with q = 1/2 the two-sided p is twice the tail,
 * as R's binom.test gives it: binom.test(3, 20) p-value 0.002577 (=
 * 2 x 1351 / 2^20); binom.test(0, 10) 0.001953 (= 2 / 2^10). */
Test(outlier, binomial_p_is_twice_the_smaller_tail) {
  expect_near(tally_outlier_binomial_p(3, 20, 0.5), 2.0 * 1351 / 1048576,
              1e-12);
  expect_near(tally_outlier_binomial_p(17, 20, 0.5), 2.0 * 1351 / 1048576,
              1e-12);
  expect_near(tally_outlier_binomial_p(0, 10, 0.5), 2.0 / 1024, 1e-12);
  expect_near(tally_outlier_binomial_p(10, 10, 0.5), 2.0 / 1024, 1e-12);
  cr_expect_eq(tally_outlier_binomial_p(10, 20, 0.5), 1.0);
  /* q = 0.1, k = 0 of 30: 0.9^30 = 0.0423911583, doubled. */
  expect_near(tally_outlier_binomial_p(0, 30, 0.1), 2 * pow(0.9, 30), 1e-12);
  /* Upper tails, q = 0.1, summed with exact rationals (Python's
   * fractions): P(X >= 9 | 30) = 0.0020198290052583; P(X >= 200 | 1000)
   * = 2.928054803828677e-21, far in the tail. */
  expect_near(tally_outlier_binomial_p(9, 30, 0.1), 2 * 0.0020198290052583,
              1e-9);
  expect_near(tally_outlier_binomial_p(200, 1000, 0.1), 5.856109607657354e-21,
              1e-6);
}

/* Past 100,000 trials, the normal approximation (continuity-corrected):
 * against the exact tail summed here term by term in long double, and
 * a count far in the tail, which once summed a million terms. */
Test(outlier, many_trials_take_the_normal_approximation) {
  unsigned long n = 1000000, k = 1100;
  double q = 0.001;
  long double tail = 0, lf = lgammal((long double)n + 1);
  for (unsigned long i = k; i <= n; i++) {
    long double t = expl(lf - lgammal((long double)i + 1) -
                         lgammal((long double)(n - i) + 1) +
                         (long double)i * logl(q) +
                         (long double)(n - i) * log1pl(-q));
    tail += t;
    if (t < tail * 1e-20L)
      break;
  }
  double p = tally_outlier_binomial_p(k, n, q);
  cr_expect(fabs(p - 2 * (double)tail) < 0.002, "%g against %g", p,
            2 * (double)tail);
  cr_expect_eq(tally_outlier_binomial_p(2000000, 100000000, 0.001), 0.0);
  cr_expect_eq(tally_outlier_binomial_p(100000, 100000000, 0.001), 1.0);
}

Test(outlier, median_of_odd_and_even_counts) {
  double a[] = {5, 1, 3};
  double b[] = {4, 1, 3, 2};
  cr_expect_eq(tally_outlier_median(a, 3), 3);
  cr_expect_eq(tally_outlier_median(b, 4), 2.5);
}
