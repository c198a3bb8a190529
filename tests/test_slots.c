/* test_slots.c: connection slots under attack, over real sockets.
 *
 * The attack each test stands for: connections that never sign in, from
 * one address or many, each sending a frame without a token (6 bytes: an
 * envelope with only an id) more often than the idle timeout. The
 * attackers' sockets are bound to other loopback addresses (127.0.0.2
 * and up), so that the real client on 127.0.0.1 is another sender. */
#include "client.h"
#include "fixture.h"
#include "wire.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static tally_test_server srv;

static void teardown(void) {
  if (srv.pid > 0)
    tally_test_server_stop(&srv);
}

TestSuite(slots, .fini = teardown, .timeout = 120);

/* An envelope with only an id: the smallest request there is. */
static const uint8_t ANONYMOUS_FRAME[] = {0, 0, 0, 2, 0x08, 0x01};

/* What an attacking socket has seen of the server. */
typedef struct {
  int fd;
  uint8_t buf[4096];
  size_t len;
  int frames;
  Tally__ErrorCode last;    /* the code of the last error frame */
  char message[256];        /* and its message */
  int closed;               /* the server closed it */
} sock;

/* A TCP connection to the server from source (a loopback address);
 * with a small receive buffer when rcvbuf > 0, so that replies it does
 * not read wait in the server, not in the kernel. */
static void sock_open_with(sock *k, const char *source, int rcvbuf) {
  struct sockaddr_in from = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
  memset(k, 0, sizeof *k);
  k->fd = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert_geq(k->fd, 0, "%s", strerror(errno));
  if (rcvbuf > 0)
    cr_assert_eq(setsockopt(k->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
                            sizeof rcvbuf), 0);
  cr_assert_eq(inet_pton(AF_INET, source, &from.sin_addr), 1);
  cr_assert_eq(bind(k->fd, (struct sockaddr *)&from, sizeof from), 0, "%s",
               strerror(errno));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons((uint16_t)atoi(strrchr(srv.address, ':') + 1));
  cr_assert_eq(connect(k->fd, (struct sockaddr *)&to, sizeof to), 0, "%s",
               strerror(errno));
}

static void sock_open(sock *k, const char *source) {
  sock_open_with(k, source, 0);
}

/* Sends len bytes, all of them. */
static void sock_send_all(sock *k, const void *bytes, size_t len) {
  cr_assert_eq(send(k->fd, bytes, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* An envelope: a whoami, with token when not NULL; packed into *frame. */
static size_t whoami_frame(const char *token, uint64_t id, uint8_t **frame) {
  Tally__WhoamiRequest w = TALLY__WHOAMI_REQUEST__INIT;
  Tally__Auth auth = TALLY__AUTH__INIT;
  Tally__Envelope env = TALLY__ENVELOPE__INIT;
  size_t len;
  env.id = id;
  env.body_case = TALLY__ENVELOPE__BODY_WHOAMI;
  env.whoami = &w;
  if (token) {
    auth.token = (char *)token;
    env.auth = &auth;
  }
  cr_assert_eq(tally_wire_pack(&env, 0, frame, &len), 0);
  return len;
}

/* Microseconds since start. */
static long since_us(const struct timespec *start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start->tv_sec) * 1000000L +
         (now.tv_nsec - start->tv_nsec) / 1000;
}

static void sock_send(sock *k) {
  if (!k->closed)
    (void)send(k->fd, ANONYMOUS_FRAME, sizeof ANONYMOUS_FRAME,
               MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Takes what has come, decoding each whole frame. */
static void sock_take(sock *k) {
  ssize_t n = -1; /* closed already: nothing taken */
  while (!k->closed &&
         (n = recv(k->fd, k->buf + k->len, sizeof k->buf - k->len,
                   MSG_DONTWAIT)) != 0) {
    if (n < 0) {
      if (errno == ECONNRESET)
        k->closed = 1;
      return;
    }
    k->len += (size_t)n;
    while (k->len >= 4) {
      size_t body = (size_t)k->buf[0] << 24 | (size_t)k->buf[1] << 16 |
                    (size_t)k->buf[2] << 8 | k->buf[3];
      cr_assert_lt(body, sizeof k->buf - 4, "a reply of %zu bytes", body);
      if (k->len < 4 + body)
        break;
      Tally__Envelope *env;
      cr_assert_eq(tally_wire_unpack(k->buf + 4, body, &env), 0);
      k->frames++;
      if (env->body_case == TALLY__ENVELOPE__BODY_ERROR) {
        k->last = env->error->code;
        snprintf(k->message, sizeof k->message, "%s", env->error->message);
      }
      tally_wire_free(env);
      memmove(k->buf, k->buf + 4 + body, k->len - 4 - body);
      k->len -= 4 + body;
    }
  }
  if (n == 0)
    k->closed = 1;
}

/* Polls all n sockets for up to ms, taking what comes, until each has
 * at least `frames` frames (or is closed, with closed set). */
static void sock_wait(sock *k, int n, int frames, int closed, int ms) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    int done = 1;
    for (int i = 0; i < n; i++) {
      sock_take(&k[i]);
      if (closed ? !k[i].closed : (k[i].frames < frames && !k[i].closed))
        done = 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (done || (now.tv_sec - start.tv_sec) * 1000 +
                        (now.tv_nsec - start.tv_nsec) / 1000000 > ms)
      return;
    usleep(10000);
  }
}

static void sock_close_all(sock *k, int n) {
  for (int i = 0; i < n; i++)
    close(k[i].fd);
}

/* The real client, from 127.0.0.1. */
static int whoami(char **err) {
  return RUN(NULL, err, "--server", srv.address, "whoami");
}

/* Before, each "sign in first" reply gave the connection the whole idle
 * timeout again, so frames without a token held a slot for ever. */
Test(slots, frames_without_a_token_do_not_hold_a_slot) {
  tally_test_server_start(&srv, (const char *const[]){"--sign-in-timeout", "1",
                                                      NULL});
  enum { N = 20 };
  sock k[N];
  for (int i = 0; i < N; i++)
    sock_open(&k[i], "127.0.0.2");
  /* A frame every 100 ms on each, for at most 8 s: all are closed. */
  for (int round = 0; round < 80; round++) {
    int open = 0;
    for (int i = 0; i < N; i++) {
      sock_send(&k[i]);
      sock_take(&k[i]);
      open += !k[i].closed;
    }
    if (open == 0)
      break;
    usleep(100000);
  }
  for (int i = 0; i < N; i++) {
    cr_expect(k[i].closed, "connection %d is still open", i);
    cr_expect_eq(k[i].last, TALLY__ERROR_CODE__ERROR_TIMEOUT, "connection %d: "
                 "%s", i, k[i].message);
    cr_expect_gt(k[i].frames, 1, "it was answered before it was closed");
  }
  sock_close_all(k, N);
  char *log = tally_test_read_file_with(srv.log, "did not sign in in time");
  cr_expect(log && strstr(log, "did not sign in in time"));
  free(log);
}

Test(slots, one_address_may_hold_only_a_few_connections_not_signed_in) {
  tally_test_server_start(&srv, NULL);
  enum { N = 100, ALLOWED = 32 }; /* TALLY_SERVER_MAX_PER_ADDRESS */
  sock k[N];
  for (int i = 0; i < N; i++) {
    sock_open(&k[i], "127.0.0.3");
    sock_send(&k[i]);
  }
  sock_wait(k, N, 1, 0, 10000);
  int busy = 0, served = 0;
  for (int i = 0; i < N; i++) {
    cr_assert_geq(k[i].frames, 1, "connection %d was not answered", i);
    if (k[i].last == TALLY__ERROR_CODE__ERROR_BUSY) {
      busy++;
      cr_expect(strstr(k[i].message, "from this address"), "%s", k[i].message);
    } else {
      served++;
      cr_expect_eq(k[i].last, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED, "%s",
                   k[i].message);
    }
  }
  cr_expect_eq(served, ALLOWED);
  cr_expect_eq(busy, N - ALLOWED);
  /* Another address is served meanwhile; so is 127.0.0.3 once it signs
   * in, since only connections not signed in are counted. */
  char *err = NULL;
  cr_expect_eq(whoami(&err), 0, "%s", err);
  free(err);
  sock_close_all(k, N);
}

/* Every slot taken, by connections that do not sign in, from many
 * addresses: a new one gets the slot of the oldest of them, and the
 * signed-in ones keep theirs. Before, the newcomer was told "busy". */
Test(slots, a_full_server_makes_room_by_closing_the_oldest_not_signed_in) {
  tally_test_server_start(&srv, (const char *const[]){"--max-connections", "6",
                                                      NULL});
  struct tally_client *keeper = tally_test_connect_signed_in(&srv, srv.admin);
  enum { N = 6 };
  sock k[N];
  char source[32];
  /* The first five fill the slots; each is answered, so accepted. */
  for (int i = 0; i < N; i++) {
    if (i == N - 1) {
      /* 127.0.0.1 comes in: the oldest, k[0], makes room. Its slot is
       * free again once the client is done; k[5] takes it. */
      char *err = NULL;
      cr_assert_eq(whoami(&err), 0, "%s", err);
      free(err);
    }
    snprintf(source, sizeof source, "127.0.0.%d", 10 + i);
    sock_open(&k[i], source);
    sock_send(&k[i]);
    sock_wait(&k[i], 1, 1, 0, 5000);
    cr_assert_eq(k[i].last, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED, "%s",
                 k[i].message);
  }
  char *err = NULL;
  cr_assert_eq(whoami(&err), 0, "%s", err); /* now k[1] makes room */
  free(err);
  sock_wait(k, 2, 0, 1, 5000);
  for (int i = 0; i < 2; i++) {
    cr_expect(k[i].closed, "the oldest, %d, should have been closed", i);
    cr_expect_eq(k[i].last, TALLY__ERROR_CODE__ERROR_BUSY, "%d: %s", i,
                 k[i].message);
  }
  for (int i = 2; i < N; i++) {
    sock_take(&k[i]);
    cr_expect_not(k[i].closed, "%d should still be open", i);
  }
  /* The signed-in connection was not touched. */
  Tally__WhoamiRequest w = TALLY__WHOAMI_REQUEST__INIT;
  Tally__Envelope q = TALLY__ENVELOPE__INIT, *r;
  char msg[256];
  q.body_case = TALLY__ENVELOPE__BODY_WHOAMI;
  q.whoami = &w;
  cr_assert_eq(tally_client_call(keeper, &q, &r, msg, sizeof msg), 0, "%s", msg);
  cr_expect_eq(r->body_case, TALLY__ENVELOPE__BODY_WHOAMI_REPLY);
  tally_wire_free(r);
  tally_client_close(keeper);
  sock_close_all(k, N);
}

/* A sign-in refused waits a second for its answer, and was not counted:
 * an address sending bad tokens could hold every slot. */
Test(slots, a_refused_sign_in_counts_against_its_address) {
  tally_test_server_start(&srv, (const char *const[]){
      "--max-connections", "10", "--max-per-address", "3", NULL});
  enum { N = 30 };
  sock k[N];
  uint8_t *bad;
  size_t bad_len = whoami_frame("tly1.not-a-token", 1, &bad);
  for (int i = 0; i < N; i++) {
    sock_open(&k[i], "127.0.0.5");
    sock_send_all(&k[i], bad, bad_len);
  }
  free(bad);
  char *err = NULL;
  cr_expect_eq(whoami(&err), 0, "another address: %s", err);
  free(err);
  sock_wait(k, N, 1, 0, 10000);
  int refused = 0;
  for (int i = 0; i < N; i++)
    refused += k[i].last == TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED;
  cr_expect_leq(refused, 3, "%d sign-ins were answered as refused", refused);
  /* The rest are told "busy", or, once ten refused are closing, closed
   * without a word. */
  for (int i = 0; i < N; i++)
    cr_expect(k[i].last == TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED ||
                  k[i].last == TALLY__ERROR_CODE__ERROR_BUSY ||
                  (k[i].frames == 0 && k[i].closed),
              "connection %d: %d frames, closed %d, code %d: %s", i,
              k[i].frames, k[i].closed, k[i].last, k[i].message);
  sock_close_all(k, N);
}

/* Connections refused and closing (an attacker never closes its side)
 * do not count as holding slots. */
Test(slots, refused_connections_closing_do_not_shut_others_out) {
  tally_test_server_start(&srv, (const char *const[]){
      "--max-connections", "10", "--max-per-address", "3", NULL});
  enum { N = 30 };
  sock k[N];
  for (int i = 0; i < N; i++)
    sock_open(&k[i], "127.0.0.6");
  sock_wait(k, N, 1, 0, 300); /* the 27 refused are told "busy" */
  char *err = NULL;
  cr_expect_eq(whoami(&err), 0, "another address: %s", err);
  free(err);
  sock_close_all(k, N);
}

/* Two signed-in connections whose partial frames take the whole budget
 * of 1 MiB, and more. */
static void fill_the_budget(sock hog[2]) {
  static const size_t body[2] = {1 << 20, 60000}, sent[2] = {1040000, 59000};
  for (int i = 0; i < 2; i++) {
    uint8_t *hello, *part = calloc(1, 4 + sent[i]);
    size_t len = whoami_frame(srv.admin, 1, &hello);
    sock_open(&hog[i], i ? "127.0.0.51" : "127.0.0.50");
    sock_send_all(&hog[i], hello, len);
    sock_wait(&hog[i], 1, 1, 0, 5000);
    cr_assert_eq(hog[i].frames, 1, "signed in");
    part[0] = (uint8_t)(body[i] >> 24);
    part[1] = (uint8_t)(body[i] >> 16);
    part[2] = (uint8_t)(body[i] >> 8);
    part[3] = (uint8_t)body[i];
    sock_send_all(&hog[i], part, 4 + sent[i]);
    free(hello);
    free(part);
  }
  usleep(500000); /* read into the server */
}

/* Past the budget connections wait; one not signed in that waits keeps
 * the deadline it opened with. */
Test(slots, waiting_on_the_budget_gives_no_more_time_to_sign_in) {
  tally_test_server_start(&srv, (const char *const[]){
      "--memory-budget", "1", "--sign-in-timeout", "2", "--idle-timeout",
      "30", NULL});
  sock hog[2], anon;
  fill_the_budget(hog);
  sock_open(&anon, "127.0.0.8");
  uint8_t two[2 * sizeof ANONYMOUS_FRAME];
  memcpy(two, ANONYMOUS_FRAME, sizeof ANONYMOUS_FRAME);
  memcpy(two + sizeof ANONYMOUS_FRAME, ANONYMOUS_FRAME, sizeof ANONYMOUS_FRAME);
  sock_send_all(&anon, two, sizeof two);
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  sock_wait(&anon, 1, 0, 1, 15000);
  cr_expect(anon.closed, "still open after 15 s");
  cr_expect_lt(since_us(&start), 8000000L, "closed after %ld ms, not about "
               "the 2 s sign-in timeout", since_us(&start) / 1000);
  cr_expect_eq(anon.last, TALLY__ERROR_CODE__ERROR_TIMEOUT, "%s", anon.message);
  close(anon.fd);
  sock_close_all(hog, 2);
}

/* A client that sends two requests at once while the budget is over:
 * the second waits for the first's reply to be taken, and no longer. */
Test(slots, a_client_that_takes_its_replies_is_served_while_the_budget_is_over) {
  tally_test_server_start(&srv, (const char *const[]){
      "--memory-budget", "1", "--idle-timeout", "60", NULL});
  sock hog[2], good;
  fill_the_budget(hog);
  sock_open(&good, "127.0.0.1");
  uint8_t *a, *b;
  size_t a_len = whoami_frame(srv.admin, 1, &a), b_len = whoami_frame(NULL, 2, &b);
  uint8_t *both = malloc(a_len + b_len);
  memcpy(both, a, a_len);
  memcpy(both + a_len, b, b_len);
  sock_send_all(&good, both, a_len + b_len);
  free(a);
  free(b);
  free(both);
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  sock_wait(&good, 1, 2, 0, 20000);
  cr_expect_eq(good.frames, 2, "%d of 2 replies in 20 s", good.frames);
  cr_expect_lt(since_us(&start), 8000000L, "both replies took %ld ms",
               since_us(&start) / 1000);
  close(good.fd);
  sock_close_all(hog, 2);
}
