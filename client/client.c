/* client.c: blocking sockets; a frame out, a frame back.
 *
 * With a CA file, the connection speaks TLS (1.2 or later): the server's
 * certificate must chain to that CA alone (not the system's store) and
 * name the host asked for; every byte then goes through OpenSSL.
 * The failure modes: the server cannot be reached (connect fails or
 * times out), the TLS handshake fails (the CA file cannot be read, the
 * certificate is not the CA's or names another host, the server does not
 * speak TLS), the server closes the connection or does not finish its
 * reply within the timeout (a server that sends a byte now and then
 * does not stretch it: the timeout is for the whole call), or it sends
 * a frame that does not decode. Each returns an error with a message;
 * the connection is then unusable.
 */
#include "client.h"
#include "i18n.h"

#include "address.h"
#include "error.h"
#include "file.h"
#include "frame.h"
#include "utf8.h"
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct tally_client {
  int fd;
  uint64_t next_id;
  int timeout_ms;
  int64_t deadline_ms; /* the monotonic time the current call must end by */
  char address[128];
  char *token;      /* sent with the next request, then forgotten */
  SSL *ssl;         /* NULL = plaintext */
  BIO_METHOD *bio_method; /* ssl's socket I/O; freed after ssl */
  int io_errno;     /* the last socket error under ssl */
  int tls_broken;   /* a fatal TLS error: no close_notify at the end */
  char tls_error[128]; /* OpenSSL's reason for the last TLS failure */
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bounds the socket's next wait by what is left of the call's time.
 * Returns 0, or -ETIMEDOUT when none is left. */
static int arm(tally_client *c) {
  int64_t left = c->deadline_ms - now_ms();
  if (left <= 0)
    return -ETIMEDOUT;
  struct timeval tv = {(time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000};
  setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return 0;
}

/* Starts a call of c: from now, it has c->timeout_ms in all. */
static void start_call(tally_client *c) {
  c->deadline_ms = now_ms() + c->timeout_ms;
}

/* Connects fd to sa within timeout_ms. Returns 0 or -errno. */
static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t len,
                           int timeout_ms) {
  struct pollfd p = {fd, POLLOUT, 0};
  int soerr = 0;
  socklen_t sl = sizeof soerr;
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  /* With SO_SNDTIMEO set, a blocking connect gives up after the timeout. */
  if (connect(fd, sa, len) == 0)
    return 0;
  if (errno != EINPROGRESS)
    return -errno;
  if (poll(&p, 1, timeout_ms) <= 0)
    return -ETIMEDOUT;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
  return soerr ? -soerr : 0;
}

/* The socket under the client's SSL, through send() and recv(): OpenSSL's
 * own socket BIO writes with write(), and a write to a closed connection
 * would kill the program with SIGPIPE. The socket's timeouts give EAGAIN,
 * which is marked "retry": SSL_get_error() then says SSL_ERROR_WANT_*. */
static int sock_write(BIO *b, const char *p, size_t n, size_t *done) {
  tally_client *c = BIO_get_data(b);
  ssize_t r;
  BIO_clear_retry_flags(b);
  if (arm(c) != 0) {
    c->io_errno = EAGAIN;
    BIO_set_retry_write(b);
    return 0;
  }
  do
    r = send(c->fd, p, n, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    c->io_errno = errno;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      BIO_set_retry_write(b);
    return 0;
  }
  *done = (size_t)r;
  return 1;
}

static int sock_read(BIO *b, char *p, size_t n, size_t *done) {
  tally_client *c = BIO_get_data(b);
  ssize_t r;
  BIO_clear_retry_flags(b);
  if (arm(c) != 0) { /* the call's time is up, however the bytes came */
    c->io_errno = EAGAIN;
    BIO_set_retry_read(b);
    return 0;
  }
  do
    r = recv(c->fd, p, n, 0);
  while (r < 0 && errno == EINTR);
  if (r <= 0) {
    c->io_errno = r < 0 ? errno : 0;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      BIO_set_retry_read(b);
    return 0;
  }
  *done = (size_t)r;
  return 1;
}

static long sock_ctrl(BIO *b, int cmd, long num, void *ptr) {
  return cmd == BIO_CTRL_FLUSH; /* nothing is buffered here */
}

/* Keeps OpenSSL's reason for a failure in c->tls_error and empties its
 * error queue. */
static void keep_tls_reason(tally_client *c, const char *fallback) {
  unsigned long e = ERR_get_error();
  const char *r = e ? ERR_reason_error_string(e) : NULL;
  snprintf(c->tls_error, sizeof c->tls_error, "%s", r ? r : fallback);
  ERR_clear_error();
}

/* The names (DNS and IP) the server's certificate carries, into buf. The
 * chain is kept even when its verification failed. */
static const char *cert_names(SSL *ssl, char *buf, size_t n) {
  STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
  X509 *cert = chain && sk_X509_num(chain) > 0 ? sk_X509_value(chain, 0)
                                               : NULL;
  GENERAL_NAMES *names =
      cert ? X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL) : NULL;
  size_t len = 0;

  snprintf(buf, n, "no name");
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
    char one[INET6_ADDRSTRLEN + 1];
    if (g->type == GEN_DNS) {
      snprintf(one, sizeof one, "%.*s", ASN1_STRING_length(g->d.dNSName),
               (const char *)ASN1_STRING_get0_data(g->d.dNSName));
    } else if (g->type == GEN_IPADD) {
      int l = ASN1_STRING_length(g->d.iPAddress);
      if ((l != 4 && l != 16) ||
          inet_ntop(l == 4 ? AF_INET : AF_INET6,
                    ASN1_STRING_get0_data(g->d.iPAddress), one,
                    sizeof one) == NULL)
        continue;
    } else {
      continue;
    }
    int w = snprintf(buf + len, n - len, "%s%s", len ? ", " : "", one);
    if (w < 0 || (size_t)w >= n - len)
      break;
    len += (size_t)w;
  }
  GENERAL_NAMES_free(names);
  return buf;
}

/* Says why the handshake on c failed (ret: SSL_connect's) and returns
 * the error code. */
static int tls_handshake_error(tally_client *c, int ret, const char *name,
                               const char *ca_file, char *err,
                               size_t errlen) {
  long v = SSL_get_verify_result(c->ssl);
  int e = SSL_get_error(c->ssl, ret);
  char names[256];

  c->tls_broken = 1;
  keep_tls_reason(c, "the server closed the connection");
  switch (v) {
  case X509_V_OK:
    break;
  case X509_V_ERR_HOSTNAME_MISMATCH:
  case X509_V_ERR_IP_ADDRESS_MISMATCH:
    snprintf(err, errlen, _("the certificate of the server at %s is for %s, "
             "not %s"), c->address, cert_names(c->ssl, names, sizeof names),
             name);
    return TALLY_ETLS;
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
  case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
  case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
  case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
  case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    snprintf(err, errlen, _("the certificate of the server at %s is not "
             "signed by the CA in %s (%s)"), c->address, ca_file,
             X509_verify_cert_error_string(v));
    return TALLY_ETLS;
  default:
    snprintf(err, errlen, _("the certificate of the server at %s does not "
             "verify against the CA in %s: %s"), c->address, ca_file,
             X509_verify_cert_error_string(v));
    return TALLY_ETLS;
  }
  if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
      (c->io_errno == EAGAIN || c->io_errno == EWOULDBLOCK)) {
    snprintf(err, errlen, _("no TLS handshake from the server at %s within "
             "%d s; is it started with --tls-cert?"), c->address,
             c->timeout_ms / 1000);
    return -ETIMEDOUT;
  }
  /* The connection broke under the handshake: the network's or the
   * server's doing, not the certificate's (the client could not reach
   * the server, exit 3). */
  if (e == SSL_ERROR_SYSCALL &&
      (c->io_errno == ECONNRESET || c->io_errno == EPIPE)) {
    snprintf(err, errlen, _("the connection to %s was reset during the TLS "
             "handshake (%s): the server went away, or something on the way "
             "cut it"), c->address, strerror(c->io_errno));
    return -c->io_errno;
  }
  if (e == SSL_ERROR_SYSCALL && c->io_errno != 0)
    snprintf(c->tls_error, sizeof c->tls_error, "%s", strerror(c->io_errno));
  snprintf(err, errlen, _("TLS handshake with %s failed: %s; is the server "
           "started with --tls-cert?"), c->address, c->tls_error);
  return TALLY_ETLS;
}

/* Speaks TLS on c's connected socket: trusts only the CA in o->ca_file,
 * and wants a certificate for o->server_name, or host. Returns 0, or
 * TALLY_ETLS / -errno with a message in err. */
static int tls_start(tally_client *c, const tally_client_options *o,
                     const char *host, char *err, size_t errlen) {
  const char *name =
      o->server_name && *o->server_name ? o->server_name : host;
  SSL_CTX *ctx;
  BIO *bio;
  int ret;

  if ((ret = tally_file_readable(o->ca_file)) != 0) {
    snprintf(err, errlen, _("cannot read the CA file %s: %s"), o->ca_file,
             strerror(-ret));
    return TALLY_ETLS;
  }
  ERR_clear_error();
  if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
    goto err_nomem;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  /* Frames carry their length: a cut-off reply is found without TLS. */
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
                           SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1) {
    keep_tls_reason(c, "no certificate");
    snprintf(err, errlen, _("the CA file %s holds no certificate that can be "
             "read (%s); expected PEM"), o->ca_file, c->tls_error);
    SSL_CTX_free(ctx);
    return TALLY_ETLS;
  }
  c->ssl = SSL_new(ctx);
  SSL_CTX_free(ctx); /* the SSL keeps its own reference */
  if (c->ssl == NULL)
    goto err_nomem;
  c->bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
                               "tally socket");
  if (c->bio_method == NULL ||
      !BIO_meth_set_write_ex(c->bio_method, sock_write) ||
      !BIO_meth_set_read_ex(c->bio_method, sock_read) ||
      !BIO_meth_set_ctrl(c->bio_method, sock_ctrl) ||
      (bio = BIO_new(c->bio_method)) == NULL)
    goto err_nomem;
  BIO_set_data(bio, c);
  BIO_set_init(bio, 1);
  SSL_set_bio(c->ssl, bio, bio);
  if (tally_address_is_ip(name)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name) != 1)
      goto err_nomem;
  } else if (SSL_set_tlsext_host_name(c->ssl, name) != 1 ||
             SSL_set1_host(c->ssl, name) != 1) {
    goto err_nomem;
  }
  SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if ((ret = SSL_connect(c->ssl)) != 1)
    return tls_handshake_error(c, ret, name, o->ca_file, err, errlen);
  return 0;

err_nomem:
  ERR_clear_error();
  c->tls_broken = 1;
  snprintf(err, errlen, _("out of memory setting up TLS"));
  return -ENOMEM;
}

/* Translates a failed SSL_read/SSL_write (ret) on c. Returns -ETIMEDOUT,
 * TALLY_EPROTO (the server closed the connection), -errno or
 * TALLY_ETLS. */
static int tls_io_error(tally_client *c, int ret) {
  switch (SSL_get_error(c->ssl, ret)) {
  case SSL_ERROR_ZERO_RETURN:
    ERR_clear_error();
    return TALLY_EPROTO;
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    ERR_clear_error();
    return -ETIMEDOUT;
  case SSL_ERROR_SYSCALL:
    c->tls_broken = 1;
    ERR_clear_error();
    return c->io_errno ? -c->io_errno : TALLY_EPROTO;
  default:
    c->tls_broken = 1;
    keep_tls_reason(c, "TLS failed");
    return TALLY_ETLS;
  }
}

/* True when the socket's peer is this machine. */
static int peer_is_loopback(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  return getpeername(fd, (struct sockaddr *)&ss, &len) == 0 &&
         tally_address_is_loopback((struct sockaddr *)&ss);
}

int tally_client_open(const tally_client_options *o, tally_client **out,
                      char *err, size_t errlen) {
  const char *address = o->address;
  int timeout_ms = o->timeout_ms;
  char host[128], port[8];
  int port_number;
  struct addrinfo hints, *res = NULL, *ai;
  int fd = -1, rc;

  if (timeout_ms <= 0)
    timeout_ms = 30000;
  int64_t deadline = now_ms() + timeout_ms; /* to connect and shake hands */
  if (tally_address_split(address, host, sizeof host, &port_number) != 0) {
    snprintf(err, errlen, _("server address '%s' is not HOST:PORT"), address);
    return TALLY_EUSAGE;
  }
  snprintf(port, sizeof port, "%d", port_number);
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
    snprintf(err, errlen, _("cannot resolve %s: %s"), host, gai_strerror(rc));
    return -EHOSTUNREACH;
  }
  rc = -ECONNREFUSED;
  for (ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      rc = -errno;
      continue;
    }
    int64_t left = deadline - now_ms();
    if ((rc = left <= 0 ? -ETIMEDOUT
                        : connect_timeout(fd, ai->ai_addr, ai->ai_addrlen,
                                          (int)left)) == 0)
      break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    snprintf(err, errlen, _("cannot reach the server at %s: %s"), address,
             strerror(-rc));
    return rc;
  }
  tally_client *c = calloc(1, sizeof *c);
  if (c == NULL) {
    close(fd);
    return -ENOMEM;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->fd = fd;
  c->timeout_ms = timeout_ms;
  c->deadline_ms = deadline;
  if (o->token && *o->token && (c->token = strdup(o->token)) == NULL) {
    tally_client_close(c);
    return -ENOMEM;
  }
  snprintf(c->address, sizeof c->address, "%s", address);
  if (o->ca_file && *o->ca_file &&
      (rc = tls_start(c, o, host, err, errlen)) != 0) {
    tally_client_close(c);
    return rc;
  }
  if (c->token && c->ssl == NULL && !o->insecure_plaintext &&
      !peer_is_loopback(fd)) {
    snprintf(err, errlen, _("refusing to send a token in plaintext to %s, off "
             "this machine: %s"), address,
             o->plaintext_hint ? o->plaintext_hint
                               : _("give the district's CA with --ca FILE (or "
                                   "$TALLY_CA), or --insecure-plaintext if "
                                   "the network is otherwise protected"));
    tally_client_close(c);
    return TALLY_EUSAGE;
  }
  *out = c;
  return 0;
}

void tally_client_close(tally_client *c) {
  if (c == NULL)
    return;
  if (c->ssl) {
    ERR_clear_error();
    if (!c->tls_broken && SSL_is_init_finished(c->ssl))
      SSL_shutdown(c->ssl); /* close_notify; the server's is not awaited */
    ERR_clear_error();
    SSL_free(c->ssl);
  }
  BIO_meth_free(c->bio_method);
  close(c->fd);
  if (c->token)
    explicit_bzero(c->token, strlen(c->token));
  free(c->token);
  free(c);
}

/* Sends len bytes, within the call's time. Returns 0 or -errno. */
static int send_all(tally_client *c, const void *bytes, size_t len) {
  const char *p = bytes;
  while (c->ssl && len > 0) {
    size_t done;
    int ret;
    ERR_clear_error();
    c->io_errno = 0;
    if ((ret = SSL_write_ex(c->ssl, p, len, &done)) != 1)
      return tls_io_error(c, ret);
    p += done;
    len -= done;
  }
  while (len > 0) {
    if (arm(c) != 0)
      return -ETIMEDOUT;
    ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int tally_client_send_raw(tally_client *c, const void *bytes, size_t len) {
  start_call(c);
  return send_all(c, bytes, len);
}

/* Reads exactly len bytes, within the call's time. Returns 0, -errno
 * (-ETIMEDOUT when the time is up), TALLY_ETLS, or TALLY_EPROTO on EOF. */
static int read_full(tally_client *c, void *buf, size_t len) {
  char *p = buf;
  while (c->ssl && len > 0) {
    size_t got;
    int ret;
    ERR_clear_error();
    c->io_errno = 0;
    if ((ret = SSL_read_ex(c->ssl, p, len, &got)) != 1)
      return tls_io_error(c, ret);
    p += got;
    len -= got;
  }
  while (len > 0) {
    if (arm(c) != 0)
      return -ETIMEDOUT;
    ssize_t n = recv(c->fd, p, len, 0);
    if (n == 0)
      return TALLY_EPROTO;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Replaces *s, a string of an unpacked message, by one safe to print,
 * when it holds control characters. protobuf-c frees it as its own. */
static void clean_string(char **s) {
  char *clean = *s ? tally_utf8_for_terminal(*s) : NULL;
  if (clean) {
    free(*s);
    *s = clean;
  }
}

/* Makes every string of m (and of the messages in it) safe to print,
 * so that no server can send a terminal escape codes through the CLI. */
static void clean_message(ProtobufCMessage *m, int depth) {
  const ProtobufCMessageDescriptor *d = m->descriptor;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    char *at = (char *)m + f->offset;
    size_t n = 1;
    if (f->type != PROTOBUF_C_TYPE_STRING &&
        (f->type != PROTOBUF_C_TYPE_MESSAGE || depth >= 64))
      continue;
    if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
        *(uint32_t *)((char *)m + f->quantifier_offset) != f->id)
      continue; /* another member of the oneof holds the storage */
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      n = *(size_t *)((char *)m + f->quantifier_offset);
      at = *(char **)at;
    }
    for (size_t k = 0; at && k < n; k++) {
      void **slot = (void **)at + k;
      if (f->type == PROTOBUF_C_TYPE_STRING)
        clean_string((char **)slot);
      else if (*slot)
        clean_message(*slot, depth + 1);
    }
  }
}

/* Reads one reply frame within the call's time. Returns as
 * tally_client_read. */
static int read_reply(tally_client *c, Tally__Envelope **reply, char *err,
                      size_t errlen) {
  uint8_t hdr[TALLY_FRAME_HEADER];
  char why[128];
  uint8_t *body;
  uint32_t n;
  int rc;

  if ((rc = read_full(c, hdr, sizeof hdr)) != 0)
    goto err_io;
  n = tally_frame_get_len(hdr);
  if (n == 0 || n > TALLY_CLIENT_MAX_REPLY) {
    snprintf(err, errlen, _("the server at %s is not a tallyd: it sent a "
             "frame of %u bytes%s"), c->address, n,
             memcmp(hdr, "HTTP", 4) == 0 ? " (it speaks HTTP)" : "");
    return TALLY_EFRAME;
  }
  if ((body = malloc(n)) == NULL)
    return -ENOMEM;
  if ((rc = read_full(c, body, n)) != 0) {
    free(body);
    goto err_io;
  }
  rc = tally_wire_decode(body, n, reply, why, sizeof why);
  free(body);
  if (rc == 0)
    clean_message(&(*reply)->base, 0);
  if (rc != 0)
    snprintf(err, errlen, _("the server at %s sent a reply that does not "
             "decode (%s): is it a tallyd, and of this version?"), c->address,
             why);
  return rc;

err_io:
  if (rc == TALLY_EPROTO)
    snprintf(err, errlen, _("the server at %s closed the connection without "
             "a reply"), c->address);
  else if (rc == -ETIMEDOUT)
    snprintf(err, errlen, _("no reply from the server at %s within %d s"),
             c->address, c->timeout_ms / 1000);
  else if (rc == TALLY_ETLS)
    snprintf(err, errlen, _("reading from the server at %s: TLS failed: %s"),
             c->address, c->tls_error);
  else
    snprintf(err, errlen, _("reading from the server at %s: %s"), c->address,
             strerror(-rc));
  return rc;
}

int tally_client_read(tally_client *c, Tally__Envelope **reply, char *err,
                      size_t errlen) {
  start_call(c);
  return read_reply(c, reply, err, errlen);
}

/* Sends req within the time started before; a first request too
 * large to sign in with is preceded by a whoami, whose reply (when it
 * is a refusal, which answers req too) is left in *refusal. Returns 0
 * or an error with a message in err. */
static int send_req(tally_client *c, Tally__Envelope *req,
                    Tally__Envelope **refusal, char *err, size_t errlen);

static int wait_reply(tally_client *c, uint64_t id, Tally__Envelope **reply,
                      char *err, size_t errlen) {
  for (;;) {
    Tally__Envelope *env;
    int rc;
    if ((rc = read_reply(c, &env, err, errlen)) != 0)
      return rc;
    /* A reply with id 0 is the server's word on the connection itself
     * (a frame it could not read): it answers this request too. */
    if (env->id == id || env->id == 0) {
      *reply = env;
      return 0;
    }
    tally_wire_free(env);
  }
}

/* tally_client_call within the time started before. */
static int call(tally_client *c, Tally__Envelope *req,
                Tally__Envelope **reply, char *err, size_t errlen) {
  Tally__Envelope *refusal = NULL;
  int rc = send_req(c, req, &refusal, err, errlen);
  if (rc != 0 || refusal) {
    *reply = refusal;
    return rc;
  }
  return wait_reply(c, req->id, reply, err, errlen);
}

static int send_req(tally_client *c, Tally__Envelope *req,
                    Tally__Envelope **refusal, char *err, size_t errlen) {
  uint8_t *frame;
  size_t len;
  int rc;

  Tally__Auth auth = TALLY__AUTH__INIT;
  Tally__Auth *caller_auth = req->auth;

  *refusal = NULL;
  req->id = ++c->next_id;
  if (c->token && req->auth == NULL) {
    auth.token = c->token;
    req->auth = &auth;
  }
  rc = tally_wire_pack(req, 0, &frame, &len);
  req->auth = caller_auth;
  if (rc == 0 && c->token && caller_auth == NULL &&
      len > TALLY_FRAME_HEADER + TALLY_FRAME_PREAUTH_MAX) {
    /* Too large to be the first frame: sign in with a small one. */
    explicit_bzero(frame, len);
    free(frame);
    Tally__WhoamiRequest w = TALLY__WHOAMI_REQUEST__INIT;
    Tally__Envelope hello = TALLY__ENVELOPE__INIT, *reply = NULL;
    hello.body_case = TALLY__ENVELOPE__BODY_WHOAMI;
    hello.whoami = &w;
    if ((rc = call(c, &hello, &reply, err, errlen)) != 0)
      return rc;
    if (reply->body_case == TALLY__ENVELOPE__BODY_ERROR) {
      *refusal = reply; /* the refusal answers req too */
      return 0;
    }
    tally_wire_free(reply);
    return send_req(c, req, refusal, err, errlen);
  }
  if (rc != 0) {
    snprintf(err, errlen, rc == TALLY_EFRAME2BIG
                              ? "the request is over the 1 MiB frame limit"
                              : "out of memory");
    return rc;
  }
  rc = send_all(c, frame, len);
  explicit_bzero(frame, len);
  free(frame);
  if (rc == 0 && c->token) {
    explicit_bzero(c->token, strlen(c->token));
    free(c->token);
    c->token = NULL;
  }
  if (rc != 0) {
    snprintf(err, errlen, _("sending to the server at %s: %s"), c->address,
             rc == TALLY_ETLS ? c->tls_error : tally_strerror(rc));
    return rc;
  }
  return 0;
}

int tally_client_send(tally_client *c, Tally__Envelope *req, char *err,
                      size_t errlen) {
  Tally__Envelope *refusal = NULL;
  start_call(c);
  int rc = send_req(c, req, &refusal, err, errlen);
  if (rc == 0 && refusal) {
    snprintf(err, errlen, "%s", refusal->error->message);
    tally_wire_free(refusal);
    rc = TALLY_EPROTO;
  }
  return rc;
}

int tally_client_call(tally_client *c, Tally__Envelope *req,
                      Tally__Envelope **reply, char *err, size_t errlen) {
  start_call(c);
  return call(c, req, reply, err, errlen);
}
