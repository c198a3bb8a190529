/* test_review.c: the central office's review of a unit's report, through
 * the real tally and tallyd: returned with a reason, submitted again,
 * approved (and then closed to submissions), reopened; who may do what;
 * the queue; the audit trail. */
#include "figures.h"
#include "fixture.h"
#include "client.h"
#include "wire.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static tally_test_server srv;
static char files[256];

static void setup(void) { tally_test_cli_start(&srv, files, sizeof files); }
static void teardown(void) { tally_test_cli_stop(&srv, files); }

TestSuite(review, .init = setup, .fini = teardown, .timeout = 120);

static const char *file_with(const char *text) {
  static char path[512];
  snprintf(path, sizeof path, "%s/figures.csv", files);
  tally_test_write_file(path, text);
  return path;
}

/* tally as role (a reporter's unit, or NULL); out and err kept. */
static int as(const char *role, const char *unit, const char *const *args,
              char **out, char **err) {
  tally_test_sign_in(&srv, role, unit);
  return tally_test_run(args, NULL, out, err);
}

#define AS(role, unit, out, err, ...)                                          \
  as(role, unit, (const char *const[]){__VA_ARGS__, NULL}, out, err)

static void expect_in(const char *text, const char *want) {
  cr_expect(text && strstr(text, want), "'%s' is not in:\n%s", want, text);
}

Test(review, returned_resubmitted_approved_reopened) {
  char *out = NULL, *err = NULL;
  const char *f = file_with("live_births,812\ninfant_deaths,3\n");
  cr_assert_eq(AS("reporter", "wenchang", &out, &err, "submit", "--unit",
                  "wenchang", "--period", "2022", "--file", f), 0, "%s", err);
  free(out);
  free(err);

  /* A reporter reviews nothing, not even its own. */
  cr_assert_eq(AS("reporter", "wenchang", &out, &err, "review", "approve",
                  "--unit", "wenchang", "--period", "2022", "--revision", "1"),
               1);
  expect_in(err, "permission denied");
  free(out);
  free(err);
  /* A return needs a reason the office reads. */
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "return", "--unit",
                  "wenchang", "--period", "2022"), 2);
  expect_in(err, "--reason");
  free(out);
  free(err);
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "return", "--unit",
                  "wenchang", "--period", "2022", "--reason",
                  "活产数偏低，请核实"), 0, "%s", err);
  expect_in(out, "wenchang 2022: returned on ");
  expect_in(out, "活产数偏低，请核实 (was: not reviewed)");
  free(out);
  free(err);

  /* The office sees it: in its figures and its status. */
  cr_assert_eq(AS("reporter", "wenchang", &out, &err, "values", "--unit",
                  "wenchang", "--period", "2022"), 0, "%s", err);
  expect_in(out, "review: returned on ");
  expect_in(out, ": 活产数偏低，请核实");
  free(out);
  free(err);
  cr_assert_eq(AS("reporter", "wenchang", &out, &err, "status"), 0, "%s", err);
  expect_in(out, "returned 退回");
  free(out);
  free(err);

  /* Corrected and sent again: it is told what it answers. */
  f = file_with("live_births,912\n");
  cr_assert_eq(AS("reporter", "wenchang", &out, &err, "submit", "--unit",
                  "wenchang", "--period", "2022", "--file", f), 0, "%s", err);
  expect_in(out, "this submits 2022 again: the central office returned it "
                 "on ");
  expect_in(out, "活产数偏低，请核实");
  free(out);
  free(err);
  cr_assert_eq(AS("reporter", "wenchang", &out, &err, "status"), 0, "%s", err);
  expect_in(out, "submitted again 退回后重新报送");
  /* Sent again, the report still says which return it answered, and
   * why it was returned. */
  expect_in(out, "(returned on ");
  expect_in(out, ": 活产数偏低，请核实)");
  free(out);
  free(err);

  /* Approved, at the revision reviewed: not at one the report has left.
   * Then no more submissions, corrections or withdrawals. */
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "approve", "--unit",
                  "wenchang", "--period", "2022"), 2);
  expect_in(err, "--revision");
  free(out);
  free(err);
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "approve", "--unit",
                  "wenchang", "--period", "2022", "--revision", "1"), 1);
  expect_in(err, "is at revision 2, not 1, the one reviewed");
  free(out);
  free(err);
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "approve", "--unit",
                  "wenchang", "--period", "2022", "--revision", "2"), 0, "%s",
               err);
  free(out);
  free(err);
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "approve", "--unit",
                  "wenchang", "--period", "2022", "--revision", "2"), 1);
  expect_in(err, "is approved already");
  free(out);
  free(err);
  cr_assert_eq(AS("reporter", "wenchang", &out, &err, "submit", "--unit",
                  "wenchang", "--period", "2022", "--file", f), 1);
  expect_in(err, "is approved on ");
  expect_in(err, "until the central office reopens it");
  free(out);
  free(err);
  cr_assert_eq(AS("reporter", "wenchang", &out, &err, "withdraw", "--unit",
                  "wenchang", "--period", "2022"), 1);
  expect_in(err, "until the central office reopens it");
  free(out);
  free(err);
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "return", "--unit",
                  "wenchang", "--period", "2022", "--reason", "x"), 1);
  expect_in(err, "reopen it first");
  free(out);
  free(err);

  /* Reopened, with a reason: it takes submissions again. */
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "reopen", "--unit",
                  "wenchang", "--period", "2022", "--reason",
                  "第七次人口普查修订"), 0, "%s", err);
  free(out);
  free(err);
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "reopen", "--unit",
                  "wenchang", "--period", "2022", "--reason", "again"), 1);
  expect_in(err, "is not approved");
  free(out);
  free(err);
  f = file_with("live_births,915\n");
  cr_assert_eq(AS("reporter", "wenchang", &out, &err, "submit", "--unit",
                  "wenchang", "--period", "2022", "--file", f), 0, "%s", err);
  free(out);
  free(err);

  /* Every change of state is in the audit trail, with who and why. */
  cr_assert_eq(AS("admin", NULL, &out, &err, "audit"), 0, "%s", err);
  expect_in(out, "review");
  expect_in(out, "活产数偏低，请核实");
  expect_in(out, "submitted again after a return");
  expect_in(out, "第七次人口普查修订");
  free(out);
  free(err);
}

Test(review, nothing_reported_is_not_reviewed) {
  char *out = NULL, *err = NULL;
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "approve", "--unit",
                  "guide", "--period", "2022", "--revision", "1"), 1);
  expect_in(err, "guide has reported nothing for 2022");
  free(out);
  free(err);
}

/* Figures stored before the rules (written to the store directly) that
 * break an error rule: approving them is refused; the queue shows it. */
Test(review, an_approval_is_refused_while_an_error_rule_is_broken) {
  static const tally_test_report broken[] = {
      {"mashan", "2022", {{"infant_deaths", 2}, {"deaths.0", 3}}, 2,
       1700000000}};
  tally_test_store_reports(&srv, broken, 1);

  char *out = NULL, *err = NULL;
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "approve", "--unit",
                  "mashan", "--period", "2022", "--revision", "1"), 1);
  expect_in(err, "break 1 error rule");
  expect_in(err, "return the report for correction instead");
  free(out);
  free(err);
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "list", "--period",
                  "2022", "--format", "json"), 0, "%s", err);
  /* mashan's row: submitted, one error; the others not reported. */
  json_error_t e;
  json_t *rows = json_loads(out, 0, &e), *row;
  size_t i, seen = 0;
  cr_assert_not_null(rows, "%s", e.text);
  json_array_foreach(rows, i, row) {
    const char *unit = json_string_value(json_object_get(row, "unit"));
    const char *state = json_string_value(json_object_get(row, "state"));
    int errors = (int)json_integer_value(json_object_get(row, "errors"));
    if (strcmp(unit, "mashan") == 0) {
      seen++;
      cr_expect_str_eq(state, "submitted");
      cr_expect_eq(errors, 1);
    } else {
      cr_expect_str_eq(state, "not reported", "%s", unit);
      cr_expect_eq(errors, 0, "%s", unit);
    }
  }
  cr_expect_eq(seen, 1);
  json_decref(rows);
  free(out);
  free(err);
  /* The table, for a person, says each state in Chinese too. */
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "list", "--period",
                  "2022"), 0, "%s", err);
  expect_in(out, "submitted 已报送");
  expect_in(out, "not reported 未报送");
  free(out);
  free(err);
}

/* A withdrawal does not answer a return, and a report with no figures
 * is not approved. */
Test(review, a_withdrawal_is_not_a_correction) {
  char *out = NULL, *err = NULL;
  const char *f = file_with("live_births,300\n");
  cr_assert_eq(AS("reporter", "zhangxia", &out, &err, "submit", "--unit",
                  "zhangxia", "--period", "2021", "--file", f), 0, "%s", err);
  free(out);
  free(err);
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "return", "--unit",
                  "zhangxia", "--period", "2021", "--reason", "期间有误"), 0,
               "%s", err);
  free(out);
  free(err);
  cr_assert_eq(AS("reporter", "zhangxia", &out, &err, "withdraw", "--unit",
                  "zhangxia", "--period", "2021"), 0, "%s", err);
  free(out);
  free(err);
  cr_assert_eq(AS("reporter", "zhangxia", &out, &err, "status"), 0, "%s", err);
  expect_in(out, "returned 退回");
  free(out);
  free(err);
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "approve", "--unit",
                  "zhangxia", "--period", "2021", "--revision", "2"), 1);
  expect_in(err, "holds no figures");
  free(out);
  free(err);
}

/* The queue shows what to look at: a figure that moved sharply. */
Test(review, the_queue_shows_figures_that_moved_sharply) {
  char *out = NULL, *err = NULL;
  const char *f = file_with("live_births,812\n");
  cr_assert_eq(AS("reporter", "wande", &out, &err, "submit", "--unit", "wande",
                  "--period", "2021", "--file", f), 0, "%s", err);
  free(out);
  free(err);
  f = file_with("live_births,8120\n");
  cr_assert_eq(AS("reporter", "wande", &out, &err, "submit", "--unit", "wande",
                  "--period", "2022", "--file", f), 0, "%s", err);
  free(out);
  free(err);
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "list", "--period",
                  "2022"), 0, "%s", err);
  expect_in(out, "2022: 11 units");
  expect_in(out, "wande");
  expect_in(out, "live_births");
  free(out);
  free(err);
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "list", "--period",
                  "2022", "--format", "json"), 0, "%s", err);
  expect_in(out, "\"element\": \"live_births\"");
  expect_in(out, "\"previous\": 812");
  /* And when it last changed. */
  json_error_t e;
  json_t *rows = json_loads(out, 0, &e), *row;
  size_t i;
  cr_assert_not_null(rows, "%s", e.text);
  json_array_foreach(rows, i, row) {
    if (strcmp(json_string_value(json_object_get(row, "unit")), "wande") == 0)
      cr_expect_gt(json_integer_value(json_object_get(row, "submitted_unix")),
                   1700000000);
  }
  json_decref(rows);
  free(out);
  free(err);
}

/* Timeliness: each unit's first report against the due date (20 January
 * of the next year for a year's), or its review. The reports are written
 * into the store with the times a clerk would have sent them. */
Test(review, completeness_tells_on_time_late_returned_approved) {
  static const tally_test_report sent[] = {
      /* 2023-01-10: on time */
      {"guide", "2022", {{"live_births", 100}}, 1, 1673308800},
      /* 2023-02-01: 12 days late */
      {"wande", "2022", {{"live_births", 100}}, 1, 1675209600},
      /* 2023-01-21: 1 day late */
      {"xiaoli", "2022", {{"live_births", 100}}, 1, 1674259200},
      /* 2023-01-20: the due day itself */
      {"pingan", "2022", {{"live_births", 100}}, 1, 1674172800}};
  tally_test_store_reports(&srv, sent, 4);

  char *out = NULL, *err = NULL;
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "approve", "--unit",
                  "guide", "--period", "2022", "--revision", "1"), 0, "%s",
               err);
  free(out);
  free(err);
  cr_assert_eq(AS("analyst", NULL, &out, &err, "review", "return", "--unit",
                  "wande", "--period", "2022", "--reason", "晚报且偏低"), 0,
               "%s", err);
  free(out);
  free(err);
  cr_assert_eq(AS("analyst", NULL, &out, &err, "completeness", "--period",
                  "2022", "--format", "json"), 0, "%s", err);
  expect_in(out, "\"due\": \"2023-01-20\"");
  expect_in(out, "\"approved\": 1");
  static const char *const want[][3] = {
      {"\"unit\": \"guide\"", "\"timeliness\": \"approved\"",
       "\"days_late\": 0"},
      {"\"unit\": \"wande\"", "\"timeliness\": \"returned\"",
       "\"days_late\": 12"},
      {"\"unit\": \"xiaoli\"", "\"timeliness\": \"late\"",
       "\"days_late\": 1"},
      {"\"unit\": \"pingan\"", "\"timeliness\": \"on time\"",
       "\"days_late\": 0"},
      {"\"unit\": \"mashan\"", "\"timeliness\": \"not reported\"",
       "\"days_late\": 0"}};
  /* Each unit's object holds its own timeliness. */
  for (size_t i = 0; i < 5; i++) {
    const char *at = strstr(out, want[i][0]);
    cr_assert_not_null(at, "%s is not in:\n%s", want[i][0], out);
    const char *end = strchr(at, '}');
    cr_assert_not_null(end);
    for (int k = 1; k < 3; k++) {
      const char *t = strstr(at, want[i][k]);
      cr_expect(t && t < end, "%s: no %s in\n%.*s", want[i][0], want[i][k],
                (int)(end - at), at);
    }
  }
  free(out);
  free(err);
  cr_assert_eq(AS("analyst", NULL, &out, &err, "completeness", "--period",
                  "2022"), 0, "%s", err);
  expect_in(out, "1 approved; due 2023-01-20");
  expect_in(out, "returned (reported 12 days late)");
  expect_in(out, "late by 1 day");
  free(out);
  free(err);
  /* The report says how many of its units' reports are approved. */
  cr_assert_eq(AS("analyst", NULL, &out, &err, "report", "--period", "2022"), 0,
               "%s", err);
  expect_in(out, "approved by the central office: 1 of 11 units' reports");
  free(out);
  free(err);
  cr_assert_eq(AS("analyst", NULL, &out, &err, "report", "--period", "2022",
                  "--unit", "wande"), 0, "%s", err);
  cr_expect_null(strstr(out, "approved by the central office"), "%s", out);
  free(out);
  free(err);
}

/* An as-approved report (H02 = infant deaths per 1,000 live births):
 * what it reads from each unit's report as approved, and the approved
 * units it names. */
typedef struct {
  int has_value;
  double value;
  int units_counted;
  int units_approved;
  json_t *approved; /* the reply's "approved" list, owned */
} approved_report;

static approved_report as_approved(const char *at) {
  char *out = NULL, *err = NULL;
  const char *args[] = {"report", "--period", "2022", "--indicator", "H02",
                        "--as-approved", "--format", "json",
                        at ? "--at" : NULL, at, NULL};
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(tally_test_run(args, NULL, &out, &err), 0, "%s", err);
  json_error_t e;
  json_t *doc = json_loads(out, 0, &e);
  cr_assert_not_null(doc, "%s: %s", e.text, out);
  cr_assert(json_is_true(json_object_get(doc, "as_approved")), "%s", out);
  json_t *row = json_array_get(json_object_get(doc, "indicators"), 0);
  json_t *value = json_object_get(row, "value");
  approved_report r = {
      json_is_number(value), json_number_value(value),
      (int)json_integer_value(json_object_get(row, "units_counted")),
      (int)json_integer_value(json_object_get(doc, "units_approved")),
      json_incref(json_object_get(doc, "approved"))};
  json_decref(doc);
  free(out);
  free(err);
  return r;
}

/* The live report's H02. */
static double live_h02(void) {
  char *out = NULL, *err = NULL;
  cr_assert_eq(AS("analyst", NULL, &out, &err, "report", "--period", "2022",
                  "--indicator", "H02", "--format", "json"), 0, "%s", err);
  json_t *doc = json_loads(out, 0, NULL);
  cr_assert_not_null(doc, "%s", out);
  double v = json_number_value(json_object_get(
      json_array_get(json_object_get(doc, "indicators"), 0), "value"));
  json_decref(doc);
  free(out);
  free(err);
  return v;
}

static void run_ok(const char *role, const char *unit, const char *const *args) {
  char *out = NULL, *err = NULL;
  cr_assert_eq(as(role, unit, args, &out, &err), 0, "%s: %s", args[0], err);
  free(out);
  free(err);
}

#define RUN_AS(role, unit, ...) \
  run_ok(role, unit, (const char *const[]){__VA_ARGS__, NULL})

/* Waits until the clock has left second t: two approvals a second apart
 * have different times. */
static void next_second(int64_t t) {
  while ((int64_t)time(NULL) <= t)
    usleep(50 * 1000);
}

Test(review, as_approved_stays_as_approved_through_corrections) {
  RUN_AS("reporter", "wenchang", "submit", "--unit", "wenchang", "--period",
      "2022", "--file", file_with("live_births,1000\ninfant_deaths,3\n"));
  RUN_AS("reporter", "guide", "submit", "--unit", "guide", "--period", "2022",
      "--file", file_with("live_births,1000\ninfant_deaths,1\n"));
  approved_report r = as_approved(NULL);
  cr_expect(!r.has_value, "nothing approved: no value");
  cr_expect_eq(r.units_approved, 0);
  json_decref(r.approved);

  RUN_AS("analyst", NULL, "review", "approve", "--unit", "wenchang", "--period",
      "2022", "--revision", "1");
  r = as_approved(NULL);
  cr_expect(r.has_value && r.value == 3.0, "wenchang's 3 of 1,000: %g",
            r.value);
  cr_expect_eq(r.units_counted, 1, "guide is not approved: left out");
  cr_expect_eq(r.units_approved, 1);
  json_t *w = json_array_get(r.approved, 0);
  cr_assert_str_eq(json_string_value(json_object_get(w, "unit")), "wenchang");
  cr_expect_eq(json_array_size(json_object_get(w, "differences")), 0);
  int64_t first = json_integer_value(json_object_get(w, "approved_unix"));
  cr_expect_gt(first, 1700000000);
  json_decref(r.approved);
  cr_expect_eq(live_h02(), 2.0, "the live report: (3 + 1) of 2,000");

  /* Reopened and corrected: the approved figures stay as they were. */
  next_second(first);
  RUN_AS("analyst", NULL, "review", "reopen", "--unit", "wenchang", "--period",
      "2022", "--reason", "出生数据复核");
  RUN_AS("reporter", "wenchang", "submit", "--unit", "wenchang", "--period",
      "2022", "--file", file_with("infant_deaths,7\nunder5_deaths,9\n"));
  cr_expect_eq(live_h02(), 4.0, "the live report: (7 + 1) of 2,000");
  r = as_approved(NULL);
  cr_expect(r.has_value && r.value == 3.0, "still as approved: %g", r.value);
  w = json_array_get(r.approved, 0);
  cr_expect_eq(json_integer_value(json_object_get(w, "revision")), 1);
  cr_expect_eq(json_integer_value(json_object_get(w, "live_revision")), 2);
  cr_expect(strstr(json_string_value(json_object_get(w, "review")),
                   "reopened on ") != NULL);
  json_t *d = json_object_get(w, "differences");
  cr_assert_eq(json_array_size(d), 2, "infant_deaths corrected, under5 added");
  cr_expect_str_eq(json_string_value(json_object_get(json_array_get(d, 0),
                                                     "element")),
                   "infant_deaths");
  cr_expect_eq(json_number_value(json_object_get(json_array_get(d, 0),
                                                 "approved")), 3.0);
  cr_expect_eq(json_number_value(json_object_get(json_array_get(d, 0),
                                                 "live")), 7.0);
  cr_expect_str_eq(json_string_value(json_object_get(json_array_get(d, 1),
                                                     "element")),
                   "under5_deaths");
  cr_expect(json_is_null(json_object_get(json_array_get(d, 1), "approved")));
  json_decref(r.approved);

  /* The table says the same in words. */
  char *out = NULL, *err = NULL;
  cr_assert_eq(AS("analyst", NULL, &out, &err, "report", "--period", "2022",
                  "--as-approved"), 0, "%s", err);
  expect_in(out, "as approved: the figures of 1 of 11 units' reports");
  expect_in(out, "wenchang: approved on ");
  expect_in(out, "at revision 1; now reopened on ");
  expect_in(out, "出生数据复核; live revision 2");
  expect_in(out, "infant_deaths: approved 3, live 7");
  expect_in(out, "not reported or not approved by 9 of 10");
  expect_in(out, "under5_deaths: approved (none), live 9");
  free(out);
  free(err);

  /* Approved again: the report follows; as of the first approval's time
   * it is what it was then, and before it there was nothing approved. */
  RUN_AS("analyst", NULL, "review", "approve", "--unit", "wenchang", "--period",
      "2022", "--revision", "2");
  r = as_approved(NULL);
  cr_expect(r.has_value && r.value == 7.0, "as approved again: %g", r.value);
  json_decref(r.approved);
  char then[32];
  time_t t = (time_t)first;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(then, sizeof then, "%Y-%m-%dT%H:%M:%SZ", &tm);
  r = as_approved(then);
  cr_expect(r.has_value && r.value == 3.0, "as approved at %s: %g", then,
            r.value);
  json_decref(r.approved);
  r = as_approved("2022-12-31");
  cr_expect(!r.has_value && r.units_approved == 0, "nothing approved then");
  json_decref(r.approved);

  /* Without an offset, --at is local time: in Shanghai the approval's
   * UTC clock time is eight hours before it, when nothing was approved;
   * its Shanghai clock time finds it. */
  setenv("TZ", "Asia/Shanghai", 1);
  strftime(then, sizeof then, "%Y-%m-%d %H:%M:%S", &tm);
  r = as_approved(then);
  cr_expect(!r.has_value && r.units_approved == 0,
            "%s in Shanghai is before the approval", then);
  json_decref(r.approved);
  t += 8 * 3600;
  gmtime_r(&t, &tm);
  strftime(then, sizeof then, "%Y-%m-%d %H:%M:%S", &tm);
  r = as_approved(then);
  cr_expect(r.has_value && r.value == 3.0, "as approved at %s Shanghai: %g",
            then, r.value);
  json_decref(r.approved);
  setenv("TZ", "UTC", 1);
  r = as_approved(then);
  cr_expect(r.has_value && r.value == 7.0, "as approved at %s UTC: %g", then,
            r.value);
  json_decref(r.approved);
  unsetenv("TZ");
}

Test(review, a_time_is_for_a_report_as_approved) {
  char *out = NULL, *err = NULL;
  cr_assert_eq(AS("analyst", NULL, &out, &err, "report", "--period", "2022",
                  "--at", "2023-03-01"), 2);
  expect_in(err, "--at needs --as-approved");
  free(out);
  free(err);
  cr_assert_eq(AS("analyst", NULL, &out, &err, "report", "--period", "2022",
                  "--as-approved", "--at", "March"), 2);
  expect_in(err, "--at 'March' is not a time");
  free(out);
  free(err);
}

/* One status request over the protocol: periods asked for by name. */
static Tally__Envelope *status_of(const char *unit, char **periods, size_t n) {
  Tally__StatusRequest q = TALLY__STATUS_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  char err[256];
  q.unit = (char *)unit;
  q.periods = periods;
  q.n_periods = n;
  req.body_case = TALLY__ENVELOPE__BODY_STATUS;
  req.status = &q;
  tally_client *c = tally_test_connect(&srv, tally_test_token(&srv, "reporter", unit));
  cr_assert_eq(tally_client_call(c, &req, &reply, err, sizeof err), 0, "%s", err);
  tally_client_close(c);
  return reply;
}

/* Each row says when its period is due, as the catalog's deadlines have
 * it (20 January for a year, the 10th day after a quarter, the 20th of
 * the next month); periods not reported are there when asked for. */
Test(review, the_status_says_when_each_period_is_due) {
  char *out = NULL, *err = NULL;
  const char *f = file_with("live_births,812\n");
  cr_assert_eq(AS("reporter", "wenchang", &out, &err, "submit", "--unit",
                  "wenchang", "--period", "2022", "--file", f), 0, "%s", err);
  free(out);
  free(err);
  char *asked[] = {"2022Q4", "2024-02", "2022", "2022Q4", "2023Q1"};
  Tally__Envelope *reply = status_of("wenchang", asked, 5);
  cr_assert_eq(reply->body_case, TALLY__ENVELOPE__BODY_STATUS_REPLY);
  const Tally__StatusReply *rep = reply->status_reply;
  const char *want[][3] = {{"2022", "2023-01-20", "1"},
                           {"2022Q4", "2023-01-10", "0"},
                           {"2024-02", "2024-03-20", "0"}, /* a leap year */
                           {"2023Q1", "2023-04-10", "0"}};
  cr_assert_eq(rep->n_rows, 4, "each period once: %zu rows", rep->n_rows);
  for (size_t i = 0; i < 4; i++) {
    cr_expect_str_eq(rep->rows[i]->period, want[i][0]);
    cr_expect_str_eq(rep->rows[i]->due, want[i][1], "%s", want[i][0]);
    cr_expect_eq(rep->rows[i]->revision, (uint64_t)atoi(want[i][2]), "%s",
                 want[i][0]);
  }
  tally_wire_free(reply);
  cr_assert_eq(AS("reporter", "wenchang", &out, &err, "status", "--format",
                  "json"), 0, "%s", err);
  expect_in(out, "\"due\": \"2023-01-20\"");
  free(out);
  free(err);

  char *bad[] = {"2022Q5"};
  reply = status_of("wenchang", bad, 1);
  cr_assert_eq(reply->body_case, TALLY__ENVELOPE__BODY_ERROR);
  cr_expect_eq(reply->error->code, TALLY__ERROR_CODE__ERROR_BAD_PERIOD);
  tally_wire_free(reply);
  char *many[65];
  for (size_t i = 0; i < 65; i++)
    many[i] = "2022";
  reply = status_of("wenchang", many, 65);
  cr_assert_eq(reply->body_case, TALLY__ENVELOPE__BODY_ERROR);
  expect_in(reply->error->message, "at most 64 periods");
  tally_wire_free(reply);
}
