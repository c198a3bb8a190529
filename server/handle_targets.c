/* handle_targets.c: targets the city assigns, entered on the server,
 * and the list of every target with where it came from.
 *
 * A target set is written by the writer thread with its audit entry
 * (before and after in words) in the same transaction.
 */
#include "handlers.h"

#include "error.h"
#include "indicator.h"
#include "log.h"
#include "reply.h"
#include "utf8.h"
#include "store_audit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const tally_target *tally_entered_find(const tally_report_targets *base,
                                      int ind, int year) {
  const tally_entered *et = (const tally_entered *)base;
  for (size_t i = 0; i < et->n; i++)
    if (et->list[i].ind == ind && et->list[i].t.year == year)
      return &et->list[i].t;
  return NULL;
}

/* Store visitor: one entered target into the list. */
static int collect_target(void *arg, const void *packed, size_t len) {
  tally_entered *et = arg;
  tally_arena *a = et->r->arena;
  ProtobufCAllocator alloc = tally_reply_pb_arena(a);
  Tally__Target *rec = tally__target__unpack(&alloc, len, packed);
  if (rec == NULL)
    return 0;
  int ind = tally_catalog_indicator(et->r->cat, rec->indicator);
  tally_op op;
  if (ind < 0 || tally_op_parse(rec->op, &op) != 0)
    return 0; /* an indicator no longer in the catalog */
  if (tally_arena_reserve(a, &et->list, et->n, &et->cap, sizeof *et->list) !=
      0)
    return -ENOMEM;
  struct tally_entered_target *e = &et->list[et->n++];
  memset(e, 0, sizeof *e);
  e->ind = ind;
  e->record = rec;
  e->t.year = rec->year;
  e->t.op = op;
  e->t.value = rec->value;
  e->t.tolerance = rec->tolerance;
  e->t.text = *rec->text ? rec->text : NULL;
  return 0;
}

int tally_entered_load(tally_request *r, tally_store_txn *txn,
                       tally_entered *et) {
  memset(et, 0, sizeof *et);
  et->base.find = tally_entered_find;
  et->r = r;
  return txn ? tally_store_txn_targets(txn, collect_target, et)
             : tally_store_targets(r->store, collect_target, et);
}

/* The catalog target of ind for year that the city assigns, or NULL. */
static const tally_target *assigned_target(const tally_catalog *cat, int ind,
                                           int year) {
  const tally_indicator *in = &cat->indicators[ind];
  for (size_t i = 0; i < in->n_targets; i++)
    if (in->targets[i].year == year && in->targets[i].op == TALLY_OP_ASSIGNED)
      return &in->targets[i];
  return NULL;
}

/* Appends ": text" to a target in words, when it has a wording. */
static void add_wording(char *buf, size_t n, const char *text) {
  size_t used = strlen(buf);
  if (text && *text && used < n)
    snprintf(buf + used, n - used, ": %s", text);
}

/* A target on its way to the store; it lives in the request's arena,
 * as does the request it came in. */
struct target_job {
  tally_job job;            /* first: the job is its tally_job */
  const char *indicator;    /* the catalog's code */
  int year;
  uint8_t *packed;          /* the Target record */
  size_t len;
  int replaced;             /* a target entered before was replaced */
  char before[512], after[512]; /* in words, for the audit trail */
  tally_store_actor who;
  /* who's name, copied: the registry's records may move (a put) before
   * the writer thread reads it */
  char name[TALLY_ACCOUNT_NAME_MAX + 1];
};

static int target_apply(tally_write *w, tally_store_txn *t) {
  struct target_job *j = (struct target_job *)tally_job_of(w);
  return tally_store_txn_target_put(t, j->indicator, j->year, j->packed,
                                    j->len, &j->replaced, j->before, j->after,
                                    &j->who);
}

static Tally__Envelope *target_finish(tally_job *job, tally_request *r) {
  struct target_job *j = (struct target_job *)job;
  const Tally__Envelope *req = r->req;
  int rc = j->job.write.code;
  if (rc != 0)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                             "the target could not be stored (%s)",
                             tally_strerror(rc));
  ProtobufCAllocator alloc = tally_reply_pb_arena(r->arena);
  Tally__Target *rec = tally__target__unpack(&alloc, j->len, j->packed);
  Tally__TargetSetReply *ok = tally_arena_alloc(r->arena, sizeof *ok);
  Tally__Envelope *reply = tally_reply_new(r, req->id);
  if (rec == NULL || ok == NULL || reply == NULL)
    return NULL;
  tally_log("target set: %s %d %s %g by account %llu from %s", rec->indicator,
            rec->year, rec->op, rec->value,
            (unsigned long long)rec->account_id, r->peer);
  tally__target_set_reply__init(ok);
  ok->target = rec;
  ok->replaced = j->replaced;
  reply->body_case = TALLY__ENVELOPE__BODY_TARGET_SET_REPLY;
  reply->target_set_reply = ok;
  return reply;
}

Tally__Envelope *tally_handle_target_set(tally_request *r,
                                          const Tally__Envelope *req) {
  Tally__Target *t = req->target_set->target;
  Tally__Envelope *refused = NULL;
  tally_op op;
  int ind;

  if (t == NULL)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "no target given");
  if ((ind = tally_reply_want_indicator(r, req->id, t->indicator,
                                           &refused)) < 0)
    return refused;
  if (assigned_target(r->cat, ind, t->year) == NULL)
    return tally_reply_error(
        r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
        "%s has no target for %d that the city assigns: its targets come "
        "from the plan (see 'tally target list')",
        t->indicator, t->year);
  /* The three about ops, and only they, take a tolerance. */
  if (tally_op_parse(t->op, &op) != 0 || op > TALLY_OP_ABOUT_GE ||
      !isfinite(t->value) || !isfinite(t->tolerance) || t->tolerance < 0 ||
      (op >= TALLY_OP_ABOUT) != (t->tolerance > 0))
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_VALUE,
                                "a target is >=, >, <=, <, about, about<= or "
                                "about>= with a finite value (and a "
                                "tolerance for the three about)");
  if (!tally_reply_showable(t->text, TALLY_UTF8_TEXT_MAX))
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_VALUE,
                             "the target's text is at most %d bytes of UTF-8 "
                             "without control characters",
                             TALLY_UTF8_TEXT_MAX);

  struct target_job *j = tally_arena_alloc(r->arena, sizeof *j);
  if (j == NULL)
    return NULL;
  memset(j, 0, sizeof *j);
  Tally__Target rec = *t;
  rec.indicator = r->cat->indicators[ind].code;
  rec.set_unix = (int64_t)time(NULL);
  rec.set_by = (char *)r->peer;
  rec.account_id = r->account->id;
  rec.account_name = (char *)r->account->name;
  j->len = tally__target__get_packed_size(&rec);
  if ((j->packed = tally_arena_alloc(r->arena, j->len + 1)) == NULL)
    return NULL;
  tally__target__pack(&rec, j->packed);

  /* Before and after in words, for the audit trail. */
  tally_entered et;
  char *before = j->before, *after = j->after;
  tally_target set;
  if (tally_entered_load(r, NULL, &et) == 0) {
    const tally_target *old = tally_entered_find(&et.base, ind, t->year);
    if (old) {
      tally_target_text(r->cat, ind, old, before, sizeof j->before);
      add_wording(before, sizeof j->before, old->text);
    }
  }
  if (*before == 0)
    snprintf(j->before, sizeof j->before, "none (assigned by the city)");
  memset(&set, 0, sizeof set);
  set.year = t->year;
  set.op = op;
  set.value = t->value;
  set.tolerance = t->tolerance;
  tally_target_text(r->cat, ind, &set, after, sizeof j->after);
  add_wording(after, sizeof j->after, t->text);
  j->indicator = rec.indicator;
  j->year = rec.year;
  tally_request_actor(r, rec.set_unix, &j->who, j->name);
  j->job.write.apply = target_apply;
  j->job.finish = target_finish;
  return tally_job_write(r, &j->job);
}

Tally__Envelope *tally_handle_target_list(tally_request *r,
                                           const Tally__Envelope *req) {
  const tally_catalog *cat = r->cat;
  tally_entered et;
  Tally__TargetListReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  Tally__Envelope *reply = tally_reply_new(r, req->id);
  size_t total = 0;
  int rc;

  if (rep == NULL || reply == NULL)
    return NULL;
  if ((rc = tally_entered_load(r, NULL, &et)) != 0)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the targets could not be read (%s)",
                                tally_strerror(rc));
  tally__target_list_reply__init(rep);
  for (size_t i = 0; i < cat->n_indicators; i++)
    total += cat->indicators[i].n_targets;
  rep->targets = tally_arena_alloc(r->arena, (total + 1) * sizeof *rep->targets);
  if (rep->targets == NULL)
    return NULL;
  for (size_t i = 0; i < cat->n_indicators; i++) {
    const tally_indicator *in = &cat->indicators[i];
    for (size_t k = 0; k < in->n_targets; k++) {
      const tally_target *t = &in->targets[k];
      Tally__TargetListEntry *e = tally_arena_alloc(r->arena, sizeof *e);
      char text[256], when[32];
      if (e == NULL)
        return NULL;
      tally__target_list_entry__init(e);
      e->indicator = in->code;
      e->year = t->year;
      e->assigned = t->op == TALLY_OP_ASSIGNED;
      const tally_target *set =
          e->assigned ? tally_entered_find(&et.base, (int)i, t->year) : NULL;
      tally_target_text(cat, (int)i, set ? set : t, text, sizeof text);
      e->target = tally_arena_strdup(r->arena, text);
      if (set) {
        const Tally__Target *rec = NULL;
        for (size_t j = 0; j < et.n; j++)
          if (&et.list[j].t == set)
            rec = et.list[j].record;
        time_t at = (time_t)(rec ? rec->set_unix : 0);
        struct tm tm;
        gmtime_r(&at, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
        e->entered = 1;
        e->source = tally_arena_printf(
            r->arena, "entered %s from %s%s%s", when, rec ? rec->set_by : "?",
            rec && *rec->text ? ": " : "", rec && *rec->text ? rec->text : "");
      } else {
        e->source = tally_arena_printf(r->arena, "catalog: %s",
                                       in->source ? in->source : "");
      }
      if (e->target == NULL || e->source == NULL)
        return NULL;
      rep->targets[rep->n_targets++] = e;
    }
  }
  reply->body_case = TALLY__ENVELOPE__BODY_TARGET_LIST_REPLY;
  reply->target_list_reply = rep;
  return reply;
}

