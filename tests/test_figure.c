/* test_figure.c: figures as text with the precision they have
 * (common/figure.c). The noisy numbers are those the report printed
 * before: P01's change 0.810699999999997 (61.1572 - 60.3465), P06's
 * value 6.00000000000001, P14's numerator 0.46499991 and a CSV
 * denominator 1.25000032258065. */
#include "figure.h"

#include <criterion/criterion.h>

static const char *amount(tally_amount a) {
  static char buf[TALLY_FIGURE_STRLEN];
  tally_figure_amount(buf, sizeof buf, a);
  return buf;
}

Test(figure, a_sum_exactly) {
  cr_assert_str_eq(amount(0), "0");
  cr_assert_str_eq(amount(611572000000), "611572");
  cr_assert_str_eq(amount(109626600000), "109626.6");
  cr_assert_str_eq(amount(1), "0.000001");
  cr_assert_str_eq(amount(-3000000), "-3");
  cr_assert_str_eq(amount(-1500000), "-1.5");
  /* Beyond what a double holds: 10^13 + a millionth. */
  cr_assert_str_eq(amount((tally_amount)10000000000000 * 1000000 + 1),
                   "10000000000000.000001");
}

Test(figure, a_quotient_to_the_digits_of_its_sums) {
  char buf[TALLY_FIGURE_STRLEN];
  /* CO2 3,875,001 t over GDP 3,100,000: seven digits each, 1.250000. */
  tally_figure_quotient(buf, sizeof buf, 3875001000000, 3100000000000);
  cr_assert_str_eq(buf, "1.25");
  /* Energy 1,639,765 over GDP 3,526,377: 0.464999913... to seven. */
  tally_figure_quotient(buf, sizeof buf, 1639765000000, 3526377000000);
  cr_assert_str_eq(buf, "0.4649999");
  /* Water 97,328,005 m3 over 3,526,377: seven digits, no exponent. */
  tally_figure_quotient(buf, sizeof buf, 97328005000000, 3526377000000);
  cr_assert_str_eq(buf, "27.6");
  /* A short sum limits it: 5 / 3 to one digit. */
  tally_figure_quotient(buf, sizeof buf, 5000000, 3000000);
  cr_assert_str_eq(buf, "2");
  tally_figure_quotient(buf, sizeof buf, 5000000, 0);
  cr_assert_str_eq(buf, "");
}

Test(figure, a_computed_value_without_binary_noise) {
  char buf[TALLY_FIGURE_STRLEN];
  tally_figure_computed(buf, sizeof buf, 61.1572 - 60.3465, 61.1572);
  cr_assert_str_eq(buf, "0.8107");
  tally_figure_computed(buf, sizeof buf, (2412030.0 / 2275500 - 1) * 100, 0);
  cr_assert_str_eq(buf, "6");
  tally_figure_computed(buf, sizeof buf, 67.4 - 67.55, 67.55);
  cr_assert_str_eq(buf, "-0.15");
  tally_figure_computed(buf, sizeof buf, 26.95 - 26.89, 26.95);
  cr_assert_str_eq(buf, "0.06");
  /* Digits a value has are kept: 2.67269736842105 to 12. */
  tally_figure_computed(buf, sizeof buf, 13.0 / 4864 * 1000, 0);
  cr_assert_str_eq(buf, "2.67269736842");
  tally_figure_computed(buf, sizeof buf, 50561.5592388971, 0);
  cr_assert_str_eq(buf, "50561.5592389");
  tally_figure_computed(buf, sizeof buf, 0, 0);
  cr_assert_str_eq(buf, "0");
  tally_figure_computed(buf, sizeof buf, -1e-17, 5);
  cr_assert_str_eq(buf, "0");
}
