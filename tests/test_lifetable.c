/* test_lifetable.c: life expectancy at birth by three methods, and WHO
 * SDG 3.4.1, against worked examples; the population threshold; every
 * error.
 *
 * Worked examples, and where they come from:
 * - Chiang II: PUBLISHED. The 20-group (0 ... 90+) deaths and population
 *   of data frame df1 and its expected life expectancies (answer1) in
 *   the UK public-health R package PHEindicatormethods,
 *   tests/testthat/testLifeExpectancy.R (ukhsa-collaboration/
 *   PHEindicatormethods), which implements the PHE life expectancy
 *   calculator's method (Chiang II, a0 = 0.1, 90+ open group).
 * - Coale-Demeny: PUBLISHED. Preston, Heuveline and Guillot, Demography:
 *   Measuring and Modeling Population Processes, Blackwell 2001, ch. 3,
 *   Box 3.1 (Austria, males, 1992; data from the United Nations 1994),
 *   as transcribed with its page (p. 49) in the R package demCore
 *   (ihmeuw-demographics/demCore, data-raw austria_1992_lt). The book's
 *   a0 (0.068) and 4a1 (1.626) follow its table 3.3 male rule; its nax
 *   from age 5 up are the UN's, not n/2, so the whole table is
 *   reproduced with those passed as params.nax, and the n/2 default is
 *   checked against the rows that do not depend on it.
 *   Its 95 % limits (answer1's lowercl and uppercl, Chiang's variance
 *   with Silcocks et al.'s open group) are reproduced to 1e-6 at
 *   every age.
 * - Chinese textbook method: PUBLISHED, of incomplete provenance. The
 *   worked example of a teaching document 卫生统计学_寿命表 (table
 *   16-6), /work/shared/lifetables/cn_textbook_a0_0.15.tsv (its
 *   README says what is known of the source): 18 groups 0 ... 80+, q0 =
 *   D0 / P0, a0 = 0.15; every printed e within 0.01 and L within 5.
 *   A smaller table is also worked by hand, arithmetic in the comments.
 * - SDG 3.4.1: worked by hand (no WHO worked example with numbers was
 *   found), arithmetic in the comments; its interval against the
 *   variance written out group by group.
 */
#include "error.h"
#include "lifetable.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>

/* Computes with the defaults of method m; expects success and a value. */
static tally_lifetable_result run_ok(const tally_lifetable_input *in,
                                     const tally_lifetable_params *p,
                                     tally_lifetable_row *rows) {
  tally_lifetable_result res;
  int rc = tally_lifetable_compute(in, p, &res, rows);
  cr_assert_eq(rc, 0, "compute failed: %d (%s)", rc,
               res.reason ? res.reason : "-");
  cr_assert_eq(res.status, TALLY_LIFETABLE_VALUE);
  cr_assert_eq(res.bad_group, -1);
  cr_assert_null(res.reason);
  return res;
}

/* Expects TALLY_EVALUE naming group g (or -1). */
static void expect_evalue(const tally_lifetable_input *in,
                          const tally_lifetable_params *p, int g) {
  tally_lifetable_result res;
  int rc = tally_lifetable_compute(in, p, &res, NULL);
  cr_assert_eq(rc, TALLY_EVALUE, "expected TALLY_EVALUE, got %d", rc);
  cr_assert_eq(res.bad_group, g, "bad group %d, expected %d", res.bad_group,
               g);
  cr_assert_not_null(res.reason);
  cr_assert(isnan(res.value));
}

/* ---- Chiang II: PHEindicatormethods df1 / answer1 ---- */

static const int phe_start[20] = {0,  1,  5,  10, 15, 20, 25, 30, 35, 40,
                                  45, 50, 55, 60, 65, 70, 75, 80, 85, 90};
static const double phe_pop[20] = {
    7060,  35059, 46974, 48489, 43219, 38561, 46009, 57208, 61435, 55601,
    50209, 56416, 46411, 39820, 37978, 37039, 33288, 23306, 11936, 11936};
static const double phe_deaths[20] = {17,  9,   4,   8,   20,   15,  24,
                                      33,  50,  71,  100, 163,  263, 304,
                                      536, 872, 1390, 1605, 1936, 1937};
/* answer1$value: life expectancy at each age, to 8 decimals. */
static const double phe_ex[20] = {
    80.16960813, 79.36245674, 75.44193645, 70.47299936, 65.52909542,
    60.67510088, 55.78835987, 50.92752727, 46.06740425, 41.24505636,
    36.49322717, 31.83343842, 27.26027992, 22.9719144,  18.76856852,
    14.95858336, 11.51684445, 8.618849241, 6.163942934, 6.16210635};

/* answer1$lowercl and $uppercl: the 95 % limits at each age. */
static const double phe_lower[20] = {
    79.88268548, 79.0898816,  75.17407307, 70.20675732, 65.26548673,
    60.41876577, 55.53801579, 50.68279939, 45.82666794, 41.00842831,
    36.26223216, 31.60996318, 27.04337271, 22.76653134, 18.57570352,
    14.77985004, 11.34831778, 8.451134045, 5.978358351, 5.887683386};
static const double phe_upper[20] = {
    80.45653078, 79.63503188, 75.70979983, 70.7392414,  65.79270412,
    60.931436,   56.03870395, 51.17225516, 46.30814055, 41.48168441,
    36.72422219, 32.05691365, 27.47718713, 23.17729746, 18.96143352,
    15.13731667, 11.68537112, 8.786564437, 6.349527517, 6.436529314};

static tally_lifetable_input phe_input(void) {
  tally_lifetable_input in = {20, phe_start, phe_deaths, phe_pop, 0};
  return in;
}

Test(lifetable, chiang2_reproduces_the_phe_published_example) {
  tally_lifetable_input in = phe_input();
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CHIANG2);
  tally_lifetable_row rows[20];
  tally_lifetable_result res = run_ok(&in, &p, rows);
  cr_assert_float_eq(res.value, 80.16960813, 5e-9);
  cr_assert_float_eq(res.population, 787954, 1e-9);
  for (int i = 0; i < 20; i++)
    cr_assert_float_eq(rows[i].e, phe_ex[i], 5e-8, "e at %d: %.9f",
                       phe_start[i], rows[i].e);
  cr_assert_float_eq(rows[0].a, 0.1, 1e-12);
  cr_assert_float_eq(rows[1].a, 2.0, 1e-12);
  cr_assert_float_eq(rows[2].a, 2.5, 1e-12);
  cr_assert_eq(rows[19].n, 0);
  cr_assert_float_eq(rows[19].q, 1, 0);
  cr_assert_float_eq(rows[19].L, rows[19].l / rows[19].M, 1e-6);
}

Test(lifetable, chiang2_interval_reproduces_the_phe_published_limits) {
  tally_lifetable_input in = phe_input();
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CHIANG2);
  tally_lifetable_row rows[20];
  tally_lifetable_result res = run_ok(&in, &p, rows);
  /* The calculator's z, 1.96: with qnorm(0.975) = 1.959964 the limits
   * differ from the published ones by up to 6e-6 (the package's own
   * test compares them to 4 decimals). */
  double z = 1.96;
  for (int i = 0; i < 20; i++) {
    cr_assert_float_eq(rows[i].e - z * rows[i].se, phe_lower[i], 1e-6,
                       "lower at %d: %.9f", phe_start[i],
                       rows[i].e - z * rows[i].se);
    cr_assert_float_eq(rows[i].e + z * rows[i].se, phe_upper[i], 1e-6,
                       "upper at %d: %.9f", phe_start[i],
                       rows[i].e + z * rows[i].se);
  }
  cr_assert_float_eq(res.lower, phe_lower[0], 1e-6);
  cr_assert_float_eq(res.upper, phe_upper[0], 1e-6);
  cr_assert_float_eq(res.se, rows[0].se, 0);
}

Test(lifetable, an_interval_wider_than_20_years_gives_no_value) {
  /* 300 people in each of 0 ... 90+ (6,000 in all, over the threshold),
   * a death in each group from 1-4 on and 3 at 90+: the open group's
   * e = 1 / M = 100 years rests on 3 deaths, and e0's interval is
   * decades wide. */
  double deaths[20], pop[20];
  for (int i = 0; i < 20; i++)
    pop[i] = 300, deaths[i] = i == 0 ? 0 : 1;
  deaths[19] = 3;
  tally_lifetable_input in = {20, phe_start, deaths, pop, 0};
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CHIANG2);
  tally_lifetable_result res;
  cr_assert_eq(tally_lifetable_compute(&in, &p, &res, NULL), 0);
  cr_assert_eq(res.status, TALLY_LIFETABLE_TOO_WIDE);
  cr_assert(isnan(res.value));
  cr_assert_gt(2 * 1.96 * res.se, 20, "se %g", res.se);
  deaths[19] = 300; /* everyone at 90+ dies: e0 is well determined */
  cr_assert_eq(tally_lifetable_compute(&in, &p, &res, NULL), 0);
  cr_assert_eq(res.status, TALLY_LIFETABLE_VALUE, "se %g", res.se);
}

Test(lifetable, nax_replaces_any_methods_a_group_by_group) {
  tally_lifetable_input in = phe_input();
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CHIANG2);
  double nax[20];
  for (int i = 0; i < 20; i++)
    nax[i] = NAN;
  nax[0] = 0.3;  /* Chiang's fraction 0.3 of the first year */
  nax[5] = 2.0;  /* 0.4 of 20-24 */
  p.nax = nax;
  tally_lifetable_row rows[20];
  run_ok(&in, &p, rows);
  cr_assert_float_eq(rows[0].a, 0.3, 1e-15);
  cr_assert_float_eq(rows[1].a, 2.0, 1e-15); /* the method's 0.5 x 4 */
  cr_assert_float_eq(rows[5].a, 2.0, 1e-15);
  cr_assert_float_eq(rows[6].a, 2.5, 1e-15);
  /* q and L of 20-24 follow the given a. */
  double M = 15.0 / 38561;
  cr_assert_float_eq(rows[5].q, 5 * M / (1 + 3 * M), 1e-15);
  cr_assert_float_eq(rows[5].L, 5 * rows[6].l + 2.0 * rows[5].d, 1e-8);
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CN_TEXTBOOK);
  p.nax = nax; /* for the textbook method too: L0 = l1 + 0.3 d0 */
  in.births = 7060;
  run_ok(&in, &p, rows);
  cr_assert_float_eq(rows[0].L, rows[1].l + 0.3 * rows[0].d, 1e-8);
}

Test(lifetable, chiang2_fractions_are_parameters) {
  tally_lifetable_input in = phe_input();
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CHIANG2);
  p.chiang_a0 = 0.3;
  p.chiang_a = 0.4;
  tally_lifetable_row rows[20];
  tally_lifetable_result res = run_ok(&in, &p, rows);
  cr_assert_float_eq(rows[0].a, 0.3, 1e-12);
  cr_assert_float_eq(rows[1].a, 1.6, 1e-12);
  cr_assert_float_eq(rows[5].a, 2.0, 1e-12);
  /* Dying earlier in each group can only shorten life. */
  cr_assert_lt(res.value, 80.16960813);
}

/* ---- Coale-Demeny: PHG Box 3.1, Austria males 1992 ---- */

static const int aut_start[19] = {0,  1,  5,  10, 15, 20, 25, 30, 35, 40,
                                  45, 50, 55, 60, 65, 70, 75, 80, 85};
static const double aut_pop[19] = {
    47925,  189127, 234793, 238790, 254996, 326831, 355086,
    324222, 269963, 261971, 238011, 261612, 181385, 187962,
    153832, 105169, 73694,  57512,  32248};
static const double aut_deaths[19] = {419,  70,   36,   46,   249,  420,  403,
                                      441,  508,  769,  1154, 1866, 2043, 3496,
                                      4366, 4337, 5279, 6460, 6146};
/* The book's nax (years); those from age 5 up are the UN's. */
static const double aut_nax[19] = {0.068, 1.626, 2.5,   3.143, 2.724,
                                   2.520, 2.481, 2.601, 2.701, 2.663,
                                   2.698, 2.676, 2.645, 2.624, 2.619,
                                   2.593, 2.518, 2.423, 5.247};
static const double aut_lx[19] = {100000, 99133, 98986, 98910, 98815,
                                  98334,  97704, 97151, 96492, 95588,
                                  94195,  91937, 88711, 83845, 76377,
                                  66225,  53803, 37441, 21134};
static const double aut_dx[19] = {867,   147,   76,    95,    481,
                                  630,   553,   659,   904,   1393,
                                  2258,  3225,  4867,  7467,  10152,
                                  12422, 16362, 16307, 21134};
static const double aut_Lx[19] = {
    99192,  396183, 494741, 494375, 492980, 490106, 487127,
    484175, 480384, 474686, 465777, 452188, 432096, 401480,
    357713, 301224, 228404, 145182, 110889};

static tally_lifetable_input aut_input(void) {
  tally_lifetable_input in = {19, aut_start, aut_deaths, aut_pop, 0};
  return in;
}

Test(lifetable, coale_demeny_reproduces_phg_box_3_1) {
  tally_lifetable_input in = aut_input();
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_COALE_DEMENY);
  p.sex = TALLY_LIFETABLE_MALE;
  p.nax = aut_nax;
  tally_lifetable_row rows[19];
  tally_lifetable_result res = run_ok(&in, &p, rows);
  /* The book prints a to 3 decimals, l, d and L as whole numbers. */
  for (int i = 0; i < 19; i++) {
    cr_assert_float_eq(rows[i].a, aut_nax[i], 5e-4, "a at %d", aut_start[i]);
    cr_assert_float_eq(rows[i].l, aut_lx[i], 0.5, "l at %d", aut_start[i]);
    cr_assert_float_eq(rows[i].d, aut_dx[i], 0.5, "d at %d", aut_start[i]);
    cr_assert_float_eq(rows[i].L, aut_Lx[i], 0.5, "L at %d", aut_start[i]);
  }
  /* e0 = T0 / l0, T0 the sum of the printed nLx = 7,288,902. */
  cr_assert_float_eq(res.value, 72.88902, 5e-4);
}

Test(lifetable, coale_demeny_default_matches_box_3_1_rows_0_and_1) {
  tally_lifetable_input in = aut_input();
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_COALE_DEMENY);
  p.sex = TALLY_LIFETABLE_MALE;
  tally_lifetable_row rows[19];
  run_ok(&in, &p, rows);
  /* 1M0 = 419 / 47925 = 0.0087428 < 0.107, so
   * a0 = 0.045 + 2.684 x 0.0087428 = 0.06847 and
   * 4a1 = 1.651 - 2.816 x 0.0087428 = 1.62638: the book's 0.068, 1.626. */
  cr_assert_float_eq(rows[0].M, 419.0 / 47925.0, 1e-15);
  cr_assert_float_eq(rows[0].a, 0.045 + 2.684 * (419.0 / 47925.0), 1e-12);
  cr_assert_float_eq(rows[0].a, 0.068, 5e-4);
  cr_assert_float_eq(rows[1].a, 1.626, 5e-4);
  /* l1, l5, 1L0, 4L1 depend only on those: the book's values. */
  for (int i = 0; i < 2; i++) {
    cr_assert_float_eq(rows[i + 1].l, aut_lx[i + 1], 0.5);
    cr_assert_float_eq(rows[i].L, aut_Lx[i], 0.5);
  }
  for (int i = 2; i < 18; i++)
    cr_assert_float_eq(rows[i].a, 2.5, 0);
  /* Open group: a = 1 / M = 32248 / 6146 = 5.247, as printed. */
  cr_assert_float_eq(rows[18].a, 5.247, 5e-4);
}

/* Two groups, 0 and 1+ (open), to look at the a0/4a1 rules alone. */
static tally_lifetable_row cd_rows(tally_lifetable_sex sex, double m0) {
  static const int start[2] = {0, 1};
  double deaths[2] = {m0 * 100000, 1000};
  double pop[2] = {100000, 100000};
  tally_lifetable_input in = {2, start, deaths, pop, 0};
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_COALE_DEMENY);
  p.sex = sex;
  tally_lifetable_row rows[2];
  run_ok(&in, &p, rows);
  return rows[0];
}

Test(lifetable, coale_demeny_rules_follow_phg_table_3_3) {
  /* Low mortality, 1M0 = 0.02. */
  cr_assert_float_eq(cd_rows(TALLY_LIFETABLE_MALE, 0.02).a,
                     0.045 + 2.684 * 0.02, 1e-12);           /* 0.09868 */
  cr_assert_float_eq(cd_rows(TALLY_LIFETABLE_FEMALE, 0.02).a,
                     0.053 + 2.800 * 0.02, 1e-12);           /* 0.109 */
  /* High mortality, 1M0 = 0.107 and above: constants. */
  cr_assert_float_eq(cd_rows(TALLY_LIFETABLE_MALE, 0.107).a, 0.330, 1e-12);
  cr_assert_float_eq(cd_rows(TALLY_LIFETABLE_FEMALE, 0.2).a, 0.350, 1e-12);
  /* Both sexes: (1.05 x male + female) / 2.05 at 1M0 = 0.02:
   * (1.05 x 0.09868 + 0.109) / 2.05 = 0.1036224... */
  cr_assert_float_eq(cd_rows(TALLY_LIFETABLE_BOTH, 0.02).a,
                     (1.05 * 0.09868 + 0.109) / 2.05, 1e-12);
}

Test(lifetable, coale_demeny_4a1_rules_follow_phg_table_3_3) {
  static const int start[3] = {0, 1, 5};
  double pop[3] = {100000, 100000, 100000};
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_COALE_DEMENY);
  tally_lifetable_row rows[3];
  struct { tally_lifetable_sex sex; double m0, a1; } cases[] = {
      {TALLY_LIFETABLE_MALE, 0.02, 1.651 - 2.816 * 0.02},
      {TALLY_LIFETABLE_FEMALE, 0.02, 1.522 - 1.518 * 0.02},
      {TALLY_LIFETABLE_MALE, 0.15, 1.352},
      {TALLY_LIFETABLE_FEMALE, 0.15, 1.361},
      {TALLY_LIFETABLE_BOTH, 0.15, (1.05 * 1.352 + 1.361) / 2.05},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    double deaths[3] = {cases[i].m0 * 100000, 100, 5000};
    tally_lifetable_input in = {3, start, deaths, pop, 0};
    p.sex = cases[i].sex;
    run_ok(&in, &p, rows);
    cr_assert_float_eq(rows[1].a, cases[i].a1, 1e-12, "case %zu", i);
  }
}

/* ---- Chinese textbook method: worked by hand ---- */

/* Groups 0, 1-4, 5-9, 10+ (open); 1,000 live births. */
static const int cn_start[4] = {0, 1, 5, 10};
static const double cn_pop[4] = {1000, 4000, 5000, 40000};
static const double cn_deaths[4] = {10, 4, 5, 800};

Test(lifetable, cn_textbook_matches_a_table_worked_by_hand) {
  tally_lifetable_input in = {4, cn_start, cn_deaths, cn_pop, 1000};
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CN_TEXTBOOK);
  tally_lifetable_row r[4];
  tally_lifetable_result res = run_ok(&in, &p, r);
  /* Age 0: q0 = 10 / 1000 births = 0.01; d0 = 1000; l1 = 99000;
   * L0 = l1 + 0.15 d0 = 99000 + 150 = 99150. */
  cr_assert_float_eq(r[0].q, 0.01, 1e-15);
  cr_assert_float_eq(r[0].d, 1000, 1e-9);
  cr_assert_float_eq(r[0].L, 99150, 1e-9);
  cr_assert_float_eq(r[0].a, 0.15, 0);
  /* 1-4: M = 4/4000 = 0.001; q = 2x4x0.001 / (2 + 4x0.001) = 0.008/2.004
   * = 0.003992016; d = 99000 q = 395.209581; l5 = 98604.790419;
   * L = 4 (99000 + 98604.790419) / 2 = 395209.580838. */
  cr_assert_float_eq(r[1].l, 99000, 1e-9);
  cr_assert_float_eq(r[1].q, 0.008 / 2.004, 1e-15);
  cr_assert_float_eq(r[1].d, 395.209581, 1e-6);
  cr_assert_float_eq(r[1].L, 395209.580838, 1e-6);
  /* 5-9: M = 5/5000 = 0.001; q = 2x5x0.001 / (2 + 5x0.001) = 0.01/2.005
   * = 0.004987531; d = 98604.790419 q = 491.794466; l10 = 98112.995953;
   * L = 5 (98604.790419 + 98112.995953) / 2 = 491794.465931. */
  cr_assert_float_eq(r[2].l, 98604.790419, 1e-6);
  cr_assert_float_eq(r[2].q, 0.01 / 2.005, 1e-15);
  cr_assert_float_eq(r[2].L, 491794.465931, 1e-6);
  /* 10+: M = 800/40000 = 0.02; L = l10 / M = 4905649.797662; e10 = 50. */
  cr_assert_float_eq(r[3].l, 98112.995953, 1e-6);
  cr_assert_float_eq(r[3].L, 4905649.797662, 1e-5);
  cr_assert_float_eq(r[3].e, 50, 1e-12);
  /* T0 = 4905649.797662 + 491794.465931 + 395209.580838 + 99150
   *    = 5891803.844431; e0 = T0 / 100000 = 58.91803844. */
  cr_assert_float_eq(r[0].T, 5891803.844431, 1e-5);
  cr_assert_float_eq(res.value, 58.91803844, 1e-8);
  cr_assert_float_eq(r[1].e, 5792653.844431 / 99000, 1e-9); /* 58.51165 */
}

Test(lifetable, cn_textbook_q0_uses_births_not_population_aged_0) {
  double pop[4] = {1000, 4000, 5000, 40000};
  tally_lifetable_input in = {4, cn_start, cn_deaths, pop, 1000};
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CN_TEXTBOOK);
  tally_lifetable_row r[4];
  double e0 = run_ok(&in, &p, r).value;
  pop[0] = 900; /* fewer infants counted at mid-year: q0 is unchanged */
  cr_assert_float_eq(run_ok(&in, &p, r).value, e0, 1e-12);
  cr_assert_float_eq(r[0].q, 0.01, 1e-15);
  cr_assert_float_eq(r[0].M, 10.0 / 900, 1e-15);
  in.births = 2000; /* twice the births: half the infant mortality */
  run_ok(&in, &p, r);
  cr_assert_float_eq(r[0].q, 0.005, 1e-15);
}

Test(lifetable, cn_textbook_a0_is_a_parameter) {
  tally_lifetable_input in = {4, cn_start, cn_deaths, cn_pop, 1000};
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CN_TEXTBOOK);
  p.cn_a0 = 0.3;
  tally_lifetable_row r[4];
  tally_lifetable_result res = run_ok(&in, &p, r);
  /* L0 = 99000 + 0.3 x 1000 = 99300: e0 up by 150 / 100000. */
  cr_assert_float_eq(r[0].L, 99300, 1e-9);
  cr_assert_float_eq(res.value, 58.91803844 + 0.0015, 1e-8);
}

/* ---- Chinese textbook method: the worked example of 卫生统计学_寿命表 ---- */

/* /work/shared/lifetables/cn_textbook_a0_0.15.tsv (table 16-6 of the
 * teaching document; see the file's README for what is known of it):
 * mid-year population and deaths by group [input], and the printed L
 * and e [published]. The printed T0 is 7,145,634. */
static const int tb_start[18] = {0,  1,  5,  10, 15, 20, 25, 30, 35,
                                 40, 45, 50, 55, 60, 65, 70, 75, 80};
static const double tb_pop[18] = {21865,  44255, 76411, 98446, 113452, 127784,
                                  118925, 99523, 76224, 59686, 66580,  55413,
                                  44331,  33294, 29448, 18686, 10282,  8984};
static const double tb_deaths[18] = {256, 58,  45,   60,  96,  131,
                                     128, 100, 92,   135, 252, 356,
                                     682, 888, 1025, 956, 998, 1023};
static const double tb_L[18] = {99005,  394282, 490838, 489370, 487595, 485320,
                                482775, 480268, 477620, 473503, 466413, 454698,
                                430825, 388360, 333450, 269913, 189425, 251974};
static const double tb_e[18] = {71.46, 71.30, 67.67, 62.86, 58.04, 53.28,
                                48.54, 43.79, 38.99, 34.22, 29.58, 25.09,
                                20.83, 17.30, 14.41, 11.68, 9.38,  8.78};

Test(lifetable, cn_textbook_reproduces_the_textbook_worked_example) {
  /* q0 = D0 / P0: the textbook's own convention, births = population
   * aged 0 (what the catalog's params q0 "population" passes). */
  tally_lifetable_input in = {18, tb_start, tb_deaths, tb_pop, tb_pop[0]};
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CN_TEXTBOOK);
  tally_lifetable_row r[18];
  tally_lifetable_result res = run_ok(&in, &p, r);
  for (int i = 0; i < 18; i++) {
    cr_assert(fabs(r[i].e - tb_e[i]) <= 0.01, "e at %d: %.4f, printed %.2f",
              tb_start[i], r[i].e, tb_e[i]);
    cr_assert(fabs(r[i].L - tb_L[i]) <= 5, "L at %d: %.1f, printed %.0f",
              tb_start[i], r[i].L, tb_L[i]);
  }
  cr_assert(fabs(r[0].T - 7145634) <= 10, "T0 %.1f", r[0].T);
  cr_assert(fabs(res.value - 71.46) <= 0.005, "e0 %.4f", res.value);
  /* The textbook's steps: q0 = 256 / 21865, L0 = l1 + 0.15 d0, the open
   * group L = l / M. */
  cr_assert_float_eq(r[0].q, 256.0 / 21865, 1e-15);
  cr_assert_float_eq(r[0].L, r[1].l + 0.15 * r[0].d, 1e-8);
  cr_assert_float_eq(r[17].L, r[17].l / (1023.0 / 8984), 1e-8);
}

/* ---- Shared behaviour ---- */

Test(lifetable, rows_are_optional) {
  tally_lifetable_input in = phe_input();
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CHIANG2);
  cr_assert_float_eq(run_ok(&in, &p, NULL).value, 80.16960813, 5e-9);
}

Test(lifetable, zero_deaths_in_a_closed_group_are_fine) {
  double deaths[20], pop[20];
  for (int i = 0; i < 20; i++)
    deaths[i] = phe_deaths[i], pop[i] = phe_pop[i];
  deaths[2] = 0; /* no deaths at 5-9 */
  tally_lifetable_input in = {20, phe_start, deaths, pop, 0};
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CHIANG2);
  tally_lifetable_row rows[20];
  tally_lifetable_result res = run_ok(&in, &p, rows);
  cr_assert_float_eq(rows[2].q, 0, 0);
  cr_assert_float_eq(rows[2].L, 5 * rows[2].l, 1e-6);
  cr_assert_gt(res.value, 80.16960813);
  /* A group without deaths adds nothing to the variance. */
  cr_assert_float_eq(rows[2].se * rows[2].l, rows[3].se * rows[3].l, 1e-9);
}

Test(lifetable, a_group_with_no_population_is_an_error_naming_it) {
  double deaths[20], pop[20];
  for (int i = 0; i < 20; i++)
    deaths[i] = phe_deaths[i], pop[i] = phe_pop[i];
  deaths[3] = 0, pop[3] = 0; /* nobody at all at 10-14: not counted */
  tally_lifetable_input in = {20, phe_start, deaths, pop, 0};
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CHIANG2);
  expect_evalue(&in, &p, 3);
}

Test(lifetable, every_method_accepts_80_85_and_90_plus) {
  static const tally_lifetable_method methods[] = {
      TALLY_LIFETABLE_CHIANG2, TALLY_LIFETABLE_COALE_DEMENY,
      TALLY_LIFETABLE_CN_TEXTBOOK};
  for (size_t m = 0; m < 3; m++)
    for (int k = 18; k <= 20; k++) { /* open group at 80, 85, 90 */
      double deaths[20], pop[20];
      for (int i = 0; i < k; i++)
        deaths[i] = phe_deaths[i], pop[i] = phe_pop[i];
      for (int i = k; i < 20; i++) /* fold older groups into the open one */
        deaths[k - 1] += phe_deaths[i], pop[k - 1] += phe_pop[i];
      tally_lifetable_input in = {k, phe_start, deaths, pop, 7100};
      tally_lifetable_params p;
      tally_lifetable_params_default(&p, methods[m]);
      double e0 = run_ok(&in, &p, NULL).value;
      cr_assert(e0 > 78 && e0 < 82, "method %d, %d groups: e0 %f",
                (int)methods[m], k, e0);
    }
}

/* ---- The population threshold ---- */

Test(lifetable, too_small_a_population_gives_no_value) {
  static const int start[3] = {0, 1, 5};
  double deaths[3] = {1, 1, 400};
  double pop[3] = {50, 200, 4750}; /* 5,000 in all: too small */
  tally_lifetable_input in = {3, start, deaths, pop, 50};
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CHIANG2);
  tally_lifetable_row rows[3];
  rows[0].e = -1; /* sentinel: must stay untouched */
  tally_lifetable_result res;
  cr_assert_eq(tally_lifetable_compute(&in, &p, &res, rows), 0);
  cr_assert_eq(res.status, TALLY_LIFETABLE_TOO_SMALL);
  cr_assert(isnan(res.value));
  cr_assert_float_eq(res.population, 5000, 0);
  cr_assert_float_eq(rows[0].e, -1, 0);

  pop[2] = 4751; /* 5,001: over the threshold there is a value */
  cr_assert_eq(tally_lifetable_compute(&in, &p, &res, rows), 0);
  cr_assert_eq(res.status, TALLY_LIFETABLE_VALUE);
  cr_assert(isfinite(res.value));

  p.min_population = 10000; /* the threshold is a parameter */
  cr_assert_eq(tally_lifetable_compute(&in, &p, &res, rows), 0);
  cr_assert_eq(res.status, TALLY_LIFETABLE_TOO_SMALL);
}

Test(lifetable, a_small_population_without_deaths_is_too_small_not_an_error) {
  static const int start[3] = {0, 1, 5};
  double deaths[3] = {0, 0, 0};
  double pop[3] = {10, 40, 300};
  tally_lifetable_input in = {3, start, deaths, pop, 10};
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_COALE_DEMENY);
  tally_lifetable_result res;
  cr_assert_eq(tally_lifetable_compute(&in, &p, &res, NULL), 0);
  cr_assert_eq(res.status, TALLY_LIFETABLE_TOO_SMALL);
}

/* ---- Errors ---- */

Test(lifetable, rejects_fewer_than_two_groups) {
  tally_lifetable_input in = phe_input();
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CHIANG2);
  in.n_groups = 1;
  expect_evalue(&in, &p, -1);
  in.n_groups = 0;
  expect_evalue(&in, &p, -1);
  in.n_groups = -3;
  expect_evalue(&in, &p, -1);
  in.n_groups = TALLY_LIFETABLE_MAX_GROUPS + 1;
  expect_evalue(&in, &p, -1);
}

Test(lifetable, rejects_wrong_or_unsorted_group_starts) {
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CHIANG2);
  double deaths[5] = {1, 1, 1, 1, 100}, pop[5] = {1e3, 4e3, 5e3, 5e3, 5e4};
  struct { int start[5]; int bad; } cases[] = {
      {{1, 5, 10, 15, 20}, 0},  /* no group 0 */
      {{0, 5, 10, 15, 20}, 1},  /* 0-4 together */
      {{0, 1, 10, 5, 15}, 2},   /* unsorted */
      {{0, 1, 5, 15, 20}, 3},   /* a gap */
      {{0, 1, 5, 10, 10}, 4},   /* a repeat */
      {{0, 1, 5, 10, 20}, 4},   /* open group too late */
      {{0, 1, 2, 3, 4}, 2},     /* single years */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tally_lifetable_input in = {5, cases[i].start, deaths, pop, 0};
    expect_evalue(&in, &p, cases[i].bad);
  }
}

/* Runs phe data with one value changed; expects TALLY_EVALUE at g. */
static void expect_bad_value(tally_lifetable_method m, int g, double d,
                             double pop) {
  double deaths[20], pops[20];
  for (int i = 0; i < 20; i++)
    deaths[i] = phe_deaths[i], pops[i] = phe_pop[i];
  deaths[g] = d;
  pops[g] = pop;
  tally_lifetable_input in = {20, phe_start, deaths, pops, 7100};
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, m);
  expect_evalue(&in, &p, g);
}

Test(lifetable, rejects_negative_and_non_finite_counts) {
  expect_bad_value(TALLY_LIFETABLE_CHIANG2, 3, -5, 48489);
  expect_bad_value(TALLY_LIFETABLE_CHIANG2, 3, 8, -10);
  expect_bad_value(TALLY_LIFETABLE_COALE_DEMENY, 0, NAN, 7060);
  expect_bad_value(TALLY_LIFETABLE_CN_TEXTBOOK, 19, 1937, INFINITY);
}

Test(lifetable, rejects_deaths_without_population) {
  expect_bad_value(TALLY_LIFETABLE_CHIANG2, 5, 15, 0);
  expect_bad_value(TALLY_LIFETABLE_COALE_DEMENY, 0, 17, 0);
  expect_bad_value(TALLY_LIFETABLE_CN_TEXTBOOK, 19, 1937, 0);
}

Test(lifetable, rejects_more_deaths_than_population) {
  expect_bad_value(TALLY_LIFETABLE_CHIANG2, 18, 1936, 119);
  expect_bad_value(TALLY_LIFETABLE_CN_TEXTBOOK, 1, 100, 99);
}

Test(lifetable, rejects_an_open_group_without_deaths) {
  expect_bad_value(TALLY_LIFETABLE_CHIANG2, 19, 0, 11936);
  expect_bad_value(TALLY_LIFETABLE_COALE_DEMENY, 19, 0, 0);
}

Test(lifetable, rejects_a_death_rate_that_would_make_q_exceed_1) {
  /* 5-9: M = 0.5 > 1 / 2.5, so q = 2.5 / 2.25 > 1. */
  expect_bad_value(TALLY_LIFETABLE_CHIANG2, 2, 23487, 46974);
}

Test(lifetable, cn_textbook_needs_births_above_infant_deaths) {
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CN_TEXTBOOK);
  tally_lifetable_input in = {4, cn_start, cn_deaths, cn_pop, 0};
  expect_evalue(&in, &p, 0); /* no births given */
  in.births = -1;
  expect_evalue(&in, &p, 0);
  in.births = NAN;
  expect_evalue(&in, &p, 0);
  in.births = 9; /* fewer than the 10 infant deaths */
  expect_evalue(&in, &p, 0);
  in.births = 10; /* q0 = 1 is possible, if grim */
  run_ok(&in, &p, NULL);
}

Test(lifetable, data_errors_come_before_the_threshold) {
  static const int start[3] = {0, 1, 5};
  double deaths[3] = {1, -1, 5};
  double pop[3] = {10, 40, 300};
  tally_lifetable_input in = {3, start, deaths, pop, 10};
  tally_lifetable_params p;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CHIANG2);
  expect_evalue(&in, &p, 1);
}

Test(lifetable, rejects_bad_arguments_with_einval) {
  tally_lifetable_input in = phe_input();
  tally_lifetable_params p;
  tally_lifetable_result res;
  tally_lifetable_params_default(&p, TALLY_LIFETABLE_CHIANG2);
  cr_assert_eq(tally_lifetable_compute(NULL, &p, &res, NULL), -EINVAL);
  cr_assert_eq(tally_lifetable_compute(&in, NULL, &res, NULL), -EINVAL);
  cr_assert_eq(tally_lifetable_compute(&in, &p, NULL, NULL), -EINVAL);
  in.deaths = NULL;
  cr_assert_eq(tally_lifetable_compute(&in, &p, &res, NULL), -EINVAL);
  in = phe_input();

  tally_lifetable_params bad = p;
  bad.method = 0;
  cr_assert_eq(tally_lifetable_compute(&in, &bad, &res, NULL), -EINVAL);
  bad = p;
  bad.chiang_a0 = 1.5;
  cr_assert_eq(tally_lifetable_compute(&in, &bad, &res, NULL), -EINVAL);
  bad = p;
  bad.min_population = -1;
  cr_assert_eq(tally_lifetable_compute(&in, &bad, &res, NULL), -EINVAL);
  tally_lifetable_params_default(&bad, TALLY_LIFETABLE_COALE_DEMENY);
  bad.sex = 7;
  cr_assert_eq(tally_lifetable_compute(&in, &bad, &res, NULL), -EINVAL);
  tally_lifetable_params_default(&bad, TALLY_LIFETABLE_COALE_DEMENY);
  bad.srb = 0;
  cr_assert_eq(tally_lifetable_compute(&in, &bad, &res, NULL), -EINVAL);
  double nax[20];
  for (int i = 0; i < 20; i++)
    nax[i] = 2.5;
  nax[0] = 0.1, nax[1] = 1.5;
  nax[7] = 6; /* longer than the group */
  tally_lifetable_params_default(&bad, TALLY_LIFETABLE_COALE_DEMENY);
  bad.nax = nax;
  cr_assert_eq(tally_lifetable_compute(&in, &bad, &res, NULL), -EINVAL);
  tally_lifetable_params_default(&bad, TALLY_LIFETABLE_CN_TEXTBOOK);
  bad.cn_a0 = -0.1;
  cr_assert_eq(tally_lifetable_compute(&in, &bad, &res, NULL), -EINVAL);
}

/* ---- SDG 3.4.1: worked by hand ---- */

Test(sdg341, matches_a_probability_worked_by_hand) {
  /* 10,000 people in each group 30-34 ... 65-69; deaths from the four
   * NCDs 10, 15, 20, 30, 45, 70, 100, 150, so 5M = 0.001, 0.0015,
   * 0.002, 0.003, 0.0045, 0.007, 0.01, 0.015 and 5q = 5M / (1 + 2.5M):
   *   0.005/1.0025   = 0.004987531   0.0075/1.00375 = 0.007471980
   *   0.01/1.005     = 0.009950249   0.015/1.0075   = 0.014888337
   *   0.0225/1.01125 = 0.022249691   0.035/1.0175   = 0.034398034
   *   0.05/1.025     = 0.048780488   0.075/1.0375   = 0.072289157
   * The product of (1 - 5q) is 0.802478240, so 40q30 = 19.7521760 %. */
  double deaths[8] = {10, 15, 20, 30, 45, 70, 100, 150};
  double pop[8] = {1e4, 1e4, 1e4, 1e4, 1e4, 1e4, 1e4, 1e4};
  tally_lifetable_result res;
  cr_assert_eq(tally_sdg341_compute(deaths, pop,
                                    TALLY_LIFETABLE_MIN_POPULATION, &res), 0);
  cr_assert_eq(res.status, TALLY_LIFETABLE_VALUE);
  cr_assert_float_eq(res.value, 19.7521760, 5e-7);
  cr_assert_float_eq(res.population, 80000, 0);
  double survive = (1 - 0.005 / 1.0025) * (1 - 0.0075 / 1.00375) *
                   (1 - 0.01 / 1.005) * (1 - 0.015 / 1.0075) *
                   (1 - 0.0225 / 1.01125) * (1 - 0.035 / 1.0175) *
                   (1 - 0.05 / 1.025) * (1 - 0.075 / 1.0375);
  cr_assert_float_eq(res.value, 100 * (1 - survive), 1e-12);
}

Test(sdg341, no_deaths_is_zero_percent) {
  double deaths[8] = {0};
  double pop[8] = {1e4, 1e4, 1e4, 1e4, 1e4, 1e4, 1e4, 1e4};
  tally_lifetable_result res;
  cr_assert_eq(tally_sdg341_compute(deaths, pop, 0, &res), 0);
  cr_assert_float_eq(res.value, 0, 0);
  cr_assert_float_eq(res.lower, 0, 0);
  cr_assert_float_eq(res.upper, 0, 0);
}

Test(sdg341, no_population_gives_no_value_never_0_percent) {
  double deaths[8] = {0}, pop[8] = {0};
  tally_lifetable_result res;
  cr_assert_eq(tally_sdg341_compute(deaths, pop, 0, &res), TALLY_EVALUE);
  cr_assert(isnan(res.value));
  cr_assert_eq(res.bad_group, 0);
  cr_assert_eq(tally_sdg341_compute(deaths, pop,
                                    TALLY_LIFETABLE_MIN_POPULATION, &res),
               TALLY_EVALUE);
  cr_assert(isnan(res.value));
  /* One group without population, the others full: an error naming it. */
  for (int i = 0; i < 8; i++)
    pop[i] = 1e4;
  pop[6] = 0;
  cr_assert_eq(tally_sdg341_compute(deaths, pop, 0, &res), TALLY_EVALUE);
  cr_assert_eq(res.bad_group, 6);
}

Test(sdg341, interval_is_chiangs_for_a_probability_over_several_groups) {
  /* The hand-worked table above: 5q and 1 - 5q by group, D by group.
   * Var(40q30) = 40p30^2 x sum of 5q^2 / ((1 - 5q) D):
   *   0.004987531^2 / (0.995012469 x 10)  = 2.50002e-6
   *   0.007471980^2 / (0.992528020 x 15)  = 3.75001e-6 ... and so on;
   * written out in full below rather than summed by hand. */
  double deaths[8] = {10, 15, 20, 30, 45, 70, 100, 150};
  double pop[8] = {1e4, 1e4, 1e4, 1e4, 1e4, 1e4, 1e4, 1e4};
  double q[8], S = 1, sum = 0;
  for (int i = 0; i < 8; i++) {
    double m = deaths[i] / pop[i];
    q[i] = 5 * m / (1 + 2.5 * m);
    S *= 1 - q[i];
    sum += q[i] * q[i] / ((1 - q[i]) * deaths[i]);
  }
  tally_lifetable_result res;
  cr_assert_eq(tally_sdg341_compute(deaths, pop, 0, &res), 0);
  double se = 100 * S * sqrt(sum);
  cr_assert_float_eq(res.se, se, 1e-12);
  cr_assert_float_eq(res.lower, res.value - 1.96 * se, 1e-9);
  cr_assert_float_eq(res.upper, res.value + 1.96 * se, 1e-9);
  /* By hand: the eight terms are 2.500016e-6, 3.750053e-6,
   * 5.000125e-6, 7.500422e-6, 1.125142e-5, 1.750536e-5, 2.501563e-5,
   * 3.755281e-5, summing to 1.1007584e-4; se = 100 x 0.80247824 x
   * sqrt(1.1007584e-4) = 0.841936 points. */
  cr_assert_float_eq(se, 0.841936, 1e-6, "se %.6f", se);

  /* With deaths in one group alone, 40q30 is that group's 5q and its
   * variance Chiang's q^2 (1 - q) / D. */
  double one[8] = {0, 0, 0, 50, 0, 0, 0, 0};
  cr_assert_eq(tally_sdg341_compute(one, pop, 0, &res), 0);
  double q3 = 0.025 / 1.0125;
  cr_assert_float_eq(res.value, 100 * q3, 1e-12);
  cr_assert_float_eq(res.se, 100 * sqrt(q3 * q3 * (1 - q3) / 50), 1e-12);
}

Test(sdg341, too_small_a_population_gives_no_value) {
  double deaths[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  double pop[8] = {600, 600, 600, 600, 600, 600, 600, 800}; /* 5,000 */
  tally_lifetable_result res;
  cr_assert_eq(tally_sdg341_compute(deaths, pop,
                                    TALLY_LIFETABLE_MIN_POPULATION, &res), 0);
  cr_assert_eq(res.status, TALLY_LIFETABLE_TOO_SMALL);
  cr_assert(isnan(res.value));
  pop[7] = 801;
  cr_assert_eq(tally_sdg341_compute(deaths, pop,
                                    TALLY_LIFETABLE_MIN_POPULATION, &res), 0);
  cr_assert_eq(res.status, TALLY_LIFETABLE_VALUE);
  pop[7] = 100; /* 4,300 in all, but the rule is off */
  cr_assert_eq(tally_sdg341_compute(deaths, pop, 0, &res), 0);
  cr_assert_eq(res.status, TALLY_LIFETABLE_VALUE);
}

static void sdg_expect_evalue(int g, double d, double pop) {
  double deaths[8] = {10, 15, 20, 30, 45, 70, 100, 150};
  double pops[8] = {1e4, 1e4, 1e4, 1e4, 1e4, 1e4, 1e4, 1e4};
  deaths[g] = d;
  pops[g] = pop;
  tally_lifetable_result res;
  cr_assert_eq(tally_sdg341_compute(deaths, pops, 0, &res), TALLY_EVALUE);
  cr_assert_eq(res.bad_group, g);
  cr_assert_not_null(res.reason);
  cr_assert(isnan(res.value));
}

Test(sdg341, rejects_bad_counts) {
  sdg_expect_evalue(0, -1, 1e4);       /* negative deaths */
  sdg_expect_evalue(1, 15, -1e4);      /* negative population */
  sdg_expect_evalue(2, NAN, 1e4);      /* not a number */
  sdg_expect_evalue(3, 30, 0);         /* deaths without population */
  sdg_expect_evalue(4, 2e4, 1e4);      /* more deaths than population */
  sdg_expect_evalue(7, 5000, 1e4);     /* 5M = 0.5: 5q would exceed 1 */
}

Test(sdg341, rejects_bad_arguments_with_einval) {
  double d[8] = {0}, p[8] = {0};
  tally_lifetable_result res;
  cr_assert_eq(tally_sdg341_compute(NULL, p, 0, &res), -EINVAL);
  cr_assert_eq(tally_sdg341_compute(d, NULL, 0, &res), -EINVAL);
  cr_assert_eq(tally_sdg341_compute(d, p, 0, NULL), -EINVAL);
  cr_assert_eq(tally_sdg341_compute(d, p, -1, &res), -EINVAL);
  cr_assert_eq(tally_sdg341_compute(d, p, NAN, &res), -EINVAL);
}
