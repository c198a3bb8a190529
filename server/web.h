/* web.h: the web pages' transport: HTTP(S) and WebSocket through
 * libwebsockets, on the server's own libuv loop.
 *
 * It serves the built web app from a directory, the sign-in
 * (POST /session: server/signin.h), and a WebSocket (/ws) that carries
 * one Envelope per binary message through the same dispatch as a TCP
 * connection (dispatch.h), signed in by the session's cookie. It
 * listens on one address or several, each a vhost of one lws context
 * (the same pages, sessions and limits on every one).
 */
#ifndef TALLY_WEB_H
#define TALLY_WEB_H

#include "dispatch.h"
#include "server.h"

#include <stddef.h>
#include <uv.h>

typedef struct tally_web tally_web;

/* The most addresses the pages are served on. */
#define TALLY_WEB_LISTEN_MAX 8

typedef struct {
  const char *listen[TALLY_WEB_LISTEN_MAX]; /* "127.0.0.1:8080",
                               "[::1]:8080"; port 0 = any */
  size_t n_listen;          /* at least 1 */
  const char *web_dir;      /* the built app (index.html and assets) */
  const char *tls_cert;     /* PEM files, as for the TCP listener; NULL = */
  const char *tls_key;      /* plain HTTP, on the loopback only */
  int insecure_plaintext;   /* plain HTTP allowed off the loopback */
  size_t max_frame;         /* largest message taken (0 = 1 MiB) */
  unsigned max_connections; /* 0 = 1000 */
  unsigned max_per_address; /* connections not signed in from one sender
                               (address.h); 0 = 32, as for TCP */
  unsigned sign_in_timeout_ms; /* one that is not a signed-in WebSocket
                                  by then is closed; 0 = 10 s */
} tally_web_config;

/* Checks each address, as tally_server_check_listen does (HOST:PORT;
 * HTTPS, or the loopback). Returns 0, or TALLY_EUSAGE / -EINVAL with a
 * message naming the address. */
int tally_web_check(const tally_web_config *cfg, char *err, size_t errlen);

/* Starts serving on loop for the server (whose services, writer among
 * them, it shares, and which it holds until stopped), on every address.
 * Returns 0 and *out, or an error with a message in err naming the
 * address that could not be served ("cannot serve the web pages on
 * 127.0.0.1:8080: address already in use"); then *out may be set too,
 * stopped: lws closes what it had opened as the loop runs, and
 * tally_web_free frees it afterwards. */
int tally_web_start(uv_loop_t *loop, const tally_web_config *cfg,
                    tally_server *server, tally_web **out, char *err,
                    size_t errlen);

/* How many addresses the pages are served on, and the origin of the
 * i-th, bound ("http://127.0.0.1:43121", "https://[::1]:8443"). */
size_t tally_web_n_origins(const tally_web *w);
const char *tally_web_origin_at(const tally_web *w, size_t i);

/* Closes every connection and the listener; requests in flight are
 * answered into nothing, and the server is released once they are. */
void tally_web_stop(tally_web *w);

/* SIGHUP: the certificate and key read again from the same files as at
 * the start, for every address. Returns 0 (or 0 at once without TLS), or TALLY_ETLS / -errno
 * with err. */
int tally_web_reload_tls(tally_web *w, const char *cert, const char *key,
                         char *err, size_t errlen);

/* Frees what is left, once the loop has run out (before it is closed:
 * run it once more afterwards for lws's last handles). */
void tally_web_free(tally_web *w);

#endif
