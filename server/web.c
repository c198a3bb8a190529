/* web.c: HTTP(S) and WebSocket for the web pages, through libwebsockets
 * on the server's libuv loop.
 *
 * The happy path: a browser loads the app from --web-dir (lws serves
 * the files: MIME types by extension, no path above the directory);
 * POSTs its name and password to /session (an Envelope with a
 * SignInRequest) and gets a session cookie (signin.h, sessions.h);
 * opens /ws with that cookie from a page of the same origin; and sends
 * one Envelope per binary message, each dispatched as a TCP frame is
 * (dispatch.h) and answered, in order, one at a time.
 * The failure modes: an upgrade without a live session, from another
 * origin or to another path is refused before it opens; a POST from
 * another origin, too large or not an Envelope is answered 400/403/413;
 * a text message, or one over --max-frame, closes the WebSocket (1003,
 * 1009); a request carrying a token is refused (the pages sign in with
 * a password); a session that ends (revoked, signed out, a new
 * password) closes its WebSockets at once (1008); one that expires is
 * refused at its next request. Every HTTP response carries the same
 * strict headers (CSP, nosniff, frame-ancestors, referrer policy).
 * A connection is counted from its accept until it is a signed-in
 * WebSocket: one sender may have --max-per-address of them (more are
 * refused at once); each is closed --sign-in-timeout after it opened
 * (unless its sign-in is being checked); when --max-connections are
 * open, the oldest of them makes room for a newcomer, as on TCP.
 */
#include "web.h"

#include "address.h"
#include "error.h"
#include "file.h"
#include "log.h"
#include "reply.h"
#include "report_html.h"
#include "signin.h"
#include "wire.h"

#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BODY_MAX 4096         /* a sign-in's body */
#define QUEUE_MAX 16          /* messages read while one is answered */
#define COOKIE_NAME "tally_session"

typedef struct web_conn web_conn;
typedef struct web_post web_post;
typedef struct web_peer web_peer;

/* A connection lws accepted, until it closes (found by its wsi: lws sets
 * a wsi's opaque user data itself after telling of its creation). */
struct web_peer {
  tally_web *web;
  struct lws *wsi;
  char sender[48];            /* who it is counted as (address.h) */
  uint64_t opened;            /* loop time, ms */
  int signed_in;              /* a WebSocket with a live session */
  int signing_in;             /* its POST /session is being checked */
  uint64_t checking_since;    /* loop time the check began, ms */
  int closing;                /* closed by us; lws has yet to say so */
  web_peer *prev, *next;      /* newest first */
};

struct tally_web {
  struct lws_context *ctx;
  uv_loop_t *loop;
  tally_server *server;
  tally_services svc;
  tally_web_config cfg;
  size_t n_vhosts;            /* one per address, cfg.listen's order */
  char vhost_name[TALLY_WEB_LISTEN_MAX][16];
  char iface[TALLY_WEB_LISTEN_MAX][64]; /* each vhost's host: lws keeps
                                 the pointer, and compares them to share
                                 a listener (same port and host) */
  char origin[TALLY_WEB_LISTEN_MAX][128]; /* "http://127.0.0.1:PORT",
                                 bound, with the real port */
  int tls;
  int stopping;
  int sweeping;               /* sweep is started (closed on stop) */
  int held;                   /* the server is held */
  unsigned inflight;          /* requests and sign-ins not yet answered */
  web_conn *conns;            /* open WebSockets */
  web_peer *peers;            /* every connection, newest first */
  unsigned n_peers;
  char accepting[48];         /* the sender of the connection being
                                 accepted, for its wsi's creation */
  uv_timer_t sweep;           /* closes those past the sign-in timeout */
  struct lws_protocol_vhost_options headers[8];
  char csp[400];              /* headers[0]'s value */
  struct lws_protocol_vhost_options mimes[3];
  struct lws_http_mount files, session;
  struct lws_protocols protocols[2];
};

/* One message read and not yet handled. */
typedef struct msg {
  struct msg *next;
  size_t len;
  uint8_t bytes[];
} msg;

/* A WebSocket: lives until its socket has closed and its request (if
 * any) has been answered. */
struct web_conn {
  tally_web *web;
  struct lws *wsi;            /* NULL once closed */
  tally_session session;      /* signed in by the cookie */
  char peer[64];
  tally_request *req;         /* being answered, or NULL */
  uint8_t *in;                /* the message being read */
  size_t in_len, in_cap;
  msg *queue, *queue_tail;    /* read, waiting their turn */
  unsigned queued;
  uint8_t *out;               /* LWS_PRE + the reply being sent */
  size_t out_len;
  int out_secret;             /* wipe it once sent */
  int kill;                   /* close with this status once writable */
  const char *kill_why;
  web_conn *prev, *next;
};

/* A POST /session: its body, and the answer, which may come after the
 * connection has gone (wsi NULL). */
struct web_post {
  tally_web *web;
  struct lws *wsi;
  uint8_t body[BODY_MAX];
  size_t len;
  int too_large;
  int end;                    /* /session/end: sign out */
  int pending;                /* the sign-in has it: it frees it */
  /* The response, once known. */
  int ready;
  unsigned status;
  uint8_t *reply;             /* a packed Envelope */
  size_t reply_len;
  char cookie[200];           /* the Set-Cookie value, or "" */
  int secret;                 /* the cookie holds a session: wiped */
};

/* What lws keeps per connection (HTTP request or WebSocket). */
typedef struct {
  web_post *post;
  web_conn *conn;
  tally_session session;      /* found by the upgrade's filter */
  char peer[64];
} pss;

static void peer_of(struct lws *wsi, char *buf, size_t n) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int fd = lws_get_socket_fd(wsi);
  if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
    tally_address_format(&ss, buf, n);
  else
    snprintf(buf, n, "?");
}

/* Whether the request's Origin is this server's own. */
static int same_origin(tally_web *w, struct lws *wsi) {
  char origin[256], host[200], want[280];
  if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0 ||
      lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0)
    return 0;
  snprintf(want, sizeof want, "%s://%s", w->tls ? "https" : "http", host);
  return strcmp(origin, want) == 0;
}

/* The session of the request's cookie into *s: 0, or -1 when there is
 * no live one. */
static int session_of(tally_web *w, struct lws *wsi, tally_session *s,
                      int64_t *expires) {
  char cookie[TALLY_SESSION_COOKIE + 8];
  size_t max = sizeof cookie;
  memset(s, 0, sizeof *s);
  if (lws_http_cookie_get(wsi, COOKIE_NAME, cookie, &max) != 0)
    return -1;
  uint64_t account = tally_sessions_check(w->svc.sessions, cookie,
                                          (int64_t)time(NULL),
                                          s->secret_sha256, expires);
  explicit_bzero(cookie, sizeof cookie);
  if (account == 0)
    return -1;
  s->account = account;
  s->web = 1;
  return 0;
}

/* The connection of wsi, or NULL (one of lws's own). */
static web_peer *peer_find(tally_web *w, const struct lws *wsi) {
  for (web_peer *pe = w->peers; pe; pe = pe->next)
    if (pe->wsi == wsi)
      return pe;
  return NULL;
}

static void web_settle(tally_web *w) {
  if (w->stopping && w->inflight == 0 && w->held) {
    w->held = 0;
    tally_server_release(w->server);
  }
}

/* ---- HTTP: /session ---- */

/* Packs env as the POST's answer with status. Returns 0 or -ENOMEM. */
static int post_answer(web_post *p, unsigned status,
                       const Tally__Envelope *env) {
  size_t n = tally__envelope__get_packed_size(env);
  p->reply = malloc(n ? n : 1);
  if (p->reply == NULL)
    return -ENOMEM;
  tally__envelope__pack(env, p->reply);
  p->reply_len = n;
  p->status = status;
  p->ready = 1;
  return 0;
}

static int post_error(web_post *p, unsigned status, Tally__ErrorCode code,
                      const char *message) {
  Tally__Envelope env = TALLY__ENVELOPE__INIT;
  Tally__ErrorReply e = TALLY__ERROR_REPLY__INIT;
  e.code = code;
  e.message = (char *)message;
  env.body_case = TALLY__ENVELOPE__BODY_ERROR;
  env.error = &e;
  return post_answer(p, status, &env);
}

/* The account as the pages see it. */
static void account_of(const tally_account *acc, Tally__Account *a) {
  tally__account__init(a);
  a->id = acc->id;
  a->name = (char *)acc->name;
  a->role = acc->role;
  a->unit = (char *)acc->unit_code;
  a->created_unix = acc->created;
  a->last_used_unix = acc->last_used;
  a->password_set_unix = acc->password_set;
  a->password_must_change = acc->must_change;
}

static int post_signed_in(web_post *p, const tally_account *acc,
                          int64_t expires, int must_change) {
  Tally__Envelope env = TALLY__ENVELOPE__INIT;
  Tally__SignInReply rep = TALLY__SIGN_IN_REPLY__INIT;
  Tally__Account a;
  account_of(acc, &a);
  rep.account = &a;
  rep.expires_unix = expires;
  rep.must_change = must_change;
  env.body_case = TALLY__ENVELOPE__BODY_SIGN_IN_REPLY;
  env.sign_in_reply = &rep;
  return post_answer(p, 200, &env);
}

static void post_free(web_post *p) {
  if (p == NULL)
    return;
  if (p->secret)
    explicit_bzero(p->cookie, sizeof p->cookie);
  free(p->reply);
  explicit_bzero(p, sizeof *p); /* the body held a password */
  free(p);
}

/* The sign-in is decided (signin.h), on the loop. */
static void signed_in(const tally_sign_in_result *res, void *arg) {
  web_post *p = arg;
  tally_web *w = p->web;
  w->inflight--;
  p->pending = 0;
  if (p->wsi == NULL) { /* the browser went away */
    if (res->code == 0 && !res->must_change)
      tally_sessions_end(w->svc.sessions, res->session_sha256);
    post_free(p);
    web_settle(w);
    return;
  }
  web_peer *pe = peer_find(w, p->wsi);
  /* The time the check took is not the client's: its clock is moved on
   * by that much, and only that (a connection that keeps failing to
   * sign in is still closed at its timeout). */
  if (pe) {
    pe->signing_in = 0;
    pe->opened += uv_now(w->loop) - pe->checking_since;
  }
  tally_account *acc = res->account
                           ? tally_accounts_find(w->svc.accounts, res->account)
                           : NULL;
  int rc;
  if (res->code != 0 || acc == NULL) {
    unsigned status = res->code == TALLY__ERROR_CODE__ERROR_BAD_REQUEST ? 400
                      : res->code == TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED
                          ? 401
                          : 500;
    rc = post_error(p, status, res->code ? res->code
                                         : TALLY__ERROR_CODE__ERROR_INTERNAL,
                    res->message);
  } else if (res->must_change) {
    rc = post_signed_in(p, acc, 0, 1);
  } else {
    snprintf(p->cookie, sizeof p->cookie,
             COOKIE_NAME "=%s; Path=/; HttpOnly; Secure; SameSite=Strict; "
                         "Max-Age=%lld",
             res->cookie, (long long)(res->expires - (int64_t)time(NULL)));
    p->secret = 1;
    rc = post_signed_in(p, acc, res->expires, 0);
  }
  if (rc != 0) {
    lws_set_timeout(p->wsi, PENDING_TIMEOUT_CLOSE_ACK, 1); /* not _ASYNC: peer_close */
    return;
  }
  lws_callback_on_writable(p->wsi);
}

/* The body is in: sign in, or out. Returns non-zero to close. */
static int post_complete(tally_web *w, struct lws *wsi, pss *ps) {
  web_post *p = ps->post;
  Tally__Envelope *env = NULL;
  char why[128];
  if (p->too_large)
    return post_error(p, 413, TALLY__ERROR_CODE__ERROR_FRAME_TOO_LARGE,
                      "the request is too large");
  if (p->end) { /* signing out: the session ends, its pages close */
    tally_session s;
    if (session_of(w, wsi, &s, NULL) == 0) {
      tally_log("web: account %llu signed out from %s",
                (unsigned long long)s.account, ps->peer);
      tally_sessions_end(w->svc.sessions, s.secret_sha256);
    }
    snprintf(p->cookie, sizeof p->cookie,
             COOKIE_NAME "=; Path=/; HttpOnly; Secure; SameSite=Strict; "
                         "Max-Age=0");
    Tally__Envelope ok = TALLY__ENVELOPE__INIT;
    return post_answer(p, 200, &ok);
  }
  int bad = tally_wire_decode(p->body, p->len, &env, why, sizeof why);
  explicit_bzero(p->body, sizeof p->body);
  if (bad != 0)
    return post_error(p, 400, TALLY__ERROR_CODE__ERROR_BAD_FRAME, why);
  if (env->body_case != TALLY__ENVELOPE__BODY_SIGN_IN) {
    tally_wire_free(env);
    return post_error(p, 400, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                      "POST /session takes a sign-in request");
  }
  int rc = tally_sign_in_start(&w->svc, ps->peer, env->sign_in, signed_in, p);
  tally_wire_free(env); /* its passwords were wiped */
  if (rc != 0)
    return -1;
  w->inflight++;
  p->pending = 1; /* the sign-in's now; the wsi is NULLed if it closes */
  web_peer *pe = peer_find(w, wsi);
  if (pe) {
    pe->signing_in = 1; /* not closed for the time the check takes */
    pe->checking_since = uv_now(w->loop);
  }
  return 0;
}

/* GET /session: who the cookie signs in as (for the page to decide
 * whether to show the sign-in form). */
static int get_session(tally_web *w, struct lws *wsi, web_post *p) {
  tally_session s;
  int64_t expires = 0;
  if (session_of(w, wsi, &s, &expires) != 0)
    return post_error(p, 401, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED,
                      "not signed in (请登录)");
  tally_account *acc = tally_accounts_find(w->svc.accounts, s.account);
  if (acc == NULL || acc->revoked)
    return post_error(p, 401, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED,
                      "not signed in (请登录)");
  return post_signed_in(p, acc, expires, 0);
}

/* Writes the POST's or GET's answer. Returns what the callback returns. */
static int post_write(struct lws *wsi, web_post *p) {
  uint8_t buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *at = start,
                               *end = buf + sizeof buf;
  if (lws_add_http_common_headers(wsi, p->status, "application/x-protobuf",
                                  p->reply_len, &at, end) ||
      lws_add_http_header_by_name(wsi, (const uint8_t *)"cache-control:",
                                  (const uint8_t *)"no-store", 8, &at, end) ||
      (*p->cookie &&
       lws_add_http_header_by_name(wsi, (const uint8_t *)"set-cookie:",
                                   (const uint8_t *)p->cookie,
                                   (int)strlen(p->cookie), &at, end)) ||
      lws_finalize_write_http_header(wsi, start, &at, end))
    return -1;
  explicit_bzero(start, (size_t)(at - start)); /* the cookie */
  if (p->reply_len > 0) {
    uint8_t *body = malloc(LWS_PRE + p->reply_len);
    if (body == NULL)
      return -1;
    memcpy(body + LWS_PRE, p->reply, p->reply_len);
    int n = lws_write(wsi, body + LWS_PRE, p->reply_len, LWS_WRITE_HTTP_FINAL);
    free(body);
    if (n < (int)p->reply_len)
      return -1;
  }
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- WebSocket ---- */

static void conn_unlink(web_conn *c) {
  tally_web *w = c->web;
  if (c->prev)
    c->prev->next = c->next;
  else if (w->conns == c)
    w->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  c->prev = c->next = NULL;
}

static void conn_free(web_conn *c) {
  for (msg *m = c->queue, *next; m; m = next) {
    next = m->next;
    explicit_bzero(m->bytes, m->len);
    free(m);
  }
  if (c->in)
    explicit_bzero(c->in, c->in_cap);
  free(c->in);
  if (c->out && c->out_secret)
    explicit_bzero(c->out, LWS_PRE + c->out_len);
  free(c->out);
  free(c);
}

/* Closes c (status, reason) as soon as it can write. */
static void conn_kill(web_conn *c, int status, const char *why) {
  if (c->wsi == NULL || c->kill)
    return;
  c->kill = status;
  c->kill_why = why;
  lws_callback_on_writable(c->wsi);
}

static void conn_next(web_conn *c);

/* The reply to c->req, now or later (dispatch.h). */
static void conn_reply(tally_request *r, const Tally__Envelope *reply) {
  web_conn *c = r->transport;
  tally_web *w = c->web;
  int secret = r->secret_reply;
  w->inflight--;
  if (c->wsi != NULL && reply != NULL) {
    size_t n = tally__envelope__get_packed_size(reply);
    c->out = malloc(LWS_PRE + (n ? n : 1));
    if (c->out) {
      tally__envelope__pack(reply, c->out + LWS_PRE);
      c->out_len = n;
      c->out_secret = secret;
    }
  }
  tally_request_end(r);
  free(r);
  c->req = NULL;
  if (c->wsi == NULL) {
    conn_free(c);
    web_settle(w);
    return;
  }
  if (c->out == NULL) {
    conn_kill(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "no memory");
    return;
  }
  lws_callback_on_writable(c->wsi);
}

/* Handles one message: an Envelope, dispatched. */
static void conn_message(web_conn *c, uint8_t *bytes, size_t len) {
  tally_web *w = c->web;
  Tally__Envelope *env = NULL;
  char why[128];
  tally_request *r = malloc(sizeof *r);
  if (r == NULL) {
    explicit_bzero(bytes, len);
    conn_kill(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "no memory");
    return;
  }
  tally_request_init(r, &w->svc, &c->session, c->peer, conn_reply, c);
  /* Decoded into the request's arena, freed with it. */
  int bad = tally_wire_decode_in(r->arena, bytes, len, &env, why, sizeof why);
  explicit_bzero(bytes, len);
  c->req = r;
  w->inflight++;
  lws_rx_flow_control(c->wsi, 0); /* one request at a time */
  if (bad != 0) {
    tally_log("web: undecodable message of %zu bytes from %s: %s", len,
              c->peer, why);
    conn_reply(r, tally_reply_error(r, 0, TALLY__ERROR_CODE__ERROR_BAD_FRAME,
                                    "%s", why));
    return;
  }
  if (env->auth && env->auth->token && *env->auth->token) {
    explicit_bzero(env->auth->token, strlen(env->auth->token));
    conn_reply(r, tally_reply_error(
                      r, env->id, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED,
                      "the web pages sign in with a password, not a token"));
    return;
  }
  tally_dispatch(r, env);
}

/* The reply went out: the next message waiting, if any, is handled. */
static void conn_next(web_conn *c) {
  if (c->req || c->out || c->kill || c->wsi == NULL)
    return;
  msg *m = c->queue;
  if (m == NULL) {
    lws_rx_flow_control(c->wsi, 1);
    return;
  }
  c->queue = m->next;
  if (c->queue == NULL)
    c->queue_tail = NULL;
  c->queued--;
  conn_message(c, m->bytes, m->len);
  free(m);
}

/* A whole message was read. */
static void conn_received(web_conn *c) {
  uint8_t *bytes = c->in;
  size_t len = c->in_len;
  c->in = NULL;
  c->in_len = c->in_cap = 0;
  if (c->req == NULL && c->out == NULL && c->queue == NULL) {
    conn_message(c, bytes ? bytes : (uint8_t *)"", len);
    free(bytes);
    return;
  }
  if (c->queued >= QUEUE_MAX) {
    if (bytes)
      explicit_bzero(bytes, len);
    free(bytes);
    conn_kill(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
              "too many requests at once");
    return;
  }
  msg *m = malloc(sizeof *m + len);
  if (m == NULL) {
    free(bytes);
    conn_kill(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "no memory");
    return;
  }
  m->next = NULL;
  m->len = len;
  if (len)
    memcpy(m->bytes, bytes, len);
  if (bytes)
    explicit_bzero(bytes, len);
  free(bytes);
  if (c->queue_tail)
    c->queue_tail->next = m;
  else
    c->queue = m;
  c->queue_tail = m;
  c->queued++;
}

/* A piece of a message. Returns non-zero to close. */
static int conn_receive(web_conn *c, struct lws *wsi, const void *in,
                        size_t len) {
  tally_web *w = c->web;
  if (!lws_frame_is_binary(wsi)) {
    conn_kill(c, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
              "binary messages only: one Envelope each");
    return 0;
  }
  if (c->in_len + len > w->cfg.max_frame) {
    tally_log("web: a message over %zu bytes from %s; closing",
              w->cfg.max_frame, c->peer);
    conn_kill(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
    return 0;
  }
  if (c->in_len + len > c->in_cap) {
    size_t cap = c->in_cap ? c->in_cap : 4096;
    while (cap < c->in_len + len)
      cap *= 2;
    uint8_t *grown = malloc(cap); /* not realloc: it may leave a copy */
    if (grown == NULL)
      return -1;
    if (c->in_len) {
      memcpy(grown, c->in, c->in_len);
      explicit_bzero(c->in, c->in_len);
    }
    free(c->in);
    c->in = grown;
    c->in_cap = cap;
  }
  if (len)
    memcpy(c->in + c->in_len, in, len);
  c->in_len += len;
  if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0)
    conn_received(c);
  return 0;
}

/* A session ended (sessions.h): its WebSockets close at once. */
static void session_ended(void *arg, const uint8_t sha256[32]) {
  tally_web *w = arg;
  for (web_conn *c = w->conns; c; c = c->next)
    if (c->session.web &&
        memcmp(c->session.secret_sha256, sha256, 32) == 0) {
      tally_log("web: closing the page of account %llu from %s: its "
                "session ended",
                (unsigned long long)c->session.account, c->peer);
      conn_kill(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "session ended");
    }
}

/* ---- connections not signed in ---- */

/* Closes pe's connection: now, when not in a callback of lws's (pe may
 * be freed at once), or within a second (lws 4.1's LWS_TO_KILL_ASYNC
 * cancels a timeout instead of firing it). */
static void peer_close(web_peer *pe, const char *why, int now) {
  tally_log("web: connection from %s closed: %s", pe->sender, why);
  pe->closing = 1;
  lws_set_timeout(pe->wsi, PENDING_TIMEOUT_USER_OK, now ? LWS_TO_KILL_SYNC : 1);
}

/* Whether a connection from sender may be accepted: NULL, or why not.
 * A sender may have max_per_address connections not signed in; when
 * max_connections are open, the one that has gone longest without
 * signing in is closed to make room (never a signed-in WebSocket). */
static const char *peer_admit(tally_web *w, const char *sender) {
  unsigned from_sender = 0, live = 0;
  web_peer *oldest = NULL;
  for (web_peer *pe = w->peers; pe; pe = pe->next) {
    if (pe->closing)
      continue;
    live++;
    if (pe->signed_in)
      continue;
    oldest = pe; /* the list is newest first */
    from_sender += strcmp(pe->sender, sender) == 0;
  }
  if (from_sender >= w->cfg.max_per_address)
    return "too many connections from this address have not signed in";
  if (live < w->cfg.max_connections)
    return NULL;
  if (oldest == NULL)
    return "the server has too many connections";
  peer_close(oldest, "to make room: it had not signed in", 0);
  return NULL;
}

/* Every second: closes the connections that have not become a
 * signed-in WebSocket within the sign-in timeout. */
static void peer_sweep(uv_timer_t *t) {
  tally_web *w = t->data;
  uint64_t now = uv_now(w->loop);
  for (web_peer *pe = w->peers, *next; pe; pe = next) {
    next = pe->next; /* pe may be gone once closed */
    if (!pe->signed_in && !pe->signing_in && !pe->closing &&
        now - pe->opened >= w->cfg.sign_in_timeout_ms)
      peer_close(pe, "not signed in within the sign-in timeout", 1);
  }
}

static void peer_unlink(tally_web *w, web_peer *pe) {
  if (pe->prev)
    pe->prev->next = pe->next;
  else
    w->peers = pe->next;
  if (pe->next)
    pe->next->prev = pe->prev;
  w->n_peers--;
}

/* ---- the protocol's callback ---- */

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len) {
  tally_web *w = lws_context_user(lws_get_context(wsi));
  pss *ps = user;
  char uri[64];

  switch (reason) {
  case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: {
    /* wsi is the listener's here; the new one is made next. */
    const struct lws_filter_network_conn_args *a = user;
    char peer[64];
    tally_address_format(&a->cli_addr, peer, sizeof peer);
    tally_address_sender(peer, w->accepting, sizeof w->accepting);
    const char *why = w->stopping ? "stopping" : peer_admit(w, w->accepting);
    if (why) {
      tally_log("web: a connection from %s refused: %s", peer, why);
      w->accepting[0] = 0;
      return 1;
    }
    return 0;
  }
  case LWS_CALLBACK_WSI_CREATE: {
    if (!w->accepting[0])
      return 0; /* the listener's own */
    web_peer *pe = calloc(1, sizeof *pe);
    if (pe == NULL)
      return 0; /* not counted, as lws's own are not */
    pe->web = w;
    pe->wsi = wsi;
    memcpy(pe->sender, w->accepting, sizeof pe->sender);
    pe->opened = uv_now(w->loop);
    w->accepting[0] = 0;
    pe->next = w->peers;
    if (w->peers)
      w->peers->prev = pe;
    w->peers = pe;
    w->n_peers++;
    return 0;
  }
  case LWS_CALLBACK_WSI_DESTROY: {
    web_peer *pe = peer_find(w, wsi);
    if (pe) {
      peer_unlink(w, pe);
      free(pe);
    }
    return 0;
  }
  case LWS_CALLBACK_HTTP: {
    if (w->stopping)
      return -1;
    int post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    lws_hdr_copy(wsi, uri, sizeof uri,
                 post ? WSI_TOKEN_POST_URI : WSI_TOKEN_GET_URI);
    peer_of(wsi, ps->peer, sizeof ps->peer);
    if (ps->post && ps->post->pending)
      ps->post->wsi = NULL; /* its sign-in frees it */
    else
      post_free(ps->post);
    ps->post = NULL;
    int end = strcmp(uri, "/session/end") == 0;
    if (strcmp(uri, "/session") != 0 && !end) {
      lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL);
      return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    if ((ps->post = calloc(1, sizeof *ps->post)) == NULL)
      return -1;
    ps->post->web = w;
    ps->post->wsi = wsi;
    if (!post) {
      if (end || get_session(w, wsi, ps->post) != 0)
        return -1;
      lws_callback_on_writable(wsi);
      return 0;
    }
    if (!same_origin(w, wsi)) {
      tally_log("web: a POST %s from another origin, from %s; refused", uri,
                ps->peer);
      if (post_error(ps->post, 403, TALLY__ERROR_CODE__ERROR_PERMISSION_DENIED,
                     "another origin may not sign in here") != 0)
        return -1;
      ps->post->end = -1; /* answered already: the body is dropped */
    }
    if (end)
      ps->post->end = ps->post->end ? ps->post->end : 1;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 ||
        (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_HTTP_CONTENT_LENGTH) >
             0 &&
         strcmp(uri, "0") == 0)) {
      /* No body to wait for. */
      if (!ps->post->ready && post_complete(w, wsi, ps) != 0)
        return -1;
      if (ps->post->ready)
        lws_callback_on_writable(wsi);
    }
    return 0; /* the body follows */
  }
  case LWS_CALLBACK_HTTP_BODY:
    if (ps->post && !ps->post->ready) {
      if (ps->post->len + len > BODY_MAX)
        ps->post->too_large = 1;
      else {
        memcpy(ps->post->body + ps->post->len, in, len);
        ps->post->len += len;
      }
    }
    return 0;
  case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    if (ps->post == NULL)
      return -1;
    if (!ps->post->ready && !ps->post->pending &&
        post_complete(w, wsi, ps) != 0)
      return -1;
    if (ps->post->ready)
      lws_callback_on_writable(wsi);
    return 0;
  case LWS_CALLBACK_HTTP_WRITEABLE:
    if (ps->post == NULL || !ps->post->ready || ps->post->pending)
      return 0;
    {
      /* Completing the transaction frees (or renews) ps: take p first. */
      web_post *p = ps->post;
      ps->post = NULL;
      int rc = post_write(wsi, p);
      post_free(p);
      return rc;
    }
  case LWS_CALLBACK_CLOSED_HTTP:
    if (ps && ps->post) {
      if (ps->post->pending)
        ps->post->wsi = NULL; /* its sign-in frees it when done */
      else
        post_free(ps->post);
      ps->post = NULL;
    }
    return 0;

  case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
    char peer[64];
    peer_of(wsi, peer, sizeof peer);
    if (w->stopping)
      return 1;
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
        strcmp(uri, "/ws") != 0) {
      tally_log("web: a WebSocket to %s from %s; refused", uri, peer);
      return 1;
    }
    if (!same_origin(w, wsi)) {
      tally_log("web: a WebSocket from another origin, from %s; refused",
                peer);
      return 1;
    }
    if (session_of(w, wsi, &ps->session, NULL) != 0) {
      tally_log("web: a WebSocket without a session, from %s; refused", peer);
      return 1;
    }
    return 0;
  }
  case LWS_CALLBACK_ESTABLISHED: {
    web_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
      return -1;
    c->web = w;
    c->wsi = wsi;
    c->session = ps->session;
    peer_of(wsi, c->peer, sizeof c->peer);
    c->next = w->conns;
    if (w->conns)
      w->conns->prev = c;
    w->conns = c;
    ps->conn = c;
    web_peer *pe = peer_find(w, wsi);
    if (pe)
      pe->signed_in = 1; /* no longer counted, nor timed */
    tally_log("web: page of account %llu opened from %s",
              (unsigned long long)c->session.account, c->peer);
    return 0;
  }
  case LWS_CALLBACK_RECEIVE:
    if (ps->conn == NULL || ps->conn->kill)
      return 0;
    return conn_receive(ps->conn, wsi, in, len);
  case LWS_CALLBACK_SERVER_WRITEABLE: {
    web_conn *c = ps->conn;
    if (c == NULL)
      return 0;
    if (c->kill) {
      /* The close frame, written here: returning -1 from this callback
       * marks the socket unusable, so lws sends no close frame of its
       * own (lws_close_reason's) before it shuts it. 4 is the close
       * opcode's write type (LWS_WRITE_CLOSE, which lws-write.h no
       * longer names; lws_write frames it as any other). */
      uint8_t frame[LWS_PRE + 2 + 123];
      size_t n = strlen(c->kill_why);
      if (n > 123)
        n = 123;
      frame[LWS_PRE] = (uint8_t)(c->kill >> 8);
      frame[LWS_PRE + 1] = (uint8_t)c->kill;
      memcpy(frame + LWS_PRE + 2, c->kill_why, n);
      lws_write(wsi, frame + LWS_PRE, 2 + n, (enum lws_write_protocol)4);
      return -1;
    }
    if (c->out == NULL)
      return 0;
    int n = lws_write(wsi, c->out + LWS_PRE, c->out_len, LWS_WRITE_BINARY);
    if (c->out_secret)
      explicit_bzero(c->out, LWS_PRE + c->out_len);
    free(c->out);
    c->out = NULL;
    if (n < (int)c->out_len)
      return -1;
    conn_next(c);
    return 0;
  }
  case LWS_CALLBACK_CLOSED: {
    web_conn *c = ps->conn;
    if (c == NULL)
      return 0;
    ps->conn = NULL;
    c->wsi = NULL;
    conn_unlink(c);
    tally_log("web: page of account %llu closed: %s",
              (unsigned long long)c->session.account, c->peer);
    if (c->req == NULL)
      conn_free(c); /* else freed when its reply comes */
    return 0;
  }
  default:
    break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* lws's own errors and warnings go to the log. */
static void lws_emit(int level, const char *line) {
  size_t n = strlen(line);
  while (n > 0 && line[n - 1] == '\n')
    n--;
  tally_log("web: lws: %.*s", (int)n, line);
}

/* An address as lws takes it: host text and port, and its family. */
static int split(const char *listen, char *host, size_t hn, int *port,
                 int *loopback, int *family, char *err, size_t errlen) {
  struct sockaddr_storage ss;
  if (tally_address_parse(listen, &ss) != 0) {
    snprintf(err, errlen, "--http %s: expected HOST:PORT, e.g. "
             "127.0.0.1:8080 or [::1]:8080", listen);
    return -EINVAL;
  }
  *loopback = tally_address_is_loopback((const struct sockaddr *)&ss);
  *family = ss.ss_family;
  char text[80];
  tally_address_format(&ss, text, sizeof text);
  if (tally_address_split(text, host, hn, port) != 0)
    return -EINVAL;
  return 0;
}

int tally_web_check(const tally_web_config *cfg, char *err, size_t errlen) {
  char host[64];
  int port, loopback, family, rc;
  if (cfg->n_listen == 0 || cfg->n_listen > TALLY_WEB_LISTEN_MAX) {
    snprintf(err, errlen, "--http: from 1 to %d addresses, not %zu",
             TALLY_WEB_LISTEN_MAX, cfg->n_listen);
    return -EINVAL;
  }
  for (size_t i = 0; i < cfg->n_listen; i++) {
    if ((rc = split(cfg->listen[i], host, sizeof host, &port, &loopback,
                    &family, err, errlen)) != 0)
      return rc;
    if (cfg->tls_cert == NULL && !loopback && !cfg->insecure_plaintext) {
      snprintf(err, errlen, "refusing to serve HTTP on %s without TLS: "
               "passwords and figures would cross the network in the "
               "clear. Give --tls-cert and --tls-key (deploy/make-ca.sh "
               "makes them), or --insecure-plaintext if the network is "
               "otherwise protected", cfg->listen[i]);
      return TALLY_EUSAGE;
    }
  }
  return 0;
}

/* Why lws could not listen on address (it logs the errno, and does not
 * return it): a socket bound there as lws binds it tells, in libuv's
 * words as the TCP listener's. NULL when that one binds. */
static const char *bind_problem(const char *address, int v6only) {
  struct sockaddr_storage ss;
  int one = 1, rc = 0;
  if (tally_address_parse(address, &ss) != 0)
    return NULL;
  int fd = socket(ss.ss_family, SOCK_STREAM, 0);
  if (fd < 0)
    return uv_strerror(uv_translate_sys_error(errno));
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ss.ss_family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  socklen_t len = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                           : sizeof(struct sockaddr_in);
  if (bind(fd, (struct sockaddr *)&ss, len) != 0)
    rc = errno;
  close(fd);
  return rc ? uv_strerror(uv_translate_sys_error(rc)) : NULL;
}

/* Opens an asset for lws: FILE.gz (made by web/build.sh) when the
 * browser takes gzip and there is one, a regular file of FILE's own
 * time (gzip -k gives it that; another is not this FILE's), so that
 * lws sends it with
 * Content-Encoding: gzip; else FILE itself. */
static lws_fop_fd_t asset_open(const struct lws_plat_file_ops *fops,
                               const char *filename, const char *vpath,
                               lws_fop_flags_t *flags) {
  char gz[4096];
  struct stat plain, packed;
  if ((*flags & LWS_FOP_FLAG_COMPR_ACCEPTABLE_GZIP) &&
      (size_t)snprintf(gz, sizeof gz, "%s.gz", filename) < sizeof gz &&
      stat(filename, &plain) == 0 && S_ISREG(plain.st_mode) &&
      stat(gz, &packed) == 0 && S_ISREG(packed.st_mode) &&
      packed.st_mtim.tv_sec == plain.st_mtim.tv_sec &&
      packed.st_mtim.tv_nsec == plain.st_mtim.tv_nsec) {
    lws_fop_flags_t f = *flags;
    lws_fop_fd_t fd = _lws_plat_file_open(fops, gz, vpath, &f);
    if (fd != NULL) {
      *flags = f | LWS_FOP_FLAG_COMPR_IS_GZIP;
      fd->flags = *flags;
      return fd;
    }
  }
  return _lws_plat_file_open(fops, filename, vpath, flags);
}

/* What every response carries: no script, style, frame, form target or
 * connection but this origin's (and the annual report file's one
 * stylesheet, by its hash: the district report page opens the file to
 * print it, and a document made from a blob keeps this policy); no
 * sniffing; no framing; no referrer. */
static void csp_make(char *buf, size_t n) {
  const char *sheet = tally_report_html_stylesheet();
  unsigned char sha[32], b64[48];
  unsigned int len = 0;
  EVP_Digest(sheet, strlen(sheet), sha, &len, EVP_sha256(), NULL);
  EVP_EncodeBlock(b64, sha, 32);
  snprintf(buf, n,
           "default-src 'self'; script-src 'self'; style-src 'self' "
           "'sha256-%s'; img-src 'self' data:; font-src 'self'; "
           "connect-src 'self'; object-src 'none'; base-uri 'none'; "
           "form-action 'self'; frame-ancestors 'none'",
           (const char *)b64);
}

/* The options of the context and of every vhost. */
static uint64_t base_options(const tally_web *w) {
  uint64_t o = LWS_SERVER_OPTION_LIBUV |
               LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
               LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  if (w->tls)
    o |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  return o;
}

/* Listens on the i-th address: a vhost of its own, with the same pages,
 * headers and certificate as the others. Returns 0, or TALLY_EUSAGE with
 * the address and why in err. */
static int vhost_start(tally_web *w, size_t i, char *err, size_t errlen) {
  const char *listen = w->cfg.listen[i];
  char *host = w->iface[i];
  int port, loopback, family, rc;
  if ((rc = split(listen, host, sizeof w->iface[i], &port, &loopback,
                  &family, err, errlen)) != 0)
    return rc;
  /* Alone, [::]:8443 takes IPv4 too; beside other addresses, IPv6 only,
   * so that [::]:8443 and 0.0.0.0:8443 bind together (as on TCP). */
  int v6only = family == AF_INET6 && w->cfg.n_listen > 1;
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  snprintf(w->vhost_name[i], sizeof w->vhost_name[i], "tally-%zu", i);
  info.vhost_name = w->vhost_name[i];
  /* An address lws cannot bind fails the vhost, rather than waiting in
   * lws for an interface to come. */
  info.options = base_options(w) | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
  if (family != AF_INET6)
    info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  if (v6only)
    info.options |= LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY |
                    LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE;
  info.port = port; /* 0: any free one */
  info.iface = host;
  info.protocols = w->protocols;
  info.mounts = &w->files;
  info.headers = w->headers;
  info.alpn = "http/1.1";
  if (w->tls) {
    info.options |= LWS_SERVER_OPTION_STS;
    info.ssl_cert_filepath = w->cfg.tls_cert;
    info.ssl_private_key_filepath = w->cfg.tls_key;
  }
  struct lws_vhost *vh = lws_create_vhost(w->ctx, &info);
  if (vh == NULL) {
    const char *why = bind_problem(listen, v6only);
    snprintf(err, errlen, "cannot serve the web pages on %s: %s", listen,
             why ? why : w->tls ? "the log says why (a certificate that "
                                  "does not load?)"
                                : "the log says why");
    return TALLY_EUSAGE;
  }
  int bound = lws_get_vhost_listen_port(vh);
  snprintf(w->origin[i], sizeof w->origin[i],
           strchr(host, ':') ? "%s://[%s]:%d" : "%s://%s:%d",
           w->tls ? "https" : "http", host, bound);
  w->n_vhosts++;
  return 0;
}

int tally_web_start(uv_loop_t *loop, const tally_web_config *cfg,
                    tally_server *server, tally_web **out, char *err,
                    size_t errlen) {
  int rc;
  *out = NULL;
  if ((rc = tally_web_check(cfg, err, errlen)) != 0)
    return rc;
  tally_web *w = calloc(1, sizeof *w);
  if (w == NULL)
    return -ENOMEM;
  w->server = server;
  w->svc = *tally_server_services(server);
  w->cfg = *cfg;
  if (w->cfg.max_frame == 0)
    w->cfg.max_frame = 1u << 20;
  if (w->cfg.max_connections == 0)
    w->cfg.max_connections = 1000;
  if (w->cfg.max_per_address == 0)
    w->cfg.max_per_address = TALLY_SERVER_MAX_PER_ADDRESS;
  if (w->cfg.sign_in_timeout_ms == 0)
    w->cfg.sign_in_timeout_ms = TALLY_SERVER_SIGN_IN_TIMEOUT_MS;
  w->loop = loop;
  w->tls = cfg->tls_cert != NULL;

  csp_make(w->csp, sizeof w->csp);
  const char *const names[][2] = {
      {"content-security-policy:", w->csp},
      {"x-content-type-options:", "nosniff"},
      {"x-frame-options:", "DENY"},
      {"referrer-policy:", "no-referrer"},
      {"cross-origin-opener-policy:", "same-origin"},
      {"cross-origin-resource-policy:", "same-origin"},
      {"permissions-policy:", "camera=(), microphone=(), geolocation=()"},
      {"vary:", "Accept-Encoding"}, /* an asset is sent gzipped or not */
  };
  for (size_t i = 0; i < 8; i++) {
    w->headers[i].name = names[i][0];
    w->headers[i].value = names[i][1];
    w->headers[i].next = i + 1 < 8 ? &w->headers[i + 1] : NULL;
  }
  static const char *const types[][2] = {
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".wasm", "application/wasm"},
  };
  for (size_t i = 0; i < 3; i++) {
    w->mimes[i].name = types[i][0];
    w->mimes[i].value = types[i][1];
    w->mimes[i].next = i + 1 < 3 ? &w->mimes[i + 1] : NULL;
  }
  w->session.mountpoint = "/session";
  w->session.mountpoint_len = 8;
  w->session.origin = "tally";
  w->session.origin_protocol = LWSMPRO_CALLBACK;
  w->files.mount_next = &w->session;
  w->files.mountpoint = "/";
  w->files.mountpoint_len = 1;
  w->files.origin = cfg->web_dir;
  w->files.def = "index.html";
  w->files.origin_protocol = LWSMPRO_FILE;
  w->files.extra_mimetypes = w->mimes;
  w->protocols[0] = (struct lws_protocols){
      "tally", callback, sizeof(pss), 65536, 0, NULL, 0};

  lws_set_log_level(LLL_ERR | LLL_WARN, lws_emit);
  struct lws_context_creation_info info;
  void *loops[1] = {loop};
  memset(&info, 0, sizeof info);
  info.options = base_options(w);
  info.foreign_loops = loops;
  info.protocols = w->protocols;
  info.user = w;
  info.pcontext = &w->ctx; /* NULLed once lws has freed it */
  info.fd_limit_per_thread =
      w->cfg.max_connections + 32 + (unsigned)w->cfg.n_listen;
  info.timeout_secs = 20;
  w->ctx = lws_create_context(&info);
  if (w->ctx == NULL) {
    snprintf(err, errlen, "cannot serve the web pages: libwebsockets did "
             "not start (the log says why)");
    free(w);
    return TALLY_EUSAGE;
  }
  /* The context's own file operations (the platform's), with our open:
   * lws reads and closes the file as ever. */
  lws_get_fops(w->ctx)->LWS_FOP_OPEN = asset_open;
  for (size_t i = 0; i < w->cfg.n_listen; i++)
    if ((rc = vhost_start(w, i, err, errlen)) != 0) {
      /* lws closes what it opened as the loop runs: w lives until then
       * for its callbacks, and is freed by tally_web_free. */
      w->stopping = 1;
      lws_context_destroy(w->ctx);
      *out = w;
      return rc;
    }
  tally_sessions_on_end(w->svc.sessions, session_ended, w);
  uv_timer_init(loop, &w->sweep);
  w->sweep.data = w;
  uv_timer_start(&w->sweep, peer_sweep, 1000, 1000);
  w->sweeping = 1;
  tally_server_hold(server);
  w->held = 1;
  *out = w;
  return 0;
}

size_t tally_web_n_origins(const tally_web *w) { return w->n_vhosts; }

const char *tally_web_origin_at(const tally_web *w, size_t i) {
  return i < w->n_vhosts ? w->origin[i] : NULL;
}

int tally_web_reload_tls(tally_web *w, const char *cert, const char *key,
                         char *err, size_t errlen) {
  char *c = NULL, *k = NULL;
  size_t clen, klen;
  int rc;
  if (!w->tls)
    return 0;
  if ((rc = tally_file_read(cert, &c, &clen)) != 0 ||
      (rc = tally_file_read(key, &k, &klen)) != 0) {
    snprintf(err, errlen, "cannot read %s: %s", c ? key : cert,
             strerror(-rc));
    free(c);
    return rc;
  }
  /* lws finds the vhost by the certificate's path and swaps its keys. */
  rc = lws_tls_cert_updated(w->ctx, cert, key, c, clen, k, klen);
  explicit_bzero(k, klen);
  free(c);
  free(k);
  if (rc != 0) {
    snprintf(err, errlen, "libwebsockets did not take the certificate %s "
             "(a new path takes a restart)", cert);
    return TALLY_ETLS;
  }
  return 0;
}

void tally_web_stop(tally_web *w) {
  if (w->stopping)
    return;
  w->stopping = 1;
  tally_sessions_on_end(w->svc.sessions, NULL, NULL);
  if (w->sweeping)
    uv_close((uv_handle_t *)&w->sweep, NULL); /* w outlives the loop's run */
  lws_context_destroy(w->ctx); /* its handles close as the loop runs */
  web_settle(w);
}

void tally_web_free(tally_web *w) {
  if (w == NULL)
    return;
  /* With a foreign loop, lws frees the rest of its context when asked
   * again once its handles have closed. */
  for (int i = 0; i < 3 && w->ctx; i++)
    lws_context_destroy(w->ctx);
  for (web_conn *c = w->conns, *next; c; c = next) {
    next = c->next;
    if (c->req == NULL)
      conn_free(c);
  }
  free(w);
}
