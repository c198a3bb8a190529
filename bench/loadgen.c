/* loadgen.c: tally-loadgen, a load generator for tallyd.
 *
 * The happy path: fetch the catalog (a CatalogRequest, or --catalog
 * FILE); pick the reporting units and the data elements they report;
 * open --connections connections on one libuv loop; on each keep up to
 * --pipeline requests in flight; send submissions of --values figures,
 * each with its own submission id (the exactly-once path), until
 * --count have been sent or --duration has passed; record the latency
 * of every reply; print one summary line of key=value pairs.
 * Submission i goes to unit i mod U and period (i / U) mod P, so the
 * first U x P submissions each write a new (unit, period) and later ones
 * correct them, with a value that changes every round. All figures of
 * one submission are equal, so no numerator exceeds its denominator.
 * With --rate the sends are paced to that many a second over all
 * connections and a latency is measured from when the request was due,
 * so a stall is not hidden by the requests it delayed.
 * Other modes: --report PERIOD sends report requests instead;
 * --idle N opens N connections, prints "connected N" and holds them
 * for --duration seconds (to measure the server's memory).
 * TLS: with --ca FILE every connection does a TLS handshake, trusting
 * only that CA and checking the host part of --server against the
 * server's certificate (as the tally client does), through the same
 * memory-buffer sessions as tallyd (server/tls.c); a connection counts
 * as connected only once its handshake is done, so nothing is sent
 * before. Frames are encrypted before they are written and replies
 * decrypted before they are parsed. The catalog fetch and the account
 * making go through the blocking client, with the same CA.
 * Signing in: with the admin's token (--token-file, or TALLY_TOKEN) it
 * first makes a reporter account for each unit it uses, in a few
 * AccountAdd requests; each submission then carries its unit's token,
 * so one connection may submit for many units. Report requests carry
 * the admin's token.
 * The failure modes: a connection that fails or is closed by the
 * server, a TLS handshake that fails (a certificate that does not
 * verify, a server without TLS) or gets no answer within 30 s, a reply
 * that is an error, or a reply out of order is counted in errors (the
 * first message is printed); the run stops at
 * --duration plus a drain of at most 30 s. Exits 0 when every request
 * was answered without error, 1 otherwise, 2 on a bad command line.
 */
#include "address.h"
#include "client.h"
#include "frame.h"
#include "tls.h"
#include "wire.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#define READ_BUF_SIZE 65536
#define CONNECTS_AT_ONCE 256 /* connects in progress at a time */
#define DRAIN_MS 30000       /* how long replies may lag the last send */
#define CONNECTING_MS 30000  /* how long connecting may go without progress */

typedef struct {
  const char *server;
  int connections;
  int pipeline;
  int values;
  double duration;    /* seconds; 0 = until --count */
  long count;         /* requests; 0 = until --duration */
  double rate;        /* requests a second over all connections; 0 = flat out */
  const char *catalog;
  const char *report; /* period to report on, or NULL: submit */
  const char *periods;/* comma-separated, or NULL: the default set */
  int units;          /* use the first N reporting units; 0 = all */
  int idle;           /* open this many idle connections */
  const char *token;  /* an admin's token */
  const char *ca;     /* TLS: the CA file; NULL = plaintext */
  int check;          /* after each submission, a check request for its
                         unit and period, as tally submit sends */
} options;

typedef struct conn {
  uv_tcp_t tcp;            /* first: the handle's data is the connection */
  uv_connect_t connect_req;
  tally_frame_reader reader;
  int open;                /* connected and not yet closed */
  int connecting;          /* counted in n_connecting (TCP or handshake) */
  tally_tls_session *tls;  /* NULL on plaintext */
  int inflight;            /* requests sent, not yet answered */
  uint64_t *due;           /* ring of send times, pipeline long */
  uint64_t *ids;           /* ring of request ids */
  int head;                /* oldest request in the rings */
  uint64_t next_id;
  long check_of;           /* --check: the submission to check next, or -1 */
} conn;

typedef struct {
  uv_write_t req;          /* first: the request's data is the write */
  uint8_t *frame;          /* malloc'd: a packed frame, or ciphertext */
} bench_write;

static struct {
  options o;
  uv_loop_t *loop;
  conn *conns;
  int n_connecting, next_connect, n_connected, n_closed;
  char **units;            /* reporting unit codes */
  size_t n_units;
  Tally__Auth *auths;      /* each unit's reporter token */
  Tally__Auth admin;       /* for report requests */
  char **elements;         /* element codes a reporting unit may send */
  size_t n_elements;
  char **periods;
  size_t n_periods;
  char id_prefix[40];
  Tally__Value *vals;      /* one submission's figures, reused */
  Tally__Value **pvals;
  long sent, answered, errors, duplicates, connect_errors;
  long submissions;        /* submissions built; acknowledged: */
  long acknowledged;
  uint64_t *lat;           /* every latency, in ns */
  size_t n_lat, cap_lat;
  uint64_t start, stop_sending, last_sent;
  int sending_done, finished;
  uv_timer_t tick;         /* paces --rate, ends --duration */
  uint64_t last_progress;  /* when a connection last got up (or failed) */
  tally_tls *tls;          /* with --ca */
  char tls_name[128];      /* the name the certificate must carry */
  char first_error[512];
  char buf[READ_BUF_SIZE]; /* shared: each read is consumed at once */
  char plain[READ_BUF_SIZE]; /* shared: decrypted replies */
} g;

static void note_error(const char *fmt, const char *a, const char *b) {
  g.errors++;
  if (g.first_error[0] == 0)
    snprintf(g.first_error, sizeof g.first_error, fmt, a, b);
}

static void conn_closed(uv_handle_t *h) {
  conn *c = h->data;
  tally_frame_reader_reset(&c->reader);
  tally_tls_session_free(c->tls);
  c->tls = NULL;
  g.n_closed++;
}

static void conn_close(conn *c) {
  if (uv_is_closing((uv_handle_t *)&c->tcp))
    return;
  if (c->open)
    c->open = 0;
  uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

/* Ends the run: closes every connection and the timer. */
static void finish(void) {
  if (g.finished)
    return;
  g.finished = 1;
  for (int i = 0; i < g.o.connections; i++)
    if (g.conns[i].tcp.data)
      conn_close(&g.conns[i]);
  uv_close((uv_handle_t *)&g.tick, NULL);
}

static long inflight_total(void) { return g.sent - g.answered; }

static void maybe_finish(void) {
  if (g.sending_done && inflight_total() <= 0)
    finish();
}

/* True while another request may be sent now. */
static int may_send(uint64_t now) {
  if (g.sending_done)
    return 0;
  if ((g.o.count > 0 && g.sent >= g.o.count) ||
      (g.o.duration > 0 && now >= g.stop_sending)) {
    g.sending_done = 1;
    g.last_sent = now;
    return 0;
  }
  if (g.o.rate > 0 &&
      (double)g.sent >= g.o.rate * (double)(now - g.start) / 1e9)
    return 0;
  return 1;
}

static void handshake_failed(conn *c, const char *why);

static void after_write(uv_write_t *req, int status) {
  bench_write *w = (bench_write *)req;
  conn *c = req->data;
  free(w->frame);
  free(w);
  if (status < 0 && c->open) {
    if (c->connecting) {
      handshake_failed(c, uv_strerror(status));
      return;
    }
    note_error("write failed: %s%s", uv_strerror(status), "");
    conn_close(c);
  }
}

/* The unit and period of submission i. */
static size_t pair_of(long i) {
  return (size_t)i % (g.n_units * g.n_periods);
}

/* Builds a check request for the unit and period of submission i. */
static void build_check(long i, Tally__Envelope *env, Tally__CheckRequest *k) {
  size_t pair = pair_of(i);
  k->unit = g.units[pair % g.n_units];
  k->period = g.periods[pair / g.n_units];
  env->auth = &g.auths[pair % g.n_units];
  env->body_case = TALLY__ENVELOPE__BODY_CHECK;
  env->check = k;
}

/* Builds request number i into env (submission i, or a report). */
static void build(long i, Tally__Envelope *env, Tally__SubmitRequest *s,
                  Tally__ReportRequest *r, char *id, size_t idlen) {
  if (g.o.report) {
    r->period = (char *)g.o.report;
    env->body_case = TALLY__ENVELOPE__BODY_REPORT;
    env->report = r;
    env->auth = &g.admin;
    return;
  }
  size_t pair = pair_of(i);
  long round = i / (long)(g.n_units * g.n_periods);
  s->unit = g.units[pair % g.n_units];
  s->period = g.periods[pair / g.n_units];
  env->auth = &g.auths[pair % g.n_units];
  snprintf(id, idlen, "%s-%ld", g.id_prefix, i);
  s->submission_id = id;
  for (int k = 0; k < g.o.values; k++)
    g.vals[k].value = (double)(100 + round % 1000);
  s->n_values = (size_t)g.o.values;
  s->values = g.pvals;
  env->body_case = TALLY__ENVELOPE__BODY_SUBMIT;
  env->submit = s;
}

/* Writes len bytes (malloc'd; taken over) to c. Returns 0, or non-zero
 * when c was closed. */
static int conn_write(conn *c, uint8_t *bytes, size_t len) {
  bench_write *w = malloc(sizeof *w);
  int rc;
  if (w == NULL) {
    free(bytes);
    note_error("out of memory%s%s", "", "");
    conn_close(c);
    return -1;
  }
  w->frame = bytes;
  w->req.data = c;
  uv_buf_t buf = uv_buf_init((char *)bytes, (unsigned)len);
  if ((rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1,
                     after_write)) != 0) {
    free(w->frame);
    free(w);
    note_error("write failed: %s%s", uv_strerror(rc), "");
    conn_close(c);
    return -1;
  }
  return 0;
}

/* TLS: sends the ciphertext c's session has waiting (handshake, records,
 * alerts) in one write. Returns 0, or non-zero when c was closed. */
static int tls_flush(conn *c) {
  size_t n = tally_tls_session_pending(c->tls);
  uint8_t *bytes;
  if (n == 0)
    return 0;
  if ((bytes = malloc(n)) == NULL) {
    note_error("out of memory%s%s", "", "");
    conn_close(c);
    return -1;
  }
  n = tally_tls_session_take(c->tls, bytes, n);
  if (n == 0) {
    free(bytes);
    return 0;
  }
  return conn_write(c, bytes, n);
}

/* Sends one request on c (with TLS, encrypts it: tls_flush sends it).
 * Returns 0, or non-zero when c was closed. */
static int send_one(conn *c, uint64_t now) {
  Tally__Envelope env = TALLY__ENVELOPE__INIT;
  Tally__SubmitRequest s = TALLY__SUBMIT_REQUEST__INIT;
  Tally__ReportRequest r = TALLY__REPORT_REQUEST__INIT;
  Tally__CheckRequest k = TALLY__CHECK_REQUEST__INIT;
  char id[80];
  uint8_t *frame;
  size_t len;

  if (g.o.check && c->check_of >= 0) {
    build_check(c->check_of, &env, &k);
    c->check_of = -1;
  } else {
    build(g.submissions, &env, &s, &r, id, sizeof id);
    if (g.o.check && !g.o.report)
      c->check_of = g.submissions;
    g.submissions++;
  }
  env.id = ++c->next_id;
  if (tally_wire_pack(&env, 0, &frame, &len) != 0)
    goto err_nomem;
  if (c->tls) {
    int rc = tally_tls_session_write(c->tls, frame, len);
    free(frame);
    if (rc != 0) {
      note_error("TLS failed: %s%s", tally_tls_session_error(c->tls), "");
      conn_close(c);
      return -1;
    }
  } else if (conn_write(c, frame, len) != 0) {
    return -1;
  }
  int slot = (c->head + c->inflight) % g.o.pipeline;
  /* Paced: measured from when the request was due, not when it went. */
  c->due[slot] = g.o.rate > 0
                     ? g.start + (uint64_t)((double)g.sent * 1e9 / g.o.rate)
                     : now;
  c->ids[slot] = env.id;
  c->inflight++;
  g.sent++;
  return 0;

err_nomem:
  note_error("out of memory%s%s", "", "");
  conn_close(c);
  return -1;
}

/* Fills c's pipeline as far as the limits allow. */
static void pump(conn *c) {
  uint64_t now = uv_hrtime();
  while (c->open && c->inflight < g.o.pipeline && may_send(now))
    if (send_one(c, now) != 0)
      return;
  if (c->tls && c->open)
    tls_flush(c);
}

static void record(uint64_t ns) {
  if (g.n_lat == g.cap_lat) {
    size_t ncap = g.cap_lat ? g.cap_lat * 2 : 65536;
    uint64_t *grown = realloc(g.lat, ncap * sizeof *grown);
    if (grown == NULL)
      return;
    g.lat = grown;
    g.cap_lat = ncap;
  }
  g.lat[g.n_lat++] = ns;
}

/* One reply from the server. */
static void on_reply(conn *c, const uint8_t *body, size_t len) {
  Tally__Envelope *env;
  uint64_t now = uv_hrtime();

  if (tally_wire_unpack(body, len, &env) != 0) {
    note_error("a reply that does not decode%s%s", "", "");
    conn_close(c);
    return;
  }
  if (c->inflight == 0 || env->id != c->ids[c->head]) {
    note_error("a reply out of order: %s%s",
               env->body_case == TALLY__ENVELOPE__BODY_ERROR &&
                       env->error->message
                   ? env->error->message
                   : "",
               "");
    tally_wire_free(env);
    conn_close(c);
    return;
  }
  record(now - c->due[c->head]);
  c->head = (c->head + 1) % g.o.pipeline;
  c->inflight--;
  g.answered++;
  if (env->body_case == TALLY__ENVELOPE__BODY_ERROR)
    note_error("error reply: %s%s", env->error->message, "");
  else if (env->body_case == TALLY__ENVELOPE__BODY_SUBMIT_REPLY &&
           env->submit_reply->duplicate)
    g.duplicates++;
  else if (env->body_case != TALLY__ENVELOPE__BODY_SUBMIT_REPLY &&
           env->body_case != TALLY__ENVELOPE__BODY_REPORT_REPLY &&
           env->body_case != TALLY__ENVELOPE__BODY_CHECK_REPLY)
    note_error("an unexpected reply%s%s", "", "");
  if (env->body_case == TALLY__ENVELOPE__BODY_SUBMIT_REPLY)
    g.acknowledged++;
  tally_wire_free(env);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  *buf = uv_buf_init(g.buf, READ_BUF_SIZE);
}

static void connect_done(conn *c);

/* Fails c's TLS handshake: counted in errors, why in the first error. */
static void handshake_failed(conn *c, const char *why) {
  char what[200];
  char why_hint[200];
  g.connect_errors++;
  snprintf(what, sizeof what, "%s (CA %s, name %s)", g.o.server, g.o.ca,
           g.tls_name);
  /* Not about the certificate: most likely a server without TLS. */
  snprintf(why_hint, sizeof why_hint, "%s%s", why,
           strstr(why, "certificate") || strstr(why, "--tls-cert")
               ? ""
               : "; is the server started with --tls-cert?");
  note_error("TLS handshake with %s failed: %s", what, why_hint);
  conn_close(c);
  connect_done(c);
}

/* Plaintext from the server: replies to parse. */
static void on_plain(conn *c, const uint8_t *p, size_t left) {
  if (left == 0)
    return;
  if (g.o.idle) {
    note_error("the server sent something to an idle connection "
               "(busy, or the idle timeout)%s%s", "", "");
    conn_close(c);
    return;
  }
  while (left > 0 && c->open) {
    uint8_t *body = NULL;
    size_t used, body_len = 0;
    int rc = tally_frame_reader_feed(&c->reader, p, left, &used, &body,
                                     &body_len);
    p += used;
    left -= used;
    if (rc == 1) {
      on_reply(c, body, body_len);
      free(body);
    } else if (rc < 0) {
      note_error("a bad frame from the server%s%s", "", "");
      conn_close(c);
    }
  }
}

/* TLS: ciphertext from the server. Moves the handshake on (a connection
 * is up once it is done) and hands the plaintext to on_plain. */
static void on_cipher(conn *c, const uint8_t *p, size_t n) {
  int was_ready = tally_tls_session_ready(c->tls);
  ssize_t got;

  if (tally_tls_session_feed(c->tls, p, n) != 0) {
    note_error("out of memory%s%s", "", "");
    conn_close(c);
    if (c->connecting)
      connect_done(c);
    return;
  }
  while (c->open &&
         (got = tally_tls_session_read(c->tls, g.plain, sizeof g.plain)) > 0)
    on_plain(c, (const uint8_t *)g.plain, (size_t)got);
  if (!c->open)
    return;
  if (tally_tls_session_failed(c->tls)) {
    const char *why = tally_tls_session_error(c->tls);
    tls_flush(c); /* the alert, if any */
    if (c->connecting) {
      handshake_failed(c, why);
    } else {
      note_error("TLS failed: %s%s", why, "");
      g.answered += c->inflight; /* lost: stop waiting for them */
      c->inflight = 0;
      conn_close(c);
    }
    return;
  }
  if (tls_flush(c) != 0) { /* our part of the handshake */
    if (c->connecting)
      connect_done(c);
    return;
  }
  if (!was_ready && tally_tls_session_ready(c->tls)) {
    g.n_connected++;
    connect_done(c);
  }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  conn *c = stream->data;

  if (nread < 0) {
    if (c->connecting) { /* during the TLS handshake */
      handshake_failed(c, nread == UV_EOF
                              ? "the server closed the connection; is it "
                                "started with --tls-cert?"
                              : uv_strerror((int)nread));
      return;
    }
    if (!g.finished)
      note_error("the server closed a connection: %s%s",
                 uv_strerror((int)nread), "");
    g.answered += c->inflight; /* lost: stop waiting for them */
    c->inflight = 0;
    conn_close(c);
    maybe_finish();
    return;
  }
  if (nread == 0)
    return;
  if (c->tls)
    on_cipher(c, (const uint8_t *)buf->base, (size_t)nread);
  else
    on_plain(c, (const uint8_t *)buf->base, (size_t)nread);
  if (c->open && !c->connecting && !g.o.idle && g.start != 0)
    pump(c);
  maybe_finish();
}

static void connect_next(void);

/* c is up (TCP, and TLS with --ca) or failed: the next may connect, and
 * once every connection is done the load starts. */
static void connect_done(conn *c) {
  if (!c->connecting)
    return;
  c->connecting = 0;
  g.n_connecting--;
  g.last_progress = uv_hrtime();
  if (g.finished)
    return;
  connect_next();
  if (g.n_connecting == 0 && g.next_connect == g.o.connections) {
    /* Every connection is up (or failed): the load starts now. */
    g.start = uv_hrtime();
    g.stop_sending = g.start + (uint64_t)(g.o.duration * 1e9);
    if (g.o.idle) {
      printf("connected %d\n", g.n_connected);
      fflush(stdout);
      return;
    }
    for (int i = 0; i < g.o.connections; i++)
      pump(&g.conns[i]);
    if (g.n_connected == 0) {
      g.sending_done = 1;
      finish();
    }
  }
}

static void on_connect(uv_connect_t *req, int status) {
  conn *c = req->data;
  if (status == UV_ECANCELED && !c->connecting)
    return; /* given up on (on_tick), or the run is over */
  if (status < 0) {
    g.connect_errors++;
    note_error("connect failed: %s%s", uv_strerror(status), "");
    conn_close(c);
    connect_done(c);
    return;
  }
  c->open = 1;
  if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
    note_error("connect failed: %s%s", "cannot read", "");
    conn_close(c);
    connect_done(c);
    return;
  }
  if (g.tls == NULL) {
    g.n_connected++;
    connect_done(c);
    return;
  }
  /* TLS: up once the handshake is done (on_cipher). */
  if (tally_tls_session_new(g.tls, &c->tls) != 0) {
    note_error("out of memory%s%s", "", "");
    conn_close(c);
    connect_done(c);
    return;
  }
  if (tally_tls_session_read(c->tls, g.plain, sizeof g.plain) < 0) {
    handshake_failed(c, tally_tls_session_error(c->tls));
    return;
  }
  if (tls_flush(c) != 0) /* the ClientHello */
    connect_done(c);
}

static void connect_next(void) {
  static struct sockaddr_storage addr;
  static int resolved;
  if (!resolved) {
    tally_address_parse(g.o.server, &addr); /* checked with the options */
    resolved = 1;
  }
  while (g.n_connecting < CONNECTS_AT_ONCE &&
         g.next_connect < g.o.connections) {
    conn *c = &g.conns[g.next_connect++];
    tally_frame_reader_init(&c->reader, TALLY_CLIENT_MAX_REPLY);
    uv_tcp_init(g.loop, &c->tcp);
    c->tcp.data = c;
    c->connect_req.data = c;
    uv_tcp_nodelay(&c->tcp, 1);
    g.n_connecting++;
    c->connecting = 1;
    int rc = uv_tcp_connect(&c->connect_req, &c->tcp,
                            (struct sockaddr *)&addr, on_connect);
    if (rc != 0) {
      g.n_connecting--;
      c->connecting = 0;
      g.connect_errors++;
      note_error("connect failed: %s%s", uv_strerror(rc), "");
      conn_close(c);
    }
  }
}

/* Every millisecond: paces --rate, ends --duration and the drain. */
static void on_tick(uv_timer_t *t) {
  uint64_t now = uv_hrtime();
  if (g.finished)
    return;
  if (g.start == 0) {
    /* Connecting: a connect or handshake the server never answers ends
     * once no connection has got up (or failed) for 30 s. */
    if (g.last_progress &&
        now - g.last_progress > (uint64_t)CONNECTING_MS * 1000000)
      /* Not those this starts in their place (connect_done). */
      for (int i = 0, begun = g.next_connect; i < begun; i++) {
        conn *c = &g.conns[i];
        if (!c->connecting)
          continue;
        if (c->open) {
          handshake_failed(c, "no answer within 30 s; is the server "
                              "started with --tls-cert?");
        } else {
          g.connect_errors++;
          note_error("connect failed: %s%s", "no answer within 30 s", "");
          conn_close(c); /* on_connect sees UV_ECANCELED */
          connect_done(c);
        }
      }
    return;
  }
  if (g.o.idle) {
    if (now >= g.stop_sending) {
      g.sending_done = 1;
      finish();
    }
    return;
  }
  for (int i = 0; i < g.o.connections; i++)
    pump(&g.conns[i]);
  if (!g.sending_done)
    may_send(now); /* notices the end of --duration on an idle loop */
  now = uv_hrtime(); /* pump may have stamped last_sent after now */
  if (g.sending_done && now > g.last_sent &&
      now - g.last_sent > (uint64_t)DRAIN_MS * 1000000) {
    note_error("%s%s", "replies still missing 30 s after the last send", "");
    finish();
  }
  maybe_finish();
}

/* Reads the catalog's JSON: from --catalog, or from the server. Returns
 * the parsed catalog, or NULL with a message printed. */
static json_t *load_catalog(void) {
  json_error_t jerr;
  char err[256];
  tally_client *cl;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply;
  Tally__CatalogRequest cr = TALLY__CATALOG_REQUEST__INIT;
  json_t *cat;

  if (g.o.catalog) {
    if ((cat = json_load_file(g.o.catalog, 0, &jerr)) == NULL)
      fprintf(stderr, "tally-loadgen: %s: %s\n", g.o.catalog, jerr.text);
    return cat;
  }
  tally_client_options co = {.address = g.o.server, .timeout_ms = 10000,
                             .token = g.o.token, .ca_file = g.o.ca};
  if (tally_client_open(&co, &cl, err, sizeof err) != 0) {
    fprintf(stderr, "tally-loadgen: %s\n", err);
    return NULL;
  }
  req.body_case = TALLY__ENVELOPE__BODY_CATALOG;
  req.catalog = &cr;
  if (tally_client_call(cl, &req, &reply, err, sizeof err) != 0) {
    fprintf(stderr, "tally-loadgen: catalog: %s\n", err);
    tally_client_close(cl);
    return NULL;
  }
  tally_client_close(cl);
  if (reply->body_case != TALLY__ENVELOPE__BODY_CATALOG_REPLY) {
    fprintf(stderr, "tally-loadgen: the server refused the catalog request\n");
    tally_wire_free(reply);
    return NULL;
  }
  cat = json_loadb((const char *)reply->catalog_reply->json.data,
                   reply->catalog_reply->json.len, 0, &jerr);
  tally_wire_free(reply);
  if (cat == NULL)
    fprintf(stderr, "tally-loadgen: the server's catalog: %s\n", jerr.text);
  return cat;
}

#define ACCOUNTS_PER_REQUEST 2000 /* keeps a request under 1 MiB */

/* Makes a reporter account for each unit, through the admin. Returns 0,
 * or -1 with a message printed. */
static int make_accounts(void) {
  tally_client_options co = {.address = g.o.server, .timeout_ms = 60000,
                             .token = g.o.token, .ca_file = g.o.ca};
  tally_client *cl;
  char err[256];
  int rc = -1;

  tally__auth__init(&g.admin);
  g.admin.token = (char *)g.o.token;
  if (g.o.report)
    return 0; /* reports are asked for as the admin */
  if ((g.auths = calloc(g.n_units, sizeof *g.auths)) == NULL ||
      tally_client_open(&co, &cl, err, sizeof err) != 0) {
    fprintf(stderr, "tally-loadgen: %s\n", g.auths ? err : "out of memory");
    return -1;
  }
  for (size_t first = 0; first < g.n_units; first += ACCOUNTS_PER_REQUEST) {
    size_t n = g.n_units - first < ACCOUNTS_PER_REQUEST ? g.n_units - first
                                                        : ACCOUNTS_PER_REQUEST;
    Tally__AccountSpec *specs = calloc(n, sizeof *specs);
    Tally__AccountSpec **list = calloc(n, sizeof *list);
    Tally__AccountAddRequest q = TALLY__ACCOUNT_ADD_REQUEST__INIT;
    Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
    if (specs == NULL || list == NULL) {
      free(specs);
      free(list);
      fprintf(stderr, "tally-loadgen: out of memory\n");
      goto out;
    }
    for (size_t i = 0; i < n; i++) {
      tally__account_spec__init(&specs[i]);
      specs[i].name = "tally-loadgen";
      specs[i].role = TALLY__ROLE__ROLE_REPORTER;
      specs[i].unit = g.units[first + i];
      list[i] = &specs[i];
    }
    q.accounts = list;
    q.n_accounts = n;
    req.body_case = TALLY__ENVELOPE__BODY_ACCOUNT_ADD;
    req.account_add = &q;
    int call = tally_client_call(cl, &req, &reply, err, sizeof err);
    free(specs);
    free(list);
    if (call != 0 || reply->body_case != TALLY__ENVELOPE__BODY_ACCOUNT_ADD_REPLY ||
        reply->account_add_reply->n_accounts != n) {
      fprintf(stderr, "tally-loadgen: making the units' accounts: %s\n",
              call ? err
              : reply->body_case == TALLY__ENVELOPE__BODY_ERROR
                  ? reply->error->message
                  : "unexpected reply");
      tally_wire_free(reply);
      goto out;
    }
    for (size_t i = 0; i < n; i++) {
      tally__auth__init(&g.auths[first + i]);
      g.auths[first + i].token =
          strdup(reply->account_add_reply->accounts[i]->token);
      if (g.auths[first + i].token == NULL) {
        tally_wire_free(reply);
        goto out;
      }
    }
    tally_wire_free(reply);
  }
  rc = 0;
out:
  tally_client_close(cl);
  return rc;
}

static char **push(char **list, size_t *n, const char *s) {
  char **grown = realloc(list, (*n + 1) * sizeof *grown);
  if (grown == NULL || (grown[*n] = strdup(s)) == NULL) {
    fprintf(stderr, "tally-loadgen: out of memory\n");
    exit(1);
  }
  (*n)++;
  return grown;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether a side of a rule sums more than one element: a list of two or
 * more, an age-grouped element's code alone, or a range of its groups. */
static int side_sums(json_t *side, json_t *els) {
  json_t *sum = json_is_object(side) ? json_object_get(side, "sum") : NULL, *e;
  const char *code = json_string_value(side);
  size_t i;
  if (sum)
    return json_array_size(sum) > 1 ||
           side_sums(json_array_get(sum, 0), els);
  if (code == NULL)
    return 0;
  if (strstr(code, ".."))
    return 1;
  json_array_foreach(els, i, e)
    if (json_object_get(e, "age_groups") &&
        strcmp(json_string_value(json_object_get(e, "code")), code) == 0)
      return 1;
  return 0;
}

/* Whether an element (CODE or CODE.GROUP) is read by a rule of the
 * catalog that sums: the load sends one value for every element, which
 * keeps every rule that compares one element with another (equal
 * figures are <=, >= and = each other) but not those that sum. */
static int read_by_a_sum(json_t *cat, const char *element) {
  json_t *rules = json_object_get(cat, "rules"), *r;
  json_t *els = json_object_get(cat, "data_elements");
  size_t i, n = strcspn(element, ".");
  json_array_foreach(rules, i, r) {
    json_t *sides[2] = {json_object_get(r, "left"), json_object_get(r, "right")};
    if (!side_sums(sides[0], els) && !side_sums(sides[1], els))
      continue;
    char *text = json_dumps(r, JSON_COMPACT);
    /* The rule names the element, or its code (all its groups). */
    for (const char *p = text; p && (p = strstr(p, "\"")) != NULL; p++) {
      const char *q = p + 1;
      if (strncmp(q, element, n) == 0 && (q[n] == '"' || q[n] == '.')) {
        free(text);
        return 1;
      }
    }
    free(text);
  }
  return 0;
}

/* Reporting units: those with a parent and no children (found through
 * a sorted list of parents, since a generated catalog may have 100,000
 * units). Elements: the counts and amounts every reporting unit sends,
 * one per age group for an element reported by age groups, but for
 * those that rules sum (read_by_a_sum). */
static int pick_codes(json_t *cat) {
  json_t *units = json_object_get(cat, "units");
  json_t *els = json_object_get(cat, "data_elements");
  size_t i, j, n_parents = 0;
  json_t *u, *e;
  const char **parents = calloc(json_array_size(units) + 1, sizeof *parents);

  if (parents == NULL)
    return -1;
  json_array_foreach(units, i, u) {
    const char *parent = json_string_value(json_object_get(u, "parent"));
    if (parent)
      parents[n_parents++] = parent;
  }
  qsort(parents, n_parents, sizeof *parents, cmp_str);
  json_array_foreach(units, i, u) {
    const char *code = json_string_value(json_object_get(u, "code"));
    if (code == NULL || json_object_get(u, "parent") == NULL ||
        bsearch(&code, parents, n_parents, sizeof *parents, cmp_str))
      continue;
    if (g.o.units == 0 || g.n_units < (size_t)g.o.units)
      g.units = push(g.units, &g.n_units, code);
  }
  free(parents);
  json_array_foreach(els, i, e) {
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *type = json_string_value(json_object_get(e, "type"));
    json_t *groups = json_object_get(e, "age_groups"), *grp;
    if (code == NULL || json_object_get(e, "reported_by") ||
        (type && strcmp(type, "status") == 0) || read_by_a_sum(cat, code))
      continue;
    if (groups == NULL) {
      g.elements = push(g.elements, &g.n_elements, code);
      continue;
    }
    json_array_foreach(groups, j, grp) {
      char full[128];
      snprintf(full, sizeof full, "%s.%s", code, json_string_value(grp));
      g.elements = push(g.elements, &g.n_elements, full);
    }
  }
  if (g.n_units == 0) {
    fprintf(stderr, "tally-loadgen: the catalog has no reporting units\n");
    return -1;
  }
  if (!g.o.report && g.n_elements < (size_t)g.o.values) {
    fprintf(stderr, "tally-loadgen: --values %d, but the catalog has only "
            "%zu data elements a unit reports\n", g.o.values, g.n_elements);
    return -1;
  }
  return 0;
}

/* --periods, or every year from 2000 to 2023 with its twelve months. */
static void pick_periods(void) {
  if (g.o.periods) {
    char *copy = strdup(g.o.periods), *save = NULL;
    for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
      g.periods = push(g.periods, &g.n_periods, p);
    free(copy);
    return;
  }
  for (int y = 2000; y <= 2023; y++) {
    char p[16];
    snprintf(p, sizeof p, "%d", y);
    g.periods = push(g.periods, &g.n_periods, p);
    for (int m = 1; m <= 12; m++) {
      snprintf(p, sizeof p, "%d-%02d", y, m);
      g.periods = push(g.periods, &g.n_periods, p);
    }
  }
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(double p) {
  if (g.n_lat == 0)
    return 0;
  size_t k = (size_t)(p * (double)(g.n_lat - 1) + 0.5);
  return (double)g.lat[k] / 1e6;
}

static void summary(void) {
  double secs, sum = 0;
  long ok = g.answered - g.errors;

  /* Throughput over the time until the last reply came in. */
  secs = (double)(uv_hrtime() - g.start) / 1e9;
  qsort(g.lat, g.n_lat, sizeof *g.lat, cmp_u64);
  for (size_t i = 0; i < g.n_lat; i++)
    sum += (double)g.lat[i];
  /* per_s counts reports, or acknowledged submissions (not checks). */
  double done = g.o.report ? (double)(ok < 0 ? 0 : ok) : (double)g.acknowledged;
  printf("mode=%s tls=%s connections=%d pipeline=%d values=%d rate=%g "
         "sent=%ld answered=%ld ok=%ld errors=%ld duplicates=%ld "
         "checks=%s seconds=%.3f per_s=%.1f values_per_s=%.0f mean_ms=%.3f "
         "p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
         g.o.report ? "report" : "submit", g.o.ca ? "on" : "off",
         g.o.connections, g.o.pipeline,
         g.o.report ? 0 : g.o.values, g.o.rate, g.sent, g.answered,
         ok < 0 ? 0 : ok, g.errors, g.duplicates, g.o.check ? "on" : "off",
         secs, secs > 0 ? done / secs : 0,
         secs > 0 && !g.o.report ? done * g.o.values / secs : 0,
         g.n_lat ? sum / (double)g.n_lat / 1e6 : 0, pct(0.50), pct(0.99),
         pct(1.0));
  if (g.first_error[0])
    fprintf(stderr, "tally-loadgen: first error: %s\n", g.first_error);
}

static const char usage[] =
    "usage: tally-loadgen [options]\n"
    "\n"
    "Sends submissions (or report requests) to tallyd over many connections\n"
    "and prints one line: throughput and latency percentiles.\n"
    "\n"
    "  --server HOST:PORT    tallyd's address (default 127.0.0.1:7300)\n"
    "  --connections N       connections (default 1)\n"
    "  --pipeline N          requests in flight per connection (default 1)\n"
    "  --duration SECONDS    send for this long (default 10 unless --count)\n"
    "  --count N             send N requests, then stop\n"
    "  --values N            figures per submission (default 50)\n"
    "  --rate N              pace to N requests a second in all\n"
    "  --catalog FILE        the catalog's JSON (default: ask the server)\n"
    "  --units N             use only the first N reporting units\n"
    "  --periods P1,P2,...   periods to submit for (default: 2000-2023, each\n"
    "                        year and its months)\n"
    "  --report PERIOD       send district report requests instead\n"
    "  --check               after each submission, on its connection, a\n"
    "                        check request for its unit and period (what\n"
    "                        tally submit sends); per_s still counts\n"
    "                        acknowledged submissions, but --count, --rate\n"
    "                        and the latencies count the checks too\n"
    "  --idle N              open N idle connections, print \"connected N\",\n"
    "                        hold them for --duration seconds\n"
    "  --token-file FILE     an admin's token (default: $TALLY_TOKEN); the\n"
    "                        load generator makes a reporter account for\n"
    "                        each unit it submits for\n"
    "  --ca FILE             speak TLS on every connection, trusting only\n"
    "                        the CA in FILE; the server's certificate must\n"
    "                        name the host in --server (default: plaintext)\n";

static int parse_args(int argc, char **argv, options *o) {
  struct sockaddr_storage ss;
  static const struct option longopts[] = {
      {"server", required_argument, NULL, 's'},
      {"connections", required_argument, NULL, 'c'},
      {"pipeline", required_argument, NULL, 'p'},
      {"duration", required_argument, NULL, 'd'},
      {"count", required_argument, NULL, 'n'},
      {"values", required_argument, NULL, 'v'},
      {"rate", required_argument, NULL, 'r'},
      {"catalog", required_argument, NULL, 'C'},
      {"units", required_argument, NULL, 'u'},
      {"periods", required_argument, NULL, 'P'},
      {"report", required_argument, NULL, 'R'},
      {"check", no_argument, NULL, 'K'},
      {"idle", required_argument, NULL, 'i'},
      {"token-file", required_argument, NULL, 'T'},
      {"ca", required_argument, NULL, 'A'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int ch;
  char *end;

  o->server = "127.0.0.1:7300";
  o->connections = 1;
  o->pipeline = 1;
  o->values = 50;
  while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    errno = 0;
    end = "";
    switch (ch) {
    case 's': o->server = optarg; break;
    case 'c': o->connections = (int)strtol(optarg, &end, 10); break;
    case 'p': o->pipeline = (int)strtol(optarg, &end, 10); break;
    case 'd': o->duration = strtod(optarg, &end); break;
    case 'n': o->count = strtol(optarg, &end, 10); break;
    case 'v': o->values = (int)strtol(optarg, &end, 10); break;
    case 'r': o->rate = strtod(optarg, &end); break;
    case 'C': o->catalog = optarg; break;
    case 'u': o->units = (int)strtol(optarg, &end, 10); break;
    case 'P': o->periods = optarg; break;
    case 'R': o->report = optarg; break;
    case 'K': o->check = 1; break;
    case 'i': o->idle = (int)strtol(optarg, &end, 10); break;
    case 'A': o->ca = optarg; break;
    case 'T': {
      static char token[256];
      FILE *f = fopen(optarg, "r");
      if (f == NULL || fgets(token, sizeof token, f) == NULL) {
        fprintf(stderr, "tally-loadgen: cannot read a token from %s\n", optarg);
        if (f)
          fclose(f);
        return -1;
      }
      fclose(f);
      token[strcspn(token, "\r\n")] = 0;
      o->token = token;
      break;
    }
    case 'h': fputs(usage, stdout); exit(0);
    default: fputs(usage, stderr); return -1;
    }
    if (*end != 0 || errno != 0) {
      fprintf(stderr, "tally-loadgen: bad number '%s'\n", optarg);
      return -1;
    }
  }
  if (optind != argc || o->connections < 1 || o->pipeline < 1 ||
      o->values < 1 || o->duration < 0 || o->count < 0 || o->rate < 0 ||
      o->idle < 0 || o->units < 0 ||
      tally_address_parse(o->server, &ss) != 0) {
    fputs(usage, stderr);
    return -1;
  }
  if (o->check && o->report) {
    fputs("tally-loadgen: --check goes with submissions, not --report\n",
          stderr);
    return -1;
  }
  if (o->token == NULL)
    o->token = getenv("TALLY_TOKEN");
  if (o->token == NULL && !o->idle) {
    fputs("tally-loadgen: give an admin's token: --token-file FILE or "
          "TALLY_TOKEN\n", stderr);
    return -1;
  }
  if (o->idle) {
    o->connections = o->idle;
    if (o->duration == 0)
      o->duration = 10;
  } else if (o->duration == 0 && o->count == 0) {
    o->duration = 10;
  }
  return 0;
}

/* --ca: the client side of server/tls.c, checking the host part of
 * --server (as given: "localhost" stays a name). Returns 0, or -1 with a
 * message printed. */
static int tls_setup(void) {
  char err[512];
  int port;

  tally_address_split(g.o.server, g.tls_name, sizeof g.tls_name, &port);
  if (tally_tls_client_new(g.o.ca, g.tls_name, &g.tls, err, sizeof err) != 0) {
    fprintf(stderr, "tally-loadgen: %s\n", err);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  json_t *cat = NULL;

  signal(SIGPIPE, SIG_IGN);
  if (parse_args(argc, argv, &g.o) != 0)
    return 2;
  if (!g.o.idle) {
    if ((cat = load_catalog()) == NULL || pick_codes(cat) != 0)
      return 1;
    json_decref(cat);
    pick_periods();
    if (make_accounts() != 0)
      return 1;
  }
  snprintf(g.id_prefix, sizeof g.id_prefix, "bench-%lx-%x",
           (unsigned long)time(NULL), (unsigned)getpid());
  g.vals = calloc((size_t)g.o.values, sizeof *g.vals);
  g.pvals = calloc((size_t)g.o.values, sizeof *g.pvals);
  g.conns = calloc((size_t)g.o.connections, sizeof *g.conns);
  if (g.vals == NULL || g.pvals == NULL || g.conns == NULL)
    return 1;
  for (int k = 0; k < g.o.values && !g.o.idle && !g.o.report; k++) {
    tally__value__init(&g.vals[k]);
    g.vals[k].element = g.elements[k];
    g.pvals[k] = &g.vals[k];
  }
  for (int i = 0; i < g.o.connections; i++) {
    g.conns[i].check_of = -1;
    g.conns[i].due = calloc((size_t)g.o.pipeline, sizeof(uint64_t));
    g.conns[i].ids = calloc((size_t)g.o.pipeline, sizeof(uint64_t));
    if (g.conns[i].due == NULL || g.conns[i].ids == NULL)
      return 1;
  }
  if (g.o.ca && tls_setup() != 0)
    return 1;
  g.loop = uv_default_loop();
  uv_timer_init(g.loop, &g.tick);
  uv_timer_start(&g.tick, on_tick, 1, 1);
  g.last_progress = uv_hrtime();
  connect_next();
  uv_run(g.loop, UV_RUN_DEFAULT);
  tally_tls_free(g.tls); /* every session went with its connection */
  if (g.o.idle) {
    printf("idle=%d tls=%s connected=%d errors=%ld\n", g.o.idle,
           g.o.ca ? "on" : "off", g.n_connected, g.errors);
    if (g.first_error[0])
      fprintf(stderr, "tally-loadgen: first error: %s\n", g.first_error);
    return g.errors || g.n_connected != g.o.idle;
  }
  summary();
  uv_loop_close(g.loop);
  return g.errors == 0 && g.answered > 0 ? 0 : 1;
}
