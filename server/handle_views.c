/* handle_views.c: the central office's views of the district: an
 * indicator over the years (TrendRequest) and the units against every
 * indicator (MatrixRequest), each one request and one snapshot, built
 * from the kept sums by report.c.
 */
#include "handlers.h"

#include "error.h"
#include "report.h"
#include "reply.h"
#include "store_figures.h"

#include <string.h>

/* The most years a trend covers. */
#define TREND_YEARS_MAX 100

Tally__Envelope *tally_handle_trend(tally_request *r,
                                    const Tally__Envelope *req) {
  const Tally__TrendRequest *q = req->trend;
  Tally__Envelope *reply = NULL;
  Tally__TrendReply *rep = NULL;
  int scope = r->cat->root, ind;
  tally_entered et;

  if ((ind = tally_reply_want_indicator(r, req->id, q->indicator, &reply)) < 0)
    return reply;
  if (*q->unit &&
      (scope = tally_reply_want_unit(r, req->id, q->unit, &reply)) < 0)
    return reply;
  if (q->from_year < 0 || q->to_year < 0 ||
      (q->from_year && q->from_year < TALLY_PERIOD_MIN_YEAR) ||
      (q->to_year && q->to_year < TALLY_PERIOD_MIN_YEAR) ||
      q->from_year > TALLY_PERIOD_MAX_YEAR || q->to_year > TALLY_PERIOD_MAX_YEAR ||
      (q->from_year && q->to_year && q->from_year > q->to_year))
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_PERIOD,
                             "a trend is of the years from_year to to_year "
                             "(%d-%d), the first not after the last; 0 for "
                             "the first or last year stored",
                             TALLY_PERIOD_MIN_YEAR, TALLY_PERIOD_MAX_YEAR);
  tally_store_txn *txn = NULL;
  uint32_t first = 0, last = 0;
  int rc = tally_store_read_begin(r->store, &txn);
  if (rc == 0)
    rc = tally_store_txn_period_span(txn, &first, &last);
  int from = q->from_year, to = q->to_year;
  tally_period f, l;
  if (rc == 0 && first && tally_period_from_key(first, &f) == 0 &&
      tally_period_from_key(last, &l) == 0) {
    from = from ? from : f.year; /* the years stored, unless given */
    to = to ? to : l.year;
  }
  if (from > to && q->from_year) /* one end given, past the other stored */
    to = from;
  else if (from > to)
    from = to;
  from = from ? from : to;
  to = to ? to : from;
  if (rc == 0 && from == 0) { /* nothing stored, no year given */
    tally_store_txn_end(txn);
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_PERIOD,
                             "no figures are stored yet: give the years "
                             "(from_year, to_year)");
  }
  size_t series = 1;
  if (q->units)
    series += (size_t)r->cat->units[scope].n_children;
  if (rc == 0 && (to - from + 1 > TREND_YEARS_MAX ||
                  series * (size_t)(to - from + 1) > TALLY_TREND_ROWS_MAX)) {
    tally_store_txn_end(txn);
    return tally_reply_error(
        r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
        "a trend of %d years%s is too long: at most %d years and %d rows "
        "(ask for fewer years, or a unit within %s)",
        to - from + 1, q->units ? " for each unit" : "", TREND_YEARS_MAX,
        TALLY_TREND_ROWS_MAX, r->cat->units[scope].code);
  }
  if (rc == 0 && (rc = tally_entered_load(r, txn, &et)) == 0)
    rc = tally_report_trend(r->cat, txn, &et.base, ind, scope, from, to,
                            q->units, r->arena, &rep);
  tally_store_txn_end(txn);
  if (rc == -ENOMEM)
    return NULL;
  if (rc != 0)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                             "the trend could not be built (%s)",
                             tally_strerror(rc));
  if ((reply = tally_reply_new(r, req->id)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_TREND_REPLY;
  reply->trend_reply = rep;
  return reply;
}

Tally__Envelope *tally_handle_matrix(tally_request *r,
                                     const Tally__Envelope *req) {
  const Tally__MatrixRequest *q = req->matrix;
  Tally__Envelope *reply = NULL;
  Tally__MatrixReply *rep = NULL;
  tally_period p;
  char shown[SHOWN_MAX];
  int scope = r->cat->root, plan = -1;
  tally_entered et;

  if (tally_reply_want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  if (*q->unit &&
      (scope = tally_reply_want_unit(r, req->id, q->unit, &reply)) < 0)
    return reply;
  if (*q->plan) {
    for (size_t i = 0; i < r->cat->n_plans; i++)
      if (strcmp(r->cat->plans[i].code, q->plan) == 0)
        plan = (int)i;
    if (plan < 0)
      return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                               "unknown plan '%s'",
                               tally_reply_show(q->plan, shown));
  }
  if (r->cat->units[scope].is_leaf)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "%s has no units below it: its matrix would be "
                             "empty (ask for its report)",
                             r->cat->units[scope].code);
  tally_store_txn *txn = NULL;
  int rc = tally_store_read_begin(r->store, &txn);
  if (rc == 0 && (rc = tally_entered_load(r, txn, &et)) == 0)
    rc = tally_report_matrix(r->cat, txn, &et.base, &p, scope, plan, r->arena,
                             &rep);
  tally_store_txn_end(txn);
  if (rc == -ENOMEM)
    return NULL;
  if (rc != 0)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                             "the matrix could not be built (%s)",
                             tally_strerror(rc));
  if ((reply = tally_reply_new(r, req->id)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_MATRIX_REPLY;
  reply->matrix_reply = rep;
  return reply;
}
