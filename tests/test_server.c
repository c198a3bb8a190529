/* test_server.c: the real tallyd on an ephemeral loopback port, driven
 * through the client library and raw sockets. */
#include "client.h"
#include "error.h"
#include "figures.h"
#include "fixture.h"
#include "frame.h"
#include "wire.h"

#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static tally_test_server srv;

static void setup(void) { tally_test_server_start(&srv, NULL); }
static void teardown(void) { tally_test_server_stop(&srv); }

TestSuite(server, .init = setup, .fini = teardown, .timeout = 60);

/* A connection that is not signed in (for what the server must answer
 * before any sign-in: bad frames, timeouts). */
static tally_client *connect_srv(void) {
  tally_client *c;
  char err[256];
  tally_client_options o = {.address = srv.address, .timeout_ms = 5000};
  int rc = tally_client_open(&o, &c, err, sizeof err);
  cr_assert_eq(rc, 0, "connect: %s", err);
  return c;
}

/* The reporter of a unit, and an analyst (who may read every unit and
 * the district, and submits nothing). */
static const char *reporter(const char *unit) {
  return tally_test_token(&srv, "reporter", unit);
}
static const char *analyst(void) {
  return tally_test_token(&srv, "analyst", NULL);
}

/* Sends req on a new connection signed in with token and returns the
 * reply. */
static Tally__Envelope *call_as(const char *token, Tally__Envelope *req) {
  tally_client *c = tally_test_connect(&srv, token);
  Tally__Envelope *reply;
  char err[256];
  int rc = tally_client_call(c, req, &reply, err, sizeof err);
  tally_client_close(c);
  cr_assert_eq(rc, 0, "call: %s", err);
  return reply;
}

/* Reads go through an analyst. */
static Tally__Envelope *call(Tally__Envelope *req) {
  return call_as(analyst(), req);
}

/* Submits n (element, value) pairs signed in as token; returns the
 * reply. */
static Tally__Envelope *submit_as(const char *token, const char *unit,
                                  const char *period,
                                  const char *const *elements,
                                  const double *values, size_t n) {
  Tally__Value v[64], *pv[64];
  Tally__SubmitRequest s = TALLY__SUBMIT_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  cr_assert(n <= 64);
  for (size_t i = 0; i < n; i++) {
    tally__value__init(&v[i]);
    v[i].element = (char *)elements[i];
    v[i].value = values[i];
    pv[i] = &v[i];
  }
  s.unit = (char *)unit;
  s.period = (char *)period;
  s.n_values = n;
  s.values = pv;
  req.body_case = TALLY__ENVELOPE__BODY_SUBMIT;
  req.submit = &s;
  return call_as(token, &req);
}

/* The same as the unit's own reporter. */
static Tally__Envelope *submit(const char *unit, const char *period,
                               const char *const *elements,
                               const double *values, size_t n) {
  return submit_as(reporter(unit), unit, period, elements, values, n);
}

static void submit_ok(const char *unit, const char *period,
                      const char *const *elements, const double *values,
                      size_t n) {
  Tally__Envelope *r = submit(unit, period, elements, values, n);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_SUBMIT_REPLY, "%s",
               r->body_case == TALLY__ENVELOPE__BODY_ERROR
                   ? r->error->message
                   : "unexpected reply");
  cr_assert_eq(r->submit_reply->accepted, n);
  tally_wire_free(r);
}

static Tally__Envelope *values(const char *unit, const char *period) {
  Tally__ValuesRequest q = TALLY__VALUES_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  q.unit = (char *)unit;
  q.period = (char *)period;
  req.body_case = TALLY__ENVELOPE__BODY_VALUES;
  req.values = &q;
  Tally__Envelope *r = call(&req);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_VALUES_REPLY);
  return r;
}

static size_t stored_count(const char *unit, const char *period) {
  Tally__Envelope *r = values(unit, period);
  size_t n = r->values_reply->n_values;
  tally_wire_free(r);
  return n;
}

static Tally__Envelope *report(const char *period, const char *unit,
                               const char *indicator) {
  Tally__ReportRequest q = TALLY__REPORT_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  q.period = (char *)period;
  q.unit = (char *)unit;
  q.indicator = (char *)indicator;
  req.body_case = TALLY__ENVELOPE__BODY_REPORT;
  req.report = &q;
  return call(&req);
}

static const Tally__ReportRow *row_of(const Tally__Envelope *r,
                                      const char *code) {
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_REPORT_REPLY);
  for (size_t i = 0; i < r->report_reply->n_rows; i++)
    if (strcmp(r->report_reply->rows[i]->code, code) == 0)
      return r->report_reply->rows[i];
  cr_assert_fail("no row %s in the report", code);
  return NULL;
}

Test(server, submit_then_values) {
  const char *e[] = {"live_births", "infant_deaths"};
  double v[] = {500, 2};
  submit_ok("wenchang", "2022", e, v, 2);

  Tally__Envelope *r = values("wenchang", "2022");
  cr_assert_eq(r->values_reply->n_values, 2);
  /* Key order: infant_deaths before live_births. */
  cr_assert_str_eq(r->values_reply->values[0]->element, "infant_deaths");
  cr_assert_eq(r->values_reply->values[0]->value, 2);
  cr_assert_str_eq(r->values_reply->values[1]->element, "live_births");
  cr_assert_eq(r->values_reply->values[1]->value, 500);
  cr_assert_str_eq(r->values_reply->values[1]->name_zh, "活产数");
  tally_wire_free(r);

  /* Another unit and another period hold nothing. */
  cr_assert_eq(stored_count("pingan", "2022"), 0);
  cr_assert_eq(stored_count("wenchang", "2021"), 0);
}

Test(server, correction_replaces_and_does_not_add) {
  const char *e[] = {"live_births", "infant_deaths"};
  double v1[] = {500, 2}, v2[] = {510, 2};
  submit_ok("guide", "2022", e, v1, 2);
  Tally__Envelope *r = submit("guide", "2022", e, v2, 2);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_SUBMIT_REPLY);
  cr_assert_eq(r->submit_reply->accepted, 2);
  cr_assert_eq(r->submit_reply->replaced, 1);
  cr_assert_eq(r->submit_reply->unchanged, 1);
  tally_wire_free(r);

  r = report("2022", "guide", "H02");
  const Tally__ReportRow *row = row_of(r, "H02");
  cr_assert_eq(row->numerator, 2);
  cr_assert_eq(row->denominator, 510); /* replaced, not 500 + 510 */
  tally_wire_free(r);
}

/* The district's infant mortality is the sum of deaths over the sum of
 * births, not the mean of the units' rates:
 *   wenchang: 1 death / 1000 births = 1.0 per 1,000
 *   wande:    2 deaths / 100 births = 20.0 per 1,000
 *   district: (1 + 2) / (1000 + 100) * 1000 = 2.727272... per 1,000,
 * which meets the 2022 target (<= 3.3); the mean of the rates, 10.5,
 * would not. */
Test(server, district_value_from_sums_not_mean_of_rates) {
  const char *e[] = {"live_births", "infant_deaths"};
  double a[] = {1000, 1}, b[] = {100, 2};
  submit_ok("wenchang", "2022", e, a, 2);
  submit_ok("wande", "2022", e, b, 2);

  Tally__Envelope *r = report("2022", "", "");
  const Tally__ReportRow *row = row_of(r, "H02");
  cr_assert(row->has_value);
  cr_assert_float_eq(row->value, 3.0 / 1100.0 * 1000.0, 1e-12);
  cr_assert_float_eq(row->value, 2.7272727272727, 1e-9);
  cr_assert_eq(row->numerator, 3);
  cr_assert_eq(row->denominator, 1100);
  cr_assert_eq(row->units_counted, 2);
  cr_assert_eq(row->units_expected, 10);
  cr_assert_str_eq(row->target, "<= 3.3 (2022)");
  cr_assert_eq(row->status, TALLY__STATUS__STATUS_MET);
  cr_assert_str_eq(r->report_reply->unit, "changqing");
  tally_wire_free(r);

  /* One unit's report is that unit's own figures. */
  r = report("2022", "wande", "H02");
  row = row_of(r, "H02");
  cr_assert_float_eq(row->value, 20.0, 1e-12);
  cr_assert_eq(row->units_expected, 1);
  cr_assert_eq(row->status, TALLY__STATUS__STATUS_NOT_MET);
  tally_wire_free(r);
}

Test(server, missing_is_not_zero) {
  Tally__Envelope *r = report("2022", "", "H04");
  const Tally__ReportRow *row = row_of(r, "H04");
  cr_assert_not(row->has_value);
  cr_assert_eq(row->status, TALLY__STATUS__STATUS_INSUFFICIENT_DATA);
  cr_assert(strstr(row->note, "insufficient data") != NULL, "%s", row->note);
  tally_wire_free(r);

  /* A submitted zero is a real zero. */
  const char *e[] = {"live_births", "maternal_deaths"};
  double v[] = {800, 0};
  submit_ok("xiaoli", "2022", e, v, 2);
  r = report("2022", "", "H04");
  row = row_of(r, "H04");
  cr_assert(row->has_value);
  cr_assert_eq(row->value, 0);
  cr_assert_eq(row->units_counted, 1);
  cr_assert_eq(row->status, TALLY__STATUS__STATUS_MET);
  tally_wire_free(r);
}

Test(server, total_with_factor) {
  const char *e[] = {"resident_population"};
  double a[] = {140000}, b[] = {55500};
  submit_ok("wenchang", "2020", e, a, 1);
  submit_ok("guide", "2020", e, b, 1);
  Tally__Envelope *r = report("2020", "", "P01");
  const Tally__ReportRow *row = row_of(r, "P01");
  cr_assert_float_eq(row->value, 19.55, 1e-9); /* 195,500 persons */
  cr_assert_not(row->has_denominator);
  /* 2020 is the plan's base year: no target applies yet. */
  cr_assert_eq(row->status, TALLY__STATUS__STATUS_NO_TARGET);
  tally_wire_free(r);
}

/* Sends a submission signed in as token that must be refused with code,
 * and checks that nothing of it was stored. */
static void refused_as(const char *token, const char *unit,
                       const char *period, const char *elem, double value,
                       Tally__ErrorCode code, const char *says) {
  const char *e[] = {"live_births", elem};
  double v[] = {100, value};
  Tally__Envelope *r = submit_as(token, unit, period, e, v, 2);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR);
  cr_assert_eq(r->error->code, code, "code %d: %s", r->error->code,
               r->error->message);
  cr_assert(strstr(r->error->message, says) != NULL, "message: %s",
            r->error->message);
  tally_wire_free(r);
  if (strcmp(unit, "wenchang") == 0 && strcmp(period, "2022") == 0)
    cr_assert_eq(stored_count("wenchang", "2022"), 0);
}

/* The same as the unit's own reporter: refused for what it holds, not
 * for who sent it. */
static void refused(const char *unit, const char *period, const char *elem,
                    double value, Tally__ErrorCode code, const char *says) {
  refused_as(reporter(unit), unit, period, elem, value, code, says);
}

Test(server, bad_submissions_are_refused_whole) {
  /* A unit that does not exist, or none: no reporter has it, so the
   * wenchang reporter sends them. */
  refused_as(reporter("wenchang"), "nowhere", "2022", "infant_deaths", 1,
             TALLY__ERROR_CODE__ERROR_UNKNOWN_UNIT, "unknown unit 'nowhere'");
  refused_as(reporter("wenchang"), "", "2022", "infant_deaths", 1,
             TALLY__ERROR_CODE__ERROR_UNKNOWN_UNIT, "a unit is required");
  cr_assert_eq(stored_count("wenchang", "2022"), 0);
  refused("wenchang", "2022", "infant_death", 1,
          TALLY__ERROR_CODE__ERROR_UNKNOWN_ELEMENT,
          "unknown data element 'infant_death'");
  refused("wenchang", "22", "infant_deaths", 1,
          TALLY__ERROR_CODE__ERROR_BAD_PERIOD, "malformed period '22'");
  refused("wenchang", "2022Q5", "infant_deaths", 1,
          TALLY__ERROR_CODE__ERROR_BAD_PERIOD, "malformed period");
  refused("wenchang", "2999", "infant_deaths", 1,
          TALLY__ERROR_CODE__ERROR_BAD_PERIOD, "has not begun");
  refused("wenchang", "2022", "infant_deaths", -1,
          TALLY__ERROR_CODE__ERROR_BAD_VALUE, "negative");
  refused("wenchang", "2022", "infant_deaths", NAN,
          TALLY__ERROR_CODE__ERROR_BAD_VALUE, "not a finite number");
  refused("wenchang", "2022", "infant_deaths", INFINITY,
          TALLY__ERROR_CODE__ERROR_BAD_VALUE, "not a finite number");
  refused("wenchang", "2022", "infant_deaths", 1.5,
          TALLY__ERROR_CODE__ERROR_BAD_VALUE, "not a whole number");
  refused("wenchang", "2022", "live_births", 7,
          TALLY__ERROR_CODE__ERROR_BAD_VALUE, "appears twice");
  /* The district is not a reporting unit for unit-level figures, even
   * for the district's own reporter. */
  refused("changqing", "2022", "infant_deaths", 1,
          TALLY__ERROR_CODE__ERROR_BAD_VALUE, "each reporting unit");
}

Test(server, every_problem_is_listed_with_its_item) {
  const char *e[] = {"live_births", "bogus", "infant_deaths"};
  double v[] = {100, 1, -2};
  Tally__Envelope *r = submit("wenchang", "2022", e, v, 3);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR);
  cr_assert_eq(r->error->n_details, 2);
  cr_assert_eq(r->error->details[0]->index, 2);
  cr_assert(strstr(r->error->details[0]->text, "bogus"));
  cr_assert_eq(r->error->details[1]->index, 3);
  cr_assert(strstr(r->error->details[1]->text, "negative"));
  cr_assert(strstr(r->error->message, "nothing was stored"));
  tally_wire_free(r);
  cr_assert_eq(stored_count("wenchang", "2022"), 0);
}

Test(server, empty_submission_and_bad_report_requests) {
  Tally__Envelope *r = submit("wenchang", "2022", NULL, NULL, 0);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR);
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_BAD_REQUEST);
  tally_wire_free(r);

  r = report("2022", "", "H99");
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_UNKNOWN_INDICATOR);
  tally_wire_free(r);
  r = report("2022-13", "", "");
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_BAD_PERIOD);
  tally_wire_free(r);
  r = report("2022", "atlantis", "");
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_UNKNOWN_UNIT);
  tally_wire_free(r);
}

/* A normal submission still works after whatever came before. */
static void still_serves(void) {
  const char *e[] = {"physicians"};
  double v[] = {42};
  submit_ok("mashan", "2022", e, v, 1);
  Tally__Envelope *r = values("mashan", "2022");
  cr_assert_eq(r->values_reply->n_values, 1);
  cr_assert_eq(r->values_reply->values[0]->value, 42);
  tally_wire_free(r);
}

/* Sends raw bytes on c and reads one reply; returns it, or NULL when
 * the server closed the connection without one. Closes c. */
static Tally__Envelope *raw_exchange_on(tally_client *c, const void *bytes,
                                        size_t len) {
  Tally__Envelope *reply = NULL;
  char err[256];
  cr_assert_eq(tally_client_send_raw(c, bytes, len), 0);
  if (tally_client_read(c, &reply, err, sizeof err) != 0)
    reply = NULL;
  tally_client_close(c);
  return reply;
}

/* The same on a new connection that is not signed in. */
static Tally__Envelope *raw_exchange(const void *bytes, size_t len) {
  return raw_exchange_on(connect_srv(), bytes, len);
}

/* The same on a new connection signed in first (by a whoami), for
 * requests that must get past the sign-in to be judged. */
static Tally__Envelope *raw_exchange_signed_in(const void *bytes,
                                               size_t len) {
  return raw_exchange_on(tally_test_connect_signed_in(&srv, analyst()), bytes,
                         len);
}

/* -0 is a zero: stored as +0, so a 0 sent after it changes nothing.
 * protobuf-c leaves a zero out of the message, so the -0 is written
 * into the packed bytes by hand. */
Test(server, minus_zero_is_stored_as_zero) {
  Tally__Value v = TALLY__VALUE__INIT, *pv = &v;
  Tally__SubmitRequest s = TALLY__SUBMIT_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *r;
  v.element = "infant_deaths";
  v.value = 0.5;
  s.unit = "wenchang";
  s.period = "2022";
  s.n_values = 1;
  s.values = &pv;
  req.id = 7;
  req.body_case = TALLY__ENVELOPE__BODY_SUBMIT;
  req.submit = &s;
  uint8_t *frame, half[8] = {0, 0, 0, 0, 0, 0, 0xe0, 0x3f};
  size_t len;
  cr_assert_eq(tally_wire_pack(&req, 0, &frame, &len), 0);
  uint8_t *at = memmem(frame, len, half, 8);
  cr_assert_not_null(at);
  memset(at, 0, 8);
  at[7] = 0x80; /* -0.0, little-endian as protobuf's fixed64 */
  r = raw_exchange_on(tally_test_connect_signed_in(&srv, reporter("wenchang")),
                      frame, len);
  free(frame);
  cr_assert_not_null(r);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_SUBMIT_REPLY, "%s",
               r->body_case == TALLY__ENVELOPE__BODY_ERROR ? r->error->message
                                                           : "?");
  tally_wire_free(r);

  const char *e[] = {"infant_deaths"};
  double zero[] = {0.0};
  r = submit("wenchang", "2022", e, zero, 1);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_SUBMIT_REPLY);
  cr_assert_eq(r->submit_reply->unchanged, 1, "-0 was stored as -0");
  cr_assert_eq(r->submit_reply->revision, 1);
  tally_wire_free(r);
}

Test(server, oversized_frame_gets_an_error_and_a_close) {
  uint8_t hdr[4];
  tally_frame_put_len(hdr, 2u << 20); /* 2 MiB, over the 1 MiB limit */
  Tally__Envelope *r = raw_exchange(hdr, 4);
  cr_assert_not_null(r);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR);
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_FRAME_TOO_LARGE);
  cr_assert(strstr(r->error->message, "over the limit"));
  tally_wire_free(r);
  still_serves();
}

Test(server, zero_length_frame_gets_an_error) {
  uint8_t hdr[4] = {0, 0, 0, 0};
  Tally__Envelope *r = raw_exchange(hdr, 4);
  cr_assert_not_null(r);
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_BAD_FRAME);
  tally_wire_free(r);
  still_serves();
}

Test(server, garbage_bytes) {
  /* Read as a length, "GET " is 1.2 GB: over the limit. */
  const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  Tally__Envelope *r = raw_exchange(junk, sizeof junk - 1);
  cr_assert_not_null(r);
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_FRAME_TOO_LARGE);
  tally_wire_free(r);

  /* A small length with a body that is not an envelope, on a connection
   * whose first real request will carry the token. */
  uint8_t bad[4 + 6] = {0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  tally_client *c = tally_test_connect(&srv, analyst());
  char err[256];
  cr_assert_eq(tally_client_send_raw(c, bad, sizeof bad), 0);
  cr_assert_eq(tally_client_read(c, &r, err, sizeof err), 0, "%s", err);
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_BAD_FRAME);
  tally_wire_free(r);
  /* The stream is still in step: the same connection goes on. */
  Tally__ValuesRequest q = TALLY__VALUES_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  q.unit = "wenchang";
  q.period = "2022";
  req.body_case = TALLY__ENVELOPE__BODY_VALUES;
  req.values = &q;
  cr_assert_eq(tally_client_call(c, &req, &r, err, sizeof err), 0, "%s", err);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_VALUES_REPLY);
  tally_wire_free(r);
  tally_client_close(c);
  still_serves();
}

/* Sends a submission for wenchang 2022 whose field text (unit, period or
 * the element) is packed with a NUL byte in place of its '|', and
 * returns the reply. */
static Tally__Envelope *submit_with_nul(const char *unit, const char *period,
                                        const char *element) {
  Tally__Value v = TALLY__VALUE__INIT, *pv = &v;
  Tally__SubmitRequest s = TALLY__SUBMIT_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *r;
  uint8_t *frame;
  size_t len;
  char err[256];
  v.element = (char *)element;
  v.value = 500;
  s.unit = (char *)unit;
  s.period = (char *)period;
  s.values = &pv;
  s.n_values = 1;
  req.id = 7;
  req.body_case = TALLY__ENVELOPE__BODY_SUBMIT;
  req.submit = &s;
  cr_assert_eq(tally_wire_pack(&req, 0, &frame, &len), 0);
  const char *marked = strchr(unit, '|')      ? unit
                       : strchr(period, '|') ? period
                                             : element;
  uint8_t *at = memmem(frame, len, marked, strlen(marked));
  cr_assert_not_null(at);
  at[strchr(marked, '|') - marked] = 0; /* protobuf-c packs by strlen */
  tally_client *c = tally_test_connect_signed_in(&srv, reporter("wenchang"));
  cr_assert_eq(tally_client_send_raw(c, frame, len), 0);
  cr_assert_eq(tally_client_read(c, &r, err, sizeof err), 0, "%s", err);
  tally_client_close(c);
  free(frame);
  return r;
}

/* protobuf-c would read "wenchang\0guide" as "wenchang": refused, with
 * the field named, and nothing stored. */
Test(server, a_string_with_a_nul_is_refused) {
  const char *const cases[][4] = {
      {"wenchang|guide", "2022", "live_births", "field unit"},
      {"wenchang", "2022|x", "live_births", "field period"},
      {"wenchang", "2022", "live_births|junk", "field element"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    Tally__Envelope *r =
        submit_with_nul(cases[i][0], cases[i][1], cases[i][2]);
    cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR, "case %zu", i);
    cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_BAD_FRAME);
    cr_assert(strstr(r->error->message, "a string holds a NUL byte") &&
                  strstr(r->error->message, cases[i][3]),
              "%s", r->error->message);
    tally_wire_free(r);
    cr_assert_eq(stored_count("wenchang", "2022"), 0, "case %zu", i);
  }
  still_serves();
}

Test(server, truncated_frame_then_close) {
  uint8_t part[4 + 3] = {0, 0, 0, 100, 1, 2, 3}; /* 100 announced, 3 sent */
  tally_client *c = connect_srv();
  cr_assert_eq(tally_client_send_raw(c, part, sizeof part), 0);
  tally_client_close(c);
  /* Half a header, too. */
  c = connect_srv();
  cr_assert_eq(tally_client_send_raw(c, part, 2), 0);
  tally_client_close(c);
  still_serves();
}

Test(server, unknown_request_type_is_refused) {
  /* A reply body sent as a request, and an envelope with no body. */
  Tally__SubmitReply sr = TALLY__SUBMIT_REPLY__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  req.body_case = TALLY__ENVELOPE__BODY_SUBMIT_REPLY;
  req.submit_reply = &sr;
  Tally__Envelope *r = call(&req);
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_UNSUPPORTED);
  tally_wire_free(r);

  Tally__Envelope empty = TALLY__ENVELOPE__INIT;
  empty.id = 7;
  r = call(&empty);
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_UNSUPPORTED);
  tally_wire_free(r);

  /* An error body with an enum value no version defines (code 999,
   * field 3 of ErrorReply: 08 e7 07) sent as a request. */
  uint8_t unknown_enum[] = {0, 0, 0, 7, 0x08, 0x09, 0x1a, 0x03, 0x08, 0xe7, 0x07};
  r = raw_exchange_signed_in(unknown_enum, sizeof unknown_enum);
  cr_assert_not_null(r);
  cr_assert_eq(r->id, 9);
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_UNSUPPORTED);
  tally_wire_free(r);

  /* An unknown field (from a newer client) is skipped by protobuf, and
   * the envelope then has no body either: id = 5 (08 05), then field 99
   * as a varint of 1 (98 06 01). */
  uint8_t frame[] = {0, 0, 0, 5, 0x08, 0x05, 0x98, 0x06, 0x01};
  r = raw_exchange_signed_in(frame, sizeof frame);
  cr_assert_not_null(r);
  cr_assert_eq(r->id, 5);
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_UNSUPPORTED);
  tally_wire_free(r);
  /* Not signed in, the same frame is told to sign in first. */
  r = raw_exchange(frame, sizeof frame);
  cr_assert_not_null(r);
  cr_assert_eq(r->id, 5);
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED);
  tally_wire_free(r);
  still_serves();
}

Test(server, acknowledged_submission_survives_sigkill) {
  const char *e[] = {"live_births", "infant_deaths"};
  double v[] = {321, 1};
  submit_ok("zhangxia", "2021", e, v, 2);

  /* Kill without warning, restart on the same data directory. */
  kill(srv.pid, SIGKILL);
  waitpid(srv.pid, NULL, 0);
  char dir[256];
  snprintf(dir, sizeof dir, "%s", srv.dir);
  srv.pid = 0;
  tally_test_server_start_in(&srv, dir, NULL);
  srv.own_dir = 1;

  Tally__Envelope *r = values("zhangxia", "2021");
  cr_assert_eq(r->values_reply->n_values, 2);
  cr_assert_eq(r->values_reply->values[1]->value, 321);
  tally_wire_free(r);
}

Test(server, logs_connections_and_submissions) {
  still_serves();
  /* The close is logged after the reply is read. */
  char *log = tally_test_read_file_with(srv.log, "connection 1 closed");
  cr_assert_not_null(log);
  /* One line for the connection, when it closes: who, how many requests. */
  cr_assert(strstr(log, "connection 1 closed: 127.0.0.1:"), "%s", log);
  cr_assert(strstr(log, ", signed in as account "), "%s", log);
  cr_assert(strstr(log, " opened") == NULL, "%s", log);
  cr_assert(strstr(log, "submit: unit=mashan period=2022 values=1 "), "%s",
            log);
  cr_assert(strstr(log, "connection 1 closed"), "%s", log);
  free(log);
}

Test(server, sigterm_stops_cleanly) {
  int status;
  still_serves();
  /* A connection left open does not hold the server up. */
  tally_client *idle = connect_srv();
  kill(srv.pid, SIGTERM);
  cr_assert_eq(waitpid(srv.pid, &status, 0), srv.pid);
  srv.pid = 0;
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  tally_client_close(idle);
  char *log = tally_test_read_file(srv.log);
  cr_assert(strstr(log, "received SIGTERM: stopping"), "%s", log);
  cr_assert(strstr(log, "stopped"), "%s", log);
  free(log);

  /* The store reopens without repair and still holds the value. */
  char dir[256];
  snprintf(dir, sizeof dir, "%s", srv.dir);
  tally_test_server_start_in(&srv, dir, NULL);
  srv.own_dir = 1;
  cr_assert_eq(stored_count("mashan", "2022"), 1);
}

/* A report far from the data reads many periods (P20 sums every year
 * from 2021, each read once and kept while the report is built). */
Test(server, a_report_that_reads_many_periods) {
  const char *e[] = {"new_urban_jobs"};
  double v[] = {100};
  submit_ok("wenchang", "2021", e, v, 1);
  Tally__Envelope *r = report("2040", "", "");
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_REPORT_REPLY);
  const Tally__ReportRow *row = row_of(r, "P20");
  cr_assert_not(row->has_value); /* 2022-2040 are missing, not zero */
  cr_assert_eq(row->status, TALLY__STATUS__STATUS_INSUFFICIENT_DATA);
  tally_wire_free(r);
}

/* A history of 15,000 corrections (a reply of 1.6 MB in one piece)
 * comes in pages of at most 1,000 entries and 64 KiB packed,
 * each entry once, in order, the last page saying so. */
Test(server, a_long_history_comes_in_pages) {
  enum { N = 15000 };
  char dir[256];
  snprintf(dir, sizeof dir, "%s", srv.dir);
  srv.own_dir = 0;
  tally_test_server_stop(&srv);
  tally_test_history_write(dir, "wenchang", "2022", "live_births", N);
  tally_test_server_start_in(&srv, dir, NULL);
  srv.own_dir = 1;

  tally_client *c = tally_test_connect(&srv, srv.admin);
  Tally__HistoryRequest q = TALLY__HISTORY_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  q.unit = "wenchang";
  q.period = "2022";
  req.body_case = TALLY__ENVELOPE__BODY_HISTORY;
  req.history = &q;
  uint64_t seen = 0;
  int pages = 0, more = 1;
  while (more) {
    Tally__Envelope *r;
    char err[256];
    cr_assert_eq(tally_client_call(c, &req, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_HISTORY_REPLY);
    const Tally__HistoryReply *h = r->history_reply;
    cr_assert(h->n_changes >= 1 && h->n_changes <= 1000, "%zu", h->n_changes);
    cr_assert_leq(tally__history_reply__get_packed_size(h), 64u << 10);
    for (size_t i = 0; i < h->n_changes; i++)
      cr_assert_eq(h->changes[i]->revision, ++seen);
    more = h->more;
    if (more)
      cr_assert_eq(h->next, seen);
    q.after = h->next;
    pages++;
    tally_wire_free(r);
  }
  cr_assert_eq(seen, (uint64_t)N);
  cr_assert_geq(pages, N / 1000);
  /* A smaller page when asked. */
  Tally__Envelope *r;
  char err[256];
  q.after = 100;
  q.limit = 7;
  cr_assert_eq(tally_client_call(c, &req, &r, err, sizeof err), 0, "%s", err);
  cr_assert_eq(r->history_reply->n_changes, 7);
  cr_assert_eq(r->history_reply->changes[0]->revision, 101);
  cr_assert_eq(r->history_reply->next, 107);
  tally_wire_free(r);
  /* The unit's audit trail is the same history, each entry with its
   * unit, period and subject: its pages keep to 64 KiB too. */
  Tally__AuditRequest aq = TALLY__AUDIT_REQUEST__INIT;
  Tally__Envelope areq = TALLY__ENVELOPE__INIT;
  aq.unit = "wenchang";
  aq.period = "2022";
  areq.body_case = TALLY__ENVELOPE__BODY_AUDIT;
  areq.audit = &aq;
  size_t entries = 0;
  for (more = 1; more;) {
    cr_assert_eq(tally_client_call(c, &areq, &r, err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_AUDIT_REPLY);
    cr_assert_leq(tally__audit_reply__get_packed_size(r->audit_reply),
                  64u << 10);
    entries += r->audit_reply->n_entries;
    more = r->audit_reply->more;
    aq.after = r->audit_reply->next;
    tally_wire_free(r);
  }
  cr_assert_eq(entries, (size_t)N);
  tally_client_close(c);
}
