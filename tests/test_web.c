/* test_web.c: tallyd --http against plain sockets: the headers of every
 * response, the sign-in with a first password and its change, the
 * same-origin rule of the WebSocket upgrade, and sessions that expire
 * or end with their account. The browser's side is tests/web/. */
#include "address.h"
#include "fixture.h"
#include "wire.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static tally_test_server srv;
static char webdir[256];
static char hostport[96]; /* the address requests go to: "[::1]:PORT" */
static char origin[128];  /* its origin, "http://[::1]:PORT" */
static int port;

/* Sends the requests from now on to the web pages' address of origin o
 * (one of srv.web, srv.web_also). */
static void aim(const char *o) {
  snprintf(origin, sizeof origin, "%s", o);
  cr_assert(sscanf(o, "http://%95s", hostport) == 1, "the web address: '%s'",
            o);
  cr_assert(sscanf(strrchr(hostport, ':'), ":%d", &port) == 1, "%s", o);
}

/* A directory of web pages: index.html alone. */
static void make_webdir(void) {
  tally_test_tmpdir(webdir, sizeof webdir);
  char index[300];
  snprintf(index, sizeof index, "%s/index.html", webdir);
  tally_test_write_file(index, "<!doctype html><title>t</title>\n");
}

/* Starts tallyd --http with a session timeout and, when limits, the
 * limits of connections not signed in ({max per address, sign-in
 * timeout}). */
static void start_with(const char *timeout, const char *const *limits) {
  make_webdir();
  const char *extra[] = {"--http", "127.0.0.1:0", "--web-dir", webdir,
                         "--session-timeout", timeout,
                         limits ? "--max-per-address" : NULL,
                         limits ? limits[0] : NULL, "--sign-in-timeout",
                         limits ? limits[1] : NULL, NULL};
  tally_test_server_start(&srv, extra);
  setenv("TALLY_SERVER", srv.address, 1);
  aim(srv.web);
}

static void start(const char *timeout) { start_with(timeout, NULL); }

static void stop(void) {
  tally_test_server_stop(&srv);
  tally_test_rmtree(webdir);
}

TestSuite(web, .fini = stop, .timeout = 120);

static int connect_web(void) {
  struct sockaddr_storage a;
  cr_assert_eq(tally_address_parse(hostport, &a), 0, "%s", hostport);
  socklen_t len = a.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                          : sizeof(struct sockaddr_in);
  int fd = socket(a.ss_family, SOCK_STREAM, 0);
  cr_assert(fd >= 0 && connect(fd, (struct sockaddr *)&a, len) == 0, "%s",
            hostport);
  return fd;
}

/* Reads what fd sends within ms (or until it closes) into buf. */
static size_t read_for(int fd, char *buf, size_t n, int ms) {
  size_t len = 0;
  struct pollfd p = {fd, POLLIN, 0};
  while (len < n - 1 && poll(&p, 1, ms) > 0) {
    ssize_t r = read(fd, buf + len, n - 1 - len);
    if (r <= 0)
      break;
    len += (size_t)r;
    if (memmem(buf, len, "\r\n\r\n", 4) && ms > 100)
      ms = 300; /* the head is in: the body follows at once */
  }
  buf[len] = 0;
  return len;
}

/* One request (head, then len bytes of body) on a new connection; the
 * whole answer into resp. */
static size_t http(const char *head, const void *body, size_t len,
                   char *resp, size_t n) {
  int fd = connect_web();
  cr_assert(write(fd, head, strlen(head)) == (ssize_t)strlen(head));
  if (len)
    cr_assert(write(fd, body, len) == (ssize_t)len);
  size_t got = read_for(fd, resp, n, 3000);
  close(fd);
  return got;
}

/* POST /session with a sign-in (new_password may be ""), from the
 * server's own origin unless origin is given. */
static size_t sign_in(const char *name, const char *pw, const char *new_pw,
                      const char *from, char *resp, size_t n) {
  Tally__Envelope e = TALLY__ENVELOPE__INIT;
  Tally__SignInRequest q = TALLY__SIGN_IN_REQUEST__INIT;
  q.name = (char *)name;
  q.password = (char *)pw;
  q.new_password = (char *)new_pw;
  e.body_case = TALLY__ENVELOPE__BODY_SIGN_IN;
  e.sign_in = &q;
  uint8_t body[512];
  size_t len = tally__envelope__pack(&e, body);
  char head[512];
  snprintf(head, sizeof head,
           "POST /session HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\n"
           "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n"
           "Connection: close\r\n\r\n",
           hostport, from ? from : origin, len);
  return http(head, body, len, resp, n);
}

/* The session cookie's value from a response, into out. */
static int cookie_of(const char *resp, char *out, size_t n) {
  const char *c = strcasestr(resp, "set-cookie: tally_session=");
  if (c == NULL)
    return -1;
  c += strlen("set-cookie: tally_session=");
  size_t len = strcspn(c, ";\r\n");
  snprintf(out, n, "%.*s", (int)len, c);
  return len == 64 ? 0 : -1;
}

/* The WebSocket upgrade with this Origin and cookie: the connection,
 * its answer in resp. */
static int upgrade(const char *from, const char *cookie, char *resp,
                   size_t n) {
  char head[1024];
  snprintf(head, sizeof head,
           "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: tally\r\n"
           "Origin: %s\r\n%s%s%s\r\n",
           hostport, from, cookie ? "Cookie: tally_session=" : "",
           cookie ? cookie : "", cookie ? "\r\n" : "");
  int fd = connect_web();
  cr_assert(write(fd, head, strlen(head)) == (ssize_t)strlen(head));
  read_for(fd, resp, n, 2000);
  return fd;
}

/* A reporter with a first password, through the real client; its id. */
static unsigned long long with_password(const char *unit, const char *name,
                                        const char *pw) {
  char *out = NULL, *err = NULL, input[80];
  int rc = RUN(&out, &err, "account", "add", "--role", "reporter", "--unit",
               unit, "--name", name);
  cr_assert_eq(rc, 0, "%s", err);
  unsigned long long id = strtoull(out + strlen("tally_"), NULL, 10);
  free(out);
  free(err);
  char ids[24];
  snprintf(ids, sizeof ids, "%llu", id);
  snprintf(input, sizeof input, "%s\n", pw);
  rc = tally_test_run((const char *const[]){"account", "password", ids, NULL},
                      input, NULL, &err);
  cr_assert_eq(rc, 0, "tally account password: %s", err);
  free(err);
  return id;
}

/* Signs in as a clerk whose first password is changed: its cookie. */
static void clerk(const char *name, char cookie[80]) {
  char resp[4096];
  with_password("wenchang", name, "first-pass-123");
  sign_in(name, "first-pass-123", "new-pass-4567", NULL, resp, sizeof resp);
  cr_assert(strstr(resp, "200 OK"), "%s", resp);
  cr_assert_eq(cookie_of(resp, cookie, 80), 0, "%s", resp);
}

Test(web, every_response_carries_the_strict_headers) {
  char resp[8192];
  start("28800");
  const char *paths[] = {"/", "/index.html", "/session", "/nothing-here",
                         "/../../../../etc/passwd"};
  for (size_t i = 0; i < 5; i++) {
    char head[256];
    snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: %s\r\n"
             "Connection: close\r\n\r\n", paths[i], hostport);
    http(head, NULL, 0, resp, sizeof resp);
    cr_expect(strcasestr(resp, "content-security-policy: default-src 'self'; "
                               "script-src 'self'"), "%s: %s", paths[i], resp);
    cr_expect(strcasestr(resp, "frame-ancestors 'none'"), "%s", paths[i]);
    cr_expect(strcasestr(resp, "x-content-type-options: nosniff"), "%s", paths[i]);
    cr_expect(strcasestr(resp, "x-frame-options: DENY"), "%s", paths[i]);
    cr_expect(strcasestr(resp, "referrer-policy: no-referrer"), "%s", paths[i]);
    cr_expect(!strstr(resp, "root:"), "%s: a file above --web-dir", paths[i]);
  }
  cr_expect(strstr(resp, "404"), "above the web directory: %s", resp);
}

/* The body of an HTTP answer (after its head), or NULL. */
static const char *body_of(const char *resp, size_t len, size_t *n) {
  const char *b = memmem(resp, len, "\r\n\r\n", 4);
  if (b == NULL)
    return NULL;
  *n = len - (size_t)(b + 4 - resp);
  return b + 4;
}

Test(web, an_asset_goes_gzipped_to_a_browser_that_takes_gzip_only) {
  char resp[16384], path[300], cmd[700], *gz;
  size_t gz_len, n;
  start("28800");
  /* An asset and its .gz, as web/build.sh leaves them. */
  snprintf(path, sizeof path, "%s/app.js", webdir);
  char js[4096] = "";
  for (int i = 0; i < 100; i++)
    strcat(js, "console.log('tally');\n");
  tally_test_write_file(path, js);
  snprintf(cmd, sizeof cmd, "gzip -9 -n -k '%s'", path);
  cr_assert(system(cmd) == 0);
  snprintf(path, sizeof path, "%s/app.js.gz", webdir);
  FILE *f = fopen(path, "rb");
  cr_assert(f != NULL);
  gz = malloc(8192);
  gz_len = fread(gz, 1, 8192, f);
  fclose(f);
  cr_assert(gz_len > 0 && gz_len < strlen(js));

  const char *accepts[] = {"Accept-Encoding: gzip, deflate, br\r\n", "",
                           "Accept-Encoding: br\r\n"};
  for (size_t i = 0; i < 3; i++) {
    char head[300];
    snprintf(head, sizeof head, "GET /app.js HTTP/1.1\r\nHost: %s\r\n"
             "%sConnection: close\r\n\r\n", hostport, accepts[i]);
    size_t len = http(head, NULL, 0, resp, sizeof resp);
    const char *body = body_of(resp, len, &n);
    cr_assert(body, "%s", resp);
    cr_expect(strcasestr(resp, "content-security-policy: default-src 'self'"),
              "%s", resp);
    cr_expect(strcasestr(resp, "vary: Accept-Encoding"), "%s", resp);
    if (i == 0) {
      cr_expect(strcasestr(resp, "content-encoding: gzip"), "%s", resp);
      cr_expect(n == gz_len && memcmp(body, gz, n) == 0,
                "the .gz as it is: %zu bytes, not %zu", n, gz_len);
    } else {
      cr_expect(!strcasestr(resp, "content-encoding:"), "%s", resp);
      cr_expect(n == strlen(js) && memcmp(body, js, n) == 0,
                "the asset itself: %zu bytes, not %zu", n, strlen(js));
    }
  }
  /* A .gz of another time than its file (left from an earlier build,
   * or the file put back older): not sent. */
  const char *times[] = {"2020-01-01", "2035-01-01"};
  for (size_t i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/app.js", webdir);
    snprintf(cmd, sizeof cmd, "touch -d '%s' '%s.gz'", times[i], path);
    cr_assert(system(cmd) == 0);
    char head[300];
    snprintf(head, sizeof head, "GET /app.js HTTP/1.1\r\nHost: %s\r\n"
             "Accept-Encoding: gzip\r\nConnection: close\r\n\r\n",
             hostport);
    size_t len = http(head, NULL, 0, resp, sizeof resp);
    const char *body = body_of(resp, len, &n);
    cr_assert(body, "%s", resp);
    cr_expect(!strcasestr(resp, "content-encoding:"), "a .gz of %s: %s",
              times[i], resp);
    cr_expect(n == strlen(js) && memcmp(body, js, n) == 0,
              "the asset itself, not the .gz of %s: %zu bytes", times[i], n);
  }
  free(gz);
}

Test(web, a_first_password_is_changed_before_a_session_opens) {
  char resp[8192], cookie[80];
  start("28800");
  with_password("wenchang", "Wenchang office", "first-pass-123");

  sign_in("Wenchang office", "wrong-password", "", NULL, resp, sizeof resp);
  cr_assert(strstr(resp, "401"), "a wrong password: %s", resp);
  cr_assert(!strcasestr(resp, "set-cookie"), "no session for it");
  sign_in("Wenchang office", "first-pass-123", "", NULL, resp, sizeof resp);
  cr_assert(strstr(resp, "200 OK"), "%s", resp);
  cr_assert(!strcasestr(resp, "set-cookie"), "a first password opens no session");
  sign_in("Wenchang office", "first-pass-123", "short", NULL, resp, sizeof resp);
  cr_assert(strstr(resp, "400"), "a new password of 5 bytes: %s", resp);

  sign_in("Wenchang office", "first-pass-123", "new-pass-4567", NULL, resp,
          sizeof resp);
  cr_assert(strstr(resp, "200 OK"), "%s", resp);
  cr_assert_eq(cookie_of(resp, cookie, sizeof cookie), 0, "%s", resp);
  cr_assert(strcasestr(resp, "; Path=/; HttpOnly; Secure; SameSite=Strict; "
                             "Max-Age="), "the cookie's attributes: %s", resp);
  sign_in("Wenchang office", "first-pass-123", "", NULL, resp, sizeof resp);
  cr_assert(strstr(resp, "401"), "the first password no longer works");
  sign_in("Wenchang office", "new-pass-4567", "", NULL, resp, sizeof resp);
  cr_assert(strstr(resp, "200 OK") && strcasestr(resp, "set-cookie"),
            "the new one opens a session: %s", resp);

  /* The store keeps Argon2id hashes, never the passwords; the log
   * names neither them nor the session. */
  char file[300];
  snprintf(file, sizeof file, "%s/data.mdb", srv.dir);
  FILE *f = fopen(file, "rb");
  cr_assert_not_null(f);
  static char db[8 << 20];
  size_t n = fread(db, 1, sizeof db, f);
  fclose(f);
  cr_expect(memmem(db, n, "$argon2id$v=19$m=65536,t=2", 26), "an Argon2id hash");
  cr_expect(!memmem(db, n, "new-pass-4567", 13), "the password in the store");
  cr_expect(!memmem(db, n, "first-pass-123", 14), "the first one in the store");
  char *log = tally_test_read_file(srv.log);
  cr_assert_not_null(log);
  cr_expect(!strstr(log, "new-pass-4567") && !strstr(log, "first-pass-123"),
            "a password in the log");
  cr_expect(!strstr(log, cookie), "the session in the log");
  free(log);
}

Test(web, the_websocket_opens_from_the_same_origin_with_a_session_only) {
  char resp[4096], cookie[80];
  start("28800");
  clerk("Wenchang clerk", cookie);
  int fd = upgrade(origin, cookie, resp, sizeof resp);
  cr_expect(strstr(resp, "101 Switching Protocols"), "the same origin: %s", resp);
  close(fd);
  fd = upgrade("http://evil.example", cookie, resp, sizeof resp);
  cr_expect(!strstr(resp, "101"), "another origin: %s", resp);
  close(fd);
  char other[128];
  snprintf(other, sizeof other, "http://127.0.0.1:%d", port + 1);
  fd = upgrade(other, cookie, resp, sizeof resp);
  cr_expect(!strstr(resp, "101"), "another port of the same host: %s", resp);
  close(fd);
  fd = upgrade(origin, NULL, resp, sizeof resp);
  cr_expect(!strstr(resp, "101"), "no cookie: %s", resp);
  close(fd);
  fd = upgrade(origin, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
               resp, sizeof resp);
  cr_expect(!strstr(resp, "101"), "a made-up cookie: %s", resp);
  close(fd);
  /* A POST from another origin signs no one in. */
  sign_in("Wenchang clerk", "new-pass-4567", "", "http://evil.example", resp,
          sizeof resp);
  cr_expect(strstr(resp, "403") && !strcasestr(resp, "set-cookie"),
            "a sign-in from another origin: %s", resp);
}

Test(web, a_session_expires) {
  char resp[4096], cookie[80];
  start("2");
  clerk("Wenchang clerk", cookie);
  int fd = upgrade(origin, cookie, resp, sizeof resp);
  cr_assert(strstr(resp, "101"), "%s", resp);
  close(fd);
  sleep(3);
  fd = upgrade(origin, cookie, resp, sizeof resp);
  cr_expect(!strstr(resp, "101"), "an expired session: %s", resp);
  close(fd);
}

Test(web, revoking_an_account_closes_its_open_pages_at_once) {
  char resp[4096], cookie[80], *err = NULL;
  start("28800");
  clerk("Wenchang clerk", cookie);
  int fd = upgrade(origin, cookie, resp, sizeof resp);
  cr_assert(strstr(resp, "101"), "%s", resp);
  /* The clerk's account is the last one made. */
  char id[24];
  snprintf(id, sizeof id, "%d", 2);
  cr_assert_eq(RUN(NULL, &err, "account", "revoke", id), 0, "%s", err);
  free(err);
  /* Closed at once, with a close frame of 1008 (policy violation), well
   * before the next request could find the session gone. */
  uint8_t frame[256];
  struct pollfd p = {fd, POLLIN, 0};
  cr_assert(poll(&p, 1, 3000) > 0, "the open page was not closed");
  ssize_t n = read(fd, frame, sizeof frame);
  cr_expect(n >= 4 && frame[0] == 0x88 && ((frame[2] << 8) | frame[3]) == 1008,
            "a close frame of 1008: %zd bytes, 0x%02x", n, n > 0 ? frame[0] : 0);
  close(fd);
  fd = upgrade(origin, cookie, resp, sizeof resp);
  cr_expect(!strstr(resp, "101"), "its session is gone: %s", resp);
  close(fd);
}

/* Whether fd is closed by the server within ms (reading nothing else). */
static int closed_within(int fd, int ms) {
  struct pollfd p = {fd, POLLIN, 0};
  char buf[512];
  while (poll(&p, 1, ms) > 0) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0)
      return 1;
  }
  return 0;
}

/* A whoami on the open WebSocket ws, in one masked binary message: the
 * answer must be the account's (id). */
static void whoami_on(int ws, unsigned long long id) {
  uint8_t frame[256] = {0x82, 0x80, 1, 2, 3, 4};
  Tally__Envelope e = TALLY__ENVELOPE__INIT, *reply = NULL;
  Tally__WhoamiRequest q = TALLY__WHOAMI_REQUEST__INIT;
  e.id = 5;
  e.body_case = TALLY__ENVELOPE__BODY_WHOAMI;
  e.whoami = &q;
  uint8_t body[16];
  size_t len = tally__envelope__pack(&e, body);
  frame[1] = 0x80 | (uint8_t)len;
  for (size_t i = 0; i < len; i++)
    frame[6 + i] = body[i] ^ frame[2 + i % 4];
  cr_assert(write(ws, frame, 6 + len) == (ssize_t)(6 + len));
  struct pollfd p = {ws, POLLIN, 0};
  cr_assert(poll(&p, 1, 3000) > 0, "no answer on the WebSocket");
  ssize_t n = read(ws, frame, sizeof frame);
  cr_assert(n > 2 && frame[0] == 0x82 && frame[1] < 126 &&
                (size_t)n == 2u + frame[1],
            "a binary answer: %zd bytes, 0x%02x", n, n > 0 ? frame[0] : 0);
  char why[128];
  cr_assert_eq(tally_wire_decode(frame + 2, frame[1], &reply, why, sizeof why),
               0, "%s", why);
  cr_expect_eq(reply->body_case, TALLY__ENVELOPE__BODY_WHOAMI_REPLY);
  if (reply->body_case == TALLY__ENVELOPE__BODY_WHOAMI_REPLY)
    cr_expect_eq(reply->whoami_reply->account->id, id);
  tally_wire_free(reply);
}

/* Connections that have not signed in, as on TCP: three from one
 * address at a time here, each closed once the sign-in timeout (2 s)
 * has passed; a signed-in WebSocket is neither counted nor closed. */
Test(web, connections_not_signed_in_are_limited_and_timed) {
  char resp[4096], cookie[80];
  start_with("28800", (const char *const[]){"3", "2"});
  clerk("Wenchang clerk", cookie);
  int ws = upgrade(origin, cookie, resp, sizeof resp);
  cr_assert(strstr(resp, "101"), "%s", resp);
  int idle[3];
  for (int i = 0; i < 3; i++)
    idle[i] = connect_web();
  usleep(200 * 1000);
  for (int i = 0; i < 3; i++)
    cr_expect(!closed_within(idle[i], 0), "connection %d was refused", i);
  int fourth = connect_web();
  cr_expect(closed_within(fourth, 1000), "a fourth not signed in was taken");
  close(fourth);
  for (int i = 0; i < 3; i++) {
    cr_expect(closed_within(idle[i], 3500), "connection %d outlived the "
              "sign-in timeout", i);
    close(idle[i]);
  }
  /* Room again; the WebSocket open all along still answers. */
  int again = connect_web();
  cr_expect(!closed_within(again, 300), "a new connection once they closed");
  close(again);
  whoami_on(ws, 2);
  close(ws);
}

/* On one address and the next: the pages, a sign-in from that address's
 * own origin, and the WebSocket it opens, which answers; an upgrade with
 * the other address's origin is refused (each address is an origin of
 * its own). */
static void serves_each(const char *const *origins, size_t n) {
  char resp[8192], cookie[80];
  for (size_t i = 0; i < n; i++) {
    aim(origins[i]);
    char head[256];
    snprintf(head, sizeof head, "GET / HTTP/1.1\r\nHost: %s\r\n"
             "Connection: close\r\n\r\n", hostport);
    http(head, NULL, 0, resp, sizeof resp);
    cr_expect(strstr(resp, "200 OK") && strstr(resp, "<title>t</title>") &&
                  strcasestr(resp, "content-security-policy: "),
              "%s: %s", origin, resp);
    sign_in("Wenchang clerk", "new-pass-4567", "", NULL, resp, sizeof resp);
    cr_assert(strstr(resp, "200 OK"), "%s: %s", origin, resp);
    cr_assert_eq(cookie_of(resp, cookie, sizeof cookie), 0, "%s", resp);
    int ws = upgrade(origin, cookie, resp, sizeof resp);
    cr_assert(strstr(resp, "101 Switching Protocols"), "%s: %s", origin,
              resp);
    whoami_on(ws, 2);
    close(ws);
    ws = upgrade(origins[(i + 1) % n], cookie, resp, sizeof resp);
    cr_expect(!strstr(resp, "101"), "%s with the origin %s: %s", origin,
              origins[(i + 1) % n], resp);
    close(ws);
  }
}

/* tallyd with --http first and second (HOST:PORT, port 0 or not):
 * both serve, and it stops cleanly. */
static void serves_both(const char *first, const char *second) {
  char cookie[80];
  make_webdir();
  tally_test_server_start(&srv, (const char *const[]){
      "--http", first, "--http", second, "--web-dir", webdir, NULL});
  setenv("TALLY_SERVER", srv.address, 1);
  const char *origins[] = {srv.web, srv.web_also[0]};
  const char *given[] = {first, second};
  for (int i = 0; i < 2; i++) {
    char want[80];
    const char *colon = strrchr(given[i], ':');
    int any = strcmp(colon, ":0") == 0; /* then up to the port's colon */
    snprintf(want, sizeof want, "http://%.*s", (int)(colon - given[i]) + any,
             given[i]);
    cr_assert(strncmp(origins[i], want, strlen(want)) == 0 &&
                  (any || strcmp(origins[i] + 7, given[i]) == 0),
              "%s for %s", origins[i], given[i]);
  }
  aim(origins[0]);
  clerk("Wenchang clerk", cookie);
  serves_each(origins, 2);
  char *log = tally_test_read_file(srv.log);
  char both[300];
  snprintf(both, sizeof both, "on %s %s\n", origins[0], origins[1]);
  cr_expect(log && strstr(log, both), "the log names both: %s", log);
  free(log);
  cr_expect_eq(tally_test_server_stop(&srv), 0, "a clean stop");
}

/* --http twice: 127.0.0.1 and the IPv6 loopback (else 127.0.0.2), each
 * on a port of its own, and both serve. */
Test(web, the_pages_and_the_websocket_are_served_on_each_http_address) {
  serves_both("127.0.0.1:0", tally_test_second_loopback());
}

/* The same port on both hosts: two listeners (lws shares one between
 * vhosts of the same host and port only). */
Test(web, one_port_on_two_hosts_is_two_listeners) {
  char free_port[64], first[80], second[80];
  close(tally_test_listen(free_port, sizeof free_port)); /* a free port */
  const char *port_text = strrchr(free_port, ':');
  const char *other = tally_test_second_loopback();
  snprintf(first, sizeof first, "127.0.0.1%s", port_text);
  snprintf(second, sizeof second, "%.*s%s",
           (int)(strrchr(other, ':') - other), other, port_text);
  serves_both(first, second);
}

/* The same from the config file: [web] listen given twice. */
Test(web, the_config_file_gives_several_http_addresses) {
  char dir[256], conf[300], text[600], cookie[80];
  make_webdir();
  tally_test_tmpdir(dir, sizeof dir);
  snprintf(conf, sizeof conf, "%s/tallyd.conf", dir);
  snprintf(text, sizeof text,
           "[web]\nlisten = 127.0.0.1:0\nlisten = %s\ndir = %s\n",
           tally_test_second_loopback(), webdir);
  tally_test_write_file(conf, text);
  tally_test_server_start(&srv, (const char *const[]){"--config", conf, NULL});
  setenv("TALLY_SERVER", srv.address, 1);
  char *log = tally_test_read_file_with(srv.log, "serving the web pages");
  const char *at = log ? strstr(log, "serving the web pages from ") : NULL;
  char origins_text[2][128], dir_seen[300];
  cr_assert(at && sscanf(at, "serving the web pages from %299s on %127s "
                         "%127s", dir_seen, origins_text[0],
                         origins_text[1]) == 3,
            "%s", log ? log : "");
  free(log);
  cr_expect_str_eq(dir_seen, webdir);
  const char *origins[] = {origins_text[0], origins_text[1]};
  aim(origins[0]);
  clerk("Wenchang clerk", cookie);
  serves_each(origins, 2);
  /* tally admin status names both. */
  char *out = NULL, *err = NULL, want[300];
  tally_test_sign_in(&srv, "admin", NULL);
  cr_assert_eq(RUN(&out, &err, "admin", "status"), 0, "%s", err);
  snprintf(want, sizeof want, "web pages:    %s %s\n", origins[0], origins[1]);
  cr_expect(strstr(out, want), "'%s' not in:\n%s", want, out);
  free(out);
  free(err);
  tally_test_rmtree(dir);
}

/* tallyd with a second web address it cannot serve on stops at start,
 * naming the address and why, as for --listen; nothing is left
 * listening. */
Test(web, a_bad_second_http_address_stops_tallyd_with_its_message) {
  char dir[256], taken[64], *out = NULL, *err = NULL;
  make_webdir();
  tally_test_tmpdir(dir, sizeof dir);
  int rc = tally_test_exec(TALLYD_PATH, (const char *const[]){
                               "init", "--data", dir, "--name", "a", NULL},
                           NULL, &out, &err);
  cr_assert_eq(rc, 0, "%s", err);
  free(out);
  free(err);
  int busy = tally_test_listen(taken, sizeof taken);
  struct {
    const char *address;
    int status;
    const char *says;
  } cases[] = {
      {taken, 1, "address already in use"},
      /* TEST-NET-1: an address of no interface here. */
      {"192.0.2.1:8443", 1, "address not available"},
      {"0.0.0.0:0", 1, "tallyd: refusing to serve HTTP on 0.0.0.0:0 without "
                       "TLS"},
      {"nowhere", 2, "--http must be HOST:PORT"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int plain = strcmp(cases[i].address, "192.0.2.1:8443") == 0;
    rc = tally_test_exec(
        TALLYD_PATH,
        (const char *const[]){"--config", "/dev/null", "--data", dir,
                              "--listen", "127.0.0.1:0", "--web-dir", webdir,
                              "--http", "127.0.0.1:0", "--http",
                              cases[i].address,
                              plain ? "--insecure-plaintext" : NULL, NULL},
        NULL, &out, &err);
    char want[200];
    if (strncmp(cases[i].says, "tallyd:", 7) != 0 && cases[i].status == 1)
      snprintf(want, sizeof want, "tallyd: cannot serve the web pages on "
               "%s: %s\n", cases[i].address, cases[i].says);
    else
      snprintf(want, sizeof want, "%s", cases[i].says);
    cr_expect_eq(rc, cases[i].status, "%s: exit %d: %s", cases[i].address, rc,
                 err);
    cr_expect(strstr(err, want), "%s: want '%s' in: %s", cases[i].address,
              want, err);
    cr_expect(!strstr(out, "web pages on"), "%s: %s", cases[i].address, out);
    free(out);
    free(err);
  }
  close(busy);
  tally_test_rmtree(dir);
}
