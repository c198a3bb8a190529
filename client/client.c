/* client.c: blocking sockets; a frame out, a frame back.
 *
 * The failure modes: the server cannot be reached (connect fails or
 * times out), the server closes the connection or goes silent past the
 * timeout, or it sends a frame that does not decode. Each returns an
 * error with a message; the connection is then unusable.
 */
#include "client.h"

#include "error.h"
#include "frame.h"
#include "wire.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct tally_client {
  int fd;
  uint64_t next_id;
  int timeout_ms;
  char address[128];
  char *token;      /* sent with the next request, then forgotten */
};

static int split_address(const char *address, char *host, size_t hn,
                         char *port, size_t pn) {
  const char *colon = strrchr(address, ':');
  size_t hl;
  if (colon == NULL || colon[1] == 0 || strlen(colon + 1) >= pn)
    return -1;
  hl = (size_t)(colon - address);
  if (hl > 1 && address[0] == '[' && address[hl - 1] == ']') {
    address++;
    hl -= 2;
  }
  if (hl == 0 || hl >= hn)
    return -1;
  memcpy(host, address, hl);
  host[hl] = 0;
  strcpy(port, colon + 1);
  for (const char *p = port; *p; p++)
    if (*p < '0' || *p > '9')
      return -1;
  return 0;
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

int tally_client_connect(const char *address, int timeout_ms,
                         tally_client **out, char *err, size_t errlen) {
  tally_client_options o = {.address = address, .timeout_ms = timeout_ms};
  return tally_client_open(&o, out, err, errlen);
}

int tally_client_open(const tally_client_options *o, tally_client **out,
                      char *err, size_t errlen) {
  const char *address = o->address;
  int timeout_ms = o->timeout_ms;
  char host[128], port[16];
  struct addrinfo hints, *res = NULL, *ai;
  int fd = -1, rc;

  if (timeout_ms <= 0)
    timeout_ms = 30000;
  if (split_address(address, host, sizeof host, port, sizeof port) != 0) {
    snprintf(err, errlen, "server address '%s' is not HOST:PORT", address);
    return TALLY_EUSAGE;
  }
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
    snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
    return -EHOSTUNREACH;
  }
  rc = -ECONNREFUSED;
  for (ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      rc = -errno;
      continue;
    }
    if ((rc = connect_timeout(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms)) == 0)
      break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    snprintf(err, errlen, "cannot reach the server at %s: %s", address,
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
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  c->fd = fd;
  c->timeout_ms = timeout_ms;
  if (o->token && *o->token && (c->token = strdup(o->token)) == NULL) {
    tally_client_close(c);
    return -ENOMEM;
  }
  snprintf(c->address, sizeof c->address, "%s", address);
  *out = c;
  return 0;
}

void tally_client_close(tally_client *c) {
  if (c == NULL)
    return;
  close(c->fd);
  if (c->token)
    explicit_bzero(c->token, strlen(c->token));
  free(c->token);
  free(c);
}

int tally_client_send_raw(tally_client *c, const void *bytes, size_t len) {
  const char *p = bytes;
  while (len > 0) {
    ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Reads exactly len bytes. Returns 0, -errno, or TALLY_EPROTO on EOF. */
static int read_full(int fd, void *buf, size_t len) {
  char *p = buf;
  while (len > 0) {
    ssize_t n = recv(fd, p, len, 0);
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

int tally_client_read(tally_client *c, Tally__Envelope **reply, char *err,
                      size_t errlen) {
  uint8_t hdr[TALLY_FRAME_HEADER];
  uint8_t *body;
  uint32_t n;
  int rc;

  if ((rc = read_full(c->fd, hdr, sizeof hdr)) != 0)
    goto err_io;
  n = tally_frame_get_len(hdr);
  if (n == 0 || n > TALLY_CLIENT_MAX_REPLY) {
    snprintf(err, errlen, "the server at %s sent a frame of %u bytes",
             c->address, n);
    return TALLY_EFRAME;
  }
  if ((body = malloc(n)) == NULL)
    return -ENOMEM;
  if ((rc = read_full(c->fd, body, n)) != 0) {
    free(body);
    goto err_io;
  }
  rc = tally_wire_unpack(body, n, reply);
  free(body);
  if (rc != 0)
    snprintf(err, errlen, "the server at %s sent a reply that does not "
             "decode", c->address);
  return rc;

err_io:
  if (rc == TALLY_EPROTO)
    snprintf(err, errlen, "the server at %s closed the connection without "
             "a reply", c->address);
  else if (rc == -ETIMEDOUT)
    snprintf(err, errlen, "no reply from the server at %s within %d s",
             c->address, c->timeout_ms / 1000);
  else
    snprintf(err, errlen, "reading from the server at %s: %s", c->address,
             strerror(-rc));
  return rc;
}

int tally_client_call(tally_client *c, Tally__Envelope *req,
                      Tally__Envelope **reply, char *err, size_t errlen) {
  uint8_t *frame;
  size_t len;
  int rc;

  Tally__Auth auth = TALLY__AUTH__INIT;
  Tally__Auth *caller_auth = req->auth;

  req->id = ++c->next_id;
  if (c->token && req->auth == NULL) {
    auth.token = c->token;
    req->auth = &auth;
  }
  rc = tally_wire_pack(req, 0, &frame, &len);
  req->auth = caller_auth;
  if (rc != 0) {
    snprintf(err, errlen, rc == TALLY_EFRAME2BIG
                              ? "the request is over the 1 MiB frame limit"
                              : "out of memory");
    return rc;
  }
  rc = tally_client_send_raw(c, frame, len);
  explicit_bzero(frame, len);
  free(frame);
  if (rc == 0 && c->token) {
    explicit_bzero(c->token, strlen(c->token));
    free(c->token);
    c->token = NULL;
  }
  if (rc != 0) {
    snprintf(err, errlen, "sending to the server at %s: %s", c->address,
             strerror(-rc));
    return rc;
  }
  for (;;) {
    Tally__Envelope *env;
    if ((rc = tally_client_read(c, &env, err, errlen)) != 0)
      return rc;
    /* A reply with id 0 is the server's word on the connection itself
     * (a frame it could not read): it answers this request too. */
    if (env->id == req->id || env->id == 0) {
      *reply = env;
      return 0;
    }
    tally_wire_free(env);
  }
}
