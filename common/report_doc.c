/* report_doc.c: everything a report file shows, asked for through the
 * caller's asker (a connection, or tallyd's own dispatch). The happy
 * path: the period's report, a report for each earlier year of the plans, an
 * explain for each indicator of the period's report, completeness, the
 * targets and the review queue. The failure modes: any refusal or a lost
 * connection ends the fetch with the server's word (the review queue
 * alone is left out when the account may not read it), and the doc is
 * left empty. */
#include "report_doc.h"

#include "period.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One row for each status: the words, the symbol and the class. */
static const struct {
  Tally__Status status;
  tally_status_words words;
} statuses[] = {
    {TALLY__STATUS__STATUS_MET, {"达标", "met", "✓", "met"}},
    {TALLY__STATUS__STATUS_ON_TRACK, {"符合进度", "on track", "○", "on-track"}},
    {TALLY__STATUS__STATUS_OFF_TRACK,
     {"进度滞后", "off track", "△", "off-track"}},
    {TALLY__STATUS__STATUS_NOT_MET, {"未达标", "not met", "✗", "not-met"}},
    {TALLY__STATUS__STATUS_NOT_JUDGED,
     {"不作判断", "not judged", "–", "not-judged"}},
    {TALLY__STATUS__STATUS_INSUFFICIENT_DATA,
     {"数据不足", "insufficient data", "?", "no-data"}},
    {TALLY__STATUS__STATUS_NO_TARGET, {"无目标", "no target", "·", "none"}},
    {TALLY__STATUS__STATUS_UNDEFINED, {"无法计算", "undefined", "?", "no-data"}},
    {TALLY__STATUS__STATUS_POPULATION_TOO_SMALL,
     {"人口过少", "population too small", "?", "no-data"}},
};
static const tally_status_words unknown = {"未知", "unknown", "?", "none"};

const Tally__Status tally_report_summary_order[] = {
    TALLY__STATUS__STATUS_MET,        TALLY__STATUS__STATUS_ON_TRACK,
    TALLY__STATUS__STATUS_OFF_TRACK,  TALLY__STATUS__STATUS_NOT_MET,
    TALLY__STATUS__STATUS_NOT_JUDGED, TALLY__STATUS__STATUS_INSUFFICIENT_DATA,
    TALLY__STATUS__STATUS_NO_TARGET,  TALLY__STATUS__STATUS_UNDEFINED,
    TALLY__STATUS__STATUS_POPULATION_TOO_SMALL};
const size_t tally_report_summary_n =
    sizeof tally_report_summary_order / sizeof tally_report_summary_order[0];

const tally_status_words *tally_report_status(Tally__Status s) {
  for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
    if (statuses[i].status == s)
      return &statuses[i].words;
  return &unknown;
}

const char *tally_report_compare_zh(Tally__Compare c) {
  switch (c) {
  case TALLY__COMPARE__COMPARE_SIMILAR: return "无显著差异";
  case TALLY__COMPARE__COMPARE_BETTER: return "显著较好";
  case TALLY__COMPARE__COMPARE_WORSE: return "显著较差";
  default: return "";
  }
}

const char *tally_report_compare_en(Tally__Compare c) {
  switch (c) {
  case TALLY__COMPARE__COMPARE_SIMILAR: return "similar";
  case TALLY__COMPARE__COMPARE_BETTER: return "better";
  case TALLY__COMPARE__COMPARE_WORSE: return "worse";
  default: return "";
  }
}

void tally_report_fixed(char *buf, size_t n, int has, double v, int d,
                        int sign) {
  if (!has) {
    buf[0] = 0;
    return;
  }
  snprintf(buf, n, sign ? "%+.*f" : "%.*f", d, v); /* as the table's */
}

int tally_report_unit_judged(const Tally__ReportRow *w) {
  return strcmp(w->kind, "total") != 0 && strcmp(w->kind, "cumulative") != 0;
}

void tally_report_value_text(char *buf, size_t n, const Tally__ReportRow *w) {
  if (w->level && *w->level)
    snprintf(buf, n, "%s", w->level);
  else
    tally_report_fixed(buf, n, w->has_value, w->value, (int)w->decimals, 0);
}

/* One request through ask, its reply of the kind want. Returns 0 and
 * *reply, or a code with *e saying why. */
static int ask_one(tally_report_ask_fn *ask, void *ctx, tally_report_doc *d,
                   const Tally__Envelope *req, Tally__Envelope__BodyCase want,
                   const Tally__Envelope **reply, tally_report_doc_error *e) {
  d->requests++;
  if (ask(ctx, req, reply, e->message, sizeof e->message) != 0)
    return TALLY_REPORT_DOC_UNREACHABLE;
  if ((*reply)->body_case == TALLY__ENVELOPE__BODY_ERROR) {
    e->code = (*reply)->error->code;
    snprintf(e->message, sizeof e->message, "%s", (*reply)->error->message);
    return TALLY_REPORT_DOC_REFUSED;
  }
  if ((*reply)->body_case != want) {
    e->code = TALLY__ERROR_CODE__ERROR_INTERNAL;
    snprintf(e->message, sizeof e->message,
             "the server sent an unexpected reply");
    return TALLY_REPORT_DOC_REFUSED;
  }
  return 0;
}

/* The review queue, or none when the account may not read it. */
static int ask_review(tally_report_ask_fn *ask, void *ctx, tally_report_doc *d,
                      const char *period, tally_report_doc_error *e) {
  Tally__ReviewListRequest q = TALLY__REVIEW_LIST_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  const Tally__Envelope *reply = NULL;
  q.period = (char *)period;
  req.body_case = TALLY__ENVELOPE__BODY_REVIEW_LIST;
  req.review_list = &q;
  int rc = ask_one(ask, ctx, d, &req, TALLY__ENVELOPE__BODY_REVIEW_LIST_REPLY,
                   &reply, e);
  if (rc == TALLY_REPORT_DOC_REFUSED &&
      e->code == TALLY__ERROR_CODE__ERROR_PERMISSION_DENIED) {
    memset(e, 0, sizeof *e); /* a reporter's report: no queue in it */
    return 0;
  }
  if (rc == 0)
    d->review = reply->review_list_reply;
  return rc;
}

/* The plans' base year: a year before the earliest start_year. */
static int base_year(const tally_catalog *cat, const char *plan) {
  int base = 0;
  for (size_t i = 0; i < cat->n_plans; i++)
    if ((!plan || !*plan || strcmp(plan, cat->plans[i].code) == 0) &&
        (base == 0 || cat->plans[i].start_year - 1 < base))
      base = cat->plans[i].start_year - 1;
  return base;
}

static double ms_since(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
         (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

int tally_report_doc_fetch(tally_report_ask_fn *ask, void *ctx,
                           const tally_catalog *cat,
                           const Tally__ReportRequest *q, tally_report_doc *d,
                           tally_report_doc_error *e) {
  const Tally__Envelope *reply;
  tally_period p;
  struct timespec t0;
  int rc;

  memset(d, 0, sizeof *d);
  memset(e, 0, sizeof *e);
  d->made_unix = (int64_t)time(NULL);
  d->cat = cat;
  if (tally_period_parse(q->period, &p) != 0) {
    e->code = TALLY__ERROR_CODE__ERROR_BAD_REQUEST;
    snprintf(e->message, sizeof e->message, "'%.200s' is not a period",
             q->period);
    return TALLY_REPORT_DOC_BAD_PERIOD;
  }
  clock_gettime(CLOCK_MONOTONIC, &t0);

  /* The same period of each year from the base year, the period's
   * report last: a year with no figures is a report of no values. */
  int first = base_year(d->cat, q->plan);
  if (first <= 0 || first > p.year)
    first = p.year;
  if (p.year - first + 1 > TALLY_REPORT_YEARS_MAX)
    first = p.year - TALLY_REPORT_YEARS_MAX + 1;
  for (int y = first; y <= p.year; y++) {
    Tally__ReportRequest yq = *q;
    Tally__Envelope req = TALLY__ENVELOPE__INIT;
    tally_period py = p;
    size_t k = d->n_years;
    py.year = y;
    tally_period_format(&py, d->year_periods[k]);
    yq.period = d->year_periods[k];
    yq.name_missing = y == p.year ? q->name_missing : 0;
    req.body_case = TALLY__ENVELOPE__BODY_REPORT;
    req.report = &yq;
    if ((rc = ask_one(ask, ctx, d, &req, TALLY__ENVELOPE__BODY_REPORT_REPLY,
                      &reply, e)) != 0)
      goto fail;
    d->years[k] = reply->report_reply;
    d->year_of[k] = y;
    d->n_years++;
  }
  d->report = d->years[d->n_years - 1];

  /* Each indicator's units. */
  size_t n = d->report->n_rows;
  d->explain = calloc(n ? n : 1, sizeof *d->explain);
  if (d->explain == NULL) {
    snprintf(e->message, sizeof e->message, "out of memory");
    rc = TALLY_REPORT_DOC_NO_MEMORY;
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    Tally__ExplainRequest eq = TALLY__EXPLAIN_REQUEST__INIT;
    Tally__Envelope req = TALLY__ENVELOPE__INIT;
    eq.indicator = d->report->rows[i]->code;
    eq.period = (char *)q->period;
    eq.unit = (char *)q->unit;
    req.body_case = TALLY__ENVELOPE__BODY_EXPLAIN;
    req.explain = &eq;
    if ((rc = ask_one(ask, ctx, d, &req, TALLY__ENVELOPE__BODY_EXPLAIN_REPLY,
                      &reply, e)) != 0)
      goto fail;
    d->explain[i] = reply->explain_reply;
  }

  Tally__CompletenessRequest cq = TALLY__COMPLETENESS_REQUEST__INIT;
  Tally__Envelope creq = TALLY__ENVELOPE__INIT;
  cq.period = (char *)q->period;
  cq.unit = (char *)q->unit;
  creq.body_case = TALLY__ENVELOPE__BODY_COMPLETENESS;
  creq.completeness = &cq;
  if ((rc = ask_one(ask, ctx, d, &creq,
                    TALLY__ENVELOPE__BODY_COMPLETENESS_REPLY, &reply, e)) != 0)
    goto fail;
  d->completeness = reply->completeness_reply;

  Tally__TargetListRequest tq = TALLY__TARGET_LIST_REQUEST__INIT;
  Tally__Envelope treq = TALLY__ENVELOPE__INIT;
  treq.body_case = TALLY__ENVELOPE__BODY_TARGET_LIST;
  treq.target_list = &tq;
  if ((rc = ask_one(ask, ctx, d, &treq,
                    TALLY__ENVELOPE__BODY_TARGET_LIST_REPLY, &reply, e)) != 0)
    goto fail;
  d->targets = reply->target_list_reply;

  if ((rc = ask_review(ask, ctx, d, q->period, e)) != 0)
    goto fail;
  d->fetch_ms = ms_since(&t0);
  return 0;

fail:
  tally_report_doc_free(d);
  return rc;
}

void tally_report_doc_free(tally_report_doc *d) {
  free(d->explain);
  memset(d, 0, sizeof *d);
}

void tally_report_time(char *buf, size_t n, int64_t unix_s) {
  time_t t = (time_t)unix_s;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

const Tally__ReportRow *tally_report_doc_row(const tally_report_doc *d,
                                             size_t y, const char *code) {
  if (y >= d->n_years)
    return NULL;
  const Tally__ReportReply *r = d->years[y];
  for (size_t i = 0; i < r->n_rows; i++)
    if (strcmp(r->rows[i]->code, code) == 0)
      return r->rows[i];
  return NULL;
}

static const tally_plan *plan_of(const tally_report_doc *d, const char *code) {
  for (size_t i = 0; d->cat && i < d->cat->n_plans; i++)
    if (strcmp(d->cat->plans[i].code, code) == 0)
      return &d->cat->plans[i];
  return NULL;
}

const char *tally_report_doc_plan_zh(const tally_report_doc *d,
                                     const char *code) {
  const tally_plan *p = plan_of(d, code);
  return p ? p->name_zh : code;
}

const char *tally_report_doc_plan_en(const tally_report_doc *d,
                                     const char *code) {
  const tally_plan *p = plan_of(d, code);
  return p ? p->name_en : code;
}
