/* test_crash.c: SIGKILL the server at random moments while several
 * connections submit; after every restart every acknowledged submission
 * is there in full and no other one is there in part, and the sums that
 * reports read agree with the figures (tally admin verify).
 *
 * Submission number seq goes to its own (unit, month), with the values
 * seq * 8 + offset[k] for the eight data elements (so that they keep the
 * catalog's rules: no numerator above its denominator), and the id
 * "crash-<seq>".
 * Each writer logs "A seq" before it sends and "K seq" once the server
 * has acknowledged. TALLY_CRASH_ROUNDS sets the number of kills.
 *
 * Each submission is signed in as its unit's reporter by its own auth
 * field, so one connection switches between the ten units' accounts as
 * the load generator does. The accounts are made once, in the first
 * round; the store keeps them across the kills. */
#include "client.h"
#include "fixture.h"
#include "store.h"
#include "wire.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#define WRITERS 4
#define PER_ROUND 250            /* submissions a writer may make a round */
#define MAX_SEQ 15120            /* 10 units x 1,512 months (1900-2025) */

static const char *const units[10] = {"wenchang", "pingan", "guyunhu",
                                      "wufengshan", "guide", "wande",
                                      "zhangxia", "xiaoli", "mashan",
                                      "shuangquan"};
/* Figures no rule or outlier test of the catalog would refuse, however
 * the writers' gaps fall: each part at most its whole (the offsets), and
 * none tested against its own earlier years (killed writers leave gaps
 * in a unit's years that the history test would find unusual). */
static const char *const elements[8] = {
    "fitness_tested",    "fitness_qualified", "literacy_surveyed",
    "literacy_adequate", "deliveries",        "prenatal_screened",
    "exercise_surveyed", "exercise_regular"};

static const int offset[8] = {7, 5, 6, 4, 3, 0, 2, 1};

static char tokens[10][TALLY_TEST_TOKEN_MAX]; /* the units' reporters */

static void period_of(int seq, char *buf, size_t n) {
  int month = seq / 10;
  snprintf(buf, n, "%04d-%02d", 1900 + month / 12, 1 + month % 12);
}

/* A writer: submits seq = first, first + 1, ... until the server goes
 * away or count are done; logs to fd. Runs in a child process. */
static void writer(const char *address, int first, int count, int fd) {
  tally_client *c;
  char err[256];
  tally_client_options o = {.address = address, .timeout_ms = 5000};
  if (tally_client_open(&o, &c, err, sizeof err) != 0)
    _exit(0);
  for (int seq = first; seq < first + count; seq++) {
    Tally__Value v[8], *pv[8];
    Tally__SubmitRequest s = TALLY__SUBMIT_REQUEST__INIT;
    Tally__Auth auth = TALLY__AUTH__INIT;
    Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply;
    char period[16], id[32], line[32];
    for (int k = 0; k < 8; k++) {
      tally__value__init(&v[k]);
      v[k].element = (char *)elements[k];
      v[k].value = seq * 8 + offset[k];
      pv[k] = &v[k];
    }
    period_of(seq, period, sizeof period);
    snprintf(id, sizeof id, "crash-%d", seq);
    s.unit = (char *)units[seq % 10];
    s.period = period;
    s.values = pv;
    s.n_values = 8;
    s.submission_id = id;
    req.body_case = TALLY__ENVELOPE__BODY_SUBMIT;
    req.submit = &s;
    auth.token = tokens[seq % 10];
    req.auth = &auth;
    int n = snprintf(line, sizeof line, "A %d\n", seq);
    if (write(fd, line, (size_t)n) != n)
      _exit(1);
    if (tally_client_call(c, &req, &reply, err, sizeof err) != 0)
      _exit(0); /* the server is gone */
    if (reply->body_case != TALLY__ENVELOPE__BODY_SUBMIT_REPLY) {
      /* refused: the test's figures are valid, so a bug; its words go to
       * standard error, for the test's output */
      if (reply->body_case == TALLY__ENVELOPE__BODY_ERROR)
        fprintf(stderr, "writer: seq %d refused: %s\n", seq,
                reply->error->message);
      _exit(2);
    }
    tally_wire_free(reply);
    n = snprintf(line, sizeof line, "K %d\n", seq);
    if (write(fd, line, (size_t)n) != n)
      _exit(1);
  }
  tally_client_close(c);
  _exit(0);
}

static unsigned char attempted[MAX_SEQ], acked[MAX_SEQ];

/* Reads a writer's log into attempted[] and acked[]. */
static void read_log(const char *path) {
  FILE *f = fopen(path, "r");
  char kind;
  int seq;
  cr_assert_not_null(f);
  while (fscanf(f, " %c %d", &kind, &seq) == 2) {
    cr_assert(seq >= 0 && seq < MAX_SEQ);
    if (kind == 'A')
      attempted[seq] = 1;
    else if (kind == 'K')
      acked[seq] = 1;
  }
  fclose(f);
}

/* Checks the store through a running server. Returns how many
 * acknowledged submissions were checked. */
static int verify(tally_test_server *srv, int upto) {
  char err[256];
  int checked = 0;
  /* The admin reads every unit (and its token needs no write to make). */
  tally_client *c = tally_test_connect(srv, srv->admin);
  for (int seq = 0; seq < upto; seq++) {
    if (!attempted[seq])
      continue;
    Tally__ValuesRequest q = TALLY__VALUES_REQUEST__INIT;
    Tally__Envelope req = TALLY__ENVELOPE__INIT, *r;
    char period[16];
    period_of(seq, period, sizeof period);
    q.unit = (char *)units[seq % 10];
    q.period = period;
    req.body_case = TALLY__ENVELOPE__BODY_VALUES;
    req.values = &q;
    cr_assert_eq(tally_client_call(c, &req, &r, err, sizeof err), 0, "%s", err);
    cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_VALUES_REPLY, "%s",
                 r->body_case == TALLY__ENVELOPE__BODY_ERROR
                     ? r->error->message
                     : "unexpected reply");
    size_t n = r->values_reply->n_values;
    if (acked[seq])
      cr_assert_eq(n, 8, "acknowledged submission %d has %zu of 8 values",
                   seq, n);
    else
      cr_assert(n == 0 || n == 8,
                "unacknowledged submission %d is half there: %zu values", seq,
                n);
    for (size_t i = 0; i < n; i++) {
      const Tally__StoredValue *v = r->values_reply->values[i];
      int k = 0;
      while (k < 8 && strcmp(elements[k], v->element) != 0)
        k++;
      cr_assert(k < 8);
      cr_assert_eq(v->value, seq * 8 + offset[k], "submission %d: %s = %g", seq,
                   v->element, v->value);
    }
    checked += acked[seq];
    tally_wire_free(r);
  }
  tally_client_close(c);
  return checked;
}

Test(crash, sigkill_loses_no_acknowledged_submission, .timeout = 600) {
  tally_test_server srv;
  char files[256], dir[300];
  const char *env = getenv("TALLY_CRASH_ROUNDS");
  int rounds = env ? atoi(env) : 12, total_acked = 0;
  if (rounds < 1 || rounds * WRITERS * PER_ROUND > MAX_SEQ)
    rounds = 12;

  tally_test_tmpdir(files, sizeof files);
  snprintf(dir, sizeof dir, "%s/store", files);
  for (int round = 0; round < rounds; round++) {
    pid_t pids[WRITERS];
    char logs[WRITERS][320];
    tally_test_server_start_in(&srv, dir, NULL);
    if (round == 0)
      for (int u = 0; u < 10; u++)
        snprintf(tokens[u], sizeof tokens[u], "%s",
                 tally_test_token(&srv, "reporter", units[u]));
    for (int w = 0; w < WRITERS; w++) {
      snprintf(logs[w], sizeof logs[w], "%s/w%d-%d.log", files, round, w);
      int fd = open(logs[w], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
      cr_assert(fd >= 0);
      pids[w] = fork();
      if (pids[w] == 0)
        writer(srv.address, (round * WRITERS + w) * PER_ROUND, PER_ROUND, fd);
      close(fd);
    }
    unsigned r;
    cr_assert_eq(getrandom(&r, sizeof r, 0), (ssize_t)sizeof r);
    usleep(50000 + r % 250000); /* kill at a random moment: 50-300 ms */
    kill(srv.pid, SIGKILL);
    waitpid(srv.pid, NULL, 0);
    srv.pid = 0;
    for (int w = 0; w < WRITERS; w++) {
      int status;
      waitpid(pids[w], &status, 0);
      cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "writer %d failed (%d)", w, WEXITSTATUS(status));
      read_log(logs[w]);
    }
    /* Restart: the store opens as it is, no repair step. */
    tally_test_server_start_in(&srv, dir, NULL);
    total_acked = verify(&srv, (round + 1) * WRITERS * PER_ROUND);
    /* The sums reports read were committed with the figures. */
    char *out = NULL, *err = NULL;
    int rc = tally_test_run((const char *const[]){"--server", srv.address,
                                                  "admin", "verify", NULL},
                            NULL, &out, &err);
    cr_assert_eq(rc, 0, "round %d: %s%s", round, out, err);
    cr_assert(strstr(out, "all match"), "round %d: %s", round, out);
    free(out);
    free(err);
    tally_test_server_stop(&srv);
  }
  cr_log_info("%d rounds, %d acknowledged submissions, all present", rounds,
              total_acked);
  cr_assert_gt(total_acked, 0);
  tally_test_rmtree(files);
}

/* SIGKILL keeps the page cache, so the test above would pass on a store
 * that never syncs (MDB_NOSYNC): the store must say it syncs on every
 * commit. (test_writer's slow-disk test also fails if a commit does not
 * reach fdatasync.) */
Test(crash, the_store_syncs_every_commit) {
  char dir[256];
  tally_store *store;
  tally_test_tmpdir(dir, sizeof dir);
  cr_assert_eq(tally_store_open(dir, 0, 0, &store), 0);
  cr_assert(tally_store_durable(store),
            "the store is open without durable syncs");
  tally_store_close(store);
  tally_test_rmtree(dir);
}

/* One failed meta-page write (tests/lib/failmeta.c) puts LMDB in its
 * panic state: every read and write would fail from then on, with the
 * server up. The write that failed gets an error, not an
 * acknowledgement; tallyd logs that the store failed and exits
 * non-zero, so that a supervisor restarts it; restarted, it has what
 * was acknowledged and takes writes again. */
Test(crash, a_failed_commit_stops_the_server) {
  char files[256], data[300], trigger[300], csv[300], spool[300];
  tally_test_tmpdir(files, sizeof files);
  snprintf(data, sizeof data, "%s/store", files);
  snprintf(trigger, sizeof trigger, "%s/fail-now", files);
  snprintf(csv, sizeof csv, "%s/figures.csv", files);
  snprintf(spool, sizeof spool, "%s/spool", files);
  setenv("TALLY_SPOOL", spool, 1);
  const char *asan = getenv("ASAN_OPTIONS");
  char opts[512]; /* ASan's runtime, a shared library, before the shim */
  snprintf(opts, sizeof opts, "%s%sverify_asan_link_order=0",
           asan ? asan : "", asan && *asan ? ":" : "");
  setenv("ASAN_OPTIONS", opts, 1);
  setenv("TALLY_TEST_FAIL_META", trigger, 1);
  setenv("LD_PRELOAD", FAILMETA_PATH, 1);
  tally_test_server srv;
  tally_test_server_start_in(&srv, data, NULL);
  tally_test_token(&srv, "reporter", "wenchang");
  unsetenv("LD_PRELOAD");
  tally_test_sign_in(&srv, "reporter", "wenchang");

  char *out = NULL, *err = NULL;
  tally_test_write_file(csv, "live_births,812\n");
  int rc = RUN(&out, &err, "--server", srv.address, "submit", "--unit",
               "wenchang", "--period", "2022", "--file", csv);
  cr_assert_eq(rc, 0, "%s%s", out, err);
  free(out);
  free(err);

  tally_test_write_file(trigger, "");
  tally_test_write_file(csv, "live_births,999\n");
  rc = RUN(&out, &err, "--server", srv.address, "submit", "--unit",
           "wenchang", "--period", "2021", "--file", csv);
  cr_assert_neq(rc, 0, "acknowledged: %s", out);
  cr_assert(strstr(err, "could not write"), "%s", err);
  free(out);
  free(err);

  int status = 0;
  pid_t got = 0;
  for (int i = 0; i < 1000 && got == 0; i++) { /* 10 s at most */
    got = waitpid(srv.pid, &status, WNOHANG);
    if (got == 0)
      usleep(10000);
  }
  if (got == 0)
    kill(srv.pid, SIGKILL);
  char *log = tally_test_read_file(srv.log);
  cr_assert_eq(got, srv.pid, "tallyd is still up after the failure: %s", log);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3,
            "status %#x (3 says the store failed): %s", status, log);
  cr_assert(strstr(log, "is in a failed state") &&
                strstr(log, "the server must be restarted"), "%s", log);
  free(log);
  srv.pid = 0;

  unlink(trigger);
  tally_test_server_start_in(&srv, data, NULL);
  tally_test_sign_in(&srv, "reporter", "wenchang");
  rc = RUN(&out, &err, "--server", srv.address, "values", "--unit",
           "wenchang", "--period", "2022");
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert(strstr(out, "812"), "%s", out);
  free(out);
  free(err);
  rc = RUN(&out, &err, "--server", srv.address, "values", "--unit",
           "wenchang", "--period", "2021");
  cr_assert(out == NULL || strstr(out, "999") == NULL, "%s", out);
  free(out);
  free(err);
  tally_test_write_file(csv, "live_births,1000\n");
  rc = RUN(&out, &err, "--server", srv.address, "submit", "--unit",
           "wenchang", "--period", "2020", "--file", csv);
  cr_assert_eq(rc, 0, "%s%s", out, err);
  free(out);
  free(err);
  cr_assert_eq(tally_test_server_stop(&srv), 0);
  tally_test_rmtree(files);
}
