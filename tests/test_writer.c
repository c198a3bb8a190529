/* test_writer.c: the writer thread and group commit: queued submissions
 * are written together, each in a nested transaction of its own, and
 * answered on the loop after the commit. */
#include "error.h"
#include "fixture.h"
#include "period.h"
#include "store.h"
#include "store_audit.h"
#include "store_figures.h"
#include "writer.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

static char dir[256];
static tally_store *store;
static tally_writer *writer;
static uv_loop_t loop;
static int closed;

static void setup(void) {
  tally_test_tmpdir(dir, sizeof dir);
  cr_assert_eq(tally_store_open(dir, 0, 0, &store), 0);
  cr_assert_eq(uv_loop_init(&loop), 0);
  cr_assert_eq(tally_writer_start(&loop, store, &writer), 0);
}

static void on_closed(void *arg) { *(int *)arg = 1; }

static void teardown(void) {
  closed = 0;
  tally_writer_close(writer, on_closed, &closed);
  while (!closed)
    uv_run(&loop, UV_RUN_ONCE);
  cr_assert_eq(uv_loop_close(&loop), 0, "the writer left a handle open");
  tally_store_close(store);
  tally_test_rmtree(dir);
}

/* A submission as the server hands it to the writer. */
typedef struct {
  tally_write w;            /* first */
  tally_store_submission sub;
  tally_store_result res;
  int code;
  int done;                 /* how many times done() was called */
} tally_write_job;

static int apply(tally_write *w, tally_store_txn *t) {
  tally_write_job *j = (tally_write_job *)w;
  return tally_store_txn_submit(t, &j->sub, &j->res);
}

static void done(tally_write *w, int code) {
  tally_write_job *j = (tally_write_job *)w;
  j->code = code;
  j->done++;
}

static void queue(tally_write_job *j) {
  tally_writer_queue(writer, &j->w);
}

/* Runs the loop until j is answered. */
static void wait_for(tally_write_job *j) {
  while (!j->done)
    uv_run(&loop, UV_RUN_ONCE);
}

TestSuite(writer, .init = setup, .fini = teardown);

static uint32_t key(const char *period) {
  tally_period p;
  cr_assert_eq(tally_period_parse(period, &p), 0);
  return tally_period_key(&p);
}

static tally_store_item births[] = {{"live_births", 100}};

static void job(tally_write_job *j, const char *id, const char *unit,
                const tally_store_item *items, size_t n) {
  memset(j, 0, sizeof *j);
  j->w.apply = apply;
  j->w.done = done;
  j->sub.id = id;
  j->sub.unit = unit;
  j->sub.period_key = key("2022");
  j->sub.items = items;
  j->sub.n = n;
  j->sub.now = 1700000000;
  j->sub.digest = (uint64_t)n * 31 + (uint64_t)items[0].value;
}

static int count(void *arg, const char *u, const char *e, double v,
                 int64_t t) {
  (*(int *)arg)++;
  return 0;
}

static int stored(const char *unit) {
  int n = 0;
  cr_assert_eq(tally_store_scan(store, key("2022"), unit, count, &n), 0);
  return n;
}

/* Three jobs queued in one turn of the loop are written in one batch,
 * so all three are done when the first is. */
Test(writer, queued_jobs_go_in_one_batch) {
  tally_write_job a, b, c;
  job(&a, "a", "wenchang", births, 1);
  job(&b, "b", "guide", births, 1);
  job(&c, "c", "wande", births, 1);
  queue(&a);
  queue(&b);
  queue(&c);
  unsigned long before = tally_writer_batches(writer);
  wait_for(&a);
  cr_assert(a.done && b.done && c.done);
  cr_assert_eq(tally_writer_batches(writer), before + 1, "one transaction");
  cr_assert_eq(a.code, 0);
  cr_assert_eq(b.code, 0);
  cr_assert_eq(c.code, 0);
  cr_assert_eq(stored("guide"), 1);
  wait_for(&c); /* already done: returns at once */
  cr_assert_eq(a.done + b.done + c.done, 3, "each answered once");
}

/* One refused submission in a batch leaves the others written. */
Test(writer, a_refused_submission_leaves_its_batch_be) {
  tally_write_job a, b, c, first;
  static tally_store_item other[] = {{"live_births", 7}};
  job(&first, "taken", "pingan", births, 1);
  queue(&first);
  wait_for(&first);
  cr_assert_eq(first.code, 0);

  job(&a, "a", "wenchang", births, 1);
  job(&b, "taken", "pingan", other, 1); /* the id, with other figures */
  job(&c, "c", "wande", births, 1);
  queue(&a);
  queue(&b);
  queue(&c);
  wait_for(&b);
  cr_assert_eq(a.code, 0);
  cr_assert_eq(b.code, TALLY_EIDREUSE);
  cr_assert_eq(c.code, 0);
  cr_assert_eq(stored("wenchang"), 1);
  cr_assert_eq(stored("wande"), 1);
}

/* A locked period refuses its submissions in a batch and leaves the
 * others (another period) be; one acknowledged before the lock is still
 * answered from its record when sent again; after the unlock the refused
 * one, sent again with its id, goes in (the refusal kept no record). */
Test(writer, a_locked_period_refuses_its_submissions) {
  tally_store_actor who = {1, "central office", "test", 1700000000};
  static const uint8_t lock[] = {0x0a, 0x04, '2', '0', '2', '2'};
  tally_write_job before, a, b, again;
  job(&before, "before", "guide", births, 1);
  queue(&before);
  wait_for(&before);
  cr_assert_eq(before.code, 0);
  cr_assert_eq(tally_store_lock_put(store, key("2022"), lock, sizeof lock,
                                    "2022", "open", "locked", &who),
               0);

  job(&a, "a", "wenchang", births, 1);
  job(&b, "b", "wande", births, 1);
  b.sub.period_key = key("2021");
  job(&again, "before", "guide", births, 1);
  queue(&a);
  queue(&b);
  queue(&again);
  wait_for(&a);
  cr_assert_eq(a.code, TALLY_ELOCKED);
  cr_assert_eq(b.code, 0, "2021 is not locked");
  cr_assert_eq(again.code, 0, "answered from its record");
  cr_assert(again.res.duplicate);
  cr_assert_eq(stored("wenchang"), 0);

  cr_assert_eq(tally_store_lock_put(store, key("2022"), NULL, 0, "2022",
                                    "locked", "open", &who),
               0);
  cr_assert_eq(tally_store_lock_put(store, key("2022"), NULL, 0, "2022",
                                    "locked", "open", &who),
               TALLY_ENOTFOUND, "it was not locked any more");
  job(&a, "a", "wenchang", births, 1);
  queue(&a);
  wait_for(&a);
  cr_assert_eq(a.code, 0);
  cr_assert_not(a.res.duplicate, "stored now, not answered from a record");
  cr_assert_eq(stored("wenchang"), 1);
}

/* Two submissions with the same id in one batch: the second is a
 * duplicate of the first, answered from its record. */
Test(writer, the_same_id_twice_in_one_batch) {
  tally_write_job a, b;
  job(&a, "twice", "xiaoli", births, 1);
  job(&b, "twice", "xiaoli", births, 1);
  queue(&a);
  queue(&b);
  wait_for(&a);
  cr_assert_eq(a.code, 0);
  cr_assert_not(a.res.duplicate);
  cr_assert_eq(b.code, 0);
  cr_assert(b.res.duplicate);
  cr_assert_eq(b.res.revision, 1);
}

struct pair {
  double num, den;
};

/* Store visitor: takes the two figures of the pair. */
static int take_pair(void *arg, const char *unit, const char *element,
                     double value, int64_t updated) {
  struct pair *p = arg;
  if (strcmp(element, "hypertension_standard") == 0)
    p->num = value;
  if (strcmp(element, "hypertension_managed") == 0)
    p->den = value;
  return 0;
}

/* A check like the catalog's rules: hypertension_standard may not pass
 * hypertension_managed, on the figures as they stand in t. */
static int standard_within_managed(void *arg, tally_store_txn *t,
                                   Tally__Explanation ***kept, size_t *n) {
  struct pair p = {-1, -1};
  int rc = tally_store_txn_scan(t, key("2022"), "zhangxia", take_pair, &p);
  if (rc != 0)
    return rc;
  return p.num >= 0 && p.den >= 0 && p.num > p.den ? TALLY_ERULES : 0;
}

/* A submission's check sees the figures as the batch leaves them: the
 * numerator in one submission, a smaller denominator in the next. */
Test(writer, a_check_sees_the_figures_as_the_batch_leaves_them) {
  static tally_store_item num[] = {{"hypertension_standard", 50}};
  static tally_store_item den[] = {{"hypertension_managed", 40}};
  tally_write_job a, b;
  job(&a, "n", "zhangxia", num, 1);
  job(&b, "d", "zhangxia", den, 1);
  a.sub.check = b.sub.check = standard_within_managed;
  queue(&a);
  queue(&b);
  wait_for(&b);
  cr_assert_eq(a.code, 0); /* alone, nothing to compare with */
  cr_assert_eq(b.code, TALLY_ERULES);
  cr_assert_eq(stored("zhangxia"), 1);
}

/* Many writes queued at once: every one is written and answered exactly
 * once, in as few transactions as the batch size allows. */
Test(writer, many_queued_at_once) {
  enum { N = 600 };
  static tally_write_job ws[N];
  static char ids[N][16];
  static const char *const units[] = {"wenchang", "pingan", "guyunhu",
                                      "wufengshan", "guide", "wande",
                                      "zhangxia", "xiaoli"};
  unsigned long before = tally_writer_batches(writer);
  for (int i = 0; i < N; i++) {
    snprintf(ids[i], sizeof ids[i], "w%d", i);
    job(&ws[i], ids[i], units[i % 8], births, 1);
    tally_period p = {2000 + i / 8, TALLY_PERIOD_YEAR, 0};
    ws[i].sub.period_key = tally_period_key(&p);
    queue(&ws[i]);
  }
  cr_assert_eq(tally_writer_pending(writer), N);
  for (int i = 0; i < N; i++)
    wait_for(&ws[i]);
  for (int i = 0; i < N; i++) {
    cr_assert_eq(ws[i].done, 1);
    cr_assert_eq(ws[i].code, 0, "job %d: %d", i, ws[i].code);
    cr_assert_eq(ws[i].res.revision, 1);
  }
  cr_assert_eq(tally_writer_pending(writer), 0);
  cr_assert_eq(tally_writer_batches(writer) - before,
               (N + TALLY_WRITER_MAX_BATCH - 1) / TALLY_WRITER_MAX_BATCH);
}

/* A write queued while the writer closes is still written and answered,
 * before the writer's close callback. */
Test(writer, close_finishes_what_is_queued) {
  tally_write_job a;
  job(&a, "last", "guide", births, 1);
  queue(&a);
  closed = 0;
  tally_writer_close(writer, on_closed, &closed);
  while (!closed)
    uv_run(&loop, UV_RUN_ONCE);
  cr_assert_eq(a.done, 1);
  cr_assert_eq(a.code, 0);
  cr_assert_eq(stored("guide"), 1);
  /* teardown closes it again: start a new one for it */
  cr_assert_eq(tally_writer_start(&loop, store, &writer), 0);
}

/* ---- through tallyd, on a slow disk ---- */

#include "frame.h"
#include "wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static tally_test_server slow;

/* tallyd with every sync taking 200 ms (tests/lib/slowsync.c). */
static void slow_setup(void) {
  const char *asan = getenv("ASAN_OPTIONS");
  char opts[512];
  /* With ASan's runtime a shared library, a preload must be allowed
   * before it. */
  snprintf(opts, sizeof opts, "%s%sverify_asan_link_order=0",
           asan ? asan : "", asan && *asan ? ":" : "");
  setenv("ASAN_OPTIONS", opts, 1);
  setenv("TALLY_TEST_SYNC_DELAY_MS", "200", 1);
  setenv("LD_PRELOAD", SLOWSYNC_PATH, 1);
  tally_test_server_start(&slow, NULL);
  tally_test_token(&slow, "reporter", "wenchang");
  tally_test_token(&slow, "analyst", NULL);
  unsetenv("LD_PRELOAD");
}

static void slow_teardown(void) {
  cr_assert_eq(tally_test_server_stop(&slow), 0);
}

/* A plain connection to the slow server. */
static int dial(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  cr_assert_geq(fd, 0);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)atoi(strrchr(slow.address, ':') + 1));
  cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}

/* Sends env signed in with token. */
static void send_env(int fd, Tally__Envelope *env, const char *token) {
  Tally__Auth auth = TALLY__AUTH__INIT;
  uint8_t *frame;
  size_t len;
  auth.token = (char *)token;
  env->auth = &auth;
  cr_assert_eq(tally_wire_pack(env, UINT32_MAX, &frame, &len), 0);
  cr_assert_eq(write(fd, frame, len), (ssize_t)len);
  free(frame);
  env->auth = NULL;
}

/* Reads one reply (blocking). */
static Tally__Envelope *recv_env(int fd) {
  uint8_t head[TALLY_FRAME_HEADER];
  size_t got = 0;
  while (got < sizeof head) {
    ssize_t n = read(fd, head + got, sizeof head - got);
    cr_assert_gt(n, 0, "the server closed the connection");
    got += (size_t)n;
  }
  size_t len = tally_frame_get_len(head);
  uint8_t *body = malloc(len + 1);
  for (got = 0; got < len;) {
    ssize_t n = read(fd, body + got, len - got);
    cr_assert_gt(n, 0, "the server closed the connection");
    got += (size_t)n;
  }
  Tally__Envelope *env;
  cr_assert_eq(tally_wire_unpack(body, len, &env), 0);
  free(body);
  return env;
}

/* Whether a reply is waiting on fd, now. */
static int answered(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

TestSuite(writer_disk, .init = slow_setup, .fini = slow_teardown,
          .timeout = 120);

/* While a submission's commit is on a slow disk and a target waits for
 * the next one, other connections' reads are answered: the loop never
 * waits on the disk, nor on LMDB's writer lock. (Before the writer
 * thread, a target was written on the loop, which then waited for the
 * submission's commit and its own.) No clock: the writes are still not
 * answered when the reads are. */
Test(writer_disk, reads_are_answered_while_writes_wait_for_the_disk) {
  const char *reporter = tally_test_token(&slow, "reporter", "wenchang");
  const char *analyst = tally_test_token(&slow, "analyst", NULL);
  int a = dial(), b = dial(), c = dial();

  Tally__Value v = TALLY__VALUE__INIT, *vals[] = {&v};
  Tally__SubmitRequest sub = TALLY__SUBMIT_REQUEST__INIT;
  Tally__Envelope submit = TALLY__ENVELOPE__INIT;
  v.element = "live_births";
  v.value = 1200;
  sub.unit = "wenchang";
  sub.period = "2022";
  sub.submission_id = "slow-disk-1";
  sub.values = vals;
  sub.n_values = 1;
  submit.id = 1;
  submit.body_case = TALLY__ENVELOPE__BODY_SUBMIT;
  submit.submit = &sub;

  Tally__Target t = TALLY__TARGET__INIT;
  Tally__TargetSetRequest ts = TALLY__TARGET_SET_REQUEST__INIT;
  Tally__Envelope target = TALLY__ENVELOPE__INIT;
  t.indicator = "P14";
  t.year = 2025;
  t.op = ">=";
  t.value = 13.5;
  ts.target = &t;
  target.id = 2;
  target.body_case = TALLY__ENVELOPE__BODY_TARGET_SET;
  target.target_set = &ts;

  Tally__ValuesRequest vq = TALLY__VALUES_REQUEST__INIT;
  Tally__Envelope read = TALLY__ENVELOPE__INIT;
  vq.unit = "wenchang";
  vq.period = "2021";
  read.body_case = TALLY__ENVELOPE__BODY_VALUES;
  read.values = &vq;

  send_env(a, &submit, reporter);
  send_env(b, &target, analyst);
  for (int i = 0; i < 20; i++) {
    read.id = 100 + (uint64_t)i;
    send_env(c, &read, i == 0 ? reporter : NULL);
    Tally__Envelope *r = recv_env(c);
    cr_assert_eq(r->id, read.id);
    cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_VALUES_REPLY,
                 "read %d: %s", i, r->error ? r->error->message : "?");
    tally_wire_free(r);
  }
  /* The reads are done; the writes are still on the disk. */
  cr_assert_not(answered(a), "the submission was answered before 20 reads: "
                             "is the slow sync in place?");
  cr_assert_not(answered(b), "the target was answered before 20 reads");

  Tally__Envelope *ra = recv_env(a), *rb = recv_env(b);
  cr_assert_eq(ra->body_case, TALLY__ENVELOPE__BODY_SUBMIT_REPLY, "%s",
               ra->error ? ra->error->message : "?");
  cr_assert_eq(ra->submit_reply->accepted, 1);
  cr_assert_eq(rb->body_case, TALLY__ENVELOPE__BODY_TARGET_SET_REPLY, "%s",
               rb->error ? rb->error->message : "?");
  tally_wire_free(ra);
  tally_wire_free(rb);
  close(a);
  close(b);
  close(c);
}

/* The account with this id in an admin's account list (fails if none). */
static Tally__Account *listed(int fd, uint64_t id, Tally__Envelope **keep) {
  Tally__AccountListRequest q = TALLY__ACCOUNT_LIST_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  req.id = 900;
  req.body_case = TALLY__ENVELOPE__BODY_ACCOUNT_LIST;
  req.account_list = &q;
  send_env(fd, &req, slow.admin);
  *keep = recv_env(fd);
  cr_assert_eq((*keep)->body_case, TALLY__ENVELOPE__BODY_ACCOUNT_LIST_REPLY);
  for (size_t i = 0; i < (*keep)->account_list_reply->n_accounts; i++)
    if ((*keep)->account_list_reply->accounts[i]->id == id)
      return (*keep)->account_list_reply->accounts[i];
  cr_assert_fail("account %llu is not listed", (unsigned long long)id);
  return NULL;
}

/* Sends a revoke (or, rotate set, a new token) of account id. */
static void send_change(int fd, uint64_t id, int rotate, const char *token) {
  Tally__AccountRevokeRequest rv = TALLY__ACCOUNT_REVOKE_REQUEST__INIT;
  Tally__AccountRotateRequest ro = TALLY__ACCOUNT_ROTATE_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  req.id = 7;
  if (rotate) {
    ro.id = id;
    req.body_case = TALLY__ENVELOPE__BODY_ACCOUNT_ROTATE;
    req.account_rotate = &ro;
  } else {
    rv.id = id;
    req.body_case = TALLY__ENVELOPE__BODY_ACCOUNT_REVOKE;
    req.account_revoke = &rv;
  }
  send_env(fd, &req, token);
}

/* Time for a frame sent to be read and handled: the slow disk holds the
 * write it queues 200 ms, so a frame sent after this finds it out. The
 * assertions hold in either order; this makes the one that matters the
 * likely one. */
static void let_it_be_read(void) { usleep(50 * 1000); }

/* A revoke on its way to the disk and a new token asked for the same
 * account meanwhile: the revoke must win (the account ends revoked),
 * never be undone by a token written over it. */
Test(writer_disk, a_revoke_is_not_undone_by_a_new_token_meanwhile) {
  const char *reporter = tally_test_token(&slow, "reporter", "wenchang");
  uint64_t rid = 0;
  for (int i = 0; i < slow.n_accounts; i++)
    if (strcmp(slow.accounts[i].token, reporter) == 0)
      rid = slow.accounts[i].id;
  cr_assert_neq(rid, 0);
  int a = dial(), b = dial(), c = dial();
  send_change(a, rid, 0, slow.admin);
  let_it_be_read();
  send_change(b, 0, 1, reporter);
  Tally__Envelope *ra = recv_env(a), *rb = recv_env(b), *list;
  cr_assert_eq(ra->body_case, TALLY__ENVELOPE__BODY_ACCOUNT_REVOKE_REPLY, "%s",
               ra->error ? ra->error->message : "?");
  if (rb->body_case == TALLY__ENVELOPE__BODY_ERROR)
    cr_assert(strstr(rb->error->message, "being revoked"), "%s",
              rb->error->message);
  cr_assert_neq(listed(c, rid, &list)->revoked_unix, 0,
                "told 'revoked', but the account is active");
  tally_wire_free(list);
  tally_wire_free(ra);
  tally_wire_free(rb);
  close(a);
  close(b);
  close(c);
}

/* Two admins revoking each other, the second before the first is on
 * the disk: one admin must be left. */
Test(writer_disk, two_admins_revoking_each_other_leave_one) {
  Tally__AccountSpec spec = TALLY__ACCOUNT_SPEC__INIT, *specs[] = {&spec};
  Tally__AccountAddRequest add = TALLY__ACCOUNT_ADD_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  spec.name = "second admin";
  spec.role = TALLY__ROLE__ROLE_ADMIN;
  spec.unit = "";
  add.accounts = specs;
  add.n_accounts = 1;
  req.id = 5;
  req.body_case = TALLY__ENVELOPE__BODY_ACCOUNT_ADD;
  req.account_add = &add;
  int a = dial(), b = dial(), c = dial();
  send_env(a, &req, slow.admin);
  Tally__Envelope *made = recv_env(a), *list;
  cr_assert_eq(made->body_case, TALLY__ENVELOPE__BODY_ACCOUNT_ADD_REPLY);
  uint64_t second = made->account_add_reply->accounts[0]->account->id;
  char token[TALLY_TEST_TOKEN_MAX];
  snprintf(token, sizeof token, "%s", made->account_add_reply->accounts[0]->token);
  tally_wire_free(made);
  uint64_t first = 1; /* tallyd init's */

  send_change(a, second, 0, NULL); /* a is signed in as the first */
  let_it_be_read();
  send_change(b, first, 0, token);
  Tally__Envelope *ra = recv_env(a), *rb = recv_env(b);
  int left = (listed(c, first, &list)->revoked_unix == 0);
  tally_wire_free(list);
  left += (listed(c, second, &list)->revoked_unix == 0);
  tally_wire_free(list);
  cr_assert_geq(left, 1, "no admin left: %s / %s",
                ra->error ? ra->error->message : "revoked",
                rb->error ? rb->error->message : "revoked");
  tally_wire_free(ra);
  tally_wire_free(rb);
  close(a);
  close(b);
  close(c);
}
