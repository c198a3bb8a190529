/* test_backup.c: tallyd backup and tallyd restore from the command line
 * (server/backup.c), the daily rotation, and the offices sending again
 * what was acknowledged after the backup (tally sync --resend-since). */
#include "backup.h"
#include "client.h"
#include "fixture.h"
#include "wire.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static tally_test_server srv;
static char files[256];

static void setup(void) { tally_test_cli_start(&srv, files, sizeof files); }
static void teardown(void) { tally_test_cli_stop(&srv, files); }

TestSuite(backup, .init = setup, .fini = teardown, .timeout = 120);

#define TALLYD(out, err, ...)                                                  \
  tally_test_exec(TALLYD_PATH, (const char *const[]){__VA_ARGS__, NULL}, NULL, \
                  out, err)

static const char *file_with(const char *name, const char *text) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", files, name);
  tally_test_write_file(path, text);
  return path;
}

static void submit(const char *period, const char *name, const char *text) {
  char *err = NULL;
  tally_test_sign_in(&srv, "reporter", "wenchang");
  int rc = RUN(NULL, &err, "submit", "--unit", "wenchang", "--period", period,
               "--file", file_with(name, text));
  tally_test_sign_in(&srv, "admin", NULL);
  cr_assert_eq(rc, 0, "submit %s: %s", name, err);
  free(err);
}

/* The report's revision and its figure of element, from values --format
 * json (-1 when it is not there). */
static double figure(const char *period, const char *element,
                     long long *revision) {
  char *out = NULL;
  cr_assert_eq(RUN(&out, NULL, "values", "--unit", "wenchang", "--period",
                   period, "--format", "json"), 0);
  json_error_t e;
  json_t *doc = json_loads(out, 0, &e), *v;
  cr_assert_not_null(doc, "%s: %s", e.text, out);
  double got = -1;
  size_t i;
  json_array_foreach(json_object_get(doc, "values"), i, v) {
    if (strcmp(json_string_value(json_object_get(v, "element")), element) == 0)
      got = json_number_value(json_object_get(v, "value"));
  }
  if (revision)
    *revision = json_integer_value(json_object_get(doc, "revision"));
  json_decref(doc);
  free(out);
  return got;
}

/* The whole path: a backup of the live store, more submissions, the
 * server lost and restored from the older backup, the offices' resend:
 * every acknowledged submission is back, each stored once. */
Test(backup, a_restore_and_a_resend_bring_every_submission_back_once) {
  char dest[300], restored[300], *out = NULL, *err = NULL;
  submit("2021", "a.csv", "live_births,812\ninfant_deaths,2\n");

  /* The backup, by a second process while tallyd serves. */
  snprintf(dest, sizeof dest, "%s/before.mdb", files);
  int rc = TALLYD(&out, &err, "backup", "--config", "/dev/null", "--data",
                  srv.dir, dest);
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert(strstr(out, "written to"), "%s", out);
  free(out);
  free(err);
  /* A second one of the same name is refused; the first is untouched. */
  cr_assert_eq(TALLYD(NULL, &err, "backup", "--config", "/dev/null", "--data",
                      srv.dir, dest), 1);
  cr_assert(strstr(err, "is there already"), "%s", err);
  free(err);

  /* Acknowledged after the backup: a new report and a correction. */
  submit("2022", "b.csv", "live_births,900\ninfant_deaths,3\n");
  submit("2021", "c.csv", "live_births,820\n");
  long long rev2021, rev2022;
  cr_assert_eq(figure("2021", "live_births", &rev2021), 820);
  cr_assert_eq(figure("2022", "live_births", &rev2022), 900);
  cr_assert_eq(rev2021, 2);
  cr_assert_eq(rev2022, 1);

  /* The server's disk is lost: restore the backup into a new directory. */
  char admin[400], keep[300];
  snprintf(keep, sizeof keep, "%s/test-admin.token", srv.dir);
  char *token = tally_test_read_file(keep);
  cr_assert_eq(tally_test_server_stop(&srv), 0);
  snprintf(restored, sizeof restored, "%s/new/parents/store", files);
  rc = TALLYD(&out, &err, "restore", dest, "--config", "/dev/null", "--data",
              restored);
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert(strstr(out, "sums records verified") &&
                strstr(out, "The backup file is from ") &&
                strstr(out, "its newest figure was written ") &&
                strstr(out, "tally sync --resend-since "),
            "%s", out);
  free(out);
  free(err);
  /* The backup itself is not the store: it is as it was. */
  struct stat st_backup, st_store;
  char data[400];
  snprintf(data, sizeof data, "%s/data.mdb", restored);
  cr_assert_eq(stat(dest, &st_backup), 0);
  cr_assert_eq(stat(data, &st_store), 0);
  cr_assert_neq(st_backup.st_ino, st_store.st_ino);

  snprintf(admin, sizeof admin, "%s/test-admin.token", restored);
  tally_test_write_file(admin, token);
  free(token);
  tally_test_account kept[24];
  int n_kept = srv.n_accounts;
  memcpy(kept, srv.accounts, sizeof kept);
  tally_test_server_start_in(&srv, restored, NULL);
  srv.own_dir = 1;
  memcpy(srv.accounts, kept, sizeof kept);
  srv.n_accounts = n_kept;
  setenv("TALLY_SERVER", srv.address, 1);

  /* As the backup was: 2022 is not there, 2021 has the first figures. */
  cr_assert_eq(figure("2022", "live_births", NULL), -1);
  cr_assert_eq(figure("2021", "live_births", NULL), 812);

  /* A date after them resends nothing. */
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(&out, &err, "sync", "--resend-since", "2999-01-01"), 0,
               "%s", err);
  cr_assert(strstr(out, "nothing acknowledged since 2999-01-01"), "%s", out);
  free(out);
  free(err);
  /* The office sends again what was acknowledged today. */
  char today[16];
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(today, sizeof today, "%Y-%m-%d", &tm);
  rc = RUN(&out, &err, "sync", "--resend-since", today);
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert(strstr(out, "resent 3 submissions acknowledged since ") &&
                strstr(out, ": 2 stored again, 1 the server had already, 0 "
                            "refused"),
            "%s", out);
  free(out);
  free(err);
  tally_test_sign_in(&srv, "admin", NULL);
  /* Every figure back, each submission stored once: the same revisions
   * as before the loss. */
  cr_assert_eq(figure("2021", "live_births", &rev2021), 820);
  cr_assert_eq(figure("2021", "infant_deaths", NULL), 2);
  cr_assert_eq(figure("2022", "live_births", &rev2022), 900);
  cr_assert_eq(rev2021, 2);
  cr_assert_eq(rev2022, 1);
  /* Sent once more, nothing changes. */
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(&out, NULL, "sync", "--resend-since", today), 0);
  cr_assert(strstr(out, ": 0 stored again, 3 the server had already"), "%s",
            out);
  free(out);
  tally_test_sign_in(&srv, "admin", NULL);
  cr_assert_eq(figure("2021", "live_births", &rev2021), 820);
  cr_assert_eq(rev2021, 2);
  cr_assert_eq(RUN(&out, NULL, "admin", "verify"), 0);
  cr_assert(strstr(out, "all match"), "%s", out);
  free(out);
}

/* With --keep-acknowledged 0 nothing is kept to send again. */
Test(backup, keep_acknowledged_zero_keeps_nothing) {
  char *out = NULL;
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(NULL, NULL, "--keep-acknowledged", "0", "submit", "--unit",
                   "wenchang", "--period", "2021", "--file",
                   file_with("a.csv", "live_births,812\n")),
               0);
  cr_assert_eq(RUN(&out, NULL, "sync", "--resend-since", "2000-01-01"), 0);
  cr_assert(strstr(out, "nothing acknowledged since"), "%s", out);
  free(out);
  cr_assert_eq(RUN(NULL, NULL, "--keep-acknowledged", "3 weeks", "sync"), 2);
}

/* A restore refuses a directory that holds a store, and a file that is
 * not one; either way it leaves nothing behind. */
Test(backup, a_restore_never_replaces_a_store_and_cleans_up_after_itself) {
  char *out = NULL, *err = NULL, bad[300], into[300];
  int rc = TALLYD(&out, &err, "restore", "/nonexistent.mdb", "--config",
                  "/dev/null", "--data", srv.dir);
  cr_assert_eq(rc, 1);
  free(out);
  free(err);
  snprintf(bad, sizeof bad, "%s/x.mdb", files);
  tally_test_write_file(bad, "not a store at all, only some text\n");
  rc = TALLYD(&out, &err, "restore", bad, "--config", "/dev/null", "--data",
              srv.dir);
  cr_assert_eq(rc, 1);
  cr_assert(strstr(err, "there is a store in ") &&
                strstr(err, "a restore never replaces one"),
            "%s", err);
  free(out);
  free(err);
  snprintf(into, sizeof into, "%s/fresh/store", files);
  rc = TALLYD(&out, &err, "restore", bad, "--config", "/dev/null", "--data",
              into);
  cr_assert_eq(rc, 1, "%s", out);
  free(out);
  free(err);
  struct stat st;
  cr_assert_neq(stat(into, &st), 0, "the restore left %s behind", into);
}

/* A backup whose sums do not match its figures does not restore, and
 * leaves nothing behind. */
Test(backup, a_backup_that_does_not_verify_is_not_restored) {
  char *out = NULL, *err = NULL, dest[300], into[300];
  submit("2021", "a.csv", "live_births,812\ninfant_deaths,2\n");
  char store[256];
  snprintf(store, sizeof store, "%s", srv.dir);
  srv.own_dir = 0; /* kept when it stops */
  cr_assert_eq(tally_test_server_stop(&srv), 0);
  /* An extra kept sum, as a bug in the rollup would leave. */
  unsigned char key[64] = {0x07, 0xe5, 0x00, 0x00};
  memcpy(key + 4, "changqing\0ZZZ", 13);
  tally_test_lmdb_put(store, "sums", key, 17, "12345678", 8);
  snprintf(dest, sizeof dest, "%s/b.mdb", files);
  cr_assert_eq(TALLYD(NULL, &err, "backup", "--config", "/dev/null", "--data",
                      store, dest), 0, "%s", err);
  free(err);
  snprintf(into, sizeof into, "%s/r", files);
  int rc = TALLYD(&out, &err, "restore", dest, "--config", "/dev/null",
                  "--data", into);
  cr_assert_eq(rc, 1, "%s", out);
  cr_assert(strstr(err, "the restored store does not verify: 1 of "), "%s",
            err);
  free(out);
  free(err);
  struct stat st;
  cr_assert_neq(stat(into, &st), 0, "the restore left %s behind", into);
  tally_test_server_start_in(&srv, store, NULL); /* for the teardown */
  srv.own_dir = 1;
}

/* Names of the rotation's files in dir, sorted, joined by spaces. */
static void listing(const char *dir, char *buf, size_t n) {
  struct dirent **names;
  int k = scandir(dir, &names, NULL, alphasort);
  buf[0] = 0;
  for (int i = 0; i < k; i++) {
    if (names[i]->d_name[0] != '.') {
      strncat(buf, names[i]->d_name, n - strlen(buf) - 1);
      strncat(buf, " ", n - strlen(buf) - 1);
    }
    free(names[i]);
  }
  free(names);
}

/* A year and a month of daily runs keep the newest 14 days and the
 * newest 12 months, each a whole copy. */
Test(backup, the_rotation_keeps_14_days_and_12_months) {
  char root[300], dir[400], made[4400], err[1024], list[8192];
  uint64_t bytes;
  int removed, total = 0;
  setenv("TZ", "Asia/Shanghai", 1);
  tzset();
  snprintf(root, sizeof root, "%s/rot", files);
  /* 2025-01-01 12:00 +0800, then a day at a time for 400 days. */
  int64_t start = 1735704000;
  for (int d = 0; d < 400; d++) {
    int rc = tally_backup_rotate(srv.dir, root, start + (int64_t)d * 86400,
                                 14, 12, made, sizeof made, &bytes, &removed,
                                 err, sizeof err);
    cr_assert_eq(rc, 0, "day %d: %s", d, err);
    cr_assert_gt(bytes, 0);
    total += removed;
  }
  /* Day 399 is 2026-02-04. */
  snprintf(dir, sizeof dir, "%s/daily", root);
  listing(dir, list, sizeof list);
  cr_assert_str_eq(list, "2026-01-22.mdb 2026-01-23.mdb 2026-01-24.mdb "
                         "2026-01-25.mdb 2026-01-26.mdb 2026-01-27.mdb "
                         "2026-01-28.mdb 2026-01-29.mdb 2026-01-30.mdb "
                         "2026-01-31.mdb 2026-02-01.mdb 2026-02-02.mdb "
                         "2026-02-03.mdb 2026-02-04.mdb ");
  snprintf(dir, sizeof dir, "%s/monthly", root);
  listing(dir, list, sizeof list);
  cr_assert_str_eq(list, "2025-03.mdb 2025-04.mdb 2025-05.mdb 2025-06.mdb "
                         "2025-07.mdb 2025-08.mdb 2025-09.mdb 2025-10.mdb "
                         "2025-11.mdb 2025-12.mdb 2026-01.mdb 2026-02.mdb ");
  cr_assert_eq(total, (400 - 14) + (14 - 12));
  /* A kept copy restores. */
  char into[300], *out = NULL, *e2 = NULL, copy[500];
  snprintf(copy, sizeof copy, "%s/monthly/2025-03.mdb", root);
  snprintf(into, sizeof into, "%s/r", files);
  cr_assert_eq(TALLYD(&out, &e2, "restore", copy, "--config", "/dev/null",
                      "--data", into), 0, "%s", e2);
  free(out);
  free(e2);
  unsetenv("TZ");
  tzset();
}

/* Submissions go on while backups are made: each backup is one
 * consistent snapshot, so each restores and its sums verify. */
static volatile int writing;
static int acknowledged; /* by the submitting thread */

static void *keep_submitting(void *arg) {
  tally_test_server *s = arg;
  tally_client *c = tally_test_connect(s, tally_test_token(s, "reporter",
                                                          "wenchang"));
  for (int i = 0; writing; i++) {
    Tally__Value v = TALLY__VALUE__INIT, w = TALLY__VALUE__INIT;
    Tally__Value *vals[2] = {&v, &w};
    Tally__SubmitRequest q = TALLY__SUBMIT_REQUEST__INIT;
    Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
    char err[256];
    v.element = "live_births";
    v.value = 800 + i % 50;
    w.element = "infant_deaths";
    w.value = i % 3;
    q.unit = "wenchang";
    q.period = i % 2 ? "2021" : "2022";
    q.values = vals;
    q.n_values = 2;
    req.body_case = TALLY__ENVELOPE__BODY_SUBMIT;
    req.submit = &q;
    if (tally_client_call(c, &req, &reply, err, sizeof err) != 0)
      break;
    acknowledged += reply->body_case == TALLY__ENVELOPE__BODY_SUBMIT_REPLY;
    tally_wire_free(reply);
  }
  tally_client_close(c);
  return NULL;
}

Test(backup, backups_made_while_submissions_go_on_each_verify) {
  tally_test_token(&srv, "reporter", "wenchang"); /* made before the thread */
  pthread_t t;
  writing = 1;
  cr_assert_eq(pthread_create(&t, NULL, keep_submitting, &srv), 0);
  for (int k = 0; k < 4; k++) {
    char dest[300], into[300], *out = NULL, *err = NULL;
    usleep(100000);
    snprintf(dest, sizeof dest, "%s/b%d.mdb", files, k);
    snprintf(into, sizeof into, "%s/r%d", files, k);
    cr_assert_eq(TALLYD(NULL, &err, "backup", "--config", "/dev/null",
                        "--data", srv.dir, dest), 0, "%s", err);
    free(err);
    int rc = TALLYD(&out, &err, "restore", dest, "--config", "/dev/null",
                    "--data", into);
    cr_assert_eq(rc, 0, "backup %d: %s", k, err);
    cr_assert(strstr(out, "sums records verified"), "%s", out);
    free(out);
    free(err);
  }
  writing = 0;
  pthread_join(t, NULL);
  cr_assert_gt(acknowledged, 20, "only %d submissions went on meanwhile",
               acknowledged);
}
