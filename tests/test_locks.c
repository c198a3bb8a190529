/* test_locks.c: the central office locks a period it has approved; the
 * real tally and tallyd. */
#include "fixture.h"
#include "period.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static tally_test_server srv;
static char files[256];

static void setup(void) { tally_test_cli_start(&srv, files, sizeof files); }
static void teardown(void) { tally_test_cli_stop(&srv, files); }

TestSuite(locks, .init = setup, .fini = teardown, .timeout = 120);

static const char *file_with(const char *text) {
  static char path[512];
  snprintf(path, sizeof path, "%s/figures.csv", files);
  tally_test_write_file(path, text);
  return path;
}

/* Submits csv for wenchang as its reporter; returns the exit status and
 * standard error (when err is not NULL). */
static int submit(const char *period, const char *csv, char **err) {
  tally_test_sign_in(&srv, "reporter", "wenchang");
  return RUN(NULL, err, "submit", "--unit", "wenchang", "--period", period,
             "--file", file_with(csv));
}

/* wenchang's live births in period as the server holds them ("" when
 * none), in buf. */
static const char *births(const char *period, char *buf, size_t n) {
  char *out;
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, NULL, "values", "--unit", "wenchang", "--period",
                   period, "--format", "json"),
               0);
  json_t *doc = json_loads(out, 0, NULL);
  cr_assert_not_null(doc, "%s", out);
  json_t *v = json_object_get(doc, "values");
  buf[0] = 0;
  for (size_t i = 0; i < json_array_size(v); i++) {
    json_t *e = json_array_get(v, i);
    if (strcmp(json_string_value(json_object_get(e, "element")),
               "live_births") == 0)
      snprintf(buf, n, "%.15g", json_number_value(json_object_get(e, "value")));
  }
  json_decref(doc);
  free(out);
  return buf;
}

static void lock(const char *period, const char *text) {
  char *out, *err;
  tally_test_sign_in(&srv, "analyst", NULL);
  int rc = RUN(&out, &err, "period", "lock", period, "--text", text);
  cr_assert_eq(rc, 0, "lock %s: %s", period, err);
  cr_expect(strstr(out, "locked on"), "%s", out);
  free(out);
  free(err);
}

Test(locks, a_locked_period_takes_no_figures_until_unlocked) {
  char *out, *err, buf[64];
  cr_assert_eq(submit("2022", "live_births,812\n", NULL), 0);
  lock("2022", "approved for the 2022 report");

  /* Neither a correction nor a withdrawal. */
  cr_assert_eq(submit("2022", "live_births,900\n", &err), 1, "%s", err);
  cr_expect(strstr(err, "period 2022 is closed"), "%s", err);
  cr_expect(strstr(err, "then submit the file again"), "%s", err);
  cr_expect(strstr(err, "approved for the 2022 report"), "%s", err);
  cr_expect(strstr(err, "nothing was stored"), "%s", err);
  cr_expect(strstr(err, "moved to"), "set aside in the spool: %s", err);
  free(err);
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_expect_eq(RUN(NULL, NULL, "withdraw", "--unit", "wenchang", "--period",
                   "2022"),
               1);
  cr_expect_str_eq(births("2022", buf, sizeof buf), "812");

  /* The refused submission is set aside, not left to block others. */
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(&out, NULL, "pending"), 0);
  cr_expect_null(strstr(out, "2022"), "still pending: %s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "pending", "--refused"), 0);
  cr_expect(strstr(out, "2 submissions set aside"), "the correction and the "
            "withdrawal: %s", out);
  free(out);

  /* Other periods are open: the year before, and 2022's quarters. */
  cr_expect_eq(submit("2021", "live_births,800\n", NULL), 0);
  cr_expect_eq(submit("2022Q1", "live_births,200\n", NULL), 0);

  /* Reports and checks go on; a report says its figures are approved. */
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, NULL, "report", "--period", "2022"), 0);
  cr_expect(strstr(out, "2022's figures approved: locked on "), "%s", out);
  cr_expect(strstr(out, "by test analyst: approved for the 2022 report\n"),
            "%s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "report", "--period", "2021", "--format",
                   "json"),
               0);
  cr_expect(strstr(out, "\"locked\": null"), "2021 is open: %s", out);
  free(out);
  cr_expect_eq(RUN(NULL, NULL, "check", "--period", "2022"), 0);

  /* Unlocked, the correction goes in. */
  cr_assert_eq(RUN(&out, NULL, "period", "unlock", "2022", "--text",
                   "wenchang corrects its births"),
               0);
  cr_expect(strstr(out, "2022 unlocked"), "%s", out);
  free(out);
  /* sync does not send the set-aside ones again: the file is. */
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(NULL, NULL, "sync"), 0);
  cr_expect_str_eq(births("2022", buf, sizeof buf), "812");
  cr_assert_eq(submit("2022", "live_births,900\n", NULL), 0);
  cr_expect_str_eq(births("2022", buf, sizeof buf), "900");
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, NULL, "report", "--period", "2022"), 0);
  cr_expect_null(strstr(out, "figures approved"), "%s", out);
  free(out);
}

Test(locks, the_list_and_the_audit_trail_say_who_and_why) {
  char *out;
  lock("2021", "approved");
  lock("2022", "approved for the 2022 report");
  /* Locking again changes nothing. */
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, NULL, "period", "lock", "2022"), 0);
  cr_expect(strstr(out, "2022 was locked already"), "%s", out);
  cr_expect(strstr(out, "approved for the 2022 report"), "the first text: %s",
            out);
  free(out);

  /* Anyone signed in may list; by period. */
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(&out, NULL, "period", "list", "--format", "json"), 0);
  json_t *doc = json_loads(out, 0, NULL);
  cr_assert_not_null(doc, "%s", out);
  json_t *l = json_object_get(doc, "locked");
  cr_assert_eq(json_array_size(l), 2, "%s", out);
  cr_expect_str_eq(
      json_string_value(json_object_get(json_array_get(l, 0), "period")),
      "2021");
  json_t *second = json_array_get(l, 1);
  cr_expect_str_eq(json_string_value(json_object_get(second, "period")),
                   "2022");
  cr_expect_str_eq(json_string_value(json_object_get(second, "text")),
                   "approved for the 2022 report");
  cr_expect_str_eq(json_string_value(json_object_get(second, "account_name")),
                   "test analyst");
  json_decref(doc);
  free(out);

  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(NULL, NULL, "period", "unlock", "2021", "--text", "a fix"),
               0);
  cr_assert_eq(RUN(&out, NULL, "period", "unlock", "2021"), 0);
  cr_expect(strstr(out, "2021 was not locked"), "%s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "period", "list"), 0);
  cr_expect_null(strstr(out, "2021"), "%s", out);
  cr_expect(strstr(out, "2022"), "%s", out);
  free(out);

  tally_test_sign_in(&srv, "admin", NULL);
  cr_assert_eq(RUN(&out, NULL, "audit", "--format", "json"), 0);
  doc = json_loads(out, 0, NULL);
  cr_assert_not_null(doc, "%s", out);
  int locked = 0, unlocked = 0;
  json_t *entries = doc; /* oldest first */
  for (size_t i = 0; i < json_array_size(entries); i++) {
    json_t *e = json_array_get(entries, i);
    if (strcmp(json_string_value(json_object_get(e, "kind")), "period") != 0)
      continue;
    const char *after = json_string_value(json_object_get(e, "after"));
    locked += strstr(after, "locked on") != NULL;
    unlocked += strcmp(after, "open: a fix") == 0;
  }
  cr_expect_eq(locked, 2, "two locks, not three: %s", out);
  cr_expect_eq(unlocked, 1, "%s", out);
  json_decref(doc);
  free(out);
}

/* Locking a period says which earlier periods its indicators read are
 * still open: a correction there changes the approved report. */
Test(locks, a_lock_names_the_open_periods_its_report_reads) {
  char *out;
  /* The year before, the growth's year before that, P14-P16's base year
   * 2020 and the five-year sums from 2021: in order, each once. */
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, NULL, "period", "lock", "2022"), 0);
  cr_expect(strstr(out, "note: its indicators also read 2020, 2021, not "
                        "locked"),
            "%s", out);
  free(out);
  /* A quarter: the two quarters before, and the base year. */
  cr_assert_eq(RUN(&out, NULL, "period", "lock", "2022Q3"), 0);
  cr_expect(strstr(out, "read 2020, 2022Q1, 2022Q2, not locked"), "%s", out);
  free(out);
  cr_assert_eq(RUN(NULL, NULL, "period", "unlock", "2022"), 0);
  lock("2020", "approved");
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, NULL, "period", "lock", "2022"), 0);
  cr_expect(strstr(out, "note: its indicators also read 2021, not locked"),
            "%s", out);
  free(out);
  cr_assert_eq(RUN(NULL, NULL, "period", "unlock", "2022"), 0);
  lock("2021", "approved");
  cr_assert_eq(RUN(&out, NULL, "period", "lock", "2022"), 0);
  cr_expect_null(strstr(out, "note"), "2020 and 2021 are locked: %s", out);
  free(out);
}

/* A period that has not ended has not all its figures to approve. */
Test(locks, a_period_not_ended_is_not_locked) {
  char *err, year[16];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  snprintf(year, sizeof year, "%d", tm.tm_year + 1900);
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_expect_eq(RUN(NULL, &err, "period", "lock", year), 1);
  cr_expect(strstr(err, "has not ended yet"), "%s: %s", year, err);
  free(err);
  cr_expect_eq(RUN(NULL, &err, "period", "lock", "2999"), 1);
  cr_expect(strstr(err, "period 2999 has not ended yet"), "%s", err);
  free(err);
  /* The month before this one has ended. */
  char month[16];
  snprintf(month, sizeof month, "%04d-%02d",
           tm.tm_mon ? tm.tm_year + 1900 : tm.tm_year + 1899,
           tm.tm_mon ? tm.tm_mon : 12);
  cr_expect_eq(RUN(NULL, &err, "period", "lock", month), 0, "%s: %s", month,
               err);
  free(err);
}

/* A lock tells of figures flagged to check: they are approved with it. */
Test(locks, a_lock_names_the_figures_to_check) {
  char *out;
  cr_assert_eq(submit("2021", "live_births,812\n", NULL), 0);
  cr_assert_eq(submit("2022", "live_births,8120\n", NULL), 0);
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, NULL, "period", "lock", "2022"), 0);
  cr_expect(strstr(out, "note: 1 figure is flagged to check against 2021 "
                        "('tally check --period 2022'): the lock approves it "
                        "as it is"),
            "%s", out);
  free(out);
}

/* A lock record that does not decode (a store damaged, or written by
 * something else) still locks its period, does not break the list or
 * the report, and can be unlocked. */
Test(locks, an_unreadable_lock_can_be_unlocked) {
  char dir[256], *out, *err;
  snprintf(dir, sizeof dir, "%s", srv.dir);
  srv.own_dir = 0; /* kept for the restart */
  tally_test_server_stop(&srv);
  tally_period p = {2022, TALLY_PERIOD_YEAR, 0};
  uint32_t k = tally_period_key(&p);
  uint8_t key[4] = {k >> 24, k >> 16, k >> 8, k}, junk[2] = {0xff, 0xff};
  tally_test_lmdb_put(dir, "locks", key, sizeof key, junk, sizeof junk);
  tally_test_server_start_in(&srv, dir, NULL);
  srv.own_dir = 1;
  setenv("TALLY_SERVER", srv.address, 1);

  cr_expect_eq(submit("2022", "live_births,812\n", &err), 1);
  cr_expect(strstr(err, "period 2022 is closed"), "%s", err);
  free(err);
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, NULL, "period", "list"), 0);
  cr_expect(strstr(out, "2022    (unknown)"), "named by its key: %s", out);
  cr_expect(strstr(out, "could not be read"), "%s", out);
  free(out);
  cr_expect_eq(RUN(NULL, NULL, "report", "--period", "2022"), 0);
  cr_assert_eq(RUN(&out, NULL, "period", "unlock", "2022"), 0);
  cr_expect(strstr(out, "2022 unlocked"), "%s", out);
  free(out);
  cr_expect_eq(submit("2022", "live_births,812\n", NULL), 0);
}

Test(locks, only_the_central_office_locks) {
  char *err;
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_expect_eq(RUN(NULL, &err, "period", "lock", "2022"), 1);
  cr_expect(strstr(err, "permission denied"), "%s", err);
  free(err);
  cr_expect_eq(RUN(NULL, &err, "period", "unlock", "2022"), 1);
  cr_expect(strstr(err, "permission denied"), "%s", err);
  free(err);
}

Test(locks, bad_input) {
  char *err;
  tally_test_sign_in(&srv, "analyst", NULL);
  static const char *const usage[][4] = {
      {"period", NULL}, {"period", "lock", NULL}, {"period", "frob", NULL},
      {"period", "list", "--text", "x"}, {"period", "lock", "2022", "2023"}};
  for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
    const char *args[6] = {0};
    for (size_t k = 0; k < 4 && usage[i][k]; k++)
      args[k] = usage[i][k];
    cr_expect_eq(tally_test_run(args, NULL, NULL, &err), 2, "%s %s",
                 usage[i][1] ? usage[i][1] : "", err);
    free(err);
  }
  cr_expect_eq(RUN(NULL, &err, "period", "lock", "20x2"), 2);
  cr_expect(strstr(err, "malformed period '20x2'"), "%s", err);
  free(err);
  cr_expect_eq(RUN(NULL, &err, "period", "lock", "2022", "--format", "json"),
               2);
  cr_expect(strstr(err, "--format is for 'tally period list'"), "%s", err);
  free(err);
  cr_expect_eq(RUN(NULL, &err, "period", "lock", "2022", "--text",
                   "approved\x1b[2J"),
               1);
  cr_expect(strstr(err, "control characters"), "%s", err);
  free(err);
  char *out;
  cr_assert_eq(RUN(&out, NULL, "period", "list"), 0);
  cr_expect(strstr(out, "no period is locked"), "%s", out);
  free(out);
}
