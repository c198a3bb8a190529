/* client.h: a small blocking client library for tallyd.
 *
 * One connection, one request at a time: tally_client_call() sends a
 * request and waits for the reply with the same id. The CLI and the
 * tests use it.
 */
#ifndef TALLY_CLIENT_H
#define TALLY_CLIENT_H

#include "tally.pb-c.h"

#include <stddef.h>

typedef struct tally_client tally_client;

#define TALLY_CLIENT_DEFAULT_SERVER "127.0.0.1:7300"
#define TALLY_CLIENT_MAX_REPLY (64u << 20) /* largest reply accepted */

typedef struct {
  const char *address;     /* "HOST:PORT" or "[HOST6]:PORT" */
  int timeout_ms;          /* bounds the connect with its TLS handshake,
                              and each call, from the request sent to the
                              whole reply read; 0 = 30 s */
  const char *token;       /* sent with the first request, which signs the
                              connection in; NULL = none */
  const char *ca_file;     /* TLS: trust the server's certificate only if
                              this CA signed it; NULL = plaintext */
  const char *server_name; /* the name the certificate must carry; NULL =
                              the host part of address */
  int insecure_plaintext;  /* allow a token in plaintext off the loopback */
  const char *plaintext_hint; /* how to do without plaintext, told when a
                                 token is refused it; NULL: with the
                                 common options */
} tally_client_options;

/* Connects as o says. A token is not sent in plaintext to a server off
 * the loopback unless o->insecure_plaintext is set. Returns 0 and *out,
 * or -errno / TALLY_EUSAGE / TALLY_ETLS with a message in err. */
int tally_client_open(const tally_client_options *o, tally_client **out,
                      char *err, size_t errlen);

void tally_client_close(tally_client *c);

/* Sends req (its id is set here; the first request of the connection
 * also gets the token) and waits for the reply, all within the timeout.
 * Every string of a reply is safe to print: a control character other
 * than newline and tab (an escape code, C1) or a byte that is not UTF-8
 * has been replaced by U+FFFD (tally_utf8_for_terminal). Returns 0 and
 * *reply (free it with tally_wire_free), which may be an error reply:
 * check reply->body_case. Returns -errno, TALLY_EPROTO or a framing
 * error, with a message in err, when no reply could be had. */
int tally_client_call(tally_client *c, Tally__Envelope *req,
                      Tally__Envelope **reply, char *err, size_t errlen);

/* Sends req without waiting for its reply (its id is set here), for a
 * caller that keeps a request in flight while it does other work; read
 * the reply with tally_client_read. A first request too large to sign
 * in with is preceded by a small one, answered here. Returns 0, or as
 * tally_client_call (a refused sign-in: TALLY_EPROTO, its message in
 * err). */
int tally_client_send(tally_client *c, Tally__Envelope *req, char *err,
                      size_t errlen);

/* Sends raw bytes as they are (for tests of bad input). Returns 0 or
 * -errno. */
int tally_client_send_raw(tally_client *c, const void *bytes, size_t len);

/* Reads one reply frame, whatever its id. Returns as tally_client_call. */
int tally_client_read(tally_client *c, Tally__Envelope **reply, char *err,
                      size_t errlen);

#endif
