/* dispatch_locks.c: the handlers that lock and unlock periods.
 *
 * The central office locks a period once it has approved its figures.
 * A lock is a record per period in the store, which every submission's
 * transaction reads (server/store.c): a lock that committed before a
 * submission's transaction began refuses it, in whatever batch it is.
 * Locks are written by the writer thread, each with its audit entry.
 */
#include "handlers.h"

#include "reply.h"
#include "utf8.h"

#include "error.h"
#include "flags.h"
#include "kind.h"
#include "log.h"
#include "store_audit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct locks_ctx {
  tally_arena *arena;
  Tally__PeriodLock **locks; /* in the arena */
  size_t n, cap;
};

/* A lock record that does not decode still locks its period, and may
 * be unlocked: it is shown as such rather than failing every read. */
static Tally__PeriodLock *unreadable_lock(tally_arena *a, uint32_t key) {
  char text[TALLY_PERIOD_STRLEN];
  tally_period p;
  Tally__PeriodLock *l = tally_arena_alloc(a, sizeof *l);
  if (l == NULL)
    return NULL;
  tally__period_lock__init(l);
  l->period = tally_period_from_key(key, &p) == 0
                  ? tally_arena_strdup(a, tally_period_format(&p, text))
                  : "?";
  l->text = "the lock's record could not be read";
  tally_log("the lock record of period %s in the store does not decode",
            l->period ? l->period : "?");
  return l->period ? l : NULL;
}

static int collect_lock(void *arg, uint32_t key, const void *packed,
                        size_t len) {
  struct locks_ctx *lc = arg;
  ProtobufCAllocator alloc = tally_reply_pb_arena(lc->arena);
  Tally__PeriodLock *l = tally__period_lock__unpack(&alloc, len, packed);
  if (l == NULL && (l = unreadable_lock(lc->arena, key)) == NULL)
    return -ENOMEM;
  if (tally_arena_reserve(lc->arena, &lc->locks, lc->n, &lc->cap,
                          sizeof *lc->locks) != 0)
    return -ENOMEM;
  lc->locks[lc->n++] = l;
  return 0;
}

int tally_lock_find(tally_request *r, tally_store_txn *txn,
                    const tally_period *p, Tally__PeriodLock **out) {
  uint32_t key = tally_period_key(p);
  struct locks_ctx lc = {r->arena, NULL, 0, 0};
  int rc = txn ? tally_store_txn_locks(txn, &key, collect_lock, &lc)
               : tally_store_locks(r->store, &key, collect_lock, &lc);
  *out = rc == 0 && lc.n ? lc.locks[0] : NULL;
  return rc;
}

/* Whether p is locked (a read error counts as not). */
static int is_locked(tally_request *r, const tally_period *p) {
  Tally__PeriodLock *l;
  return tally_lock_find(r, NULL, p, &l) == 0 && l != NULL;
}

/* Periods as keys, at most MAX_READ, each once. */
#define MAX_READ 64
struct keys {
  uint32_t key[MAX_READ];
  int n;
};

static void add_key(struct keys *k, const tally_period *p) {
  uint32_t key = tally_period_key(p);
  for (int i = 0; i < k->n; i++)
    if (k->key[i] == key)
      return;
  if (k->n < MAX_READ)
    k->key[k->n++] = key;
}

static int by_key(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* The earlier periods p's report reads that are still open, in order:
 * the two before it (a change on the period before; a growth's own
 * period before), intensity reductions' base years, cumulative sums'
 * years. A correction to them changes p's indicators though p is
 * locked. Writes "2020, 2021" into buf; returns how many. */
static int open_before(tally_request *r, const tally_period *p, char *buf,
                       size_t n) {
  struct keys k = {.n = 0};
  tally_period q, read[MAX_READ], after;
  long starts = tally_period_start_day(p);
  /* What each indicator's kind reads (kind.c), of what ends before p. */
  for (size_t i = 0; i < r->cat->n_indicators; i++) {
    int m = tally_kind_report_reads(&r->cat->indicators[i], p, read, MAX_READ);
    for (int j = 0; j < m; j++)
      if (tally_period_next(&read[j], &after) == 0 &&
          tally_period_start_day(&after) <= starts)
        add_key(&k, &read[j]);
  }
  qsort(k.key, (size_t)k.n, sizeof k.key[0], by_key);
  int count = 0;
  buf[0] = 0;
  for (int i = 0; i < k.n; i++) {
    char text[TALLY_PERIOD_STRLEN];
    size_t used = strlen(buf);
    if (tally_period_from_key(k.key[i], &q) != 0 || is_locked(r, &q))
      continue;
    if (used + TALLY_PERIOD_STRLEN + 8 >= n) { /* a long span: say so */
      snprintf(buf + used, n - used, ", ...");
      break;
    }
    snprintf(buf + used, n - used, "%s%s", count++ ? ", " : "",
             tally_period_format(&q, text));
  }
  return count;
}

/* What a lock of p should be told of: the earlier periods its report
 * reads that are open, and figures flagged to check. "" when nothing. */
static const char *lock_note(tally_request *r, const tally_period *p) {
  char open[512], flagged[256] = "";
  int n_open = open_before(r, p, open, sizeof open);
  Tally__CheckReply *check = NULL;
  int rc = tally_flags_of_period(r->cat, r->store, p, r->cat->root, 0,
                                 r->arena, &check);
  if (rc != 0)
    snprintf(flagged, sizeof flagged, "the figures to check could not be "
             "read (%s)%s", tally_strerror(rc), n_open ? "; " : "");
  else if (check->n_flags > 0)
    snprintf(flagged, sizeof flagged,
             "%zu figure%s flagged to check against %s ('tally check "
             "--period %s'): the lock approves %s as %s%s",
             check->n_flags, check->n_flags == 1 ? " is" : "s are",
             check->base_period, check->period,
             check->n_flags == 1 ? "it" : "them",
             check->n_flags == 1 ? "it is" : "they are", n_open ? "; " : "");
  if (n_open == 0 && *flagged == 0)
    return "";
  if (n_open == 0)
    return tally_arena_strdup(r->arena, flagged);
  return tally_arena_printf(r->arena,
                            "%sits indicators also read %s, not locked: a "
                            "correction there still changes them (lock %s "
                            "too to keep the report as approved)",
                            flagged, open, n_open == 1 ? "it" : "them");
}

void tally_lock_text(const Tally__PeriodLock *l, char *buf, size_t n) {
  char when[32];
  if (l->locked_unix == 0) { /* an unreadable record */
    snprintf(buf, n, "locked: %s", l->text);
    return;
  }
  time_t t = (time_t)l->locked_unix;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
  snprintf(buf, n, "locked on %s by account %llu (%s)%s%s", when,
           (unsigned long long)l->account_id, l->account_name,
           *l->text ? ": " : "", l->text);
}

static Tally__Envelope *lock_reply(tally_request *r, uint64_t id,
                                   Tally__PeriodLock *lock, int changed,
                                   const char *note) {
  Tally__LockReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  Tally__Envelope *reply = tally_reply_new(r, id);
  if (rep == NULL || reply == NULL)
    return NULL;
  tally__lock_reply__init(rep);
  rep->lock = lock;
  rep->changed = changed;
  rep->note = (char *)(note ? note : "");
  reply->body_case = TALLY__ENVELOPE__BODY_LOCK_REPLY;
  reply->lock_reply = rep;
  return reply;
}

/* A lock or unlock on its way to the store, in the request's arena. */
struct lock_job {
  tally_job job;            /* first: the job is its tally_job */
  uint32_t key;             /* the period's */
  tally_period p;
  char period[TALLY_PERIOD_STRLEN];
  int unlock;
  Tally__PeriodLock *cur;   /* the lock an unlock lifts */
  Tally__PeriodLock rec;    /* the lock a lock puts */
  uint8_t *packed;          /* rec, packed; NULL for an unlock */
  size_t len;
  char before[512], after[512]; /* in words, for the audit trail */
  tally_store_actor who;
  /* who's name, copied: the registry's records may move (a put) before
   * the writer thread reads it */
  char name[TALLY_ACCOUNT_NAME_MAX + 1];
};

static int lock_apply(tally_write *w, tally_store_txn *t) {
  struct lock_job *j = (struct lock_job *)tally_job_of(w);
  return tally_store_txn_lock_put(t, j->key, j->packed, j->len, j->period,
                                  j->before, j->after, &j->who);
}

static Tally__Envelope *lock_finish(tally_job *job, tally_request *r) {
  struct lock_job *j = (struct lock_job *)job;
  uint64_t id = r->req->id;
  if (j->unlock && j->job.write.code == TALLY_ENOTFOUND)
    return lock_reply(r, id, NULL, 0, ""); /* unlocked meanwhile */
  if (j->job.write.code != 0)
    return tally_reply_error(r, id, TALLY__ERROR_CODE__ERROR_STORE,
                             "the lock could not be stored (%s); nothing "
                             "was changed",
                             tally_strerror(j->job.write.code));
  tally_log("period %s %s by account %llu from %s", j->period,
            j->unlock ? "unlocked" : "locked",
            (unsigned long long)j->who.account_id, r->peer);
  if (j->unlock)
    return lock_reply(r, id, j->cur, 1, "");
  return lock_reply(r, id, &j->rec, 1, lock_note(r, &j->p));
}

Tally__Envelope *tally_handle_lock(tally_request *r,
                                   const Tally__Envelope *req) {
  const Tally__LockRequest *q = req->lock;
  Tally__Envelope *reply = NULL;
  Tally__PeriodLock *cur;
  tally_period p;
  char period[TALLY_PERIOD_STRLEN];
  int rc;

  if (tally_reply_want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  if (!tally_reply_showable(q->text, TALLY_UTF8_TEXT_MAX))
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_VALUE,
                             "the text is at most %d bytes of UTF-8 without "
                             "control characters",
                             TALLY_UTF8_TEXT_MAX);
  tally_period_format(&p, period);
  tally_period next;
  int ended = tally_period_next(&p, &next) == 0 &&
              tally_period_start_day(&next) <= (long)(time(NULL) / 86400);
  if (!q->unlock && !ended)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_PERIOD,
                                "period %s has not ended yet: its figures are "
                                "not all in to approve",
                                period);
  if ((rc = tally_lock_find(r, NULL, &p, &cur)) == -ENOMEM)
    return NULL;
  if (rc != 0)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the locks could not be read (%s)",
                                tally_strerror(rc));
  if ((cur != NULL) != q->unlock) /* locked already, or open already */
    return lock_reply(r, req->id, cur, 0, q->unlock ? "" : lock_note(r, &p));

  struct lock_job *j = tally_arena_alloc(r->arena, sizeof *j);
  if (j == NULL)
    return NULL;
  memset(j, 0, sizeof *j);
  tally_request_actor(r, time(NULL), &j->who, j->name);
  j->key = tally_period_key(&p);
  j->p = p;
  j->cur = cur;
  j->unlock = q->unlock;
  snprintf(j->period, sizeof j->period, "%s", period);
  Tally__PeriodLock *rec = &j->rec;
  tally__period_lock__init(rec);
  if (q->unlock) {
    tally_lock_text(cur, j->before, sizeof j->before);
    snprintf(j->after, sizeof j->after, "open%s%s", *q->text ? ": " : "",
             q->text);
  } else {
    rec->period = j->period;
    rec->locked_unix = j->who.now;
    rec->account_id = r->account->id;
    rec->account_name = j->name;
    rec->text = q->text; /* the request lives until its reply is sent */
    j->len = tally__period_lock__get_packed_size(rec);
    if ((j->packed = tally_arena_alloc(r->arena, j->len + 1)) == NULL)
      return NULL;
    tally__period_lock__pack(rec, j->packed);
    snprintf(j->before, sizeof j->before, "open");
    tally_lock_text(rec, j->after, sizeof j->after);
  }
  j->job.write.apply = lock_apply;
  j->job.finish = lock_finish;
  return tally_job_write(r, &j->job);
}

Tally__Envelope *tally_handle_lock_list(tally_request *r,
                                        const Tally__Envelope *req) {
  struct locks_ctx lc = {r->arena, NULL, 0, 0};
  int rc = tally_store_locks(r->store, NULL, collect_lock, &lc);
  if (rc == -ENOMEM)
    return NULL;
  if (rc != 0)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "the locks could not be read (%s)",
                                tally_strerror(rc));
  Tally__LockListReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  Tally__Envelope *reply = tally_reply_new(r, req->id);
  if (rep == NULL || reply == NULL)
    return NULL;
  tally__lock_list_reply__init(rep);
  rep->locks = lc.locks;
  rep->n_locks = lc.n;
  reply->body_case = TALLY__ENVELOPE__BODY_LOCK_LIST_REPLY;
  reply->lock_list_reply = rep;
  return reply;
}
