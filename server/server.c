/* server.c: the listener and the connection state machine.
 *
 * The happy path: accept; read bytes into the server's read buffer;
 * feed them to the connection's frame reader; for each complete frame
 * decode the envelope, dispatch it, and queue the packed reply. The
 * reply to a write is queued only after its transaction committed: the
 * writer thread answers then.
 * The connection is one transport of server/dispatch.h: each request
 * is answered through conn_reply, at once or later (a write, once its
 * transaction has committed on the writer thread; slow work, once a pool
 * thread has done it). Until then the connection stops reading, so
 * replies keep the order of requests.
 * The failure modes: a zero or oversized length gets an error reply and
 * the connection is shut down (the stream is out of step); a body that
 * does not decode gets an error reply and the connection goes on; a
 * read error or EOF closes the connection, dropping a partial frame; a
 * connection that completes no frame within the idle timeout (a silent
 * or a trickling client) gets ERROR_TIMEOUT and is shut down, and so
 * does one not signed in within the sign-in timeout of opening, however
 * many frames it sends; a connection over the limit gets ERROR_BUSY and
 * is shut down (when all slots are taken, the one that has gone longest
 * without signing in is closed instead; one from an address with too
 * many not signed in is refused); running
 * out of memory closes the connection; a client that sends requests and
 * does not read the replies stops being read (backpressure); a failed
 * sign-in is answered only after TALLY_GUARD_DELAY_MS (to slow down
 * guessing), and the connection is then closed. Every path out goes
 * through conn_abort() or conn_close().
 * With TLS (tls.h) the bytes read are ciphertext: they go to the
 * connection's session, and the plaintext it gives is fed to the frame
 * reader as above; each reply is encrypted and the ciphertext sent. A
 * client whose first byte is not a TLS handshake record speaks plaintext:
 * it gets one plaintext error frame telling it so. A failed handshake is
 * logged and closes the connection; one that does not finish within the
 * idle timeout is closed; a connection over the limit is told "busy" once
 * its handshake is done, since it cannot read anything before.
 */
#include "server.h"

#include "address.h"
#include "arena.h"
#include "budget.h"
#include "dispatch.h"
#include "reply.h"
#include "error.h"
#include "frame.h"
#include "guard.h"
#include "log.h"
#include "wire.h"
#include "writer.h"
#include "store_accounts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_BUF_SIZE 65536
#define PLAIN_BUF_SIZE 16384 /* one TLS record's plaintext */

typedef struct tally_conn tally_conn;

struct tally_server {
  uv_tcp_t listeners[TALLY_SERVER_LISTEN_MAX]; /* first, so a handle cast
                                 finds the server; n_listeners in use */
  size_t n_listeners;
  uv_loop_t *loop;
  tally_server_config cfg;
  tally_writer *writer;       /* the writer thread: every write */
  tally_services svc;         /* what requests are served with */
  tally_guard *guard;         /* failed sign-ins per address */
  unsigned sweeps;            /* sweep ticks, to flush last-used times */
  unsigned report_files;      /* being made (svc.report_files) */
  struct touch {
    tally_write write;        /* first: the write is the touch */
    struct tally_server *server;
    uint64_t *ids;            /* accounts whose last-used time changed */
    int64_t *when;
    size_t n;
    int busy;                 /* queued and not yet done */
  } touch;
  char address[TALLY_SERVER_LISTEN_MAX][64]; /* bound addresses, with the
                                 real ports */
  tally_conn *conns;          /* open connections, a doubly linked list */
  tally_budget budget;        /* memory every connection holds, together */
  tally_conn *wait_head, *wait_tail; /* waiting for the budget, in order */
  unsigned n_conns;           /* connections in that list */
  unsigned holds;             /* other transports still answering */
  uv_timer_t sweep;           /* closes connections past their deadline */
  unsigned long next_conn_id;
  int stopping;
  int open_handles;           /* the server is freed when this reaches 0 */
  char read_buf[READ_BUF_SIZE]; /* shared: each read is consumed at once */
  uint8_t plain_buf[PLAIN_BUF_SIZE]; /* shared: decrypted, consumed at once */
};

struct tally_conn {
  uv_tcp_t tcp;               /* first: handle->data is the connection */
  tally_server *server;
  tally_frame_reader reader;
  char peer[64];
  char sender[48];            /* who it is counted as (address.h) */
  unsigned long id;
  int closing;                /* no more requests; close after the writes */
  int draining;               /* reading and dropping bytes until EOF */
  uint64_t deadline;          /* loop time by which a frame must complete */
  tally_request *req;         /* the request being answered, or NULL */
  int in_dispatch;            /* tally_dispatch is on the stack */
  int reply_rc;               /* what sending its reply gave, meanwhile */
  int closed;                 /* the handle closed while a reply was owed */
  int paused;                 /* reading stopped: replies not taken */
  int waiting;                /* reading stopped: in the budget's queue */
  tally_conn *wait_prev, *wait_next;
  size_t reader_held;         /* the reader's buffer, as counted */
  size_t queued;              /* memory held by writes not yet done */
  int secret_out;             /* the reply being queued carries a token */
  uint8_t *stash;             /* bytes read but not handled yet (plaintext) */
  size_t stash_len;
  tally_session session;      /* the account signed in */
  uint64_t opened;            /* loop time it was accepted */
  unsigned long requests;     /* requests dispatched */
  uint8_t *late;              /* a refused sign-in's reply, sent at the
                                 deadline; the connection then closes */
  size_t late_len;
  tally_tls_session *tls;     /* NULL on plaintext (or after a plaintext
                                 client was found on a TLS listener) */
  int tls_seen;               /* the first byte has been looked at */
  const char *busy;           /* over a limit (why): refused after the
                                 handshake */
  uv_shutdown_t shutdown_req;
  tally_conn *prev, *next;
};

typedef struct {
  uv_write_t req;             /* first: the request's data is the write */
  int secret;                 /* zeroed once written */
  size_t len;
  uint8_t bytes[];            /* the frame being sent */
} conn_out;

static void handle_closed(uv_handle_t *h);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);

static void sweep_stop(tally_server *s);

/* Takes c out of the queue of connections waiting for the budget. */
static void wait_remove(tally_conn *c) {
  tally_server *s = c->server;
  if (!c->waiting)
    return;
  if (c->wait_prev)
    c->wait_prev->wait_next = c->wait_next;
  else
    s->wait_head = c->wait_next;
  if (c->wait_next)
    c->wait_next->wait_prev = c->wait_prev;
  else
    s->wait_tail = c->wait_prev;
  c->wait_prev = c->wait_next = NULL;
  c->waiting = 0;
}

/* Puts c at the end of the queue: it reads nothing until its turn. */
static void wait_add(tally_conn *c) {
  tally_server *s = c->server;
  if (c->waiting)
    return;
  c->waiting = 1;
  c->wait_prev = s->wait_tail;
  c->wait_next = NULL;
  if (s->wait_tail)
    s->wait_tail->wait_next = c;
  else
    s->wait_head = c;
  s->wait_tail = c;
  uv_read_stop((uv_stream_t *)&c->tcp);
}

/* Gives back what the reader and the stash of c hold. */
static void conn_give_back(tally_conn *c) {
  tally_budget_give(&c->server->budget, c->reader_held + c->stash_len);
  c->reader_held = 0;
}

static void budget_resume(tally_server *s);

static void conn_unlink(tally_conn *c) {
  tally_server *s = c->server;
  wait_remove(c);
  if (c->prev)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  s->n_conns--;
  if (s->cfg.health)
    s->cfg.health->connections = s->n_conns;
  if (s->stopping && s->conns == NULL && s->holds == 0)
    sweep_stop(s); /* the last connection of a stopping server */
}

static void conn_closed(uv_handle_t *h) {
  tally_conn *c = h->data;
  tally_server *s = c->server;
  if (c->req) {
    c->closed = 1; /* freed when its reply comes back */
    return;
  }
  /* The one line of a connection: who it was, what it did. */
  tally_log("connection %lu closed: %s%s, %s%s, %lu request%s in %.1f s",
            c->id, c->peer, c->tls ? " (TLS)" : "",
            c->session.who[0] ? "signed in as " : "not signed in",
            c->session.who, c->requests, c->requests == 1 ? "" : "s",
            (double)(uv_now(s->loop) - c->opened) / 1e3);
  conn_give_back(c);
  tally_frame_reader_reset(&c->reader);
  tally_tls_session_free(c->tls);
  if (c->stash)
    explicit_bzero(c->stash, c->stash_len);
  free(c->stash);
  free(c->late);
  free(c);
  if (!s->stopping)
    budget_resume(s); /* what it held may let others go on */
  handle_closed((uv_handle_t *)&s->listeners[0]);
}

/* Closes the connection now, dropping anything queued. */
static void conn_abort(tally_conn *c) {
  if (uv_is_closing((uv_handle_t *)&c->tcp))
    return;
  c->closing = 1;
  conn_unlink(c);
  uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void after_shutdown(uv_shutdown_t *req, int status) {
  tally_conn *c = req->data;
  if (!c->draining || status < 0)
    conn_abort(c);
}

/* How long a closing connection may take to take its replies (and, when
 * draining, to stop sending) before it is closed regardless. */
#define CLOSE_MS 2000

/* Ends the connection gently: no more requests; its replies go out, then
 * its FIN. drain: the client may still be sending (after a frame the
 * server refused unread, or a refusal it sent unasked); closing with
 * unread bytes would send a reset that can destroy the reply before the
 * client reads it, so input is read and dropped until the client closes.
 * A client that takes nothing in CLOSE_MS is closed regardless.
 * With TLS, close_notify goes out before the FIN. */
static int conn_flush(tally_conn *c);

static void conn_close(tally_conn *c, int drain) {
  if (c->closing)
    return;
  c->closing = 1;
  c->draining = drain;
  wait_remove(c);
  c->deadline = uv_now(c->server->loop) + CLOSE_MS;
  /* Reading on while draining; already reading gives UV_EALREADY. */
  if (drain)
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  else
    uv_read_stop((uv_stream_t *)&c->tcp);
  c->paused = 0;
  if (c->tls) {
    tally_tls_session_shutdown(c->tls);
    if (conn_flush(c) != 0) {
      conn_abort(c);
      return;
    }
  }
  c->shutdown_req.data = c;
  if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, after_shutdown) != 0)
    conn_abort(c);
}

/* Replies queued beyond this stop the connection's reading until the
 * client has taken them: a client that sends and never reads cannot make
 * the server hold its replies in memory without end. What counts is the
 * memory each write holds, not its bytes alone (a small reply costs
 * several times its size), and a connection not signed in gets less. */
#define WRITE_QUEUE_HIGH (1u << 20)
#define WRITE_QUEUE_HIGH_ANONYMOUS (64u << 10)
#define WRITE_COST(len) (sizeof(conn_out) + (len) + 32 /* malloc's own */)

static size_t queue_high(const tally_conn *c) {
  return c->session.account ? WRITE_QUEUE_HIGH : WRITE_QUEUE_HIGH_ANONYMOUS;
}

static void conn_resume(tally_conn *c);

/* A request was answered, or a reply taken while the connection waits
 * on the server: a signed-in connection has the idle timeout again; one
 * not signed in keeps the deadline it opened with, so that neither its
 * frames without a token nor waiting can keep its slot. */
static void conn_extend(tally_conn *c) {
  if (c->session.account)
    c->deadline = uv_now(c->server->loop) + c->server->cfg.idle_timeout_ms;
}

static void after_write(uv_write_t *req, int status) {
  conn_out *w = (conn_out *)req;
  tally_conn *c = req->data;
  c->queued -= WRITE_COST(w->len);
  tally_budget_give(&c->server->budget, WRITE_COST(w->len));
  if (w->secret)
    explicit_bzero(w->bytes, w->len);
  free(w);
  if (status < 0 && status != UV_ECANCELED) {
    conn_abort(c);
    return;
  }
  if (c->waiting && c->queued == 0) {
    /* It took every reply: it holds nothing of the budget to wait for. */
    wait_remove(c);
    if (!c->closing && !c->paused)
      conn_resume(c);
  } else if (c->waiting) {
    conn_extend(c); /* it takes its replies: waiting on the server */
  }
  if (c->paused && !c->closing && c->queued <= queue_high(c) / 4)
    conn_resume(c);
  budget_resume(c->server);
}

/* Queues w (its bytes, len and secret set) for the socket, counted in
 * what the connection holds. Returns 0, or non-zero (w freed) when the
 * connection must be aborted. */
static int write_queue(tally_conn *c, conn_out *w) {
  w->req.data = c;
  uv_buf_t buf = uv_buf_init((char *)w->bytes, (unsigned)w->len);
  int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, after_write);
  if (rc != 0) {
    free(w); /* the callback never fires when uv_write fails */
    return rc;
  }
  c->queued += WRITE_COST(w->len);
  tally_budget_take(&c->server->budget, WRITE_COST(w->len));
  return 0;
}

/* Queues len bytes for the socket. Returns as write_queue. */
static int conn_write(tally_conn *c, const uint8_t *bytes, size_t len) {
  conn_out *w = malloc(sizeof *w + len);
  if (w == NULL)
    return -ENOMEM;
  memcpy(w->bytes, bytes, len);
  w->len = len;
  w->secret = c->secret_out;
  return write_queue(c, w);
}

/* Queues the ciphertext the TLS session has for the peer: handshake
 * messages, alerts, records. Returns as conn_write. */
static int conn_flush(tally_conn *c) {
  size_t n;
  while ((n = tally_tls_session_pending(c->tls)) > 0) {
    if (uv_is_closing((uv_handle_t *)&c->tcp))
      return UV_ECANCELED; /* aborted: nothing more goes out */
    conn_out *w = malloc(sizeof *w + n);
    if (w == NULL)
      return -ENOMEM;
    if ((w->len = tally_tls_session_take(c->tls, w->bytes, n)) == 0) {
      free(w); /* pending, yet nothing to take: never loop on it */
      return -EIO;
    }
    w->secret = 0; /* ciphertext */
    int rc = write_queue(c, w);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Queues a packed frame (encrypted, with TLS). Returns 0, or non-zero
 * when the connection must be aborted. */
static int conn_send_frame(tally_conn *c, const uint8_t *frame, size_t len) {
  if (c->tls) {
    int rc = tally_tls_session_write(c->tls, frame, len);
    return rc == 0 ? conn_flush(c) : rc;
  }
  return conn_write(c, frame, len);
}

/* Packs env and queues it. Returns as conn_send_frame. */
static int conn_send(tally_conn *c, const Tally__Envelope *env) {
  uint8_t *frame;
  size_t len;
  int rc = tally_wire_pack(env, UINT32_MAX, &frame, &len);
  if (rc != 0)
    return rc;
  rc = conn_send_frame(c, frame, len);
  if (c->secret_out)
    explicit_bzero(frame, len);
  free(frame);
  return rc;
}

/* Sends an error reply built on the spot. Returns as conn_send. */
static int conn_send_error(tally_conn *c, uint64_t id, Tally__ErrorCode code,
                           const char *msg) {
  tally_request r;
  tally_request_init(&r, &c->server->svc, &c->session, c->peer, NULL, c);
  Tally__Envelope *env = tally_reply_error(&r, id, code, "%s", msg);
  int rc = env ? conn_send(c, env) : -ENOMEM;
  tally_request_end(&r);
  return rc;
}

/* Sends an error on the connection itself and closes it gently. */
static void conn_refuse(tally_conn *c, Tally__ErrorCode code,
                        const char *msg) {
  if (conn_send_error(c, 0, code, msg) != 0)
    conn_abort(c);
  else
    conn_close(c, 1);
}

/* Keeps a refused sign-in's reply to send after the delay; the
 * connection reads nothing more. Returns 0 or non-zero to abort. */
static int conn_answer_late(tally_conn *c, const Tally__Envelope *reply) {
  if (tally_wire_pack(reply, UINT32_MAX, &c->late, &c->late_len) != 0)
    return -ENOMEM;
  uv_read_stop((uv_stream_t *)&c->tcp);
  c->deadline = uv_now(c->server->loop) + TALLY_GUARD_DELAY_MS;
  return 0;
}

/* The largest frame the connection may send next: the server's limit
 * once it has signed in, the smaller one before. */
static size_t frame_limit(const tally_conn *c) {
  size_t max = c->server->cfg.max_frame;
  return c->session.account || max < TALLY_FRAME_PREAUTH_MAX
             ? max
             : TALLY_FRAME_PREAUTH_MAX;
}

/* The reply to c->req, now or later (dispatch.h): sends it, ends the
 * request, and when it came later reads on (or closes). */
static void conn_reply(tally_request *r, const Tally__Envelope *reply) {
  tally_conn *c = r->transport;
  int rc = 0;

  if (!c->closed) {
    if (reply && r->refused_sign_in) {
      rc = conn_answer_late(c, reply);
    } else {
      c->secret_out = r->secret_reply;
      rc = reply ? conn_send(c, reply) : -ENOMEM;
      c->secret_out = 0;
    }
  }
  tally_request_end(r); /* the reply, the job, the request's envelope */
  free(r);
  c->req = NULL;
  if (c->closed) {
    conn_closed((uv_handle_t *)&c->tcp);
    return;
  }
  c->reader.max = frame_limit(c);
  if (c->in_dispatch) {
    c->reply_rc = rc; /* conn_frame goes on */
    return;
  }
  if (rc != 0) {
    conn_abort(c);
    return;
  }
  conn_extend(c);
  if (c->server->stopping)
    conn_close(c, 0);
  else if (!c->closing && c->late == NULL)
    conn_resume(c);
}

/* Handles one complete frame body. Returns non-zero to abort. A token
 * the frame carried is zeroed before the reply goes out (the body here,
 * the request by dispatch once it checked it); one the reply carries,
 * once it is queued (its arena, its frame) and sent (its bytes). */
static int conn_frame(tally_conn *c, uint8_t *body, size_t len) {
  Tally__Envelope *env;
  char why[128];
  tally_request *r = malloc(sizeof *r);

  if (r == NULL) {
    explicit_bzero(body, len);
    return -ENOMEM;
  }
  tally_request_init(r, &c->server->svc, &c->session, c->peer, conn_reply, c);
  /* Decoded into the request's arena, freed with it. */
  int bad = tally_wire_decode_in(r->arena, body, len, &env, why, sizeof why);
  explicit_bzero(body, len); /* the request has its own copies */
  if (bad != 0) {
    tally_log("connection %lu: undecodable frame of %zu bytes from %s: %s",
              c->id, len, c->peer, why);
    tally_request_end(r);
    free(r);
    return conn_send_error(c, 0, TALLY__ERROR_CODE__ERROR_BAD_FRAME, why);
  }
  c->req = r;
  c->requests++;
  c->reply_rc = 0;
  c->in_dispatch = 1;
  tally_dispatch(r, env);
  c->in_dispatch = 0;
  if (c->req != NULL) /* answered later: read nothing more till then */
    uv_read_stop((uv_stream_t *)&c->tcp);
  return c->reply_rc;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  tally_conn *c = h->data;
  *buf = uv_buf_init(c->server->read_buf, READ_BUF_SIZE);
}

/* True when the connection must wait before it handles more requests:
 * work in a worker thread, replies the client has not taken, or, while
 * the connections together hold more than the budget, any reply at all
 * (one that holds none goes on: its reply is small and soon taken). */
static int conn_must_wait(tally_conn *c) {
  if (c->req || c->late)
    return 1;
  if (c->queued > queue_high(c)) {
    c->paused = 1;
    uv_read_stop((uv_stream_t *)&c->tcp);
    return 1;
  }
  if (c->queued > 0 && tally_budget_over(&c->server->budget)) {
    if (!c->waiting) /* idle only if it takes no reply from now on */
      conn_extend(c);
    wait_add(c);
    return 1;
  }
  return 0;
}

/* The frame a connection may always hold part of: as much as one not
 * signed in may send. */
#define SMALL_FRAME TALLY_FRAME_PREAUTH_MAX

/* Lets connections waiting for the budget go on, in the order they
 * began to wait, while it is not over. */
static void budget_resume(tally_server *s) {
  while (s->wait_head && !tally_budget_over(&s->budget)) {
    tally_conn *c = s->wait_head;
    wait_remove(c);
    conn_extend(c);
    conn_resume(c);
  }
}

/* Refuses the frame c is reading: the budget has no room for it. */
static void conn_refuse_memory(tally_conn *c) {
  char msg[160];
  tally_server *s = c->server;
  snprintf(msg, sizeof msg, "the server is short of memory for requests "
           "(its budget of %zu MiB is in use); try again later",
           s->budget.limit >> 20);
  tally_log("connection %lu: no memory in the budget for a frame of %zu "
            "bytes from %s; refusing", c->id, c->reader.body_len, c->peer);
  tally_budget_give(&s->budget, c->reader_held);
  c->reader_held = 0;
  tally_frame_reader_reset(&c->reader);
  conn_refuse(c, TALLY__ERROR_CODE__ERROR_BUSY, msg);
}

/* Feeds bytes to the frame reader and handles every frame they
 * complete. When the connection must wait, the bytes left are kept until
 * it goes on. The bytes are zeroed as they are taken (they may hold a
 * token), before any reply to them can go out. */
static void conn_feed(tally_conn *c, uint8_t *p, size_t left) {
  while (left > 0 && !c->closing && !conn_must_wait(c)) {
    uint8_t *body = NULL;
    size_t used, body_len = 0;
    /* The reader's buffer grows within what the budget has left, or
     * to a small frame's size whatever the budget: a request of a few
     * bytes is read even while replies fill it. */
    size_t room = c->reader_held + tally_budget_left(&c->server->budget);
    c->reader.room = room > SMALL_FRAME ? room : SMALL_FRAME;
    int rc = tally_frame_reader_feed(&c->reader, p, left, &used, &body,
                                     &body_len);
    tally_budget_move(&c->server->budget, c->reader_held, c->reader.cap);
    c->reader_held = c->reader.cap;
    explicit_bzero(p, used);
    p += used;
    left -= used;
    if (rc == 1) {
      rc = conn_frame(c, body, body_len);
      free(body);
      conn_extend(c);
      if (rc != 0) {
        conn_abort(c);
        break;
      }
    } else if (rc == TALLY_EFRAME2BIG || rc == TALLY_EFRAME) {
      char msg[128];
      if (rc == TALLY_EFRAME2BIG)
        snprintf(msg, sizeof msg, "frame of %zu bytes is over the limit of "
                 "%zu bytes%s", body_len, c->reader.max,
                 c->session.account ? "" : " before sign-in");
      else
        snprintf(msg, sizeof msg, "zero-length frame");
      tally_log("connection %lu: %s from %s; closing", c->id, msg, c->peer);
      conn_refuse(c,
                  rc == TALLY_EFRAME2BIG
                      ? TALLY__ERROR_CODE__ERROR_FRAME_TOO_LARGE
                      : TALLY__ERROR_CODE__ERROR_BAD_FRAME,
                  msg);
      break;
    } else if (rc == -ENOBUFS) {
      conn_refuse_memory(c);
      break;
    } else if (rc < 0) {
      conn_abort(c);
      break;
    }
  }
  if (left > 0 && !c->closing) {
    /* Not realloc: it may leave a copy behind. */
    uint8_t *grown = malloc(c->stash_len + left);
    if (grown == NULL) {
      conn_abort(c);
    } else {
      if (c->stash_len) {
        memcpy(grown, c->stash, c->stash_len);
        explicit_bzero(c->stash, c->stash_len);
      }
      memcpy(grown + c->stash_len, p, left);
      free(c->stash);
      c->stash = grown;
      c->stash_len += left;
      tally_budget_take(&c->server->budget, left);
    }
  }
  if (left > 0) /* kept, or dropped as the connection closes */
    explicit_bzero(p, left);
}

/* Goes on after waiting: handles the bytes kept, then reads again. */
static void conn_resume(tally_conn *c) {
  uint8_t *stash = c->stash;
  size_t len = c->stash_len;
  c->paused = 0;
  c->stash = NULL;
  c->stash_len = 0;
  tally_budget_give(&c->server->budget, len);
  conn_feed(c, stash, len); /* zeroes what it takes or keeps */
  free(stash);
  if (!c->closing && !c->paused && !c->waiting && c->req == NULL &&
      c->late == NULL && uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
    conn_abort(c);
}

/* What a plaintext client on a TLS listener is told. */
#define PLAINTEXT_REFUSAL "this server speaks TLS: give the client --ca FILE"

/* TLS: the bytes read are ciphertext. Feeds them to the session, hands
 * the plaintext to conn_feed (which keeps what must wait), and sends what
 * the session has for the peer. */
static void conn_read_tls(tally_conn *c, const uint8_t *p, size_t n) {
  tally_server *s = c->server;
  ssize_t got;

  if (!c->tls_seen) {
    c->tls_seen = 1;
    if (p[0] != TALLY_TLS_HANDSHAKE_RECORD) {
      /* Told in plaintext, which is what it reads. */
      tally_log("connection %lu: %s speaks plaintext to a TLS listener; "
                "refusing", c->id, c->peer);
      tally_tls_session_free(c->tls);
      c->tls = NULL;
      conn_refuse(c, TALLY__ERROR_CODE__ERROR_BAD_FRAME, PLAINTEXT_REFUSAL);
      return;
    }
  }
  if (tally_tls_session_failed(c->tls))
    return; /* draining after a failure: the rest is dropped */
  if (tally_tls_session_feed(c->tls, p, n) != 0) {
    conn_abort(c);
    return;
  }
  int was_ready = tally_tls_session_ready(c->tls);
  while ((got = tally_tls_session_read(c->tls, s->plain_buf,
                                       sizeof s->plain_buf)) > 0) {
    if (!c->draining && !c->busy)
      conn_feed(c, s->plain_buf, (size_t)got);
    else
      explicit_bzero(s->plain_buf, (size_t)got); /* dropped unread */
    if (uv_is_closing((uv_handle_t *)&c->tcp))
      return; /* aborted */
  }
  if (got < 0) {
    tally_log_warn("connection %lu: TLS %s with %s failed: %s; closing", c->id,
              was_ready ? "session" : "handshake", c->peer,
              tally_tls_session_error(c->tls));
    /* The alert, if there is one, tells the client why. */
    if (conn_flush(c) != 0)
      conn_abort(c);
    else
      conn_close(c, 1);
    return;
  }
  if (conn_flush(c) != 0) {
    conn_abort(c);
    return;
  }
  if (c->busy && !c->closing && tally_tls_session_ready(c->tls))
    conn_refuse(c, TALLY__ERROR_CODE__ERROR_BUSY, c->busy);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  tally_conn *c = stream->data;

  if (nread < 0) {
    if (nread != UV_EOF)
      tally_log("connection %lu: read error from %s: %s", c->id, c->peer,
                uv_strerror((int)nread));
    else if (tally_frame_reader_partial(&c->reader) && !c->draining)
      tally_log("connection %lu: %s closed in the middle of a frame", c->id,
                c->peer);
    else if (nread == UV_EOF && !c->draining && c->queued > 0) {
      /* Half-closed with replies owed: they go out first, as fast as the
       * client takes them within the idle timeout. */
      conn_close(c, 0);
      c->deadline = uv_now(c->server->loop) + c->server->cfg.idle_timeout_ms;
      return;
    }
    conn_abort(c);
    return;
  }
  if (nread > 0 && c->tls)
    conn_read_tls(c, (const uint8_t *)buf->base, (size_t)nread);
  else if (!c->draining)
    conn_feed(c, (uint8_t *)buf->base, (size_t)nread);
  else if (nread > 0)
    explicit_bzero(buf->base, (size_t)nread); /* dropped unread */
}

/* The writer thread stores the last-used times that changed. */
static int touch_apply(tally_write *w, tally_store_txn *t) {
  struct touch *k = (struct touch *)w;
  return tally_store_txn_account_touch(t, k->ids, k->when, k->n);
}

static void touch_done(tally_write *w, int code) {
  struct touch *k = (struct touch *)w;
  if (code != 0) {
    tally_log_warn("last-used times not stored: %s", tally_strerror(code));
    tally_accounts_retouch(k->server->cfg.accounts, k->ids, k->n);
  }
  free(k->ids);
  free(k->when);
  k->ids = NULL;
  k->when = NULL;
  k->busy = 0;
}

static void touch_start(tally_server *s) {
  struct touch *k = &s->touch;
  if (tally_accounts_touched(s->cfg.accounts, &k->ids, &k->when, &k->n) != 0 ||
      k->n == 0)
    return;
  k->write.apply = touch_apply;
  k->write.done = touch_done;
  k->server = s;
  k->busy = 1;
  tally_writer_queue(s->writer, &k->write);
}

/* Every second: closes connections that completed no frame in time, and
 * closing ones that took too long. */
static void on_sweep(uv_timer_t *t) {
  tally_server *s = t->data;
  uint64_t now = uv_now(s->loop);
  for (tally_conn *c = s->conns, *next; c; c = next) {
    next = c->next;
    if (c->req || now < c->deadline)
      continue;
    if (c->late && !c->closing) {
      if (conn_send_frame(c, c->late, c->late_len) != 0)
        conn_abort(c);
      else
        conn_close(c, 1);
      continue;
    }
    if (c->closing) {
      conn_abort(c);
      continue;
    }
    if (c->tls && !tally_tls_session_ready(c->tls)) {
      /* Nothing can be said to it before the handshake. */
      tally_log("connection %lu: no TLS handshake from %s in time; closing",
                c->id, c->peer);
      conn_abort(c);
      continue;
    }
    if (c->session.account == 0) {
      tally_log("connection %lu: %s did not sign in in time; closing", c->id,
                c->peer);
      conn_refuse(c, TALLY__ERROR_CODE__ERROR_TIMEOUT,
                  "not signed in within the sign-in timeout; closing");
      continue;
    }
    tally_log("connection %lu: no complete frame from %s in %u ms; closing",
              c->id, c->peer, s->cfg.idle_timeout_ms);
    conn_refuse(c, TALLY__ERROR_CODE__ERROR_TIMEOUT,
                "no complete request within the idle timeout; closing");
  }
  budget_resume(s); /* none waits for ever on a count gone stale */
  /* Last-used times are kept in memory and stored once a minute. */
  if (++s->sweeps % 60 == 0 && s->cfg.accounts && !s->touch.busy)
    touch_start(s);
}

static void writer_closed(void *arg) {
  handle_closed((uv_handle_t *)&((tally_server *)arg)->listeners[0]);
}

/* The last connection of a stopping server has gone: the sweep stops,
 * and the writer once it has written what is queued. */
static void sweep_stop(tally_server *s) {
  if (uv_is_closing((uv_handle_t *)&s->sweep))
    return;
  uv_close((uv_handle_t *)&s->sweep, handle_closed);
  tally_writer_close(s->writer, writer_closed, s);
}

/* Closes connection o, not signed in, to give its slot to another. */
static void conn_evict(tally_conn *o) {
  tally_log("connection %lu from %s closed to make room: it had not signed "
            "in", o->id, o->peer);
  if (o->tls && !tally_tls_session_ready(o->tls))
    conn_abort(o); /* nothing can be said to it before the handshake */
  else
    conn_refuse(o, TALLY__ERROR_CODE__ERROR_BUSY,
                "the server is full and this connection had not signed in; "
                "closing");
}

/* Makes room for connection c, just accepted, or says why there is
 * none. A sender may have max_per_address connections not signed in
 * (a refused sign-in waiting for its answer among them). When every slot
 * is taken, the connection that has gone longest without signing in
 * gives its slot up (a client signs in with its first request); when
 * every other has signed in, c is refused. Returns NULL when c may stay;
 * *quietly is set when so many refused connections are already closing
 * that c is to be closed without a word. */
static const char *admit(tally_server *s, tally_conn *c, int *quietly) {
  unsigned live = 0, closing = 0, from_sender = 0;
  tally_conn *oldest = NULL;
  for (tally_conn *o = s->conns; o; o = o->next) {
    if (o == c)
      continue;
    if (o->closing || o->busy) {
      closing++;
      continue;
    }
    live++;
    if (o->session.account || o->req)
      continue;
    oldest = o; /* the list is newest first */
    from_sender += strcmp(o->sender, c->sender) == 0;
  }
  *quietly = closing >= s->cfg.max_connections;
  if (from_sender >= s->cfg.max_per_address)
    return "too many connections from this address have not signed in; "
           "try again later";
  if (live < s->cfg.max_connections)
    return NULL;
  if (oldest == NULL)
    return "the server has too many connections; try again later";
  conn_evict(oldest);
  return NULL;
}

static void on_connection(uv_stream_t *listener, int status) {
  tally_server *s = listener->data;
  struct sockaddr_storage ss;
  int len = sizeof ss;

  if (status < 0) {
    tally_log_err("accept failed: %s", uv_strerror(status));
    return;
  }
  tally_conn *c = calloc(1, sizeof *c);
  if (c == NULL || uv_tcp_init(s->loop, &c->tcp) != 0) {
    free(c);
    tally_log_err("accept failed: out of memory");
    return;
  }
  c->server = s;
  c->tcp.data = c;
  s->open_handles++;
  if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
    return;
  }
  c->id = ++s->next_conn_id;
  c->opened = uv_now(s->loop);
  tally_frame_reader_init(&c->reader, frame_limit(c));
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
    tally_address_format(&ss, c->peer, sizeof c->peer);
  else
    snprintf(c->peer, sizeof c->peer, "?");
  tally_address_sender(c->peer, c->sender, sizeof c->sender);
  c->next = s->conns;
  if (s->conns)
    s->conns->prev = c;
  s->conns = c;
  s->n_conns++;
  if (s->cfg.health)
    s->cfg.health->connections = s->n_conns;
  c->deadline = uv_now(s->loop) + (s->cfg.sign_in_timeout_ms <
                                            s->cfg.idle_timeout_ms
                                        ? s->cfg.sign_in_timeout_ms
                                        : s->cfg.idle_timeout_ms);
  uv_tcp_nodelay(&c->tcp, 1);
  if (s->cfg.tls && tally_tls_session_new(s->cfg.tls, &c->tls) != 0) {
    tally_log("connection %lu from %s: out of memory for TLS", c->id, c->peer);
    conn_abort(c);
    return;
  }
  int quietly;
  const char *over = admit(s, c, &quietly);
  if (over) {
    tally_log("connection %lu from %s refused: %s%s", c->id, c->peer, over,
              quietly ? " (closed at once: many refused are closing)" : "");
    if (quietly) {
      conn_abort(c);
      return;
    }
    if (c->tls) {
      /* Told once its handshake is done, if that is soon. */
      c->busy = over;
      c->deadline = uv_now(s->loop) + CLOSE_MS;
    } else {
      conn_refuse(c, TALLY__ERROR_CODE__ERROR_BUSY, over);
      return;
    }
  }
  if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
    conn_abort(c);
}

static void handle_closed(uv_handle_t *h) {
  tally_server *s = h->data;
  if (--s->open_handles == 0) {
    tally_guard_free(s->guard);
    free(s);
  }
}

/* Parses one address into ss and applies the loopback rule. */
static int check_one(const tally_server_config *cfg, const char *listen,
                     struct sockaddr_storage *ss, char *err, size_t errlen) {
  memset(ss, 0, sizeof *ss);
  if (tally_address_parse(listen, ss) != 0) {
    snprintf(err, errlen, "--listen %s: expected HOST:PORT, e.g. "
             "127.0.0.1:7300 or [::1]:7300", listen);
    return -EINVAL;
  }
  if (cfg->tls == NULL && !cfg->insecure_plaintext &&
      !tally_address_is_loopback((const struct sockaddr *)ss)) {
    snprintf(err, errlen, "refusing to listen on %s without TLS: anyone on "
             "the network could read and change what is sent. Give "
             "--tls-cert and --tls-key (deploy/make-ca.sh makes them), or "
             "--insecure-plaintext if the network is otherwise protected",
             listen);
    return TALLY_EUSAGE;
  }
  return 0;
}

/* The addresses of cfg, listen first: returns how many (at least 1). */
static size_t addresses(const tally_server_config *cfg,
                        const char *out[TALLY_SERVER_LISTEN_MAX]) {
  size_t n = 0;
  out[n++] = cfg->listen;
  for (size_t i = 0; i + 1 < TALLY_SERVER_LISTEN_MAX && cfg->also_listen[i];
       i++)
    out[n++] = cfg->also_listen[i];
  return n;
}

/* Parses every address of cfg into ss (room for TALLY_SERVER_LISTEN_MAX)
 * and applies the loopback rule to each. */
static int check_listen(const tally_server_config *cfg,
                        struct sockaddr_storage *ss, char *err,
                        size_t errlen) {
  const char *all[TALLY_SERVER_LISTEN_MAX];
  size_t n = addresses(cfg, all);
  for (size_t i = 0; i < n; i++) {
    int rc = check_one(cfg, all[i] ? all[i] : "", &ss[i], err, errlen);
    if (rc != 0)
      return rc;
  }
  return 0;
}

int tally_server_check_listen(const tally_server_config *cfg, char *err,
                              size_t errlen) {
  struct sockaddr_storage ss[TALLY_SERVER_LISTEN_MAX];
  return check_listen(cfg, ss, err, errlen);
}

void tally_server_set_limits(tally_server *s, const tally_server_config *cfg) {
  s->cfg.idle_timeout_ms = cfg->idle_timeout_ms ? cfg->idle_timeout_ms
                                                : TALLY_SERVER_IDLE_TIMEOUT_MS;
  s->cfg.max_connections = cfg->max_connections ? cfg->max_connections
                                                : TALLY_SERVER_MAX_CONNECTIONS;
  s->cfg.sign_in_timeout_ms = cfg->sign_in_timeout_ms
                                  ? cfg->sign_in_timeout_ms
                                  : TALLY_SERVER_SIGN_IN_TIMEOUT_MS;
  s->cfg.max_per_address = cfg->max_per_address ? cfg->max_per_address
                                                : TALLY_SERVER_MAX_PER_ADDRESS;
}

void tally_server_set_tls(tally_server *s, tally_tls *tls) {
  if (s->cfg.tls && tls)
    s->cfg.tls = tls;
}

/* Closes the listeners of a server that did not start, and the server
 * once they and the writer (when started) have closed. */
static void start_failed(tally_server *s) {
  for (size_t i = 0; i < s->n_listeners; i++)
    uv_close((uv_handle_t *)&s->listeners[i], handle_closed);
  if (s->writer)
    tally_writer_close(s->writer, writer_closed, s);
}

int tally_server_start(uv_loop_t *loop, const tally_server_config *cfg,
                       tally_server **out, char *err, size_t errlen) {
  struct sockaddr_storage ss[TALLY_SERVER_LISTEN_MAX];
  const char *all[TALLY_SERVER_LISTEN_MAX];
  size_t n = addresses(cfg, all);
  int rc;
  tally_server *s;

  if ((rc = check_listen(cfg, ss, err, errlen)) != 0)
    return rc;
  s = calloc(1, sizeof *s);
  if (s == NULL)
    return -ENOMEM;
  s->loop = loop;
  s->cfg = *cfg;
  if (s->cfg.max_frame == 0)
    s->cfg.max_frame = TALLY_FRAME_DEFAULT_MAX;
  tally_server_set_limits(s, cfg);
  tally_budget_init(&s->budget, s->cfg.memory_budget);
  if ((s->guard = tally_guard_new()) == NULL) {
    free(s);
    return -ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    if ((rc = uv_tcp_init(loop, &s->listeners[i])) != 0) {
      snprintf(err, errlen, "%s", uv_strerror(rc));
      if (i == 0) {
        tally_guard_free(s->guard);
        free(s);
      } else {
        start_failed(s);
      }
      return rc;
    }
    s->listeners[i].data = s;
    s->n_listeners++;
    s->open_handles++;
  }
  if ((rc = tally_writer_start(loop, cfg->store, &s->writer)) != 0) {
    snprintf(err, errlen, "cannot start the writer thread: %s",
             uv_strerror(rc));
    s->writer = NULL;
    start_failed(s);
    return rc;
  }
  s->open_handles++; /* the writer, closed after the last connection */
  s->svc = (tally_services){loop,           s->cfg.cat,
                            s->cfg.store,   s->writer,
                            s->cfg.accounts, s->guard,
                            s->cfg.sessions, s->cfg.health,
                            &s->report_files};
  for (size_t i = 0; i < n; i++) {
    uv_tcp_t *l = &s->listeners[i];
    /* Alone, [::]:7300 takes IPv4 too; beside other addresses, IPv6
     * only, so that [::]:7300 and 0.0.0.0:7300 bind together. */
    unsigned flags =
        n > 1 && ss[i].ss_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
    int len = sizeof ss[i];
    if ((rc = uv_tcp_bind(l, (struct sockaddr *)&ss[i], flags)) != 0 ||
        (rc = uv_listen((uv_stream_t *)l, 128, on_connection)) != 0) {
      snprintf(err, errlen, "cannot listen on %s: %s", all[i],
               uv_strerror(rc));
      start_failed(s);
      return rc;
    }
    uv_tcp_getsockname(l, (struct sockaddr *)&ss[i], &len);
    tally_address_format(&ss[i], s->address[i], sizeof s->address[i]);
  }
  uv_timer_init(loop, &s->sweep);
  s->sweep.data = s;
  s->open_handles++;
  uv_timer_start(&s->sweep, on_sweep, 1000, 1000);
  *out = s;
  return 0;
}

const char *tally_server_address(const tally_server *s) {
  return s->address[0];
}

size_t tally_server_n_addresses(const tally_server *s) {
  return s->n_listeners;
}

const char *tally_server_address_at(const tally_server *s, size_t i) {
  return i < s->n_listeners ? s->address[i] : NULL;
}

const tally_services *tally_server_services(const tally_server *s) {
  return &s->svc;
}

void tally_server_hold(tally_server *s) { s->holds++; }

void tally_server_release(tally_server *s) {
  if (--s->holds == 0 && s->stopping && s->conns == NULL)
    sweep_stop(s);
}

void tally_server_stop(tally_server *s) {
  if (s->stopping)
    return;
  s->stopping = 1;
  for (size_t i = 0; i < s->n_listeners; i++)
    uv_close((uv_handle_t *)&s->listeners[i], handle_closed);
  /* Each connection sends what it owes and closes (a refused sign-in
   * its refusal, without the rest of its delay); one with work in a
   * worker thread first sends that work's reply; one that takes nothing
   * is closed after CLOSE_MS by the sweep, which stops with the last. */
  for (tally_conn *c = s->conns, *next; c; c = next) {
    next = c->next;
    if (c->req != NULL)
      continue;
    if (c->late && !c->closing &&
        conn_send_frame(c, c->late, c->late_len) != 0)
      conn_abort(c);
    else
      conn_close(c, 0);
  }
  if (s->conns == NULL && s->holds == 0)
    sweep_stop(s);
}
