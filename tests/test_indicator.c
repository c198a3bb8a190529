/* test_indicator.c: indicator values from sums of raw figures, and the
 * targets they are judged against. */
#include "catalog.h"
#include "fixture.h"
#include "error.h"
#include "figures.h"
#include "indicator.h"
#include "period.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The tree: d (root) -> m -> {a, b}, and d -> c. Reporting units: a, b,
 * c. Written with ' for ", swapped back before loading. */
#define IND(code, rest)                                                    \
  "{'code':'" code "','plan':'p','name_zh':'率','name_en':'R','unit':'u',"  \
  "'source':'s'," rest "}"
#define TOTAL_POP(code, op)                                                \
  IND(code, "'kind':'total','element':'pop','direction':'up',"            \
            "'targets':[{'year':2022,'op':'" op "','value':10}]")

static const char catalog_json[] =
    "{'format':'tally-catalog/1','name':'t',"
    "'units':["
    " {'code':'d','name_zh':'区','name_en':'D','level':'district'},"
    " {'code':'m','parent':'d','name_zh':'中','name_en':'M','level':'subdistrict'},"
    " {'code':'a','parent':'m','name_zh':'甲','name_en':'A','level':'town'},"
    " {'code':'b','parent':'m','name_zh':'乙','name_en':'B','level':'town'},"
    " {'code':'c','parent':'d','name_zh':'丙','name_en':'C','level':'town'}],"
    "'plans':[{'code':'p','name_zh':'规划','name_en':'P','start_year':2021}],"
    "'data_elements':["
    " {'code':'births','name_zh':'活产','name_en':'B','unit':'persons','type':'count'},"
    " {'code':'deaths','name_zh':'死亡','name_en':'D','unit':'persons','type':'count'},"
    " {'code':'pop','name_zh':'人口','name_en':'P','unit':'persons','type':'count'}],"
    "'indicators':["
    IND("R01", "'kind':'ratio','numerator':'deaths','denominator':'births',"
               "'factor':1000,'direction':'down','targets':["
               "{'year':2022,'op':'<=','value':20},"
               "{'year':2030,'op':'<=','value':10}]") ","
    IND("T01", "'kind':'total','element':'pop','factor':0.25,'direction':'up'") ","
    TOTAL_POP("GE1", ">=") "," TOTAL_POP("GT1", ">") ","
    TOTAL_POP("LE1", "<=") "," TOTAL_POP("LT1", "<")
    "]}";

static tally_catalog *cat;
static tally_test_figures *fig;
static int D, M, A, B, C, BIRTHS, DEATHS, POP, R01, T01;

static void setup(void) {
  cat = tally_test_catalog(catalog_json);
  fig = tally_test_figures_new(cat);
  D = tally_catalog_unit(cat, "d");
  M = tally_catalog_unit(cat, "m");
  A = tally_catalog_unit(cat, "a");
  B = tally_catalog_unit(cat, "b");
  C = tally_catalog_unit(cat, "c");
  BIRTHS = tally_catalog_element(cat, "births");
  DEATHS = tally_catalog_element(cat, "deaths");
  POP = tally_catalog_element(cat, "pop");
  R01 = tally_catalog_indicator(cat, "R01");
  T01 = tally_catalog_indicator(cat, "T01");
}

static void teardown(void) {
  tally_test_figures_free(fig);
  tally_catalog_free(cat);
}

TestSuite(indicator, .init = setup, .fini = teardown);

/* These tests are about one period each: every period they compute
 * (2020, 2022, 2023, 2031), and the year before each, which a share
 * reads for the change, has the same figures. */
static const char *const periods_read[] = {"2019", "2020", "2021", "2022",
                                           "2023", "2030", "2031"};

static void set(int unit, int element, double v) {
  for (size_t i = 0; i < sizeof periods_read / sizeof *periods_read; i++)
    tally_test_figures_set(fig, unit, element, periods_read[i], v);
}

static int get(int unit, int element, double *v) {
  return tally_test_figures_get(fig, unit, element, "2022", v);
}

static tally_result compute(int ind, int scope, const char *period) {
  tally_period p;
  tally_result r;
  tally_source *src = tally_test_figures_source(fig);
  cr_assert_eq(tally_period_parse(period, &p), 0);
  cr_assert_eq(tally_indicator_compute(cat, ind, src, scope, &p, &r), 0);
  return r;
}

Test(indicator, figures_remember_what_was_set) {
  double v = -1;
  cr_assert_eq(get(A, POP, &v), 0);
  cr_assert_eq(v, -1);
  set(A, POP, 0);
  cr_assert_eq(get(A, POP, &v), 1);
  cr_assert_eq(v, 0);
  cr_assert_eq(get(B, POP, &v), 0);
}

/* a: 1 death in 32 births (31.25 per 1000); b: 3 in 224 (13.39...);
 * c: 5 deaths, births not reported.
 * District: (1 + 3) / (32 + 224) * 1000 = 4 / 256 * 1000 = 15.625.
 * The mean of the two unit rates would be (31.25 + 13.39) / 2 = 22.32,
 * and counting c's deaths would give 9 / 256 * 1000 = 35.15625. */
static void set_deaths_and_births(void) {
  set(A, DEATHS, 1);
  set(A, BIRTHS, 32);
  set(B, DEATHS, 3);
  set(B, BIRTHS, 224);
  set(C, DEATHS, 5);
}

Test(indicator, ratio_sums_units_that_reported_both) {
  set_deaths_and_births();
  tally_result r = compute(R01, D, "2022");
  cr_assert(r.has_value);
  cr_assert_eq(r.value, 15.625);
  cr_assert(r.has_numerator);
  cr_assert_eq(r.numerator, 4);
  cr_assert(r.has_denominator);
  cr_assert_eq(r.denominator, 256);
  cr_assert_eq(r.units_counted, 2);
  cr_assert_eq(r.units_expected, 3);
  cr_assert_str_eq(r.note, "not reported by 1 of 3: c");
  cr_assert_not_null(r.target);
  cr_assert_eq(r.target->year, 2022);
  cr_assert_eq(r.status, TALLY_STATUS_MET); /* 15.625 <= 20 */
}

Test(indicator, a_unit_with_only_the_denominator_is_left_out_too) {
  /* a reports both; c reports births alone, b nothing. */
  set(A, DEATHS, 1);
  set(A, BIRTHS, 32);
  set(C, BIRTHS, 1000);
  /* Only a counts: 1 / 32 * 1000 = 31.25. */
  tally_result r = compute(R01, D, "2022");
  cr_assert_eq(r.value, 31.25);
  cr_assert_eq(r.numerator, 1);
  cr_assert_eq(r.denominator, 32);
  cr_assert_eq(r.units_counted, 1);
  cr_assert_str_eq(r.note, "not reported by 2 of 3: b, c");
  cr_assert_eq(r.status, TALLY_STATUS_NOT_MET); /* 31.25 > 20 */
}

Test(indicator, total_with_factor) {
  /* (12 + 8 + 20) * 0.25 = 10. */
  set(A, POP, 12);
  set(B, POP, 8);
  set(C, POP, 20);
  tally_result r = compute(T01, D, "2022");
  cr_assert(r.has_value);
  cr_assert_eq(r.value, 10);
  cr_assert(r.has_numerator);
  cr_assert_eq(r.numerator, 40);
  cr_assert_not(r.has_denominator);
  cr_assert_eq(r.units_counted, 3);
  cr_assert_eq(r.units_expected, 3);
  cr_assert_str_eq(r.note, "");
  cr_assert_null(r.target);
  cr_assert_eq(r.status, TALLY_STATUS_NO_TARGET);
}

Test(indicator, figures_of_non_reporting_units_are_not_summed) {
  /* m and d are not reporting units; a figure stored for them is not
   * part of any sum: (12 + 8 + 20) * 0.25 = 10 still. */
  set(A, POP, 12);
  set(B, POP, 8);
  set(C, POP, 20);
  set(M, POP, 1000);
  set(D, POP, 1000);
  tally_result r = compute(T01, D, "2022");
  cr_assert_eq(r.numerator, 40);
  cr_assert_eq(r.value, 10);
}

Test(indicator, insufficient_data_when_no_unit_reported) {
  tally_result r = compute(R01, D, "2022");
  cr_assert_eq(r.status, TALLY_STATUS_INSUFFICIENT_DATA);
  cr_assert_not(r.has_value);
  cr_assert_not(r.has_numerator);
  cr_assert_not(r.has_denominator);
  cr_assert_eq(r.units_counted, 0);
  cr_assert_eq(r.units_expected, 3);
  cr_assert_str_eq(r.note,
                   "insufficient data: no unit reported both deaths and births");

  r = compute(T01, D, "2022");
  cr_assert_eq(r.status, TALLY_STATUS_INSUFFICIENT_DATA);
  cr_assert_not(r.has_value);
  cr_assert_str_eq(r.note, "insufficient data: no unit reported pop");
}

Test(indicator, numerators_alone_are_insufficient) {
  set(A, DEATHS, 1);
  set(B, DEATHS, 2);
  tally_result r = compute(R01, D, "2022");
  cr_assert_eq(r.status, TALLY_STATUS_INSUFFICIENT_DATA);
  cr_assert_not(r.has_value);
  cr_assert_eq(r.units_counted, 0);
}

Test(indicator, a_real_zero_is_not_missing) {
  /* a: 0 deaths in 50 births: 0 per 1000, a value, and the target met. */
  set(A, DEATHS, 0);
  set(A, BIRTHS, 50);
  tally_result r = compute(R01, D, "2022");
  cr_assert(r.has_value);
  cr_assert_eq(r.value, 0);
  cr_assert_eq(r.numerator, 0);
  cr_assert_eq(r.denominator, 50);
  cr_assert_eq(r.units_counted, 1);
  cr_assert_str_eq(r.note, "not reported by 2 of 3: b, c");
  cr_assert_eq(r.status, TALLY_STATUS_MET);

  /* A total of zeros is 0, reported by all three. */
  set(A, POP, 0);
  set(B, POP, 0);
  set(C, POP, 0);
  r = compute(T01, D, "2022");
  cr_assert(r.has_value);
  cr_assert_eq(r.value, 0);
  cr_assert_eq(r.units_counted, 3);
  cr_assert_str_eq(r.note, "");
}

Test(indicator, zero_denominator_is_undefined) {
  set(A, DEATHS, 2);
  set(A, BIRTHS, 0);
  set(B, DEATHS, 0);
  set(B, BIRTHS, 0);
  tally_result r = compute(R01, D, "2022");
  cr_assert_eq(r.status, TALLY_STATUS_UNDEFINED);
  cr_assert_not(r.has_value);
  cr_assert(r.has_numerator);
  cr_assert_eq(r.numerator, 2);
  cr_assert(r.has_denominator);
  cr_assert_eq(r.denominator, 0);
  cr_assert_eq(r.units_counted, 2);
  cr_assert_str_eq(r.note, "undefined: births sums to 0");
}

Test(indicator, scope_is_one_leaf_unit) {
  set_deaths_and_births();
  /* a alone: 1 / 32 * 1000 = 31.25, over the 2022 target of 20. */
  tally_result r = compute(R01, A, "2022");
  cr_assert_eq(r.units_expected, 1);
  cr_assert_eq(r.units_counted, 1);
  cr_assert_eq(r.numerator, 1);
  cr_assert_eq(r.denominator, 32);
  cr_assert_eq(r.value, 31.25);
  cr_assert_str_eq(r.note, "");
  cr_assert_eq(r.status, TALLY_STATUS_NOT_MET);

  /* c alone reported deaths but no births. */
  r = compute(R01, C, "2022");
  cr_assert_eq(r.units_expected, 1);
  cr_assert_eq(r.units_counted, 0);
  cr_assert_eq(r.status, TALLY_STATUS_INSUFFICIENT_DATA);
}

Test(indicator, scope_is_a_subtree) {
  set_deaths_and_births();
  /* m holds a and b: the same 4 / 256 * 1000 = 15.625, and c is not
   * expected there. */
  tally_result r = compute(R01, M, "2022");
  cr_assert_eq(r.units_expected, 2);
  cr_assert_eq(r.units_counted, 2);
  cr_assert_eq(r.value, 15.625);
  cr_assert_str_eq(r.note, "");
}

static int target_year(const char *period) {
  tally_period p;
  cr_assert_eq(tally_period_parse(period, &p), 0);
  const tally_target *t = tally_indicator_target(cat, R01, NULL, &p);
  return t ? t->year : 0;
}

Test(indicator, the_target_is_the_first_at_or_after_the_period) {
  /* R01 targets 2022 and 2030; the plan starts in 2021. */
  cr_assert_eq(target_year("2020"), 0); /* before the plan */
  cr_assert_eq(target_year("2020Q4"), 0);
  cr_assert_eq(target_year("2021"), 2022);
  cr_assert_eq(target_year("2021-01"), 2022);
  cr_assert_eq(target_year("2022"), 2022);
  cr_assert_eq(target_year("2022Q3"), 2022);
  cr_assert_eq(target_year("2022-12"), 2022);
  cr_assert_eq(target_year("2023"), 2030);
  cr_assert_eq(target_year("2030"), 2030);
  cr_assert_eq(target_year("2031"), 0); /* after the last target */
}

Test(indicator, status_follows_the_target_of_the_period) {
  set_deaths_and_births();
  /* 15.625: <= 20 in 2022 is met; <= 10 by 2030 is not, and in 2023,
   * before 2030, the straight line from 15.625 in 2020 (the first year
   * reported from the plan's base year on) to 10 in 2030 is at
   * 15.625 - 5.625 x 3 / 10 = 13.9375: off track. */
  cr_assert_eq(compute(R01, D, "2022").status, TALLY_STATUS_MET);
  tally_result r = compute(R01, D, "2023");
  cr_assert_eq(r.target->year, 2030);
  cr_assert_eq(r.status, TALLY_STATUS_OFF_TRACK);
  cr_assert(r.has_path);
  cr_assert_eq(r.path_from_year, 2020);
  cr_assert_float_eq(r.path_from, 15.625, 1e-12);
  cr_assert_float_eq(r.path, 13.9375, 1e-9);
  cr_assert_eq(r.path_rate, 0);
  cr_assert_float_eq(r.needed_per_year, (10 - 15.625) / 7, 1e-12);
  r = compute(R01, D, "2030");
  cr_assert_eq(r.status, TALLY_STATUS_NOT_MET); /* the target's own year */
  cr_assert_not(r.has_path);
  r = compute(R01, D, "2031");
  cr_assert_null(r.target);
  cr_assert(r.has_value);
  cr_assert_eq(r.status, TALLY_STATUS_NO_TARGET);
  r = compute(R01, D, "2020");
  cr_assert_null(r.target);
  cr_assert_eq(r.status, TALLY_STATUS_NO_TARGET);
}

Test(indicator, comparators_at_the_boundary) {
  tally_target ge = {.year = 2022, .op = TALLY_OP_GE, .value = 10},
               gt = {.year = 2022, .op = TALLY_OP_GT, .value = 10},
               le = {.year = 2022, .op = TALLY_OP_LE, .value = 10},
               lt = {.year = 2022, .op = TALLY_OP_LT, .value = 10};
  double above = nextafter(10, 11), below = nextafter(10, 9);

  cr_assert(tally_target_met(&ge, 10));
  cr_assert(tally_target_met(&ge, above));
  cr_assert_not(tally_target_met(&ge, below));

  cr_assert_not(tally_target_met(&gt, 10));
  cr_assert(tally_target_met(&gt, above));
  cr_assert_not(tally_target_met(&gt, below));

  cr_assert(tally_target_met(&le, 10));
  cr_assert(tally_target_met(&le, below));
  cr_assert_not(tally_target_met(&le, above));

  cr_assert_not(tally_target_met(&lt, 10));
  cr_assert(tally_target_met(&lt, below));
  cr_assert_not(tally_target_met(&lt, above));
}

/* The status of indicator code for unit a when a reports pop = total. */
static tally_status status_at(const char *code, double total) {
  set(A, POP, total);
  return compute(tally_catalog_indicator(cat, code), A, "2022").status;
}

Test(indicator, comparators_through_compute) {
  /* Each target is "OP 10" for 2022. */
  cr_assert_eq(status_at("GE1", 10), TALLY_STATUS_MET);
  cr_assert_eq(status_at("GE1", 9), TALLY_STATUS_NOT_MET);
  cr_assert_eq(status_at("GT1", 10), TALLY_STATUS_NOT_MET);
  cr_assert_eq(status_at("GT1", 11), TALLY_STATUS_MET);
  cr_assert_eq(status_at("LE1", 10), TALLY_STATUS_MET);
  cr_assert_eq(status_at("LE1", 11), TALLY_STATUS_NOT_MET);
  cr_assert_eq(status_at("LT1", 10), TALLY_STATUS_NOT_MET);
  cr_assert_eq(status_at("LT1", 9), TALLY_STATUS_MET);
}

Test(indicator, op_text) {
  cr_assert_str_eq(tally_op_text(TALLY_OP_GE), ">=");
  cr_assert_str_eq(tally_op_text(TALLY_OP_GT), ">");
  cr_assert_str_eq(tally_op_text(TALLY_OP_LE), "<=");
  cr_assert_str_eq(tally_op_text(TALLY_OP_LT), "<");
}
