/* dispatch.c: the request table, sign-in and access, and the jobs
 * that answer later.
 *
 * One row per request type: its handler and who may make it. Every
 * request is signed in and checked against its row here, once, before
 * its handler runs, whichever transport it came by.
 */
#include "dispatch.h"
#include "handlers.h"

#include "address.h"
#include "error.h"
#include "log.h"
#include "reply.h"
#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Who may make a request. */
enum access {
  SIGNED_IN,   /* any account */
  READ_UNIT,   /* analysts and admins; a reporter for its own unit only
                  (a district's reporter: any unit within its district) */
  READ_SCOPE,  /* the same, over a unit and the units below it: a town's
                  reporter for its town, a district's for its district or
                  a unit within it, the root's never (its own figures
                  only) */
  WRITE_UNIT,  /* a reporter, for its own unit only (a district's: for
                  the units within it) */
  ANALYST,     /* analysts and admins */
  ADMIN,
  IMPORT,      /* analysts and admins; a district's reporter at the city
                  (an inner unit that is not the root), for the units
                  within it only: every report's unit is checked */
};

static const char *unit_of_submit(const Tally__Envelope *e) {
  return e->submit->unit;
}
static const char *unit_of_values(const Tally__Envelope *e) {
  return e->values->unit;
}
static const char *unit_of_history(const Tally__Envelope *e) {
  return e->history->unit;
}
static const char *unit_of_report(const Tally__Envelope *e) {
  return e->report->unit;
}
static const char *unit_of_explain(const Tally__Envelope *e) {
  return e->explain->unit;
}
static const char *unit_of_completeness(const Tally__Envelope *e) {
  return e->completeness->unit;
}
static const char *unit_of_check(const Tally__Envelope *e) {
  return e->check->unit;
}
static const char *unit_of_validate(const Tally__Envelope *e) {
  return e->validate->unit;
}
static const char *unit_of_status(const Tally__Envelope *e) {
  return e->status->unit;
}
static const char *unit_of_trend(const Tally__Envelope *e) {
  return e->trend->unit;
}
static const char *unit_of_matrix(const Tally__Envelope *e) {
  return e->matrix->unit;
}

/* The request table: one row per request type a client may send. */
static const struct {
  Tally__Envelope__BodyCase body;
  const char *name;
  tally_handler_fn *fn;
  enum access access;
  const char *(*unit_of)(const Tally__Envelope *); /* for *_UNIT */
} handlers[] = {
    {TALLY__ENVELOPE__BODY_SUBMIT, "submit", tally_handle_submit, WRITE_UNIT,
     unit_of_submit},
    {TALLY__ENVELOPE__BODY_VALUES, "values", tally_handle_values, READ_UNIT,
     unit_of_values},
    {TALLY__ENVELOPE__BODY_REPORT, "report", tally_handle_report, READ_SCOPE,
     unit_of_report},
    {TALLY__ENVELOPE__BODY_HISTORY, "history", tally_handle_history, READ_UNIT,
     unit_of_history},
    {TALLY__ENVELOPE__BODY_BACKUP, "backup", tally_handle_backup, ADMIN, NULL},
    {TALLY__ENVELOPE__BODY_VERIFY, "verify", tally_handle_verify, ADMIN, NULL},
    {TALLY__ENVELOPE__BODY_ADMIN_STATUS, "admin status",
     tally_handle_admin_status, ADMIN, NULL},
    {TALLY__ENVELOPE__BODY_GUARD_CLEAR, "admin unblock",
     tally_handle_guard_clear, ADMIN, NULL},
    {TALLY__ENVELOPE__BODY_EXPLAIN, "explain", tally_handle_explain, READ_SCOPE,
     unit_of_explain},
    {TALLY__ENVELOPE__BODY_COMPLETENESS, "completeness", tally_handle_completeness,
     READ_SCOPE, unit_of_completeness},
    /* The central office's views, read as a report is. */
    {TALLY__ENVELOPE__BODY_TREND, "trend", tally_handle_trend, READ_SCOPE,
     unit_of_trend},
    {TALLY__ENVELOPE__BODY_MATRIX, "matrix", tally_handle_matrix, READ_SCOPE,
     unit_of_matrix},
    /* The annual report as a file: its reads are made as the account's
     * own (tally_dispatch_within), each checked here. */
    {TALLY__ENVELOPE__BODY_REPORT_FILE, "report file",
     tally_handle_report_file, ANALYST, NULL},
    {TALLY__ENVELOPE__BODY_CHECK, "check", tally_handle_check, READ_UNIT,
     unit_of_check},
    /* Over a unit and those below it, as a report is. */
    {TALLY__ENVELOPE__BODY_VALIDATE, "validate", tally_handle_validate,
     READ_SCOPE, unit_of_validate},
    /* The central office reviews; a unit's reporter sees its own. */
    {TALLY__ENVELOPE__BODY_REVIEW, "review", tally_handle_review, ANALYST,
     NULL},
    {TALLY__ENVELOPE__BODY_REVIEW_LIST, "review list",
     tally_handle_review_list, ANALYST, NULL},
    {TALLY__ENVELOPE__BODY_STATUS, "status", tally_handle_status, READ_UNIT,
     unit_of_status},
    {TALLY__ENVELOPE__BODY_CATALOG, "catalog", tally_handle_catalog, SIGNED_IN, NULL},
    {TALLY__ENVELOPE__BODY_TARGET_SET, "target set", tally_handle_target_set, ANALYST,
     NULL},
    {TALLY__ENVELOPE__BODY_TARGET_LIST, "target list", tally_handle_target_list,
     SIGNED_IN, NULL},
    {TALLY__ENVELOPE__BODY_LOCK, "period lock and unlock", tally_handle_lock,
     ANALYST, NULL},
    {TALLY__ENVELOPE__BODY_LOCK_LIST, "period list", tally_handle_lock_list,
     SIGNED_IN, NULL},
    {TALLY__ENVELOPE__BODY_ACCOUNT_ADD, "account add", tally_handle_account_add,
     ADMIN, NULL},
    {TALLY__ENVELOPE__BODY_ACCOUNT_LIST, "account list",
     tally_handle_account_list, ADMIN, NULL},
    {TALLY__ENVELOPE__BODY_ACCOUNT_REVOKE, "account revoke",
     tally_handle_account_revoke, ADMIN, NULL},
    /* Anyone may replace their own token; the handler checks others'. */
    {TALLY__ENVELOPE__BODY_ACCOUNT_ROTATE, "account rotate",
     tally_handle_account_rotate, SIGNED_IN, NULL},
    {TALLY__ENVELOPE__BODY_WHOAMI, "whoami", tally_handle_whoami, SIGNED_IN,
     NULL},
    /* A reporter sees its own unit's and its own account's trail. */
    {TALLY__ENVELOPE__BODY_AUDIT, "audit", tally_handle_audit, SIGNED_IN, NULL},
    {TALLY__ENVELOPE__BODY_ACCOUNT_PASSWORD, "account password",
     tally_handle_account_password, ADMIN, NULL},
    /* Many units' figures at once: the centre's history, a district's
     * towns forwarded to the city. */
    {TALLY__ENVELOPE__BODY_IMPORT_REQUEST, "import", tally_handle_import,
     IMPORT, NULL},
    /* The body of a web page's POST /session: never a connection's. */
    {TALLY__ENVELOPE__BODY_SIGN_IN, "sign in with a password",
     tally_handle_sign_in_elsewhere, SIGNED_IN, NULL},
};

void tally_session_sign_in(tally_session *s, const tally_account *acc) {
  s->account = acc->id;
  memcpy(s->secret_sha256, acc->secret_sha256, 32);
  s->web = 0;
}

/* Whether the connection's sign-in still holds: its account active, and
 * its token the account's, or its web session open. */
static int session_holds(tally_request *r, const tally_account *acc) {
  if (acc == NULL || acc->revoked)
    return 0;
  if (r->session->web)
    return r->sessions &&
           tally_sessions_live(r->sessions, r->session->secret_sha256,
                               (int64_t)time(NULL)) == acc->id;
  return memcmp(acc->secret_sha256, r->session->secret_sha256, 32) == 0;
}

/* Signs the connection in with the request's token. Returns 0, or -1
 * with *err the refusal. */
static int sign_in(tally_request *r, const Tally__Envelope *req,
                   Tally__Envelope **err) {
  int64_t now = (int64_t)time(NULL);
  int64_t wait = r->guard ? tally_guard_wait(r->guard, r->peer, now) : 0;
  const char *why = NULL;

  if (wait > 0) {
    tally_log_warn("sign-in refused from %s: too many failed sign-ins", r->peer);
    r->refused_sign_in = 1;
    char until[32], sender[48];
    time_t end = (time_t)(now + wait);
    struct tm tm;
    gmtime_r(&end, &tm);
    strftime(until, sizeof until, "%Y-%m-%dT%H:%M:%SZ", &tm);
    tally_address_sender(r->peer, sender, sizeof sender);
    *err = tally_reply_error(
        r, req->id, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED,
        "too many failed sign-ins from this address (%s); try again in %lld "
        "s, at %s, or have an admin lift it from another address (or on "
        "the server's host): tally admin unblock %s",
        sender, (long long)wait, until, sender);
    return -1;
  }
  tally_account *acc = tally_accounts_check(r->accounts, req->auth->token, &why);
  if (acc == NULL) {
    if (r->guard)
      tally_guard_fail(r->guard, r->peer, now);
    /* The log names the address and the reason, never the token. */
    tally_log_warn("sign-in refused from %s: %s", r->peer, why);
    r->refused_sign_in = 1;
    memset(r->session, 0, sizeof *r->session);
    *err = tally_reply_error(
        r, req->id, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED,
        "the token was refused: %s (ask the central office for a new one)",
        why);
    return -1;
  }
  /* Told in the connection's one line when it closes. */
  tally_session_sign_in(r->session, acc);
  snprintf(r->session->who, sizeof r->session->who,
           "account %llu (%s, %s%s%s)", (unsigned long long)acc->id,
           acc->name, tally_role_name(acc->role), acc->unit >= 0 ? " for " : "",
           acc->unit >= 0 ? acc->unit_code : "");
  if (acc->last_used != now) {
    acc->last_used = now;
    acc->touched = 1;
  }
  return 0;
}

/* A refusal there was no memory to put in words: refused all the same. */
static Tally__Envelope no_memory;

/* A permission-denied reply, never NULL. */
static Tally__Envelope *deny(tally_request *r, uint64_t id, const char *fmt,
                             ...) __attribute__((format(printf, 3, 4)));
static Tally__Envelope *deny(tally_request *r, uint64_t id, const char *fmt,
                             ...) {
  va_list ap;
  va_start(ap, fmt);
  Tally__Envelope *e = tally_reply_verror(
      r, id, TALLY__ERROR_CODE__ERROR_PERMISSION_DENIED, fmt, ap);
  va_end(ap);
  return e ? e : &no_memory;
}

/* An import by a reporter: a district's reporter at the city imports
 * the figures of the units within its district, which it may read (so
 * its import's replies, a conflict's details or a dry run's counts,
 * show nothing of another district); every other reporter is refused.
 * A report of a unit the catalog does not have is left to the handler,
 * which refuses that report alone. NULL, or the refusal. */
static Tally__Envelope *import_refusal(tally_request *r,
                                       const Tally__Envelope *req) {
  const tally_account *a = r->account;
  const tally_catalog *cat = r->cat;
  char shown[SHOWN_MAX];
  if (!tally_account_is_district(a, cat))
    return deny(r, req->id,
                "permission denied: import needs the analyst role, or a "
                "district's reporter at the city (for the units within "
                "its district); account %llu is a reporter for %s (it "
                "sends its own figures with tally submit); nothing was "
                "stored",
                (unsigned long long)a->id, a->unit_code);
  const Tally__ImportRequest *q = req->import_request;
  for (size_t i = 0; i < q->n_reports; i++) {
    int u = tally_catalog_unit(cat, q->reports[i]->unit);
    if (u >= 0 && (u == a->unit || !tally_account_covers(a, cat, u)))
      return deny(r, req->id,
                  "permission denied: account %llu reports for %s and may "
                  "import the figures of the units within it only (it has "
                  "none of its own), not of %s (report %zu); nothing was "
                  "stored",
                  (unsigned long long)a->id, a->unit_code,
                  tally_reply_show(q->reports[i]->unit, shown), i + 1);
  }
  return NULL;
}

/* Whether the account may make a request of this access: NULL, or the
 * refusal (&no_memory when it could not be built). */
static Tally__Envelope *refusal(tally_request *r, const Tally__Envelope *req,
                                const char *name, enum access access,
                                const char *unit) {
  const tally_account *a = r->account;
  int analyst = a->role == TALLY__ROLE__ROLE_ANALYST ||
                a->role == TALLY__ROLE__ROLE_ADMIN;
  int district = tally_account_is_district(a, r->cat);
  /* Its own unit, or for a district's reporter one within it. */
  int own = unit && *unit &&
            tally_account_covers(a, r->cat, tally_catalog_unit(r->cat, unit));
  char shown[SHOWN_MAX];
  Tally__Envelope *unknown = NULL;

  /* A unit the catalog does not have (or none, for a write): refused
   * here in the words the handler would use, for every account whose
   * access depends on the unit; analysts' reads go on to the handler,
   * which says the same. */
  int needs_unit = access == WRITE_UNIT ||
                   (a->role == TALLY__ROLE__ROLE_REPORTER &&
                    (access == READ_UNIT || access == READ_SCOPE));
  if (needs_unit && ((unit && *unit) || access == WRITE_UNIT) &&
      tally_reply_want_unit(r, req->id, unit, &unknown) < 0)
    return unknown ? unknown : &no_memory;

  switch (access) {
  case SIGNED_IN:
    return NULL;
  case READ_SCOPE:
    /* The district office reports its own figures; what its units
     * report is for the central office's analysts. */
    if (a->role == TALLY__ROLE__ROLE_REPORTER && a->unit == r->cat->root &&
        !r->cat->units[a->unit].is_leaf && (own || unit == NULL || *unit == 0))
      return deny(
          r, req->id,
          "permission denied: account %llu reports the figures of %s itself; "
          "a %s over the units below it is for analysts",
          (unsigned long long)a->id, a->unit_code, name);
    /* fall through */
  case READ_UNIT:
    if (analyst || own)
      return NULL;
    if ((unit == NULL || *unit == 0) && a->unit == r->cat->root)
      return deny(
          r, req->id,
          "permission denied: account %llu reports the district office's own "
          "figures and may read those only, not the units' (give --unit %s)",
          (unsigned long long)a->id, a->unit_code);
    if ((unit == NULL || *unit == 0) && district)
      return deny(
          r, req->id,
          "permission denied: account %llu reports for the district %s and "
          "may read %s and the units within it only, not the whole city "
          "(give --unit %s)",
          (unsigned long long)a->id, a->unit_code, a->unit_code, a->unit_code);
    if (unit == NULL || *unit == 0)
      return deny(
          r, req->id,
          "permission denied: account %llu reports for %s and may read %s "
          "only, not the whole district (give --unit %s)",
          (unsigned long long)a->id, a->unit_code, a->unit_code, a->unit_code);
    return deny(
        r, req->id,
        "permission denied: account %llu reports for %s and may not read "
        "the figures of %s",
        (unsigned long long)a->id, a->unit_code, tally_reply_show(unit, shown));
  case WRITE_UNIT:
    /* A district reports no figures of its own: its towns' only. */
    if (own && !(district && strcmp(unit, a->unit_code) == 0))
      return NULL;
    if (district)
      return deny(
          r, req->id,
          "permission denied: account %llu reports for the units within %s, "
          "not for %s; nothing was stored",
          (unsigned long long)a->id, a->unit_code, tally_reply_show(unit, shown));
    if (a->role == TALLY__ROLE__ROLE_REPORTER)
      return deny(
          r, req->id,
          "permission denied: account %llu reports for %s, not for %s; "
          "nothing was stored",
          (unsigned long long)a->id, a->unit_code, tally_reply_show(unit, shown));
    return deny(
        r, req->id,
        "permission denied: only a reporter of the unit may %s its figures; "
        "account %llu is an %s; nothing was stored",
        name, (unsigned long long)a->id, tally_role_name(a->role));
  case ANALYST:
    if (analyst)
      return NULL;
    break;
  case ADMIN:
    if (a->role == TALLY__ROLE__ROLE_ADMIN)
      return NULL;
    break;
  case IMPORT:
    return analyst ? NULL : import_refusal(r, req);
  }
  return deny(r, req->id,
                              "permission denied: %s needs the %s role; "
                              "account %llu is a%s %s",
                              name, access == ADMIN ? "admin" : "analyst",
                              (unsigned long long)a->id,
                              a->role == TALLY__ROLE__ROLE_ANALYST ||
                                      a->role == TALLY__ROLE__ROLE_ADMIN
                                  ? "n"
                                  : "",
                              tally_role_name(a->role));
}

/* Signs in, checks access, runs the handler. Returns its reply, or NULL
 * when a job will reply (r->job set) or memory ran out. */
static Tally__Envelope *dispatch(tally_request *r, const Tally__Envelope *req) {
  Tally__Envelope *err = NULL;
  size_t i = 0, n = sizeof handlers / sizeof handlers[0];

  if (req->auth && req->auth->token && *req->auth->token) {
    int rc = sign_in(r, req, &err);
    /* Checked: no copy of the token stays behind, whatever comes next. */
    explicit_bzero(req->auth->token, strlen(req->auth->token));
    if (rc != 0)
      return err;
  } else if (r->session->account == 0) {
    return tally_reply_error(
        r, req->id, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED,
        "sign in first: the first request of a connection must carry a token "
        "(see 'tally help login')");
  }
  tally_account *acc = tally_accounts_find(r->accounts, r->session->account);
  if (!session_holds(r, acc)) {
    uint64_t id = r->session->account;
    int web = r->session->web;
    memset(r->session, 0, sizeof *r->session);
    if (web)
      return tally_reply_error(r, req->id,
                               TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED,
                               "the session of account %llu has ended%s; "
                               "sign in again",
                               (unsigned long long)id,
                               acc && !acc->revoked ? "" : ": it is revoked");
    return tally_reply_error(r, req->id,
                             TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED,
                             "the token of account %llu has been %s; sign "
                             "in again",
                             (unsigned long long)id,
                             acc && !acc->revoked ? "replaced" : "revoked");
  }
  r->account = acc;
  while (i < n && handlers[i].body != req->body_case)
    i++;
  if (i == n)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_UNSUPPORTED,
                             "this server does not handle request type %d",
                             (int)req->body_case);
  const char *unit = handlers[i].unit_of ? handlers[i].unit_of(req) : NULL;
  /* Every request is checked here, whatever it names (an unknown unit
   * is refused in the handler's words where the account's access
   * depends on it). */
  if ((err = refusal(r, req, handlers[i].name, handlers[i].access, unit))) {
    tally_log("%s refused: account %llu from %s: %s", handlers[i].name,
              (unsigned long long)acc->id, r->peer,
              err != &no_memory ? err->error->message : "no memory");
    return err != &no_memory ? err : NULL;
  }
  return handlers[i].fn(r, req);
}

void tally_dispatch(tally_request *r, const Tally__Envelope *req) {
  r->req = req;
  Tally__Envelope *reply = dispatch(r, req);
  if (reply != NULL || r->job == NULL || r->job->r != r)
    r->reply(r, reply); /* at once: an answer, or no memory */
}

/* The reads a request may make within another, off the loop: each
 * answers from a snapshot of its own and touches nothing of the loop's
 * (the accounts, the sessions, the writer). */
static int within_allowed(Tally__Envelope__BodyCase body) {
  return body == TALLY__ENVELOPE__BODY_REPORT ||
         body == TALLY__ENVELOPE__BODY_EXPLAIN ||
         body == TALLY__ENVELOPE__BODY_COMPLETENESS ||
         body == TALLY__ENVELOPE__BODY_TARGET_LIST ||
         body == TALLY__ENVELOPE__BODY_REVIEW_LIST;
}

Tally__Envelope *tally_dispatch_within(tally_request *r,
                                       const Tally__Envelope *req) {
  size_t i = 0, n = sizeof handlers / sizeof handlers[0];
  Tally__Envelope *err;
  r->req = req;
  while (i < n && handlers[i].body != req->body_case)
    i++;
  if (i == n || !within_allowed(req->body_case))
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_INTERNAL,
                             "request type %d is not made within another",
                             (int)req->body_case);
  const char *unit = handlers[i].unit_of ? handlers[i].unit_of(req) : NULL;
  if ((err = refusal(r, req, handlers[i].name, handlers[i].access, unit)))
    return err != &no_memory ? err : NULL;
  return handlers[i].fn(r, req);
}

void tally_request_init(tally_request *r, const tally_services *svc,
                        tally_session *session, const char *peer,
                        void (*reply)(tally_request *, const Tally__Envelope *),
                        void *transport) {
  memset(r, 0, sizeof *r);
  r->loop = svc->loop;
  r->cat = svc->cat;
  r->store = svc->store;
  r->writer = svc->writer;
  r->accounts = svc->accounts;
  r->guard = svc->guard;
  r->sessions = svc->sessions;
  r->health = svc->health;
  r->report_files = svc->report_files;
  r->session = session;
  r->peer = peer;
  r->reply = reply;
  r->transport = transport;
  r->mem = (tally_arena)TALLY_ARENA_INIT;
  r->arena = &r->mem;
}

void tally_request_end(tally_request *r) {
  if (r->job && r->job->free)
    r->job->free(r->job);
  r->job = NULL;
  if (r->secret_reply)
    tally_arena_wipe(&r->mem);
  else
    tally_arena_free(&r->mem);
}

void tally_request_actor(const tally_request *r, int64_t now,
                         tally_store_actor *who,
                         char name[TALLY_ACCOUNT_NAME_MAX + 1]) {
  snprintf(name, TALLY_ACCOUNT_NAME_MAX + 1, "%s", r->account->name);
  *who = (tally_store_actor){r->account->id, name, r->peer, now};
}

/* A job is done, on the loop: its reply goes out. */
static void job_answer(tally_job *j) {
  tally_request *r = j->r;
  r->reply(r, j->finish(j, r));
}

static void job_work(uv_work_t *w) {
  tally_job *j = w->data;
  j->run(j);
}

static void job_write(tally_request *r, tally_job *j);

static void job_worked(uv_work_t *w, int status) {
  tally_job *j = w->data;
  (void)status; /* a job is never cancelled */
  if (j->write.apply)
    job_write(j->r, j); /* done in the pool: now it is stored */
  else
    job_answer(j);
}

Tally__Envelope *tally_job_run(tally_request *r, tally_job *j) {
  r->job = j;
  j->r = r;
  j->work.data = j;
  if (r->loop == NULL || uv_queue_work(r->loop, &j->work, job_work,
                                       job_worked) != 0) {
    j->run(j); /* no pool: here and now */
    if (j->write.apply)
      return tally_job_write(r, j);
    j->r = NULL; /* answered by the handler's return, not later */
    return j->finish(j, r);
  }
  return NULL;
}

static void job_written(tally_write *w, int code) {
  (void)code; /* in w->code */
  job_answer(tally_job_of(w));
}

Tally__Envelope *tally_job_write(tally_request *r, tally_job *j) {
  r->job = j;
  j->r = r;
  j->write.done = job_written;
  if (r->writer == NULL) {
    tally_writer_write_now(r->store, &j->write); /* no writer thread */
    j->r = NULL;
    return j->finish(j, r);
  }
  tally_writer_queue(r->writer, &j->write);
  return NULL;
}

/* A job done in the pool goes to the writer; without one, it is written
 * here and answered. */
static void job_write(tally_request *r, tally_job *j) {
  Tally__Envelope *reply = tally_job_write(r, j);
  if (r->writer == NULL)
    r->reply(r, reply);
}
