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

Test(outlier, median_of_odd_and_even_counts) {
  double a[] = {5, 1, 3};
  double b[] = {4, 1, 3, 2};
  cr_expect_eq(tally_outlier_median(a, 3), 3);
  cr_expect_eq(tally_outlier_median(b, 4), 2.5);
}
