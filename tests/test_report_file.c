/* test_report_file.c: the annual monitoring report as files (tally report
 * --format html, pdf, xlsx), through the real tally and tallyd with the
 * bundled sample figures of 2020-2022: the HTML's and the workbook's
 * figures are the JSON's (tests/report_check.py reads them back, the
 * workbook with Debian's python3-openpyxl), the PDF's pages are not blank
 * and hold every indicator's code (poppler-utils), everything a user
 * wrote is escaped, and what cannot be made says why. */
#include "client.h"
#include "fixture.h"
#include "wire.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

extern const char tally_catalog_builtin_json[];
extern const size_t tally_catalog_builtin_len;

static tally_test_server srv;
static char files[256];
static int started;

static void teardown(void) {
  if (started)
    tally_test_cli_stop(&srv, files);
  started = 0;
}

TestSuite(report_file, .fini = teardown, .timeout = 240);

/* Starts tallyd (with catalog, a file, when not NULL) and points tally
 * at it. */
static void start(const char *catalog) {
  const char *extra[] = {"--catalog", catalog, NULL};
  char spool[512];
  tally_test_server_start(&srv, catalog ? extra : NULL);
  tally_test_tmpdir(files, sizeof files);
  snprintf(spool, sizeof spool, "%s/spool", files);
  setenv("TALLY_SERVER", srv.address, 1);
  setenv("TALLY_SPOOL", spool, 1);
  started = 1;
}

static const char *path_in(const char *name) {
  static char path[4][512];
  static int next;
  char *p = path[next++ % 4];
  snprintf(p, 512, "%s/%s", files, name);
  return p;
}

static const char *const units[] = {"wenchang", "pingan", "guyunhu",
                                    "wufengshan", "guide", "wande",
                                    "zhangxia", "xiaoli", "mashan",
                                    "shuangquan", "changqing"};

/* Each unit's sample figures of 2020-2022, each sent by its reporter. */
static void submit_samples(void) {
  for (int y = 2020; y <= 2022; y++)
    for (int i = 0; i < 11; i++) {
      char path[512], period[8], *err;
      snprintf(path, sizeof path, "%s/deploy/sample/%d/%s.csv",
               TALLY_SOURCE_DIR, y, units[i]);
      snprintf(period, sizeof period, "%d", y);
      tally_test_sign_in(&srv, "reporter", units[i]);
      int rc = RUN(NULL, &err, "submit", "--unit", units[i], "--period",
                   period, "--file", path);
      cr_assert_eq(rc, 0, "%s: %s", path, err);
      free(err);
    }
  tally_test_sign_in(&srv, "analyst", NULL);
}

/* Runs a program (python3, pdftoppm); its output is printed on failure. */
static int run_program(const char *prog, const char *const *args) {
  char *out = NULL, *err = NULL;
  int rc = tally_test_exec(prog, args, NULL, &out, &err);
  if (rc != 0)
    fprintf(stderr, "%s failed (%d):\n%s\n%s\n", prog, rc, out ? out : "",
            err ? err : "");
  free(out);
  free(err);
  return rc;
}

#define PYTHON "/usr/bin/python3" /* Debian's, with python3-openpyxl */
#define CHECK TALLY_SOURCE_DIR "/tests/report_check.py"

static void expect_absent(const char *text, const char *what) {
  cr_expect(strstr(text, what) == NULL, "the page holds '%s'", what);
}

Test(report_file, html_and_xlsx_show_what_json_shows) {
  start(NULL);
  submit_samples();
  char *out, *err;
  const char *html = path_in("2022.html"), *xlsx = path_in("2022.xlsx");
  cr_assert_eq(RUN(&out, &err, "report", "--period", "2022", "--format",
                   "html"), 0, "%s", err);
  free(err);
  tally_test_write_file(html, out);
  cr_assert_eq(RUN(NULL, &err, "report", "--period", "2022", "--format",
                   "xlsx", "--output", xlsx), 0, "%s", err);
  free(err);

  /* Self-contained: nothing is fetched, no script runs. */
  cr_assert(strncmp(out, "<!DOCTYPE html>", 15) == 0);
  expect_absent(out, "<script");
  expect_absent(out, "src=");
  expect_absent(out, "href=\"http");
  expect_absent(out, "url(");
  expect_absent(out, "@import");
  expect_absent(out, "<link");
  /* In Chinese, with the print stylesheet's parts. */
  cr_expect(strstr(out, "<html lang=\"zh-CN\">"));
  cr_expect(strstr(out, "年度主要指标监测评估报告"));
  cr_expect(strstr(out, "@page{size:A4"));
  cr_expect(strstr(out, "thead{display:table-header-group}"));
  cr_expect(strstr(out, "tr,figure{break-inside:avoid}"));
  cr_expect(strstr(out, "section{break-before:page}"));
  /* The notes: the city's targets not assigned yet, the queue read. */
  cr_expect(strstr(out, "<b>P14</b> 2025：完成市下达任务"), "no P14 note");
  cr_expect(strstr(out, "<ul class=\"notes\" id=\"warnings\">"));
  free(out);

  /* Every figure, status, trend point and matrix cell, against json. */
  const char *check[] = {CHECK, "agree", TALLY_PATH, "2022", "2020", html,
                         xlsx, NULL};
  cr_assert_eq(run_program(PYTHON, check), 0);

  /* The checker sees a wrong figure: the same page with H02's value
   * changed does not agree. */
  char *page = tally_test_read_file(html);
  char *at = strstr(page, "<tr data-code=\"H02\">");
  cr_assert(at);
  at = strstr(at, "<td data-k=\"value\" class=\"num\">");
  cr_assert(at);
  at += strlen("<td data-k=\"value\" class=\"num\">");
  *at = *at == '9' ? '8' : '9';
  const char *bad = path_in("bad.html");
  tally_test_write_file(bad, page);
  free(page);
  const char *recheck[] = {CHECK, "agree", TALLY_PATH, "2022", "2020", bad,
                           xlsx, NULL};
  cr_assert_eq(tally_test_exec(PYTHON, recheck, NULL, &out, NULL), 1);
  cr_expect(strstr(out, "MISMATCH: html H02 value: "), "%s", out);
  free(out);
}

Test(report_file, pdf_pages_are_not_blank_and_hold_every_code) {
  start(NULL);
  submit_samples();
  char *out, *err;
  const char *pdf = path_in("2022.pdf"), *json = path_in("2022.json");
  cr_assert_eq(RUN(&out, &err, "report", "--period", "2022", "--format",
                   "json"), 0, "%s", err);
  tally_test_write_file(json, out);
  free(out);
  free(err);
  cr_assert_eq(RUN(NULL, &err, "report", "--period", "2022", "--format",
                   "pdf", "-o", pdf), 0, "%s", err);
  free(err);
  char *head = tally_test_read_file(pdf);
  cr_assert(head && strncmp(head, "%PDF-", 5) == 0);
  free(head);
  const char *check[] = {CHECK, "pdf", pdf, json, NULL};
  cr_assert_eq(run_program(PYTHON, check), 0);
}

Test(report_file, without_chromium_says_how_to_install_it) {
  start(NULL);
  tally_test_sign_in(&srv, "analyst", NULL);
  char *err;
  const char *pdf = path_in("none.pdf");
  setenv("TALLY_CHROMIUM", "/nonexistent/chromium", 1);
  int rc = RUN(NULL, &err, "report", "--period", "2022", "--format", "pdf",
               "--output", pdf);
  unsetenv("TALLY_CHROMIUM");
  cr_assert_eq(rc, 1, "%s", err);
  cr_expect(strstr(err, "headless Chromium, which is not installed"), "%s",
            err);
  cr_expect(strstr(err, "apt-get install chromium"), "%s", err);
  free(err);
  struct stat st;
  cr_expect(stat(pdf, &st) != 0, "a PDF was left behind");
}

Test(report_file, what_cannot_be_made_is_refused) {
  start(NULL);
  tally_test_sign_in(&srv, "analyst", NULL);
  char *err;
  /* The files are tally report's alone. */
  cr_assert_eq(RUN(NULL, &err, "completeness", "--period", "2022",
                   "--format", "html"), 2);
  cr_expect(strstr(err, "--format html, pdf and xlsx are for tally report"),
            "%s", err);
  free(err);
  cr_assert_eq(RUN(NULL, &err, "report", "--period", "2022", "--output",
                   path_in("x.txt")), 2);
  cr_expect(strstr(err, "--output is for --format html, pdf or xlsx"), "%s",
            err);
  free(err);
  cr_assert_eq(RUN(NULL, &err, "report", "--period", "2022", "--format",
                   "html", "--as-approved"), 2);
  cr_expect(strstr(err, "--as-approved is not for html, pdf or xlsx yet"),
            "%s", err);
  free(err);
  /* A file that cannot be written is not left half made. */
  cr_assert_eq(RUN(NULL, &err, "report", "--period", "2022", "--format",
                   "xlsx", "--output", "/nonexistent/dir/x.xlsx"), 1);
  cr_expect(strstr(err, "/nonexistent/dir/x.xlsx"), "%s", err);
  free(err);
}

Test(report_file, a_reporter_gets_its_own_unit_without_the_queue) {
  start(NULL);
  submit_samples();
  char *out, *err;
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(&out, &err, "report", "--period", "2022", "--format",
                   "html"), 1);
  cr_expect(strstr(err, "permission denied"), "%s", err); /* the district */
  free(out);
  free(err);
  cr_assert_eq(RUN(&out, &err, "report", "--period", "2022", "--unit",
                   "wenchang", "--format", "html"), 0, "%s", err);
  cr_expect(strstr(out, "本账户无权读取审核队列"), "no word of the queue");
  cr_expect(strstr(out, "<tr data-code=\"H02\">"));
  free(out);
  free(err);
}

/* The built-in catalog with wenchang's names holding markup. */
static const char *marked_catalog(void) {
  json_error_t e;
  json_t *doc = json_loadb(tally_catalog_builtin_json,
                           tally_catalog_builtin_len, 0, &e), *u;
  size_t i;
  cr_assert_not_null(doc, "%s", e.text);
  json_array_foreach(json_object_get(doc, "units"), i, u) {
    if (strcmp(json_string_value(json_object_get(u, "code")), "wenchang"))
      continue;
    json_object_set_new(u, "name_zh",
                        json_string("文昌<script>alert(1)</script>&街道"));
    json_object_set_new(u, "name_en", json_string("Wen'chang\" & <iframe>"));
  }
  char *text = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  static char path[300];
  char dir[256];
  tally_test_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/marked.json", dir);
  tally_test_write_file(path, text);
  free(text);
  return path;
}

/* Every & of the page begins one of the entities esc() writes. */
static void every_ampersand_is_an_entity(const char *page) {
  static const char *const ok[] = {"&amp;", "&lt;", "&gt;", "&quot;",
                                   "&#39;"};
  for (const char *p = page; (p = strchr(p, '&')) != NULL; p++) {
    size_t k = 0;
    while (k < 5 && strncmp(p, ok[k], strlen(ok[k])) != 0)
      k++;
    cr_assert(k < 5, "a bare & at: %.40s", p);
  }
}

Test(report_file, user_text_is_escaped) {
  start(marked_catalog());
  char *out, *err;
  /* wenchang's mid-year population of 2022, and a resident population
   * far from it: a warning (more than 10 % off), explained with markup. */
  char path[512];
  snprintf(path, sizeof path, "%s/deploy/sample/2022/wenchang.csv",
           TALLY_SOURCE_DIR);
  char *csv = tally_test_read_file(path), *line, *save = NULL;
  cr_assert(csv);
  size_t len = 0;
  char *kept = calloc(1, strlen(csv) + 64);
  for (line = strtok_r(csv, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save))
    if (strncmp(line, "midyear_population.", 19) == 0)
      len += (size_t)sprintf(kept + len, "%s\n", line);
  sprintf(kept + len, "resident_population,1000\n");
  free(csv);
  csv = kept;
  const char *figures = path_in("wenchang.csv");
  tally_test_write_file(figures, csv);
  free(csv);
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(NULL, &err, "submit", "--unit", "wenchang", "--period",
                   "2022", "--file", figures, "--explain",
                   "midyear_population=<script>alert(\"x\")</script> & 说明"),
               0, "%s", err);
  free(err);
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(NULL, &err, "review", "return", "--unit", "wenchang",
                   "--period", "2022", "--reason", "<u>请核实</u> & 重报"),
               0, "%s", err);
  free(err);
  cr_assert_eq(RUN(NULL, &err, "period", "lock", "2022", "--text",
                   "<iframe src=x></iframe> & 定稿"), 0, "%s", err);
  free(err);

  cr_assert_eq(RUN(&out, &err, "report", "--period", "2022", "--format",
                   "html"), 0, "%s", err);
  free(err);
  expect_absent(out, "<script");
  expect_absent(out, "<iframe");
  expect_absent(out, "<u>");
  every_ampersand_is_an_entity(out);
  cr_expect(strstr(out, "文昌&lt;script&gt;alert(1)&lt;/script&gt;&amp;街道"),
            "the unit's name is not there, escaped");
  cr_expect(strstr(out, "Wen&#39;chang&quot; &amp; &lt;iframe&gt;"));
  cr_expect(strstr(out, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; "
                        "&amp; 说明"), "the explanation is not there");
  cr_expect(strstr(out, "&lt;u&gt;请核实&lt;/u&gt; &amp; 重报"),
            "the return's reason is not there");
  cr_expect(strstr(out, "&lt;iframe src=x&gt;&lt;/iframe&gt; &amp; 定稿"),
            "the lock's text is not there");
  free(out);

  /* The workbook keeps the text as it was written. */
  const char *xlsx = path_in("marked.xlsx");
  cr_assert_eq(RUN(NULL, &err, "report", "--period", "2022", "--format",
                   "xlsx", "-o", xlsx), 0, "%s", err);
  free(err);
  const char *check[] = {CHECK, "cell", xlsx, "各镇街矩阵",
                         "文昌<script>alert(1)</script>&街道 数值", NULL};
  cr_assert_eq(run_program(PYTHON, check), 0);
  const char *check2[] = {CHECK, "cell", xlsx, "说明",
                          "<script>alert(\"x\")</script> & 说明", NULL};
  cr_assert_eq(run_program(PYTHON, check2), 0);
}

/* The report file as the district report page gets it: a
 * ReportFileRequest of the analyst's, on a connection of its own. */
static Tally__Envelope *report_file_of(const char *token, const char *period,
                                       const char *unit,
                                       Tally__ReportFileRequest__Format format) {
  Tally__ReportRequest q = TALLY__REPORT_REQUEST__INIT;
  Tally__ReportFileRequest f = TALLY__REPORT_FILE_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  char err[256];
  q.period = (char *)period;
  q.unit = (char *)unit;
  f.report = &q;
  f.format = format;
  req.body_case = TALLY__ENVELOPE__BODY_REPORT_FILE;
  req.report_file = &f;
  struct tally_client *c = tally_test_connect(&srv, token);
  int rc = tally_client_call(c, &req, &reply, err, sizeof err);
  tally_client_close(c);
  cr_assert_eq(rc, 0, "call: %s", err);
  return reply;
}

static Tally__Envelope *report_file(const char *token, const char *period,
                                    Tally__ReportFileRequest__Format format) {
  return report_file_of(token, period, "", format);
}

/* s with what differs from one making to the next taken out: the time
 * it was made (after "made ") and the milliseconds it took. */
static char *without_times(const char *s) {
  static const char *const after[] = {"生成于 made ", "用时 ", "requests in "};
  char *out = strdup(s), *w = out;
  cr_assert(out);
  for (const char *p = s; *p;) {
    size_t k = 0, skip = 0;
    for (; k < 3; k++)
      if (strncmp(p, after[k], strlen(after[k])) == 0)
        break;
    if (k == 3) {
      *w++ = *p++;
      continue;
    }
    memcpy(w, p, strlen(after[k]));
    w += strlen(after[k]);
    p += strlen(after[k]);
    if (k == 0)
      skip = strlen("2022-01-01 00:00:00");
    else
      while (p[skip] >= '0' && p[skip] <= '9')
        skip++;
    cr_assert(strlen(p) >= skip);
    *w++ = '#';
    p += skip;
  }
  *w = 0;
  return out;
}

Test(report_file, the_pages_file_is_tally_reports) {
  start(NULL);
  submit_samples();
  const char *analyst = tally_test_token(&srv, "analyst", NULL);
  char *out, *err;
  cr_assert_eq(RUN(&out, &err, "report", "--period", "2022", "--format",
                   "html"), 0, "%s", err);
  free(err);

  Tally__Envelope *r =
      report_file(analyst, "2022", TALLY__REPORT_FILE_REQUEST__FORMAT__FORMAT_HTML);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_REPORT_FILE_REPLY, "%s",
               r->body_case == TALLY__ENVELOPE__BODY_ERROR ? r->error->message
                                                            : "");
  const Tally__ReportFileReply *f = r->report_file_reply;
  cr_expect_str_eq(f->file_name, "tally-report-2022.html");
  cr_expect_str_eq(f->media_type, "text/html; charset=utf-8");
  char *page = strndup((const char *)f->content.data, f->content.len);
  cr_assert_eq(strlen(page), f->content.len, "a NUL in the page");
  /* The same bytes as the command line's, but for when it was made. */
  char *a = without_times(out), *b = without_times(page);
  cr_expect(strcmp(a, out) != 0, "no time was taken out");
  cr_expect_str_eq(b, a);
  free(a);
  free(b);
  free(out);
  const char *html = path_in("page.html");
  tally_test_write_file(html, page);
  free(page);
  tally_wire_free(r);

  r = report_file(analyst, "2022", TALLY__REPORT_FILE_REQUEST__FORMAT__FORMAT_XLSX);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_REPORT_FILE_REPLY, "%s",
               r->body_case == TALLY__ENVELOPE__BODY_ERROR ? r->error->message
                                                            : "");
  f = r->report_file_reply;
  cr_expect_str_eq(f->file_name, "tally-report-2022.xlsx");
  cr_assert(f->content.len > 4 && memcmp(f->content.data, "PK\3\4", 4) == 0,
            "not a zip");
  const char *xlsx = path_in("page.xlsx");
  FILE *w = fopen(xlsx, "wb");
  cr_assert(w);
  cr_assert_eq(fwrite(f->content.data, 1, f->content.len, w), f->content.len);
  cr_assert_eq(fclose(w), 0);
  tally_wire_free(r);

  /* Both files' figures are tally report --format json's. */
  const char *check[] = {CHECK, "agree", TALLY_PATH, "2022", "2020", html,
                         xlsx, NULL};
  cr_assert_eq(run_program(PYTHON, check), 0);

  /* What the page cannot have is refused in words: a reporter's, a bad
   * period, a format there is none of. */
  r = report_file(tally_test_token(&srv, "reporter", "wenchang"), "2022",
                  TALLY__REPORT_FILE_REQUEST__FORMAT__FORMAT_HTML);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR);
  cr_expect_eq(r->error->code, TALLY__ERROR_CODE__ERROR_PERMISSION_DENIED);
  cr_expect(strstr(r->error->message, "report file needs the analyst role"),
            "%s", r->error->message);
  tally_wire_free(r);
  r = report_file(analyst, "2022Q9",
                  TALLY__REPORT_FILE_REQUEST__FORMAT__FORMAT_HTML);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR);
  cr_expect_eq(r->error->code, TALLY__ERROR_CODE__ERROR_BAD_PERIOD, "%s",
               r->error->message);
  tally_wire_free(r);
  r = report_file(analyst, "2022", (Tally__ReportFileRequest__Format)7);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR);
  cr_expect(strstr(r->error->message, "unknown report file format 7"), "%s",
            r->error->message);
  tally_wire_free(r);
}

/* Writes into dir/big.json (path, n bytes) the built-in catalog with
 * towns more towns under the district. */
static void big_catalog(const char *dir, int towns, char *path, size_t n) {
  json_error_t e;
  json_t *doc = json_loadb(tally_catalog_builtin_json,
                           tally_catalog_builtin_len, 0, &e);
  cr_assert_not_null(doc, "%s", e.text);
  json_t *list = json_object_get(doc, "units");
  for (int i = 0; i < towns; i++) {
    char code[16], zh[32], en[32];
    snprintf(code, sizeof code, "t%06d", i);
    snprintf(zh, sizeof zh, "测试镇%d", i);
    snprintf(en, sizeof en, "Town %d", i);
    json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:s}", "code",
                                          code, "level", "town", "parent",
                                          "changqing", "name_zh", zh,
                                          "name_en", en));
  }
  snprintf(path, n, "%s/big.json", dir);
  char *text = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  tally_test_write_file(path, text);
  free(text);
}

Test(report_file, a_scope_too_large_for_the_page_is_refused_before_its_reads) {
  /* The built-in catalog with 991 towns more: 1,001 reporting units. */
  char dir[256], path[300];
  tally_test_tmpdir(dir, sizeof dir);
  big_catalog(dir, 991, path, sizeof path);
  start(path);
  Tally__Envelope *r =
      report_file(tally_test_token(&srv, "analyst", NULL), "2022",
                  TALLY__REPORT_FILE_REQUEST__FORMAT__FORMAT_HTML);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR);
  cr_expect_eq(r->error->code, TALLY__ERROR_CODE__ERROR_BAD_REQUEST);
  cr_expect(strstr(r->error->message, "changqing holds 1001 reporting units: "
                                      "the report file lists each one's "
                                      "figures, for at most 1000"),
            "%s", r->error->message);
  tally_wire_free(r);
  /* A unit within it is made. */
  r = report_file_of(tally_test_token(&srv, "analyst", NULL), "2022",
                     "wenchang", TALLY__REPORT_FILE_REQUEST__FORMAT__FORMAT_HTML);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_REPORT_FILE_REPLY, "%s",
               r->body_case == TALLY__ENVELOPE__BODY_ERROR ? r->error->message
                                                            : "");
  cr_expect_str_eq(r->report_file_reply->file_name,
                   "tally-report-2022-wenchang.html");
  tally_wire_free(r);
  tally_test_rmtree(dir);
}

/* One report file asked for on its own connection, in a thread. */
struct asking {
  pthread_t thread;
  struct tally_client *c;
  Tally__ReportFileRequest__Format format;
  int rc;
  Tally__Envelope *reply;
  char err[256];
};

static void *ask_file(void *arg) {
  struct asking *a = arg;
  Tally__ReportRequest q = TALLY__REPORT_REQUEST__INIT;
  Tally__ReportFileRequest f = TALLY__REPORT_FILE_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  q.period = "2022";
  q.unit = "";
  f.report = &q;
  f.format = a->format;
  req.body_case = TALLY__ENVELOPE__BODY_REPORT_FILE;
  req.report_file = &f;
  a->rc = tally_client_call(a->c, &req, &a->reply, a->err, sizeof a->err);
  return NULL;
}

/* Report files take a thread of libuv's pool each for as long as they
 * are made: with 999 units (over a second each), of five asked for at
 * once two are made and three refused "busy" at once; once those two
 * are done another is made, and other requests are answered meanwhile. */
Test(report_file, at_most_two_files_are_made_at_once) {
  char dir[256], path[300];
  tally_test_tmpdir(dir, sizeof dir);
  big_catalog(dir, 989, path, sizeof path); /* 999 reporting units */
  start(path);
  const char *analyst = tally_test_token(&srv, "analyst", NULL);
  struct asking a[5];
  memset(a, 0, sizeof a);
  for (int i = 0; i < 5; i++) {
    a[i].c = tally_test_connect_signed_in(&srv, analyst);
    a[i].format = i % 2 ? TALLY__REPORT_FILE_REQUEST__FORMAT__FORMAT_XLSX
                        : TALLY__REPORT_FILE_REQUEST__FORMAT__FORMAT_HTML;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < 5; i++)
    cr_assert_eq(pthread_create(&a[i].thread, NULL, ask_file, &a[i]), 0);
  /* Meanwhile a read is answered. */
  char *out = NULL, *err = NULL;
  cr_expect_eq(RUN(&out, &err, "whoami"), 0, "%s", err);
  free(out);
  free(err);
  for (int i = 0; i < 5; i++)
    pthread_join(a[i].thread, NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  int made = 0, busy = 0;
  for (int i = 0; i < 5; i++) {
    cr_assert_eq(a[i].rc, 0, "call %d: %s", i, a[i].err);
    if (a[i].reply->body_case == TALLY__ENVELOPE__BODY_REPORT_FILE_REPLY)
      made++;
    else if (a[i].reply->body_case == TALLY__ENVELOPE__BODY_ERROR &&
             a[i].reply->error->code == TALLY__ERROR_CODE__ERROR_BUSY) {
      busy++;
      cr_expect(strstr(a[i].reply->error->message,
                       "the server is making 2 report files already"),
                "%s", a[i].reply->error->message);
    } else
      cr_expect_fail("call %d: %s", i,
                     a[i].reply->body_case == TALLY__ENVELOPE__BODY_ERROR
                         ? a[i].reply->error->message
                         : "another reply");
    tally_wire_free(a[i].reply);
    tally_client_close(a[i].c);
  }
  cr_expect_eq(made, 2, "made %d, busy %d in %.2f s", made, busy,
               (double)(t1.tv_sec - t0.tv_sec) +
                   (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  cr_expect_eq(busy, 3);
  char *log = tally_test_read_file(srv.log);
  cr_expect(log && strstr(log, "refused: 2 being made already"), "%s",
            log ? log : "");
  free(log);
  /* Done: the next is made. */
  Tally__Envelope *r =
      report_file(analyst, "2022", TALLY__REPORT_FILE_REQUEST__FORMAT__FORMAT_HTML);
  cr_expect_eq(r->body_case, TALLY__ENVELOPE__BODY_REPORT_FILE_REPLY, "%s",
               r->body_case == TALLY__ENVELOPE__BODY_ERROR ? r->error->message
                                                            : "");
  tally_wire_free(r);
  tally_test_rmtree(dir);
}
