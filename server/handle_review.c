/* handle_review.c: the central office's review of a unit's report (审核).
 *
 * A report is submitted (上报); an analyst returns it for correction (退回)
 * with a reason, or approves it; a returned report submitted again is
 * "resubmitted"; an approved one takes no submission until an analyst
 * reopens it, with a reason. Each change is a write (the writer thread),
 * checked there against the state it finds, with an audit entry. An
 * approval is refused while the figures break an error rule. The queue
 * (review list) and a unit's own periods (status) are read in one
 * snapshot.
 */
#include "handlers.h"

#include "error.h"
#include "flags.h"
#include "log.h"
#include "reply.h"
#include "review.h"
#include "rows.h"
#include "rule.h"
#include "store_audit.h"
#include "store_figures.h"
#include "utf8.h"
#include "validate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct found {
  ProtobufCAllocator *alloc;
  Tally__Review *rv;
};

static int take_review(void *arg, const char *unit, const void *packed,
                       size_t len) {
  struct found *f = arg;
  f->rv = tally__review__unpack(f->alloc, len, packed);
  return 0;
}

int tally_review_get(tally_store_txn *t, uint32_t period_key, const char *unit,
                     ProtobufCAllocator *alloc, Tally__Review **out) {
  struct found f = {alloc, NULL};
  int rc = tally_store_txn_reviews(t, period_key, unit, take_review, &f);
  *out = f.rv;
  return rc;
}

/* ---- approve, return, reopen: a write ---- */

enum action { APPROVE, RETURN, REOPEN };

struct review_job {
  tally_job job;            /* first: the job is its tally_job */
  const tally_catalog *cat;
  uint64_t id;
  int unit;
  tally_period p;
  uint32_t period_key;
  enum action action;
  uint64_t revision;        /* an approval's: the one reviewed */
  char reason[TALLY_UTF8_TEXT_MAX + 1];
  char period[TALLY_PERIOD_STRLEN];
  tally_store_actor who;
  char name[TALLY_ACCOUNT_NAME_MAX + 1];
  char peer[64];
  /* What the write found and did, for the reply. */
  char why[TALLY_REVIEW_TEXT_MAX + 200]; /* a refusal's reason */
  size_t errors;            /* error rules broken, on an approval */
  char before[TALLY_REVIEW_TEXT_MAX], after[TALLY_REVIEW_TEXT_MAX];
  Tally__Review done;
};

/* Counts the error rules the unit's figures break in t, and whether it
 * holds any figure at all. */
static int count_errors(struct review_job *j, tally_store_txn *t,
                        size_t *errors, int *empty) {
  tally_violation *broken = calloc(j->cat->n_rules + 1, sizeof *broken);
  tally_rows rows;
  size_t n;
  if (broken == NULL)
    return -ENOMEM;
  tally_rows_init(&rows, j->cat, t);
  const double *value;
  const unsigned char *has;
  int rc = tally_rows_read(&rows, j->unit, &j->p, &value, &has);
  *empty = 1;
  for (size_t e = 0; rc == 0 && e < j->cat->n_elements; e++)
    *empty &= !has[e];
  if (rc == 0)
    rc = tally_validate(j->cat, &rows, j->unit, &j->p, NULL, broken, &n);
  tally_rows_free(&rows);
  *errors = 0;
  for (size_t i = 0; rc == 0 && i < n; i++)
    *errors += !j->cat->rules[broken[i].rule].warning;
  free(broken);
  return rc;
}

/* On the writer thread: the change, if the state it finds allows it. */
static int review_apply(tally_write *w, tally_store_txn *t) {
  struct review_job *j = (struct review_job *)tally_job_of(w);
  const char *unit = j->cat->units[j->unit].code;
  Tally__Review *cur = NULL;
  uint64_t revision = 0;
  int rc;

  j->why[0] = 0;
  if ((rc = tally_store_txn_revision(t, j->period_key, unit, &revision)) != 0 ||
      (rc = tally_review_get(t, j->period_key, unit, NULL, &cur)) != 0)
    goto out;
  int state = cur ? (int)cur->state : TALLY__REVIEW_STATE__REVIEW_NONE;
  tally_review_text(cur, j->before, sizeof j->before);
  if (revision == 0)
    snprintf(j->why, sizeof j->why, "%s has reported nothing for %s",
             unit, j->period);
  else if (j->action == APPROVE && state == TALLY__REVIEW_STATE__REVIEW_APPROVED)
    snprintf(j->why, sizeof j->why, "%s %s is approved already (%s)", unit,
             j->period, j->before);
  else if (j->action == APPROVE && revision != j->revision)
    snprintf(j->why, sizeof j->why, "%s %s is at revision %llu, not %llu, "
             "the one reviewed: look at its figures again (tally values, "
             "tally review list) before approving them", unit, j->period,
             (unsigned long long)revision, (unsigned long long)j->revision);
  else if (j->action == RETURN && state == TALLY__REVIEW_STATE__REVIEW_APPROVED)
    snprintf(j->why, sizeof j->why, "%s %s is approved (%s): reopen it "
             "first, with a reason", unit, j->period, j->before);
  else if (j->action == RETURN && state == TALLY__REVIEW_STATE__REVIEW_RETURNED)
    snprintf(j->why, sizeof j->why, "%s %s is returned already (%s)", unit,
             j->period, j->before);
  else if (j->action == REOPEN && state != TALLY__REVIEW_STATE__REVIEW_APPROVED)
    snprintf(j->why, sizeof j->why, "%s %s is not approved (%s): there is "
             "nothing to reopen", unit, j->period, j->before);
  if (j->why[0]) {
    rc = TALLY_EREVIEW;
    goto out;
  }
  if (j->action == APPROVE) {
    int empty;
    if ((rc = count_errors(j, t, &j->errors, &empty)) != 0)
      goto out;
    if (empty) {
      snprintf(j->why, sizeof j->why, "%s %s holds no figures (it was "
               "withdrawn): there is nothing to approve", unit, j->period);
      rc = TALLY_EREVIEW;
      goto out;
    }
    if (j->errors) {
      snprintf(j->why, sizeof j->why, "the figures of %s for %s break %zu "
               "error rule%s (tally validate --period %s --unit %s): return "
               "the report for correction instead", unit, j->period,
               j->errors, j->errors == 1 ? "" : "s", j->period, unit);
      rc = TALLY_EREVIEW;
      goto out;
    }
  }
  tally__review__init(&j->done);
  j->done.state = j->action == APPROVE  ? TALLY__REVIEW_STATE__REVIEW_APPROVED
                  : j->action == RETURN ? TALLY__REVIEW_STATE__REVIEW_RETURNED
                                        : TALLY__REVIEW_STATE__REVIEW_REOPENED;
  j->done.time_unix = j->who.now;
  j->done.account_id = j->who.account_id;
  j->done.account_name = j->name;
  j->done.reason = j->reason;
  j->done.revision = revision;
  tally_review_text(&j->done, j->after, sizeof j->after);
  size_t len = tally__review__get_packed_size(&j->done);
  uint8_t *packed = malloc(len + 1);
  if (packed == NULL) {
    rc = -ENOMEM;
    goto out;
  }
  tally__review__pack(&j->done, packed);
  rc = tally_store_txn_review_put(t, j->period_key, unit, packed, len,
                                  j->before, j->after, &j->who);
  free(packed);
  /* The report as approved now, its figures and explanations: what an
   * as-approved report reads and tally forward sends, whatever is
   * corrected later. */
  if (rc == 0 && j->action == APPROVE)
    rc = tally_store_txn_approval_keep(t, j->period_key, unit, j->who.now,
                                       j->who.account_id, j->name, revision);
out:
  if (cur)
    tally__review__free_unpacked(cur, NULL);
  return rc;
}

static Tally__Envelope *review_finish(tally_job *a, tally_request *r) {
  struct review_job *j = (struct review_job *)a;
  const char *unit = j->cat->units[j->unit].code;
  switch (j->job.write.code) {
  case 0:
    break;
  case TALLY_EREVIEW:
    return tally_reply_error(r, j->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "%s; nothing was changed", j->why);
  default:
    return tally_reply_error(r, j->id, TALLY__ERROR_CODE__ERROR_STORE,
                             "the store could not write (%s); nothing was "
                             "changed", tally_strerror(j->job.write.code));
  }
  tally_log("review: %s %s %s by account %llu from %s", unit, j->period,
            j->after, (unsigned long long)j->who.account_id, j->peer);
  Tally__ReviewReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  Tally__Review *rv = tally_arena_alloc(r->arena, sizeof *rv);
  Tally__Envelope *reply = tally_reply_new(r, j->id);
  if (rep == NULL || rv == NULL || reply == NULL)
    return NULL;
  tally__review_reply__init(rep);
  *rv = j->done;
  rv->account_name = tally_arena_strdup(r->arena, j->name);
  rv->reason = tally_arena_strdup(r->arena, j->reason);
  rep->review = rv;
  rep->before = tally_arena_strdup(r->arena, j->before);
  if (!rv->account_name || !rv->reason || !rep->before)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_REVIEW_REPLY;
  reply->review_reply = rep;
  return reply;
}

static void review_free(tally_job *a) { free(a); }

Tally__Envelope *tally_handle_review(tally_request *r,
                                      const Tally__Envelope *req) {
  const Tally__ReviewRequest *q = req->review;
  Tally__Envelope *reply = NULL;
  tally_period p;
  int unit;
  enum action action;

  if ((unit = tally_reply_want_unit(r, req->id, q->unit, &reply)) < 0 ||
      tally_reply_want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  if (strcmp(q->action, "approve") == 0)
    action = APPROVE;
  else if (strcmp(q->action, "return") == 0)
    action = RETURN;
  else if (strcmp(q->action, "reopen") == 0)
    action = REOPEN;
  else
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "a review is approve, return or reopen");
  if (!r->cat->units[unit].is_leaf && unit != r->cat->root)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "%s is not a reporting unit: review the units "
                             "under it", q->unit);
  if (action == APPROVE && q->revision == 0)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "an approval names the revision of the figures "
                             "reviewed (--revision N; tally review list "
                             "shows it)");
  if (action != APPROVE &&
      (!*q->reason || !tally_reply_showable(q->reason, TALLY_UTF8_TEXT_MAX)))
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "a %s needs a reason the office reads (--reason, "
                             "1-%d bytes of text)",
                             action == RETURN ? "return" : "reopening",
                             TALLY_UTF8_TEXT_MAX);
  if (*q->reason && !tally_reply_showable(q->reason, TALLY_UTF8_TEXT_MAX))
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "the reason is 1-%d bytes of text",
                             TALLY_UTF8_TEXT_MAX);
  struct review_job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return NULL;
  j->job.finish = review_finish;
  j->job.free = review_free;
  j->job.write.apply = review_apply;
  j->cat = r->cat;
  j->id = req->id;
  j->unit = unit;
  j->p = p;
  j->period_key = tally_period_key(&p);
  j->action = action;
  j->revision = q->revision;
  snprintf(j->reason, sizeof j->reason, "%s", q->reason);
  tally_period_format(&p, j->period);
  snprintf(j->peer, sizeof j->peer, "%s", r->peer);
  tally_request_actor(r, (int64_t)time(NULL), &j->who, j->name);
  j->who.peer = j->peer; /* the request's goes before the write */
  return tally_job_write(r, &j->job);
}

/* ---- the queue, and a unit's own periods: reads ---- */

struct row_ctx {
  tally_request *r;
  tally_store_txn *txn;
  tally_rows rows;
  tally_violation *broken;
  ProtobufCAllocator alloc;
};

/* One unit's row for period p: its revision, last change, review, and
 * what its figures break. NULL when out of memory or the store failed
 * (*err). */
static Tally__ReviewRow *make_row(struct row_ctx *c, int unit,
                                  const tally_period *p, int *err) {
  const tally_catalog *cat = c->r->cat;
  const char *code = cat->units[unit].code;
  uint32_t key = tally_period_key(p);
  char period[TALLY_PERIOD_STRLEN];
  size_t n = 0;
  Tally__ReviewRow *row = tally_arena_alloc(c->r->arena, sizeof *row);
  if (row == NULL)
    return *err = -ENOMEM, NULL;
  tally__review_row__init(row);
  row->unit = cat->units[unit].code;
  row->period = tally_arena_strdup(c->r->arena, tally_period_format(p, period));
  if ((*err = tally_store_txn_revision(c->txn, key, code, &row->revision)) ||
      (*err = tally_review_get(c->txn, key, code, &c->alloc, &row->review)))
    return NULL;
  if (row->revision &&
      (*err = tally_store_txn_change_time(c->txn, key, code, row->revision,
                                          &row->submitted_unix)) != 0)
    return NULL;
  char due[16];
  tally_period_day_text(
      tally_period_due_day(p, cat->deadlines.year_month,
                           cat->deadlines.year_day,
                           cat->deadlines.quarter_days,
                           cat->deadlines.month_day),
      due, sizeof due);
  if ((row->due = tally_arena_strdup(c->r->arena, due)) == NULL)
    return *err = -ENOMEM, NULL;
  tally_rows_reset(&c->rows);
  if ((*err = tally_validate(cat, &c->rows, unit, p, NULL, c->broken, &n)))
    return NULL;
  row->warnings = tally_arena_alloc(c->r->arena, (n + 1) * sizeof *row->warnings);
  if (row->warnings == NULL)
    return *err = -ENOMEM, NULL;
  for (size_t i = 0; i < n; i++) {
    const tally_rule *rule = &cat->rules[c->broken[i].rule];
    if (!rule->warning) {
      row->errors++;
      continue;
    }
    Tally__Violation *v =
        tally_violation_message(cat, &c->broken[i], unit, c->r->arena);
    const char *kept;
    if (v == NULL)
      return *err = -ENOMEM, NULL;
    if ((*err = tally_validate_explained(c->txn, key, code, cat, &c->broken[i],
                                         c->r->arena, &kept)) != 0)
      return NULL;
    v->explanation = kept ? (char *)kept : "";
    row->warnings[row->n_warnings++] = v;
  }
  return row;
}

/* Begins the reads: a snapshot, a reader, room for what the rules find. */
static int rows_begin(struct row_ctx *c, tally_request *r) {
  memset(c, 0, sizeof *c);
  c->r = r;
  c->alloc = tally_reply_pb_arena(r->arena);
  if ((c->broken = calloc(r->cat->n_rules + 1, sizeof *c->broken)) == NULL)
    return -ENOMEM;
  int rc = tally_store_read_begin(r->store, &c->txn);
  tally_rows_init(&c->rows, r->cat, c->txn);
  return rc;
}

static void rows_end(struct row_ctx *c) {
  tally_rows_free(&c->rows);
  tally_store_txn_end(c->txn);
  free(c->broken);
}

Tally__Envelope *tally_handle_review_list(tally_request *r,
                                           const Tally__Envelope *req) {
  const tally_catalog *cat = r->cat;
  Tally__Envelope *reply = NULL;
  tally_period p;
  char period[TALLY_PERIOD_STRLEN];
  struct row_ctx c;
  int rc;

  if (tally_reply_want_period(r, req->id, req->review_list->period, &p,
                              &reply) != 0)
    return reply;
  Tally__ReviewListReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  if (rep == NULL)
    return NULL;
  tally__review_list_reply__init(rep);
  rep->rows = tally_arena_alloc(r->arena, (cat->n_units + 1) * sizeof *rep->rows);
  if (rep->rows == NULL)
    return NULL;
  rep->period = tally_arena_strdup(r->arena, tally_period_format(&p, period));
  rc = rows_begin(&c, r);
  for (size_t u = 0; rc == 0 && u < cat->n_units; u++) {
    if (!cat->units[u].is_leaf && (int)u != cat->root)
      continue;
    Tally__ReviewRow *row = make_row(&c, (int)u, &p, &rc);
    if (row)
      rep->rows[rep->n_rows++] = row;
  }
  rows_end(&c);
  /* Figures that moved sharply, each with its unit's row. */
  Tally__CheckReply *moved = NULL;
  if (rc == 0)
    rc = tally_flags_of_period(cat, r->store, &p, cat->root, 0, r->arena,
                               &moved);
  for (size_t i = 0; rc == 0 && i < rep->n_rows; i++) {
    Tally__ReviewRow *row = rep->rows[i];
    for (size_t k = 0; k < moved->n_flags; k++) {
      if (strcmp(moved->flags[k]->unit, row->unit) != 0)
        continue;
      if (row->moved == NULL &&
          (row->moved = tally_arena_alloc(
               r->arena, moved->n_flags * sizeof *row->moved)) == NULL) {
        rc = -ENOMEM;
        break;
      }
      row->moved[row->n_moved++] = moved->flags[k];
    }
  }
  if (rc != 0)
    return tally_reply_read_failed(r, req->id, rc);
  if ((reply = tally_reply_new(r, req->id)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_REVIEW_LIST_REPLY;
  reply->review_list_reply = rep;
  return reply;
}

struct periods {
  uint32_t *keys;
  size_t n, cap;
};

static int take_period(void *arg, uint32_t period_key, uint64_t revision) {
  struct periods *ps = arg;
  if (revision == 0)
    return 0;
  if (ps->n == ps->cap) {
    size_t cap = ps->cap ? ps->cap * 2 : 16;
    uint32_t *grown = realloc(ps->keys, cap * sizeof *grown);
    if (grown == NULL)
      return -ENOMEM;
    ps->keys = grown;
    ps->cap = cap;
  }
  ps->keys[ps->n++] = period_key;
  return 0;
}

#define STATUS_PERIODS_MAX 64 /* asked for by name in one request */

/* Whether key is among the n keys. */
static int has_key(const uint32_t *keys, size_t n, uint32_t key) {
  for (size_t i = 0; i < n; i++)
    if (keys[i] == key)
      return 1;
  return 0;
}

Tally__Envelope *tally_handle_status(tally_request *r,
                                      const Tally__Envelope *req) {
  const Tally__StatusRequest *q = req->status;
  Tally__Envelope *reply = NULL;
  struct periods ps = {NULL, 0, 0};
  struct row_ctx c;
  int unit, rc;
  tally_period asked[STATUS_PERIODS_MAX];

  if ((unit = tally_reply_want_unit(r, req->id, q->unit, &reply)) < 0)
    return reply;
  if (q->n_periods > STATUS_PERIODS_MAX)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "at most %d periods in one status request, not "
                             "%zu", STATUS_PERIODS_MAX, q->n_periods);
  for (size_t i = 0; i < q->n_periods; i++)
    if (tally_reply_want_period(r, req->id, q->periods[i], &asked[i],
                                &reply) != 0)
      return reply;
  Tally__StatusReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  if (rep == NULL)
    return NULL;
  tally__status_reply__init(rep);
  rc = rows_begin(&c, r);
  if (rc == 0)
    rc = tally_store_txn_unit_periods(c.txn, r->cat->units[unit].code,
                                      take_period, &ps);
  if (rc == 0 && ps.n + q->n_periods &&
      (rep->rows = tally_arena_alloc(
           r->arena, (ps.n + q->n_periods) * sizeof *rep->rows)) == NULL)
    rc = -ENOMEM;
  for (size_t i = ps.n; rc == 0 && i-- > 0;) { /* newest first */
    tally_period p;
    if (tally_period_from_key(ps.keys[i], &p) != 0)
      continue;
    Tally__ReviewRow *row = make_row(&c, unit, &p, &rc);
    if (row)
      rep->rows[rep->n_rows++] = row;
  }
  /* Then each period asked for that has no report, once. */
  for (size_t i = 0; rc == 0 && i < q->n_periods; i++) {
    uint32_t key = tally_period_key(&asked[i]);
    int again = 0;
    for (size_t k = 0; k < i; k++)
      again |= tally_period_key(&asked[k]) == key;
    if (again || has_key(ps.keys, ps.n, key))
      continue;
    Tally__ReviewRow *row = make_row(&c, unit, &asked[i], &rc);
    if (row)
      rep->rows[rep->n_rows++] = row;
  }
  rows_end(&c);
  free(ps.keys);
  if (rc != 0)
    return tally_reply_read_failed(r, req->id, rc);
  if ((reply = tally_reply_new(r, req->id)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_STATUS_REPLY;
  reply->status_reply = rep;
  return reply;
}
