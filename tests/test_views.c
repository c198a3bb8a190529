/* test_views.c: the central office's views through the real tallyd: an
 * indicator over the years (TrendRequest) is, year by year, what the
 * report of that year says, for the district and for each unit; the
 * matrix of units against indicators (MatrixRequest) is, cell by cell,
 * what the explanation of each indicator says of each unit; bad
 * requests get clear refusals. */
#include "fixture.h"
#include "client.h"
#include "wire.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tally_test_server srv;
static char files[256];
static const char *top = TALLY_SOURCE_DIR;

static const char *const units[] = {"wenchang", "pingan",   "guyunhu",
                                    "wufengshan", "guide",  "wande",
                                    "zhangxia", "xiaoli",   "mashan",
                                    "shuangquan"};
#define N_UNITS 10

/* The sample figures of 2020-2022 (deploy/sample), each unit's sent by
 * its reporter through the real client. */
static void setup(void) {
  tally_test_cli_start(&srv, files, sizeof files);
  for (int y = 2020; y <= 2022; y++)
    for (int u = 0; u <= N_UNITS; u++) {
      const char *unit = u < N_UNITS ? units[u] : "changqing";
      char file[512], year[8], *err = NULL;
      snprintf(file, sizeof file, "%s/deploy/sample/%d/%s.csv", top, y, unit);
      snprintf(year, sizeof year, "%d", y);
      tally_test_sign_in(&srv, "reporter", unit);
      int rc = RUN(NULL, &err, "submit", "--unit", unit, "--period", year,
                   "--file", file);
      cr_assert_eq(rc, 0, "%s %d: %s", unit, y, err);
      free(err);
    }
}
static void teardown(void) { tally_test_cli_stop(&srv, files); }

TestSuite(views, .init = setup, .fini = teardown, .timeout = 120);

static Tally__Envelope *call(const char *token, Tally__Envelope *req) {
  struct tally_client *c = tally_test_connect(&srv, token);
  Tally__Envelope *reply = NULL;
  char err[256];
  int rc = tally_client_call(c, req, &reply, err, sizeof err);
  tally_client_close(c);
  cr_assert_eq(rc, 0, "call: %s", err);
  return reply;
}

static int code_of(const Tally__Envelope *r) {
  return r->body_case == TALLY__ENVELOPE__BODY_ERROR ? (int)r->error->code : 0;
}
static const char *message_of(const Tally__Envelope *r) {
  return r->body_case == TALLY__ENVELOPE__BODY_ERROR ? r->error->message : "";
}

static Tally__Envelope *trend(const char *ind, const char *unit, int from,
                              int to, int with_units) {
  Tally__TrendRequest q = TALLY__TREND_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  q.indicator = (char *)ind;
  q.unit = (char *)unit;
  q.from_year = from;
  q.to_year = to;
  q.units = with_units;
  req.body_case = TALLY__ENVELOPE__BODY_TREND;
  req.trend = &q;
  return call(srv.admin, &req);
}

static Tally__Envelope *report(const char *ind, const char *unit, int year) {
  Tally__ReportRequest q = TALLY__REPORT_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  char period[8];
  snprintf(period, sizeof period, "%d", year);
  q.period = period;
  q.unit = (char *)unit;
  q.indicator = (char *)ind;
  req.body_case = TALLY__ENVELOPE__BODY_REPORT;
  req.report = &q;
  Tally__Envelope *r = call(srv.admin, &req);
  cr_assert_eq(code_of(r), 0, "report: %s", message_of(r));
  cr_assert_eq(r->report_reply->n_rows, 1);
  return r;
}

/* A row of a view as the report gives it, field by field. */
static void same_row(const Tally__ReportRow *got, const Tally__ReportRow *want,
                     const char *what) {
  cr_expect_str_eq(got->code, want->code, "%s", what);
  cr_expect_eq(got->has_value, want->has_value, "%s: has a value", what);
  cr_expect_eq(got->value, want->value, "%s: value %.17g, the report's %.17g",
               what, got->value, want->value);
  cr_expect_eq(got->has_interval, want->has_interval, "%s", what);
  cr_expect_eq(got->lower, want->lower, "%s: lower", what);
  cr_expect_eq(got->upper, want->upper, "%s: upper", what);
  cr_expect_eq(got->status, want->status, "%s: status %d, the report's %d",
               what, got->status, want->status);
  cr_expect_eq(got->change_compared, want->change_compared, "%s", what);
  cr_expect_eq(got->has_path, want->has_path, "%s", what);
  cr_expect_eq(got->path, want->path, "%s: path", what);
  cr_expect_str_eq(got->target, want->target, "%s", what);
  cr_expect_eq(got->units_counted, want->units_counted, "%s", what);
}

Test(views, a_trend_is_each_years_report) {
  /* No years given: those stored, 2020-2022. */
  Tally__Envelope *t = trend("H02", "", 0, 0, 1);
  cr_assert_eq(code_of(t), 0, "trend: %s", message_of(t));
  Tally__TrendReply *tr = t->trend_reply;
  cr_assert_eq(tr->from_year, 2020);
  cr_assert_eq(tr->to_year, 2022);
  cr_assert_str_eq(tr->total->unit, "changqing");
  cr_assert_eq(tr->total->n_rows, 3);
  cr_assert_eq(tr->n_units, N_UNITS, "each unit's line");
  for (int y = 2020; y <= 2022; y++) {
    char what[64];
    Tally__Envelope *r = report("H02", "", y);
    snprintf(what, sizeof what, "the district %d", y);
    cr_expect(tr->total->rows[y - 2020]->has_value, "%s has a value", what);
    same_row(tr->total->rows[y - 2020], r->report_reply->rows[0], what);
    tally_wire_free(r);
    for (size_t u = 0; u < tr->n_units; u++) {
      cr_assert_str_eq(tr->units[u]->unit, units[u], "in the catalog's order");
      r = report("H02", units[u], y);
      snprintf(what, sizeof what, "%s %d", units[u], y);
      same_row(tr->units[u]->rows[y - 2020], r->report_reply->rows[0], what);
      tally_wire_free(r);
    }
  }
  tally_wire_free(t);

  /* Years asked for: those without figures have no value. */
  t = trend("P01", "", 2018, 2023, 0);
  cr_assert_eq(code_of(t), 0, "trend: %s", message_of(t));
  cr_assert_eq(t->trend_reply->total->n_rows, 6);
  cr_assert_eq(t->trend_reply->n_units, 0, "no units' lines unless asked");
  for (int i = 0; i < 6; i++)
    cr_expect_eq(t->trend_reply->total->rows[i]->has_value,
                 i >= 2 && i <= 4, "P01 %d", 2018 + i);
  tally_wire_free(t);

  /* An indicator of the district office's own figures has no units'
   * lines. */
  t = trend("P05", "", 0, 0, 1);
  cr_assert_eq(code_of(t), 0, "trend: %s", message_of(t));
  cr_expect_eq(t->trend_reply->n_units, 0);
  cr_expect(t->trend_reply->total->rows[2]->has_value, "P05 2022");
  tally_wire_free(t);
}

Test(views, the_matrix_is_each_indicators_explanation) {
  Tally__MatrixRequest q = TALLY__MATRIX_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  q.period = "2022";
  q.unit = "";
  q.plan = "";
  req.body_case = TALLY__ENVELOPE__BODY_MATRIX;
  req.matrix = &q;
  Tally__Envelope *m = call(srv.admin, &req);
  cr_assert_eq(code_of(m), 0, "matrix: %s", message_of(m));
  Tally__MatrixReply *mr = m->matrix_reply;
  cr_assert_eq(mr->n_units, N_UNITS);
  cr_assert_gt(mr->n_rows, 40, "the indicators the units' figures make");
  int judged = 0, compared = 0;
  for (size_t i = 0; i < mr->n_rows; i++) {
    const char *ind = mr->rows[i]->code;
    cr_expect_neq(strcmp(ind, "P05"), 0, "P05 is the district office's own");
    Tally__ExplainRequest eq = TALLY__EXPLAIN_REQUEST__INIT;
    Tally__Envelope ereq = TALLY__ENVELOPE__INIT;
    eq.indicator = (char *)ind;
    eq.period = "2022";
    eq.unit = "";
    ereq.body_case = TALLY__ENVELOPE__BODY_EXPLAIN;
    ereq.explain = &eq;
    Tally__Envelope *e = call(srv.admin, &ereq);
    cr_assert_eq(code_of(e), 0, "explain %s: %s", ind, message_of(e));
    Tally__ExplainReply *er = e->explain_reply;
    same_row(mr->rows[i], er->total, ind);
    cr_assert_eq(er->n_units, N_UNITS, "%s", ind);
    for (size_t u = 0; u < N_UNITS; u++) {
      const Tally__MatrixCell *c = mr->units[u]->cells[i];
      const Tally__ExplainUnit *x = er->units[u];
      cr_assert_str_eq(mr->units[u]->unit, x->unit);
      cr_expect(mr->units[u]->leaf);
      cr_expect_eq(c->has_value, x->row->has_value, "%s %s", ind, x->unit);
      cr_expect_eq(c->value, x->row->value, "%s %s", ind, x->unit);
      cr_expect_eq(c->status, x->row->status, "%s %s: status %d, explain's %d",
                   ind, x->unit, c->status, x->row->status);
      cr_expect_eq(c->compared, x->compared, "%s %s: compared %d, explain's %d",
                   ind, x->unit, c->compared, x->compared);
      cr_expect_eq(c->lower, x->row->lower, "%s %s", ind, x->unit);
      judged += c->status == TALLY__STATUS__STATUS_MET ||
                c->status == TALLY__STATUS__STATUS_NOT_MET;
      compared += c->compared == TALLY__COMPARE__COMPARE_BETTER ||
                  c->compared == TALLY__COMPARE__COMPARE_WORSE;
    }
    tally_wire_free(e);
  }
  cr_expect_gt(judged, 0, "some cells are met or not met");
  cr_expect_gt(compared, 0, "some units are better or worse than the district");
  tally_wire_free(m);

  /* One plan's indicators only. */
  q.plan = "plan";
  m = call(srv.admin, &req);
  cr_assert_eq(code_of(m), 0, "matrix: %s", message_of(m));
  for (size_t i = 0; i < m->matrix_reply->n_rows; i++)
    cr_expect_eq(m->matrix_reply->rows[i]->code[0], 'P');
  cr_expect_gt(m->matrix_reply->n_rows, 0);
  tally_wire_free(m);
}

Test(views, bad_requests_are_refused_in_words) {
  Tally__Envelope *t = trend("H99", "", 0, 0, 0);
  cr_expect_eq(code_of(t), TALLY__ERROR_CODE__ERROR_UNKNOWN_INDICATOR, "%s",
               message_of(t));
  tally_wire_free(t);
  t = trend("H02", "", 2023, 2020, 0);
  cr_expect_eq(code_of(t), TALLY__ERROR_CODE__ERROR_BAD_PERIOD);
  cr_expect(strstr(message_of(t), "the first not after the last"), "%s",
            message_of(t));
  tally_wire_free(t);
  t = trend("H02", "", 0, 5, 0);
  cr_expect_eq(code_of(t), TALLY__ERROR_CODE__ERROR_BAD_PERIOD, "year 5: %s",
               message_of(t));
  tally_wire_free(t);
  t = trend("H02", "", 1900, 2022, 1);
  cr_expect_eq(code_of(t), TALLY__ERROR_CODE__ERROR_BAD_REQUEST);
  cr_expect(strstr(message_of(t), "too long"), "%s", message_of(t));
  tally_wire_free(t);
  t = trend("H02", "nowhere", 0, 0, 0);
  cr_expect_eq(code_of(t), TALLY__ERROR_CODE__ERROR_UNKNOWN_UNIT);
  tally_wire_free(t);

  Tally__MatrixRequest q = TALLY__MATRIX_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  req.body_case = TALLY__ENVELOPE__BODY_MATRIX;
  req.matrix = &q;
  q.period = "2022";
  q.unit = "wenchang";
  q.plan = "";
  Tally__Envelope *m = call(srv.admin, &req);
  cr_expect_eq(code_of(m), TALLY__ERROR_CODE__ERROR_BAD_REQUEST);
  cr_expect(strstr(message_of(m), "no units below it"), "%s", message_of(m));
  tally_wire_free(m);
  q.unit = "";
  q.plan = "nope";
  m = call(srv.admin, &req);
  cr_expect_eq(code_of(m), TALLY__ERROR_CODE__ERROR_BAD_REQUEST);
  cr_expect(strstr(message_of(m), "unknown plan 'nope'"), "%s", message_of(m));
  tally_wire_free(m);
  q.plan = "";
  q.period = "2022Q5";
  m = call(srv.admin, &req);
  cr_expect_eq(code_of(m), TALLY__ERROR_CODE__ERROR_BAD_PERIOD);
  tally_wire_free(m);
}

/* The overview's completeness: the same counts, without the lists of
 * elements missing (of 2019, when nothing was reported). */
Test(views, completeness_counts_only_has_the_counts_alone) {
  Tally__CompletenessRequest q = TALLY__COMPLETENESS_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  q.period = "2019";
  q.unit = "";
  req.body_case = TALLY__ENVELOPE__BODY_COMPLETENESS;
  req.completeness = &q;
  Tally__Envelope *full = call(srv.admin, &req);
  q.counts_only = 1;
  Tally__Envelope *counts = call(srv.admin, &req);
  cr_assert_eq(code_of(full), 0, "%s", message_of(full));
  cr_assert_eq(code_of(counts), 0, "%s", message_of(counts));
  Tally__CompletenessReply *f = full->completeness_reply,
                           *c = counts->completeness_reply;
  cr_assert_eq(c->n_units, f->n_units);
  size_t missing = 0;
  for (size_t i = 0; i < f->n_units; i++) {
    cr_expect_str_eq(c->units[i]->unit, f->units[i]->unit);
    cr_expect_eq(c->units[i]->expected, f->units[i]->expected);
    cr_expect_eq(c->units[i]->reported, f->units[i]->reported);
    cr_expect_str_eq(c->units[i]->timeliness, f->units[i]->timeliness);
    cr_expect_eq(c->units[i]->n_missing, 0, "%s: no list", c->units[i]->unit);
    missing += f->units[i]->n_missing;
  }
  cr_expect_gt(missing, 0, "the full reply lists what is missing");
  cr_expect_eq(c->complete, f->complete);
  cr_expect_eq(c->partial, f->partial);
  tally_wire_free(full);
  tally_wire_free(counts);
}
