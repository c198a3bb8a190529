/* dispatch.h: one table from request type to handler.
 *
 * A handler gets a decoded request and returns a reply built in the
 * request's arena. It never touches the socket; the connection sends
 * what it returns. Checks every request needs run once, here, before
 * any handler.
 */
#ifndef TALLY_DISPATCH_H
#define TALLY_DISPATCH_H

#include "accounts.h"
#include "arena.h"
#include "catalog.h"
#include "store.h"
#include "tally.pb-c.h"
#include "guard.h"
#include "writer.h"

/* Work a handler hands off to a worker thread (a backup, say) so that
 * the loop does not wait for it. */
typedef struct tally_async tally_async;
struct tally_async {
  void (*run)(tally_async *a);  /* in a worker thread */
  /* Back on the loop: the reply, built in arena (NULL: no memory). */
  Tally__Envelope *(*finish)(tally_async *a, tally_arena *arena);
  void (*free)(tally_async *a);
};

/* A connection's sign-in: the account, and the hash of the token it
 * signed in with, so that a token replaced since ends the session. */
typedef struct {
  uint64_t account;    /* 0 = not signed in */
  uint8_t secret_sha256[32];
} tally_session;

/* Signs s in as acc, with acc's current token. */
void tally_session_sign_in(tally_session *s, const tally_account *acc);

typedef struct {
  const tally_catalog *cat;
  tally_store *store;
  const char *peer;    /* "127.0.0.1:5000", for the log */
  tally_arena *arena;  /* where the reply is built; freed after sending */
  tally_async *async;  /* set by a handler that returns NULL for later */
  tally_writer *writer; /* group commit; NULL: submissions commit alone */
  tally_accounts *accounts; /* who may sign in */
  tally_guard *guard;   /* failed sign-ins per address; may be NULL */
  tally_session *session; /* the connection's; changed by a sign-in */
  const tally_account *account; /* set by tally_dispatch for the handler */
  int refused_sign_in;  /* set when a sign-in failed: the reply should go
                           out late and the connection then close */
  int secret_reply;     /* the reply carries a new token: its copies are
                           wiped once sent */
} tally_request;

/* Signs the request in (its token, or the connection's earlier one),
 * checks that the account may make it, and runs its handler. Returns
 * the reply to req, or NULL with r->async set when the reply comes later
 * from r->async; NULL without r->async means memory ran out. */
Tally__Envelope *tally_dispatch(tally_request *r, const Tally__Envelope *req);

/* An error reply for request id, built in r->arena (NULL on no memory). */
Tally__Envelope *tally_dispatch_error(tally_request *r, uint64_t id,
                                      Tally__ErrorCode code, const char *fmt,
                                      ...) __attribute__((format(printf, 4, 5)));

#endif
