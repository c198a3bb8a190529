/* report_doc.c: everything a report file shows, asked for on one
 * connection. The happy path: the catalog (kept, or fetched), then the
 * period's report, a report for each earlier year of the plans, an
 * explain for each indicator of the period's report, completeness, the
 * targets and the review queue. The failure modes: any refusal or a lost
 * connection ends the fetch with the server's word (the review queue
 * alone is left out when the account may not read it), and nothing
 * fetched so far is kept. */
#include "report_doc.h"
#include "i18n.h"

#include "catalog_cache.h"
#include "period.h"
#include "wire.h"

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

/* Keeps env (to free with the doc). Returns 0 or -1 (out of memory). */
static int keep(tally_report_doc *d, Tally__Envelope *env) {
  Tally__Envelope **grown =
      realloc(d->envelopes, (d->n_envelopes + 1) * sizeof *grown);
  if (grown == NULL)
    return -1;
  d->envelopes = grown;
  d->envelopes[d->n_envelopes++] = env;
  return 0;
}

/* One request on cl, its reply kept in d. Returns 0 and *reply, or the
 * exit status after saying why. */
static int ask(const tally_cli *c, tally_client *cl, tally_report_doc *d,
               Tally__Envelope *req, Tally__Envelope__BodyCase want,
               Tally__Envelope **reply) {
  int rc = tally_cli_call_on(c, cl, req, want, reply);
  d->requests++;
  if (rc != 0) {
    tally_wire_free(*reply);
    return rc;
  }
  if (keep(d, *reply) != 0) {
    tally_wire_free(*reply);
    fputs(_("tally: out of memory\n"), stderr);
    return EXIT_REFUSED;
  }
  return 0;
}

/* The review queue, or none when the account may not read it. */
static int ask_review(const tally_cli *c, tally_client *cl,
                      tally_report_doc *d, const char *period) {
  Tally__ReviewListRequest q = TALLY__REVIEW_LIST_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  char err[256];
  q.period = (char *)period;
  req.body_case = TALLY__ENVELOPE__BODY_REVIEW_LIST;
  req.review_list = &q;
  d->requests++;
  if (tally_client_call(cl, &req, &reply, err, sizeof err) != 0) {
    fprintf(stderr, "tally: %s\n", err);
    return EXIT_UNREACHABLE;
  }
  if (reply->body_case == TALLY__ENVELOPE__BODY_ERROR &&
      reply->error->code == TALLY__ERROR_CODE__ERROR_PERMISSION_DENIED) {
    tally_wire_free(reply); /* a reporter's report: no queue in it */
    return 0;
  }
  if (reply->body_case != TALLY__ENVELOPE__BODY_REVIEW_LIST_REPLY) {
    fprintf(stderr, "tally: %s\n",
            reply->body_case == TALLY__ENVELOPE__BODY_ERROR
                ? reply->error->message
                : "the server sent an unexpected reply");
    tally_wire_free(reply);
    return EXIT_REFUSED;
  }
  if (keep(d, reply) != 0) {
    tally_wire_free(reply);
    fputs(_("tally: out of memory\n"), stderr);
    return EXIT_REFUSED;
  }
  d->review = reply->review_list_reply;
  return 0;
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

int tally_report_doc_fetch(const tally_cli *c, const Tally__ReportRequest *q,
                           tally_report_doc *d) {
  tally_client *cl = NULL;
  Tally__Envelope *reply;
  tally_period p;
  struct timespec t0;
  int rc;

  memset(d, 0, sizeof *d);
  d->made_unix = (int64_t)time(NULL);
  if (tally_period_parse(q->period, &p) != 0) {
    fprintf(stderr, _("tally: '%s' is not a period\n"), q->period);
    return EXIT_USAGE;
  }
  if ((rc = tally_catalog_cache_fetch(c, 0, &d->own_cat)) != 0)
    return rc;
  d->cat = d->own_cat;
  if ((rc = tally_cli_connect(c, &cl)) != 0)
    goto fail;
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
    if ((rc = ask(c, cl, d, &req, TALLY__ENVELOPE__BODY_REPORT_REPLY,
                  &reply)) != 0)
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
    fputs(_("tally: out of memory\n"), stderr);
    rc = EXIT_REFUSED;
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
    if ((rc = ask(c, cl, d, &req, TALLY__ENVELOPE__BODY_EXPLAIN_REPLY,
                  &reply)) != 0)
      goto fail;
    d->explain[i] = reply->explain_reply;
  }

  Tally__CompletenessRequest cq = TALLY__COMPLETENESS_REQUEST__INIT;
  Tally__Envelope creq = TALLY__ENVELOPE__INIT;
  cq.period = (char *)q->period;
  cq.unit = (char *)q->unit;
  creq.body_case = TALLY__ENVELOPE__BODY_COMPLETENESS;
  creq.completeness = &cq;
  if ((rc = ask(c, cl, d, &creq, TALLY__ENVELOPE__BODY_COMPLETENESS_REPLY,
                &reply)) != 0)
    goto fail;
  d->completeness = reply->completeness_reply;

  Tally__TargetListRequest tq = TALLY__TARGET_LIST_REQUEST__INIT;
  Tally__Envelope treq = TALLY__ENVELOPE__INIT;
  treq.body_case = TALLY__ENVELOPE__BODY_TARGET_LIST;
  treq.target_list = &tq;
  if ((rc = ask(c, cl, d, &treq, TALLY__ENVELOPE__BODY_TARGET_LIST_REPLY,
                &reply)) != 0)
    goto fail;
  d->targets = reply->target_list_reply;

  if ((rc = ask_review(c, cl, d, q->period)) != 0)
    goto fail;
  d->fetch_ms = ms_since(&t0);
  tally_client_close(cl);
  return 0;

fail:
  if (cl)
    tally_client_close(cl);
  tally_report_doc_free(d);
  return rc;
}

void tally_report_doc_free(tally_report_doc *d) {
  for (size_t i = 0; i < d->n_envelopes; i++)
    tally_wire_free(d->envelopes[i]);
  free(d->envelopes);
  free(d->explain);
  tally_catalog_free(d->own_cat);
  memset(d, 0, sizeof *d);
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
