/* test_interval.c: Wilson, Byar and exact Poisson intervals, and the
 * comparison of two estimates, against published values.
 *
 * PUBLISHED: the test data of the UK public-health R package
 * PHEindicatormethods (ukhsa-collaboration/PHEindicatormethods, commit
 * 093fd28), which implements the PHE/OHID technical guide's methods:
 * - tests/testthat/testdata_Byars_Wilson.xlsx, sheet testdata_B_W
 *   (read by tests/testthat/testByars.R and testWilson.R): byars_lower
 *   and byars_upper of 65, 1045, 1 (95 %) and 65, 1045, 10 (99.8 %);
 *   wilson_lower and wilson_upper of 65/100, 1045/5000, 0.445/1;
 * - tests/testthat/testdata_Rate.xlsx, sheet testdata_Rate (read by
 *   testRates.R): phe_rate per 100 and per 100,000, exact under 10
 *   events and Byar's from 10;
 * - tests/testthat/testdata_Proportion.xlsx, sheet testdata_Prop (read
 *   by testProportions.R): phe_proportion, Wilson, of 1 and in %.
 * The values below are those cells as stored (17 significant digits).
 */
#include "error.h"
#include "interval.h"

#include <criterion/criterion.h>
#include <math.h>

/* Equal to a relative 1e-9 (the package's own tests ask less). */
#define REL 1e-9
static void near(double got, double want, const char *what) {
  cr_assert(fabs(got - want) <= REL * fabs(want), "%s: %.17g, published %.17g",
            what, got, want);
}

Test(interval, z_is_the_normal_quantile) {
  near(tally_interval_z(0.95), 1.959963984540054, "z 95%"); /* qnorm(0.975) */
  near(tally_interval_z(0.998), 3.090232306167813,
       "z 99.8%"); /* qnorm(0.999) */
  cr_assert(isnan(tally_interval_z(1)));
  cr_assert(isnan(tally_interval_z(0)));
  cr_assert(isnan(tally_interval_z(NAN)));
}

/* testdata_B_W rows 2-7 and 14: x, confidence, lowercl, uppercl. */
static const struct {
  double x, c, lower, upper;
} byars[] = {
    {65, 0.95, 50.163187710459454, 82.849138545939837},
    {1045, 0.95, 982.59320180733255, 1110.3312129856499},
    {1, 0.95, 1.3072132901504351E-2, 5.5637555824752605},
    {65, 0.998, 42.880261471480203, 94.000290844318016},
    {1045, 0.998, 947.94070356103737, 1148.8061609880331},
    {10, 0.998, 2.916318374695686, 24.193724927880535},
    {1, 0.998, NAN, 9.362180217908362}, /* lower below 0: NA */
};

Test(interval, byar_reproduces_pheindicatormethods) {
  for (size_t i = 0; i < sizeof byars / sizeof byars[0]; i++) {
    tally_interval iv;
    cr_assert_eq(tally_interval_byar(byars[i].x, byars[i].c, &iv), 0);
    if (isnan(byars[i].lower))
      cr_assert(isnan(iv.lower), "lower of %g", byars[i].x);
    else
      near(iv.lower, byars[i].lower, "byars_lower");
    near(iv.upper, byars[i].upper, "byars_upper");
    cr_assert_eq(iv.var, byars[i].x);
  }
}

/* testdata_B_W rows 8-13: x, n, confidence, lowercl, uppercl. */
static const struct {
  double x, n, c, lower, upper;
} wilson[] = {
    {65, 100, 0.95, 0.55254443296887967, 0.73635751756902468},
    {1045, 5000, 0.95, 0.19795549880013297, 0.22049130373189027},
    {0.445, 1, 0.95, 4.3817447720588223E-2, 0.93346212769791559},
    {65, 100, 0.998, 0.49549465740704313, 0.77835406140896968},
    {1045, 5000, 0.998, 0.19179381799015244, 0.22731562902525818},
    {0.445, 1, 0.998, 1.9347006132900975E-2, 0.97022599470195414},
};

Test(interval, wilson_reproduces_pheindicatormethods) {
  for (size_t i = 0; i < sizeof wilson / sizeof wilson[0]; i++) {
    tally_interval iv;
    cr_assert_eq(
        tally_interval_wilson(wilson[i].x, wilson[i].n, wilson[i].c, &iv), 0);
    near(iv.lower, wilson[i].lower, "wilson_lower");
    near(iv.upper, wilson[i].upper, "wilson_upper");
    double p = wilson[i].x / wilson[i].n;
    cr_assert_float_eq(iv.var, p * (1 - p) / wilson[i].n, 1e-18);
  }
}

/* testdata_Rate rows 10-17 (per 100,000): numerator, denominator,
 * lower95_0cl, upper95_0cl, lower99_8cl, upper99_8cl; rows 2 and 3 are
 * the first two per 100, exact too. */
static const struct {
  double x, n, lo95, up95, lo998, up998;
} rates[] = {
    {1, 100, 25.317807984289896, 5571.6433909388979, 1.0005003335835343,
     9233.4134764515857},
    {5, 100, 1623.4863901184199, 11668.332079322669, 739.37173191783893,
     16454.745203680104},
    {20, 100, 12211.428834875936, 30889.880369197064, 8922.8023651441927,
     38085.035625041914},
    {65, 100, 50163.187710459453, 82849.138545939844, 42880.261471480204,
     94000.290844318006},
    {9856, 12345, 78269.490589767578, 81430.016542721409, 77375.905432710526,
     82354.472770954308},
    {7776456, 7564336677, 102.73196005302074, 102.87648334092832,
     102.690317308454, 102.91817639509068},
    {222, 3215, 6026.5748776526743, 7875.7293708718507, 5560.7376952598534,
     8461.0466817334109},
    {999, 3456, 27141.304936090521, 30755.833237378414, 26162.147596445768,
     31845.604819822653},
    {250, 220, 99984.947385328764, 128631.14487455782, 92710.005544389525,
     137651.23772147458}, /* row 21: more events than the denominator */
};

Test(interval, rates_reproduce_phe_rate) {
  for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
    tally_interval a, b;
    double k = 100000 / rates[i].n;
    cr_assert_eq(tally_interval_poisson(rates[i].x, 0.95, &a), 0);
    cr_assert_eq(tally_interval_poisson(rates[i].x, 0.998, &b), 0);
    near(a.lower * k, rates[i].lo95, "lower95_0cl");
    near(a.upper * k, rates[i].up95, "upper95_0cl");
    near(b.lower * k, rates[i].lo998, "lower99_8cl");
    near(b.upper * k, rates[i].up998, "upper99_8cl");
  }
  /* Rows 2 and 3, per 100: the same exact limits, scaled. */
  tally_interval iv;
  cr_assert_eq(tally_interval_poisson(1, 0.95, &iv), 0);
  near(iv.lower, 2.5317807984289897E-2, "lower, 1 per 100");
  near(iv.upper, 5.571643390938898, "upper, 1 per 100");
  cr_assert_eq(tally_interval_poisson(5, 0.998, &iv), 0);
  near(iv.lower, 0.739371731917839, "lower99.8, 5 per 100");
  near(iv.upper, 16.454745203680105, "upper99.8, 5 per 100");
}

Test(interval, exact_poisson_of_nothing_starts_at_0) {
  tally_interval iv;
  cr_assert_eq(tally_interval_poisson(0, 0.95, &iv), 0);
  cr_assert_eq(iv.lower, 0);
  /* qchisq(0.975, 2) / 2 = -log(0.025) = 3.6888794541139363 */
  near(iv.upper, -log(0.025), "upper of 0");
  cr_assert_eq(iv.var, 0);
}

/* testdata_Prop rows 2-9 (proportion of 1) and 10-17 (percentage). */
static const struct {
  double x, n, lo95, up95, lo998, up998;
} props[] = {
    {1, 100, 1.7674320641406511E-3, 5.4486196178705294E-2, 8.73065697299977E-4,
     0.10455445283705821},
    {5, 100, 2.154367915436798E-2, 0.11175046923191911, 1.3865320725997183E-2,
     0.16458852282596442},
    {20, 100, 0.1333669333310325, 0.28882916559315885, 0.10519162066711432,
     0.3471109417008601},
    {65, 100, 0.55254443296887967, 0.73635751756902468, 0.49549465740704313,
     0.77835406140896968},
    {9856, 12345, 0.79121017529090687, 0.80536400736149094, 0.7869924108419063,
     0.80930614125896261},
    {7776456, 7564336677, 1.0273201001641094E-3, 1.0287644578977231E-3,
     1.0269040118442213E-3, 1.0291812992698397E-3},
    {222, 3215, 6.0791690363636595E-2, 7.8339566813836331E-2,
     5.647101964624248E-2, 8.4184141852701344E-2},
    {999, 3456, 0.27418951080009873, 0.30440389662818057, 0.26583995768074953,
     0.31344754492799848},
};

Test(interval, proportions_reproduce_phe_proportion) {
  for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
    tally_interval a, b;
    cr_assert_eq(tally_interval_wilson(props[i].x, props[i].n, 0.95, &a), 0);
    cr_assert_eq(tally_interval_wilson(props[i].x, props[i].n, 0.998, &b), 0);
    near(a.lower, props[i].lo95, "lower95_0cl");
    near(a.upper, props[i].up95, "upper95_0cl");
    near(b.lower, props[i].lo998, "lower99_8cl");
    near(b.upper, props[i].up998, "upper99_8cl");
  }
  /* Row 16, as a percentage: 222 of 3,215. */
  tally_interval iv;
  cr_assert_eq(tally_interval_wilson(222, 3215, 0.95, &iv), 0);
  near(iv.lower * 100, 6.0791690363636599, "lower %");
  near(iv.upper * 100, 7.8339566813836328, "upper %");
}

Test(interval, bad_input_is_an_error) {
  tally_interval iv;
  cr_assert_eq(tally_interval_wilson(-1, 10, 0.95, &iv), TALLY_EVALUE);
  cr_assert_eq(tally_interval_wilson(11, 10, 0.95, &iv), TALLY_EVALUE);
  cr_assert_eq(tally_interval_wilson(1, 0, 0.95, &iv), TALLY_EVALUE);
  cr_assert_eq(tally_interval_wilson(NAN, 10, 0.95, &iv), TALLY_EVALUE);
  cr_assert_eq(tally_interval_wilson(1, 10, 1, &iv), TALLY_EVALUE);
  cr_assert_eq(tally_interval_byar(-1, 0.95, &iv), TALLY_EVALUE);
  cr_assert_eq(tally_interval_byar(INFINITY, 0.95, &iv), TALLY_EVALUE);
  cr_assert_eq(tally_interval_poisson(-1, 0.95, &iv), TALLY_EVALUE);
  cr_assert_eq(tally_interval_poisson(NAN, 0.95, &iv), TALLY_EVALUE);
  cr_assert_eq(tally_interval_poisson(5, 0, &iv), TALLY_EVALUE);
}

Test(interval, differ_is_a_z_test_of_the_difference) {
  /* Two counts, 3 sigmas: the year-on-year check's examples (flags.h):
   * 1 after 3 is chance, 40 after 13 is not. */
  cr_assert_eq(tally_interval_differ(1, 1, 3, 3, 3), 0);
  cr_assert_eq(tally_interval_differ(40, 40, 13, 13, 3), 1);
  cr_assert_eq(tally_interval_differ(13, 13, 40, 40, 3), -1);
  /* |d| = z sd exactly is chance: 4 = 2 sqrt(4). */
  cr_assert_eq(tally_interval_differ(4, 2, 0, 2, 2), 0);
  cr_assert_eq(tally_interval_differ(5, 0, 5, 0, 2), 0);
  cr_assert_eq(tally_interval_differ(5, 0, 4, 0, 2), 1); /* no variance */
  cr_assert_eq(tally_interval_differ(NAN, 1, 4, 1, 2), 0);
}

Test(interval, against_a_benchmark) {
  tally_interval iv = {2, 3, 0};
  cr_assert_eq(tally_interval_against(&iv, 1.5), 1);
  cr_assert_eq(tally_interval_against(&iv, 3.5), -1);
  cr_assert_eq(tally_interval_against(&iv, 2), 0);
  cr_assert_eq(tally_interval_against(&iv, 3), 0);
  iv.lower = NAN;
  cr_assert_eq(tally_interval_against(&iv, 1.5), 0);
}
