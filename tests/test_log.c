/* test_log.c: the log's formats (common/log.c): text, json, the
 * journal's severities, and auto. */
#include "fixture.h"
#include "log.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256], file[300];
static int saved = -1;

/* Standard error goes to a file for the test. */
static void setup(void) {
  tally_test_tmpdir(dir, sizeof dir);
  snprintf(file, sizeof file, "%s/log", dir);
  fflush(stderr);
  saved = dup(2);
  int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  cr_assert_geq(fd, 0);
  dup2(fd, 2);
  close(fd);
}

static void teardown(void) {
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  tally_test_rmtree(dir);
  unsetenv("JOURNAL_STREAM");
}

TestSuite(log, .init = setup, .fini = teardown);

static char *logged(void) {
  fflush(stderr);
  return tally_test_read_file(file);
}

Test(log, text_has_a_utc_stamp_and_names_warnings_and_errors) {
  cr_assert_eq(tally_log_set_format("text"), 0);
  tally_log("plain %d", 1);
  tally_log_warn("careful");
  tally_log_err("broken");
  char *text = logged();
  /* 2026-12-01T18:48:35.876Z plain 1 */
  cr_assert(strlen(text) > 25 && text[4] == '-' && text[10] == 'T' &&
                text[23] == 'Z' && strncmp(text + 24, " plain 1\n", 9) == 0,
            "%s", text);
  cr_assert(strstr(text, "Z warning: careful\n"), "%s", text);
  cr_assert(strstr(text, "Z error: broken\n"), "%s", text);
  free(text);
}

Test(log, the_journal_gets_severities_and_no_stamp) {
  cr_assert_eq(tally_log_set_format("journal"), 0);
  tally_log("plain");
  tally_log_warn("careful");
  tally_log_err("broken");
  tally_log_at(TALLY_LOG_NOTICE, "noted");
  char *text = logged();
  cr_assert_str_eq(text, "<6>plain\n<4>careful\n<3>broken\n<5>noted\n");
  free(text);
}

Test(log, json_is_one_object_a_line) {
  cr_assert_eq(tally_log_set_format("json"), 0);
  tally_log_warn("a \"quoted\" 文昌 line");
  char *text = logged();
  json_error_t e;
  json_t *o = json_loads(text, 0, &e);
  cr_assert_not_null(o, "%s: %s", text, e.text);
  cr_assert_str_eq(json_string_value(json_object_get(o, "level")), "warning");
  cr_assert_str_eq(json_string_value(json_object_get(o, "message")),
                   "a \"quoted\" 文昌 line");
  cr_assert(json_string_value(json_object_get(o, "time"))[23] == 'Z');
  json_decref(o);
  free(text);
}

/* A newline inside a message cannot forge a second line. */
Test(log, a_newline_in_a_message_stays_in_its_line) {
  cr_assert_eq(tally_log_set_format("journal"), 0);
  tally_log("name: %s", "x\n<3>forged");
  char *text = logged();
  cr_assert_str_eq(text, "<6>name: x <3>forged\n");
  free(text);
}

/* auto: the journal's format when standard error is the stream
 * $JOURNAL_STREAM names, text when it is another. */
Test(log, auto_finds_the_journal_by_its_stream) {
  struct stat st;
  char js[64];
  cr_assert_eq(fstat(2, &st), 0);
  snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
           (unsigned long long)st.st_ino);
  setenv("JOURNAL_STREAM", js, 1);
  cr_assert_eq(tally_log_set_format("auto"), 0);
  cr_assert_str_eq(tally_log_format(), "journal");
  snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
           (unsigned long long)st.st_ino + 1);
  setenv("JOURNAL_STREAM", js, 1);
  cr_assert_eq(tally_log_set_format("auto"), 0);
  cr_assert_str_eq(tally_log_format(), "text");
  unsetenv("JOURNAL_STREAM");
  cr_assert_eq(tally_log_set_format("auto"), 0);
  cr_assert_str_eq(tally_log_format(), "text");
  cr_assert_eq(tally_log_set_format("xml"), -1);
}
