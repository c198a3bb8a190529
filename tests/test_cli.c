/* test_cli.c: the real tally binary against the real tallyd. */
#include "figures.h"
#include "fixture.h"
#include "interval.h"
#include "output.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/stat.h>
#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tally_test_server srv;
static char files[256]; /* a temporary folder for input files */

static void setup(void) { tally_test_cli_start(&srv, files, sizeof files); }
static void teardown(void) { tally_test_cli_stop(&srv, files); }

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 120);

/* RUN (as the admin, the suite's default), signed in as the reporter of
 * unit instead: only it may submit. */
#define RUN_AS(unit, out, err, ...)                                            \
  run_as(unit, (const char *const[]){__VA_ARGS__, NULL}, out, err)

static int run_as(const char *unit, const char *const *args, char **out,
                  char **err) {
  tally_test_sign_in(&srv, "reporter", unit);
  int rc = tally_test_run(args, NULL, out, err);
  tally_test_sign_in(&srv, "admin", NULL);
  return rc;
}

static const char *file_with(const char *name, const char *text) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", files, name);
  tally_test_write_file(path, text);
  return path;
}

static int stored(const char *unit, const char *period) {
  char *out;
  cr_assert_eq(RUN(&out, NULL, "values", "--unit", unit, "--period", period,
                   "--format", "json"),
               0);
  json_error_t e;
  json_t *doc = json_loads(out, 0, &e);
  cr_assert_not_null(doc, "%s: %s", e.text, out);
  int n = (int)json_array_size(json_object_get(doc, "values"));
  json_decref(doc);
  free(out);
  return n;
}

Test(cli, help_explains_every_command) {
  char *out;
  cr_assert_eq(RUN(&out, NULL, "--help"), 0);
  cr_assert(strstr(out, "commands:") && strstr(out, "submit") &&
            strstr(out, "exit status"));
  free(out);
  const char *cmds[] = {"submit", "values", "report"};
  for (int i = 0; i < 3; i++) {
    char want[64];
    snprintf(want, sizeof want, "usage: tally %s", cmds[i]);
    cr_assert_eq(RUN(&out, NULL, cmds[i], "--help"), 0);
    cr_assert(strstr(out, want), "%s --help: %s", cmds[i], out);
    free(out);
    cr_assert_eq(RUN(&out, NULL, "help", cmds[i]), 0);
    cr_assert(strstr(out, want));
    free(out);
  }
}

Test(cli, usage_errors_exit_2) {
  char *err;
  cr_assert_eq(RUN(NULL, &err, "frobnicate"), 2);
  cr_assert(strstr(err, "no command 'frobnicate'"), "%s", err);
  free(err);
  cr_assert_eq(RUN_AS("wenchang", NULL, &err, "submit", "--unit", "wenchang"), 2);
  cr_assert(strstr(err, "--period is required"), "%s", err);
  free(err);
  cr_assert_eq(RUN(NULL, &err, "report", "--period", "2022", "--format", "xml"), 2);
  cr_assert(strstr(err, "--format is table, json or csv"), "%s", err);
  free(err);
}

Test(cli, submit_csv_with_bom_and_crlf_then_values) {
  const char *f = file_with("w.csv", "\xef\xbb\xbf"
                                     "data_element,value\r\n"
                                     "# a comment\r\n"
                                     "live_births,812\r\n"
                                     "infant_deaths,2\r\n"
                                     "maternal_deaths,\r\n");
  char *out, *err;
  int rc = RUN_AS("wenchang", &out, &err, "submit", "--unit", "wenchang", "--period", "2022",
               "--file", f);
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert(strstr(out, "wenchang 2022: 2 values stored"), "%s", out);
  cr_assert(strstr(out, "1 row with an empty value skipped (first on line 5)"),
            "%s", out);
  free(out);
  free(err);

  cr_assert_eq(RUN(&out, NULL, "values", "--unit", "wenchang", "--period",
                   "2022"),
               0);
  cr_assert(strstr(out, "wenchang 2022: 2 values"), "%s", out);
  cr_assert(strstr(out, "live_births") && strstr(out, "812") &&
            strstr(out, "活产数"), "%s", out);
  free(out);
}

/* A report sent for the wrong period is withdrawn whole; its history
 * keeps what was there. */
Test(cli, withdraw_removes_every_figure_of_a_report) {
  const char *f = file_with("w.csv", "live_births,812\ninfant_deaths,2\n");
  char *out, *err;
  cr_assert_eq(RUN_AS("wenchang", NULL, NULL, "submit", "--unit", "wenchang",
                      "--period", "2021", "--file", f),
               0);
  cr_assert_eq(stored("wenchang", "2021"), 2);
  int rc = RUN_AS("wenchang", &out, &err, "withdraw", "--unit", "wenchang",
                  "--period", "2021");
  cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
  cr_assert(strstr(out, "wenchang 2021: withdrawn, 2 values removed; "
                        "revision 2"),
            "%s", out);
  free(out);
  free(err);
  cr_assert_eq(stored("wenchang", "2021"), 0);
  cr_assert_eq(RUN(&out, NULL, "history", "--unit", "wenchang", "--period",
                   "2021", "--format", "json"),
               0);
  cr_assert(strstr(out, "812"), "the history lost the figures: %s", out);
  free(out);
  /* Again: there is nothing left to withdraw, and it says so. */
  cr_assert_eq(RUN_AS("wenchang", &out, NULL, "withdraw", "--unit", "wenchang",
                      "--period", "2021"),
               0);
  cr_assert(strstr(out, "wenchang 2021: no figures stored, nothing to "
                        "withdraw"),
            "%s", out);
  free(out);
  /* Only the unit's own reporter (or the centre) may withdraw it. */
  cr_assert_eq(RUN_AS("guide", NULL, &err, "withdraw", "--unit", "wenchang",
                      "--period", "2022", "--spool", files),
               1);
  cr_assert(strstr(err, "permission denied"), "%s", err);
  free(err);
  cr_assert_eq(RUN(NULL, &err, "withdraw", "--unit", "wenchang", "--period",
                   "2021-13"),
               2);
  cr_assert(strstr(err, "malformed period '2021-13'"), "%s", err);
  free(err);
}

/* Something else listening where tallyd should be: an HTTP server. */
static void *answer_http(void *arg) {
  int fd = accept(*(int *)arg, NULL, NULL);
  if (fd >= 0) {
    static const char reply[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
    ssize_t sent = write(fd, reply, sizeof reply - 1);
    (void)sent;
    usleep(200000);
    close(fd);
  }
  return NULL;
}

Test(cli, a_server_that_is_not_tallyd) {
  char where[64], *err;
  int lfd = tally_test_listen(where, sizeof where);
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, answer_http, &lfd), 0);
  int rc = RUN(NULL, &err, "--server", where, "whoami");
  pthread_join(th, NULL);
  close(lfd);
  cr_assert_neq(rc, 0);
  cr_assert(strstr(err, "is not a tallyd") && strstr(err, "speaks HTTP"), "%s",
            err);
  free(err);
}

/* submit sends the older entries and its own, not those spooled after
 * it (another submit's, under way): its exit status is its own. */
Test(cli, submit_leaves_newer_spool_entries_alone) {
  char spool[300], *err;
  snprintf(spool, sizeof spool, "%s/spool", files);
  const char *f = file_with("later.csv", "live_births,7\n");
  /* An entry spooled while the server was out of reach... */
  cr_assert_eq(RUN_AS("wenchang", NULL, &err, "--server", "127.0.0.1:1",
                      "submit", "--unit", "wenchang", "--period", "2021",
                      "--file", f),
               3, "%s", err);
  free(err);
  /* ...named so that it sorts after the next one (a name the spool
   * makes never does; another submit's, made between this one's entry
   * and its listing of the spool, does). */
  DIR *d = opendir(spool);
  struct dirent *e;
  char from[600] = "", to[600];
  while ((e = readdir(d)) != NULL)
    if (strstr(e->d_name, ".sub"))
      snprintf(from, sizeof from, "%s/%s", spool, e->d_name);
  closedir(d);
  cr_assert(*from, "no spool entry");
  snprintf(to, sizeof to, "%s/9-later.sub", spool);
  cr_assert_eq(rename(from, to), 0);

  const char *g = file_with("now.csv", "live_births,8\n");
  char *out;
  cr_assert_eq(RUN_AS("wenchang", &out, &err, "submit", "--unit", "wenchang",
                      "--period", "2022", "--file", g),
               0, "%s", err);
  free(out);
  free(err);
  cr_assert_eq(stored("wenchang", "2021"), 0, "the newer entry was sent");
  cr_assert_eq(RUN(&out, NULL, "pending"), 0);
  cr_assert(strstr(out, "1 submission pending"), "%s", out);
  free(out);
}

/* A status figure is shown with its level's words. */
Test(cli, values_show_a_status_with_its_level) {
  const char *f = file_with("d.csv", "health_edu_pool_status,2\n");
  char *out;
  cr_assert_eq(RUN_AS("changqing", NULL, NULL, "submit", "--unit", "changqing",
                      "--period", "2022", "--file", f),
               0);
  cr_assert_eq(RUN(&out, NULL, "values", "--unit", "changqing", "--period",
                   "2022"),
               0);
  cr_assert(strstr(out, "2 实现 (achieved)"), "%s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "values", "--unit", "changqing", "--period",
                   "2022", "--format", "json"),
               0);
  cr_assert(strstr(out, "\"level\": \"实现 (achieved)\""), "%s", out);
  free(out);
}

/* Words left over on a command line are an error, not ignored. */
Test(cli, unexpected_arguments_are_refused) {
  static const char *const cmds[][6] = {
      {"report", "--period", "2022", "extra"},
      {"completeness", "--period", "2022", "extra"},
      {"values", "--unit", "wenchang", "--period", "2022", "extra"},
      {"pending", "extra"},
      {"sync", "extra"},
      {"whoami", "extra"},
      {"withdraw", "--unit", "wenchang", "--period", "2022", "extra"},
  };
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    const char *args[8] = {0};
    for (size_t k = 0; k < 6 && cmds[i][k]; k++)
      args[k] = cmds[i][k];
    char *err;
    cr_assert_eq(tally_test_run(args, NULL, NULL, &err), 2, "%s", cmds[i][0]);
    cr_assert(strstr(err, "unexpected argument 'extra'"), "%s: %s",
              cmds[i][0], err);
    free(err);
  }
  /* Both the token and the figures from standard input cannot be. */
  char token[sizeof srv.admin + 32], *err;
  snprintf(token, sizeof token, "%s\nlive_births,1\n", srv.admin);
  cr_assert_eq(tally_test_run((const char *const[]){"submit", "--token-file",
                                                    "-", "--unit", "wenchang",
                                                    "--period", "2022",
                                                    "--file", "-", NULL},
                              token, NULL, &err),
               2);
  cr_assert(strstr(err, "both read standard input"), "%s", err);
  free(err);
}

/* An option meant for another command is an error, not ignored: the
 * indicator and account commands share one option table each. */
Test(cli, options_of_other_commands_are_refused) {
  static const char *const cmds[][8] = {
      {"report", "--period", "2022", "--value", "3", NULL, "'--value'"},
      {"explain", "H02", "--period", "2022", "--plan", "health", "'--plan'"},
      {"completeness", "--period", "2022", "--elements", NULL, NULL,
       "'--elements'"},
      {"catalog", "--period", "2022", NULL, NULL, NULL, "'--period'"},
      {"form", "--unit", "wenchang", "--period", "2022", "--elements",
       "'--elements'"},
      {"target", "list", "--year", "2025", NULL, NULL,
       "--year is for 'tally target set'"},
      {"whoami", "--role", "admin", NULL, NULL, NULL, "'--role'"},
      {"account", "list", "--unit", "wenchang", NULL, NULL,
       "--unit is for 'tally account add'"},
      {"audit", "--name", "x", NULL, NULL, NULL, "'--name'"},
  };
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    const char *args[8] = {0};
    for (size_t k = 0; k < 6 && cmds[i][k]; k++)
      args[k] = cmds[i][k];
    char *out, *err;
    int rc = tally_test_run(args, NULL, &out, &err);
    cr_expect_eq(rc, 2, "%s: exit %d", cmds[i][0], rc);
    cr_expect(strstr(err, cmds[i][6]), "%s: %s", cmds[i][0], err);
    cr_expect_str_empty(out, "%s printed: %s", cmds[i][0], out);
    free(out);
    free(err);
  }
}

/* Each bad input: exit 1, a message that says what and where, and
 * nothing stored. */
static void bad_exit(int status, const char *unit, const char *period,
                     const char *csv, const char *says) {
  const char *f = file_with("bad.csv", csv);
  char *err;
  int rc = RUN_AS("wenchang", NULL, &err, "submit", "--unit", unit, "--period",
                  period, "--file", f);
  cr_assert_eq(rc, status, "exit %d for %s", rc, says);
  cr_assert(strstr(err, says), "expected '%s' in: %s", says, err);
  free(err);
  cr_assert_eq(stored("wenchang", "2022"), 0);
}

static void bad(const char *unit, const char *period, const char *csv,
                const char *says) {
  bad_exit(1, unit, period, csv, says);
}

Test(cli, bad_input_gets_a_clear_error_and_stores_nothing) {
  const char *good = "live_births,100\ninfant_deaths,1\n";
  bad("nowhere", "2022", good, "unknown unit 'nowhere'");
  /* A malformed period is a bad command line, refused before spooling. */
  bad_exit(2, "wenchang", "2022Q9", good, "malformed period '2022Q9'");
  bad("wenchang", "2022", "live_births,100\nbogus_count,3\n",
      "line 2: unknown data element 'bogus_count'");
  bad("wenchang", "2022", "live_births,100\n\n# note\ninfant_deaths,-1\n",
      "bad.csv line 4: value '-1' is negative");
  bad("wenchang", "2022", "live_births,100\ninfant_deaths,20000000000000\n",
      "line 2: 婴儿死亡数：20000000000000 超过允许的最大值 10000000000000 / "
      "infant_deaths: 20000000000000 is over the largest figure allowed, "
      "10000000000000");
  /* Printed as given: not "1e+13", which reads as the limit itself. */
  bad("wenchang", "2022", "live_births,10000001000000\n",
      "line 1: 活产数：10000001000000 超过允许的最大值 10000000000000 / "
      "live_births: 10000001000000 is over the largest figure allowed, "
      "10000000000000");
  bad("wenchang", "2022", "live_births,1234567.5\n",
      "line 1: 活产数：1234567.5 不是整数（人） / live_births: 1234567.5 is "
      "not a whole number");
  bad("wenchang", "2022", "live_births,100\ninfant_deaths,abc\n",
      "line 2: value 'abc' is not a number");
  bad("wenchang", "2022", "live_births,100\ninfant_deaths,1.5\n",
      "line 2: 婴儿死亡数：1.5 不是整数（人） / infant_deaths: 1.5 is not a "
      "whole number");
  bad("wenchang", "2022", "", "no figures in the file");
  bad("wenchang", "2022", "data_element,value\n# nothing yet\n",
      "no figures in the file");
  bad("wenchang", "2022", "live_births,100\ninfant_deaths,1\n"
                          "under5_deaths,1,extra\n",
      "line 3: expected 2 fields (data_element,value), found 3");
  bad("wenchang", "2022", "live_births\n", "line 1: expected 2 fields");
  bad("wenchang", "2022", "live_births,100\nlive_births,101\n",
      "line 2: live_births appears twice");

  char *err;
  cr_assert_eq(RUN_AS("wenchang", NULL, &err, "submit", "--unit", "wenchang", "--period",
                   "2022", "--file", "/nonexistent/figures.csv"),
               1);
  cr_assert(strstr(err, "/nonexistent/figures.csv: No such file"), "%s", err);
  free(err);
}

Test(cli, unreachable_server_exits_3) {
  char *err;
  /* Port 1 on loopback: nothing listens there. */
  int rc = RUN(NULL, &err, "--server", "127.0.0.1:1", "report", "--period",
               "2022");
  cr_assert_eq(rc, 3);
  cr_assert(strstr(err, "cannot reach the server at 127.0.0.1:1"), "%s", err);
  free(err);
}

/* Submits the bundled sample figures: the ten units and the district
 * office's own, for 2020, 2021 and 2022. */
static void submit_samples(void) {
  static const char *const units[] = {"wenchang", "pingan", "guyunhu",
                                      "wufengshan", "guide", "wande",
                                      "zhangxia", "xiaoli", "mashan",
                                      "shuangquan", "changqing"};
  for (int y = 2020; y <= 2022; y++)
    for (int i = 0; i < 11; i++) {
      char path[512], period[8], *err;
      snprintf(path, sizeof path, "%s/deploy/sample/%d/%s.csv",
               TALLY_SOURCE_DIR, y, units[i]);
      snprintf(period, sizeof period, "%d", y);
      int rc = RUN_AS(units[i], NULL, &err, "submit", "--unit", units[i],
                      "--period", period, "--file", path);
      cr_assert_eq(rc, 0, "%s: %s", path, err);
      free(err);
    }
}

static json_t *indicator(json_t *report, const char *code) {
  json_t *rows = json_object_get(report, "indicators"), *row;
  size_t i;
  json_array_foreach(rows, i, row) {
    if (strcmp(json_string_value(json_object_get(row, "code")), code) == 0)
      return row;
  }
  cr_assert_fail("no %s in the report", code);
  return NULL;
}

/* Compares a number of the report with the expected one: to the sixth
 * decimal (the file's precision), relatively for large sums. */
static void expect_number(json_t *row, json_t *want, const char *key,
                          const char *code) {
  json_t *w = json_object_get(want, key);
  if (w == NULL)
    return;
  json_t *got = json_object_get(row, key);
  cr_assert(json_is_number(got), "%s: no %s in the report", code, key);
  double a = json_number_value(got), b = json_number_value(w);
  double tol = fmax(6e-7, fabs(b) * 1e-12);
  cr_expect(fabs(a - b) <= tol, "%s %s: %.9g, expected %.9g", code, key, a, b);
}

/* Every indicator of the district report for 2022 against the values
 * computed independently from the sample CSVs (tests/data/expected.py,
 * written down in tests/data/expected-2022.json). */
Test(cli, district_report_of_the_samples) {
  submit_samples();
  char *out, *err;
  int rc = RUN(&out, &err, "report", "--period", "2022", "--format", "json");
  cr_assert_eq(rc, 0, "%s", err);
  json_error_t e;
  json_t *rep = json_loads(out, 0, &e);
  cr_assert_not_null(rep, "%s", e.text);
  json_t *expected = json_load_file(TALLY_SOURCE_DIR
                                    "/tests/data/expected-2022.json", 0, &e);
  cr_assert_not_null(expected, "%s", e.text);
  json_t *want_all = json_object_get(expected, "indicators");
  cr_assert_eq(json_array_size(json_object_get(rep, "indicators")), 62);
  cr_assert_eq(json_object_size(want_all), 62);

  const char *code;
  json_t *want;
  json_object_foreach(want_all, code, want) {
    json_t *row = indicator(rep, code);
    expect_number(row, want, "value", code);
    expect_number(row, want, "numerator", code);
    expect_number(row, want, "denominator", code);
    expect_number(row, want, "previous", code);
    expect_number(row, want, "change", code);
    expect_number(row, want, "average_growth", code);
    json_t *path = json_object_get(want, "path"); /* to a later target */
    if (path) {
      json_t *w = json_pack("{s:O}", "value", path);
      expect_number(json_object_get(row, "path"), w, "value", code);
      json_decref(w);
    }
    cr_expect_str_eq(json_string_value(json_object_get(row, "status")),
                     json_string_value(json_object_get(want, "status")),
                     "%s status (note: %s)", code,
                     json_string_value(json_object_get(row, "note")));
    json_t *label = json_object_get(want, "label");
    if (label)
      cr_expect(strstr(json_string_value(json_object_get(row, "level")),
                       json_string_value(label)),
                "%s level", code);
    json_t *failing = json_object_get(want, "failing_units"), *f;
    size_t k;
    json_array_foreach(failing, k, f) {
      cr_expect(strstr(json_string_value(json_object_get(row, "note")),
                       json_string_value(f)),
                "%s: %s should be named", code, json_string_value(f));
    }
  }
  json_decref(expected);
  json_decref(rep);
  free(out);
  free(err);

  /* Wande alone: 2 infant deaths in 298 births = 6.71 per 1,000. */
  rc = RUN(&out, NULL, "report", "--period", "2022", "--unit", "wande",
           "--indicator", "H02", "--format", "json");
  cr_assert_eq(rc, 0);
  rep = json_loads(out, 0, &e);
  json_t *row = indicator(rep, "H02");
  cr_assert_float_eq(json_number_value(json_object_get(row, "value")),
                     2.0 / 298 * 1000, 1e-9);
  cr_assert_str_eq(json_string_value(json_object_get(row, "status")), "not met");
  cr_assert_eq(json_array_size(json_object_get(rep, "indicators")), 1);
  json_decref(rep);
  free(out);
}

Test(cli, report_formats_carry_the_same_content) {
  submit_samples();
  char *table, *csv;
  cr_assert_eq(RUN(&table, NULL, "report", "--period", "2022"), 0);
  cr_assert_eq(RUN(&csv, NULL, "report", "--period", "2022", "--format",
                   "csv"),
               0);

  /* CSV: the UTF-8 mark, a header and one row per indicator. */
  cr_assert(strncmp(csv, "\xef\xbb\xbf\"code\",\"name_zh\",\"name_en\"", 29) ==
                0,
            "%s", csv);
  cr_assert(strstr(csv, "\"H02\",\"婴儿死亡率\",\"Infant mortality rate\""),
            "%s", csv);
  int lines = 0;
  for (char *p = csv; (p = strchr(p, '\n')) != NULL; p++)
    lines++;
  cr_assert_eq(lines, 63);

  /* No binary noise: no number in the CSV or the table ends in six 0s
   * or 9s and a digit or two (P01's change was 0.810699999999997, P06's
   * value 6.00000000000001), and the intensities have the digits of
   * their sums: P14's numerator 1,639,765 / 3,526,377 to seven digits,
   * P16's 2020 intensity 3,875,001 / 3,100,000 likewise (1.250000). */
  const char *texts[] = {csv, table};
  for (int k = 0; k < 2; k++)
    for (const char *p = texts[k]; *p; p++) {
      if (*p != '.' || p == texts[k] || p[-1] < '0' || p[-1] > '9')
        continue;
      const char *q = p + 1;
      while (*q >= '0' && *q <= '9')
        q++;
      char number[64];
      snprintf(number, sizeof number, "%.*s", (int)(q - p), p);
      size_t len = strlen(number);
      for (size_t tail = 0; tail <= 2 && tail + 6 < len; tail++) {
        const char *run = number + len - tail - 6;
        cr_expect(strncmp(run, "000000", 6) != 0 &&
                      strncmp(run, "999999", 6) != 0,
                  "binary noise: ...%s in the %s", number,
                  k ? "table" : "csv");
      }
    }
  cr_assert(strstr(csv, "\"P14\",") && strstr(csv, ",\"0.4649999\",\"0.5\","),
            "%s", csv);
  cr_assert(strstr(csv, ",\"1.139249\",\"1.25\","), "%s", csv);
  cr_assert(strstr(csv, "\"P06\"") && strstr(csv, ",\"6\",\"2412030\","),
            "%s", csv);
  cr_assert(strstr(table, " 0.4649999 ") && !strstr(table, "0.46499991"),
            "%s", table);

  /* Each table (one per plan and category, under a "[plan]" line): the
   * units column ends at the same terminal column on every row, Chinese
   * names (two columns a character) and all. */
  setlocale(LC_CTYPE, "C.UTF-8");
  cr_assert(strstr(table, "婴儿死亡率"));
  size_t col = 0;
  int rows = 0, in_table = 0;
  for (char *line = strtok(table, "\n"); line; line = strtok(NULL, "\n")) {
    if (line[0] == '[') {
      in_table = 0;
      continue;
    }
    char *t = strstr(line, " 10/10 ");
    if (t == NULL)
      continue;
    t[1] = 0;
    size_t w = tally_display_width(line);
    if (!in_table++)
      col = w;
    cr_assert_eq(w, col, "misaligned row: %s", line);
    rows++;
  }
  cr_assert_geq(rows, 30);
  free(table);
  free(csv);
}

Test(cli, explain_shows_each_units_figures) {
  submit_samples();
  char *out, *err;
  int rc = RUN(&out, &err, "explain", "H02", "--period", "2022", "--format",
               "json");
  cr_assert_eq(rc, 0, "%s", err);
  json_t *x = json_loads(out, 0, NULL);
  cr_assert_not_null(x, "%s", out);
  cr_assert(strstr(json_string_value(json_object_get(x, "formula")),
                   "sum of infant_deaths / sum of live_births x 1000"));
  json_t *units = json_object_get(x, "units");
  cr_assert_eq(json_array_size(units), 10);
  /* The units' numerators and denominators add up to the district's. */
  double num = 0, den = 0;
  json_t *u;
  size_t i;
  json_array_foreach(units, i, u) {
    json_t *f = json_object_get(u, "figures");
    num += json_number_value(json_object_get(f, "numerator"));
    den += json_number_value(json_object_get(f, "denominator"));
    if (strcmp(json_string_value(json_object_get(u, "unit")), "wande") == 0)
      cr_assert_float_eq(json_number_value(json_object_get(f, "value")),
                         2.0 / 298 * 1000, 1e-9);
  }
  json_t *total = json_object_get(x, "total");
  cr_assert_eq(num, json_number_value(json_object_get(total, "numerator")));
  cr_assert_eq(den, json_number_value(json_object_get(total, "denominator")));
  cr_assert_eq(num, 13);
  cr_assert_eq(den, 4864);
  json_decref(x);
  free(out);
  free(err);

  cr_assert_eq(RUN(&out, NULL, "explain", "H02", "--period", "2022"), 0);
  cr_assert(strstr(out, "formula: sum of infant_deaths"), "%s", out);
  cr_assert(strstr(out, "wande") && strstr(out, "万德街道"), "%s", out);
  free(out);
  cr_assert_eq(RUN(NULL, &err, "explain", "H99", "--period", "2022"), 1);
  cr_assert(strstr(err, "unknown indicator 'H99' (see 'tally catalog'"),
            "%s", err);
  free(err);
  /* A code in lower case, or a name: the code is named. */
  cr_assert_eq(RUN(NULL, &err, "explain", "h02", "--period", "2022"), 1);
  cr_assert(strstr(err, "unknown indicator 'h02'; did you mean H02?"), "%s",
            err);
  free(err);
  cr_assert_eq(RUN(NULL, &err, "report", "--period", "2022", "--indicator",
                   "p14"),
               1);
  cr_assert(strstr(err, "did you mean P14?"), "%s", err);
  free(err);
  /* Likewise a unit. */
  cr_assert_eq(RUN(NULL, &err, "report", "--period", "2022", "--unit",
                   "文昌街道"),
               1);
  cr_assert(strstr(err, "unknown unit '文昌街道'; did you mean wenchang?"), "%s",
            err);
  free(err);
}

Test(cli, completeness_says_who_is_missing_what) {
  char path[512], *out;
  snprintf(path, sizeof path, "%s/deploy/sample/2022/wenchang.csv",
           TALLY_SOURCE_DIR);
  cr_assert_eq(RUN_AS("wenchang", NULL, NULL, "submit", "--unit", "wenchang", "--period",
                   "2022", "--file", path),
               0);
  const char *part = file_with("part.csv", "live_births,10\n");
  cr_assert_eq(RUN_AS("guide", NULL, NULL, "submit", "--unit", "guide", "--period", "2022",
                   "--file", part),
               0);
  cr_assert_eq(RUN(&out, NULL, "completeness", "--period", "2022", "--format",
                   "json"),
               0);
  json_t *x = json_loads(out, 0, NULL);
  cr_assert_not_null(x, "%s", out);
  /* wenchang complete; guide partial; eight units and the district
   * office with nothing. */
  cr_assert_eq(json_integer_value(json_object_get(x, "complete")), 1);
  cr_assert_eq(json_integer_value(json_object_get(x, "partial")), 1);
  cr_assert_eq(json_integer_value(json_object_get(x, "none")), 9);
  json_t *u;
  size_t i;
  json_array_foreach(json_object_get(x, "units"), i, u) {
    const char *code = json_string_value(json_object_get(u, "unit"));
    json_int_t expected = json_integer_value(json_object_get(u, "expected"));
    json_int_t reported = json_integer_value(json_object_get(u, "reported"));
    if (strcmp(code, "guide") == 0) {
      cr_assert_eq(reported, 1);
      cr_assert_eq(json_array_size(json_object_get(u, "missing")),
                   (size_t)(expected - 1));
    }
    if (strcmp(code, "wenchang") == 0)
      cr_assert_eq(reported, expected);
  }
  json_decref(x);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "completeness", "--period", "2022"), 0);
  cr_assert(strstr(out, "2022: 1 unit complete, 1 partial, 9 with nothing"),
            "%s", out);
  free(out);
}

Test(cli, the_form_goes_back_through_submit) {
  char *form, *err;
  cr_assert_eq(RUN(&form, NULL, "form", "--unit", "xiaoli", "--period", "2022"),
               0);
  cr_assert(strstr(form, "data_element,value\n"), "%s", form);
  cr_assert(strstr(form, "# 活产数 / Live births (人 persons)\nlive_births,\n"),
            "%s", form);
  cr_assert(strstr(form, "deaths.85+,"), "%s", form);
  /* District elements are on the district office's form, not a unit's. */
  cr_assert_null(strstr(form, "\nbudget_revenue,"));

  /* Filled in partly, it goes back as it is: blank rows are not sent. */
  char *filled = malloc(strlen(form) + 64);
  strcpy(filled, form);
  char *at = strstr(filled, "live_births,\n");
  memmove(at + strlen("live_births,77"), at + strlen("live_births,"),
          strlen(at + strlen("live_births,")) + 1);
  memcpy(at, "live_births,77", strlen("live_births,77"));
  const char *path = file_with("form.csv", filled);
  char *out;
  int rc = RUN_AS("xiaoli", &out, &err, "submit", "--unit", "xiaoli", "--period", "2022",
               "--file", path);
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert(strstr(out, "1 value stored"), "%s", out);
  cr_assert(strstr(out, "with an empty value skipped"), "%s", out);
  free(out);
  free(err);
  free(filled);
  free(form);

  cr_assert_eq(RUN(&form, NULL, "form", "--unit", "changqing", "--period",
                   "2022"),
               0);
  cr_assert(strstr(form, "0 = 未建立"), "%s", form); /* a status's levels */
  free(form);
  cr_assert_eq(RUN(NULL, &err, "form", "--unit", "atlantis", "--period",
                   "2022"),
               1);
  free(err);
}

Test(cli, catalog_lists_indicators_and_elements) {
  char *out;
  cr_assert_eq(RUN(&out, NULL, "catalog", "--format", "csv"), 0);
  int lines = 0;
  for (char *p = out; (p = strchr(p, '\n')) != NULL; p++)
    lines++;
  cr_assert_eq(lines, 63); /* a header and 62 indicators */
  cr_assert(strstr(out, "\"H25\""), "%s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "catalog", "--elements"), 0);
  cr_assert(strstr(out, "hypertension_standard"), "%s", out);
  cr_assert(strstr(out, "district"), "%s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "catalog", "--format", "json"), 0);
  json_t *doc = json_loads(out, 0, NULL);
  cr_assert_str_eq(json_string_value(json_object_get(doc, "format")),
                   "tally-catalog/1");
  json_decref(doc);
  free(out);
}

Test(cli, a_target_the_city_assigns) {
  char *out, *err;
  submit_samples();
  cr_assert_eq(RUN(&out, NULL, "report", "--period", "2022", "--indicator",
                   "P14", "--format", "json"),
               0);
  cr_assert(strstr(out, "\"status\": \"not judged\""), "%s", out);
  free(out);

  int rc = RUN(&out, &err, "target", "set", "P14", "--year", "2025",
               "--value", ">=13.5", "--text", "市下达 letter of 2023-04");
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert(strstr(out, "P14 2025: target >= 13.5"), "%s", out);
  free(out);
  free(err);

  /* P14 is 7 % in the samples: now judged, short of 13.5, but in 2022
   * on track: the straight line from 0 in 2020 (the base year's own
   * reduction: the catalog's baseline is in words) to 13.5 in 2025 is
   * at 5.4. The target comes as fields too. */
  cr_assert_eq(RUN(&out, NULL, "report", "--period", "2022", "--indicator",
                   "P14", "--format", "json"),
               0);
  cr_assert(strstr(out, "\"status\": \"on track\""), "%s", out);
  cr_assert(strstr(out, "\"status_zh\": \"符合进度\""), "%s", out);
  cr_assert(strstr(out, "\"target\": \">= 13.5 (2025)\""), "%s", out);
  json_t *rep = json_loads(out, 0, NULL), *row = indicator(rep, "P14");
  json_t *f = json_object_get(row, "target_fields");
  cr_assert_eq(json_integer_value(json_object_get(f, "year")), 2025);
  cr_assert_str_eq(json_string_value(json_object_get(f, "comparator")), ">=");
  cr_assert_float_eq(json_number_value(json_object_get(f, "value")), 13.5,
                     1e-12);
  cr_assert(json_is_null(json_object_get(f, "tolerance")));
  cr_assert_str_eq(json_string_value(json_object_get(f, "text")),
                   "市下达 letter of 2023-04");
  json_t *path = json_object_get(row, "path");
  cr_assert_eq(json_integer_value(json_object_get(path, "from_year")), 2020);
  cr_assert_float_eq(json_number_value(json_object_get(path, "value")), 5.4,
                     1e-9);
  json_decref(rep);
  free(out);

  cr_assert_eq(RUN(&out, NULL, "target", "list"), 0);
  cr_assert(strstr(out, "P14") && strstr(out, "entered"), "%s", out);
  cr_assert(strstr(out, "市下达 letter of 2023-04"), "the text is lost: %s",
            out);
  cr_assert(strstr(out, "H02") && strstr(out, "catalog"), "%s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "audit", "--format", "json"), 0);
  cr_assert(strstr(out, ">= 13.5 (2025): 市下达 letter of 2023-04"), "%s",
            out);
  free(out);
  cr_assert_eq(RUN(NULL, &err, "target", "set", "P14", "--year", "2025",
                   "--value", "13", "--text", "a\tb"),
               1);
  cr_assert(strstr(err, "without control characters"), "%s", err);
  free(err);

  /* Only the city's targets are entered this way. */
  cr_assert_eq(RUN(NULL, &err, "target", "set", "P01", "--year", "2025",
                   "--value", "70"),
               1);
  cr_assert(strstr(err, "no target for 2025 that the city assigns"), "%s",
            err);
  free(err);
  cr_assert_eq(RUN(NULL, &err, "target", "set", "P14", "--year", "2025",
                   "--value", "lots"),
               2);
  free(err);
  /* At most about, as 控制在…左右 reads for an indicator better lower. */
  cr_assert_eq(RUN(NULL, &err, "target", "set", "P14", "--year", "2025",
                   "--value", "about<=13.5", "--tolerance", "0.5"),
               0, "%s", err);
  free(err);
  cr_assert_eq(RUN(&out, NULL, "target", "list", "--format", "json"), 0);
  cr_assert(strstr(out, "at most about 13.5 (<= 14) (2025)"), "%s", out);
  free(out);
  cr_assert_eq(RUN(NULL, &err, "target", "set", "P14", "--year", "2025",
                   "--value", "about<=13.5"),
               1);
  cr_assert(strstr(err, "a tolerance for the three about"), "%s", err);
  free(err);
}

/* The csv report's numbers carry at most 15 significant digits: no
 * binary noise such as 60.346500000000006. */
Test(cli, report_csv_numbers_without_noise) {
  char *out;
  submit_samples();
  cr_assert_eq(RUN(&out, NULL, "report", "--period", "2022", "--format",
                   "csv"),
               0);
  cr_assert(strstr(out, "category_en"), "%s", out);
  for (const char *p = out; *p;) {
    if (!isdigit((unsigned char)*p)) {
      p++;
      continue;
    }
    int digits = 0, leading = 1;
    for (; isdigit((unsigned char)*p) || *p == '.'; p++) {
      if (*p == '.')
        continue;
      if (*p != '0')
        leading = 0;
      digits += !leading;
    }
    cr_assert_leq(digits, 15, "a number of %d digits before: %.40s", digits,
                  p);
  }
  free(out);
}

Test(cli, report_filters_by_plan) {
  char *out, *err;
  cr_assert_eq(RUN(&out, NULL, "report", "--period", "2022", "--plan", "plan",
                   "--format", "csv"),
               0);
  cr_assert_null(strstr(out, "\"H01\""));
  cr_assert(strstr(out, "\"P25\""));
  free(out);
  cr_assert_eq(RUN(NULL, &err, "report", "--period", "2022", "--plan", "x"), 1);
  cr_assert(strstr(err, "unknown plan 'x'"), "%s", err);
  free(err);
}

/* A file too big for one frame is refused before it is kept in the
 * spool, where it would block every later submission. */
Test(cli, a_file_too_big_for_one_submission) {
  size_t cap = 90000 * 24;
  char *big = malloc(cap), *p = big;
  for (int i = 0; i < 90000; i++)
    p += sprintf(p, "element_%06d,%d\n", i, i);
  const char *path = file_with("big.csv", big);
  free(big);
  char *err;
  cr_assert_eq(RUN_AS("pingan", NULL, &err, "submit", "--unit", "pingan", "--period", "2022",
                   "--file", path),
               1);
  cr_assert(strstr(err, "too many figures for one submission"), "%s", err);
  free(err);
  char *out;
  cr_assert_eq(RUN(&out, NULL, "pending"), 0);
  cr_assert(strstr(out, "0 submissions pending"), "%s", out);
  free(out);
  const char *small = file_with("small.csv", "live_births,5\n");
  cr_assert_eq(RUN_AS("pingan", NULL, NULL, "submit", "--unit", "pingan", "--period",
                   "2022", "--file", small),
               0);
}

/* Figures the account may not send are kept, not set aside: with the
 * unit's own account, sync sends them. */
Test(cli, figures_sent_with_the_wrong_account_wait_for_the_right_one) {
  const char *f = file_with("g.csv", "live_births,640\n");
  char *out, *err;
  int rc = RUN_AS("wenchang", NULL, &err, "submit", "--unit", "guide",
                  "--period", "2022", "--file", f);
  cr_assert_eq(rc, 1, "%s", err);
  cr_assert(strstr(err, "permission denied") && strstr(err, "kept in the spool"),
            "%s", err);
  free(err);
  cr_assert_eq(stored("guide", "2022"), 0);
  cr_assert_eq(RUN(&out, NULL, "pending"), 0);
  cr_assert(strstr(out, "guide"), "%s", out);
  free(out);
  rc = RUN_AS("guide", &out, &err, "sync");
  cr_assert_eq(rc, 0, "%s", err);
  free(out);
  free(err);
  cr_assert_eq(stored("guide", "2022"), 1);
}

/* Stops the server, writes a history of n corrections of wenchang's
 * live births of 2022 into its store, and starts it again on it. */
static void with_history(int n) {
  char dir[256];
  snprintf(dir, sizeof dir, "%s", srv.dir);
  srv.own_dir = 0;
  tally_test_server_stop(&srv);
  tally_test_history_write(dir, "wenchang", "2022", "live_births", n);
  tally_test_server_start_in(&srv, dir, NULL);
  srv.own_dir = 1; /* removed at the end */
  setenv("TALLY_SERVER", srv.address, 1);
}

/* The JSON array at key of what tally printed, checked to hold n
 * entries whose revisions are 1 ... n, in order. */
static void expect_revisions(const char *out, const char *key, int n) {
  json_error_t e;
  json_t *doc = json_loads(out, 0, &e);
  cr_assert_not_null(doc, "%s", e.text);
  json_t *arr = key ? json_object_get(doc, key) : doc;
  cr_assert_eq(json_array_size(arr), (size_t)n);
  for (int i = 0; i < n; i++) {
    json_t *rev = json_object_get(json_array_get(arr, (size_t)i), "revision");
    cr_assert_eq(json_integer_value(rev), i + 1, "entry %d", i);
  }
  json_decref(doc);
}

/* A history and a trail of many pages (a page holds 1,000 entries at
 * most) are printed whole, in order, as one. */
Test(cli, a_history_longer_than_a_page_is_printed_whole) {
  enum { N = 2345 };
  with_history(N);
  char *out;
  cr_assert_eq(RUN(&out, NULL, "history", "--unit", "wenchang", "--period",
                   "2022", "--format", "json"),
               0);
  expect_revisions(out, "history", N);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "history", "--unit", "wenchang", "--period",
                   "2022"),
               0);
  cr_assert(strstr(out, "wenchang 2022: 2345 changes\n"), "%.200s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "audit", "--unit", "wenchang", "--period",
                   "2022", "--format", "json"),
               0);
  expect_revisions(out, NULL, N);
  free(out);
}

/* The entries of a trail tally printed as JSON, checked to be in order
 * of seq, each once; returns how many are of figures, checked to have
 * the revisions 1, 2, ... in order. */
static size_t figures_in_trail(const char *out) {
  json_error_t e;
  json_t *doc = json_loads(out, 0, &e);
  cr_assert_not_null(doc, "%s", e.text);
  size_t figures = 0;
  json_int_t last = 0;
  for (size_t i = 0; i < json_array_size(doc); i++) {
    json_t *entry = json_array_get(doc, i);
    json_int_t seq = json_integer_value(json_object_get(entry, "seq"));
    cr_assert_gt(seq, last, "entry %zu out of order", i);
    last = seq;
    if (strcmp(json_string_value(json_object_get(entry, "kind")),
               "figures") == 0)
      cr_assert_eq(json_integer_value(json_object_get(entry, "revision")),
                   (json_int_t)++figures);
  }
  json_decref(doc);
  return figures;
}

Test(cli, an_audit_trail_longer_than_a_page_is_printed_whole) {
  enum { N = 2345 };
  with_history(N);
  char *out;
  /* Everyone's: the figures' entries and the accounts' (the admin's
   * own, by tallyd init), in order of seq, each once. */
  cr_assert_eq(RUN(&out, NULL, "audit", "--format", "json"), 0);
  cr_assert_eq(figures_in_trail(out), (size_t)N);
  free(out);
  /* One account's: the history was written by account 1. */
  cr_assert_eq(RUN(&out, NULL, "audit", "--account", "1", "--format", "json"),
               0);
  cr_assert_eq(figures_in_trail(out), (size_t)N);
  free(out);
}

/* A file is checked against the server's catalog before it is spooled,
 * with the copy of the catalog the client keeps while the server is
 * away: a bad file leaves nothing pending; a good one waits. */
Test(cli, a_bad_file_is_refused_here_while_the_server_is_away) {
  const char *good = file_with("good.csv", "live_births,640\n");
  cr_assert_eq(RUN_AS("wenchang", NULL, NULL, "submit", "--unit", "wenchang",
                      "--period", "2022", "--file", good), 0);
  char dir[256], *out, *err;
  snprintf(dir, sizeof dir, "%s", srv.dir);
  srv.own_dir = 0;
  tally_test_server_stop(&srv);

  const char *bad = file_with("bad.csv", "infant_deaths,20\ndeaths.0,3\n"
                                         "physicians,2.5\n");
  int rc = RUN_AS("wenchang", NULL, &err, "submit", "--unit", "wenchang",
                  "--period", "2022", "--file", bad);
  cr_expect_eq(rc, 1, "refused here, not kept for later: %s", err);
  cr_expect(strstr(err, "bad.csv line 3: 执业（助理）医师数：2.5 不是整数（人） / "
                        "physicians: 2.5 is not a whole number"), "%s", err);
  cr_expect(strstr(err, "bad.csv line 1 (and 2): error deaths_0"), "%s", err);
  cr_expect(strstr(err, "nothing was sent and nothing is pending"), "%s", err);
  cr_expect(strstr(err, "checked against the copy of the server's catalog "
                        "kept on "), "the server was away: %s", err);
  free(err);
  cr_assert_eq(RUN(&out, NULL, "pending", "--format", "json"), 0);
  cr_expect(strstr(out, "\"pending\": []"), "%s", out);
  free(out);

  const char *later = file_with("later.csv", "live_births,641\n");
  rc = RUN_AS("wenchang", NULL, &err, "submit", "--unit", "wenchang",
              "--period", "2022", "--file", later);
  cr_expect_eq(rc, 3, "%s", err);
  free(err);
  cr_assert_eq(RUN(&out, NULL, "pending"), 0);
  cr_expect(strstr(out, "1 submission pending"), "%s", out);
  free(out);

  tally_test_server_start_in(&srv, dir, NULL);
  srv.own_dir = 1;
  setenv("TALLY_SERVER", srv.address, 1);
  cr_assert_eq(RUN_AS("wenchang", NULL, NULL, "sync"), 0);
}

/* A CSV as Excel saves it on Chinese Windows: GB18030, a Chinese header,
 * elements by their Chinese names, a thousands separator, a full-width
 * digit, and the empty columns Excel adds. Stored as the figures meant. */
Test(cli, a_file_as_excel_saves_it_on_chinese_windows) {
  static const char gbk[] =
      "\xca\xfd\xbe\xdd\xd4\xaa\xcb\xd8,\xca\xfd\xd6\xb5,,\r\n" /* 数据元素,数值 */
      "\xbb\xee\xb2\xfa\xca\xfd,\"1,255\",,\r\n"              /* 活产数 */
      "\xd3\xa4\xb6\xf9\xcb\xc0\xcd\xf6\xca\xfd,\xa3\xb3,,\r\n"; /* 婴儿死亡数,３ */
  const char *f = file_with("excel.csv", gbk);
  char *out, *err;
  int rc = RUN_AS("wenchang", &out, &err, "submit", "--unit", "wenchang",
                  "--period", "2022", "--file", f);
  cr_assert_eq(rc, 0, "%s%s", out, err);
  free(out);
  free(err);
  cr_assert_eq(RUN(&out, NULL, "values", "--unit", "wenchang", "--period",
                   "2022", "--format", "json"), 0);
  cr_expect(strstr(out, "\"element\": \"live_births\"") &&
                strstr(out, "\"value\": 1255"), "%s", out);
  cr_expect(strstr(out, "\"element\": \"infant_deaths\"") &&
                strstr(out, "\"value\": 3"), "%s", out);
  free(out);
  /* Said to be UTF-8, it is refused at its first line. */
  rc = RUN_AS("wenchang", NULL, &err, "submit", "--unit", "wenchang",
              "--period", "2022", "--file", f, "--encoding", "utf-8");
  cr_expect_eq(rc, 1);
  cr_expect(strstr(err, "excel.csv line 1: not valid UTF-8"), "%s", err);
  free(err);
}

/* Each value's 95 % interval in every format, and the comparisons: the
 * change on 2021 against chance, each unit against the district. */
Test(cli, intervals_in_every_format) {
  submit_samples();
  char *out, *err;
  cr_assert_eq(RUN(&out, &err, "report", "--period", "2022", "--format",
                   "json"),
               0, "%s", err);
  json_t *rep = json_loads(out, 0, NULL);
  cr_assert_not_null(rep, "%s", out);
  free(out);
  free(err);
  /* H02: 13 infant deaths of 4,864 live births, Byar's limits. */
  json_t *h02 = indicator(rep, "H02");
  tally_interval iv;
  cr_assert_eq(tally_interval_poisson(13, 0.95, &iv), 0);
  double lo = iv.lower / 4864 * 1000, hi = iv.upper / 4864 * 1000;
  cr_assert_float_eq(json_number_value(json_object_get(h02, "lower")), lo,
                     1e-12);
  cr_assert_float_eq(json_number_value(json_object_get(h02, "upper")), hi,
                     1e-12);
  cr_assert_str_eq(
      json_string_value(json_object_get(h02, "interval_method")), "Byar");
  cr_assert(json_is_string(json_object_get(h02, "change_compared")));
  json_t *h01 = indicator(rep, "H01");
  double v = json_number_value(json_object_get(h01, "value"));
  cr_assert_lt(json_number_value(json_object_get(h01, "lower")), v);
  cr_assert_gt(json_number_value(json_object_get(h01, "upper")), v);
  /* A weighted mean of incomes has no interval. */
  json_t *p18 = indicator(rep, "P18");
  cr_assert(json_is_null(json_object_get(p18, "lower")));
  cr_assert(json_is_null(json_object_get(p18, "change_compared")));
  json_decref(rep);

  cr_assert_eq(RUN(&out, NULL, "report", "--period", "2022", "--format",
                   "csv"),
               0);
  cr_assert(strstr(out, "\"note\",\"lower\",\"upper\",\"interval_method\","
                        "\"change_compared\""),
            "%s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "report", "--period", "2022", "--indicator",
                   "H02"),
               0);
  char ci[64];
  snprintf(ci, sizeof ci, " %.2f-%.2f ", lo, hi);
  cr_assert(strstr(out, "95% CI"), "%s", out);
  cr_assert(strstr(out, ci), "no '%s' in %s", ci, out);
  free(out);

  /* Explain: each unit better, worse or similar, as its interval lies
   * against the district's value. */
  cr_assert_eq(RUN(&out, NULL, "explain", "H01", "--period", "2022",
                   "--format", "json"),
               0);
  json_t *x = json_loads(out, 0, NULL);
  free(out);
  double d = json_number_value(
      json_object_get(json_object_get(x, "total"), "value"));
  json_t *u;
  size_t i;
  int better = 0;
  json_array_foreach(json_object_get(x, "units"), i, u) {
    json_t *f = json_object_get(u, "figures");
    double l = json_number_value(json_object_get(f, "lower")),
           h = json_number_value(json_object_get(f, "upper"));
    const char *want = l > d ? "better" : h < d ? "worse" : "similar";
    cr_assert_str_eq(json_string_value(json_object_get(u, "compared")), want,
                     "%s", json_string_value(json_object_get(u, "unit")));
    better += strcmp(want, "better") == 0;
  }
  json_decref(x);
  cr_assert_eq(RUN(&out, NULL, "explain", "H01", "--period", "2022"), 0);
  cr_assert(strstr(out, "vs scope"), "%s", out);
  cr_assert(strstr(out, "95% confidence interval: "), "%s", out);
  if (better)
    cr_assert(strstr(out, " better "), "%s", out);
  free(out);
}

/* Where the server is, said plainly: none set, or a URL instead of
 * HOST:PORT, is a bad command line (exit 2) that says what to do. */
Test(cli, no_server_or_a_url_is_a_usage_error) {
  char *err = NULL;
  char *kept = strdup(getenv("TALLY_SERVER"));
  unsetenv("TALLY_SERVER");
  int rc = RUN(NULL, &err, "whoami");
  setenv("TALLY_SERVER", kept, 1);
  free(kept);
  cr_assert_eq(rc, 2, "%s", err);
  cr_assert(strstr(err, "no server set: tally login --server HOST:PORT"), "%s",
            err);
  free(err);
  cr_assert_eq(RUN(NULL, &err, "--server", "https://tally.example:7300",
                   "whoami"), 2);
  cr_assert(strstr(err, "--server takes HOST:PORT, not a URL"), "%s", err);
  free(err);
}

/* tally units: the catalog's units with their codes, names and levels,
 * in their tree. */
Test(cli, units_lists_codes_names_and_levels) {
  char *out = NULL;
  cr_assert_eq(RUN(&out, NULL, "units"), 0);
  cr_assert(strstr(out, "changqing") && strstr(out, "长清区") &&
                strstr(out, "district"),
            "%s", out);
  cr_assert(strstr(out, "  wenchang") && strstr(out, "文昌街道") &&
                strstr(out, "subdistrict") && strstr(out, "reports"),
            "%s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "units", "--format", "json"), 0);
  json_error_t e;
  json_t *a = json_loads(out, 0, &e);
  cr_assert_not_null(a, "%s", e.text);
  cr_assert_eq(json_array_size(a), 11);
  json_t *first = json_array_get(a, 0), *second = json_array_get(a, 1);
  cr_assert_str_eq(json_string_value(json_object_get(first, "code")),
                   "changqing");
  cr_assert(json_is_null(json_object_get(first, "parent")) ||
            json_object_get(first, "parent") == NULL);
  cr_assert_str_eq(json_string_value(json_object_get(second, "parent")),
                   "changqing");
  cr_assert(json_is_true(json_object_get(second, "reports")));
  json_decref(a);
  free(out);
}

/* A revoked account is gone for good (the help says so); add --like
 * gives its office a new one with the same role, unit and name. */
Test(cli, account_add_like_remakes_a_revoked_account) {
  char *out = NULL, *err = NULL;
  cr_assert_eq(RUN(&out, NULL, "help", "account"), 0);
  cr_assert(strstr(out, "for good: a revoked") && strstr(out, "--like ID"),
            "%s", out);
  free(out);
  cr_assert_eq(RUN(&out, &err, "account", "add", "--role", "reporter",
                   "--unit", "guide", "--name", "归德街道统计站"), 0, "%s", err);
  free(out);
  free(err);
  cr_assert_eq(RUN(&out, NULL, "account", "list", "--format", "json"), 0);
  json_t *list = json_loads(out, 0, NULL);
  free(out);
  cr_assert_not_null(list);
  json_t *accounts = json_is_array(list) ? list : json_object_get(list, "accounts");
  long long old = 0;
  size_t i;
  json_t *a;
  json_array_foreach(accounts, i, a) {
    const char *name = json_string_value(json_object_get(a, "name"));
    if (name && strcmp(name, "归德街道统计站") == 0)
      old = json_integer_value(json_object_get(a, "id"));
  }
  json_decref(list);
  cr_assert_gt(old, 0);
  char id[24];
  snprintf(id, sizeof id, "%lld", old);
  cr_assert_eq(RUN(NULL, NULL, "account", "revoke", id), 0);
  int rc = RUN(&out, &err, "account", "add", "--like", id);
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert(strstr(err, "not revoked") == NULL, "%s", err);
  out[strcspn(out, "\n")] = 0;
  char *token = strdup(out);
  free(out);
  free(err);
  /* The new token is the office's: a reporter for guide, named alike. */
  setenv("TALLY_TOKEN", token, 1);
  cr_assert_eq(RUN(&out, NULL, "whoami"), 0);
  tally_test_sign_in(&srv, "admin", NULL);
  cr_assert(strstr(out, "归德街道统计站") && strstr(out, "reporter") &&
                strstr(out, "guide"),
            "%s", out);
  free(out);
  free(token);
  cr_assert_eq(RUN(NULL, &err, "account", "add", "--like", "9999"), 1);
  cr_assert(strstr(err, "there is no account 9999"), "%s", err);
  free(err);
}

/* Times are shown in local time with their offset (Asia/Shanghai for
 * the district), and as Unix times (UTC) in JSON. */
Test(cli, times_are_local_with_their_offset) {
  char *out = NULL;
  setenv("TZ", "Asia/Shanghai", 1);
  int rc = RUN(&out, NULL, "account", "list");
  unsetenv("TZ");
  cr_assert_eq(rc, 0);
  cr_assert(strstr(out, " +0800"), "%s", out);
  cr_assert(strstr(out, "UTC") == NULL, "%s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "account", "list", "--format", "json"), 0);
  cr_assert(strstr(out, "\"created_unix\"") && strstr(out, "+0800") == NULL,
            "%s", out);
  free(out);
}

/* The widest line of text, in terminal columns. */
static size_t widest_line(const char *text) {
  size_t most = 0;
  setlocale(LC_CTYPE, "C.UTF-8"); /* for the widths of Chinese text */
  while (*text) {
    size_t len = strcspn(text, "\n");
    char *line = strndup(text, len);
    size_t w = tally_display_width(line);
    free(line);
    if (w > most)
      most = w;
    text += len + (text[len] == '\n');
  }
  return most;
}

/* Tables fit the terminal ($COLUMNS here, as no terminal is there):
 * text columns are cut with "…", Chinese counting two columns; --wide
 * prints them whole. */
Test(cli, tables_fit_the_terminal_unless_wide) {
  char *out = NULL;
  cr_assert_eq(RUN(&out, NULL, "catalog"), 0);
  size_t whole = widest_line(out);
  cr_assert_gt(whole, 200, "the catalog is wide: %zu", whole);
  free(out);
  setenv("COLUMNS", "100", 1);
  cr_assert_eq(RUN(&out, NULL, "catalog"), 0);
  cr_assert_leq(widest_line(out), 100, "%s", out);
  cr_assert(strstr(out, "…"), "%s", out);
  cr_assert(strstr(out, "H02"), "%s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "catalog", "--wide"), 0);
  cr_assert_eq(widest_line(out), whole);
  free(out);
  unsetenv("COLUMNS");
}

/* Compiles the zh_CN.UTF-8 locale into a folder of the test's own
 * (LOCPATH: a fresh Debian has only C.UTF-8) and sets LANG to it. */
static void zh_CN_locale(void) {
  char loc[400], parent[400], *out = NULL, *err = NULL;
  snprintf(loc, sizeof loc, "%s/locales/zh_CN.UTF-8", files);
  snprintf(parent, sizeof parent, "%s/locales", files);
  cr_assert_eq(mkdir(parent, 0700), 0);
  int rc = tally_test_exec("/usr/bin/localedef",
                           (const char *const[]){"-i", "zh_CN", "-f", "UTF-8",
                                                 loc, NULL},
                           NULL, &out, &err);
  cr_assert(rc == 0 || rc == 1, "localedef (the locales package): %d %s", rc,
            err); /* 1: warnings only */
  free(out);
  free(err);
  setenv("LOCPATH", parent, 1);
  setenv("LANG", "zh_CN.UTF-8", 1);
  unsetenv("LC_ALL");
  unsetenv("LC_MESSAGES");
  unsetenv("LANGUAGE");
}

/* Under a zh_CN locale the help and the messages that have a
 * translation (po/zh_CN.po) are in Chinese; English otherwise. */
Test(cli, help_and_messages_in_chinese_under_zh_CN) {
  char *out = NULL, *err = NULL;
  int rc;
  zh_CN_locale();
  cr_assert_eq(RUN(&out, NULL, "--help"), 0);
  cr_assert(strstr(out, "用法：tally [--server 主机:端口] 命令 [选项]") &&
                strstr(out, "报送"),
            "%s", out);
  free(out);
  cr_assert_eq(RUN(NULL, &err, "frobnicate"), 2);
  cr_assert(strstr(err, "tally：没有命令“frobnicate”"), "%s", err);
  free(err);
  char *kept = strdup(getenv("TALLY_SERVER"));
  unsetenv("TALLY_SERVER");
  rc = RUN(NULL, &err, "whoami");
  setenv("TALLY_SERVER", kept, 1);
  free(kept);
  cr_assert_eq(rc, 2);
  cr_assert(strstr(err, "未设置服务器"), "%s", err);
  free(err);
  /* English under another locale. */
  setenv("LANG", "C.UTF-8", 1);
  cr_assert_eq(RUN(&out, NULL, "--help"), 0);
  cr_assert(strstr(out, "usage: tally [--server HOST:PORT] COMMAND"), "%s",
            out);
  free(out);
  unsetenv("LOCPATH");
  unsetenv("LANG");
}

/* Commands' help and the client's own errors (usage, files, the
 * connection) are in Chinese under zh_CN, in English under C.UTF-8. */
Test(cli, commands_help_and_errors_in_chinese_under_zh_CN) {
  static const struct {
    const char *args[6];
    int status;
    const char *zh, *en; /* on standard output for 0, else on stderr */
  } cases[] = {
      {{"help", "login", NULL}, 0, "用法：tally login", "usage: tally login"},
      {{"values", "--help", NULL}, 0, "显示服务器上一个单位一个时期的数据",
       "Shows the figures the server holds"},
      {{"units", "--help", NULL}, 0, "中英文名称", "Chinese and\nEnglish names"},
      {{"status", "--help", NULL}, 0, "区统计部门\n的审核", "central office's review"},
      {{"whoami", "--frob", NULL}, 2, "请看“tally help whoami”。",
       "Try 'tally help whoami'."},
      {{"values", "--unit", "wenchang", NULL}, 2, "tally values：需要 --period",
       "tally values: --period is required"},
      {{"values", "--unit", "wenchang", "--period", "2022x", NULL}, 2,
       "时期“2022x”格式有误", "malformed period '2022x'"},
      {{"--token-file", "/nonexistent/token", "whoami", NULL}, 2,
       "无法从 /nonexistent/token 读取令牌", "cannot read the token from"},
      {{"--server", "127.0.0.1:1", "whoami", NULL}, 3,
       "无法连接 127.0.0.1:1 上的服务器", "cannot reach the server at"},
      {{"sync", "--resend-since", "March", NULL}, 2,
       "tally：--resend-since“March”不是时间", "is not a time"},
  };
  zh_CN_locale();
  for (int zh = 1; zh >= 0; zh--) {
    if (!zh)
      setenv("LANG", "C.UTF-8", 1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      char *out = NULL, *err = NULL;
      int rc = tally_test_run(cases[i].args, NULL, &out, &err);
      const char *got = cases[i].status == 0 ? out : err;
      const char *want = zh ? cases[i].zh : cases[i].en;
      cr_expect_eq(rc, cases[i].status, "%s: %d %s", cases[i].args[0], rc, err);
      cr_expect(got && strstr(got, want), "%s %s (%s): want '%s' in:\n%s",
                cases[i].args[0], cases[i].args[1], zh ? "zh_CN" : "C",
                want, got ? got : "");
      free(out);
      free(err);
    }
  }
  unsetenv("LOCPATH");
  unsetenv("LANG");
}

/* The office's acknowledgement is in Chinese under zh_CN, in English
 * under C.UTF-8. */
Test(cli, a_submission_acknowledged_in_chinese_under_zh_CN) {
  char path[512], want[700], *out = NULL;
  snprintf(path, sizeof path, "%s",
           file_with("ok.csv", "数据元素,数值\n活产数,\"1,255\"\n"
                               "婴儿死亡数,2\n孕产妇死亡数,\n"));
  zh_CN_locale();
  cr_assert_eq(RUN_AS("wenchang", &out, NULL, "submit", "--unit", "wenchang",
                      "--period", "2022", "--file", path),
               0);
  snprintf(want, sizeof want, "wenchang 2022：从 %s 存入 2 个数值（新增 2 个，"
           "替换 0 个，未变 0 个）；修订号 1\n1 行的数值为空，已跳过（第一处在"
           "第 4 行）：不报送\n", path);
  cr_expect(strstr(out, want), "want '%s' in:\n%s", want, out);
  free(out);
  setenv("LANG", "C.UTF-8", 1);
  cr_assert_eq(RUN_AS("wenchang", &out, NULL, "submit", "--unit", "wenchang",
                      "--period", "2022", "--file", path),
               0);
  snprintf(want, sizeof want, "wenchang 2022: 2 values stored from %s (0 "
           "new, 0 replaced, 2 unchanged); revision 1\n1 row with an empty "
           "value skipped (first on line 4): not reported\n", path);
  cr_expect(strstr(out, want), "want '%s' in:\n%s", want, out);
  free(out);
  unsetenv("LOCPATH");
  unsetenv("LANG");
}

/* So is the import's summary. */
Test(cli, an_import_summed_up_in_chinese_under_zh_CN) {
  char path[512], *out = NULL, *err = NULL;
  snprintf(path, sizeof path, "%s",
           file_with("long.csv", "单位,期间,数据元素,数值\n"
                                 "文昌街道,2021,活产数,\"1,204\"\n"
                                 "文昌街道,2021,婴儿死亡数,2\n"
                                 "文昌街道,2021,孕产妇死亡数,\n"));
  zh_CN_locale();
  cr_assert_eq(RUN(&out, &err, "import", path), 0, "%s", err);
  free(err);
  cr_expect(strstr(out, "（long CSV）：1 份报表，2 个数值：存入 1 份，此前已存入"
                        " 0 份，拒收 0 份\n1 个数值为空，已跳过：不报送\n"),
            "%s", out);
  free(out);
  setenv("LANG", "C.UTF-8", 1);
  cr_assert_eq(RUN(&out, NULL, "import", path, "--dry-run"), 0);
  cr_expect(strstr(out, " (long CSV): 1 report, 2 values: 0 would be stored, "
                        "1 already stored, 0 refused (nothing stored: a dry "
                        "run)\n1 figure with an empty value skipped: not "
                        "reported\n"),
            "%s", out);
  free(out);
  unsetenv("LOCPATH");
  unsetenv("LANG");
}

/* What is wrong with a figures file or an import file is said in
 * Chinese under zh_CN (the office's and the analyst's own files: GBK as
 * Excel saves CSV on Chinese Windows, a workbook of the old format), in
 * English under C.UTF-8; every problem of an import is listed. */
Test(cli, a_files_problems_in_chinese_under_zh_CN) {
  /* 指标,数值 / 活产数,"1,255" / 婴儿死亡数,二 / under5_deaths,-1: in
   * GBK; both problems told at once. */
  file_with(
      "gbk.csv", "\xd6\xb8\xb1\xea,\xca\xfd\xd6\xb5\r\n"
                 "\xbb\xee\xb2\xfa\xca\xfd,\"1,255\"\r\n"
                 "\xd3\xa4\xb6\xf9\xcb\xc0\xcd\xf6\xca\xfd,\xb6\xfe\r\n"
                 "under5_deaths,-1\r\n");
  file_with("old.xls", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x01");
  file_with(
      "history.csv", "单位,期间,数据元素,数值\n"
                     "文昌街道,2019年,活产数,1100\n"
                     "文昌镇,2019,活产数,900\n"
                     "平安街道,2019,活产数,12.5%\n"
                     "平安街道,2019\n");
  file_with("mixed.csv", "data_element,value\n"
                         "no_such,1\n"
                         "infant_deaths,2.5\n"
                         "live_births,10\n"
                         "live_births,11\n");
  file_with("twice.csv", "单位,期间,数据元素,数值\n"
                         "文昌街道,2019,活产数,1100\n"
                         "文昌街道,2019,活产数,1200\n");
  static const struct {
    const char *unit; /* submits as its reporter; NULL: imports as admin */
    const char *file;
    const char *zh[4], *en[4];
  } cases[] = {
      {"wenchang", "gbk.csv",
       {"gbk.csv 第 3 行：数值“二”不是数字",
        "gbk.csv 第 4 行：数值“-1”是负数"},
       {"gbk.csv line 3: value '二' is not a number",
        "gbk.csv line 4: value '-1' is negative"}},
      {"wenchang", "old.xls",
       {"old.xls：这是 Excel 97-2003 工作簿（.xls）", "另存为"},
       {"old.xls: an Excel 97-2003 workbook (.xls)", "save it as"}},
      {NULL, "old.xls", {"old.xls：这是 Excel 97-2003 工作簿"},
       {"old.xls: an Excel 97-2003 workbook"}},
      {NULL, "history.csv",
       {"history.csv 第 2 行：期间“2019年”无效",
        "history.csv 第 3 行：未知的单位“文昌镇”",
        "history.csv 第 4 行：数值“12.5%”不是数字：这是百分比",
        "history.csv 第 5 行：应为单位、期间、数据元素和数值（4 列），实为 2 列"},
       {"history.csv line 2: period '2019年' is not a period",
        "history.csv line 3: unknown unit '文昌镇'",
        "history.csv line 4: value '12.5%' is not a number: a percentage",
        "history.csv line 5: expected the unit, period, data element and "
        "value (4 fields), found 2"}},
      {"wenchang", "mixed.csv",
       {"mixed.csv 第 2 行：未知的数据元素“no_such”",
        "mixed.csv 第 3 行：婴儿死亡数：2.5 不是整数（人）",
        "mixed.csv 第 5 行：live_births 重复出现（又见第 4 行）"},
       {"mixed.csv line 2: unknown data element 'no_such'",
        "mixed.csv line 3: 婴儿死亡数：2.5", /* Chinese first, as the server */
        "infant_deaths: 2.5 is not a whole number of persons",
        "mixed.csv line 5: live_births appears twice (also line 4)"}},
      {NULL, "twice.csv",
       {"twice.csv 第 3 行：wenchang 2019 live_births 也出现在第 2 行"},
       {"twice.csv line 3: wenchang 2019 live_births is also on line 2"}},
  };
  zh_CN_locale();
  for (int zh = 1; zh >= 0; zh--) {
    if (!zh)
      setenv("LANG", "C.UTF-8", 1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      char *err = NULL, path[512];
      snprintf(path, sizeof path, "%s/%s", files, cases[i].file);
      int rc = cases[i].unit
                   ? RUN_AS(cases[i].unit, NULL, &err, "submit", "--unit",
                            cases[i].unit, "--period", "2022", "--file", path)
                   : RUN(NULL, &err, "import", path);
      cr_expect_eq(rc, 1, "%s: %d %s", cases[i].file, rc, err);
      for (int k = 0; k < 4; k++) {
        const char *want = zh ? cases[i].zh[k] : cases[i].en[k];
        if (want)
          cr_expect(err && strstr(err, want), "%s (%s): want '%s' in:\n%s",
                    cases[i].file, zh ? "zh_CN" : "C", want, err ? err : "");
      }
      free(err);
    }
  }
  unsetenv("LOCPATH");
  unsetenv("LANG");
  cr_expect_eq(stored("wenchang", "2022"), 0, "nothing stored");
}

/* tally admin status names the addresses tallyd listens on, and says
 * when it serves no web pages. */
Test(cli, admin_status_names_the_addresses) {
  char *out = NULL, *err = NULL, want[128];
  tally_test_sign_in(&srv, "admin", NULL);
  cr_assert_eq(RUN(&out, &err, "admin", "status"), 0, "%s", err);
  snprintf(want, sizeof want, "listening:    %s\n", srv.address);
  cr_assert(strstr(out, want), "'%s' not in:\n%s", want, out);
  cr_assert(strstr(out, "web pages:    none\n"), "%s", out);
  free(out);
  free(err);
}
