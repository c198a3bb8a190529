/* dispatch.h: a request in, a reply out, whatever the transport.
 *
 * A transport (server/server.c's TCP and TLS frames; next, WebSocket)
 * decodes an envelope, fills a tally_request with the server's parts,
 * the connection's session and a reply callback, and calls
 * tally_dispatch. Dispatch signs the request in, checks in one place
 * that the account may make it (the request table), and runs its
 * handler. The reply comes out through r->reply, exactly once: at once,
 * or later on the loop thread when work handed to the writer thread or
 * to libuv's pool is done. The transport sends it and then calls
 * tally_request_end, which frees the reply and the work behind it.
 */
#ifndef TALLY_DISPATCH_H
#define TALLY_DISPATCH_H

#include "accounts.h"
#include "arena.h"
#include "catalog.h"
#include "guard.h"
#include "sessions.h"
#include "health.h"
#include "store.h"
#include "tally.pb-c.h"
#include "writer.h"

#include <stddef.h>
#include <uv.h>

/* A connection's sign-in: the account, and the hash of the token it
 * signed in with, so that a token replaced since ends the session; or,
 * for a web page, the hash of its session (sessions.h), which must
 * still be open. */
typedef struct {
  uint64_t account;    /* 0 = not signed in */
  uint8_t secret_sha256[32];
  int web;             /* secret_sha256 is a web session's */
  char who[256];       /* "account 3 (name, reporter for wenchang)", for
                          the connection's line in the log */
} tally_session;

/* Signs s in as acc, with acc's current token. */
void tally_session_sign_in(tally_session *s, const tally_account *acc);

/* The server's parts that handlers use; borrowed, outlive every request. */
typedef struct {
  uv_loop_t *loop;          /* for work in libuv's pool; NULL: run inline */
  const tally_catalog *cat;
  tally_store *store;
  tally_writer *writer;     /* every write; NULL: written inline */
  tally_accounts *accounts; /* who may sign in */
  tally_guard *guard;       /* failed sign-ins per address; may be NULL */
  tally_sessions *sessions; /* the web pages' sessions; may be NULL */
  tally_health *health;     /* the running figures; may be NULL */
  unsigned *report_files;   /* report files being made, of every
                               transport (handle_report_file.c); NULL:
                               not counted nor limited */
} tally_services;

typedef struct tally_request tally_request;
typedef struct tally_job tally_job;

/* Work a handler hands off so that the loop does not wait for it. */
struct tally_job {
  /* In a pool thread (tally_job_run), or NULL for a write. A job with
   * both run and write.apply runs in the pool first, then is written
   * (a password hashed, then stored). */
  void (*run)(tally_job *j);
  /* On the loop, once done: the reply, built in r->arena or in the job's
   * own memory (the job is freed after the reply is sent); NULL: no
   * memory. */
  Tally__Envelope *(*finish)(tally_job *j, tally_request *r);
  void (*free)(tally_job *j); /* NULL: nothing (it is in the arena) */
  tally_write write;    /* a job that writes: apply is its own */
  uv_work_t work;       /* a job for the pool */
  tally_request *r;     /* the request it answers */
};

struct tally_request {
  /* The server's, set by the transport. */
  uv_loop_t *loop;
  const tally_catalog *cat;
  tally_store *store;
  tally_writer *writer;
  tally_accounts *accounts;
  tally_guard *guard;
  tally_sessions *sessions;
  tally_health *health;
  unsigned *report_files;
  /* The caller's, set by the transport. */
  tally_session *session;   /* the connection's; changed by a sign-in */
  const char *peer;         /* "127.0.0.1:5000", for the log */
  void (*reply)(tally_request *r, const Tally__Envelope *reply);
  void *transport;          /* the transport's own (its connection) */
  /* The request's own. */
  const Tally__Envelope *req; /* set by tally_dispatch; must live until
                               tally_request_end (jobs read it) */
  tally_arena *arena;       /* where the transport decodes the request and
                               the reply is built: &mem */
  tally_arena mem;
  const tally_account *account; /* set by tally_dispatch for the handler */
  tally_job *job;           /* work under way, freed by tally_request_end */
  int refused_sign_in;      /* a sign-in failed: the reply should go out
                               late and the connection then close */
  int secret_reply;         /* the reply carries a new token: its copies
                               are wiped once sent */
};

/* Sets up r for one request of a caller of the server svc. */
void tally_request_init(tally_request *r, const tally_services *svc,
                        tally_session *session, const char *peer,
                        void (*reply)(tally_request *, const Tally__Envelope *),
                        void *transport);

/* Signs the request in (its token, or the session's earlier one),
 * checks that the account may make it, runs its handler, and replies
 * through r->reply (NULL: memory ran out), now or later. */
void tally_dispatch(tally_request *r, const Tally__Envelope *req);

/* A read made on behalf of r's account from within another request (a
 * report file's), in whatever thread that runs: checked against the
 * request table as the account's own request would be, without a
 * sign-in, and answered at once (r->loop NULL: a read's job runs in
 * place, and is left in r->job for the caller to free after the reply).
 * Only reads that touch nothing of the loop's may be made so; any other
 * is refused. Returns the reply (in r->arena), or NULL: no memory. */
Tally__Envelope *tally_dispatch_within(tally_request *r,
                                       const Tally__Envelope *req);

/* After the reply was sent: frees the reply (wiping it when it held a
 * secret) and the job. r itself is the caller's. */
void tally_request_end(tally_request *r);

/* Who makes a change at time now, for the audit trail: r's account,
 * its name copied into name (the registry's records may move before the
 * writer thread reads it). */
void tally_request_actor(const tally_request *r, int64_t now,
                         tally_store_actor *who,
                         char name[TALLY_ACCOUNT_NAME_MAX + 1]);

/* The job a write belongs to (its write member). */
static inline tally_job *tally_job_of(tally_write *w) {
  return (tally_job *)((char *)w - offsetof(tally_job, write));
}

/* For handlers: hands j to libuv's pool (j->run there, then j->finish
 * on the loop), or to the writer thread (j->write.apply there, then
 * j->finish once committed; j->write.code holds the outcome). Returns
 * NULL, the handler's answer for "the reply comes later". */
Tally__Envelope *tally_job_run(tally_request *r, tally_job *j);
Tally__Envelope *tally_job_write(tally_request *r, tally_job *j);

#endif
