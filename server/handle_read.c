/* handle_read.c: the handlers that read: a unit's values and history,
 * reports, explanations, completeness, the check of figures that moved
 * sharply, and the catalog.
 *
 * Each reads one snapshot of the store. A history, a page at a time,
 * and a check of many units run in a pool thread so that they do not
 * hold the loop; the rest are short.
 */
#include "handlers.h"

#include "approved.h"
#include "error.h"
#include "flags.h"
#include "log.h"
#include "report.h"
#include "reply.h"
#include "store_audit.h"
#include "store_figures.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct values_ctx {
  tally_request *r;
  Tally__ValuesReply *rep;
  size_t cap;           /* of rep->values */
  size_t ecap;          /* of rep->explanations */
};

static int collect_value(void *arg, const char *unit, const char *element,
                         double value, int64_t updated) {
  struct values_ctx *vc = arg;
  tally_arena *a = vc->r->arena;
  Tally__ValuesReply *rep = vc->rep;

  if (tally_arena_reserve(a, &rep->values, rep->n_values, &vc->cap,
                          sizeof *rep->values) != 0)
    return -ENOMEM;
  Tally__StoredValue *sv = tally_arena_alloc(a, sizeof *sv);
  if (sv == NULL)
    return -ENOMEM;
  tally__stored_value__init(sv);
  sv->element = tally_arena_strdup(a, element);
  sv->value = value;
  sv->updated_unix = updated;
  int e = tally_catalog_element(vc->r->cat, element);
  if (e >= 0) {
    const tally_element *el = &vc->r->cat->elements[e];
    sv->name_zh = el->name_zh;
    sv->name_en = el->name_en;
    sv->unit = el->unit;
    sv->unit_zh = el->unit_zh ? el->unit_zh : "";
    const tally_level *l =
        el->type == TALLY_ELEMENT_STATUS && value == floor(value) &&
                fabs(value) <= INT32_MAX
            ? tally_element_level(el, (int)value)
            : NULL;
    if (l && (sv->level = tally_arena_printf(a, "%s (%s)", l->zh, l->en)) ==
                 NULL)
      return -ENOMEM;
  }
  if (sv->element == NULL)
    return -ENOMEM;
  rep->values[rep->n_values++] = sv;
  return 0;
}

/* Store visitor: one explanation kept with the report, into the reply. */
static int collect_explanation(void *arg, const void *packed, size_t len) {
  struct values_ctx *vc = arg;
  tally_arena *a = vc->r->arena;
  Tally__ValuesReply *rep = vc->rep;
  ProtobufCAllocator alloc = tally_reply_pb_arena(a);
  Tally__Explanation *e = tally__explanation__unpack(&alloc, len, packed);
  if (e == NULL)
    return 0; /* unreadable: left out */
  if (tally_arena_reserve(a, &rep->explanations, rep->n_explanations,
                          &vc->ecap, sizeof *rep->explanations) != 0)
    return -ENOMEM;
  rep->explanations[rep->n_explanations++] = e;
  return 0;
}

/* Store visitor: the report's last approval, its figures into the
 * reply as a scan's would be (each written when it was approved), and
 * the explanations kept with it. */
static int collect_approval(void *arg, const char *unit, const void *packed,
                            size_t len) {
  struct values_ctx *vc = arg;
  ProtobufCAllocator alloc = tally_reply_pb_arena(vc->r->arena);
  Tally__Approval *ap = tally__approval__unpack(&alloc, len, packed);
  if (ap == NULL)
    return 0; /* unreadable: as if never approved, as reports take it */
  vc->rep->approved_revision = ap->revision;
  vc->rep->approved_unix = ap->time_unix;
  vc->rep->approved_by = ap->account_name;
  for (size_t i = 0; i < ap->n_values; i++) {
    int rc = collect_value(vc, unit, ap->values[i]->element,
                           ap->values[i]->value, ap->time_unix);
    if (rc != 0)
      return rc;
  }
  if (ap->explanations_kept) {
    vc->rep->explanations_as_approved = 1;
    vc->rep->explanations = ap->explanations;
    vc->rep->n_explanations = ap->n_explanations;
  }
  return 0;
}

Tally__Envelope *tally_handle_values(tally_request *r,
                                      const Tally__Envelope *req) {
  const Tally__ValuesRequest *q = req->values;
  Tally__Envelope *reply = NULL;
  tally_period p;
  char ptext[TALLY_PERIOD_STRLEN];

  if (tally_reply_want_unit(r, req->id, q->unit, &reply) < 0 ||
      tally_reply_want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  Tally__ValuesReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  if (rep == NULL)
    return NULL;
  tally__values_reply__init(rep);
  rep->unit = q->unit;
  rep->period = tally_arena_strdup(r->arena, tally_period_format(&p, ptext));
  /* The figures and their revision from one snapshot: a client bases
   * its next submission on the two together. */
  struct values_ctx vc = {r, rep, 0, 0};
  tally_store_txn *txn = NULL;
  int rc = tally_store_read_begin(r->store, &txn);
  rep->as_approved = q->as_approved;
  if (rc == 0 && q->as_approved)
    rc = tally_store_txn_approval(txn, tally_period_key(&p), q->unit, 0,
                                  collect_approval, &vc);
  else if (rc == 0)
    rc = tally_store_txn_scan(txn, tally_period_key(&p), q->unit,
                              collect_value, &vc);
  if (rc == 0)
    rc = tally_store_txn_revision(txn, tally_period_key(&p), q->unit,
                                  &rep->revision);
  /* The live explanations, unless the approval kept its own. */
  if (rc == 0 && !rep->explanations_as_approved)
    rc = tally_store_txn_explanations(txn, tally_period_key(&p), q->unit,
                                      collect_explanation, &vc);
  ProtobufCAllocator alloc = tally_reply_pb_arena(r->arena);
  if (rc == 0)
    rc = tally_review_get(txn, tally_period_key(&p), q->unit, &alloc,
                          &rep->review);
  tally_store_txn_end(txn);
  if (rc != 0)
    return tally_reply_read_failed(r, req->id, rc);
  if ((reply = tally_reply_new(r, req->id)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_VALUES_REPLY;
  reply->values_reply = rep;
  return reply;
}

/* A history is read a page at a time in a pool thread: a long one
 * (thousands of corrections) does not hold the loop, and no reply holds
 * more than a page. */
struct history_job {
  tally_job job;       /* first: the job is its tally_job */
  tally_store *store;
  uint64_t id;
  uint32_t period_key;
  const char *unit;    /* the request's, which outlives the job */
  uint64_t after;
  size_t limit;
  size_t cap, bytes;   /* of rep->changes; their packed size */
  int rc;
  tally_arena arena;   /* the reply, built where the job runs */
  Tally__HistoryReply *rep;
};

/* Store visitor: unpacks one history entry into the page, or stops at
 * one that does not fit (1: another page follows). */
static int collect_changeset(void *arg, uint64_t revision, const void *packed,
                             size_t len) {
  struct history_job *j = arg;
  Tally__HistoryReply *rep = j->rep;
  if (tally_page_full(rep->n_changes, j->limit, j->bytes, len))
    return 1;
  rep->next = revision;
  if (tally_arena_reserve(&j->arena, &rep->changes, rep->n_changes, &j->cap,
                          sizeof *rep->changes) != 0)
    return -ENOMEM;
  /* Unpack into the arena, so the reply frees as one. */
  ProtobufCAllocator alloc = tally_reply_pb_arena(&j->arena);
  Tally__ChangeSet *cs = tally__change_set__unpack(&alloc, len, packed);
  if (cs == NULL)
    return 0; /* not ours to judge: skip an entry that does not decode */
  rep->changes[rep->n_changes++] = cs;
  j->bytes += TALLY_PAGE_COST(len);
  return 0;
}

static void history_run(tally_job *a) {
  struct history_job *j = (struct history_job *)a;
  j->rc = tally_store_history_page(j->store, j->period_key, j->unit, j->after,
                                   collect_changeset, j);
  if (j->rc == 1) {
    j->rep->more = 1;
    j->rc = 0;
  } else {
    j->rep->next = 0; /* the last page */
  }
}

/* The reply points into the job's arena, freed after it is sent. */
static Tally__Envelope *history_finish(tally_job *a, tally_request *r) {
  struct history_job *j = (struct history_job *)a;
  if (j->rc != 0)
    return tally_reply_read_failed(r, j->id, j->rc);
  Tally__Envelope *reply = tally_reply_new(r, j->id);
  if (reply == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_HISTORY_REPLY;
  reply->history_reply = j->rep;
  return reply;
}

static void history_free(tally_job *a) {
  struct history_job *j = (struct history_job *)a;
  tally_arena_free(&j->arena);
  free(j);
}

Tally__Envelope *tally_handle_history(tally_request *r,
                                       const Tally__Envelope *req) {
  const Tally__HistoryRequest *q = req->history;
  Tally__Envelope *reply = NULL;
  tally_period p;
  char ptext[TALLY_PERIOD_STRLEN];

  if (tally_reply_want_unit(r, req->id, q->unit, &reply) < 0 ||
      tally_reply_want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  struct history_job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return NULL;
  j->job.run = history_run;
  j->job.finish = history_finish;
  j->job.free = history_free;
  j->store = r->store;
  j->id = req->id;
  j->period_key = tally_period_key(&p);
  j->unit = q->unit;
  j->after = q->after;
  j->limit = tally_page_limit(q->limit);
  if ((j->rep = tally_arena_alloc(&j->arena, sizeof *j->rep)) == NULL) {
    history_free(&j->job);
    return NULL;
  }
  tally__history_reply__init(j->rep);
  j->rep->unit = q->unit;
  j->rep->period = tally_arena_strdup(&j->arena, tally_period_format(&p, ptext));
  if (j->rep->period == NULL) {
    history_free(&j->job);
    return NULL;
  }
  return tally_job_run(r, &j->job);
}

struct approved {
  const tally_catalog *cat;
  int scope;
  uint32_t n;
};

/* Store visitor: counts an approved report of a unit in the scope. */
static int count_one(void *arg, const char *unit, const void *packed,
                     size_t len) {
  struct approved *a = arg;
  int u = tally_catalog_unit(a->cat, unit);
  Tally__Review *rv = tally__review__unpack(NULL, len, packed);
  if (rv && u >= 0 && rv->state == TALLY__REVIEW_STATE__REVIEW_APPROVED &&
      (u == a->scope || (a->cat->units[u].is_leaf &&
                         tally_catalog_unit_within(a->cat, u, a->scope))))
    a->n++;
  if (rv)
    tally__review__free_unpacked(rv, NULL);
  return 0;
}

/* The report's reporting units and how many of them are approved. */
static int count_approved(tally_request *r, tally_store_txn *txn,
                          const tally_period *p, int scope,
                          Tally__ReportReply *rep) {
  const tally_catalog *cat = r->cat;
  struct approved a = {cat, scope, 0};
  rep->units_reporting = (uint32_t)cat->units[scope].leaves +
                         (scope == cat->root && !cat->units[scope].is_leaf);
  int rc = tally_store_txn_reviews(txn, tally_period_key(p), NULL, count_one,
                                   &a);
  rep->units_approved = a.n;
  return rc;
}

Tally__Envelope *tally_handle_report(tally_request *r,
                                      const Tally__Envelope *req) {
  const Tally__ReportRequest *q = req->report;
  Tally__Envelope *reply = NULL;
  Tally__ReportReply *rep;
  tally_period p;
  char shown[SHOWN_MAX];
  int scope = r->cat->root;
  tally_report_filter filter = {-1, -1, q->name_missing, q->as_approved,
                                q->at_unix};
  tally_entered et;

  if (tally_reply_want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  if (q->unit && *q->unit &&
      (scope = tally_reply_want_unit(r, req->id, q->unit, &reply)) < 0)
    return reply;
  if (q->indicator && *q->indicator &&
      (filter.indicator = tally_reply_want_indicator(r, req->id,
                                                        q->indicator,
                                                        &reply)) < 0)
    return reply;
  if (q->plan && *q->plan) {
    for (size_t i = 0; i < r->cat->n_plans; i++)
      if (strcmp(r->cat->plans[i].code, q->plan) == 0)
        filter.plan = (int)i;
    if (filter.plan < 0)
      return tally_reply_error(r, req->id,
                                  TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                  "unknown plan '%s' (the plans are %s%s%s)",
                                  tally_reply_show(q->plan, shown), r->cat->plans[0].code,
                                  r->cat->n_plans > 1 ? " and " : "",
                                  r->cat->n_plans > 1 ? r->cat->plans[1].code
                                                      : "");
  }
  if (q->at_unix < 0 || (q->at_unix && !q->as_approved))
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "a report as of a time is one as approved "
                             "(as_approved), at a time after 1970");
  if (q->as_approved && r->cat->units[scope].leaves > TALLY_APPROVED_SCOPE_MAX)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "%s holds %d reporting units: a report as "
                             "approved reads each one's figures afresh, for "
                             "at most %d; ask for a unit within it",
                             r->cat->units[scope].code,
                             r->cat->units[scope].leaves,
                             TALLY_APPROVED_SCOPE_MAX);
  /* Targets, figures and the period's lock from one snapshot. */
  tally_store_txn *txn = NULL;
  int rc = tally_store_read_begin(r->store, &txn);
  if (rc == 0 && (rc = tally_entered_load(r, txn, &et)) == 0)
    rc = tally_report_build(r->cat, txn, &et.base, &p, scope, &filter,
                            r->arena, &rep);
  if (rc == 0 && tally_lock_find(r, txn, &p, &rep->lock) != 0)
    rep->lock = NULL; /* the report stands without its approval line */
  if (rc == 0)
    rc = count_approved(r, txn, &p, scope, rep);
  /* As approved: the approvals of then say which are approved, and how
   * many (units_approved again). */
  if (rc == 0 && q->as_approved)
    rc = tally_approved_list(r->cat, txn, &p, scope, q->at_unix, r->arena,
                             rep);
  tally_store_txn_end(txn);
  if (rc != 0)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the report could not be built (%s)",
                                tally_strerror(rc));
  if ((reply = tally_reply_new(r, req->id)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_REPORT_REPLY;
  reply->report_reply = rep;
  return reply;
}

Tally__Envelope *tally_handle_explain(tally_request *r,
                                       const Tally__Envelope *req) {
  const Tally__ExplainRequest *q = req->explain;
  Tally__Envelope *reply = NULL;
  Tally__ExplainReply *rep;
  tally_period p;
  int scope = r->cat->root, ind;
  tally_entered et;

  if ((ind = tally_reply_want_indicator(r, req->id, q->indicator,
                                           &reply)) < 0)
    return reply;
  if (tally_reply_want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  if (*q->unit && (scope = tally_reply_want_unit(r, req->id, q->unit, &reply)) < 0)
    return reply;
  tally_store_txn *txn = NULL;
  int rc = tally_store_read_begin(r->store, &txn);
  if (rc == 0 && (rc = tally_entered_load(r, txn, &et)) == 0)
    rc = tally_report_explain(r->cat, txn, &et.base, &p, scope, ind,
                              r->arena, &rep);
  tally_store_txn_end(txn);
  if (rc != 0)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the explanation could not be built (%s)",
                                tally_strerror(rc));
  if ((reply = tally_reply_new(r, req->id)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_EXPLAIN_REPLY;
  reply->explain_reply = rep;
  return reply;
}

/* Each unit's timeliness: its first report against the period's due
 * date (the catalog's deadlines), or its review. */
static int timeliness(tally_request *r, tally_store_txn *txn,
                      const tally_period *p, Tally__CompletenessReply *rep) {
  const tally_catalog *cat = r->cat;
  uint32_t key = tally_period_key(p);
  long due = tally_period_due_day(p, cat->deadlines.year_month,
                                  cat->deadlines.year_day,
                                  cat->deadlines.quarter_days,
                                  cat->deadlines.month_day);
  char day[16];
  ProtobufCAllocator alloc = tally_reply_pb_arena(r->arena);
  tally_period_day_text(due, day, sizeof day);
  if ((rep->due = tally_arena_strdup(r->arena, day)) == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < rep->n_units; i++) {
    Tally__UnitCompleteness *u = rep->units[i];
    uint64_t revision = 0;
    int rc;
    if ((rc = tally_store_txn_revision(txn, key, u->unit, &revision)) != 0 ||
        (rc = tally_review_get(txn, key, u->unit, &alloc, &u->review)) != 0)
      return rc;
    if (revision && (rc = tally_store_txn_change_time(txn, key, u->unit, 1,
                                                      &u->first_unix)) != 0)
      return rc;
    long first = (long)(u->first_unix / 86400);
    if (revision && first > due)
      u->days_late = (int32_t)(first - due);
    if (u->review && u->review->state == TALLY__REVIEW_STATE__REVIEW_APPROVED)
      u->timeliness = "approved", rep->approved++;
    else if (u->review &&
             u->review->state == TALLY__REVIEW_STATE__REVIEW_RETURNED)
      u->timeliness = "returned";
    else if (revision == 0)
      u->timeliness = "not reported";
    else if (first > due)
      u->timeliness = "late";
    else
      u->timeliness = "on time";
  }
  return 0;
}

Tally__Envelope *tally_handle_completeness(tally_request *r,
                                            const Tally__Envelope *req) {
  const Tally__CompletenessRequest *q = req->completeness;
  Tally__Envelope *reply = NULL;
  Tally__CompletenessReply *rep;
  tally_period p;
  int scope = r->cat->root;

  if (tally_reply_want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  if (*q->unit && (scope = tally_reply_want_unit(r, req->id, q->unit, &reply)) < 0)
    return reply;
  tally_store_txn *txn = NULL;
  int rc = tally_store_read_begin(r->store, &txn);
  if (rc == 0)
    rc = tally_report_completeness(r->cat, txn, &p, scope, q->counts_only,
                                   r->arena, &rep);
  if (rc == 0)
    rc = timeliness(r, txn, &p, rep);
  tally_store_txn_end(txn);
  if (rc != 0)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "completeness could not be read (%s)",
                                tally_strerror(rc));
  if ((reply = tally_reply_new(r, req->id)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_COMPLETENESS_REPLY;
  reply->completeness_reply = rep;
  return reply;
}

/* A check reads every unit's figures of two periods. One unit's (what
 * tally submit asks after each submission) is read on the loop: in a
 * worker it cost submissions a quarter of their rate at 64 connections
 * when they too waited in the pool (they no longer do). A check of more units than
 * CHECK_INLINE_UNITS is read in a worker, so that a district of many
 * units does not hold the loop. */
#define CHECK_INLINE_UNITS 64
struct check_job {
  tally_job job;       /* first: the job is its tally_job */
  const tally_catalog *cat;
  tally_store *store;
  uint64_t id;
  tally_period period;
  int scope, own;
  int rc;
  tally_arena arena;   /* the reply, built where the job runs */
  Tally__CheckReply *rep;
};

static void check_run(tally_job *a) {
  struct check_job *j = (struct check_job *)a;
  j->rc = tally_flags_of_period(j->cat, j->store, &j->period, j->scope,
                                j->own, &j->arena, &j->rep);
}

/* The reply points into the job's arena, freed after it is sent. */
static Tally__Envelope *check_finish(tally_job *a, tally_request *r) {
  struct check_job *j = (struct check_job *)a;
  if (j->rc == 0 && j->rep == NULL)
    j->rc = TALLY_ESTORE; /* never ran */
  if (j->rc == -ENOMEM)
    return NULL;
  if (j->rc != 0)
    return tally_reply_error(r, j->id, TALLY__ERROR_CODE__ERROR_STORE,
                             "the figures could not be read (%s)",
                             tally_strerror(j->rc));
  Tally__Envelope *reply = tally_reply_new(r, j->id);
  if (reply == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_CHECK_REPLY;
  reply->check_reply = j->rep;
  return reply;
}

static void check_free(tally_job *a) {
  struct check_job *j = (struct check_job *)a;
  tally_arena_free(&j->arena);
  free(j);
}

Tally__Envelope *tally_handle_check(tally_request *r,
                                    const Tally__Envelope *req) {
  const Tally__CheckRequest *q = req->check;
  Tally__Envelope *reply = NULL;
  tally_period p;
  int scope = r->cat->root;

  if (tally_reply_want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  if (tally_period_start_day(&p) > (long)(time(NULL) / 86400))
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_PERIOD,
                             "period %s has not begun yet", q->period);
  if (*q->unit &&
      (scope = tally_reply_want_unit(r, req->id, q->unit, &reply)) < 0)
    return reply;
  struct check_job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return NULL;
  j->job.run = check_run;
  j->job.finish = check_finish;
  j->job.free = check_free;
  j->cat = r->cat;
  j->store = r->store;
  j->id = req->id;
  j->period = p;
  j->scope = scope;
  /* A reporter checks its own unit's figures (the district office's: not
   * those of the units below it); a district's at the city, those of
   * the units within it. */
  j->own = r->account->role == TALLY__ROLE__ROLE_REPORTER &&
           !tally_account_is_district(r->account, r->cat);
  if (j->own || r->cat->units[scope].leaves <= CHECK_INLINE_UNITS) {
    check_run(&j->job); /* here, on the loop */
    r->job = &j->job;   /* freed with the request, after its reply */
    return check_finish(&j->job, r);
  }
  return tally_job_run(r, &j->job);
}

Tally__Envelope *tally_handle_catalog(tally_request *r,
                                       const Tally__Envelope *req) {
  Tally__CatalogReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  Tally__Envelope *reply = tally_reply_new(r, req->id);
  if (rep == NULL || reply == NULL)
    return NULL;
  tally__catalog_reply__init(rep);
  rep->origin = r->cat->origin;
  rep->fingerprint = r->cat->text_fingerprint;
  /* The text is the catalog's, which outlives the reply. */
  if (req->catalog->known_fingerprint == rep->fingerprint) {
    rep->unchanged = 1;
  } else {
    rep->json.len = r->cat->text_len;
    rep->json.data = (uint8_t *)r->cat->text;
  }
  reply->body_case = TALLY__ENVELOPE__BODY_CATALOG_REPLY;
  reply->catalog_reply = rep;
  return reply;
}

