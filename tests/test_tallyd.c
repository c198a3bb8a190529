/* test_tallyd.c: the tallyd binary's command line and start-up checks. */
#include "fixture.h"
#include "store.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char dir[256];

static void setup(void) { tally_test_tmpdir(dir, sizeof dir); }
static void teardown(void) { tally_test_rmtree(dir); }

TestSuite(tallyd, .init = setup, .fini = teardown, .timeout = 60);

#define TALLYD(out, err, ...)                                                  \
  tally_test_exec(TALLYD_PATH, (const char *const[]){__VA_ARGS__, NULL}, NULL, \
                  out, err)

/* Makes a store in data with its first admin (tallyd init), so that
 * what a test checks is not the missing admin. */
static void init_store(const char *data) {
  char *out, *err;
  int rc = TALLYD(&out, &err, "init", "--data", data);
  cr_assert_eq(rc, 0, "tallyd init: %s", err);
  cr_assert(strncmp(out, "tally_", 6) == 0, "not a token: %s", out);
  free(out);
  free(err);
}

Test(tallyd, help_and_usage) {
  char *out, *err;
  cr_assert_eq(TALLYD(&out, NULL, "--help"), 0);
  cr_assert(strstr(out, "usage: tallyd --data DIR") && strstr(out, "--listen"));
  free(out);
  cr_assert_eq(TALLYD(NULL, &err, "--listen", "127.0.0.1:0"), 2);
  cr_assert(strstr(err, "--data DIR is required"), "%s", err);
  free(err);
  cr_assert_eq(TALLYD(NULL, &err, "--data", dir, "--max-frame", "lots"), 2);
  cr_assert(strstr(err, "--max-frame must be a whole number"), "%s", err);
  free(err);
}

Test(tallyd, bad_listen_address) {
  char *err, data[300];
  snprintf(data, sizeof data, "%s/store", dir);
  init_store(data); /* a store it could serve */
  cr_assert_eq(TALLYD(NULL, &err, "--data", data, "--listen", "nowhere"), 2);
  cr_assert(strstr(err, "--listen must be HOST:PORT (127.0.0.1:7300, "
                        "[::1]:7300), not 'nowhere'"), "%s", err);
  free(err);
}

/* No store where --data points: it says how to make one, and makes
 * nothing there itself. */
Test(tallyd, no_store_is_refused_and_none_is_made) {
  char *err, data[300], want[700];
  struct stat st;
  snprintf(data, sizeof data, "%s/store", dir);
  cr_assert_eq(TALLYD(NULL, &err, "--data", data, "--listen", "127.0.0.1:0"),
               1);
  snprintf(want, sizeof want, "there is no store in %s: make one with "
           "'tallyd init --data %s'", data, data);
  cr_assert(strstr(err, want), "expected '%s' in: %s", want, err);
  free(err);
  cr_assert_neq(stat(data, &st), 0, "%s was made", data);
}

/* A store without an admin (its accounts lost) is not served: it says
 * how to make one. */
Test(tallyd, a_store_without_an_admin_is_refused) {
  char *err, data[300], want[400];
  snprintf(data, sizeof data, "%s/store", dir);
  tally_store *empty; /* a store with no accounts */
  cr_assert_eq(tally_store_open(data, 0, 0, &empty), 0);
  tally_store_close(empty);
  cr_assert_eq(TALLYD(NULL, &err, "--data", data, "--listen", "127.0.0.1:0"),
               1);
  snprintf(want, sizeof want, "has no admin account, so no one could manage "
           "it: run 'tallyd init --data %s' first", data);
  cr_assert(strstr(err, want), "expected '%s' in: %s", want, err);
  free(err);
}

/* Every admin token lost: init refuses a store with accounts, and says
 * how to recover; --recover adds an admin whose token works, and the
 * audit trail says so. */
Test(tallyd, a_lost_admin_is_recovered_on_the_host) {
  char *out, *err, data[300], path[340];
  snprintf(data, sizeof data, "%s/store", dir);
  cr_assert_eq(TALLYD(NULL, &err, "init", "--recover", "--data", data), 1);
  cr_assert(strstr(err, "no store in"), "%s", err);
  free(err);
  init_store(data);
  cr_assert_eq(TALLYD(NULL, &err, "init", "--data", data), 1);
  cr_assert(strstr(err, "tallyd init --recover"), "%s", err);
  free(err);
  cr_assert_eq(TALLYD(&out, &err, "init", "--recover", "--data", data,
                      "--name", "second admin"),
               0, "%s", err);
  cr_assert(strstr(err, "admin account 2"), "%s", err);
  free(err);
  snprintf(path, sizeof path, "%s/test-admin.token", data);
  tally_test_write_file(path, out); /* the fixture signs in with it */
  free(out);
  tally_test_server srv;
  tally_test_server_start_in(&srv, data, NULL);
  setenv("TALLY_SERVER", srv.address, 1);
  cr_assert_eq(tally_test_run((const char *const[]){"audit", "--format",
                                                    "json", NULL},
                              NULL, &out, &err),
               0, "%s", err);
  cr_assert(strstr(out, "tallyd init --recover") &&
                strstr(out, "second admin"),
            "%s", out);
  free(out);
  free(err);
  tally_test_server_stop(&srv);
}

Test(tallyd, unusable_data_directory) {
  char *err, file[300];
  snprintf(file, sizeof file, "%s/a-file", dir);
  tally_test_write_file(file, "not a directory");
  cr_assert_eq(TALLYD(NULL, &err, "--data", file, "--listen", "127.0.0.1:0"),
               1);
  cr_assert(strstr(err, "cannot open the store in"), "%s", err);
  free(err);
}

Test(tallyd, builtin_catalog_checks) {
  char *out;
  cr_assert_eq(TALLYD(&out, NULL, "--check-catalog"), 0);
  cr_assert(strstr(out, "catalog changqing is valid: 11 units, 133 data "
                        "elements, 62 indicators"),
            "%s", out);
  free(out);
}

/* A wrong catalog stops the server with the file, the entry and the
 * problem. */
Test(tallyd, wrong_catalog_stops_the_server) {
  char path[300], data[300], *err;
  snprintf(path, sizeof path, "%s/catalog.json", dir);
  snprintf(data, sizeof data, "%s/store", dir);
  char *good = tally_test_read_file(TALLY_SOURCE_DIR "/catalog/changqing.json");
  cr_assert_not_null(good);
  char *at = strstr(good, "\"denominator\": \"live_births\"");
  cr_assert_not_null(at);
  memcpy(at, "\"denominator\": \"live_birth_\"", 28);
  tally_test_write_file(path, good);
  free(good);
  init_store(data); /* a store it could serve */

  int rc = TALLYD(NULL, &err, "--data", data, "--catalog", path, "--listen",
                  "127.0.0.1:0");
  cr_assert_eq(rc, 1);
  char want[600];
  snprintf(want, sizeof want,
           "%s: indicator H02: denominator 'live_birth_' is not a defined "
           "data element",
           path);
  cr_assert(strstr(err, want), "expected '%s' in: %s", want, err);
  free(err);

  tally_test_write_file(path, "{\"format\": \"tally-catalog/1\",\n  oops}");
  cr_assert_eq(TALLYD(NULL, &err, "--data", data, "--catalog", path), 1);
  snprintf(want, sizeof want, "%s:2:", path);
  cr_assert(strstr(err, want), "expected '%s' in: %s", want, err);
  free(err);
}

/* A second tallyd on the same store would keep its own accounts: it is
 * refused, naming the first's pid, and so is tallyd init --recover,
 * which writes to the store; once the first stops, the store is free. */
Test(tallyd, a_second_server_on_a_store_is_refused) {
  char data[300], pid[32], *err;
  snprintf(data, sizeof data, "%s/store", dir);
  tally_test_server srv;
  tally_test_server_start_in(&srv, data, NULL);
  snprintf(pid, sizeof pid, "pid %ld", (long)srv.pid);

  int rc = TALLYD(NULL, &err, "--data", data, "--listen", "127.0.0.1:0");
  cr_assert_eq(rc, 1, "status %d: %s", rc, err);
  cr_assert(strstr(err, "in use by another process") && strstr(err, pid) &&
                strstr(err, data), "%s", err);
  free(err);
  rc = TALLYD(NULL, &err, "init", "--data", data, "--recover");
  cr_assert_eq(rc, 1, "status %d: %s", rc, err);
  cr_assert(strstr(err, pid), "%s", err);
  free(err);

  cr_assert_eq(tally_test_server_stop(&srv), 0);
  tally_test_server_start_in(&srv, data, NULL);
  cr_assert_eq(tally_test_server_stop(&srv), 0);
}

/* A store with figures in it, stopped: its data.mdb's path in file. */
static void store_with_figures(char *data, char *file, size_t n) {
  snprintf(data, n, "%s/store", dir);
  snprintf(file, n, "%s/data.mdb", data);
  tally_test_server srv;
  tally_test_server_start_in(&srv, data, NULL);
  char csv[300];
  snprintf(csv, sizeof csv, "%s/figures.csv", dir);
  tally_test_write_file(csv, "live_births,812\ninfant_deaths,2\n");
  tally_test_sign_in(&srv, "reporter", "wenchang");
  char *err;
  int rc = RUN(NULL, &err, "--server", srv.address, "submit", "--unit",
               "wenchang", "--period", "2022", "--file", csv);
  cr_assert_eq(rc, 0, "%s", err);
  free(err);
  cr_assert_eq(tally_test_server_stop(&srv), 0);
}

/* tallyd on data refuses with a message naming the damage (what) and
 * the way back, and exits with a status, not a signal. */
static void expect_refused(const char *data, const char *what,
                           const char *how) {
  char *err;
  int rc = TALLYD(NULL, &err, "--data", data, "--listen", "127.0.0.1:0");
  cr_assert_eq(rc, 1, "%s: status %d (-1: a signal): %s", how, rc, err);
  cr_assert(strstr(err, "is damaged") && strstr(err, what) &&
                strstr(err, "Restore the latest backup"), "%s: %s", how, err);
  free(err);
}

static void copy_file(const char *from, const char *to) {
  char *out, *err;
  int rc = tally_test_exec("/bin/cp", (const char *const[]){from, to, NULL},
                           NULL, &out, &err);
  cr_assert_eq(rc, 0, "cp %s %s: %s", from, to, err);
  free(out);
  free(err);
}

/* A data.mdb cut short, at a page boundary or not, within the meta
 * pages or past them: LMDB would map it and die of SIGBUS. */
Test(tallyd, a_store_cut_short_is_refused) {
  char data[300], file[300], saved[300];
  store_with_figures(data, file, sizeof data);
  snprintf(saved, sizeof saved, "%s/saved.mdb", dir);
  copy_file(file, saved);
  struct stat st;
  cr_assert_eq(stat(file, &st), 0);
  const off_t lengths[] = {0, 100, 4096, 8192 + 17, st.st_size / 2,
                           st.st_size - 4096};
  for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
    char how[64];
    snprintf(how, sizeof how, "cut to %lld bytes", (long long)lengths[i]);
    copy_file(saved, file);
    cr_assert_eq(truncate(file, lengths[i]), 0);
    expect_refused(data, "cut short", how);
  }
  /* The whole file opens again, and verifies. */
  copy_file(saved, file);
  tally_test_server srv;
  tally_test_server_start_in(&srv, data, NULL);
  char *out, *err;
  int rc = RUN(&out, &err, "--server", srv.address, "admin", "verify");
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert(strstr(out, "all match"), "%s", out);
  free(out);
  free(err);
  cr_assert_eq(tally_test_server_stop(&srv), 0);
}

/* Writes len bytes at off of file. */
static void damage(const char *file, off_t off, const void *bytes,
                   size_t len) {
  int fd = open(file, O_WRONLY);
  cr_assert_geq(fd, 0);
  cr_assert_eq(pwrite(fd, bytes, len, off), (ssize_t)len);
  close(fd);
}

/* One meta page damaged, the older or the newer: its magic, or the
 * store's last page it records (far past the file; before the roots, in
 * the newer, which LMDB opens at). LMDB would refuse the first with
 * "invalid argument" and take the others, then fail an assertion at
 * the first write. */
Test(tallyd, a_damaged_meta_page_is_refused) {
  char data[300], file[300], saved[300];
  store_with_figures(data, file, sizeof data);
  snprintf(saved, sizeof saved, "%s/saved.mdb", dir);
  copy_file(file, saved);
  const uint32_t bad_magic = 0xBEEFC0DF;
  const uint64_t far = 1u << 30, one = 1;
  uint64_t txnid[2];
  int fd = open(file, O_RDONLY);
  cr_assert_geq(fd, 0);
  for (int page = 0; page < 2; page++)
    cr_assert_eq(pread(fd, &txnid[page], 8, page * 4096 + 144), 8);
  close(fd);
  for (int page = 0; page < 2; page++) {
    off_t meta = (off_t)page * 4096;
    char how[64];
    snprintf(how, sizeof how, "meta page %d", page);
    copy_file(saved, file);
    damage(file, meta + 16, &bad_magic, sizeof bad_magic);
    expect_refused(data, how, "its magic");
    copy_file(saved, file);
    damage(file, meta + 136, &far, sizeof far);
    expect_refused(data, how, "its last page far out");
    if (txnid[page] < txnid[!page])
      continue;
    copy_file(saved, file);
    damage(file, meta + 136, &one, sizeof one);
    expect_refused(data, how, "its last page before its roots");
  }
}

/* tallyd init makes the directory and its missing parents. */
Test(tallyd, init_makes_the_parents) {
  char data[400], file[500];
  struct stat st;
  snprintf(data, sizeof data, "%s/missing/parent/tally", dir);
  init_store(data);
  snprintf(file, sizeof file, "%s/data.mdb", data);
  cr_assert_eq(stat(file, &st), 0, "no store in %s", data);
}

/* A failed init leaves nothing behind: not the parents it made, not a
 * store. */
Test(tallyd, a_failed_init_writes_nothing) {
  char data[800], made[400], *out, *err;
  struct stat st;
  char longname[300];
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = 0;
  snprintf(made, sizeof made, "%s/new", dir);
  snprintf(data, sizeof data, "%s/%s/store", made, longname);
  int rc = TALLYD(&out, &err, "init", "--data", data);
  cr_assert_eq(rc, 1, "%s", err);
  cr_assert(strstr(err, "tallyd init: cannot make "), "%s", err);
  cr_assert_str_eq(out, "", "a token was printed: %s", out);
  cr_assert_neq(stat(made, &st), 0, "%s was left behind", made);
  free(out);
  free(err);
  /* Under a file: refused, and the file is untouched. */
  snprintf(made, sizeof made, "%s/plain", dir);
  tally_test_write_file(made, "x");
  snprintf(data, sizeof data, "%s/store", made);
  cr_assert_eq(TALLYD(&out, &err, "init", "--data", data), 1);
  cr_assert(strstr(err, "Not a directory"), "%s", err);
  cr_assert_eq(stat(made, &st), 0);
  cr_assert(S_ISREG(st.st_mode));
  free(out);
  free(err);
}

/* Appends to got what tallyd told the notify socket s, each message
 * and a '|', watchdog pings left out: what is there now (flags
 * MSG_DONTWAIT), or what comes within 20 ms (0). */
static void take_notices(int s, char *got, size_t size, int flags) {
  for (int i = 0; i < 50; i++) {
    char buf[512];
    ssize_t n = recv(s, buf, sizeof buf - 1, flags);
    if (n <= 0)
      return;
    buf[n] = 0;
    if (strlen(got) + (size_t)n + 2 < size && !strstr(buf, "WATCHDOG")) {
      strcat(got, buf);
      strcat(got, "|");
    }
  }
}

/* Under systemd (Type=notify): tallyd says READY=1 once it listens,
 * pings the watchdog when WATCHDOG_USEC asks for it, RELOADING=1 and
 * READY=1 around a SIGHUP, and STOPPING=1 when told to stop. Here the
 * notify socket is the test's own. */
Test(tallyd, tells_systemd_when_ready_reloading_and_stopping) {
  char sock[300], got[4096] = "";
  snprintf(sock, sizeof sock, "%s/notify", dir);
  int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  cr_assert_lt(strlen(sock), sizeof a.sun_path);
  memcpy(a.sun_path, sock, strlen(sock) + 1);
  cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  setenv("NOTIFY_SOCKET", sock, 1);
  setenv("WATCHDOG_USEC", "200000", 1); /* a ping every 100 ms */
  tally_test_server srv;
  tally_test_server_start(&srv, NULL);
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  int pings = 0, ready = 0;
  /* What it sent until now, and more until three pings came (five
   * seconds at most: a loaded machine may be slow). */
  time_t until = time(NULL) + 5;
  while ((pings < 3 || !ready) && time(NULL) < until) {
    char buf[512];
    struct timeval tv = {0, 20000};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = recv(s, buf, sizeof buf - 1, 0);
    if (n <= 0)
      continue;
    buf[n] = 0;
    ready += strstr(buf, "READY=1") != NULL;
    pings += strstr(buf, "WATCHDOG=1") != NULL;
    if (strstr(buf, "READY=1"))
      cr_assert(strstr(buf, "STATUS=listening on 127.0.0.1:"), "%s", buf);
  }
  cr_assert_eq(ready, 1);
  cr_assert_geq(pings, 3, "%d watchdog pings in five seconds", pings);
  cr_assert_eq(kill(srv.pid, SIGHUP), 0);
  /* The reload told and done (READY again) before the stop: a stop sent
   * at once may come first on a loaded machine. */
  until = time(NULL) + 5;
  while (!strstr(got, "RELOADING=1|READY=1|") && time(NULL) < until)
    take_notices(s, got, sizeof got, 0);
  cr_assert(strstr(got, "RELOADING=1|READY=1|"), "%s", got);
  cr_assert_eq(tally_test_server_stop(&srv), 0);
  take_notices(s, got, sizeof got, MSG_DONTWAIT);
  close(s);
  cr_assert(strstr(got, "STOPPING=1|"), "%s", got);
}
