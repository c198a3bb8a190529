/* handle_admin.c: the admins' requests that read the whole store:
 * a backup, and a verify of the kept sums. Both run in a pool thread,
 * on one snapshot, while the loop goes on serving.
 */
#include "handlers.h"

#include "address.h"
#include "error.h"
#include "guard.h"
#include "log.h"
#include "reply.h"
#include "rollup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A backup runs in a worker thread: LMDB's copy reads one snapshot
 * while the loop goes on serving. It goes only into the folder tallyd
 * was started with (--backup-dir), as a new file of a plain name. */
struct backup_job {
  tally_job job;       /* first: the job is its tally_job */
  tally_store *store;
  uint64_t id;         /* the request's id */
  char *name;          /* the file's name in the backup folder */
  char path[4096];     /* out: its full path */
  char peer[64];
  int rc;
  uint64_t bytes;
};

static void backup_run(tally_job *a) {
  struct backup_job *j = (struct backup_job *)a;
  j->rc = tally_store_backup(j->store, j->name, j->path, sizeof j->path,
                             &j->bytes);
}

static Tally__Envelope *backup_finish(tally_job *a, tally_request *r) {
  struct backup_job *j = (struct backup_job *)a;
  tally_arena *arena = r->arena;
  if (j->rc != 0) {
    tally_log_err("backup to %s failed: %s (asked by %s)", j->path,
              tally_strerror(j->rc), j->peer);
    if (j->rc == -EEXIST)
      return tally_reply_error(r, j->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                               "a backup named %s is in the backup folder "
                               "already; give a new name", j->name);
    return tally_reply_error(r, j->id, TALLY__ERROR_CODE__ERROR_STORE,
                             "backup to %s failed: %s", j->path,
                             tally_strerror(j->rc));
  }
  tally_log("backup: %s, %llu bytes (asked by %s)", j->path,
            (unsigned long long)j->bytes, j->peer);
  Tally__BackupReply *ok = tally_arena_alloc(arena, sizeof *ok);
  Tally__Envelope *reply = tally_reply_new(r, j->id);
  if (ok == NULL || reply == NULL)
    return NULL;
  tally__backup_reply__init(ok);
  ok->path = tally_arena_strdup(arena, j->path);
  ok->bytes = j->bytes;
  reply->body_case = TALLY__ENVELOPE__BODY_BACKUP_REPLY;
  reply->backup_reply = ok;
  return ok->path ? reply : NULL;
}

static void backup_free(tally_job *a) {
  struct backup_job *j = (struct backup_job *)a;
  free(j->name);
  free(j);
}

Tally__Envelope *tally_handle_backup(tally_request *r,
                                      const Tally__Envelope *req) {
  const char *name = req->backup->path;
  if (tally_store_backup_dir(r->store) == NULL)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "this server makes no backups: start tallyd "
                             "with --backup-dir DIR to have them made in "
                             "DIR");
  if (!tally_store_backup_name_ok(name))
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "a backup is named by a plain file name (1-%d "
                             "bytes, no '/', not starting with '.', no "
                             "control characters); it is made in the "
                             "server's backup folder",
                             TALLY_STORE_BACKUP_NAME_MAX);
  struct backup_job *j = calloc(1, sizeof *j);
  if (j == NULL || (j->name = strdup(name)) == NULL) {
    free(j);
    return NULL;
  }
  j->job.run = backup_run;
  j->job.finish = backup_finish;
  j->job.free = backup_free;
  j->store = r->store;
  j->id = req->id;
  snprintf(j->peer, sizeof j->peer, "%s", r->peer);
  return tally_job_run(r, &j->job);
}

/* A verify remakes every sums record in a worker thread, from one
 * snapshot, while the loop goes on serving. */
struct verify_job {
  tally_job job;       /* first: the job is its tally_job */
  const tally_catalog *cat;
  tally_store *store;
  uint64_t id;
  char peer[64];
  int rc;
  tally_rollup_check check;
};

static void verify_run(tally_job *a) {
  struct verify_job *j = (struct verify_job *)a;
  j->rc = tally_rollup_verify(j->cat, j->store, &j->check);
}

static Tally__Envelope *verify_finish(tally_job *a, tally_request *r) {
  struct verify_job *j = (struct verify_job *)a;
  tally_arena *arena = r->arena;
  if (j->rc != 0) {
    tally_log_err("verify failed: %s (asked by %s)", tally_strerror(j->rc),
              j->peer);
    return tally_reply_error(r, j->id, TALLY__ERROR_CODE__ERROR_STORE,
                                "verify failed: %s", tally_strerror(j->rc));
  }
  tally_log("verify: %llu unit reports, %llu sums records, %llu mismatches%s%s "
            "(asked by %s)", (unsigned long long)j->check.reports,
            (unsigned long long)j->check.records,
            (unsigned long long)j->check.mismatches,
            j->check.mismatches ? ": " : "", j->check.first, j->peer);
  Tally__VerifyReply *ok = tally_arena_alloc(arena, sizeof *ok);
  Tally__Envelope *reply = tally_reply_new(r, j->id);
  if (ok == NULL || reply == NULL)
    return NULL;
  tally__verify_reply__init(ok);
  ok->reports = j->check.reports;
  ok->records = j->check.records;
  ok->mismatches = j->check.mismatches;
  ok->first = tally_arena_strdup(arena, j->check.first);
  reply->body_case = TALLY__ENVELOPE__BODY_VERIFY_REPLY;
  reply->verify_reply = ok;
  return ok->first ? reply : NULL;
}

static void verify_free(tally_job *a) { free(a); }

Tally__Envelope *tally_handle_verify(tally_request *r,
                                      const Tally__Envelope *req) {
  struct verify_job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return NULL;
  j->job.run = verify_run;
  j->job.finish = verify_finish;
  j->job.free = verify_free;
  j->cat = r->cat;
  j->store = r->store;
  j->id = req->id;
  snprintf(j->peer, sizeof j->peer, "%s", r->peer);
  return tally_job_run(r, &j->job);
}


/* The lockouts of admin status, gathered from the guard. */
struct lockouts {
  tally_arena *arena;
  Tally__AdminStatusReply *reply;
  int failed;
};

static void add_lockout(void *arg, const char *sender, unsigned failures,
                        int64_t until) {
  struct lockouts *l = arg;
  Tally__AdminStatusReply *s = l->reply;
  if (l->failed || s->n_lockouts >= 100)
    return; /* the first hundred tell the story */
  Tally__Lockout **grown = tally_arena_alloc(l->arena,
                                             (s->n_lockouts + 1) * sizeof *grown);
  Tally__Lockout *x = tally_arena_alloc(l->arena, sizeof *x);
  if (grown == NULL || x == NULL) {
    l->failed = 1;
    return;
  }
  if (s->n_lockouts)
    memcpy(grown, s->lockouts, s->n_lockouts * sizeof *grown);
  tally__lockout__init(x);
  x->address = tally_arena_strdup(l->arena, sender);
  x->failures = failures;
  x->until_unix = until;
  grown[s->n_lockouts++] = x;
  s->lockouts = grown;
  l->failed = x->address == NULL;
}

/* tally admin status: how the server is doing, from the running figures
 * (health.h), the store's use of its map and the backup folder. On the
 * loop: a stat or two, and one listing of the backup folder. */
Tally__Envelope *tally_handle_admin_status(tally_request *r,
                                           const Tally__Envelope *req) {
  tally_arena *arena = r->arena;
  Tally__AdminStatusReply *ok = tally_arena_alloc(arena, sizeof *ok);
  Tally__Envelope *reply = tally_reply_new(r, req->id);
  int64_t now = (int64_t)time(NULL);
  char path[4096];
  int rc;
  if (ok == NULL || reply == NULL)
    return NULL;
  tally__admin_status_reply__init(ok);
  ok->version = TALLY_VERSION;
  ok->now_unix = now;
  if ((rc = tally_store_usage(r->store, &ok->store_bytes, &ok->map_used_bytes,
                              &ok->map_bytes, &ok->max_map_bytes)) != 0)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_STORE,
                             "the store's size cannot be read: %s",
                             tally_strerror(rc));
  if (r->health) {
    ok->started_unix = r->health->started;
    ok->connections = r->health->connections;
    ok->submissions_today = tally_health_today(r->health, now);
    ok->cert_not_after_unix = r->health->cert_not_after;
    ok->listening = r->health->listening;
    ok->web_origins = r->health->web;
  }
  const char *dir = tally_store_backup_dir(r->store);
  ok->backup_dir = (char *)(dir ? dir : "");
  ok->last_backup = "";
  if (dir && tally_health_last_backup(dir, path, sizeof path,
                                      &ok->last_backup_unix) == 0 &&
      (ok->last_backup = tally_arena_strdup(arena, path)) == NULL)
    return NULL;
  if (r->guard) {
    struct lockouts l = {arena, ok, 0};
    tally_guard_each_locked(r->guard, now, add_lockout, &l);
    if (l.failed)
      return NULL;
  }
  reply->body_case = TALLY__ENVELOPE__BODY_ADMIN_STATUS_REPLY;
  reply->admin_status_reply = ok;
  return reply;
}

/* tally admin unblock ADDRESS: an address locked out by failed sign-ins
 * may sign in again at once. */
Tally__Envelope *tally_handle_guard_clear(tally_request *r,
                                          const Tally__Envelope *req) {
  const char *address = req->guard_clear->address;
  char sender[48], peer[80];
  if (*address == 0 || strlen(address) > 45)
    return tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                             "give the address to unblock, as tally admin "
                             "status lists it");
  unsigned failures = r->guard ? tally_guard_clear(r->guard, address) : 0;
  snprintf(peer, sizeof peer, strchr(address, ':') && !strchr(address, '/')
                                  ? "[%s]:0" : "%s:0", address);
  tally_address_sender(strchr(address, '/') ? address : peer, sender,
                       sizeof sender);
  tally_log("sign-ins from %s unblocked by account %llu from %s (%u failures "
            "forgotten)", sender, (unsigned long long)r->account->id, r->peer,
            failures);
  Tally__GuardClearReply *ok = tally_arena_alloc(r->arena, sizeof *ok);
  Tally__Envelope *reply = tally_reply_new(r, req->id);
  if (ok == NULL || reply == NULL)
    return NULL;
  tally__guard_clear_reply__init(ok);
  ok->address = tally_arena_strdup(r->arena, sender);
  ok->failures = failures;
  reply->body_case = TALLY__ENVELOPE__BODY_GUARD_CLEAR_REPLY;
  reply->guard_clear_reply = ok;
  return ok->address ? reply : NULL;
}
