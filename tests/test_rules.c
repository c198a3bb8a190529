/* test_rules.c: the catalog's rules at work, through the real tally and
 * tallyd: impossible figures refused with every rule they break and the
 * lines they are on; warnings refused without an explanation and kept
 * with one (from --explain or a row of the file); rules across
 * submissions; and tally validate over what is stored. */
#include "figures.h"
#include "fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tally_test_server srv;
static char files[256];

static void setup(void) { tally_test_cli_start(&srv, files, sizeof files); }
static void teardown(void) { tally_test_cli_stop(&srv, files); }

TestSuite(rules, .init = setup, .fini = teardown, .timeout = 120);

static const char *file_with(const char *name, const char *text) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", files, name);
  tally_test_write_file(path, text);
  return path;
}

/* Runs tally submit as unit's reporter with the extra arguments. */
static int submit(const char *unit, const char *file, const char *extra1,
                  const char *extra2, char **out, char **err) {
  tally_test_sign_in(&srv, "reporter", unit);
  const char *args[] = {"submit", "--unit", unit, "--period", "2022", "--file",
                        file, extra1, extra2, NULL};
  return tally_test_run(args, NULL, out, err);
}

static char *values(const char *unit) {
  char *out = NULL, *err = NULL;
  tally_test_sign_in(&srv, "analyst", NULL);
  int rc = RUN(&out, &err, "values", "--unit", unit, "--period", "2022");
  cr_assert_eq(rc, 0, "%s", err);
  free(err);
  return out;
}

/* The figures the issue found stored without a word: each rule is
 * named, with the lines of the figures it reads, in one reply. */
Test(rules, impossible_figures_are_refused_with_every_rule_they_break) {
  const char *f = file_with("bad.csv",
                            "data_element,value\n"
                            "live_births,1255\n"          /* line 2 */
                            "infant_deaths,2000\n"        /* line 3 */
                            "under5_deaths,1500\n"        /* line 4 */
                            "deaths.0,3\n"                /* line 5 */
                            "nip_eligible_children,1000\n"
                            "nip_vaccinated_children,1300\n" /* line 7 */
                            "resident_population,100000\n"
                            "urban_residents,60000\n"
                            "rural_residents,30000\n");   /* line 10 */
  char *out = NULL, *err = NULL;
  cr_assert_eq(submit("wenchang", f, NULL, NULL, &out, &err), 1, "%s%s", out,
               err);
  cr_expect(strstr(err, "break 5 of the catalog's rules"), "%s", err);
  cr_expect(strstr(err, "nothing was stored"), "%s", err);
  static const char *const broken[] = {
      "line 2 (and 3): warning infant_deaths: 婴儿死亡数不能多于活产数",
      "line 3 (and 4): error under5_deaths",
      "line 3 (and 5): error deaths_0",
      "line 6 (and 7): error nip_vaccinated",
      "line 8 (and 9, 10): error urban_rural",
      "warning maternal_deaths"};
  for (size_t i = 0; i < 5; i++)
    cr_expect(strstr(err, broken[i]), "'%s' is not in:\n%s", broken[i], err);
  cr_expect(strstr(err, "infant_deaths = 2000, live_births = 1255"), "%s", err);
  cr_expect(strstr(err, "urban_residents + rural_residents = 90000, "
                        "resident_population = 100000"), "%s", err);
  /* maternal_deaths is not in the file: that rule is skipped. */
  cr_expect_null(strstr(err, broken[5]), "%s", err);
  free(out);
  free(err);
  char *v = values("wenchang");
  cr_expect(strstr(v, "0 values"), "%s", v);
  free(v);
  /* Nothing waits in the spool: the refusal is final. It is set aside,
   * and --clear deletes what was set aside. */
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(&out, NULL, "pending", "--format", "json"), 0);
  cr_expect(strstr(out, "\"pending\": []"), "%s", out);
  cr_expect(strstr(out, "\"refused_count\": 1"), "%s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "pending", "--refused", "--clear"), 0);
  cr_expect(strstr(out, "1 submission set aside deleted"), "%s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "pending", "--refused", "--format", "json"), 0);
  cr_expect(strstr(out, "\"refused\": []"), "%s", out);
  free(out);
  cr_assert_eq(RUN(NULL, &err, "pending", "--clear"), 2);
  cr_expect(strstr(err, "--clear deletes the submissions set aside, with "
                        "--refused"), "%s", err);
  free(err);
}

/* tally form writes whose form it is and for which period; sent for
 * another, it is refused before anything is spooled, unless --force. */
Test(rules, a_form_knows_its_unit_and_period) {
  char *out = NULL, *err = NULL;
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "form", "--unit", "wenchang", "--period",
                   "2022"), 0, "%s", err);
  /* The UTF-8 mark first, for Excel; no comment row that a comma would
   * spread over cells. */
  cr_assert(strncmp(out, "\xef\xbb\xbf#form,wenchang,2022\n", 23) == 0, "%s",
            out);
  for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1
                                                          : NULL)
    if (*l == '#' && strncmp(l, "#form,", 6) != 0) {
      const char *end = strchr(l, '\n');
      cr_expect(memchr(l, ',', end ? (size_t)(end - l) : strlen(l)) == NULL,
                "a comma in the comment row %.60s", l);
    }
  free(err);
  /* Filled in with one figure. */
  size_t len = strlen(out) + 64;
  char *filled = malloc(len);
  snprintf(filled, len, "%slive_births,812\n", out);
  free(out);
  const char *f = file_with("form.csv", filled);
  free(filled);
  cr_assert_eq(submit("guide", f, NULL, NULL, &out, &err), 1, "%s", err);
  cr_expect(strstr(err, "line 1: this is the form of wenchang for 2022, sent "
                        "as guide's figures for 2022"), "%s", err);
  cr_expect(strstr(err, "give --force"), "%s", err);
  free(out);
  free(err);
  tally_test_sign_in(&srv, "reporter", "guide");
  cr_assert_eq(RUN(&out, NULL, "pending", "--format", "json"), 0);
  cr_expect(strstr(out, "\"pending\": []") &&
                strstr(out, "\"refused_count\": 0"), "nothing spooled: %s",
            out);
  free(out);
  cr_assert_eq(submit("guide", f, "--force", NULL, &out, &err), 0, "%s", err);
  free(out);
  free(err);
  /* For its own unit and period it goes through. */
  tally_test_sign_in(&srv, "reporter", "wenchang");
  const char *args[] = {"submit", "--unit", "wenchang", "--period", "2022",
                        "--file", f, NULL};
  cr_assert_eq(tally_test_run(args, NULL, &out, &err), 0, "%s", err);
  free(out);
  free(err);
}

/* The mid-year population 20 % above the year-end one: a warning. */
#define UNUSUAL \
  "resident_population,100000\n" \
  "midyear_population.0,6000\n" \
  "midyear_population.1-4,6000\n" \
  "midyear_population.5-9,6000\n" \
  "midyear_population.10-14,6000\n" \
  "midyear_population.15-19,6000\n" \
  "midyear_population.20-24,6000\n" \
  "midyear_population.25-29,6000\n" \
  "midyear_population.30-34,6000\n" \
  "midyear_population.35-39,6000\n" \
  "midyear_population.40-44,6000\n" \
  "midyear_population.45-49,6000\n" \
  "midyear_population.50-54,6000\n" \
  "midyear_population.55-59,6000\n" \
  "midyear_population.60-64,6000\n" \
  "midyear_population.65-69,6000\n" \
  "midyear_population.70-74,6000\n" \
  "midyear_population.75-79,6000\n" \
  "midyear_population.80-84,6000\n" \
  "midyear_population.85+,12000\n"

Test(rules, a_warning_needs_an_explanation_and_it_is_kept) {
  const char *f = file_with("unusual.csv", UNUSUAL);
  char *out = NULL, *err = NULL;
  cr_assert_eq(submit("guide", f, NULL, NULL, &out, &err), 1, "%s", err);
  cr_expect(strstr(err, "warning midyear_population"), "%s", err);
  cr_expect(strstr(err, "--explain midyear_population=\"...\""), "%s", err);
  free(out);
  free(err);

  cr_assert_eq(submit("guide", f, "--explain",
                      "midyear_population=第七次人口普查后调整", &out, &err),
               0, "%s", err);
  cr_expect(strstr(out, "warning midyear_population, explained as "
                        "\"第七次人口普查后调整\""), "%s", out);
  free(out);
  free(err);
  char *v = values("guide");
  cr_expect(strstr(v, "explained, rule midyear_population"), "%s", v);
  cr_expect(strstr(v, "第七次人口普查后调整"), "%s", v);
  free(v);

  /* In the history and the audit trail too. */
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "history", "--unit", "guide", "--period",
                   "2022"), 0, "%s", err);
  cr_expect(strstr(out, "explained rule midyear_population: 第七次人口普查后调整"),
            "%s", out);
  free(out);
  free(err);
  cr_assert_eq(RUN(&out, &err, "audit", "--unit", "guide", "--period", "2022"),
               0, "%s", err);
  cr_expect(strstr(out, "explained midyear_population"), "%s", out);
  free(out);
  free(err);

  /* A correction that makes the rule hold (108,000 is within 10 % of
   * 100,000): the explanation goes. */
  f = file_with("fixed.csv", "midyear_population.85+,0\n");
  cr_assert_eq(submit("guide", f, NULL, NULL, &out, &err), 0, "%s", err);
  free(out);
  free(err);
  v = values("guide");
  cr_expect_null(strstr(v, "explained"), "%s", v);
  free(v);
}

Test(rules, an_explanation_row_in_the_file_explains_a_warning) {
  const char *f = file_with("explained.csv",
                            UNUSUAL "explain:midyear_population,普查后调整\n");
  char *out = NULL, *err = NULL;
  cr_assert_eq(submit("wande", f, NULL, NULL, &out, &err), 0, "%s", err);
  free(out);
  free(err);
  char *v = values("wande");
  cr_expect(strstr(v, "普查后调整"), "%s", v);
  free(v);
}

Test(rules, an_error_rule_is_not_explained_away) {
  const char *f = file_with("bad.csv", "infant_deaths,20\ndeaths.0,3\n");
  char *out = NULL, *err = NULL;
  cr_assert_eq(submit("pingan", f, "--explain", "deaths_0=真的",
                      &out, &err), 1, "%s", err);
  cr_expect(strstr(err, "is an error rule"), "%s", err);
  free(out);
  free(err);
  cr_assert_eq(submit("pingan", f, "--explain", "no_such_rule=x", &out, &err),
               1, "%s", err);
  cr_expect(strstr(err, "'no_such_rule' is refused: the rule is not a rule "
                        "of the catalog"), "%s", err);
  free(out);
  free(err);
  cr_assert_eq(submit("pingan", f, "--explain", "no equals sign", &out, &err),
               2, "%s", err);
  cr_expect(strstr(err, "--explain takes RULE=TEXT"), "%s", err);
  free(out);
  free(err);
}

/* The figures as they stand with those stored before are checked: the
 * rule reads one figure of each submission. */
Test(rules, a_rule_holds_across_submissions) {
  char *out = NULL, *err = NULL;
  const char *f = file_with("one.csv", "infant_deaths,10\n");
  cr_assert_eq(submit("xiaoli", f, NULL, NULL, &out, &err), 0, "%s", err);
  free(out);
  free(err);
  f = file_with("two.csv", "under5_deaths,5\n");
  cr_assert_eq(submit("xiaoli", f, NULL, NULL, &out, &err), 1, "%s", err);
  cr_expect(strstr(err, "error under5_deaths"), "%s", err);
  cr_expect(strstr(err, "line 1: "), "the line of under5_deaths: %s", err);
  free(out);
  free(err);
}

/* Figures stored before the rules (written to the store directly, as an
 * older tallyd would have): tally validate finds them. */
Test(rules, validate_lists_what_is_stored) {
  static const tally_test_report broken[] = {
      {"mashan", "2022", {{"infant_deaths", 2}, {"deaths.0", 3}}, 2,
       1700000000}};
  tally_test_store_reports(&srv, broken, 1);

  char *out = NULL, *err = NULL;
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "validate", "--period", "2022"), 1, "%s%s", out,
               err);
  cr_expect(strstr(out, "11 units checked"), "%s", out);
  cr_expect(strstr(out, "1 error, 0 warnings"), "%s", out);
  cr_expect(strstr(out, "mashan") && strstr(out, "deaths.0 = 3"), "%s",
            out);
  free(out);
  free(err);
  /* A reporter validates its own unit. */
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(&out, &err, "validate", "--period", "2022"), 0, "%s", err);
  cr_expect(strstr(out, "1 unit checked"), "%s", out);
  free(out);
  free(err);
  cr_assert_eq(RUN(&out, &err, "validate", "--period", "2022", "--unit",
                   "mashan"), 1);
  cr_expect(strstr(err, "permission denied"), "%s", err);
  free(out);
  free(err);
}

/* An explanation is of particular figures: the same figures explained
 * anew are in the history with the new words; other figures that break
 * the same warning need an explanation of their own. */
Test(rules, an_explanation_is_of_the_figures_it_was_given_for) {
  const char *f = file_with("unusual.csv", UNUSUAL);
  char *out = NULL, *err = NULL;
  cr_assert_eq(submit("zhangxia", f, "--explain", "midyear_population=普查",
                      &out, &err), 0, "%s", err);
  free(out);
  free(err);
  cr_assert_eq(submit("zhangxia", f, "--explain",
                      "midyear_population=完全不同的说明", &out, &err), 0, "%s",
               err);
  free(out);
  free(err);
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "history", "--unit", "zhangxia", "--period",
                   "2022"), 0, "%s", err);
  cr_expect(strstr(out, "revision 2 explained rule midyear_population: "
                        "完全不同的说明"), "%s", out);
  free(out);
  free(err);
  char *v = values("zhangxia");
  cr_expect(strstr(v, "完全不同的说明"), "%s", v);
  free(v);

  /* 130,000 against 100,000: the same warning, other figures. */
  f = file_with("more.csv", "midyear_population.85+,22000\n");
  cr_assert_eq(submit("zhangxia", f, NULL, NULL, &out, &err), 1, "%s", err);
  cr_expect(strstr(err, "warning midyear_population"), "%s", err);
  free(out);
  free(err);
  cr_assert_eq(submit("zhangxia", f, "--explain", "midyear_population=又修订",
                      &out, &err), 0, "%s", err);
  free(out);
  free(err);
  /* The same figures again, unexplained: the kept explanation is theirs. */
  cr_assert_eq(submit("zhangxia", f, NULL, NULL, &out, &err), 0, "%s", err);
  cr_expect(strstr(out, "warning midyear_population, explained before"), "%s",
            out);
  free(out);
  free(err);
}

/* A figure far from the unit's own earlier years: live births of 1,000,
 * 1,010, 990 and 1,005 (median 1,002.5, MAD 5) and then 1,100 is a
 * modified z-score of 0.6745 x 97.5 / 5 = 13.2; 1,010 is 1.0. */
/* guide's live births of four years, near 1,000 each: 1,100 is far. */
static const tally_test_report guide_years[] = {
    {"guide", "2018", {{"live_births", 1000}}, 1, 1550000000},
    {"guide", "2019", {{"live_births", 1010}}, 1, 1580000000},
    {"guide", "2020", {{"live_births", 990}}, 1, 1610000000},
    {"guide", "2021", {{"live_births", 1005}}, 1, 1640000000}};

Test(rules, a_figure_far_from_its_own_years_is_a_warning) {
  tally_test_store_reports(&srv, guide_years, 4);
  char *out = NULL, *err = NULL;
  const char *f = file_with("far.csv", "live_births,1100\n");
  cr_assert_eq(submit("guide", f, NULL, NULL, &out, &err), 1, "%s", out);
  cr_expect(strstr(err, "warning live_births_history"), "%s", err);
  cr_expect(strstr(err, "live_births = 1100, its earlier years' median "
                        "1002.5 (MAD 5): modified z-score 13.2"), "%s", err);
  free(out);
  free(err);
  cr_assert_eq(submit("guide", f, "--explain",
                      "live_births_history=新建妇产医院投入使用", &out, &err),
               0, "%s", err);
  free(out);
  free(err);
  /* Within its years: no warning. */
  f = file_with("near.csv", "live_births,1010\n");
  cr_assert_eq(submit("guide", f, NULL, NULL, &out, &err), 0, "%s", err);
  cr_expect_null(strstr(out, "warning"), "%s", out);
  free(out);
  free(err);
  /* Three earlier years are needed: a unit with two says nothing. */
  static const tally_test_report short_past[] = {
      {"wande", "2020", {{"live_births", 1000}}, 1, 1610000000},
      {"wande", "2021", {{"live_births", 1010}}, 1, 1640000000}};
  tally_test_store_reports(&srv, short_past, 2);
  f = file_with("far.csv", "live_births,5000\n");
  cr_assert_eq(submit("wande", f, NULL, NULL, &out, &err), 0, "%s", err);
  free(out);
  free(err);
}

/* A rate further from the other units' than chance explains: nine units
 * with 3 infant deaths in 1,000 live births each, and one with 20 in
 * 1,000. The others' rate leaves out the highest and the lowest of the
 * nine (7 left, 21 deaths in 7,000 births): of the 41 deaths, 1,000 of
 * 8,000 births expect 5.1; 6 of 1,000 (27 deaths, 3.4 expected) is
 * chance. */
Test(rules, a_rate_far_from_the_other_units_is_a_warning) {
  static const char *const others[] = {"pingan", "guyunhu", "wufengshan",
                                       "guide", "wande", "zhangxia",
                                       "xiaoli", "mashan", "shuangquan"};
  tally_test_report sent[9];
  for (size_t i = 0; i < 9; i++)
    sent[i] = (tally_test_report){
        others[i], "2022", {{"live_births", 1000}, {"infant_deaths", 3}}, 2,
        1700000000};
  tally_test_store_reports(&srv, sent, 9);
  char *out = NULL, *err = NULL;
  const char *f = file_with("high.csv", "live_births,1000\ninfant_deaths,20\n");
  cr_assert_eq(submit("wenchang", f, NULL, NULL, &out, &err), 1, "%s", out);
  cr_expect(strstr(err, "warning H02_units"), "%s", err);
  cr_expect(strstr(err, "infant_deaths = 20 of live_births = 1000, where the "
                        "other units' rate expects 5.1: p = "), "%s", err);
  cr_expect(strstr(err, "婴儿死亡率与其他单位相差很大"), "%s", err);
  free(out);
  free(err);
  f = file_with("chance.csv", "live_births,1000\ninfant_deaths,6\n");
  cr_assert_eq(submit("wenchang", f, NULL, NULL, &out, &err), 0, "%s", err);
  free(out);
  free(err);

  /* Stored without the check (as an older tallyd left it): tally
   * validate finds it. */
  static const tally_test_report stored[] = {
      {"wenchang", "2022", {{"infant_deaths", 25}}, 1, 1700000000}};
  tally_test_store_reports(&srv, stored, 1);
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "validate", "--period", "2022"), 0, "%s%s", out,
               err);
  cr_expect(strstr(out, "0 errors, 1 warning"), "%s", out);
  cr_expect(strstr(out, "wenchang") && strstr(out, "H02_units"), "%s", out);
  free(out);
  free(err);
}

/* Once the client holds the server's catalog (it takes a copy whenever
 * it talks to the server), the same file is refused before it is
 * spooled, in the server's words: nothing pending, nothing set aside. */
Test(rules, a_bad_file_is_refused_before_the_spool_once_the_catalog_is_known) {
  char *out = NULL, *err = NULL;
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(&out, &err, "catalog"), 0, "%s", err);
  free(out);
  free(err);
  const char *f = file_with("bad.csv",
                            "data_element,value\n"
                            "live_births,1255\n"          /* line 2 */
                            "infant_deaths,2000\n"        /* line 3 */
                            "under5_deaths,1500\n"        /* line 4 */
                            "deaths.0,3\n"                /* line 5 */
                            "nip_eligible_children,1000\n"
                            "nip_vaccinated_children,1300\n" /* line 7 */
                            "resident_population,100000\n"
                            "urban_residents,60000\n"
                            "rural_residents,30000\n");   /* line 10 */
  cr_assert_eq(submit("wenchang", f, NULL, NULL, &out, &err), 1, "%s%s", out,
               err);
  cr_expect(strstr(err, "checked against the server's catalog before "
                        "sending: nothing was sent and nothing is pending"),
            "%s", err);
  cr_expect(strstr(err, "break 5 of the catalog's rules"), "%s", err);
  static const char *const broken[] = {
      "line 2 (and 3): warning infant_deaths: 婴儿死亡数不能多于活产数",
      "line 3 (and 4): error under5_deaths",
      "line 3 (and 5): error deaths_0",
      "line 6 (and 7): error nip_vaccinated",
      "line 8 (and 9, 10): error urban_rural"};
  for (size_t i = 0; i < 5; i++)
    cr_expect(strstr(err, broken[i]), "'%s' is not in:\n%s", broken[i], err);
  cr_expect(strstr(err, "urban_residents + rural_residents = 90000, "
                        "resident_population = 100000"), "%s", err);
  free(out);
  free(err);
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(&out, NULL, "pending", "--format", "json"), 0);
  cr_expect(strstr(out, "\"pending\": []"), "%s", out);
  cr_expect(strstr(out, "\"refused_count\": 0"), "%s", out);
  free(out);

  /* Good figures with an explanation of no warning rule: refused here
   * too, and nothing set aside. */
  f = file_with("good.csv", "live_births,1255\n");
  cr_assert_eq(submit("wenchang", f, "--explain", "no_such_rule=x", &out,
                      &err), 1, "%s", err);
  cr_expect(strstr(err, "'no_such_rule' is refused: the rule is not a rule "
                        "of the catalog"), "%s", err);
  cr_expect(strstr(err, "nothing is pending"), "%s", err);
  free(out);
  free(err);
  cr_assert_eq(submit("wenchang", f, "--explain", "under5_deaths=x", &out,
                      &err), 1, "%s", err);
  cr_expect(strstr(err, "is an error rule"), "%s", err);
  free(out);
  free(err);
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(&out, NULL, "pending", "--format", "json"), 0);
  cr_expect(strstr(out, "\"refused_count\": 0"), "%s", out);
  free(out);

  /* A warning alone is the server's to judge (an explanation it keeps
   * may pass it): it is sent, and refused there. */
  f = file_with("warning.csv", "live_births,1255\ninfant_deaths,2000\n"
                               "under5_deaths,2000\n");
  cr_assert_eq(submit("wenchang", f, NULL, NULL, &out, &err), 1, "%s", err);
  cr_expect(strstr(err, "warning infant_deaths"), "%s", err);
  cr_expect(strstr(err, "moved to"), "%s", err);
  free(out);
  free(err);
}

/* One wild sibling (100 infant deaths in 100 births, as an older tallyd
 * stored them) does not make the others' ordinary figures outliers: its
 * rate is left out of the others'. With it, the others' rate (124 deaths
 * in 8,100 births) would expect 14 of wenchang's 1,000 births, against
 * its 3. */
Test(rules, one_wild_unit_does_not_make_the_others_outliers) {
  static const char *const others[] = {"guyunhu", "wufengshan", "guide",
                                       "wande",   "zhangxia",   "xiaoli",
                                       "mashan",  "shuangquan"};
  tally_test_report sent[10];
  for (size_t i = 0; i < 8; i++)
    sent[i] = (tally_test_report){
        others[i], "2022", {{"live_births", 1000}, {"infant_deaths", 3}}, 2,
        1700000000};
  sent[8] = (tally_test_report){
      "pingan", "2022", {{"live_births", 100}, {"infant_deaths", 100}}, 2,
      1700000000};
  tally_test_store_reports(&srv, sent, 9);
  char *out = NULL, *err = NULL;
  const char *f = file_with("usual.csv", "live_births,1000\ninfant_deaths,3\n");
  cr_assert_eq(submit("wenchang", f, NULL, NULL, &out, &err), 0, "%s", err);
  free(out);
  free(err);
}

/* tally submit --dry-run: the server's own checks, outlier tests among
 * them, answered as the submission would be, and nothing stored, not
 * even spooled. */
Test(rules, a_dry_run_meets_every_check_and_stores_nothing) {
  tally_test_store_reports(&srv, guide_years, 4);
  char *out = NULL, *err = NULL;
  const char *f = file_with("far.csv", "live_births,1100\n");
  cr_assert_eq(submit("guide", f, "--dry-run", NULL, &out, &err), 1, "%s",
               out);
  cr_expect(strstr(err, "warning live_births_history"), "%s", err);
  cr_expect(strstr(err, "far.csv line 1"), "%s", err);
  free(out);
  free(err);
  cr_assert_eq(submit("guide", f, "--dry-run", "--explain="
                      "live_births_history=新建妇产医院投入使用", &out, &err),
               0, "%s", err);
  cr_expect(strstr(out, "guide 2022: checked, nothing stored (a dry run): "
                        "1 value would be stored"), "%s", out);
  cr_expect(strstr(out, "warning live_births_history, explained"), "%s", out);
  free(out);
  free(err);
  char *v = values("guide");
  cr_expect_null(strstr(v, "1100"), "a dry run stored: %s", v);
  cr_expect_null(strstr(v, "explained"), "a dry run kept its explanation: %s",
                 v);
  free(v);
  tally_test_sign_in(&srv, "reporter", "guide");
  cr_assert_eq(RUN(&out, &err, "pending"), 0, "%s", err);
  cr_expect_null(strstr(out, "guide"), "a dry run spooled: %s", out);
  free(out);
  free(err);
  /* The same figures sent for real are stored. */
  cr_assert_eq(submit("guide", f, "--explain",
                      "live_births_history=新建妇产医院投入使用", &out, &err),
               0, "%s", err);
  cr_expect(strstr(out, "1 value stored"), "%s", out);
  free(out);
  free(err);
}
