/* test_import.c: tally import through the real tally and tallyd: many
 * units and periods in one file, each report stored once (by ids made
 * from its figures), whole or refused alone, every problem of the file
 * listed with its line, dry runs, locked periods, the audit trail, and
 * the forms: long CSV (GB18030, Chinese names), a workbook, DHIS2's CSV
 * and JSON, ADX. */
#include "fixture.h"
#include "zipfile.h"

#include <criterion/criterion.h>
#include <iconv.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static tally_test_server srv;
static char files[256];

static void setup(void) { tally_test_cli_start(&srv, files, sizeof files); }
static void teardown(void) { tally_test_cli_stop(&srv, files); }

TestSuite(import, .init = setup, .fini = teardown, .timeout = 120);

static void expect_in(const char *text, const char *want) {
  cr_expect(text && strstr(text, want), "'%s' is not in:\n%s", want, text);
}

static const char *file_with(const char *name, const char *text) {
  static char paths[4][512];
  static int k;
  char *p = paths[k++ % 4];
  snprintf(p, 512, "%s/%s", files, name);
  tally_test_write_file(p, text);
  return p;
}

/* The figures tally values prints for unit and period, as CSV. */
static char *values_csv(const char *unit, const char *period) {
  char *out = NULL, *err = NULL;
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "values", "--unit", unit, "--period", period,
                   "--format", "csv", "--no-bom"), 0, "%s", err);
  free(err);
  return out;
}

static const char history[] =
    "unit,period,element,value\n"
    "wenchang,2020,live_births,800\n"
    "wenchang,2020,infant_deaths,3\n"
    "wenchang,2021,live_births,812\n"
    "wenchang,2021,infant_deaths,2\n"
    "guide,2021,live_births,\"1,204\"\n"
    "guide,2021,infant_deaths,4\n"
    "guide,2020,live_births,1190\n";

Test(import, history_once_however_often) {
  char *out = NULL, *err = NULL;
  const char *f = file_with("history.csv", history);
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "import", f), 0, "%s", err);
  expect_in(out, "history.csv (long CSV): 4 reports, 7 values: 4 stored, 0 "
                 "already stored before, 0 refused");
  free(out);
  free(err);
  char *v = values_csv("guide", "2021");
  expect_in(v, "\"live_births\",\"1204\"");
  free(v);

  /* Again: nothing twice. */
  cr_assert_eq(RUN(&out, &err, "import", f), 0, "%s", err);
  expect_in(out, "0 stored, 4 already stored before, 0 refused");
  free(out);
  free(err);
  cr_assert_eq(RUN(&out, &err, "history", "--unit", "wenchang", "--period",
                   "2021"), 0, "%s", err);
  expect_in(out, "wenchang 2021: 1 change\n");
  expect_in(out, "revision 1 was imported by account ");
  expect_in(out, ": history.csv");
  free(out);
  free(err);
  cr_assert_eq(RUN(&out, &err, "audit", "--unit", "wenchang", "--period",
                   "2020"), 0, "%s", err);
  expect_in(out, "imported by account ");
  free(out);
  free(err);

  /* A corrected figure: that report alone is stored again. */
  char fixed[sizeof history + 16];
  snprintf(fixed, sizeof fixed, "%s", history);
  char *at = strstr(fixed, "infant_deaths,2\n");
  at[14] = '1';
  f = file_with("fixed.csv", fixed);
  cr_assert_eq(RUN(&out, &err, "import", f), 0, "%s", err);
  expect_in(out, "1 stored, 3 already stored before, 0 refused");
  free(out);
  free(err);
  v = values_csv("wenchang", "2021");
  expect_in(v, "\"infant_deaths\",\"1\"");
  free(v);
}

/* A report's id is the recipe's, whatever the client does to make it
 * faster: "imp-", the period, the unit and, in hex, the first 10 bytes of
 * the SHA-256 of "tally-import/1", the unit, the period and each
 * element=value (%.17g) in catalog order. Ids that changed would store
 * an old file's reports again. */
Test(import, ids_follow_their_recipe) {
  static const struct { const char *element; double value; } v[] = {
      {"live_births", 1204}, {"infant_deaths", 4},
      {"school_pe_hours", 1.7}, {"gdp", 12345.678}};
  char text[512], want[64] = "imp-2022-wenchang-", *out = NULL, *err = NULL;
  size_t n = (size_t)snprintf(text, sizeof text, "tally-import/1\nwenchang\n2022\n");
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    n += (size_t)snprintf(text + n, sizeof text - n, "%s=%.17g\n", v[i].element,
                          v[i].value);
  unsigned char md[32];
  unsigned len = 0;
  cr_assert(EVP_Digest(text, n, md, &len, EVP_sha256(), NULL));
  for (int i = 0; i < 10; i++)
    sprintf(want + strlen(want), "%02x", md[i]);
  /* In another order in the file, the biggest first. */
  const char *f = file_with("ids.csv", "unit,period,element,value\n"
                                       "wenchang,2022,gdp,12345.678\n"
                                       "wenchang,2022,school_pe_hours,1.7\n"
                                       "wenchang,2022,infant_deaths,4\n"
                                       "wenchang,2022,live_births,\"1,204\"\n");
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "import", f), 0, "%s", err);
  expect_in(out, "1 stored");
  free(out);
  free(err);
  cr_assert_eq(RUN(&out, &err, "history", "--unit", "wenchang", "--period",
                   "2022", "--format", "json"), 0, "%s", err);
  expect_in(out, want);
  free(out);
  free(err);
}

/* A report's rows apart in the file and out of order are one report;
 * the same figure twice is told with both its lines, wherever they are. */
Test(import, a_reports_rows_may_be_anywhere_in_the_file) {
  char *out = NULL, *err = NULL;
  const char *f = file_with("apart.csv", "unit,period,element,value\n"
                                         "guide,2021,infant_deaths,4\n"
                                         "wenchang,2021,live_births,812\n"
                                         "guide,2020,live_births,1190\n"
                                         "guide,2021,live_births,1204\n"
                                         "wenchang,2021,infant_deaths,2\n"
                                         "guide,2021,under5_deaths,5\n");
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "import", f), 0, "%s", err);
  expect_in(out, "3 reports, 6 values: 3 stored");
  free(out);
  free(err);
  char *v = values_csv("guide", "2021");
  expect_in(v, "\"live_births\",\"1204\"");
  expect_in(v, "\"infant_deaths\",\"4\"");
  expect_in(v, "\"under5_deaths\",\"5\"");
  free(v);

  f = file_with("twice.csv", "unit,period,element,value\n"
                             "guide,2022,infant_deaths,4\n"
                             "wenchang,2022,live_births,812\n"
                             "guide,2022,infant_deaths,5\n");
  cr_assert_neq(RUN(&out, &err, "import", f), 0, "%s", out);
  expect_in(err, "line 4: guide 2022 infant_deaths is also on line 2");
  free(out);
  free(err);
}

/* A file of more than 4 MB without a '"' is read in two halves at once:
 * its rows, problems and lines are those of one reading. */
/* Enough comment lines, 29 bytes each with their line end eol ("\n" or
 * "\r\n"), for a file to be read in two halves (6 MB): written at
 * text + at; returns the new end. */
enum { COMMENTS = 200000 };
static size_t comments(char *text, size_t cap, size_t at, const char *eol) {
  int width = 20 - (int)strlen(eol);
  for (int i = 0; i < COMMENTS; i++)
    at += (size_t)snprintf(text + at, cap - at, "# a line %*d%s", width, i,
                           eol);
  return at;
}

Test(import, a_big_file_reads_as_a_small_one) {
  size_t cap = 1024 + COMMENTS * 32, at = 0;
  char *text = malloc(cap);
  cr_assert(text);
  at += (size_t)snprintf(text + at, cap - at,
                         "# exported\n"
                         "element,value,unit,period\n"      /* 2: header */
                         "live_births,812,wenchang,2021\n"  /* 3 */
                         "infant_deaths,x,wenchang,2021\n"); /* 4 */
  at = comments(text, cap, at, "\n"); /* lines 5 to 200004 */
  at += (size_t)snprintf(text + at, cap - at,
                         "live_births,813,wenchang,2021\n"  /* 200005 */
                         "infant_deaths,,guide,2021\n"      /* blank */
                         "live_births,1204,guide,2021\n"    /* 200007 */
                         "live_births,5,wenchang,21\n");    /* 200008 */
  const char *f = file_with("big.csv", text);
  free(text);
  char *out = NULL, *err = NULL;
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "import", f), 1);
  const char *want[] = {
      "big.csv line 4: value 'x' is not a number",
      "big.csv line 200005: wenchang 2021 live_births is also on line 3",
      "big.csv line 200008: period '21' is not a period"};
  const char *from = err;
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const char *next = strstr(from, want[i]);
    cr_expect(next, "'%s' is not in its place in:\n%s", want[i], err);
    from = next ? next : from;
  }
  expect_in(err, "3 problems in ");
  expect_in(out, "(long CSV): 2 reports, 2 values: 2 would be stored");
  expect_in(out, "1 figure with an empty value skipped");
  free(out);
  free(err);
}

/* The same split with nothing wrong on either side: the halves join
 * with no errors to add (which once copied from a null list). */
Test(import, a_big_file_without_problems_is_stored) {
  size_t cap = 1024 + COMMENTS * 32, at = 0;
  char *text = malloc(cap);
  cr_assert(text);
  at += (size_t)snprintf(text + at, cap - at, "unit,period,element,value\n"
                                              "wenchang,2021,live_births,812\n");
  at = comments(text, cap, at, "\n");
  snprintf(text + at, cap - at, "guide,2021,live_births,1204\n");
  const char *f = file_with("big-good.csv", text);
  free(text);
  char *out = NULL, *err = NULL;
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "import", f), 0, "%s", err);
  expect_in(out, "(long CSV): 2 reports, 2 values: 2 stored");
  free(out);
  free(err);
}

/* Rows on both sides of the split, with Windows line ends: the second
 * half's rows, read into the first half's array past room for its own,
 * come out after them, each in its place. */
Test(import, a_big_file_with_rows_in_both_halves) {
  static const char *const units[] = {"wenchang", "guide", "pingan",
                                      "guyunhu", "wande"};
  size_t cap = 100000 + COMMENTS * 32, at = 0;
  char *text = malloc(cap);
  cr_assert(text);
  at += (size_t)snprintf(text + at, cap - at, "unit,period,element,value\r\n");
  for (int half = 0; half < 2; half++) {
    for (int u = 0; u < 5; u++)
      for (int y = 2000 + 11 * half; y < 2011 + 11 * half; y++)
        at += (size_t)snprintf(text + at, cap - at,
                               "%s,%d,live_births,%d\r\n%s,%d,physicians,%d\r\n",
                               units[u], y, 1000 + y, units[u], y, u + y);
    if (half == 0)
      at = comments(text, cap, at, "\r\n");
  }
  const char *f = file_with("big-both.csv", text);
  free(text);
  char *out = NULL, *err = NULL;
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "import", f), 0, "%s", err);
  expect_in(out, "(long CSV): 110 reports, 220 values: 110 stored");
  free(out);
  free(err);
  char *v = values_csv("wande", "2021"); /* the file's last report */
  expect_in(v, "\"live_births\",\"3021\"");
  expect_in(v, "\"physicians\",\"2025\"");
  free(v);
  v = values_csv("wenchang", "2011"); /* the second half's first */
  expect_in(v, "\"live_births\",\"3011\"");
  free(v);
  v = values_csv("wande", "2010"); /* the first half's last */
  expect_in(v, "\"physicians\",\"2014\"");
  free(v);
}

Test(import, a_dry_run_stores_nothing) {
  char *out = NULL, *err = NULL;
  const char *f = file_with("history.csv", history);
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "import", f, "--dry-run"), 0, "%s", err);
  expect_in(out, "4 would be stored, 0 already stored, 0 refused (nothing "
                 "stored: a dry run)");
  free(out);
  free(err);
  char *v = values_csv("wenchang", "2021");
  cr_expect(strstr(v, "live_births") == NULL, "stored: %s", v);
  free(v);
  /* And the real one after it stores them all. */
  cr_assert_eq(RUN(&out, &err, "import", f), 0, "%s", err);
  expect_in(out, "4 stored");
  free(out);
  free(err);
}

/* The file is mapped, not read: one that ends at a page's end, its last
 * figure with no line end after it, is read to its last byte and not
 * past it (where nothing is mapped). */
Test(import, a_file_that_ends_at_a_page_end) {
  char text[8192 + 1], *out = NULL, *err = NULL;
  const char *head = "unit,period,element,value\n"
                     "wenchang,2021,live_births,812\n",
             *last = "guide,2021,live_births,1204";
  size_t pad = sizeof text - 1 - strlen(head) - strlen(last);
  strcpy(text, head); /* then one comment line up to the last line */
  text[strlen(head)] = '#';
  memset(text + strlen(head) + 1, '.', pad - 2);
  text[strlen(head) + pad - 1] = '\n';
  strcpy(text + strlen(head) + pad, last);
  cr_assert_eq(strlen(text), 8192);
  const char *f = file_with("page.csv", text);
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "import", f), 0, "%s", err);
  expect_in(out, "2 reports, 2 values: 2 stored");
  free(out);
  free(err);
  char *v = values_csv("guide", "2021");
  expect_in(v, "\"live_births\",\"1204\"");
  free(v);
}

Test(import, every_problem_is_listed_and_nothing_stored) {
  char *out = NULL, *err = NULL;
  const char *f = file_with(
      "bad.csv", "unit,period,element,value\n"
                 "wenchang,2021,live_births,812\n"     /* 2: fine */
                 "nowhere,2021,live_births,5\n"        /* 3 */
                 "wenchang,2021,no_such_thing,5\n"     /* 4 */
                 "wenchang,2021,infant_deaths,12%\n"   /* 5 */
                 "wenchang,2021,live_births,813\n"     /* 6: twice */
                 "wenchang,21,live_births,5\n"         /* 7 */
                 "guide,2021,live_births,10\n"         /* 8: breaks a rule */
                 "guide,2021,infant_deaths,11\n");     /* 9 */
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "import", f), 1);
  expect_in(err, "bad.csv line 5: value '12%' is not a number: a percentage");
  expect_in(err, "bad.csv line 7: period '21' is not a period");
  expect_in(err, "bad.csv line 3: unknown unit 'nowhere'");
  expect_in(err, "bad.csv line 4: unknown data element 'no_such_thing'");
  expect_in(err, "bad.csv line 6: wenchang 2021 live_births is also on line 2");
  /* In the file's order, whichever step found each. */
  const char *at = err;
  for (int line = 3; line <= 7; line++) {
    char where[32];
    snprintf(where, sizeof where, "bad.csv line %d: ", line);
    const char *next = strstr(at, where);
    cr_expect(next, "line %d not after line %d in:\n%s", line, line - 1, err);
    at = next ? next : at;
  }
  expect_in(err, "5 problems in ");
  /* The rest checked as on a dry run: the rule guide breaks, its lines. */
  expect_in(err, "tally import: guide 2021: ");
  expect_in(err, "bad.csv line 8 (and 9): ");
  expect_in(out, "nothing stored: the file has problems");
  free(out);
  free(err);
  char *v = values_csv("wenchang", "2021");
  cr_expect(strstr(v, "live_births") == NULL, "stored: %s", v);
  free(v);
}

Test(import, a_report_that_breaks_a_rule_is_refused_alone) {
  char *out = NULL, *err = NULL;
  const char *f = file_with("two.csv", "wenchang,2021,live_births,812\n"
                                       "guide,2021,live_births,10\n"
                                       "guide,2021,infant_deaths,11\n");
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "import", f), 1);
  expect_in(err, "tally import: guide 2021: ");
  expect_in(err, "two.csv line 2 (and 3): ");
  expect_in(out, "2 reports, 3 values: 1 stored, 0 already stored before, 1 "
                 "refused");
  free(out);
  free(err);
  char *v = values_csv("wenchang", "2021");
  expect_in(v, "\"live_births\",\"812\"");
  free(v);
  v = values_csv("guide", "2021");
  cr_expect(strstr(v, "live_births") == NULL, "stored: %s", v);
  free(v);
}

/* How often want is in text. */
static int count_in(const char *text, const char *want) {
  int n = 0;
  for (const char *at = text; at && (at = strstr(at, want)) != NULL; at++)
    n++;
  return n;
}

/* An import logs one line for all its reports, and a line for each one
 * refused; a submission of its own still logs its line. */
Test(import, an_import_logs_one_line_and_its_refusals) {
  char *out = NULL, *err = NULL, spool[300];
  const char *f = file_with("two.csv", "wenchang,2021,live_births,812\n"
                                       "wenchang,2021,infant_deaths,2\n"
                                       "pingan,2021,live_births,640\n"
                                       "guide,2021,live_births,10\n"
                                       "guide,2021,infant_deaths,11\n");
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "import", f), 1, "%s", err);
  free(out);
  free(err);
  char *log = tally_test_read_file(srv.log);
  cr_assert_not_null(log);
  cr_expect_eq(count_in(log, "import: 3 reports from "), 1, "%s", log);
  cr_expect_eq(count_in(log, ": 2 stored, 1 refused"), 1, "%s", log);
  cr_expect_eq(count_in(log, "submit: "), 0, "a line per report: %s", log);
  cr_expect_eq(count_in(log, "submit refused: unit=guide period=2021"), 1,
               "%s", log);
  free(log);

  snprintf(spool, sizeof spool, "%s/spool", files);
  f = file_with("wenchang.csv", "live_births,640\n");
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(&out, &err, "submit", "--unit", "wenchang", "--period",
                   "2022", "--file", f, "--spool", spool), 0, "%s", err);
  free(out);
  free(err);
  log = tally_test_read_file(srv.log);
  cr_expect_eq(count_in(log, "submit: unit=wenchang period=2022 values=1 "), 1,
               "%s", log);
  free(log);
}

Test(import, locked_periods_and_approved_reports_are_refused) {
  char *out = NULL, *err = NULL;
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "period", "lock", "2020", "--text", "done"), 0,
               "%s", err);
  free(out);
  free(err);
  const char *f = file_with("h.csv", history);
  cr_assert_eq(RUN(&out, &err, "import", f), 1);
  expect_in(err, "tally import: guide 2020: period 2020 is closed");
  expect_in(err, "tally import: wenchang 2020: period 2020 is closed");
  expect_in(out, "2 stored, 0 already stored before, 2 refused");
  free(out);
  free(err);
  /* wenchang 2021 approved: a new figure for it is refused. */
  cr_assert_eq(RUN(&out, &err, "review", "approve", "--unit", "wenchang",
                   "--period", "2021", "--revision", "1"), 0, "%s", err);
  free(out);
  free(err);
  f = file_with("again.csv", "wenchang,2021,live_births,900\n");
  cr_assert_eq(RUN(&out, &err, "import", f), 1);
  expect_in(err, "wenchang 2021: wenchang 2021 已审核");
  free(out);
  free(err);
}

Test(import, only_analysts_and_admins) {
  char *out = NULL, *err = NULL;
  const char *f = file_with("h.csv", history);
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(&out, &err, "import", f), 1);
  expect_in(err, "permission denied: import needs the analyst role");
  free(out);
  free(err);
  tally_test_sign_in(&srv, "reporter", "changqing");
  cr_assert_eq(RUN(&out, &err, "import", f), 1);
  expect_in(err, "permission denied");
  free(out);
  free(err);
}

/* text in GB18030, as Excel saves CSV on Chinese Windows. */
static char *gb18030(const char *text) {
  iconv_t cd = iconv_open("GB18030", "UTF-8");
  size_t in_left = strlen(text), left = in_left * 2 + 1;
  char *out = calloc(1, left + 1), *w = out, *in = (char *)text;
  cr_assert(cd != (iconv_t)-1 && out);
  cr_assert_neq(iconv(cd, &in, &in_left, &w, &left), (size_t)-1);
  iconv_close(cd);
  return out;
}

Test(import, gbk_with_chinese_names_and_header) {
  char *out = NULL, *err = NULL;
  char *gbk = gb18030("单位,期间,数据元素,数值\n"
                      "文昌街道,2021,活产数,\"1,255\"\n"
                      "文昌街道,2021,婴儿死亡数,２\n");
  const char *f = file_with("gbk.csv", gbk);
  free(gbk);
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "import", f), 0, "%s", err);
  expect_in(out, "1 report, 2 values: 1 stored");
  free(out);
  free(err);
  char *v = values_csv("wenchang", "2021");
  expect_in(v, "\"live_births\",\"1255\"");
  expect_in(v, "\"infant_deaths\",\"2\"");
  free(v);
}

/* A row whose value was left empty is not reported, as in a figures
 * file: the sheet holds no cell for it. */
Test(import, a_workbook_in_long_form) {
  char *out = NULL, *err = NULL;
  char path[512];
  snprintf(path, sizeof path, "%s/long.xlsx", files);
  tally_test_workbook(
      path,
      "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1"
      "</v></c><c r=\"C1\" t=\"s\"><v>2</v></c><c r=\"D1\" t=\"s\"><v>3</v>"
      "</c></row><row r=\"2\"><c r=\"A2\" t=\"s\"><v>4</v></c><c r=\"B2\">"
      "<v>2021</v></c><c r=\"C2\" t=\"s\"><v>5</v></c><c r=\"D2\"><v>640</v>"
      "</c></row><row r=\"3\"><c r=\"A3\" t=\"s\"><v>4</v></c><c r=\"B3\">"
      "<v>2021</v></c><c r=\"C3\" t=\"inlineStr\"><is><t>infant_deaths</t>"
      "</is></c><c r=\"D3\"><v>1</v></c></row><row r=\"4\"><c r=\"A4\" "
      "t=\"s\"><v>4</v></c><c r=\"B4\"><v>2021</v></c><c r=\"C4\" "
      "t=\"inlineStr\"><is><t>maternal_deaths</t></is></c></row>",
      "<si><t>单位</t></si><si><t>期间</t></si><si><t>数据元素</t></si>"
      "<si><t>数值</t></si><si><t>guide</t></si><si><t>live_births</t></si>");
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "import", path), 0, "%s", err);
  expect_in(out, "long.xlsx (long xlsx): 1 report, 2 values: 1 stored");
  /* The row whose value cell was left empty (Excel leaves it out). */
  expect_in(out, "1 figure with an empty value skipped: not reported");
  free(out);
  free(err);
  char *v = values_csv("guide", "2021");
  expect_in(v, "\"live_births\",\"640\"");
  free(v);
}

Test(import, dhis2_csv_and_json_with_age_groups) {
  char *out = NULL, *err = NULL;
  const char *csv = file_with(
      "dhis2.csv",
      "dataelement,period,orgunit,catoptcombo,attroptcombo,value,storedby,"
      "lastupdated,comment,followup\n"
      "live_births,2021,wenchang,HllvX50cXC0,HllvX50cXC0,812,admin,"
      "2022-01-10,,false\n"
      "deaths,2021,wenchang,1-4,HllvX50cXC0,2,admin,2022-01-10,,false\n");
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "import", csv), 0, "%s", err);
  expect_in(out, "(DHIS2 dataValueSets CSV): 1 report, 2 values: 1 stored");
  free(out);
  free(err);
  char *v = values_csv("wenchang", "2021");
  expect_in(v, "\"deaths.1-4\",\"2\"");
  free(v);
  const char *json = file_with(
      "dhis2.json",
      "{\"dataSet\": \"changqing\", \"period\": \"2021\", \"orgUnit\": "
      "\"guide\", \"dataValues\": [{\"dataElement\": \"live_births\", "
      "\"value\": \"640\"}, {\"dataElement\": \"deaths\", "
      "\"categoryOptionCombo\": \"0\", \"value\": 3}, {\"dataElement\": "
      "\"live_births\", \"period\": \"202107\", \"value\": \"50\"}, "
      "{\"dataElement\": \"x\", \"value\": \"-1\"}]}");
  cr_assert_eq(RUN(&out, &err, "import", json), 1);
  expect_in(err, "dhis2.json dataValue 4: value '-1' is negative");
  free(out);
  free(err);
  json = file_with(
      "dhis2.json",
      "{\"dataSet\": \"changqing\", \"period\": \"2021\", \"orgUnit\": "
      "\"guide\", \"dataValues\": [{\"dataElement\": \"live_births\", "
      "\"value\": \"640\"}, {\"dataElement\": \"deaths\", "
      "\"categoryOptionCombo\": \"0\", \"value\": 3}, {\"dataElement\": "
      "\"live_births\", \"period\": \"202107\", \"value\": \"50\"}]}");
  cr_assert_eq(RUN(&out, &err, "import", json), 0, "%s", err);
  expect_in(out, "(DHIS2 dataValueSets JSON): 2 reports, 3 values: 2 stored");
  free(out);
  free(err);
  v = values_csv("guide", "2021-07");
  expect_in(v, "\"live_births\",\"50\"");
  free(v);
  v = values_csv("guide", "2021");
  expect_in(v, "\"deaths.0\",\"3\"");
  free(v);
}

Test(import, adx) {
  char *out = NULL, *err = NULL;
  const char *f = file_with(
      "in.adx",
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<adx xmlns=\"urn:ihe:qrph:adx:2015\" exported=\"2022-01-10T00:00:00Z\">\n"
      "  <group orgUnit=\"wenchang\" period=\"2021-01-01/P1Y\" "
      "dataSet=\"changqing\">\n"
      "    <dataValue dataElement=\"live_births\" value=\"812\"/>\n"
      "    <dataValue dataElement=\"deaths\" AGE_GROUP=\"85+\" value=\"7\"/>\n"
      "  </group>\n"
      "  <group orgUnit=\"guide\" period=\"2021-07-01/P3M\" "
      "dataSet=\"changqing\">\n"
      "    <dataValue dataElement=\"live_births\" value=\"160\"/>\n"
      "  </group>\n"
      "</adx>\n");
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "import", f), 0, "%s", err);
  expect_in(out, "(ADX): 2 reports, 3 values: 2 stored");
  free(out);
  free(err);
  char *v = values_csv("wenchang", "2021");
  expect_in(v, "\"deaths.85+\",\"7\"");
  free(v);
  v = values_csv("guide", "2021Q3");
  expect_in(v, "\"live_births\",\"160\"");
  free(v);
  f = file_with("bad.adx",
                "<adx xmlns=\"urn:ihe:qrph:adx:2015\">\n"
                "<group orgUnit=\"wenchang\" period=\"2021-03-01/P1Y\">\n"
                "<dataValue dataElement=\"live_births\" value=\"1\"/></group>\n"
                "<group orgUnit=\"guide\" period=\"2021-01-01/P1Y\">\n"
                "<dataValue dataElement=\"live_births\" SEX=\"F\" value=\"1\"/>"
                "\n</group></adx>\n");
  cr_assert_eq(RUN(&out, &err, "import", f), 1);
  expect_in(err, "bad.adx line 2: period '2021-03-01/P1Y' is not a year");
  expect_in(err, "bad.adx line 5: a dataValue disaggregated by SEX");
  free(out);
  free(err);
  f = file_with("not.adx", "<html><body>no</body></html>");
  cr_assert_eq(RUN(&out, &err, "import", f), 1);
  expect_in(err, "not ADX: its root is <html>");
  free(out);
  free(err);
}

/* More reports than three requests hold (1,024 each), so that two are
 * in flight at once on two connections: every report is answered once,
 * in order, a refused one in the middle alone, and none is stored twice
 * when the file comes again. */
Test(import, many_requests_in_flight_lose_and_repeat_nothing) {
  const char *units[] = {"wenchang", "guide", "pingan", "wande",
                         "guyunhu"};
  size_t cap = 1 << 20, at = 0, reports = 0;
  char *text = malloc(cap), *out = NULL, *err = NULL;
  at += (size_t)snprintf(text + at, cap - at, "unit,period,element,value\n");
  for (int y = 1940; y < 2006; y++)
    for (int q = 1; q <= 12; q++)
      for (size_t u = 0; u < 8 && u < sizeof units / sizeof *units; u++) {
        int bad = y == 1950 && q == 2 && u == 1; /* deaths above births */
        at += (size_t)snprintf(text + at, cap - at,
                               "%s,%d-%02d,live_births,%d\n"
                               "%s,%d-%02d,infant_deaths,%d\n", units[u], y, q,
                               100 + y % 7, units[u], y, q, bad ? 500 : 1);
        reports++;
      }
  cr_assert_gt(reports, 3 * 1024);
  const char *f = file_with("many.csv", text);
  free(text);
  tally_test_sign_in(&srv, "analyst", NULL);
  char want[200];
  cr_assert_eq(RUN(&out, &err, "import", f), 1, "%s", err);
  snprintf(want, sizeof want, "%zu reports, %zu values: %zu stored, 0 already "
           "stored before, 1 refused\n", reports, 2 * reports, reports - 1);
  expect_in(out, want);
  expect_in(err, "guide 1950-02");
  free(out);
  free(err);
  char *v = values_csv("pingan", "2005-12");
  expect_in(v, "\"live_births\",\"103\"");
  free(v);
  v = values_csv("guide", "1950-02");
  cr_expect(strstr(v, "live_births") == NULL, "stored: %s", v);
  free(v);
  cr_assert_eq(RUN(&out, &err, "import", f), 1, "%s", err);
  snprintf(want, sizeof want, "0 stored, %zu already stored before, 1 "
           "refused\n", reports - 1);
  expect_in(out, want);
  free(out);
  free(err);
}

static double seconds_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* The catalog is fetched in a thread while the file is read; a server
 * that never answers is waited for once (--timeout), as before, and a
 * file that cannot be read is told at once, not after the timeout. */
Test(import, a_silent_server_is_waited_for_once) {
  char where[64], *err = NULL;
  int lfd = tally_test_listen(where, sizeof where); /* never answers */
  const char *f = file_with("silent.csv", "unit,period,element,value\n"
                                          "guide,2021,live_births,1\n");
  double t0 = seconds_now();
  int rc = RUN(NULL, &err, "--server", where, "--timeout", "2", "import", f);
  double took = seconds_now() - t0;
  cr_expect_eq(rc, 3, "%d: %s", rc, err);
  expect_in(err, "within 2 s");
  cr_expect(took < 3.5, "the server was waited for %.1f s (--timeout 2)",
            took);
  free(err);

  char missing[600];
  snprintf(missing, sizeof missing, "%s/no-such-file.csv", files);
  t0 = seconds_now();
  rc = RUN(NULL, &err, "--server", where, "--timeout", "2", "import",
           missing);
  took = seconds_now() - t0;
  cr_expect_eq(rc, 1, "%d: %s", rc, err);
  expect_in(err, "No such file or directory\nNothing was stored.\n");
  cr_expect(took < 1.0, "a missing file was told after %.1f s", took);
  free(err);
  close(lfd);
}
