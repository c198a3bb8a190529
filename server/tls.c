/* tls.c: the server's TLS sessions over memory BIOs (and the same
 * sessions on the client side, for bench/loadgen.c).
 *
 * The happy path: a session reads the peer's ClientHello from its read
 * BIO, writes the handshake to its write BIO, and once the handshake is
 * done decrypts what is fed in and encrypts what is written.
 * The failure modes: a certificate or key that cannot be read or does
 * not match fails tally_tls_new with the file named; a peer that breaks
 * the protocol, offers nothing we accept or rejects our certificate
 * fails its session, which keeps the reason and perhaps an alert to send.
 * A client-side tally_tls trusts only its CA file and checks the
 * server's name; a certificate that does not verify fails the session
 * with the reason X509 gives ("hostname mismatch", "unable to get local
 * issuer certificate").
 * OpenSSL's error queue is per thread: it is cleared before each call
 * and emptied after a failure, so one connection's error never shows up
 * as another's.
 */
#include "tls.h"

#include "address.h"
#include "error.h"
#include "file.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tally_tls {
  SSL_CTX *ctx;
  int client;        /* made by tally_tls_client_new */
  char *sni;         /* client: the host name to send, NULL for an address */
};

struct tally_tls_session {
  SSL *ssl;
  BIO *rbio;         /* ciphertext from the peer; owned by ssl */
  BIO *wbio;         /* ciphertext for the peer; owned by ssl */
  int client;        /* a client-side session */
  int failed;
  char error[160];   /* why it failed */
};

/* The reason of OpenSSL's oldest queued error, or fallback; empties the
 * queue. */
static const char *take_reason(char *buf, size_t n, const char *fallback) {
  unsigned long e = ERR_get_error();
  const char *r = e ? ERR_reason_error_string(e) : NULL;
  if (r)
    snprintf(buf, n, "%s", r);
  else if (e)
    ERR_error_string_n(e, buf, n);
  else
    snprintf(buf, n, "%s", fallback);
  ERR_clear_error();
  return buf;
}

/* Checks that path can be opened for reading; the message names it. */
static int check_readable(const char *what, const char *path, char *err,
                          size_t errlen) {
  int rc = tally_file_readable(path);
  if (rc != 0)
    snprintf(err, errlen, "cannot read the %s %s: %s", what, path,
             strerror(-rc));
  return rc;
}

int tally_tls_new(const char *cert_file, const char *key_file, tally_tls **out,
                  char *err, size_t errlen) {
  char reason[160];
  tally_tls *t;
  int rc;

  if ((rc = check_readable("certificate file", cert_file, err, errlen)) != 0 ||
      (rc = check_readable("key file", key_file, err, errlen)) != 0)
    return rc;
  if ((t = calloc(1, sizeof *t)) == NULL)
    return -ENOMEM;
  ERR_clear_error();
  if ((t->ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
    snprintf(err, errlen, "cannot set up TLS: %s",
             take_reason(reason, sizeof reason, "out of memory"));
    goto err_after_alloc;
  }
  SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
  /* The client keeps no sessions to resume: no tickets, no cache. */
  SSL_CTX_set_num_tickets(t->ctx, 0);
  SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  /* An idle connection gives its record buffers back: 10,000 idle
   * connections took 344 MB without this, 180 MB with it. */
  SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(t->ctx, cert_file) != 1) {
    snprintf(err, errlen, "cannot load the certificate in %s: %s (expected "
             "PEM)", cert_file, take_reason(reason, sizeof reason, "?"));
    goto err_after_ctx;
  }
  /* Loading the key also checks it against the certificate. */
  if (SSL_CTX_use_PrivateKey_file(t->ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(t->ctx) != 1) {
    unsigned long e = ERR_peek_error();
    if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
        ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      snprintf(err, errlen, "the key in %s does not belong to the "
               "certificate in %s", key_file, cert_file);
    } else {
      snprintf(err, errlen, "cannot load the private key in %s: %s "
               "(expected an unencrypted PEM key)", key_file,
               take_reason(reason, sizeof reason, "?"));
    }
    goto err_after_ctx;
  }
  *out = t;
  return 0;

err_after_ctx:
  SSL_CTX_free(t->ctx);
err_after_alloc:
  free(t);
  return TALLY_ETLS;
}

int tally_tls_client_new(const char *ca_file, const char *server_name,
                         tally_tls **out, char *err, size_t errlen) {
  char reason[160];
  X509_VERIFY_PARAM *param;
  tally_tls *t;
  int rc;

  if (server_name == NULL || *server_name == 0) {
    snprintf(err, errlen, "no server name to check the certificate against");
    return TALLY_ETLS;
  }
  if ((rc = check_readable("CA file", ca_file, err, errlen)) != 0)
    return rc;
  if ((t = calloc(1, sizeof *t)) == NULL)
    return -ENOMEM;
  t->client = 1;
  if (!tally_address_is_ip(server_name) &&
      (t->sni = strdup(server_name)) == NULL) {
    free(t);
    return -ENOMEM;
  }
  ERR_clear_error();
  if ((t->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
    snprintf(err, errlen, "cannot set up TLS: %s",
             take_reason(reason, sizeof reason, "out of memory"));
    goto err_after_alloc;
  }
  SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
  /* Frames carry their length: a cut-off reply is found without TLS.
   * Nothing is resumed; an idle session gives its buffers back. */
  SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
                              SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL) != 1) {
    snprintf(err, errlen, "the CA file %s holds no certificate that can be "
             "read (%s); expected PEM", ca_file,
             take_reason(reason, sizeof reason, "no certificate"));
    goto err_after_ctx;
  }
  /* Every session inherits the name to check. */
  param = SSL_CTX_get0_param(t->ctx);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if ((t->sni ? X509_VERIFY_PARAM_set1_host(param, server_name, 0)
              : X509_VERIFY_PARAM_set1_ip_asc(param, server_name)) != 1) {
    snprintf(err, errlen, "cannot check certificates for %s: %s",
             server_name, take_reason(reason, sizeof reason, "?"));
    goto err_after_ctx;
  }
  *out = t;
  return 0;

err_after_ctx:
  SSL_CTX_free(t->ctx);
err_after_alloc:
  free(t->sni);
  free(t);
  return TALLY_ETLS;
}

void tally_tls_free(tally_tls *t) {
  if (t == NULL)
    return;
  SSL_CTX_free(t->ctx);
  free(t->sni);
  free(t);
}

int64_t tally_tls_not_after(const tally_tls *t) {
  X509 *cert = t ? SSL_CTX_get0_certificate(t->ctx) : NULL;
  const ASN1_TIME *end = cert ? X509_get0_notAfter(cert) : NULL;
  struct tm tm;
  if (end == NULL || ASN1_TIME_to_tm(end, &tm) != 1)
    return 0;
  return (int64_t)timegm(&tm);
}

int tally_tls_session_new(tally_tls *t, tally_tls_session **out) {
  tally_tls_session *s = calloc(1, sizeof *s);
  if (s == NULL)
    return -ENOMEM;
  ERR_clear_error();
  if ((s->ssl = SSL_new(t->ctx)) == NULL)
    goto err_after_alloc;
  s->rbio = BIO_new(BIO_s_mem());
  s->wbio = BIO_new(BIO_s_mem());
  if (s->rbio == NULL || s->wbio == NULL)
    goto err_after_bios;
  /* An empty read BIO says "retry", not "end of file". */
  BIO_set_mem_eof_return(s->rbio, -1);
  SSL_set_bio(s->ssl, s->rbio, s->wbio);
  if (t->client) {
    s->client = 1;
    if (t->sni && SSL_set_tlsext_host_name(s->ssl, t->sni) != 1) {
      SSL_free(s->ssl); /* frees both BIOs */
      goto err_after_alloc;
    }
    SSL_set_connect_state(s->ssl);
  } else {
    SSL_set_accept_state(s->ssl);
  }
  *out = s;
  return 0;

err_after_bios:
  BIO_free(s->rbio);
  BIO_free(s->wbio);
  SSL_free(s->ssl);
err_after_alloc:
  ERR_clear_error();
  free(s);
  return -ENOMEM;
}

void tally_tls_session_free(tally_tls_session *s) {
  if (s == NULL)
    return;
  SSL_free(s->ssl); /* frees both BIOs */
  free(s);
}

int tally_tls_session_feed(tally_tls_session *s, const void *bytes,
                           size_t len) {
  size_t done;
  while (len > 0) {
    if (BIO_write_ex(s->rbio, bytes, len, &done) != 1) {
      ERR_clear_error();
      return -ENOMEM;
    }
    bytes = (const char *)bytes + done;
    len -= done;
  }
  return 0;
}

/* Marks the session failed after an SSL call returned ret. */
static int fail(tally_tls_session *s, int ret) {
  int e = SSL_get_error(s->ssl, ret);
  long v = s->client ? SSL_get_verify_result(s->ssl) : X509_V_OK;
  s->failed = 1;
  if (v != X509_V_OK) { /* the client rejected the server's certificate */
    ERR_clear_error();
    snprintf(s->error, sizeof s->error, "the server's certificate: %s",
             X509_verify_cert_error_string(v));
    return TALLY_ETLS;
  }
  take_reason(s->error, sizeof s->error,
              e == SSL_ERROR_SYSCALL ? "the peer broke off" : "TLS failed");
  return TALLY_ETLS;
}

ssize_t tally_tls_session_read(tally_tls_session *s, void *buf, size_t len) {
  size_t got = 0;
  if (s->failed)
    return TALLY_ETLS;
  ERR_clear_error();
  int ret = SSL_read_ex(s->ssl, buf, len, &got);
  if (ret == 1)
    return (ssize_t)got;
  switch (SSL_get_error(s->ssl, ret)) {
  case SSL_ERROR_WANT_READ:   /* needs more ciphertext */
  case SSL_ERROR_ZERO_RETURN: /* the peer sent close_notify */
    return 0;
  default:
    return fail(s, ret);
  }
}

int tally_tls_session_write(tally_tls_session *s, const void *bytes,
                            size_t len) {
  size_t done;
  if (s->failed || !SSL_is_init_finished(s->ssl))
    return TALLY_ETLS;
  ERR_clear_error();
  /* The write BIO grows as needed, so all of it goes in one call. */
  if (SSL_write_ex(s->ssl, bytes, len, &done) != 1 || done != len)
    return fail(s, 0);
  return 0;
}

void tally_tls_session_shutdown(tally_tls_session *s) {
  if (s->failed || !SSL_is_init_finished(s->ssl))
    return;
  ERR_clear_error();
  SSL_shutdown(s->ssl); /* queues close_notify; the peer's is not awaited */
  ERR_clear_error();
}

size_t tally_tls_session_pending(const tally_tls_session *s) {
  return BIO_ctrl_pending(s->wbio);
}

size_t tally_tls_session_take(tally_tls_session *s, void *buf, size_t len) {
  size_t got = 0;
  if (BIO_read_ex(s->wbio, buf, len, &got) != 1)
    return 0;
  return got;
}

int tally_tls_session_ready(const tally_tls_session *s) {
  return SSL_is_init_finished(s->ssl);
}

int tally_tls_session_failed(const tally_tls_session *s) { return s->failed; }

const char *tally_tls_session_error(const tally_tls_session *s) {
  return s->error;
}
