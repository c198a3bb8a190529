/* test_flags.c: figures that moved sharply against a year before: the
 * rule, worked by hand, and the real tally and tallyd telling them on
 * submit and listing them with 'tally check'. */
#include "fixture.h"
#include "flags.h"
#include "frame.h"
#include "wire.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- The rule ---- */

#define COUNT TALLY_ELEMENT_COUNT
#define AMOUNT TALLY_ELEMENT_AMOUNT

Test(flags, small_counts_move_by_chance) {
  /* 3 -> 1: |1-3| = 2 > 0.3*3 = 0.9, but 3*sqrt(1+3) = 6 >= 2. */
  cr_expect_not(tally_flag_sharp(COUNT, 3, 1));
  /* 13 -> 40: 27 > 3.9 and 27 > 3*sqrt(53) = 21.84. */
  cr_expect(tally_flag_sharp(COUNT, 13, 40));
  /* 0 -> 9: 3*sqrt(9) = 9, not more; 0 -> 10: 3*sqrt(10) = 9.49 < 10. */
  cr_expect_not(tally_flag_sharp(COUNT, 0, 9));
  cr_expect(tally_flag_sharp(COUNT, 0, 10));
  /* 9 -> 0 as 0 -> 9. */
  cr_expect_not(tally_flag_sharp(COUNT, 9, 0));
}

Test(flags, large_counts_by_the_share) {
  /* 812 -> 8120, a slipped digit. */
  cr_expect(tally_flag_sharp(COUNT, 812, 8120));
  cr_expect(tally_flag_sharp(COUNT, 812, 81));
  /* 812 -> 700: 112 < 0.3*812 = 243.6. */
  cr_expect_not(tally_flag_sharp(COUNT, 812, 700));
  /* 600 -> 812: 212 > 180 and > 3*sqrt(1412) = 112.7. */
  cr_expect(tally_flag_sharp(COUNT, 600, 812));
  /* 1000 -> 1300 is 30%, not more; 1301 is (301 > 3*sqrt(2301) = 143.9). */
  cr_expect_not(tally_flag_sharp(COUNT, 1000, 1300));
  cr_expect(tally_flag_sharp(COUNT, 1000, 1301));
  cr_expect_not(tally_flag_sharp(COUNT, 812, 812));
}

Test(flags, amounts_by_the_share_alone) {
  /* 100 -> 131 is 31%; no chance test for yuan or hectares. */
  cr_expect(tally_flag_sharp(AMOUNT, 100, 131));
  cr_expect_not(tally_flag_sharp(AMOUNT, 100, 130));
  /* Exactly 30% is within, also where binary fractions round. */
  cr_expect_not(tally_flag_sharp(AMOUNT, 1.0, 1.3));
  cr_expect_not(tally_flag_sharp(AMOUNT, 0.5, 0.35));
  cr_expect_not(tally_flag_sharp(AMOUNT, 0.1, 0.13));
  cr_expect(tally_flag_sharp(AMOUNT, 1.0, 1.3001));
  cr_expect(tally_flag_sharp(AMOUNT, 0, 0.5));
  cr_expect(tally_flag_sharp(AMOUNT, 10, 0));
  cr_expect_not(tally_flag_sharp(AMOUNT, 0, 0));
}

Test(flags, statuses_are_not_compared) {
  cr_expect_not(tally_flag_sharp(TALLY_ELEMENT_STATUS, 0, 3));
}

Test(flags, the_base_is_the_same_period_a_year_before) {
  tally_period p, b;
  char text[TALLY_PERIOD_STRLEN];
  static const char *const cases[][2] = {
      {"2022", "2021"}, {"2022Q3", "2021Q3"}, {"2022-01", "2021-01"}};
  for (size_t i = 0; i < 3; i++) {
    cr_assert_eq(tally_period_parse(cases[i][0], &p), 0);
    cr_assert_eq(tally_flag_base(&p, &b), 0);
    cr_expect_str_eq(tally_period_format(&b, text), cases[i][1]);
  }
  cr_assert_eq(tally_period_parse("1900", &p), 0);
  cr_expect_neq(tally_flag_base(&p, &b), 0, "there is no 1899");
}

/* ---- Through the real client and server ---- */

static tally_test_server srv;
static char files[256];

static void setup(void) { tally_test_cli_start(&srv, files, sizeof files); }
static void teardown(void) { tally_test_cli_stop(&srv, files); }

TestSuite(check, .init = setup, .fini = teardown, .timeout = 120);

static const char *file_with(const char *text) {
  static char path[512];
  snprintf(path, sizeof path, "%s/figures.csv", files);
  tally_test_write_file(path, text);
  return path;
}

/* Submits csv as wenchang's reporter; returns its standard error. */
static char *submit(const char *period, const char *csv) {
  char *err;
  tally_test_sign_in(&srv, "reporter", "wenchang");
  int rc = RUN(NULL, &err, "submit", "--unit", "wenchang", "--period", period,
               "--file", file_with(csv));
  cr_assert_eq(rc, 0, "submit %s: exit %d: %s", period, rc, err);
  return err;
}

static void with_2021(void) {
  free(submit("2021", "live_births,812\ninfant_deaths,3\nphysicians,200\n"));
}

Test(check, a_slipped_digit_is_stored_and_told) {
  with_2021();
  char *err = submit("2022", "live_births,8120\ninfant_deaths,1\n"
                             "physicians,201\n");
  cr_expect(strstr(err, "wenchang 2022: check against 2021 (stored as sent"),
            "%s", err);
  cr_expect(strstr(err, "live_births (活产数): 8120, was 812 in 2021 (+900%)"),
            "%s", err);
  cr_expect_null(strstr(err, "infant_deaths"), "1 after 3 is chance: %s", err);
  cr_expect_null(strstr(err, "physicians"), "%s", err);
  free(err);

  char *out;
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, NULL, "values", "--unit", "wenchang", "--period",
                   "2022", "--format", "csv"),
               0);
  cr_expect(strstr(out, "\"live_births\",\"8120\","), "stored as sent: %s",
            out);
  free(out);

  /* Corrected: nothing to tell. */
  err = submit("2022", "live_births,830\n");
  cr_expect_null(strstr(err, "check"), "%s", err);
  free(err);
}

Test(check, the_centre_lists_what_to_check) {
  with_2021();
  free(submit("2022", "live_births,8120\ninfant_deaths,1\nphysicians,201\n"));
  char *out, *err;
  tally_test_sign_in(&srv, "analyst", NULL);
  int rc = RUN(&out, &err, "check", "--period", "2022");
  cr_assert_eq(rc, 0, "%s", err);
  cr_expect(strstr(out, "changqing 2022 against 2021: 3 figures compared, 1 "
                        "to check:"),
            "%s", out);
  cr_expect(strstr(out, "wenchang"), "%s", out);
  cr_expect(strstr(out, "+900%"), "%s", out);
  cr_expect_null(strstr(out, "infant_deaths"), "%s", out);
  free(out);
  free(err);

  cr_assert_eq(RUN(&out, NULL, "check", "--period", "2022", "--format",
                   "json"),
               0);
  json_error_t je;
  json_t *doc = json_loads(out, 0, &je);
  cr_assert_not_null(doc, "%s: %s", je.text, out);
  cr_expect_str_eq(json_string_value(json_object_get(doc, "base_period")),
                   "2021");
  cr_expect_eq(json_integer_value(json_object_get(doc, "compared")), 3);
  json_t *flags = json_object_get(doc, "flags");
  cr_assert_eq(json_array_size(flags), 1, "%s", out);
  json_t *f = json_array_get(flags, 0);
  cr_expect_str_eq(json_string_value(json_object_get(f, "unit")), "wenchang");
  cr_expect_str_eq(json_string_value(json_object_get(f, "element")),
                   "live_births");
  cr_expect_eq(json_number_value(json_object_get(f, "previous")), 812);
  cr_expect_eq(json_number_value(json_object_get(f, "value")), 8120);
  cr_expect_float_eq(json_number_value(json_object_get(f, "change_percent")),
                     900, 1e-9);
  json_decref(doc);
  free(out);

  cr_assert_eq(RUN(&out, NULL, "check", "--period", "2022", "--format", "csv"),
               0);
  cr_expect(strstr(out, "\"unit\",\"element\",\"name_zh\",\"name_en\","
                        "\"previous\",\"value\",\"change\"\r\n"),
            "%s", out);
  cr_expect(strstr(out, "\"wenchang\",\"live_births\",\"活产数\",\"Live "
                        "births\",\"812\",\"8120\",\"+900%\"\r\n"),
            "%s", out);
  free(out);

  /* Another unit's scope holds nothing to check. */
  cr_assert_eq(RUN(&out, NULL, "check", "--period", "2022", "--unit", "guide"),
               0);
  cr_expect(strstr(out, "guide 2022 against 2021: no figure reported in both "
                        "periods"),
            "%s", out);
  free(out);
}

Test(check, a_reporter_checks_its_own_unit_only) {
  with_2021();
  char *out, *err;
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(&out, NULL, "check", "--period", "2022", "--unit",
                   "wenchang"),
               0);
  cr_expect(strstr(out, "wenchang 2022 against 2021: no figure reported in "
                        "both periods, nothing to compare"),
            "%s", out);
  free(out);
  int rc = RUN(NULL, &err, "check", "--period", "2022", "--unit", "guide");
  cr_expect_eq(rc, 1);
  cr_expect(strstr(err, "permission denied"), "%s", err);
  free(err);
  /* Without --unit, its own. */
  cr_assert_eq(RUN(&out, NULL, "check", "--period", "2022"), 0);
  cr_expect(strstr(out, "wenchang 2022 against 2021"), "%s", out);
  free(out);
}

/* A figure that was 0 a year before has no percentage of change. */
Test(check, a_figure_from_zero) {
  free(submit("2021", "smokefree_population,0\n"));
  char *err = submit("2022", "smokefree_population,88088\n");
  cr_expect(strstr(err, "smokefree_population (全面无烟法规保护的常住人口数): "
                        "88088, was 0 in 2021\n"),
            "%s", err);
  free(err);
  char *out;
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, NULL, "check", "--period", "2022", "--format",
                   "json"),
               0);
  cr_expect(strstr(out, "\"change_percent\": null"), "%s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "check", "--period", "2022"), 0);
  cr_expect(strstr(out, "from 0"), "%s", out);
  free(out);
}

/* Only what a submission sent is told: a figure flagged before, not sent
 * again, is not told again. */
Test(check, a_submission_tells_its_own_figures_only) {
  with_2021();
  free(submit("2022", "live_births,8120\n"));
  char *err = submit("2022", "physicians,201\n");
  cr_expect_null(strstr(err, "check"), "%s", err);
  free(err);
}

/* The district office reports some figures itself: it is told of its
 * own and checks its own, not those of the units below it. */
Test(check, the_district_office_checks_its_own_figures) {
  char *out, *err;
  with_2021();
  free(submit("2022", "live_births,8120\n"));
  tally_test_sign_in(&srv, "reporter", "changqing");
  const char *f = file_with("budget_revenue,100000\ngood_air_days,200\n"
                            "health_edu_pool_status,0\n");
  cr_assert_eq(RUN(NULL, NULL, "submit", "--unit", "changqing", "--period",
                   "2021", "--file", f),
               0);
  f = file_with("budget_revenue,10000\ngood_air_days,210\n"
                "health_edu_pool_status,2\n"); /* a status: not compared */
  cr_assert_eq(RUN(NULL, &err, "submit", "--unit", "changqing", "--period",
                   "2022", "--file", f),
               0);
  cr_expect(strstr(err, "budget_revenue (一般公共预算收入): 10000, was 100000 "
                        "in 2021 (-90.0%)"),
            "%s", err);
  cr_expect_null(strstr(err, "good_air_days"), "%s", err);
  cr_expect_null(strstr(err, "status"), "%s", err);
  free(err);
  cr_assert_eq(RUN(&out, NULL, "check", "--period", "2022", "--unit",
                   "changqing"),
               0);
  cr_expect(strstr(out, "changqing 2022 against 2021 (its own figures): 2 "
                        "figures compared, 1 to check"),
            "statuses not compared: %s", out);
  cr_expect_null(strstr(out, "wenchang"), "not its to read: %s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "check", "--period", "2022"), 0);
  cr_expect(strstr(out, "changqing 2022 against 2021 (its own figures)"),
            "without --unit, its own: %s", out);
  free(out);

  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, NULL, "check", "--period", "2022", "--unit",
                   "changqing"),
               0);
  cr_expect(strstr(out, "changqing 2022 against 2021: 3 figures compared, 2 "
                        "to check"),
            "%s", out);
  cr_expect(strstr(out, "wenchang") && strstr(out, "budget_revenue"), "%s",
            out);
  free(out);
}

/* A quarter is compared with the same quarter a year before, not with the
 * quarter before it: seasons differ. */
Test(check, a_quarter_against_the_same_quarter) {
  free(submit("2021Q3", "live_births,210\n"));
  free(submit("2022Q2", "live_births,90\n"));
  char *err = submit("2022Q3", "live_births,200\n");
  cr_expect_null(strstr(err, "check"), "against 2022Q2 it would be: %s", err);
  free(err);
  err = submit("2022Q2", "live_births,150\n"); /* no 2021Q2: nothing */
  cr_expect_null(strstr(err, "check"), "%s", err);
  free(err);
}

Test(check, bad_input) {
  char *out, *err;
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_expect_eq(RUN(NULL, &err, "check"), 2);
  cr_expect(strstr(err, "--period"), "%s", err);
  free(err);
  cr_expect_eq(RUN(NULL, &err, "check", "--period", "2022x"), 2);
  cr_expect(strstr(err, "malformed period '2022x'"), "%s", err);
  free(err);
  cr_expect_eq(RUN(NULL, &err, "check", "--period", "2999"), 1);
  cr_expect(strstr(err, "period 2999 has not begun yet"), "%s", err);
  free(err);
  cr_expect_eq(RUN(NULL, &err, "check", "--period", "2022", "--unit",
                   "atlantis"),
               1);
  cr_expect(strstr(err, "atlantis"), "%s", err);
  free(err);
  cr_assert_eq(RUN(&out, NULL, "check", "--period", "1900"), 0);
  cr_expect(strstr(out, "no year before"), "%s", out);
  free(out);
}

/* A district of more units than are checked on the server's loop: the
 * check runs in a worker thread and says the same. */
Test(check, a_district_of_many_units) {
  char path[512], *out, *err;
  char *good = tally_test_read_file(TALLY_SOURCE_DIR "/catalog/changqing.json");
  cr_assert_not_null(good);
  json_t *cat = json_loads(good, 0, NULL);
  free(good);
  cr_assert_not_null(cat);
  json_t *units = json_object_get(cat, "units");
  for (int i = 0; i < 60; i++) {
    char code[16];
    snprintf(code, sizeof code, "extra%02d", i);
    json_array_append_new(units, json_pack("{s:s, s:s, s:s, s:s, s:s}", "code",
                                           code, "parent", "changqing",
                                           "name_zh", "测试", "name_en", "Extra",
                                           "level", "town"));
  }
  snprintf(path, sizeof path, "%s/many-units.json", files);
  cr_assert_eq(json_dump_file(cat, path, 0), 0);
  json_decref(cat);
  tally_test_server_stop(&srv);
  tally_test_server_start(&srv, (const char *const[]){"--catalog", path, NULL});
  setenv("TALLY_SERVER", srv.address, 1);

  tally_test_sign_in(&srv, "reporter", "extra59");
  cr_assert_eq(RUN(NULL, NULL, "submit", "--unit", "extra59", "--period",
                   "2021", "--file", file_with("live_births,812\n")),
               0);
  cr_assert_eq(RUN(NULL, &err, "submit", "--unit", "extra59", "--period",
                   "2022", "--file", file_with("live_births,8120\n")),
               0);
  cr_expect(strstr(err, "live_births"), "told on submit: %s", err);
  free(err);
  tally_test_sign_in(&srv, "analyst", NULL);
  cr_assert_eq(RUN(&out, &err, "check", "--period", "2022"), 0, "%s", err);
  cr_expect(strstr(out, "changqing 2022 against 2021: 1 figure compared, 1 to "
                        "check"),
            "%s", out);
  cr_expect(strstr(out, "extra59") && strstr(out, "+900%"), "%s", out);
  free(out);
  free(err);
}

/* ---- A server from before checks ---- */

/* Reads exactly n bytes; 0 or -1. */
static int read_all(int fd, uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t got = read(fd, p, n);
    if (got <= 0)
      return -1;
    p += got;
    n -= (size_t)got;
  }
  return 0;
}

/* Answers connections, one after another until the listener is shut,
 * as a tallyd that knows no check request would: a submission is
 * acknowledged, anything else (the check, the catalog) is unsupported.
 * Counts the requests it saw of each kind. */
static int old_submits, old_checks, old_others;

static void old_connection(int fd);

static void *old_server(void *arg) {
  int fd;
  while ((fd = accept(*(int *)arg, NULL, NULL)) >= 0)
    old_connection(fd);
  return NULL;
}

static void old_connection(int fd) {
  uint8_t hdr[TALLY_FRAME_HEADER], *body;
  while (fd >= 0 && read_all(fd, hdr, sizeof hdr) == 0) {
    uint32_t len = tally_frame_get_len(hdr);
    Tally__Envelope *req = NULL, reply = TALLY__ENVELOPE__INIT;
    Tally__SubmitReply ok = TALLY__SUBMIT_REPLY__INIT;
    Tally__ErrorReply no = TALLY__ERROR_REPLY__INIT;
    if (len == 0 || len > TALLY_FRAME_DEFAULT_MAX ||
        (body = malloc(len)) == NULL)
      break;
    int bad = read_all(fd, body, len) != 0 ||
              tally_wire_unpack(body, len, &req) != 0;
    free(body);
    if (bad)
      break;
    reply.id = req->id;
    if (req->body_case == TALLY__ENVELOPE__BODY_SUBMIT) {
      old_submits++;
      ok.accepted = (uint32_t)req->submit->n_values;
      ok.revision = 1;
      ok.submission_id = req->submit->submission_id;
      reply.body_case = TALLY__ENVELOPE__BODY_SUBMIT_REPLY;
      reply.submit_reply = &ok;
    } else {
      if (req->body_case == TALLY__ENVELOPE__BODY_CHECK)
        old_checks++;
      else
        old_others++;
      no.code = TALLY__ERROR_CODE__ERROR_UNSUPPORTED;
      no.message = "this server does not know that request";
      reply.body_case = TALLY__ENVELOPE__BODY_ERROR;
      reply.error = &no;
    }
    uint8_t *frame;
    size_t flen;
    int packed = tally_wire_pack(&reply, 0, &frame, &flen) == 0;
    tally_wire_free(req);
    if (!packed || write(fd, frame, flen) != (ssize_t)flen) {
      free(frame);
      break;
    }
    free(frame);
  }
  close(fd);
}

/* A submission acknowledged by a server that cannot answer the check:
 * done, nothing more told, nothing left in the spool. */
Test(check, a_server_without_checks_still_takes_submissions) {
  char where[64], *out, *err;
  int lfd = tally_test_listen(where, sizeof where);
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, old_server, &lfd), 0);
  setenv("TALLY_TOKEN", "tally_1_00", 1); /* the old server reads none */
  int rc = RUN(&out, &err, "--server", where, "submit", "--unit", "wenchang",
               "--period", "2022", "--file", file_with("live_births,8120\n"));
  shutdown(lfd, SHUT_RDWR);
  pthread_join(th, NULL);
  close(lfd);
  cr_expect_eq(rc, 0, "%s%s", out, err);
  cr_expect(strstr(out, "wenchang 2022: 1 value stored"), "%s", out);
  cr_expect_str_empty(err, "%s", err);
  cr_expect_eq(old_submits, 1);
  cr_expect_eq(old_checks, 1, "the check was asked for");
  free(out);
  free(err);
  cr_assert_eq(RUN(&out, NULL, "pending"), 0);
  cr_expect(strstr(out, "0 submissions pending"), "%s", out);
  free(out);
}
