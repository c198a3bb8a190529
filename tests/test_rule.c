/* test_rule.c: validation rules: how the catalog writes them, how the
 * loader refuses bad ones, and how each kind of rule is checked
 * (common/catalog_rules.c, common/rule.c). The built-in catalog's rules
 * are checked on the figures they are there to stop. */
#include "catalog.h"
#include "error.h"
#include "fixture.h"
#include "rule.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A small catalog with ' for "; RULES is spliced in. */
#define CATALOG(RULES, BOUNDED)                                                \
  "{'format':'tally-catalog/1','name':'t',"                                    \
  "'units':[{'code':'d','name_zh':'区','name_en':'D','level':'district'},"     \
  "{'code':'a','parent':'d','name_zh':'甲','name_en':'A','level':'town'}],"    \
  "'plans':[{'code':'p','name_zh':'规划','name_en':'P','start_year':2021}],"   \
  "'data_elements':["                                                          \
  "{'code':'n','name_zh':'子','name_en':'part','unit':'u','type':'count'},"    \
  "{'code':'m','name_zh':'母','name_en':'whole','unit':'u','type':'count'},"   \
  "{'code':'k','name_zh':'区数','name_en':'K','unit':'u','type':'count',"      \
  "'reported_by':'district'},"                                                 \
  "{'code':'s','name_zh':'状态','name_en':'S','unit':'','type':'status',"      \
  "'reported_by':'district','levels':[{'value':0,'zh':'无','en':'no'},"        \
  "{'value':1,'zh':'有','en':'yes'}]},"                                        \
  "{'code':'pop','name_zh':'人口','name_en':'pop','unit':'u','type':'count',"  \
  "'age_groups':['0','1-4','5-9','10+']}],"                                    \
  "'indicators':[{'code':'X01','plan':'p','name_zh':'率','name_en':'R',"       \
  "'unit':'pct','direction':'up','source':'s','kind':'ratio',"                   \
  "'numerator':'n','denominator':'m'" BOUNDED "}]" RULES "}"

#define RULE(extra)                                                            \
  "{'code':'r1','left':'n','op':'<=','right':'m','severity':'error',"          \
  "'message_zh':'子不能多于母','message_en':'part cannot exceed whole'" extra "}"

static tally_catalog *cat;
static char err[1024];

static int load(const char *text) {
  return tally_test_catalog_load("t.json", text, &cat, err, sizeof err);
}

static void teardown(void) {
  tally_catalog_free(cat);
  cat = NULL;
}

TestSuite(rule, .fini = teardown);

/* A row of the catalog's elements; set(code, value) fills one. */
#define ROW_MAX 512
static double value[ROW_MAX];
static unsigned char has[ROW_MAX];

static void clear(void) {
  memset(value, 0, sizeof value);
  memset(has, 0, sizeof has);
}

static void set(const char *code, double v) {
  int e = tally_catalog_element(cat, code);
  cr_assert_geq(e, 0, "%s", code);
  cr_assert_lt(cat->n_elements, ROW_MAX, "a row holds every element");
  value[e] = v;
  has[e] = 1;
}

static tally_rule_result check(const char *code) {
  int r = tally_catalog_rule(cat, code);
  double l, x;
  cr_assert_geq(r, 0, "no rule %s", code);
  return tally_rule_check(&cat->rules[r], value, has, &l, &x);
}

Test(rule, each_comparison_holds_and_breaks_where_it_should) {
  static const struct {
    const char *op;
    double n, m;
    tally_rule_result want;
  } cases[] = {
      {"<=", 3, 3, TALLY_RULE_HOLDS}, {"<=", 4, 3, TALLY_RULE_BROKEN},
      {"<", 3, 3, TALLY_RULE_BROKEN}, {"<", 2, 3, TALLY_RULE_HOLDS},
      {">=", 3, 3, TALLY_RULE_HOLDS}, {">=", 2, 3, TALLY_RULE_BROKEN},
      {">", 3, 3, TALLY_RULE_BROKEN}, {">", 4, 3, TALLY_RULE_HOLDS},
      {"=", 3, 3, TALLY_RULE_HOLDS},  {"=", 4, 3, TALLY_RULE_BROKEN},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[2048];
    snprintf(text, sizeof text,
             CATALOG(",'rules':[{'code':'r1','left':'n','op':'%s','right':'m',"
                     "'severity':'error','message_zh':'甲','message_en':'a'}]",
                     ""),
             cases[i].op);
    cr_assert_eq(load(text), 0, "%s", err);
    clear();
    set("n", cases[i].n);
    set("m", cases[i].m);
    cr_expect_eq(check("r1"), cases[i].want, "%g %s %g", cases[i].n,
                 cases[i].op, cases[i].m);
    teardown();
  }
}

Test(rule, a_missing_figure_skips_the_rule_or_counts_as_zero) {
  cr_assert_eq(load(CATALOG(",'rules':[" RULE("") "," 
                            "{'code':'r2','left':'n','op':'<=','right':'m',"
                            "'severity':'warning','missing':'skip_if_all',"
                            "'message_zh':'甲','message_en':'a'}]", "")), 0,
               "%s", err);
  clear();
  set("n", 5);
  cr_expect_eq(check("r1"), TALLY_RULE_SKIPPED, "skip_if_any: m is missing");
  cr_expect_eq(check("r2"), TALLY_RULE_BROKEN, "skip_if_all: m counts as 0");
  clear();
  cr_expect_eq(check("r2"), TALLY_RULE_SKIPPED, "both missing");
  cr_expect(cat->rules[tally_catalog_rule(cat, "r2")].warning);
  cr_expect_not(cat->rules[tally_catalog_rule(cat, "r1")].warning);
}

Test(rule, sides_sum_age_groups_with_a_factor_and_a_constant) {
  cr_assert_eq(
      load(CATALOG(",'rules':["
                   "{'code':'all','left':'pop','op':'=','right':'m',"
                   "'severity':'error','message_zh':'甲','message_en':'a'},"
                   "{'code':'young','left':'pop.0..5-9','op':'=',"
                   "'right':{'sum':['n'],'factor':2,'constant':1},"
                   "'severity':'error','message_zh':'甲','message_en':'a'},"
                   "{'code':'near','left':'n','op':'=','right':'m',"
                   "'tolerance_percent':10,'severity':'warning',"
                   "'message_zh':'甲','message_en':'a'}]",
                   "")),
      0, "%s", err);
  clear();
  set("pop.0", 10);
  set("pop.1-4", 20);
  set("pop.5-9", 30);
  set("pop.10+", 40);
  set("m", 100);
  set("n", 29.5);
  cr_expect_eq(check("all"), TALLY_RULE_HOLDS);
  cr_expect_eq(check("young"), TALLY_RULE_HOLDS, "60 = 2 x 29.5 + 1");
  set("pop.10+", 41);
  cr_expect_eq(check("all"), TALLY_RULE_BROKEN);
  cr_expect_eq(check("near"), TALLY_RULE_BROKEN, "29.5 is not 100 +- 10 %%");
  set("n", 91);
  cr_expect_eq(check("near"), TALLY_RULE_HOLDS);
  set("n", 110);
  cr_expect_eq(check("near"), TALLY_RULE_HOLDS);
  set("n", 110.5);
  cr_expect_eq(check("near"), TALLY_RULE_BROKEN);
  char text[256];
  tally_rule_text(cat, &cat->rules[tally_catalog_rule(cat, "young")], text,
                  sizeof text);
  cr_expect_str_eq(text, "pop.0 + ... + pop.5-9 = 2 x n + 1");
}

Test(rule, a_bounded_ratio_is_a_rule_of_its_own) {
  cr_assert_eq(load(CATALOG("", ",'bounded':true")), 0, "%s", err);
  int r = tally_catalog_rule(cat, "X01_bounded");
  cr_assert_geq(r, 0);
  cr_expect_eq(cat->rules[r].indicator, 0);
  cr_expect_not(cat->rules[r].warning);
  clear();
  set("n", 4);
  set("m", 3);
  cr_expect_eq(check("X01_bounded"), TALLY_RULE_BROKEN);
  cr_expect(strstr(cat->rules[r].message_en, "part cannot exceed whole"));
}

Test(rule, the_loader_refuses_a_bad_rule_and_says_why) {
  static const struct {
    const char *rules, *says;
  } cases[] = {
      {",'rules':[" RULE(",'extra':1") "]", "extra"},
      {",'rules':[" RULE(",'tolerance':1") "]", "tolerance goes with"},
      {",'rules':[{'code':'r1','left':'nn','op':'<=','right':'m',"
       "'severity':'error','message_zh':'甲','message_en':'a'}]",
       "'nn' is not a data element"},
      {",'rules':[{'code':'r1','left':'n','op':'!=','right':'m',"
       "'severity':'error','message_zh':'甲','message_en':'a'}]",
       "op '!='"},
      {",'rules':[{'code':'r1','left':'n','op':'<','right':'m',"
       "'severity':'fatal','message_zh':'甲','message_en':'a'}]",
       "severity 'fatal'"},
      {",'rules':[{'code':'r1','left':'n','op':'<','right':'m',"
       "'severity':'error','missing':'zero','message_zh':'甲','message_en':'a'}]",
       "missing 'zero'"},
      {",'rules':[{'code':'r1','left':'n','op':'<','right':'k',"
       "'severity':'error','message_zh':'甲','message_en':'a'}]",
       "reported by the district"},
      {",'rules':[{'code':'r1','left':'s','op':'<','right':1,"
       "'severity':'error','message_zh':'甲','message_en':'a'}]",
       "status"},
      {",'rules':[{'code':'r1','left':1,'op':'<','right':2,"
       "'severity':'error','message_zh':'甲','message_en':'a'}]",
       "at least one data element"},
      {",'rules':[{'code':'r1','left':'pop.5-9..0','op':'<','right':'m',"
       "'severity':'error','message_zh':'甲','message_en':'a'}]",
       "run from a label to a later one"},
      {",'rules':[{'code':'r1','left':{'sum':['n','n']},'op':'<','right':'m',"
       "'severity':'error','message_zh':'甲','message_en':'a'}]",
       "summed twice"},
      {",'rules':[{'code':'r1','left':{'sum':['n'],'factor':0},'op':'<',"
       "'right':'m','severity':'error','message_zh':'甲','message_en':'a'}]",
       "factor must be above 0"},
      {",'rules':[" RULE("") "," RULE("") "]", "duplicate rule code"},
      {",'rules':[{'code':'1r','left':'n','op':'<','right':'m',"
       "'severity':'error','message_zh':'甲','message_en':'a'}]",
       "code must be a letter"},
      {",'rules':[{'code':'r1','left':'n','op':'<','right':'m',"
       "'severity':'error','message_zh':'','message_en':'a'}]",
       "message_zh and message_en"},
      {",'rules':{}", "rules: must be an array"},
      {",'outliers':{}", "outliers: must be an array"},
      {",'outliers':[{'code':'o1','test':'trend','element':'n',"
       "'message_zh':'甲','message_en':'a'}]", "test 'trend'"},
      {",'outliers':[{'code':'o1','test':'history','element':'nn',"
       "'message_zh':'甲','message_en':'a'}]", "'nn' is not a data element"},
      {",'outliers':[{'code':'o1','test':'history','element':'s',"
       "'message_zh':'甲','message_en':'a'}]", "status"},
      {",'outliers':[{'code':'o1','test':'history','element':'n',"
       "'min_years':2,'message_zh':'甲','message_en':'a'}]",
       "3 <= min_years <= years"},
      {",'outliers':[{'code':'o1','test':'history','element':'n',"
       "'alpha':0.01,'message_zh':'甲','message_en':'a'}]",
       "a history test takes"},
      {",'outliers':[{'code':'o1','test':'units','indicator':'X02',"
       "'message_zh':'甲','message_en':'a'}]", "'X02' is not in the catalog"},
      {",'outliers':[{'code':'o1','test':'units','indicator':'X01',"
       "'alpha':0.5,'message_zh':'甲','message_en':'a'}]", "alpha must be"},
      {",'outliers':[{'code':'o1','test':'units','indicator':'X01',"
       "'threshold':3,'message_zh':'甲','message_en':'a'}]",
       "a units test takes"},
      {",'outliers':[{'code':'o1','test':'units','indicator':'X01',"
       "'message_zh':'甲','message_en':''}]", "message_zh and message_en"},
      {",'rules':[" RULE("") "],'outliers':[{'code':'r1','test':'history',"
       "'element':'n','message_zh':'甲','message_en':'a'}]",
       "duplicate rule code"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[2048];
    snprintf(text, sizeof text, CATALOG("%s", ""), cases[i].rules);
    cr_expect_eq(load(text), TALLY_ECATALOG, "case %zu loaded", i);
    cr_expect(strstr(err, cases[i].says) && strstr(err, "t.json: "),
              "case %zu: '%s' does not say '%s'", i, err, cases[i].says);
    teardown();
  }
  /* A rule's code may not be a bounded ratio's. */
  cr_expect_eq(load(CATALOG(",'rules':[{'code':'X01_bounded','left':'n',"
                            "'op':'<','right':'m','severity':'error',"
                            "'message_zh':'甲','message_en':'a'}]",
                            ",'bounded':true")),
               TALLY_ECATALOG);
  cr_expect(strstr(err, "made for a bounded ratio"), "%s", err);
}

/* The outlier tests load as warnings that rule.c leaves to the server. */
Test(rule, an_outlier_test_is_a_warning_checked_beyond_the_row) {
  cr_assert_eq(load(CATALOG(",'outliers':[{'code':'o1','test':'history',"
                            "'element':'n','message_zh':'甲','message_en':'a'},"
                            "{'code':'o2','test':'units','indicator':'X01',"
                            "'alpha':0.01,'message_zh':'乙','message_en':'b'}]",
                            "")),
               0, "%s", err);
  int h = tally_catalog_rule(cat, "o1"), u = tally_catalog_rule(cat, "o2");
  cr_assert(h >= 0 && u >= 0);
  cr_expect_eq(cat->rules[h].test, TALLY_RULE_HISTORY);
  cr_expect(cat->rules[h].warning);
  cr_expect_eq(cat->rules[h].threshold, 3.5, "the default threshold");
  cr_expect_eq(cat->rules[h].min_years, 3);
  cr_expect_eq(cat->rules[u].test, TALLY_RULE_UNITS);
  cr_expect_eq(cat->rules[u].alpha, 0.01);
  cr_expect(tally_rule_reads(&cat->rules[u], tally_catalog_element(cat, "m")));
  clear();
  set("n", 1e9);
  set("m", 1);
  cr_expect_eq(check("o1"), TALLY_RULE_SKIPPED);
  cr_expect_eq(check("o2"), TALLY_RULE_SKIPPED);
  char text[256];
  tally_rule_text(cat, &cat->rules[u], text, sizeof text);
  cr_expect_str_eq(text, "n / m against the other units' (two-sided p at "
                         "least 0.01)");
}

/* The figures the issue found stored without a word. */
Test(rule, the_built_in_rules_refuse_the_impossible_figures) {
  cr_assert_eq(tally_catalog_load_builtin(&cat, err, sizeof err), 0, "%s", err);
  clear();
  set("live_births", 1255);
  set("infant_deaths", 2000);
  cr_expect_eq(check("infant_deaths"), TALLY_RULE_BROKEN);
  set("under5_deaths", 1999);
  cr_expect_eq(check("under5_deaths"), TALLY_RULE_BROKEN);
  set("deaths.0", 3);
  cr_expect_eq(check("deaths_0"), TALLY_RULE_BROKEN);
  set("nip_eligible_children", 1000);
  set("nip_vaccinated_children", 1300);
  cr_expect_eq(check("nip_vaccinated"), TALLY_RULE_BROKEN);
  set("population_under70", 10);
  const char *groups[] = {"0", "1-4", "5-9", "10-14", "15-19", "20-24",
                          "25-29", "30-34", "35-39", "40-44", "45-49",
                          "50-54", "55-59", "60-64", "65-69"};
  char code[64];
  for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
    snprintf(code, sizeof code, "midyear_population.%s", groups[i]);
    set(code, 5000);
  }
  cr_expect_eq(check("population_under70"), TALLY_RULE_BROKEN);
  set("population_under70", 75000);
  cr_expect_eq(check("population_under70"), TALLY_RULE_HOLDS);
  set("resident_population", 100000);
  set("urban_residents", 60000);
  set("rural_residents", 30000);
  cr_expect_eq(check("urban_rural"), TALLY_RULE_BROKEN);
  set("rural_residents", 40000);
  cr_expect_eq(check("urban_rural"), TALLY_RULE_HOLDS);
  /* Each bounded ratio of the catalog has its rule. */
  for (size_t i = 0; i < cat->n_indicators; i++) {
    snprintf(code, sizeof code, "%s_bounded", cat->indicators[i].code);
    cr_expect_eq(tally_catalog_rule(cat, code) >= 0,
                 cat->indicators[i].bounded != 0, "%s", code);
  }
}
