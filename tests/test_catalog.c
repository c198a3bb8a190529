/* test_catalog.c: the built-in catalog, and one test per way a catalog
 * can be wrong. Each bad catalog is a small valid one with one fault,
 * and each message must name the file, the entry and the problem. */
#include "catalog.h"
#include "error.h"
#include "figure_check.h"
#include "fixture.h"
#include "utf8.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The JSON below is written with ' for " to keep it readable; load()
 * swaps them back. No test text needs a real apostrophe. */
#define UNITS                                                              \
  "[{'code':'d','name_zh':'区','name_en':'D','level':'district'},"         \
  " {'code':'a','parent':'d','name_zh':'甲','name_en':'A','level':'town'}]"
#define PLANS "[{'code':'p','name_zh':'规划','name_en':'P','start_year':2021}]"
#define ELEMENT(code) \
  "{'code':'" code "','name_zh':'数','name_en':'N','unit':'persons','type':'count'}"
#define ELEMENTS "[" ELEMENT("n") "," ELEMENT("m") "]"
#define INDICATOR_WITH(code, extra)                                        \
  "{'code':'" code "','plan':'p','name_zh':'率','name_en':'R','unit':'%',"  \
  "'direction':'up','source':'s'," extra "}"
#define RATIO "'kind':'ratio','numerator':'n','denominator':'m'"
#define INDICATORS "[" INDICATOR_WITH("X01", RATIO) "]"

static tally_catalog *cat;
static char err[1024];

static char *doc(const char *units, const char *plans, const char *elements,
                 const char *indicators) {
  char *s = NULL;
  cr_assert_neq(
      asprintf(&s,
               "{'format':'tally-catalog/1','name':'t','units':%s,"
               "'plans':%s,'data_elements':%s,'indicators':%s}",
               units ? units : UNITS, plans ? plans : PLANS,
               elements ? elements : ELEMENTS,
               indicators ? indicators : INDICATORS),
      -1);
  for (char *p = s; *p; p++)
    if (*p == '\'')
      *p = '"';
  return s;
}

/* Loads text (with ' for ") as "t.json". */
static int load_text(const char *text) {
  return tally_test_catalog_load("t.json", text, &cat, err, sizeof err);
}

static int load(const char *units, const char *plans, const char *elements,
                const char *indicators) {
  char *s = doc(units, plans, elements, indicators);
  int rc = load_text(s);
  free(s);
  return rc;
}

/* The load failed with exactly this message, and gave no catalog. */
static void expect_error(int rc, const char *message) {
  cr_assert_eq(rc, TALLY_ECATALOG, "rc %d, message '%s'", rc, err);
  cr_assert_null(cat);
  cr_assert_str_eq(err, message);
}

static void fini(void) {
  tally_catalog_free(cat);
  cat = NULL;
}

TestSuite(catalog, .fini = fini);

Test(catalog, the_minimal_catalog_loads) {
  cr_assert_eq(load(NULL, NULL, NULL, NULL), 0, "%s", err);
  cr_assert_eq(cat->n_units, 2);
  cr_assert_eq(cat->root, 0);
  cr_assert_eq(cat->units[1].parent, 0);
  cr_assert_eq(cat->indicators[0].numerator, 0);
  cr_assert_eq(cat->indicators[0].denominator, 1);
  cr_assert_eq(cat->indicators[0].factor, 1.0);
  cr_assert_eq(cat->indicators[0].n_targets, 0);
  cr_assert_null(cat->elements[0].unit_zh, "no unit_zh given: none");
  cr_assert_null(cat->indicators[0].unit_zh);
}

/* The built-in catalog names every unit of measure in Chinese too, as
 * the plans print them. */
Test(catalog, builtin_units_of_measure_are_in_chinese_too) {
  cr_assert_eq(tally_catalog_load_builtin(&cat, err, sizeof err), 0, "%s", err);
  for (size_t i = 0; i < cat->n_elements; i++)
    cr_assert(cat->elements[i].unit_zh && *cat->elements[i].unit_zh,
              "element %s", cat->elements[i].code);
  for (size_t i = 0; i < cat->n_indicators; i++)
    cr_assert(cat->indicators[i].unit_zh && *cat->indicators[i].unit_zh,
              "indicator %s", cat->indicators[i].code);
  int h02 = tally_catalog_indicator(cat, "H02"),
      e = tally_catalog_element(cat, "live_births");
  cr_assert(h02 >= 0 && e >= 0);
  cr_assert_str_eq(cat->indicators[h02].unit_zh, "\u2030"); /* ‰ */
  cr_assert_str_eq(cat->elements[e].unit_zh, "人");
}

Test(catalog, builtin_catalog) {
  static const char *const leaves[] = {
      "wenchang", "pingan", "guyunhu", "wufengshan", "guide",
      "wande",    "zhangxia", "xiaoli", "mashan",    "shuangquan"};
  int rc = tally_catalog_load_builtin(&cat, err, sizeof err);
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert_str_eq(cat->name, "changqing");
  cr_assert_eq(cat->n_units, 11);
  cr_assert_str_eq(cat->units[cat->root].code, "changqing");
  cr_assert_eq(cat->units[cat->root].parent, -1);
  cr_assert_not(cat->units[cat->root].is_leaf);
  cr_assert_eq(cat->units[cat->root].leaves, 10);
  for (size_t i = 0; i < 10; i++) {
    int u = tally_catalog_unit(cat, leaves[i]);
    cr_assert_geq(u, 0, "%s", leaves[i]);
    cr_expect(cat->units[u].is_leaf, "%s", leaves[i]);
    cr_expect_eq(cat->units[u].parent, cat->root, "%s", leaves[i]);
    cr_expect_eq(cat->units[u].leaves, 1, "%s", leaves[i]);
  }
  /* The file's 90 data elements: three are reported by age group and
   * expand to 46 elements, one per group: 87 + 46 = 133. */
  cr_assert_eq(cat->n_elements, 133);
  cr_assert_eq(cat->n_plans, 2);
  /* H01-H35 with H14 as H14a and H14b and H30 as H30a and H30b, and
   * P01-P25. */
  cr_assert_eq(cat->n_indicators, 62);
  static const char *const every[] = {
      "H01", "H02", "H03", "H04", "H05", "H06", "H07", "H08", "H09", "H10",
      "H11", "H12", "H13", "H14a", "H14b", "H15", "H16", "H17", "H18", "H19", "H20",
      "H21", "H22", "H23", "H24", "H25", "H26", "H27", "H28", "H29", "H30a",
      "H30b", "H31", "H32", "H33", "H34", "H35", "P01", "P02", "P03", "P04",
      "P05", "P06", "P07", "P08", "P09", "P10", "P11", "P12", "P13", "P14",
      "P15", "P16", "P17", "P18", "P19", "P20", "P21", "P22", "P23", "P24",
      "P25"};
  for (size_t i = 0; i < sizeof every / sizeof every[0]; i++)
    cr_expect_geq(tally_catalog_indicator(cat, every[i]), 0, "%s", every[i]);
}

static const tally_indicator *indicator(const char *code) {
  int i = tally_catalog_indicator(cat, code);
  cr_assert_geq(i, 0, "%s", code);
  return &cat->indicators[i];
}

static void expect_target(const tally_indicator *in, size_t i, int year,
                          tally_op op, double value) {
  cr_assert_gt(in->n_targets, i, "%s", in->code);
  cr_expect_eq(in->targets[i].year, year, "%s #%zu", in->code, i);
  cr_expect_eq(in->targets[i].op, op, "%s #%zu", in->code, i);
  cr_expect_eq(in->targets[i].value, value, "%s #%zu", in->code, i);
}

Test(catalog, builtin_indicators_and_targets) {
  cr_assert_eq(tally_catalog_load_builtin(&cat, err, sizeof err), 0, "%s", err);
  const tally_indicator *h02 = indicator("H02"), *h03 = indicator("H03"),
                        *h04 = indicator("H04"), *h06 = indicator("H06"),
                        *h27 = indicator("H27"), *p01 = indicator("P01");

  cr_assert_eq(h02->kind, TALLY_KIND_RATIO);
  cr_assert_str_eq(cat->elements[h02->numerator].code, "infant_deaths");
  cr_assert_str_eq(cat->elements[h02->denominator].code, "live_births");
  cr_assert_eq(h02->factor, 1000.0);
  cr_assert_not(h02->higher_is_better);
  cr_assert_eq(h02->n_targets, 2);
  expect_target(h02, 0, 2022, TALLY_OP_LE, 3.3);
  expect_target(h02, 1, 2030, TALLY_OP_LE, 2.5);

  cr_assert_eq(h03->n_targets, 2);
  expect_target(h03, 0, 2022, TALLY_OP_LE, 4.0);
  expect_target(h03, 1, 2030, TALLY_OP_LE, 3.0);

  cr_assert_eq(h04->factor, 100000.0);
  cr_assert_eq(h04->n_targets, 2);
  expect_target(h04, 0, 2022, TALLY_OP_LE, 9.3);
  expect_target(h04, 1, 2030, TALLY_OP_LE, 7.0);

  cr_assert(h06->higher_is_better);
  cr_assert_str_eq(cat->elements[h06->denominator].code,
                   "resident_population");
  cr_assert_eq(h06->n_targets, 2);
  expect_target(h06, 0, 2022, TALLY_OP_GE, 4.5);
  expect_target(h06, 1, 2030, TALLY_OP_GE, 5.6);
  cr_assert_eq(h06->n_baselines, 3);
  cr_assert_str_eq(h06->baselines[2].scope, "district");
  cr_assert_eq(h06->baselines[2].year, 2020);
  cr_assert_eq(h06->baselines[2].value, 2.69);

  cr_assert_eq(h27->factor, 100.0);
  cr_assert_eq(h27->n_targets, 2);
  expect_target(h27, 0, 2022, TALLY_OP_GE, 65);
  expect_target(h27, 1, 2030, TALLY_OP_GE, 70);

  cr_assert_eq(p01->kind, TALLY_KIND_TOTAL);
  cr_assert_str_eq(cat->elements[p01->element].code, "resident_population");
  cr_assert_eq(p01->numerator, -1);
  cr_assert_eq(p01->denominator, -1);
  cr_assert_eq(p01->factor, 0.0001);
  cr_assert_str_eq(cat->plans[p01->plan].code, "plan");
  cr_assert_str_eq(p01->attribute, "expected");
  cr_assert_eq(p01->n_targets, 1);
  expect_target(p01, 0, 2025, TALLY_OP_GE, 67);
}

/* ---- the document as a whole ---- */

/* Every code of every kind is found at its own place, and codes that
 * differ by a character, a prefix or an extension are not, unless they
 * are codes of their own (the lookups are a hash table). */
static void expect_lookups(const char *kind, size_t n,
                           const char *(*code_at)(size_t),
                           int (*find)(const tally_catalog *, const char *)) {
  cr_assert_gt(n, 0, "no %s", kind);
  for (size_t i = 0; i < n; i++) {
    const char *code = code_at(i);
    char near[80];
    cr_assert_eq(find(cat, code), (int)i, "%s %s", kind, code);
    snprintf(near, sizeof near, "%s~", code);
    cr_assert_eq(find(cat, near), -1, "%s %s", kind, near);
    snprintf(near, sizeof near, "%.*s", (int)strlen(code) - 1, code);
    if (*near)
      cr_assert(find(cat, near) < 0 || strcmp(code_at((size_t)find(cat, near)),
                                                 near) == 0,
                "%s %s found as %s", kind, near, code);
    snprintf(near, sizeof near, "%s", code);
    near[0] = near[0] == 'z' ? 'y' : (char)(near[0] + 1);
    cr_assert(find(cat, near) < 0 || strcmp(code_at((size_t)find(cat, near)),
                                               near) == 0,
              "%s %s found as %s", kind, near, code);
  }
  cr_assert_eq(find(cat, ""), -1, "%s: the empty code", kind);
}

static const char *unit_at(size_t i) { return cat->units[i].code; }
static const char *element_at(size_t i) { return cat->elements[i].code; }
static const char *indicator_at(size_t i) { return cat->indicators[i].code; }

Test(catalog, every_code_is_found_and_no_other) {
  cr_assert_eq(tally_catalog_load_builtin(&cat, err, sizeof err), 0, "%s", err);
  expect_lookups("unit", cat->n_units, unit_at, tally_catalog_unit);
  expect_lookups("element", cat->n_elements, element_at, tally_catalog_element);
  expect_lookups("indicator", cat->n_indicators, indicator_at,
                 tally_catalog_indicator);
}

Test(catalog, json_syntax_error_names_line_and_column) {
  /* Line 3, column 11 is the x where a value should be. */
  int rc = load_text("{\n  'format': 'tally-catalog/1',\n  'name': x\n}");
  cr_assert_eq(rc, TALLY_ECATALOG);
  cr_assert_null(cat);
  cr_assert_str_eq(err, "t.json:3:11: invalid token near 'x'");
}

Test(catalog, wrong_format) {
  expect_error(load_text("{'format':'tally-catalog/2','name':'t'}"),
               "t.json: format: 'tally-catalog/2' is not 'tally-catalog/1'");
}

Test(catalog, unknown_top_level_key) {
  char *s = doc(NULL, NULL, NULL, NULL);
  /* Insert "colour" after the opening brace. */
  char *t = NULL;
  cr_assert_neq(asprintf(&t, "{'colour':'red',%s", s + 1), -1);
  expect_error(load_text(t), "t.json: top level: unknown key 'colour'");
  free(t);
  free(s);
}

Test(catalog, missing_section) {
  expect_error(
      load_text("{'format':'tally-catalog/1','name':'t','units':[]}"),
      "t.json: units: must be a non-empty array");
}

/* ---- strict unpacking: an unknown key in an entry ---- */

Test(catalog, unknown_key_in_a_unit) {
  expect_error(
      load("[{'code':'d','name_zh':'区','name_en':'D','level':'district',"
           "'colour':'red'}]",
           NULL, NULL, NULL),
      "t.json: unit d: 1 object item(s) left unpacked: colour");
}

Test(catalog, unknown_key_in_an_element) {
  expect_error(
      load(NULL, NULL,
           "[{'code':'n','name_zh':'数','name_en':'N','unit':'persons',"
           "'type':'count','reportedby':'unit'}]",
           NULL),
      "t.json: data element n: 1 object item(s) left unpacked: reportedby");
}

Test(catalog, unknown_key_in_an_indicator) {
  expect_error(load(NULL, NULL, NULL,
                    "[" INDICATOR_WITH("X01", RATIO ",'factr':100") "]"),
               "t.json: indicator X01: 1 object item(s) left unpacked: factr");
}

Test(catalog, unknown_key_in_a_target) {
  expect_error(
      load(NULL, NULL, NULL,
           "[" INDICATOR_WITH("X01", RATIO ",'targets':[{'year':2022,"
                                           "'op':'>=','value':1,'yr':1}]") "]"),
      "t.json: indicator X01: target #1: 1 object item(s) left unpacked: yr");
}

Test(catalog, missing_key_in_a_unit) {
  expect_error(load("[{'code':'d','name_zh':'区','level':'district'}]", NULL,
                    NULL, NULL),
               "t.json: unit d: Object item not found: name_en");
}

/* ---- codes ---- */

Test(catalog, duplicate_unit_code) {
  expect_error(
      load("[{'code':'d','name_zh':'区','name_en':'D','level':'district'},"
           " {'code':'a','parent':'d','name_zh':'甲','name_en':'A','level':'town'},"
           " {'code':'a','parent':'d','name_zh':'乙','name_en':'B','level':'town'}]",
           NULL, NULL, NULL),
      "t.json: unit a: duplicate unit code");
}

Test(catalog, duplicate_element_code) {
  expect_error(load(NULL, NULL,
                    "[" ELEMENT("n") "," ELEMENT("m") "," ELEMENT("n") "]",
                    NULL),
               "t.json: data element n: duplicate data element code");
}

Test(catalog, duplicate_indicator_code) {
  expect_error(load(NULL, NULL, NULL,
                    "[" INDICATOR_WITH("X01", RATIO) ","
                    INDICATOR_WITH("X01", RATIO) "]"),
               "t.json: indicator X01: duplicate indicator code");
}

Test(catalog, duplicate_plan_code) {
  expect_error(load(NULL, "[" "{'code':'p','name_zh':'一','name_en':'A',"
                    "'start_year':2021},{'code':'p','name_zh':'二',"
                    "'name_en':'B','start_year':2021}]", NULL, NULL),
               "t.json: plan p: duplicate plan code");
}

Test(catalog, bad_unit_code_characters) {
  expect_error(
      load("[{'code':'Wen-chang','name_zh':'区','name_en':'D','level':'district'}]",
           NULL, NULL, NULL),
      "t.json: unit Wen-chang: code must be 1-31 characters of a-z, 0-9 "
      "and _, starting with a letter");
}

Test(catalog, unit_code_too_long) {
  /* 32 characters: one over TALLY_CODE_MAX. */
  expect_error(
      load("[{'code':'abcdefghijklmnopqrstuvwxyz012345','name_zh':'区',"
           "'name_en':'D','level':'district'}]",
           NULL, NULL, NULL),
      "t.json: unit abcdefghijklmnopqrstuvwxyz012345: code must be 1-31 "
      "characters of a-z, 0-9 and _, starting with a letter");
}

Test(catalog, bad_element_code_characters) {
  expect_error(load(NULL, NULL, "[" ELEMENT("1births") "]", NULL),
               "t.json: data element 1births: code must be 1-31 characters "
               "of a-z, 0-9 and _, starting with a letter");
}

Test(catalog, bad_indicator_code_characters) {
  expect_error(load(NULL, NULL, NULL, "[" INDICATOR_WITH("h02", RATIO) "]"),
               "t.json: indicator h02: code must start with a capital letter "
               "and hold only letters, digits and _");
}

/* ---- the unit tree ---- */

Test(catalog, unknown_parent) {
  expect_error(
      load("[{'code':'d','name_zh':'区','name_en':'D','level':'district'},"
           " {'code':'a','parent':'x','name_zh':'甲','name_en':'A','level':'town'}]",
           NULL, NULL, NULL),
      "t.json: unit a: parent 'x' is not a unit of the catalog");
}

Test(catalog, two_roots) {
  expect_error(
      load("[{'code':'d','name_zh':'区','name_en':'D','level':'district'},"
           " {'code':'e','name_zh':'区','name_en':'E','level':'district'}]",
           NULL, NULL, NULL),
      "t.json: unit e: has no parent, but unit d is already the root");
}

Test(catalog, no_root) {
  expect_error(
      load("[{'code':'a','parent':'b','name_zh':'甲','name_en':'A','level':'town'},"
           " {'code':'b','parent':'a','name_zh':'乙','name_en':'B','level':'town'}]",
           NULL, NULL, NULL),
      "t.json: units: no root unit (one unit must have no parent)");
}

Test(catalog, parent_cycle) {
  /* d is the root; a and b are each other's parent. */
  expect_error(
      load("[{'code':'d','name_zh':'区','name_en':'D','level':'district'},"
           " {'code':'a','parent':'b','name_zh':'甲','name_en':'A','level':'town'},"
           " {'code':'b','parent':'a','name_zh':'乙','name_en':'B','level':'town'}]",
           NULL, NULL, NULL),
      "t.json: unit a: its parents form a cycle");
}

Test(catalog, own_parent) {
  expect_error(
      load("[{'code':'d','name_zh':'区','name_en':'D','level':'district'},"
           " {'code':'a','parent':'a','name_zh':'甲','name_en':'A','level':'town'}]",
           NULL, NULL, NULL),
      "t.json: unit a: its parents form a cycle");
}

/* ---- indicators ---- */

Test(catalog, unknown_plan) {
  expect_error(
      load(NULL, NULL, NULL,
           "[{'code':'X01','plan':'nope','name_zh':'率','name_en':'R',"
           "'unit':'%','direction':'up','source':'s'," RATIO "}]"),
      "t.json: indicator X01: plan 'nope' is not a plan of the catalog");
}

Test(catalog, unknown_kind) {
  expect_error(load(NULL, NULL, NULL,
                    "[" INDICATOR_WITH("X01", "'kind':'mean','element':'n'") "]"),
               "t.json: indicator X01: kind 'mean' is not one of: ratio, total, "
      "weighted_mean, growth, intensity_reduction, cumulative, "
      "life_expectancy, premature_mortality, milestone, unit_threshold");
}

Test(catalog, ratio_without_denominator) {
  expect_error(
      load(NULL, NULL, NULL,
           "[" INDICATOR_WITH("X01", "'kind':'ratio','numerator':'n'") "]"),
      "t.json: indicator X01: kind needs a denominator");
}

Test(catalog, numerator_not_an_element) {
  expect_error(
      load(NULL, NULL, NULL,
           "[" INDICATOR_WITH("X01", "'kind':'ratio','numerator':'ghost',"
                                     "'denominator':'m'") "]"),
      "t.json: indicator X01: numerator 'ghost' is not a defined data element");
}

Test(catalog, numerator_equals_denominator) {
  expect_error(
      load(NULL, NULL, NULL,
           "[" INDICATOR_WITH("X01", "'kind':'ratio','numerator':'n',"
                                     "'denominator':'n'") "]"),
      "t.json: indicator X01: numerator and denominator are the same element");
}

Test(catalog, total_with_numerator) {
  expect_error(
      load(NULL, NULL, NULL,
           "[" INDICATOR_WITH("X01", "'kind':'total','element':'n',"
                                     "'numerator':'n'") "]"),
      "t.json: indicator X01: kind total does not take numerator");
}

Test(catalog, bad_direction) {
  expect_error(
      load(NULL, NULL, NULL,
           "[{'code':'X01','plan':'p','name_zh':'率','name_en':'R',"
           "'unit':'%','direction':'sideways','source':'s'," RATIO "}]"),
      "t.json: indicator X01: direction 'sideways' is not one of: up, down");
}

Test(catalog, bad_op) {
  expect_error(
      load(NULL, NULL, NULL,
           "[" INDICATOR_WITH("X01", RATIO ",'targets':[{'year':2022,"
                                           "'op':'=>','value':1}]") "]"),
      "t.json: indicator X01: target #1: op '=>' is not one of: >=, >, <=, <, "
      "about, about<=, about>=, change<=, change>=, change<, change>, text, "
      "assigned");
}

Test(catalog, target_years_not_ascending) {
  expect_error(
      load(NULL, NULL, NULL,
           "[" INDICATOR_WITH("X01", RATIO ",'targets':["
                              "{'year':2030,'op':'>=','value':2},"
                              "{'year':2022,'op':'>=','value':1}]") "]"),
      "t.json: indicator X01: target #2: years must ascend (2022 after 2030)");
}

Test(catalog, target_years_repeated) {
  expect_error(
      load(NULL, NULL, NULL,
           "[" INDICATOR_WITH("X01", RATIO ",'targets':["
                              "{'year':2022,'op':'>=','value':2},"
                              "{'year':2022,'op':'>=','value':1}]") "]"),
      "t.json: indicator X01: target #2: years must ascend (2022 after 2022)");
}

Test(catalog, interval_is_none_or_left_out) {
  expect_error(load(NULL, NULL, NULL,
                    "[" INDICATOR_WITH("X01", RATIO ",'interval':'wilson'") "]"),
               "t.json: indicator X01: interval 'wilson' is not none (leave it "
               "out for the kind's interval)");
}

/* Counts of institutions and a census of a structure are no chance
 * events: the built-in catalog gives them no interval. */
Test(catalog, structural_indicators_have_no_interval) {
  tally_catalog *c = NULL;
  cr_assert_eq(tally_catalog_load_builtin(&c, err, sizeof err), 0, "%s", err);
  static const char *const none[] = {"H06", "P22", "H19", "P11", "P17"};
  for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
    cr_expect(c->indicators[tally_catalog_indicator(c, none[i])].no_interval,
              "%s", none[i]);
  static const char *const some[] = {"H02", "H05", "H14a", "H27"};
  for (size_t i = 0; i < sizeof some / sizeof some[0]; i++)
    cr_expect_not(c->indicators[tally_catalog_indicator(c, some[i])]
                      .no_interval, "%s", some[i]);
  tally_catalog_free(c);
}

Test(catalog, zero_factor) {
  expect_error(load(NULL, NULL, NULL,
                    "[" INDICATOR_WITH("X01", RATIO ",'factor':0") "]"),
               "t.json: indicator X01: factor must be a positive number");
}

Test(catalog, negative_factor) {
  expect_error(load(NULL, NULL, NULL,
                    "[" INDICATOR_WITH("X01", RATIO ",'factor':-1000") "]"),
               "t.json: indicator X01: factor must be a positive number");
}

Test(catalog, baseline_with_neither_value_nor_text) {
  expect_error(
      load(NULL, NULL, NULL,
           "[" INDICATOR_WITH("X01", RATIO ",'baselines':[{'scope':'city',"
                                           "'year':2020}]") "]"),
      "t.json: indicator X01: baseline #1: needs a value or a text");
}

Test(catalog, baseline_with_text_only_loads) {
  cr_assert_eq(load(NULL, NULL, NULL,
                    "[" INDICATOR_WITH("X01", RATIO ",'baselines':[{'scope':"
                                       "'city','text':'明显降低'}]") "]"),
               0, "%s", err);
  cr_assert_eq(cat->indicators[0].n_baselines, 1);
  cr_assert_not(cat->indicators[0].baselines[0].has_value);
  cr_assert_str_eq(cat->indicators[0].baselines[0].text, "明显降低");
}

/* ---- data elements ---- */

Test(catalog, bad_element_type) {
  expect_error(
      load(NULL, NULL,
           "[{'code':'n','name_zh':'数','name_en':'N','unit':'%',"
           "'type':'ratio'}]",
           NULL),
      "t.json: data element n: type 'ratio' is not one of: count, amount, "
      "status");
}

Test(catalog, bad_reported_by) {
  expect_error(
      load(NULL, NULL,
           "[{'code':'n','name_zh':'数','name_en':'N','unit':'persons',"
           "'type':'count','reported_by':'city'}]",
           NULL),
      "t.json: data element n: reported_by 'city' is not one of: unit, "
      "district");
}

/* ---- files ---- */

Test(catalog, load_file) {
  char dir[256], path[300];
  char *s = doc(NULL, NULL, NULL, NULL);
  tally_test_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/good.json", dir);
  tally_test_write_file(path, s);
  free(s);

  int rc = tally_catalog_load_file(path, &cat, err, sizeof err);
  tally_test_rmtree(dir);
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert_eq(cat->n_units, 2);
  cr_assert_str_eq(cat->origin, path);
  cr_assert_str_eq(cat->indicators[0].code, "X01");
}

Test(catalog, load_file_names_the_file_in_messages) {
  char dir[256], path[300], want[600];
  char *s = doc(NULL, "[{'code':'p','name_zh':'规划','name_en':'P'}]", NULL,
                NULL);
  tally_test_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/bad.json", dir);
  tally_test_write_file(path, s);
  free(s);

  int rc = tally_catalog_load_file(path, &cat, err, sizeof err);
  tally_test_rmtree(dir);
  cr_assert_eq(rc, TALLY_ECATALOG);
  cr_assert_null(cat);
  snprintf(want, sizeof want, "%s: plan p: Object item not found: start_year",
           path);
  cr_assert_str_eq(err, want);
}

Test(catalog, file_not_found) {
  char dir[256], path[300], want[600];
  tally_test_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/missing.json", dir);
  int rc = tally_catalog_load_file(path, &cat, err, sizeof err);
  tally_test_rmtree(dir);
  cr_assert_eq(rc, -ENOENT);
  cr_assert_null(cat);
  snprintf(want, sizeof want, "%s: No such file or directory", path);
  cr_assert_str_eq(err, want);
}

/* ---- the kinds beyond ratio and total, and their elements ---- */

#define GROUPED(code, groups)                                              \
  "{'code':'" code "','name_zh':'数','name_en':'N','unit':'persons',"      \
  "'type':'count','age_groups':[" groups "]}"
#define LIFE_GROUPS "'0','1-4','5-9','10+'"
#define SDG_GROUPS                                                         \
  "'30-34','35-39','40-44','45-49','50-54','55-59','60-64','65-69'"
#define STATUS(code, by)                                                   \
  "{'code':'" code "','name_zh':'状','name_en':'S','unit':'status',"       \
  "'type':'status','reported_by':'" by "','levels':[{'value':0,'zh':'无',"  \
  "'en':'none'},{'value':1,'zh':'有','en':'some'}]}"
#define KIND_ELEMENTS                                                      \
  "[" ELEMENT("n") "," ELEMENT("m") "," ELEMENT("b") ","                    \
  GROUPED("deaths", LIFE_GROUPS) "," GROUPED("pop", LIFE_GROUPS) ","         \
  GROUPED("ncd", SDG_GROUPS) "," STATUS("st", "district") ","                \
  STATUS("su", "unit") "]"

static int load_kind(const char *rest) {
  char ind[1024];
  /* INDICATOR_WITH holds a '%': the text goes in as an argument. */
  snprintf(ind, sizeof ind, "%s%s%s",
           "[{'code':'X01','plan':'p','name_zh':'率','name_en':'R','unit':'%',"
           "'direction':'up','source':'s',",
           rest, "}]");
  return load(NULL, NULL, KIND_ELEMENTS, ind);
}

static void expect_kind_error(const char *rest, const char *problem) {
  char want[512];
  snprintf(want, sizeof want, "t.json: indicator X01: %s", problem);
  expect_error(load_kind(rest), want);
}

Test(catalog, every_kind_loads) {
  static const char *const good[] = {
      "'kind':'weighted_mean','element':'n','weight':'m'",
      "'kind':'growth','element':'n'",
      "'kind':'intensity_reduction','numerator':'n','denominator':'m',"
      "'base_year':2020",
      "'kind':'cumulative','element':'n','from_year':2021",
      "'kind':'life_expectancy','deaths':'deaths','population':'pop',"
      "'births':'b','method':'cn_textbook','params':{'a0':0.15}",
      "'kind':'life_expectancy','deaths':'deaths','population':'pop',"
      "'method':'coale_demeny','params':{'sex':'female'}",
      "'kind':'premature_mortality','deaths':'ncd','population':'ncd'",
      "'kind':'milestone','element':'st','targets':[{'year':2022,'op':'>=',"
      "'level':1}]",
      "'kind':'unit_threshold','numerator':'n','denominator':'m',"
      "'factor':100,'unit_target':{'op':'>','value':90}",
      "'kind':'ratio','numerator':'n','denominator':'m','targets':["
      "{'year':2022,'op':'change<=','value':-1},{'year':2025,'op':'about',"
      "'value':3,'tolerance':0.5},{'year':2026,'op':'text','text':'less'},"
      "{'year':2030,'op':'assigned'}]"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    int rc = load_kind(good[i]);
    cr_assert_eq(rc, 0, "%s: %s", good[i], err);
    tally_catalog_free(cat);
    cat = NULL;
  }
}

Test(catalog, a_kind_without_what_it_needs) {
  expect_kind_error("'kind':'weighted_mean','element':'n'",
                    "kind needs a weight");
  expect_kind_error("'kind':'intensity_reduction','numerator':'n',"
                    "'denominator':'m'",
                    "kind needs a base_year");
  expect_kind_error("'kind':'cumulative','element':'n'",
                    "kind needs a from_year");
  expect_kind_error("'kind':'life_expectancy','deaths':'deaths',"
                    "'population':'pop'",
                    "kind needs a method");
  expect_kind_error("'kind':'unit_threshold','numerator':'n',"
                    "'denominator':'m'",
                    "kind needs a unit_target");
}

Test(catalog, a_kind_with_what_it_does_not_take) {
  expect_kind_error("'kind':'growth','element':'n','factor':2",
                    "kind growth does not take factor");
  expect_kind_error("'kind':'milestone','element':'st','weight':'m'",
                    "kind milestone does not take weight");
}

Test(catalog, life_tables_and_their_groups) {
  expect_kind_error("'kind':'life_expectancy','deaths':'n','population':'pop',"
                    "'method':'chiang2'",
                    "deaths 'n' is not a data element with age groups");
  expect_kind_error("'kind':'life_expectancy','deaths':'deaths',"
                    "'population':'pop','method':'kaplan'",
                    "method 'kaplan' is not one of: chiang2, coale_demeny, "
                    "cn_textbook");
  expect_kind_error("'kind':'life_expectancy','deaths':'deaths',"
                    "'population':'pop','method':'cn_textbook'",
                    "method cn_textbook needs births (or params q0: "
                    "population)");
  expect_kind_error("'kind':'life_expectancy','deaths':'ncd',"
                    "'population':'ncd','method':'chiang2'",
                    "life-table groups must be 0, 1-4, 5-9, ... ending with "
                    "an open group such as 85+");
  expect_kind_error("'kind':'life_expectancy','deaths':'deaths',"
                    "'population':'pop','method':'chiang2','params':{'a0':2}",
                    "params: a0 and a are fractions of a year, between 0 and "
                    "1");
  expect_kind_error("'kind':'life_expectancy','deaths':'deaths',"
                    "'population':'pop','method':'chiang2','params':"
                    "{'sex':'all'}",
                    "params: sex 'all' is not one of: both, male, female");
  expect_kind_error("'kind':'premature_mortality','deaths':'deaths',"
                    "'population':'pop'",
                    "deaths must be by the groups 30-34 ... 65-69");
  expect_kind_error("'kind':'premature_mortality','deaths':'ncd',"
                    "'population':'pop'",
                    "population has no group 30-34");
}

/* Each group's a, in years (nax) or as Chiang's fraction of the group
 * (a_by_group), for the closed groups of the deaths element. */
Test(catalog, life_table_a_by_group) {
  cr_assert_eq(load_kind("'kind':'life_expectancy','deaths':'deaths',"
                         "'population':'pop','method':'chiang2','params':"
                         "{'a_by_group':{'0':0.3,'5-9':0.4}}"),
               0, "%s", err);
  const tally_indicator *in = &cat->indicators[0];
  cr_assert_not_null(in->nax);
  cr_assert_float_eq(in->nax[0], 0.3, 1e-15);
  cr_assert(isnan(in->nax[1]));
  cr_assert_float_eq(in->nax[2], 2.0, 1e-15); /* 0.4 of 5 years */
  cr_assert(isnan(in->nax[3]));
  tally_catalog_free(cat);
  cat = NULL;
  cr_assert_eq(load_kind("'kind':'life_expectancy','deaths':'deaths',"
                         "'population':'pop','method':'coale_demeny',"
                         "'params':{'nax':{'1-4':1.6,'5-9':2.6}}"),
               0, "%s", err);
  cr_assert_float_eq(cat->indicators[0].nax[1], 1.6, 1e-15);
  cr_assert_float_eq(cat->indicators[0].nax[2], 2.6, 1e-15);
  tally_catalog_free(cat);
  cat = NULL;

  expect_kind_error("'kind':'life_expectancy','deaths':'deaths',"
                    "'population':'pop','method':'chiang2','params':"
                    "{'nax':{'0':0.1},'a_by_group':{'1-4':0.4}}",
                    "params: nax (years) or a_by_group (fractions), not "
                    "both");
  expect_kind_error("'kind':'life_expectancy','deaths':'deaths',"
                    "'population':'pop','method':'chiang2','params':"
                    "{'nax':{'15-19':2.5}}",
                    "params: nax: '15-19' is no age group of deaths");
  expect_kind_error("'kind':'life_expectancy','deaths':'deaths',"
                    "'population':'pop','method':'chiang2','params':"
                    "{'nax':{'10+':5}}",
                    "params: nax: the open group 10+ has no a (its L is l / "
                    "M)");
  expect_kind_error("'kind':'life_expectancy','deaths':'deaths',"
                    "'population':'pop','method':'chiang2','params':"
                    "{'nax':{'1-4':4}}",
                    "params: nax: 1-4 is in years, between 0 and the "
                    "group's width");
  expect_kind_error("'kind':'life_expectancy','deaths':'deaths',"
                    "'population':'pop','method':'chiang2','params':"
                    "{'a_by_group':{'0':'half'}}",
                    "params: a_by_group: 0 is a fraction of the group, "
                    "between 0 and 1");
  expect_kind_error("'kind':'life_expectancy','deaths':'deaths',"
                    "'population':'pop','method':'chiang2','params':"
                    "{'nax':[0.1]}",
                    "params: nax is an object of age groups and numbers");
}

Test(catalog, milestones_and_status_elements) {
  expect_kind_error("'kind':'milestone','element':'n'",
                    "a milestone's element 'n' must be a status");
  expect_kind_error("'kind':'total','element':'st'",
                    "element 'st' is a status: only a milestone takes one");
  expect_kind_error("'kind':'ratio','numerator':'st','denominator':'m'",
                    "numerator 'st' is a status, not a figure");
  expect_kind_error("'kind':'milestone','element':'su'",
                    "a milestone's element is reported by the district");
  expect_kind_error("'kind':'milestone','element':'st','targets':[{'year':"
                    "2022,'op':'>=','value':1}]",
                    "target #1: a milestone's target is a level");
  expect_kind_error("'kind':'total','element':'n','targets':[{'year':2022,"
                    "'op':'>=','level':1}]",
                    "target #1: a level is a milestone's target");
}

Test(catalog, inputs_reported_at_different_levels) {
  char els[1024];
  snprintf(els, sizeof els, "[" ELEMENT("n") "," ELEMENT("m") ","
           "{'code':'dist','name_zh':'区','name_en':'D','unit':'u',"
           "'type':'count','reported_by':'district'}]");
  expect_error(load(NULL, NULL, els,
                    "[" INDICATOR_WITH("X01", "'kind':'ratio','numerator':"
                                              "'dist','denominator':'m'") "]"),
               "t.json: indicator X01: its data elements are reported at "
               "different levels (some by each unit, some by the district "
               "office)");
}

Test(catalog, target_forms) {
  expect_kind_error(RATIO ",'targets':[{'year':2022,'op':'about','value':3}]",
                    "target #1: about needs a tolerance >= 0");
  expect_kind_error(RATIO ",'targets':[{'year':2022,'op':'<','value':3,"
                          "'tolerance':1}]",
                    "target #1: only about, about<= and about>= take a "
                    "tolerance");
  expect_kind_error(RATIO ",'targets':[{'year':2022,'op':'change<'}]",
                    "target #1: op change< needs a value");
  expect_kind_error(RATIO ",'targets':[{'year':2022,'op':'text'}]",
                    "target #1: op text needs the text");
  expect_kind_error(RATIO ",'targets':[{'year':2022,'op':'assigned',"
                          "'value':3}]",
                    "target #1: op assigned takes no value");
  expect_kind_error(RATIO ",'targets':[{'op':'<','value':3}]",
                    "target #1: needs a year");
  expect_kind_error("'kind':'unit_threshold','numerator':'n','denominator':"
                    "'m','unit_target':{'op':'text','text':'x'}",
                    "unit_target: op is one of >=, >, <=, < with a value");
}

static void expect_element_error(const char *element, const char *problem) {
  char els[1024], want[512];
  snprintf(els, sizeof els, "[" ELEMENT("n") "," ELEMENT("m") ",%s]",
           element);
  snprintf(want, sizeof want, "t.json: data element x: %s", problem);
  expect_error(load(NULL, NULL, els, NULL), want);
}

#define X_GROUPED(groups)                                                  \
  "{'code':'x','name_zh':'数','name_en':'N','unit':'persons',"             \
  "'type':'count','age_groups':[" groups "]}"

Test(catalog, age_groups_and_levels) {
  expect_element_error(X_GROUPED("'0','1-4','4-9'"),
                       "age group 4-9 does not follow 1-4");
  expect_element_error(X_GROUPED("'0','1-4','5+','10+'"),
                       "age group 10+ follows the open group");
  expect_element_error(X_GROUPED("'0','1-4','nine'"),
                       "age group #3 is not \"0\", \"A-B\" or \"A+\"");
  expect_element_error(X_GROUPED("'3'"),
                       "age group #1 is not \"0\", \"A-B\" or \"A+\"");
  expect_element_error(X_GROUPED(""),
                       "age_groups must be an array of 1-64 labels");
  expect_element_error(
      "{'code':'x','name_zh':'状','name_en':'S','unit':'s','type':'status'}",
      "a status element has levels, and only it");
  expect_element_error(
      "{'code':'x','name_zh':'数','name_en':'N','unit':'s','type':'count',"
      "'levels':[{'value':0,'zh':'无','en':'n'},{'value':1,'zh':'有','en':'y'}]}",
      "a status element has levels, and only it");
  expect_element_error(
      "{'code':'x','name_zh':'状','name_en':'S','unit':'s','type':'status',"
      "'levels':[{'value':1,'zh':'有','en':'y'},{'value':1,'zh':'无','en':'n'}]}",
      "level #2: values must ascend");
  expect_element_error(
      "{'code':'x','name_zh':'状','name_en':'S','unit':'s','type':'status',"
      "'levels':[{'value':0,'zh':'无','en':'n'},{'value':1,'zh':'有','en':'y'}],"
      "'age_groups':['0','1+']}",
      "a status element has no age groups");
}

Test(catalog, an_expanded_code_may_clash) {
  /* "x" by groups makes "x.0"; an element can't be called that, but two
   * grouped elements of the same code clash on every group. */
  char els[1024];
  snprintf(els, sizeof els,
           "[" ELEMENT("n") "," ELEMENT("m") "," X_GROUPED("'0','1+'") ","
           X_GROUPED("'0','1+'") "]");
  expect_error(load(NULL, NULL, els, NULL),
               "t.json: data element x.0: duplicate data element code");
}

/* A NUL in a string ("wen\u0000chang") would cut the code short: jansson
 * refuses it (no JSON_ALLOW_NUL), with the line; so does a raw one. */
Test(catalog, a_string_with_a_nul_is_refused) {
  char *s = doc("[{'code':'d','name_zh':'区','name_en':'D','level':'district'},"
                " {'code':'a\\u0000b','parent':'d','name_zh':'甲','name_en':'A',"
                "'level':'town'}]",
                NULL, NULL, NULL);
  cr_assert_neq(load_text(s), 0);
  cr_assert_null(cat);
  cr_assert(strstr(err, "t.json:1:") && strstr(err, "NUL"), "%s", err);
  free(s);

  const char raw[] = "{\"format\":\"tally-cat\0alog/1\"}";
  err[0] = 0;
  cr_assert_eq(tally_catalog_load_buffer("t.json", raw, sizeof raw - 1, &cat,
                                         err, sizeof err),
               TALLY_ECATALOG);
  cr_assert_null(cat);
  cr_assert(strstr(err, "t.json:1:"), "%s", err);
}

/* When reports are due: the defaults, the district's own, and what the
 * loader refuses. */
Test(catalog, deadlines_have_defaults_and_are_checked) {
  char *text = doc(NULL, NULL, NULL, NULL);
  cr_assert_eq(load_text(text), 0, "%s", err);
  cr_expect_eq(cat->deadlines.year_month, 1);
  cr_expect_eq(cat->deadlines.year_day, 20);
  cr_expect_eq(cat->deadlines.quarter_days, 10);
  cr_expect_eq(cat->deadlines.month_day, 20);
  tally_catalog_free(cat);
  static const struct {
    const char *deadlines, *says;
    int year_month, year_day, quarter_days, month_day;
  } cases[] = {
      {"{'year':'02-15','quarter':15,'month':25}", NULL, 2, 15, 15, 25},
      {"{'month':5}", NULL, 1, 20, 10, 5},
      {"{'year':'13-01'}", "year is \"MM-DD\"", 0, 0, 0, 0},
      {"{'year':'02-30'}", "year is \"MM-DD\"", 0, 0, 0, 0},
      {"{'quarter':0}", "quarter is 1-90 days", 0, 0, 0, 0},
      {"{'week':7}", "week", 0, 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = strlen(text) + 64;
    char *with = malloc(n);
    snprintf(with, n, "%.*s,'deadlines':%s}", (int)strlen(text) - 1, text,
             cases[i].deadlines);
    for (char *p = with; *p; p++)
      if (*p == '"')
        *p = '\'';
    int rc = load_text(with);
    free(with);
    if (cases[i].says == NULL) {
      cr_assert_eq(rc, 0, "case %zu: %s", i, err);
      cr_expect_eq(cat->deadlines.year_month, cases[i].year_month, "%zu", i);
      cr_expect_eq(cat->deadlines.year_day, cases[i].year_day, "%zu", i);
      cr_expect_eq(cat->deadlines.quarter_days, cases[i].quarter_days, "%zu", i);
      cr_expect_eq(cat->deadlines.month_day, cases[i].month_day, "%zu", i);
      tally_catalog_free(cat);
    } else {
      cr_expect_eq(rc, TALLY_ECATALOG, "case %zu loaded", i);
      cr_expect(strstr(err, "t.json: deadlines: ") && strstr(err, cases[i].says),
                "case %zu: %s", i, err);
    }
  }
  cat = NULL;
  free(text);
}

/* ---- the definitions of issue 14, as the sources give them ---- */

Test(catalog, builtin_definitions_follow_the_sources) {
  cr_assert_eq(tally_catalog_load_builtin(&cat, err, sizeof err), 0, "%s", err);
  /* H24 divides by the mid-year population, every age group summed. */
  const tally_indicator *h24 = indicator("H24");
  cr_expect_eq(h24->denominator, -1);
  cr_assert_geq(h24->denominator_groups, 0);
  cr_expect_str_eq(cat->age_groups[h24->denominator_groups].code,
                   "midyear_population");
  /* H14 is two coverage rates, each with its baselines and targets. */
  cr_expect_lt(tally_catalog_indicator(cat, "H14"), 0);
  static const struct {
    const char *code, *numerator;
    double province, city;
  } h14[] = {{"H14a", "rural_women_cervical_screened", 41.37, 30.58},
             {"H14b", "rural_women_breast_screened", 34.40, 16.74}};
  for (size_t i = 0; i < 2; i++) {
    const tally_indicator *in = indicator(h14[i].code);
    cr_expect_str_eq(cat->elements[in->numerator].code, h14[i].numerator);
    cr_expect_str_eq(cat->elements[in->denominator].code,
                     "rural_women_eligible");
    cr_assert_eq(in->n_baselines, 2, "%s", in->code);
    cr_expect(in->baselines[0].has_value && in->baselines[1].has_value);
    cr_expect_eq(in->baselines[0].value, h14[i].province, "%s", in->code);
    cr_expect_eq(in->baselines[1].value, h14[i].city, "%s", in->code);
    expect_target(in, 0, 2022, TALLY_OP_GE, 85);
    expect_target(in, 1, 2030, TALLY_OP_GE, 95);
  }
  /* The old H14's numerator stays an element, tied to the new ones. */
  cr_expect_geq(tally_catalog_element(cat, "rural_women_screened"), 0);
  cr_expect_geq(tally_catalog_rule(cat, "screened_both_cervical"), 0);
  cr_expect_geq(tally_catalog_rule(cat, "screened_both_breast"), 0);
  cr_expect_geq(tally_catalog_rule(cat, "H14a_bounded"), 0);
  cr_expect_geq(tally_catalog_rule(cat, "H14b_bounded"), 0);
  cr_expect_lt(tally_catalog_rule(cat, "H14_bounded"), 0);
  /* H10: an established mechanism (已建立, level 1) is what 2022 asks;
   * H09 and H31 keep their levels' order. */
  const tally_indicator *h10 = indicator("H10");
  cr_assert(h10->targets[0].has_level);
  expect_target(h10, 0, 2022, TALLY_OP_GE, 1);
  const tally_level *l =
      tally_element_level(&cat->elements[h10->element], 1);
  cr_assert_not_null(l);
  cr_expect_str_eq(l->zh, "已建立");
  expect_target(indicator("H09"), 0, 2022, TALLY_OP_GE, 2);
  expect_target(indicator("H31"), 0, 2022, TALLY_OP_GE, 1);
  /* H33: at most about 3 %, not within 3 +- 0.5. */
  const tally_indicator *h33 = indicator("H33");
  expect_target(h33, 1, 2030, TALLY_OP_ABOUT_LE, 3);
  cr_expect_eq(h33->targets[1].tolerance, 0.5);
  /* P03, P04, P06: the average annual growth since 2020. */
  static const char *const growths[] = {"P03", "P04", "P06"};
  for (size_t i = 0; i < 3; i++)
    cr_expect_eq(indicator(growths[i])->base_year, 2020, "%s", growths[i]);
  /* The path to a later target: a constant rate for totals, growths and
   * the incomes the plan gives an annual growth for; else a line. */
  cr_expect(indicator("P01")->path_rate);
  cr_expect(indicator("P03")->path_rate);
  cr_expect(indicator("P18")->path_rate);
  cr_expect(indicator("P19")->path_rate);
  cr_expect(indicator("P11")->path_rate); /* 3.6 % a year in the table */
  cr_expect(indicator("P22")->path_rate);
  cr_expect(indicator("P23")->path_rate);
  cr_expect_not(indicator("P02")->path_rate);
  cr_expect_not(indicator("P20")->path_rate);
  cr_expect_not(indicator("H02")->path_rate);
}

Test(catalog, a_ratio_sums_an_age_grouped_element) {
  cr_assert_eq(load_kind("'kind':'ratio','numerator':'n','denominator':'pop'"),
               0, "%s", err);
  cr_expect_eq(cat->indicators[0].denominator, -1);
  cr_expect_eq(cat->indicators[0].denominator_groups,
               tally_catalog_age_groups(cat, "pop"));
  tally_catalog_free(cat);
  cat = NULL;
  expect_kind_error("'kind':'ratio','numerator':'deaths','denominator':'pop',"
                    "'bounded':true",
                    "bounded takes a numerator and a denominator that are "
                    "plain elements, not age groups");
  expect_kind_error("'kind':'intensity_reduction','numerator':'n',"
                    "'denominator':'pop','base_year':2020",
                    "denominator 'pop' is reported by age groups: only a "
                    "ratio sums them");
}

Test(catalog, path_and_about_at_most) {
  cr_assert_eq(load_kind("'kind':'ratio','numerator':'n','denominator':'m',"
                         "'path':'rate','targets':[{'year':2030,"
                         "'op':'about<=','value':3,'tolerance':0.5}]"),
               0, "%s", err);
  cr_expect(cat->indicators[0].path_rate);
  cr_expect_eq(cat->indicators[0].targets[0].op, TALLY_OP_ABOUT_LE);
  tally_catalog_free(cat);
  cat = NULL;
  expect_kind_error("'kind':'ratio','numerator':'n','denominator':'m',"
                    "'path':'curve'",
                    "path 'curve' is not one of: line, rate");
  expect_kind_error("'kind':'ratio','numerator':'n','denominator':'m',"
                    "'targets':[{'year':2030,'op':'about>=','value':3}]",
                    "target #1: about>= needs a tolerance >= 0");
}

/* A plan's actions and the department that leads each (牵头部门). */
#define ACTION(n, extra)                                                   \
  "{'number':" n ",'name_zh':'行动','name_en':'Action','lead_zh':'局',"      \
  "'lead_en':'Bureau'" extra "}"
#define PLAN_WITH(actions)                                                 \
  "[{'code':'p','name_zh':'规划','name_en':'P','start_year':2021,"           \
  "'actions':" actions "}]"

Test(catalog, an_indicator_belongs_to_an_action_of_its_plan) {
  cr_assert_eq(load(NULL, PLAN_WITH("[" ACTION("1", "") "," ACTION("2",
                    ",'part_zh':'部分','part_en':'Part'") "]"), NULL,
                    "[" INDICATOR_WITH("X01", RATIO ",'action':2") ","
                    INDICATOR_WITH("X02", RATIO) "]"),
               0, "%s", err);
  cr_assert_eq(cat->plans[0].n_actions, 2);
  cr_expect_str_eq(cat->plans[0].actions[1].lead_zh, "局");
  cr_expect_str_eq(cat->plans[0].actions[1].part_en, "Part");
  cr_expect_null(cat->plans[0].actions[0].part_zh);
  cr_expect_eq(cat->indicators[0].action, 1);
  cr_expect_eq(cat->indicators[1].action, -1, "none given");
}

Test(catalog, actions_are_numbered_in_order) {
  expect_error(load(NULL, PLAN_WITH("[" ACTION("1", "") "," ACTION("3", "") "]"),
                    NULL, NULL),
               "t.json: plan p: action #2: number is 3: the actions are "
               "numbered 1, 2, ... in order");
}

Test(catalog, an_action_needs_its_lead_department) {
  expect_error(load(NULL, PLAN_WITH("[{'number':1,'name_zh':'行动',"
                    "'name_en':'A','lead_en':'Bureau'}]"), NULL, NULL),
               "t.json: plan p: action #1: Object item not found: lead_zh");
  fini();
  expect_error(load(NULL, PLAN_WITH("[" ACTION("1", ",'lead':'x'") "]"), NULL,
                    NULL),
               "t.json: plan p: action #1: 1 object item(s) left unpacked: "
               "lead");
  fini();
  expect_error(load(NULL, PLAN_WITH("[" ACTION("1", ",'part_zh':'部分'") "]"),
                    NULL, NULL),
               "t.json: plan p: action #1: part_zh and part_en go together");
}

Test(catalog, an_action_the_plan_does_not_have) {
  expect_error(load(NULL, PLAN_WITH("[" ACTION("1", "") "]"), NULL,
                    "[" INDICATOR_WITH("X01", RATIO ",'action':2") "]"),
               "t.json: indicator X01: action 2 is not one of plan p's "
               "actions (1-1)");
  fini();
  expect_error(load(NULL, NULL, NULL,
                    "[" INDICATOR_WITH("X01", RATIO ",'action':1") "]"),
               "t.json: indicator X01: plan p has no actions");
}

/* The health action's fifteen actions, each with its lead department,
 * and the indicators the source names in each (the three of its
 * overall goals, life expectancy, physicians and out-of-pocket
 * spending, in none). */
Test(catalog, the_builtin_health_actions_and_their_leads) {
  cr_assert_eq(tally_catalog_load_builtin(&cat, err, sizeof err), 0, "%s", err);
  const tally_plan *health = &cat->plans[0];
  cr_assert_str_eq(health->code, "health");
  cr_assert_eq(health->n_actions, 15);
  cr_expect_str_eq(health->actions[2].name_zh, "全民健身行动");
  cr_expect_str_eq(health->actions[2].lead_zh, "区教育体育局");
  cr_expect_str_eq(health->actions[7].lead_zh, "区教育体育局");
  cr_expect_str_eq(health->actions[6].lead_zh, "区卫生健康局");
  cr_expect_str_eq(health->actions[14].part_zh, "防控重大疾病");
  cr_expect_eq(cat->plans[1].n_actions, 0, "the five-year plan has none");
  static const struct { const char *code; int action; } some[] = {
      {"H01", 0}, {"H02", 7}, {"H05", 3}, {"H06", 0}, {"H07", 0},
      {"H08", 1}, {"H12", 4}, {"H18", 8}, {"H25", 13}, {"H29", 15},
      {"H30b", 11}, {"H31", 2}, {"P01", 0}};
  for (size_t i = 0; i < sizeof some / sizeof some[0]; i++) {
    int ind = tally_catalog_indicator(cat, some[i].code);
    cr_assert_geq(ind, 0, "%s", some[i].code);
    cr_expect_eq(cat->indicators[ind].action + 1, some[i].action, "%s",
                 some[i].code);
  }
  int without = 0;
  for (size_t i = 0; i < cat->n_indicators; i++)
    without += cat->indicators[i].plan == 0 && cat->indicators[i].action < 0;
  cr_expect_eq(without, 3, "H01, H06 and H07 only");
}

/* A figure's refusal from a catalog of its own: an element without
 * unit_zh is refused in its English unit, and a Chinese name longer
 * than the message's room is cut between characters, never in one. */
Test(catalog, a_figures_refusal_without_unit_zh_or_with_a_long_name) {
  char elements[1200] = "[{'code':'n','name_zh':'";
  for (int i = 0; i < 250; i++)
    strcat(elements, "\xe5\xa9\xb4"); /* 婴, 750 bytes in all */
  strcat(elements, "','name_en':'N','unit':'persons','type':'count'},"
                   ELEMENT("m") "]");
  cr_assert_eq(load(NULL, NULL, elements, NULL), 0, "%s", err);
  int m = tally_catalog_element(cat, "m"), n = tally_catalog_element(cat, "n");
  char why[600];
  cr_assert_eq(tally_figure_ok(cat, cat->root, m, 2.5, why, sizeof why), 0);
  cr_assert_str_eq(why, "\xe6\x95\xb0\xef\xbc\x9a" /* 数： */
                   "2.5 \xe4\xb8\x8d\xe6\x98\xaf\xe6\x95\xb4\xe6\x95\xb0"
                   "\xef\xbc\x88persons\xef\xbc\x89 / m: 2.5 is not a whole "
                   "number of persons"); /* 不是整数（persons） */
  for (size_t size = 500; size < sizeof why; size++) {
    cr_assert_eq(tally_figure_ok(cat, cat->root, n, 2.5, why, size), 0);
    cr_assert_eq(tally_utf8_valid_prefix(why, strlen(why)), strlen(why),
                 "size %zu: %s", size, why);
  }
}
