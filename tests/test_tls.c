/* test_tls.c: tallyd with TLS, through the client library: the handshake
 * and requests over it, every way trust can fail, plaintext on either
 * side, the loopback rule, and the limits (idle timeout, busy,
 * backpressure) with TLS. The certificates are made afresh by
 * deploy/make-ca.sh. */
#include "address.h"
#include "client.h"
#include "error.h"
#include "fixture.h"
#include "wire.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[256];
static char ca[300], cert[300], key[300], other_ca[300];
static tally_test_server srv;

/* Makes dir/good (the server's CA, certificate and key) and dir/other (a
 * CA that signed nothing the server has). */
static void make_ca(const char *sub, const char *const *names) {
  char path[300], *out = NULL, *err = NULL;
  const char *args[16];
  int n = 0;
  snprintf(path, sizeof path, "%s/%s", dir, sub);
  args[n++] = path;
  for (; names && *names; names++) {
    args[n++] = "--name";
    args[n++] = *names;
  }
  args[n] = NULL;
  int rc = tally_test_exec(TALLY_SOURCE_DIR "/deploy/make-ca.sh", args, NULL,
                           &out, &err);
  cr_assert_eq(rc, 0, "make-ca.sh %s: %s%s", sub, out, err);
  free(out);
  free(err);
}

static void setup(void) {
  tally_test_tmpdir(dir, sizeof dir);
  make_ca("good", NULL);
  make_ca("other", NULL);
  snprintf(ca, sizeof ca, "%s/good/ca.crt", dir);
  snprintf(cert, sizeof cert, "%s/good/server.crt", dir);
  snprintf(key, sizeof key, "%s/good/server.key", dir);
  snprintf(other_ca, sizeof other_ca, "%s/other/ca.crt", dir);
}

static void teardown(void) {
  tally_test_server_stop(&srv);
  tally_test_rmtree(dir);
}

TestSuite(tls, .init = setup, .fini = teardown, .timeout = 120);

/* Stops the server; it must stop cleanly. Under the sanitizers a leak or
 * a memory error in it makes its exit status non-zero. */
static void stop_cleanly(void) {
  cr_assert_eq(tally_test_server_stop(&srv), 0, "tallyd did not exit 0");
}

/* Starts a TLS server with the good certificate, and more arguments. */
static void start_tls(const char *a, const char *b) {
  tally_test_server_start(&srv, (const char *const[]){
      "--tls-cert", cert, "--tls-key", key, a, b, NULL});
  srv.ca = ca;
}

/* Opens a connection; returns the code, the client in *c, why in err. */
static int open_tls(const char *address, const char *ca_file,
                    const char *server_name, tally_client **c, char *err,
                    size_t errlen) {
  tally_client_options o = {.address = address,
                            .timeout_ms = 5000,
                            .token = srv.admin,
                            .ca_file = ca_file,
                            .server_name = server_name};
  *c = NULL;
  return tally_client_open(&o, c, err, errlen);
}

static tally_client *connect_good(void) {
  tally_client *c;
  char err[512];
  int rc = open_tls(srv.address, ca, NULL, &c, err, sizeof err);
  cr_assert_eq(rc, 0, "TLS connect: %s", err);
  return c;
}

/* The same, signed in with token. */
static tally_client *connect_as(const char *token) {
  tally_client_options o = {.address = srv.address, .timeout_ms = 5000,
                            .token = token, .ca_file = ca};
  tally_client *c;
  char err[512];
  cr_assert_eq(tally_client_open(&o, &c, err, sizeof err), 0, "%s", err);
  return c;
}

static Tally__Envelope *catalog_on(tally_client *c, int *rc, char *err,
                                   size_t errlen) {
  Tally__CatalogRequest q = TALLY__CATALOG_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  req.body_case = TALLY__ENVELOPE__BODY_CATALOG;
  req.catalog = &q;
  *rc = tally_client_call(c, &req, &reply, err, errlen);
  return reply;
}

/* Asserts that c gets the whole catalog. */
static void assert_catalog(tally_client *c) {
  char err[512];
  int rc;
  Tally__Envelope *r = catalog_on(c, &rc, err, sizeof err);
  cr_assert_eq(rc, 0, "catalog request: %s", err);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_CATALOG_REPLY, "%s",
               r->body_case == TALLY__ENVELOPE__BODY_ERROR ? r->error->message
                                                           : "");
  /* Tens of kilobytes: several TLS records. */
  cr_assert_gt(r->catalog_reply->json.len, 16384);
  cr_assert(memmem(r->catalog_reply->json.data, r->catalog_reply->json.len,
                   "\"changqing\"", 11));
  tally_wire_free(r);
}

/* A good client on a fresh connection is served. */
static void assert_serves_a_good_client(void) {
  tally_client *c = connect_good();
  assert_catalog(c);
  tally_client_close(c);
}

static Tally__Envelope *submit_on(tally_client *c, const char *element,
                                  double value) {
  Tally__Value v = TALLY__VALUE__INIT, *pv = &v;
  Tally__SubmitRequest s = TALLY__SUBMIT_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply;
  char err[512];
  v.element = (char *)element;
  v.value = value;
  s.unit = "wenchang";
  s.period = "2022";
  s.n_values = 1;
  s.values = &pv;
  req.body_case = TALLY__ENVELOPE__BODY_SUBMIT;
  req.submit = &s;
  cr_assert_eq(tally_client_call(c, &req, &reply, err, sizeof err), 0, "%s",
               err);
  return reply;
}

static Tally__Envelope *values_on(tally_client *c) {
  Tally__ValuesRequest q = TALLY__VALUES_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply;
  char err[512];
  q.unit = "wenchang";
  q.period = "2022";
  req.body_case = TALLY__ENVELOPE__BODY_VALUES;
  req.values = &q;
  cr_assert_eq(tally_client_call(c, &req, &reply, err, sizeof err), 0, "%s",
               err);
  return reply;
}

/* The server's log, once it holds text. */
static char *log_with(const char *text) {
  return tally_test_read_file_with(srv.log, text);
}

Test(tls, a_request_over_tls) {
  start_tls(NULL, NULL);
  tally_client *c = connect_as(tally_test_token(&srv, "reporter", "wenchang"));
  /* Several requests on one connection, a submission among them. */
  assert_catalog(c);
  Tally__Envelope *r = submit_on(c, "live_births", 1234);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_SUBMIT_REPLY, "%s",
               r->body_case == TALLY__ENVELOPE__BODY_ERROR ? r->error->message
                                                           : "");
  tally_wire_free(r);
  r = values_on(c);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_VALUES_REPLY);
  cr_assert_eq(r->values_reply->n_values, 1);
  cr_assert_eq(r->values_reply->values[0]->value, 1234);
  tally_wire_free(r);
  assert_catalog(c);
  tally_client_close(c);

  /* By name: the certificate carries localhost as well as 127.0.0.1. */
  char err[512];
  cr_assert_eq(open_tls(srv.address, ca, "localhost", &c, err, sizeof err), 0,
               "%s", err);
  assert_catalog(c);
  tally_client_close(c);
  char *log = log_with(" (TLS), signed in as account ");
  cr_assert(log && strstr(log, " (TLS), signed in as account "), "%s", log);
  free(log);
  stop_cleanly();
}

Test(tls, a_certificate_from_another_ca_is_refused) {
  start_tls(NULL, NULL);
  tally_client *c;
  char err[512];
  int rc = open_tls(srv.address, other_ca, NULL, &c, err, sizeof err);
  cr_assert_eq(rc, TALLY_ETLS, "rc %d: %s", rc, err);
  cr_assert_null(c);
  char want[600];
  snprintf(want, sizeof want, "the certificate of the server at %s is not "
           "signed by the CA in %s", srv.address, other_ca);
  cr_assert(strstr(err, want), "%s", err);
  /* The server logs the failure with the peer, and serves on. */
  char *log = log_with("failed: tlsv1 alert unknown ca");
  cr_assert(log && strstr(log, "TLS handshake with 127.0.0.1:") &&
                strstr(log, "failed: tlsv1 alert unknown ca"),
            "%s", log);
  free(log);
  assert_serves_a_good_client();
  stop_cleanly();
}

Test(tls, a_certificate_for_another_name_is_refused) {
  start_tls(NULL, NULL);
  tally_client *c;
  char err[512];
  int rc = open_tls(srv.address, ca, "wrong.example", &c, err, sizeof err);
  cr_assert_eq(rc, TALLY_ETLS, "rc %d: %s", rc, err);
  char want[600];
  snprintf(want, sizeof want, "the certificate of the server at %s is for "
           "localhost, 127.0.0.1, not wrong.example", srv.address);
  cr_assert_str_eq(err, want);
  /* An address the certificate does not carry: the same. */
  rc = open_tls(srv.address, ca, "127.0.0.2", &c, err, sizeof err);
  cr_assert_eq(rc, TALLY_ETLS, "rc %d: %s", rc, err);
  cr_assert(strstr(err, "is for localhost, 127.0.0.1, not 127.0.0.2"), "%s",
            err);
  assert_serves_a_good_client();
  stop_cleanly();
}

Test(tls, a_server_certificate_for_other_names) {
  static const char *const names[] = {"tally.example", "10.1.2.3", NULL};
  make_ca("named", names);
  char named_cert[300], named_key[300], named_ca[300];
  snprintf(named_cert, sizeof named_cert, "%s/named/server.crt", dir);
  snprintf(named_key, sizeof named_key, "%s/named/server.key", dir);
  snprintf(named_ca, sizeof named_ca, "%s/named/ca.crt", dir);
  tally_test_server_start(&srv, (const char *const[]){
      "--tls-cert", named_cert, "--tls-key", named_key, NULL});
  tally_client *c;
  char err[512];
  /* The address's host (127.0.0.1) is not on it. */
  int rc = open_tls(srv.address, named_ca, NULL, &c, err, sizeof err);
  cr_assert_eq(rc, TALLY_ETLS, "%s", err);
  cr_assert(strstr(err, "is for tally.example, 10.1.2.3, not 127.0.0.1"), "%s",
            err);
  cr_assert_eq(open_tls(srv.address, named_ca, "tally.example", &c, err,
                        sizeof err),
               0, "%s", err);
  assert_catalog(c);
  tally_client_close(c);
  cr_assert_eq(open_tls(srv.address, named_ca, "10.1.2.3", &c, err, sizeof err),
               0, "%s", err);
  tally_client_close(c);
  stop_cleanly();
}

Test(tls, a_missing_or_unreadable_ca_file) {
  start_tls(NULL, NULL);
  tally_client *c;
  char err[512], missing[300];
  snprintf(missing, sizeof missing, "%s/no-such-ca.crt", dir);
  cr_assert_eq(open_tls(srv.address, missing, NULL, &c, err, sizeof err),
               TALLY_ETLS);
  char want[600];
  snprintf(want, sizeof want, "cannot read the CA file %s: No such file or "
           "directory", missing);
  cr_assert_str_eq(err, want);
  /* A file that is not a certificate. */
  cr_assert_eq(open_tls(srv.address, key, NULL, &c, err, sizeof err),
               TALLY_ETLS);
  snprintf(want, sizeof want, "the CA file %s holds no certificate", key);
  cr_assert(strstr(err, want), "%s", err);
  stop_cleanly();
}

Test(tls, a_plaintext_client_is_told_to_use_tls) {
  start_tls(NULL, NULL);
  tally_client *c;
  char err[512];
  int rc;
  tally_client_options o = {.address = srv.address, .timeout_ms = 5000};
  cr_assert_eq(tally_client_open(&o, &c, err, sizeof err),
               0, "%s", err);
  time_t t0 = time(NULL);
  Tally__Envelope *r = catalog_on(c, &rc, err, sizeof err);
  cr_assert_eq(rc, 0, "no reply: %s", err);
  cr_assert_leq(time(NULL) - t0, 2, "the refusal took its time");
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR);
  cr_assert_eq(r->id, 0);
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_BAD_FRAME);
  cr_assert_str_eq(r->error->message,
                   "this server speaks TLS: give the client --ca FILE");
  tally_wire_free(r);
  tally_client_close(c);
  char *log = log_with("speaks plaintext to a TLS listener");
  cr_assert(log && strstr(log, "speaks plaintext to a TLS listener"), "%s",
            log);
  free(log);
  assert_serves_a_good_client();
  stop_cleanly();
}

Test(tls, a_tls_client_to_a_plaintext_server) {
  tally_test_server_start(&srv, NULL);
  tally_client *c;
  char err[512];
  int rc = open_tls(srv.address, ca, NULL, &c, err, sizeof err);
  cr_assert_eq(rc, TALLY_ETLS, "rc %d: %s", rc, err);
  char want[600];
  snprintf(want, sizeof want, "TLS handshake with %s failed: ", srv.address);
  cr_assert(strstr(err, want), "%s", err);
  cr_assert(strstr(err, "; is the server started with --tls-cert?"), "%s",
            err);
  stop_cleanly();
}

/* A server that accepts (the kernel does) and never answers: the
 * handshake gives up after the timeout and says so. */
Test(tls, a_silent_server_times_out_the_handshake) {
  char address[64], err[512];
  int l = tally_test_listen(address, sizeof address);
  tally_client_options o = {.address = address, .timeout_ms = 1000,
                            .ca_file = ca};
  tally_client *c = NULL;
  time_t t0 = time(NULL);
  int rc = tally_client_open(&o, &c, err, sizeof err);
  cr_assert_eq(rc, -ETIMEDOUT, "rc %d: %s", rc, err);
  cr_assert_leq(time(NULL) - t0, 3);
  char want[600];
  snprintf(want, sizeof want, "no TLS handshake from the server at %s within "
           "1 s; is it started with --tls-cert?", address);
  cr_assert_str_eq(err, want);
  close(l);
}

/* The first half of a real ClientHello, made by OpenSSL in memory. */
static size_t half_client_hello(uint8_t *buf, size_t n) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL *ssl = SSL_new(ctx);
  BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rbio, wbio);
  cr_assert_eq(SSL_connect(ssl), -1); /* wants the ServerHello */
  int len = BIO_read(wbio, buf, (int)n);
  cr_assert_gt(len, 100);
  cr_assert_eq(buf[0], 0x16);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return (size_t)len / 2;
}

Test(tls, a_handshake_that_never_finishes_is_closed_after_the_idle_timeout) {
  start_tls("--idle-timeout", "1");
  tally_client *c;
  char err[512];
  uint8_t hello[4096];
  size_t half = half_client_hello(hello, sizeof hello);
  tally_client_options o = {.address = srv.address, .timeout_ms = 10000};
  cr_assert_eq(tally_client_open(&o, &c, err, sizeof err),
               0);
  cr_assert_eq(tally_client_send_raw(c, hello, half), 0);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  Tally__Envelope *r = NULL;
  int rc = tally_client_read(c, &r, err, sizeof err);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double waited = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  /* Closed, with nothing said: it could not have read it. */
  cr_assert_eq(rc, TALLY_EPROTO, "rc %d: %s", rc, err);
  cr_assert(waited >= 0.5 && waited < 3.5, "closed after %.1f s", waited);
  tally_client_close(c);
  char *log = log_with("no TLS handshake from 127.0.0.1:");
  cr_assert(log && strstr(log, "no TLS handshake from 127.0.0.1:"), "%s", log);
  free(log);
  assert_serves_a_good_client();
  stop_cleanly();
}

Test(tls, connections_over_the_limit_are_told_after_the_handshake) {
  start_tls("--max-connections", "1");
  tally_client *a = connect_good();
  assert_catalog(a);
  tally_client *extra = connect_good();
  Tally__Envelope *r;
  char err[512];
  cr_assert_eq(tally_client_read(extra, &r, err, sizeof err), 0, "%s", err);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR);
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_BUSY);
  tally_wire_free(r);
  tally_client_close(extra);
  assert_catalog(a); /* unaffected */
  tally_client_close(a);
  stop_cleanly();
}

/* Backpressure holds with TLS: a client that sends thousands of
 * requests and reads nothing is not served without end, and the
 * requests that wait are answered in order once it reads. */
Test(tls, a_client_that_does_not_read_is_not_served_without_end) {
  start_tls(NULL, NULL);
  size_t len;
  /* 3,000 x 70 KB */
  uint8_t *flood = tally_test_catalog_requests(&srv, 3000, 7, &len);
  tally_client *greedy = connect_good();
  cr_assert_eq(tally_client_send_raw(greedy, flood, len), 0);
  free(flood);
  usleep(500000);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_serves_a_good_client();
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double waited = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  cr_assert_lt(waited, 2.0, "another client waited %.1f s", waited);
  long kib = tally_test_rss_kib(srv.pid);
  cr_assert(kib > 0 && kib < 100 * 1024, "tallyd holds %ld KiB", kib);
  /* It reads: the first replies come, whole. */
  for (int i = 0; i < 50; i++) {
    Tally__Envelope *r;
    char err[512];
    cr_assert_eq(tally_client_read(greedy, &r, err, sizeof err), 0, "%d: %s",
                 i, err);
    cr_assert_eq(r->id, 7);
    cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_CATALOG_REPLY);
    tally_wire_free(r);
  }
  tally_client_close(greedy);
  stop_cleanly();
}

/* Requests sent together, one of them run in a worker thread (a
 * backup): the ones after it wait, decrypted, and are answered in order. */
Test(tls, requests_behind_a_backup_wait_their_turn) {
  start_tls("--backup-dir", dir);
  Tally__BackupRequest b = TALLY__BACKUP_REQUEST__INIT;
  Tally__ValuesRequest q = TALLY__VALUES_REQUEST__INIT;
  Tally__Envelope env = TALLY__ENVELOPE__INIT;
  Tally__Auth auth = TALLY__AUTH__INIT;
  uint8_t *frames[3];
  size_t lens[3], total = 0;
  auth.token = srv.admin; /* sent raw: the first request signs in */
  b.path = "backup";
  q.unit = "wenchang";
  q.period = "2022";
  for (int i = 0; i < 3; i++) {
    env.id = (uint64_t)i + 1;
    env.auth = i == 0 ? &auth : NULL;
    if (i == 0) {
      env.body_case = TALLY__ENVELOPE__BODY_BACKUP;
      env.backup = &b;
    } else {
      env.body_case = TALLY__ENVELOPE__BODY_VALUES;
      env.values = &q;
    }
    cr_assert_eq(tally_wire_pack(&env, 0, &frames[i], &lens[i]), 0);
    total += lens[i];
  }
  uint8_t *all = malloc(total);
  for (size_t i = 0, off = 0; i < 3; off += lens[i], i++) {
    memcpy(all + off, frames[i], lens[i]);
    free(frames[i]);
  }
  tally_client *c = connect_good();
  cr_assert_eq(tally_client_send_raw(c, all, total), 0);
  free(all);
  for (uint64_t id = 1; id <= 3; id++) {
    Tally__Envelope *r;
    char err[512];
    cr_assert_eq(tally_client_read(c, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(r->id, id);
    cr_assert_eq(r->body_case, id == 1 ? TALLY__ENVELOPE__BODY_BACKUP_REPLY
                                       : TALLY__ENVELOPE__BODY_VALUES_REPLY,
                 "reply %d: %s", (int)id,
                 r->body_case == TALLY__ENVELOPE__BODY_ERROR
                     ? r->error->message
                     : "");
    tally_wire_free(r);
  }
  tally_client_close(c);
  stop_cleanly();
}

Test(tls, sigterm_stops_a_tls_server_cleanly) {
  start_tls(NULL, NULL);
  tally_client *c = connect_good();
  assert_catalog(c);
  tally_client *half;
  char err[512];
  uint8_t hello[4096];
  size_t n = half_client_hello(hello, sizeof hello);
  tally_client_options o = {.address = srv.address, .timeout_ms = 5000};
  cr_assert_eq(tally_client_open(&o, &half, err, sizeof err),
               0);
  cr_assert_eq(tally_client_send_raw(half, hello, n), 0);
  usleep(100000);
  cr_assert_eq(tally_test_server_stop(&srv), 0);
  tally_client_close(half);
  tally_client_close(c);
}

#define TALLYD(out, err, ...)                                                  \
  tally_test_exec(TALLYD_PATH, (const char *const[]){__VA_ARGS__, NULL}, NULL, \
                  out, err)

Test(tls, plaintext_only_on_the_loopback) {
  char data[300], *err;
  snprintf(data, sizeof data, "%s/store", dir);
  cr_assert_eq(TALLYD(NULL, &err, "--data", data, "--listen", "0.0.0.0:0"), 1);
  cr_assert(strstr(err, "refusing to listen on 0.0.0.0:0 without TLS") &&
                strstr(err, "--insecure-plaintext"),
            "%s", err);
  free(err);
  cr_assert_eq(TALLYD(NULL, &err, "--data", data, "--listen", "[::]:0"), 1);
  cr_assert(strstr(err, "without TLS"), "%s", err);
  free(err);

  /* With --insecure-plaintext it listens, and serves in plaintext. */
  tally_test_server_start(&srv, (const char *const[]){
      "--listen", "0.0.0.0:0", "--insecure-plaintext", NULL});
  cr_assert(strncmp(srv.address, "0.0.0.0:", 8) == 0, "%s", srv.address);
  char loop[96];
  snprintf(loop, sizeof loop, "127.0.0.1:%.8s", srv.address + 8);
  tally_client *c;
  char msg[512];
  tally_client_options plain = {.address = loop, .timeout_ms = 5000,
                                .token = srv.admin};
  cr_assert_eq(tally_client_open(&plain, &c, msg, sizeof msg), 0, "%s", msg);
  assert_catalog(c);
  tally_client_close(c);
  stop_cleanly();

  /* With TLS, any address; the loopback forms need neither. */
  start_tls("--listen", "0.0.0.0:0");
  snprintf(loop, sizeof loop, "127.0.0.1:%.8s", srv.address + 8);
  cr_assert_eq(open_tls(loop, ca, NULL, &c, msg, sizeof msg), 0, "%s", msg);
  assert_catalog(c);
  tally_client_close(c);
  stop_cleanly();
  static const char *const loopbacks[] = {"localhost:0", "127.9.8.7:0"};
  for (int i = 0; i < 2; i++) {
    tally_test_server_start(&srv,
                            (const char *const[]){"--listen", loopbacks[i], NULL});
    stop_cleanly();
  }
}

Test(tls, certificate_and_key_files_are_checked_at_start) {
  char data[300], missing[300], *err;
  snprintf(data, sizeof data, "%s/store", dir);
  snprintf(missing, sizeof missing, "%s/nothing.pem", dir);
  char want[1024];

  cr_assert_eq(TALLYD(NULL, &err, "--data", data, "--tls-cert", missing,
                      "--tls-key", key),
               1);
  snprintf(want, sizeof want, "tallyd: cannot read the certificate file %s: "
           "No such file or directory", missing);
  cr_assert(strstr(err, want), "%s", err);
  free(err);

  cr_assert_eq(TALLYD(NULL, &err, "--data", data, "--tls-cert", cert,
                      "--tls-key", missing),
               1);
  snprintf(want, sizeof want, "tallyd: cannot read the key file %s: No such "
           "file or directory", missing);
  cr_assert(strstr(err, want), "%s", err);
  free(err);

  /* A key that is another's. */
  char other_key[300];
  snprintf(other_key, sizeof other_key, "%s/other/server.key", dir);
  cr_assert_eq(TALLYD(NULL, &err, "--data", data, "--tls-cert", cert,
                      "--tls-key", other_key),
               1);
  snprintf(want, sizeof want, "the key in %s does not belong to the "
           "certificate in %s", other_key, cert);
  cr_assert(strstr(err, want), "%s", err);
  free(err);

  /* Swapped: the key given as the certificate. */
  cr_assert_eq(TALLYD(NULL, &err, "--data", data, "--tls-cert", key,
                      "--tls-key", cert),
               1);
  snprintf(want, sizeof want, "cannot load the certificate in %s", key);
  cr_assert(strstr(err, want), "%s", err);
  free(err);

  /* One without the other. */
  cr_assert_eq(TALLYD(NULL, &err, "--data", data, "--tls-cert", cert), 2);
  cr_assert(strstr(err, "--tls-cert needs --tls-key too"), "%s", err);
  free(err);
  struct stat st;
  cr_assert_neq(stat(data, &st), 0, "the store was made for nothing");
}

Test(tls, make_ca_keeps_keys_private) {
  struct stat st;
  char path[300];
  static const char *const files[] = {"ca.key", "server.key"};
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/good/%s", dir, files[i]);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "%s is %o", files[i],
                 st.st_mode & 0777);
  }
  snprintf(path, sizeof path, "%s/good/ca.crt", dir);
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0644);

  /* Again into the same place: refused without --force. */
  char *out, *err;
  snprintf(path, sizeof path, "%s/good", dir);
  cr_assert_eq(tally_test_exec(TALLY_SOURCE_DIR "/deploy/make-ca.sh",
                               (const char *const[]){path, NULL}, NULL, &out,
                               &err),
               1);
  cr_assert(strstr(err, "--force"), "%s", err);
  free(out);
  free(err);
  cr_assert_eq(tally_test_exec(TALLY_SOURCE_DIR "/deploy/make-ca.sh",
                               (const char *const[]){"--help", NULL}, NULL,
                               &out, NULL),
               0);
  cr_assert(strstr(out, "usage: deploy/make-ca.sh DIR") &&
                strstr(out, "--name HOST"),
            "%s", out);
  free(out);
}

/* The real tally binary: --ca and $TALLY_CA; a wrong CA is exit 1 with
 * the reason, and a submission it could not send stays in the spool. */
Test(tls, the_cli_speaks_tls_with_ca) {
  start_tls(NULL, NULL);
  char *out = NULL, *err = NULL;
  int rc = tally_test_run((const char *const[]){"--server", srv.address,
                                                "--ca", ca, "whoami", NULL},
                          NULL, &out, &err);
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert(strstr(out, "admin"), "%s", out);
  free(out);
  free(err);

  setenv("TALLY_CA", other_ca, 1);
  rc = tally_test_run((const char *const[]){"--server", srv.address, "whoami",
                                            NULL},
                      NULL, NULL, &err);
  unsetenv("TALLY_CA");
  cr_assert_eq(rc, 1, "%s", err);
  cr_assert(strstr(err, "not signed by the CA in"), "%s", err);
  free(err);

  char spool[300], figures[300];
  snprintf(spool, sizeof spool, "%s/spool", dir);
  snprintf(figures, sizeof figures, "%s/w.csv", dir);
  tally_test_write_file(figures, "live_births,10\n");
  tally_test_sign_in(&srv, "reporter", "wenchang");
  rc = tally_test_run((const char *const[]){"--server", srv.address, "--ca",
                                            other_ca, "submit", "--spool",
                                            spool, "--unit", "wenchang",
                                            "--period", "2022", "--file",
                                            figures, NULL},
                      NULL, NULL, &err);
  cr_assert_eq(rc, 1, "%s", err);
  cr_assert(strstr(err, "kept in the spool"), "%s", err);
  free(err);
  /* With the right CA, sync sends it. */
  rc = tally_test_run((const char *const[]){"--server", srv.address, "--ca",
                                            ca, "sync", "--spool", spool, NULL},
                      NULL, &out, &err);
  cr_assert_eq(rc, 0, "%s", err);
  free(out);
  free(err);
  stop_cleanly();
}

/* The client's side of the loopback rule: no token in plaintext to an
 * address off the loopback (here the machine's own, so nothing leaves
 * it) without --insecure-plaintext. */
Test(tls, the_cli_sends_no_token_in_plaintext_off_the_loopback) {
  char ip[64], addr[96], *err = NULL;
  if (!tally_test_own_address(ip, sizeof ip))
    cr_skip_test("this machine has no address but the loopback");
  tally_test_server_start(&srv, (const char *const[]){
      "--listen", "0.0.0.0:0", "--insecure-plaintext", NULL});
  snprintf(addr, sizeof addr, "%s:%s", ip, strchr(srv.address, ':') + 1);
  int rc = tally_test_run((const char *const[]){"--server", addr, "whoami",
                                                NULL},
                          NULL, NULL, &err);
  cr_assert_eq(rc, 2, "%s", err);
  cr_assert(strstr(err, "refusing to send a token in plaintext"), "%s", err);
  free(err);
  /* Nothing reached the server: no sign-in in its log. */
  char *log = tally_test_read_file(srv.log);
  cr_assert(log && !strstr(log, "signed in as"), "%s", log ? log : "");
  free(log);
  rc = tally_test_run((const char *const[]){"--server", addr,
                                            "--insecure-plaintext", "whoami",
                                            NULL},
                      NULL, NULL, &err);
  cr_assert_eq(rc, 0, "%s", err);
  free(err);
  stop_cleanly();
}

/* The certificate's end, as tally admin status tells it, on a fresh
 * connection signed in as the admin. */
static int64_t cert_end_told(void) {
  tally_client *c = connect_as(srv.admin);
  Tally__AdminStatusRequest q = TALLY__ADMIN_STATUS_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply;
  char err[512];
  req.body_case = TALLY__ENVELOPE__BODY_ADMIN_STATUS;
  req.admin_status = &q;
  cr_assert_eq(tally_client_call(c, &req, &reply, err, sizeof err), 0, "%s",
               err);
  cr_assert_eq(reply->body_case, TALLY__ENVELOPE__BODY_ADMIN_STATUS_REPLY);
  int64_t end = reply->admin_status_reply->cert_not_after_unix;
  tally_wire_free(reply);
  tally_client_close(c);
  return end;
}

/* The end of the certificate the web pages' HTTPS port shows (origin
 * "https://HOST:PORT"), as Unix time. */
static int64_t web_cert_end(const char *origin) {
  struct sockaddr_storage sa;
  cr_assert(strncmp(origin, "https://", 8) == 0, "%s", origin);
  cr_assert_eq(tally_address_parse(origin + 8, &sa), 0, "%s", origin);
  socklen_t len = sa.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                           : sizeof(struct sockaddr_in);
  int s = socket(sa.ss_family, SOCK_STREAM, 0);
  cr_assert_eq(connect(s, (struct sockaddr *)&sa, len), 0, "%s", origin);
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL *ssl = SSL_new(ctx);
  SSL_set_fd(ssl, s);
  cr_assert_eq(SSL_connect(ssl), 1, "the web pages' TLS handshake");
  X509 *shown = SSL_get1_peer_certificate(ssl);
  cr_assert_not_null(shown);
  struct tm tm;
  cr_assert_eq(ASN1_TIME_to_tm(X509_get0_notAfter(shown), &tm), 1);
  X509_free(shown);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(s);
  return (int64_t)timegm(&tm);
}

static void copy_file(const char *from, const char *to) {
  char *text = tally_test_read_file(from);
  cr_assert_not_null(text, "%s", from);
  tally_test_write_file(to, text);
  free(text);
}

/* SIGHUP loads the certificate and key afresh: a connection open before
 * goes on with its session, new ones get the new certificate (on each
 * of the web pages' two addresses too), and one that ends within 30
 * days is warned of in the log. */
Test(tls, sighup_reloads_the_certificate_without_dropping_connections) {
  char live_cert[320], live_key[320], good[300];
  snprintf(live_cert, sizeof live_cert, "%s/live.crt", dir);
  snprintf(live_key, sizeof live_key, "%s/live.key", dir);
  char webdir[300], index[340];
  copy_file(cert, live_cert);
  copy_file(key, live_key);
  /* Pages of its own: the test does not need the built web app. */
  snprintf(webdir, sizeof webdir, "%s/web", dir);
  cr_assert_eq(mkdir(webdir, 0700), 0);
  snprintf(index, sizeof index, "%s/index.html", webdir);
  tally_test_write_file(index, "<!doctype html><title>t</title>\n");
  tally_test_server_start(&srv, (const char *const[]){
      "--tls-cert", live_cert, "--tls-key", live_key, "--http", "127.0.0.1:0",
      "--http", tally_test_second_loopback(), "--web-dir", webdir, NULL});
  srv.ca = ca;
  int64_t before = cert_end_told();
  cr_assert_eq(web_cert_end(srv.web), before);
  cr_assert_eq(web_cert_end(srv.web_also[0]), before);
  int64_t now = (int64_t)time(NULL);
  cr_assert_gt(before, now + 800 * 86400, "825 days: %lld", (long long)before);

  tally_client *open_before = connect_as(srv.admin);
  assert_catalog(open_before);

  /* A new certificate from the same CA, ending in 10 days. */
  snprintf(good, sizeof good, "%s/good", dir);
  char *out = NULL, *err = NULL;
  int rc = tally_test_exec(TALLY_SOURCE_DIR "/deploy/make-ca.sh",
                           (const char *const[]){good, "--name", "127.0.0.1",
                                                 "--name", "localhost",
                                                 "--days", "10", "--force",
                                                 NULL},
                           NULL, &out, &err);
  cr_assert_eq(rc, 0, "%s%s", out, err);
  free(out);
  free(err);
  copy_file(cert, live_cert);
  copy_file(key, live_key);
  cr_assert_eq(kill(srv.pid, SIGHUP), 0);
  char *log = log_with("reload: done");
  cr_assert(log && strstr(log, "reload: the certificate"), "%s", log);
  cr_assert(strstr(log, "warning: the TLS certificate expires on ") &&
                (strstr(log, "in 9 days") || strstr(log, "in 10 days")),
            "%s", log);
  free(log);

  int64_t after = cert_end_told();
  cr_assert(after > now + 9 * 86400 && after <= now + 10 * 86400 + 60,
            "%lld", (long long)after);
  /* The web pages show the new one too, on each address. */
  cr_assert_eq(web_cert_end(srv.web), after);
  cr_assert_eq(web_cert_end(srv.web_also[0]), after);
  /* The connection made before is still served. */
  assert_catalog(open_before);
  tally_client_close(open_before);

  /* A key that does not load keeps the one in use. */
  tally_test_write_file(live_key, "not a key\n");
  cr_assert_eq(kill(srv.pid, SIGHUP), 0);
  log = tally_test_read_file_with(srv.log, "the certificate is kept as it was");
  cr_assert(log && strstr(log, "error: reload: the certificate is kept as it "
                               "was: cannot load the private key"),
            "%s", log);
  free(log);
  assert_serves_a_good_client();
  stop_cleanly();
}

/* Accepts one connection on the listening socket *arg, reads what the
 * client sends first (its ClientHello) and resets the connection. */
static void *reset_one(void *arg) {
  int l = *(int *)arg;
  int s = accept(l, NULL, NULL);
  if (s < 0)
    return NULL;
  char buf[512];
  if (read(s, buf, sizeof buf) < 0)
    perror("read");
  struct linger lg = {1, 0};
  setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(s);
  return NULL;
}

/* A connection reset in the middle of the handshake is the network's
 * doing, not the certificate's: the client could not reach the server
 * (exit 3), and says so. */
Test(tls, a_handshake_reset_means_the_server_was_not_reached) {
  char address[64], *err = NULL;
  int l = tally_test_listen(address, sizeof address);
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, reset_one, &l), 0);
  int rc = tally_test_run((const char *const[]){"--server", address, "--ca",
                                                ca, "whoami", NULL},
                          NULL, NULL, &err);
  pthread_join(t, NULL);
  close(l);
  cr_assert_eq(rc, 3, "exit %d: %s", rc, err);
  cr_assert(strstr(err, "was reset during the TLS handshake"), "%s", err);
  free(err);
}

/* tally login keeps the CA as an absolute path, so that a command run
 * from another directory finds it. */
Test(tls, login_saves_the_ca_as_an_absolute_path) {
  char config[400], here[4096], *out = NULL, *err = NULL;
  start_tls(NULL, NULL);
  snprintf(config, sizeof config, "%s/config.json", dir);
  setenv("TALLY_CONFIG", config, 1);
  cr_assert_not_null(getcwd(here, sizeof here));
  cr_assert_eq(chdir(dir), 0);
  int rc = tally_test_run((const char *const[]){"login", "--server",
                                                srv.address, "--ca",
                                                "good/ca.crt", "--token-file",
                                                "-", NULL},
                          srv.admin, &out, &err);
  cr_assert_eq(chdir(here), 0);
  cr_assert_eq(rc, 0, "%s", err);
  free(out);
  free(err);
  char *saved = tally_test_read_file(config);
  cr_assert_not_null(saved);
  char want[600];
  snprintf(want, sizeof want, "\"%s\"", ca);
  cr_assert(strstr(saved, want), "%s", saved);
  free(saved);
  /* From elsewhere, with what was saved alone. */
  unsetenv("TALLY_TOKEN");
  rc = tally_test_run((const char *const[]){"whoami", NULL}, NULL, &out, &err);
  cr_assert_eq(rc, 0, "%s", err);
  free(out);
  free(err);
  setenv("TALLY_CONFIG", "/nonexistent/tally-test-config.json", 1);
  stop_cleanly();
}
