/* server.h: the libuv TCP server: listener, connections, shutdown. */
#ifndef TALLY_SERVER_H
#define TALLY_SERVER_H

#include "accounts.h"
#include "catalog.h"
#include "dispatch.h"
#include "store.h"
#include "tls.h"

#include <stddef.h>
#include <uv.h>

typedef struct tally_server tally_server;

#define TALLY_SERVER_IDLE_TIMEOUT_MS 120000
#define TALLY_SERVER_MAX_CONNECTIONS 1000
#define TALLY_SERVER_SIGN_IN_TIMEOUT_MS 10000
#define TALLY_SERVER_MAX_PER_ADDRESS 32

/* The most addresses one server listens on. */
#define TALLY_SERVER_LISTEN_MAX 8

typedef struct {
  const char *listen;         /* "127.0.0.1:7300", "[::1]:7300"; port 0 = any */
  const char *also_listen[TALLY_SERVER_LISTEN_MAX - 1]; /* more addresses,
                                 each as listen; the first NULL ends them */
  size_t max_frame;           /* largest request body accepted */
  unsigned idle_timeout_ms;   /* a frame must complete within this; 0 = default */
  unsigned max_connections;   /* more are answered ERROR_BUSY; 0 = default;
                                 when full, the oldest not signed in goes */
  unsigned sign_in_timeout_ms; /* from opening to signing in, whatever is
                                  sent meanwhile; 0 = default */
  unsigned max_per_address;   /* connections not signed in from one sender
                                 (address.h); 0 = default */
  size_t memory_budget;       /* bytes all connections may hold together
                                 (replies queued, frames partly read);
                                 0 = 256 MiB (server/budget.h) */
  const tally_catalog *cat;   /* borrowed; outlives the server */
  tally_store *store;         /* borrowed; outlives the server */
  tally_accounts *accounts;   /* borrowed; who may sign in */
  tally_sessions *sessions;   /* borrowed; the web pages' (may be NULL) */
  tally_health *health;       /* borrowed; the running figures (may be NULL) */
  tally_tls *tls;             /* borrowed; NULL = plaintext */
  int insecure_plaintext;     /* plaintext allowed off the loopback */
} tally_server_config;

/* Binds and listens on loop, on each address. Without TLS, only
 * loopback addresses (127.0.0.0/8, ::1, localhost) are accepted unless
 * insecure_plaintext is set. Returns 0 and *out, or -errno / a TALLY_E code with a message in
 * err. */
int tally_server_start(uv_loop_t *loop, const tally_server_config *cfg,
                       tally_server **out, char *err, size_t errlen);

/* The address checks of tally_server_start alone, to fail before the
 * store is opened. Returns 0 or as tally_server_start. */
int tally_server_check_listen(const tally_server_config *cfg, char *err,
                              size_t errlen);

/* A new certificate for the connections accepted from now on (SIGHUP);
 * open ones keep the one they have. tls is borrowed, as in the config;
 * a plaintext server stays plaintext. */
void tally_server_set_tls(tally_server *s, tally_tls *tls);

/* New limits, from now on: the idle and sign-in timeouts, the most
 * connections and those not signed in per address (0 = the default). */
void tally_server_set_limits(tally_server *s, const tally_server_config *cfg);

/* The bound address, e.g. "127.0.0.1:43121" (with the real port): the
 * first one's. */
const char *tally_server_address(const tally_server *s);

/* How many addresses the server listens on, and the i-th bound one. */
size_t tally_server_n_addresses(const tally_server *s);
const char *tally_server_address_at(const tally_server *s, size_t i);

/* What requests are served with (the writer thread among them), for
 * another transport on the same loop (server/web.h). */
const tally_services *tally_server_services(const tally_server *s);

/* Another transport holds the server: a stopping server closes its
 * writer only once every hold is released (its requests answered). */
void tally_server_hold(tally_server *s);
void tally_server_release(tally_server *s);

/* Stops accepting, lets every connection finish the replies it has
 * queued, then closes all handles; the loop then runs out. The server
 * is freed when its last handle has closed. */
void tally_server_stop(tally_server *s);

#endif
