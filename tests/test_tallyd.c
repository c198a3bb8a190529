/* test_tallyd.c: the tallyd binary's command line and start-up checks. */
#include "fixture.h"
#include "store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
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
  cr_assert_eq(TALLYD(NULL, &err, "--data", data, "--listen", "nowhere"), 1);
  cr_assert(strstr(err, "--listen nowhere: expected HOST:PORT"), "%s", err);
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
  cr_assert(strstr(out, "catalog changqing is valid: 11 units, 131 data "
                        "elements, 61 indicators"),
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

