/* test_store.c: figures kept in LMDB, in a temporary directory. */
#include "error.h"
#include "fixture.h"
#include "period.h"
#include "store.h"
#include "store_audit.h"
#include "store_figures.h"
#include "submit_bytes.h"
#include "tally.pb-c.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256];
static tally_store *store;

static void setup(void) {
  tally_test_tmpdir(dir, sizeof dir);
  cr_assert_eq(tally_store_open(dir, 0, 0, &store), 0);
}

static void teardown(void) {
  tally_store_close(store);
  tally_test_rmtree(dir);
}

TestSuite(store, .init = setup, .fini = teardown);

static uint32_t key(const char *period) {
  tally_period p;
  cr_assert_eq(tally_period_parse(period, &p), 0);
  return tally_period_key(&p);
}

/* What a scan saw, in order. */
typedef struct {
  int n;
  char unit[16][80];
  char element[16][80];
  double value[16];
  int64_t updated[16];
  int stop_after; /* return 42 after this many visits; 0 = never */
} seen;

static int visit(void *arg, const char *unit, const char *element,
                 double value, int64_t updated) {
  seen *s = arg;
  cr_assert_lt(s->n, 16);
  snprintf(s->unit[s->n], sizeof s->unit[0], "%s", unit);
  snprintf(s->element[s->n], sizeof s->element[0], "%s", element);
  s->value[s->n] = value;
  s->updated[s->n] = updated;
  s->n++;
  return s->stop_after && s->n == s->stop_after ? 42 : 0;
}

static seen scan(const char *period, const char *unit) {
  seen s = {0};
  cr_assert_eq(tally_store_scan(store, key(period), unit, visit, &s), 0);
  return s;
}

static void expect_seen(const seen *s, int i, const char *unit,
                        const char *element, double value) {
  cr_assert_gt(s->n, i);
  cr_expect_str_eq(s->unit[i], unit, "visit %d", i);
  cr_expect_str_eq(s->element[i], element, "visit %d", i);
  cr_expect_eq(s->value[i], value, "visit %d", i);
}

/* A submission with no id, revision check or replace, as most of these
 * tests write. */
static int submit_plain(tally_store *s, const char *unit, uint32_t period_key,
                        const tally_store_item *items, size_t n, int64_t now,
                        tally_store_result *res) {
  tally_store_submission sub = {0};
  sub.unit = unit;
  sub.period_key = period_key;
  sub.items = items;
  sub.n = n;
  sub.now = now;
  return tally_store_submit(s, &sub, res);
}

static tally_store_result put(const char *unit, const char *period,
                      const tally_store_item *items, size_t n, int64_t now) {
  tally_store_result r;
  int rc = submit_plain(store, unit, key(period), items, n, now, &r);
  cr_assert_eq(rc, 0, "put: %s", tally_strerror(rc));
  return r;
}

/* A fresh store whose map starts at 1 MiB, so that it must grow. */
static void reopen_with_a_small_map(void) {
  tally_store_close(store);
  tally_test_rmtree(dir);
  tally_test_tmpdir(dir, sizeof dir);
  cr_assert_eq(tally_store_open(dir, 1 << 20, 0, &store), 0);
}

/* 2,000 items with codes of this round, to fill a map. */
static char big_codes[2000][16];
static tally_store_item big_items[2000];

static const tally_store_item *big_put(const char *prefix, int round) {
  for (int i = 0; i < 2000; i++) {
    snprintf(big_codes[i], sizeof big_codes[i], "%s%03d_%04d", prefix,
             round % 1000, i);
    big_items[i].element = big_codes[i];
    big_items[i].value = i;
  }
  return big_items;
}

/* Writes of one value, as fast as they go, until told to stop; and
 * reads between them. */
struct writer_arg {
  tally_store *store;
  atomic_int stop;
  int writes, failed;
};

static int count_visit(void *arg, const char *unit, const char *element,
                       double value, int64_t updated) {
  (void)unit, (void)element, (void)value, (void)updated;
  ++*(int *)arg;
  return 0;
}

static void *write_steadily(void *arg) {
  struct writer_arg *w = arg;
  tally_store_item item = {"steady", 0};
  while (!atomic_load(&w->stop)) {
    tally_store_result r;
    int visited = 0;
    item.value = w->writes;
    if (submit_plain(w->store, "b", (2022u << 16), &item, 1, 1, &r) != 0)
      w->failed++;
    else
      w->writes++;
    tally_store_scan(w->store, 2022u << 16, "b", count_visit, &visited);
  }
  return NULL;
}

/* The map grows though another thread writes and reads without a pause:
 * the grow closes the gate to new transactions and waits for the open
 * ones (it used to find no moment free, and writes were refused as if
 * the store were full). */
Test(store, the_map_grows_under_a_steady_stream_of_transactions) {
  reopen_with_a_small_map();
  struct writer_arg w = {store, 0, 0, 0};
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, write_steadily, &w), 0);
  int failed = 0, rc = 0;
  for (int round = 0; round < 20; round++) {
    tally_store_result r;
    int this = submit_plain(store, "a", key("2021"), big_put("e", round),
                            2000, 1, &r);
    if (this != 0) {
      failed++;
      rc = this;
    }
  }
  atomic_store(&w.stop, 1);
  pthread_join(th, NULL);
  cr_assert_eq(failed, 0, "%d of 20 large writes failed: %s", failed,
               tally_strerror(rc));
  cr_assert_eq(w.failed, 0);
  cr_assert_gt(w.writes, 0);
}

/* A snapshot held long (as a backup's) while writes need a larger map:
 * the map cannot grow, and each grow that times out holds new
 * transactions back 100 ms; after one, none is tried for a second, so
 * short reads still go. The snapshot is held until the test says so:
 * the reads and a write complete while it is open, or never (and the
 * test's timeout fails it). How fast they go is for bench/. */
struct snapshot_race {
  tally_store *store;
  pthread_mutex_t lock;
  pthread_cond_t changed;
  int held;     /* the holder's snapshot is open */
  int release;  /* the test is done with it: end the snapshot */
  int writes;   /* puts that returned, whatever their result */
  int refused;  /* of those, puts refused: the map was full */
  atomic_int stop;
};

static void race_set(struct snapshot_race *r, int *field, int value) {
  pthread_mutex_lock(&r->lock);
  *field = value;
  pthread_cond_broadcast(&r->changed);
  pthread_mutex_unlock(&r->lock);
}

/* Waits until *field is at least value. */
static void race_wait(struct snapshot_race *r, const int *field, int value) {
  pthread_mutex_lock(&r->lock);
  while (*field < value)
    pthread_cond_wait(&r->changed, &r->lock);
  pthread_mutex_unlock(&r->lock);
}

static void *hold_snapshot(void *arg) {
  struct snapshot_race *r = arg;
  tally_store_txn *t;
  cr_assert_eq(tally_store_read_begin(r->store, &t), 0);
  race_set(r, &r->held, 1);
  race_wait(r, &r->release, 1);
  tally_store_txn_end(t);
  race_set(r, &r->held, 0);
  return NULL;
}

static void *fill_map(void *arg) {
  struct snapshot_race *r = arg;
  for (int round = 0; !atomic_load(&r->stop); round++) {
    tally_store_result res;
    int rc = submit_plain(r->store, "a", 2021u << 16, big_put("f", round),
                          2000, 1, &res);
    pthread_mutex_lock(&r->lock);
    r->writes++;
    r->refused += rc != 0;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
  }
  return NULL;
}

Test(store, a_long_snapshot_does_not_hold_short_reads_back, .timeout = 120) {
  reopen_with_a_small_map();
  pthread_t holder, writer;
  struct snapshot_race r = {.store = store};
  pthread_mutex_init(&r.lock, NULL);
  pthread_cond_init(&r.changed, NULL);
  cr_assert_eq(pthread_create(&holder, NULL, hold_snapshot, &r), 0);
  race_wait(&r, &r.held, 1);
  cr_assert_eq(pthread_create(&writer, NULL, fill_map, &r), 0);
  /* A write that needs the map to grow comes back while the snapshot is
   * open (it cannot grow it, and says so). */
  race_wait(&r, &r.refused, 1);
  /* Short reads go on beside the writer's tries to grow. */
  int visited = 0;
  for (int reads = 0; reads < 50; reads++)
    cr_assert_eq(tally_store_scan(store, 2022u << 16, "b", count_visit,
                                  &visited),
                 0, "read %d", reads);
  pthread_mutex_lock(&r.lock);
  int still_held = r.held;
  pthread_mutex_unlock(&r.lock);
  cr_assert(still_held, "the reads waited for the snapshot to end");
  atomic_store(&r.stop, 1);
  pthread_join(writer, NULL);
  race_set(&r, &r.release, 1);
  pthread_join(holder, NULL);
  pthread_cond_destroy(&r.changed);
  pthread_mutex_destroy(&r.lock);
}

Test(store, empty_store_scans_nothing) {
  seen s = scan("2022", NULL);
  cr_assert_eq(s.n, 0);
}

Test(store, put_then_scan_by_period_and_by_unit) {
  const tally_store_item w[] = {{"live_births", 412}, {"infant_deaths", 1}};
  const tally_store_item p[] = {{"live_births", 300.5}};
  tally_store_result r = put("wenchang", "2022", w, 2, 1700000000);
  cr_assert_eq(r.written, 2);
  cr_assert_eq(r.replaced, 0);
  cr_assert_eq(r.unchanged, 0);
  put("pingan", "2022", p, 1, 1700000100);

  /* Key order: unit code, then element code. */
  seen s = scan("2022", NULL);
  cr_assert_eq(s.n, 3);
  expect_seen(&s, 0, "pingan", "live_births", 300.5);
  expect_seen(&s, 1, "wenchang", "infant_deaths", 1);
  expect_seen(&s, 2, "wenchang", "live_births", 412);
  cr_assert_eq(s.updated[0], 1700000100);
  cr_assert_eq(s.updated[1], 1700000000);

  s = scan("2022", "wenchang");
  cr_assert_eq(s.n, 2);
  expect_seen(&s, 0, "wenchang", "infant_deaths", 1);
  expect_seen(&s, 1, "wenchang", "live_births", 412);

  s = scan("2022", "guide");
  cr_assert_eq(s.n, 0);
}

Test(store, second_put_replaces) {
  const tally_store_item first[] = {{"x", 1}, {"y", 2}};
  const tally_store_item second[] = {{"x", 1}, {"y", 3}, {"z", 4}};
  put("a", "2022", first, 2, 1000);
  /* x equal, y different, z new. */
  tally_store_result r = put("a", "2022", second, 3, 2000);
  cr_assert_eq(r.written, 3);
  cr_assert_eq(r.replaced, 1);
  cr_assert_eq(r.unchanged, 1);

  seen s = scan("2022", "a");
  cr_assert_eq(s.n, 3);
  expect_seen(&s, 0, "a", "x", 1);
  expect_seen(&s, 1, "a", "y", 3);
  expect_seen(&s, 2, "a", "z", 4);
  cr_assert_eq(s.updated[0], 1000); /* unchanged: it keeps its time */
  cr_assert_eq(s.updated[1], 2000);
  cr_assert_eq(s.updated[2], 2000);
}

/* The history entry of unit's 2022 report at revision, unpacked. */
static int keep_changeset(void *arg, const void *packed, size_t len) {
  *(Tally__ChangeSet **)arg = tally__change_set__unpack(NULL, len, packed);
  return 0;
}

static Tally__ChangeSet *changeset(const char *unit, uint64_t revision) {
  Tally__ChangeSet *cs = NULL;
  cr_assert_eq(tally_store_changeset(store, key("2022"), unit, revision,
                                     keep_changeset, &cs), 0);
  cr_assert_not_null(cs);
  return cs;
}

static void expect_change(const Tally__ChangeSet *cs, size_t i,
                          const char *element, int had_old, double old,
                          int has_new, double new_value) {
  cr_assert_gt(cs->n_changes, i);
  const Tally__Change *c = cs->changes[i];
  cr_expect_str_eq(c->element, element, "change %zu", i);
  cr_expect_eq(c->had_old, had_old, "change %zu", i);
  cr_expect_eq(c->has_new, has_new, "change %zu", i);
  if (had_old)
    cr_expect_eq(c->old_value, old, "change %zu", i);
  if (has_new)
    cr_expect_eq(c->new_value, new_value, "change %zu", i);
}

/* A submission's changes packed before the write, as the server's loop
 * thread packs them (server/submit_bytes.h): n items, each new. Free
 * with free(). */
static uint8_t *pack_new_changes(const tally_store_item *items, size_t n,
                                 size_t *len) {
  *len = tally_first_changes_size(items, n);
  uint8_t *out = malloc(*len + 1);
  cr_assert_not_null(out);
  tally_first_changes_pack(items, n, out);
  return out;
}

/* Changes packed before the write are the history entry's when the
 * report held no figures (the entry reads as one ChangeSet with the
 * store's fields and them), and are not used when it held some. */
Test(store, changes_packed_before_are_used_only_for_a_new_report) {
  const tally_store_item items[] = {{"y", 2}, {"x", 1}}, had[] = {{"x", 5}};
  const uint32_t order[] = {1, 0};
  size_t len;
  uint8_t *packed = pack_new_changes(items, 2, &len);
  tally_store_submission sub = {.unit = "a", .period_key = key("2022"),
                                .items = items, .n = 2, .order = order,
                                .first_changes = packed,
                                .first_changes_len = len, .now = 1000,
                                .id = "first-a", .account_id = 3};
  tally_store_result r;
  cr_assert_eq(tally_store_submit(store, &sub, &r), 0);
  cr_expect_eq(r.written, 2);
  cr_expect_eq(r.revision, 1);
  Tally__ChangeSet *cs = changeset("a", 1);
  cr_expect_eq(cs->revision, 1);
  cr_expect_str_eq(cs->submission_id, "first-a");
  cr_expect_eq(cs->time_unix, 1000);
  cr_expect_eq(cs->account_id, 3);
  cr_assert_eq(cs->n_changes, 2);
  expect_change(cs, 0, "y", 0, 0, 1, 2);
  expect_change(cs, 1, "x", 0, 0, 1, 1);
  tally__change_set__free_unpacked(cs, NULL);
  seen s = scan("2022", "a");
  cr_assert_eq(s.n, 2);

  /* b held x: its changes say what x was, whatever was packed. */
  put("b", "2022", had, 1, 1000);
  sub.unit = "b";
  sub.id = "second-b";
  cr_assert_eq(tally_store_submit(store, &sub, &r), 0);
  cr_expect_eq(r.replaced, 1);
  cs = changeset("b", 2);
  cr_assert_eq(cs->n_changes, 2);
  expect_change(cs, 0, "y", 0, 0, 1, 2);
  expect_change(cs, 1, "x", 1, 5, 1, 1);
  tally__change_set__free_unpacked(cs, NULL);
  free(packed);
}

/* A correction sent out of key order, to a report that is not the last
 * in the store (its keys cannot be appended) and that replaces all it
 * had: each value is found, the history lists the changes in the
 * submission's order, then those removed; a new report after the last
 * is appended, in any order. */
Test(store, a_correction_in_any_order_replaces_keeps_and_removes) {
  const tally_store_item first[] = {{"x", 1}, {"y", 2}, {"w", 9}},
                         other[] = {{"x", 7}},
                         fix[] = {{"z", 4}, {"y", 3}, {"x", 1}, {"a", -0.5}},
                         fresh[] = {{"q", 2}, {"b", 1}};
  put("a", "2022", first, 3, 1000);
  put("b", "2022", other, 1, 1000);
  tally_store_submission sub = {0};
  tally_store_result r;
  sub.unit = "a";
  sub.period_key = key("2022");
  sub.items = fix;
  sub.n = 4;
  sub.now = 2000;
  sub.replace = 1;
  cr_assert_eq(tally_store_submit(store, &sub, &r), 0);
  cr_expect_eq(r.written, 4);
  cr_expect_eq(r.replaced, 1);
  cr_expect_eq(r.unchanged, 1);
  cr_expect_eq(r.removed, 1);
  cr_expect_eq(r.revision, 2);

  seen s = scan("2022", "a");
  cr_assert_eq(s.n, 4);
  expect_seen(&s, 0, "a", "a", -0.5);
  expect_seen(&s, 1, "a", "x", 1);
  expect_seen(&s, 2, "a", "y", 3);
  expect_seen(&s, 3, "a", "z", 4);
  cr_expect_eq(s.updated[1], 1000, "x unchanged keeps its time");
  cr_expect_eq(s.updated[2], 2000);

  Tally__ChangeSet *cs = changeset("a", 2);
  cr_assert_eq(cs->n_changes, 4);
  expect_change(cs, 0, "z", 0, 0, 1, 4);
  expect_change(cs, 1, "y", 1, 2, 1, 3);
  expect_change(cs, 2, "a", 0, 0, 1, -0.5);
  expect_change(cs, 3, "w", 1, 9, 0, 0);
  tally__change_set__free_unpacked(cs, NULL);

  r = put("c", "2022", fresh, 2, 3000);
  cr_expect_eq(r.written, 2);
  cr_expect_eq(r.replaced + r.unchanged + r.removed, 0);
  s = scan("2022", "c");
  cr_assert_eq(s.n, 2);
  expect_seen(&s, 0, "c", "b", 1);
  expect_seen(&s, 1, "c", "q", 2);
  cs = changeset("c", 1);
  cr_assert_eq(cs->n_changes, 2);
  expect_change(cs, 0, "q", 0, 0, 1, 2);
  expect_change(cs, 1, "b", 0, 0, 1, 1);
  tally__change_set__free_unpacked(cs, NULL);
  s = scan("2022", "b");
  cr_assert_eq(s.n, 1);
  expect_seen(&s, 0, "b", "x", 7);
}

/* ---- many submissions in batches, against a model ---- */

#define M_UNITS 6
#define M_PERIODS 2
#define M_ELEMENTS 24
#define M_NONE -1.0 /* not stored: the model's figures are 0 to 3 */

static const char *const m_unit[M_UNITS] = {"b", "a", "bb", "c", "ab", "ba"};
static const char *const m_period[M_PERIODS] = {"2021", "2022"};

static uint64_t m_seed = 0x9e3779b97f4a7c15ull;
static unsigned m_rand(unsigned n) { /* xorshift64: the same runs each time */
  m_seed ^= m_seed << 13;
  m_seed ^= m_seed >> 7;
  m_seed ^= m_seed << 17;
  return (unsigned)(m_seed % n);
}

/* A check that refuses after the values are put: the batch then undoes
 * that submission's nested transaction. */
static int m_refuse(void *arg, tally_store_txn *t, Tally__Explanation ***kept,
                    size_t *n_kept) {
  (void)arg, (void)t, (void)kept, (void)n_kept;
  return TALLY_ERULES;
}

/* What a scan saw of one report: each element's figure and time. */
struct m_row {
  double value[M_ELEMENTS];
  int64_t updated[M_ELEMENTS];
};

static int m_visit(void *arg, const char *unit, const char *element,
                   double value, int64_t updated) {
  struct m_row *got = arg;
  double *row = got->value;
  int e = -1;
  (void)unit;
  cr_assert_eq(sscanf(element, "e%d", &e), 1, "%s", element);
  cr_assert(e >= 0 && e < M_ELEMENTS && row[e] == M_NONE - 1,
            "%s seen twice or unknown", element);
  row[e] = value;
  got->updated[e] = updated;
  return 0;
}

/* Random submissions of random units' reports, some replacing, some
 * refused after their writes, in batches of up to eight, each
 * submission's elements in a random order: every count, revision and
 * stored figure and its time is the model's (a map of the figures,
 * applied in order: an unchanged figure keeps its time). The units'
 * codes sort apart from their order in m_unit, so that values land
 * before, between and after those stored. */
Test(store, batches_of_corrections_match_a_model) {
  static double model[M_UNITS][M_PERIODS][M_ELEMENTS];
  static int64_t model_time[M_UNITS][M_PERIODS][M_ELEMENTS];
  uint64_t revision[M_UNITS][M_PERIODS] = {{0}};
  for (int u = 0; u < M_UNITS; u++)
    for (int p = 0; p < M_PERIODS; p++)
      for (int e = 0; e < M_ELEMENTS; e++)
        model[u][p][e] = M_NONE;
  static char codes[M_ELEMENTS][8];
  for (int e = 0; e < M_ELEMENTS; e++)
    snprintf(codes[e], sizeof codes[e], "e%02d", e);

  for (int round = 0; round < 300; round++) {
    tally_store_submission subs[8];
    tally_store_item items[8][M_ELEMENTS];
    int who[8][2], refused[8];
    tally_store_result res[8];
    int codes_out[8];
    size_t n = 1 + m_rand(8);
    memset(subs, 0, sizeof subs);
    for (size_t i = 0; i < n; i++) {
      int u = (int)m_rand(M_UNITS), p = (int)m_rand(M_PERIODS);
      int order[M_ELEMENTS], k = 0;
      for (int e = 0; e < M_ELEMENTS; e++)
        if (m_rand(3) == 0)
          order[k++] = e;
      for (int j = k - 1; j > 0; j--) { /* shuffled */
        int x = (int)m_rand((unsigned)j + 1), t = order[j];
        order[j] = order[x];
        order[x] = t;
      }
      for (int j = 0; j < k; j++)
        items[i][j] = (tally_store_item){codes[order[j]], (double)m_rand(4)};
      who[i][0] = u;
      who[i][1] = p;
      refused[i] = m_rand(5) == 0;
      subs[i].unit = m_unit[u];
      subs[i].period_key = key(m_period[p]);
      subs[i].items = items[i];
      subs[i].n = (size_t)k;
      subs[i].replace = m_rand(3) == 0;
      subs[i].now = 1000 + round;
      subs[i].check = refused[i] ? m_refuse : NULL;
    }
    cr_assert_eq(tally_store_submit_batch(store, subs, n, res, codes_out), 0);

    for (size_t i = 0; i < n; i++) {
      int u = who[i][0], p = who[i][1];
      double *row = model[u][p];
      if (refused[i]) {
        cr_assert_eq(codes_out[i], TALLY_ERULES, "round %d, %zu", round, i);
        continue;
      }
      cr_assert_eq(codes_out[i], 0, "round %d, %zu: %s", round, i,
                   tally_strerror(codes_out[i]));
      unsigned replaced = 0, unchanged = 0, removed = 0;
      int sent[M_ELEMENTS] = {0};
      for (size_t j = 0; j < subs[i].n; j++) {
        int e = atoi(items[i][j].element + 1);
        sent[e] = 1;
        if (row[e] == items[i][j].value)
          unchanged++;
        else if (row[e] != M_NONE)
          replaced++;
        if (row[e] != items[i][j].value)
          model_time[u][p][e] = subs[i].now;
        row[e] = items[i][j].value;
      }
      if (subs[i].replace)
        for (int e = 0; e < M_ELEMENTS; e++)
          if (!sent[e] && row[e] != M_NONE) {
            removed++;
            row[e] = M_NONE;
          }
      if (unchanged < subs[i].n || removed)
        revision[u][p]++;
      cr_assert_eq(res[i].written, subs[i].n, "round %d, %zu", round, i);
      cr_assert_eq(res[i].replaced, replaced, "round %d, %zu", round, i);
      cr_assert_eq(res[i].unchanged, unchanged, "round %d, %zu", round, i);
      cr_assert_eq(res[i].removed, removed, "round %d, %zu", round, i);
      cr_assert_eq(res[i].revision, revision[u][p], "round %d, %zu", round, i);
    }

    for (int u = 0; u < M_UNITS; u++)
      for (int p = 0; p < M_PERIODS; p++) {
        struct m_row got;
        for (int e = 0; e < M_ELEMENTS; e++)
          got.value[e] = M_NONE - 1; /* not seen */
        cr_assert_eq(tally_store_scan(store, key(m_period[p]), m_unit[u],
                                      m_visit, &got), 0);
        for (int e = 0; e < M_ELEMENTS; e++) {
          double v = got.value[e];
          cr_assert_eq(v == M_NONE - 1 ? M_NONE : v, model[u][p][e],
                       "round %d: %s %s e%02d", round, m_unit[u],
                       m_period[p], e);
          if (v != M_NONE - 1)
            cr_assert_eq(got.updated[e], model_time[u][p][e],
                         "round %d: %s %s e%02d's time", round, m_unit[u],
                         m_period[p], e);
        }
      }
  }
}

Test(store, scans_do_not_leak_across_periods) {
  const tally_store_item v1[] = {{"x", 1}}, v2[] = {{"x", 2}},
                         v3[] = {{"x", 3}}, v4[] = {{"x", 4}};
  put("a", "2021-12", v1, 1, 1);
  put("a", "2022", v2, 1, 1);
  put("a", "2022Q1", v3, 1, 1);
  put("a", "2023", v4, 1, 1);

  seen s = scan("2022", NULL);
  cr_assert_eq(s.n, 1);
  expect_seen(&s, 0, "a", "x", 2);
  s = scan("2022Q1", "a");
  cr_assert_eq(s.n, 1);
  expect_seen(&s, 0, "a", "x", 3);
  s = scan("2022-01", NULL);
  cr_assert_eq(s.n, 0);
}

Test(store, scans_do_not_leak_across_units_that_share_a_prefix) {
  const tally_store_item v1[] = {{"x", 1}}, v2[] = {{"x", 2}},
                         v3[] = {{"x", 3}};
  put("a", "2022", v1, 1, 1);
  put("ab", "2022", v2, 1, 1);
  put("abc", "2022", v3, 1, 1);

  seen s = scan("2022", "a");
  cr_assert_eq(s.n, 1);
  expect_seen(&s, 0, "a", "x", 1);
  s = scan("2022", "ab");
  cr_assert_eq(s.n, 1);
  expect_seen(&s, 0, "ab", "x", 2);
  s = scan("2022", NULL);
  cr_assert_eq(s.n, 3);
  expect_seen(&s, 2, "abc", "x", 3);
}

Test(store, a_visitor_stops_the_scan) {
  const tally_store_item v[] = {{"x", 1}, {"y", 2}, {"z", 3}};
  put("a", "2022", v, 3, 1);
  seen s = {0};
  s.stop_after = 2;
  cr_assert_eq(tally_store_scan(store, key("2022"), NULL, visit, &s), 42);
  cr_assert_eq(s.n, 2);
}

Test(store, values_survive_close_and_reopen) {
  const tally_store_item v[] = {{"live_births", 412}, {"infant_deaths", 0}};
  put("wenchang", "2022", v, 2, 1700000000);
  tally_store_close(store);
  store = NULL;
  cr_assert_eq(tally_store_open(dir, 0, 0, &store), 0);

  seen s = scan("2022", "wenchang");
  cr_assert_eq(s.n, 2);
  expect_seen(&s, 0, "wenchang", "infant_deaths", 0);
  expect_seen(&s, 1, "wenchang", "live_births", 412);
  cr_assert_eq(s.updated[1], 1700000000);

  /* The reopened store still knows what it holds. */
  tally_store_result r = put("wenchang", "2022", v, 2, 1700000001);
  cr_assert_eq(r.unchanged, 2);
}

/* Sets the meta "format" of the store in dir with plain LMDB calls. */
static void set_format(const char *format) {
  tally_test_lmdb_put(dir, "meta", "format", 6, format, strlen(format));
}

Test(store, a_store_of_another_format_is_refused) {
  tally_store_close(store);
  store = NULL;
  set_format("tally-store/0");
  tally_store *other = NULL;
  cr_assert_eq(tally_store_open(dir, 0, 0, &other), TALLY_EFORMAT);
  cr_assert(strstr(tally_strerror(TALLY_EFORMAT), "format"));
  cr_assert_null(other);
}

Test(store, a_store_of_the_same_format_opens) {
  tally_store_close(store);
  store = NULL;
  set_format("tally-store/6");
  cr_assert_eq(tally_store_open(dir, 0, 0, &store), 0);
}

static int read_meta(void *arg, tally_store_txn *t);

/* Format 4 kept no figures as approved and no passwords: it opens as
 * format 6, and a tallyd of format 4, which would approve without
 * keeping the figures or write accounts back without their passwords,
 * then refuses it. */
/* A review of unit's 2022 report in the state given, as a tallyd of
 * format 4 kept it (arg: the unit, then the state). */
struct old_review {
  const char *unit;
  Tally__ReviewState state;
};

static int write_review(void *arg, tally_store_txn *t) {
  const struct old_review *o = arg;
  Tally__Review rv = TALLY__REVIEW__INIT;
  tally_period p = {2022, TALLY_PERIOD_YEAR, 0};
  rv.state = o->state;
  rv.time_unix = 1700000100;
  rv.account_name = "analyst";
  rv.revision = 1;
  uint8_t packed[128];
  size_t len = tally__review__pack(&rv, packed);
  tally_store_actor who = {1, "analyst", "test", 1700000100};
  return tally_store_txn_review_put(t, tally_period_key(&p), o->unit, packed,
                                    len, "not reviewed", "approved", &who);
}

/* An explanation of rule kept with unit's 2022 report (arg: the unit,
 * the rule, the text). */
struct old_explanation {
  const char *unit, *rule, *text;
};

static int write_explanation(void *arg, tally_store_txn *t) {
  const struct old_explanation *o = arg;
  Tally__Explanation e = TALLY__EXPLANATION__INIT;
  tally_period p = {2022, TALLY_PERIOD_YEAR, 0};
  e.rule = (char *)o->rule;
  e.text = (char *)o->text;
  e.time_unix = 1700000000;
  e.account_name = "clerk";
  return tally_store_txn_explanation_put(t, tally_period_key(&p), o->unit, &e);
}

/* An approval of unit's 2022 report at revision 1 as a tallyd of format
 * 5 kept it: its figures, no explanations (arg: the unit). */
static int write_approval_5(void *arg, tally_store_txn *t) {
  Tally__Value v = TALLY__VALUE__INIT, *vs[1] = {&v};
  Tally__Approval ap = TALLY__APPROVAL__INIT;
  tally_period p = {2022, TALLY_PERIOD_YEAR, 0};
  v.element = "live_births";
  v.value = 640;
  ap.time_unix = 1700000100;
  ap.account_name = "analyst";
  ap.revision = 1;
  ap.values = vs;
  ap.n_values = 1;
  uint8_t packed[256];
  size_t len = tally__approval__pack(&ap, packed);
  return tally_store_txn_approval_put(t, tally_period_key(&p), arg,
                                      1700000100, 1, packed, len);
}

struct found_approval {
  Tally__Approval *ap;
};

static int take_approval(void *arg, const char *unit, const void *packed,
                         size_t len) {
  struct found_approval *f = arg;
  (void)unit;
  f->ap = tally__approval__unpack(NULL, len, packed);
  return 0;
}

static Tally__Approval *approval_of(const char *unit) {
  tally_store_txn *txn;
  tally_period p = {2022, TALLY_PERIOD_YEAR, 0};
  struct found_approval f = {NULL};
  cr_assert_eq(tally_store_read_begin(store, &txn), 0);
  cr_assert_eq(tally_store_txn_approval(txn, tally_period_key(&p), unit, 0,
                                        take_approval, &f),
               0);
  tally_store_txn_end(txn);
  return f.ap;
}

/* Format 4 kept reviews but not the figures as approved: the reports
 * approved then are taken up with their live figures (an approved
 * report took no change), the others not. */
Test(store, a_store_of_format_4_is_taken_up) {
  const tally_store_item births[] = {{"live_births", 640},
                                     {"infant_deaths", 2}};
  put("wenchang", "2022", births, 2, 1700000000);
  put("guide", "2022", births, 1, 1700000000);
  struct old_review approved = {"wenchang",
                                TALLY__REVIEW_STATE__REVIEW_APPROVED},
                    returned = {"guide", TALLY__REVIEW_STATE__REVIEW_RETURNED};
  struct old_explanation why = {"wenchang", "infant_deaths", "两例均已核实"};
  cr_assert_eq(tally_store_write(store, write_review, &approved), 0);
  cr_assert_eq(tally_store_write(store, write_review, &returned), 0);
  cr_assert_eq(tally_store_write(store, write_explanation, &why), 0);
  tally_store_close(store);
  store = NULL;
  set_format("tally-store/4");
  cr_assert_eq(tally_store_open(dir, 0, 0, &store), 0);
  char buf[64] = "f";
  cr_assert_eq(tally_store_write(store, read_meta, buf), 0);
  cr_assert_str_eq(buf, "tally-store/6");

  Tally__Approval *ap = approval_of("wenchang");
  cr_assert_not_null(ap, "the approved report is taken up");
  cr_expect_eq(ap->time_unix, 1700000100);
  cr_expect_eq(ap->revision, 1);
  cr_assert_eq(ap->n_values, 2);
  cr_expect_str_eq(ap->values[0]->element, "infant_deaths");
  cr_expect_eq(ap->values[0]->value, 2);
  cr_expect_str_eq(ap->values[1]->element, "live_births");
  cr_expect_eq(ap->values[1]->value, 640);
  cr_expect(ap->explanations_kept, "its explanations are taken up");
  cr_assert_eq(ap->n_explanations, 1);
  cr_expect_str_eq(ap->explanations[0]->rule, "infant_deaths");
  cr_expect_str_eq(ap->explanations[0]->text, "两例均已核实");
  tally__approval__free_unpacked(ap, NULL);
  cr_expect_null(approval_of("guide"), "a returned report is not approved");
}

/* Format 5 kept the figures as approved but not their explanations: a
 * report still approved at its last approval's revision took no change,
 * so its explanations now are those of then and join the approval; the
 * approval of a report reopened since keeps none (its explanations now
 * may be another's), and says so. A tallyd of format 5, which would
 * approve without keeping the explanations, then refuses the store. */
Test(store, a_store_of_format_5_is_taken_up) {
  const tally_store_item births[] = {{"live_births", 640}};
  put("wenchang", "2022", births, 1, 1700000000);
  put("guide", "2022", births, 1, 1700000000);
  struct old_review approved = {"wenchang",
                                TALLY__REVIEW_STATE__REVIEW_APPROVED},
                    reopened = {"guide", TALLY__REVIEW_STATE__REVIEW_REOPENED};
  struct old_explanation why = {"wenchang", "infant_deaths", "两例均已核实"},
                         since = {"guide", "infant_deaths", "改过的说明"};
  cr_assert_eq(tally_store_write(store, write_review, &approved), 0);
  cr_assert_eq(tally_store_write(store, write_review, &reopened), 0);
  cr_assert_eq(tally_store_write(store, write_explanation, &why), 0);
  cr_assert_eq(tally_store_write(store, write_explanation, &since), 0);
  cr_assert_eq(tally_store_write(store, write_approval_5, "wenchang"), 0);
  cr_assert_eq(tally_store_write(store, write_approval_5, "guide"), 0);
  tally_store_close(store);
  store = NULL;
  set_format("tally-store/5");
  cr_assert_eq(tally_store_open(dir, 0, 0, &store), 0);
  char buf[64] = "f";
  cr_assert_eq(tally_store_write(store, read_meta, buf), 0);
  cr_assert_str_eq(buf, "tally-store/6");

  Tally__Approval *ap = approval_of("wenchang");
  cr_assert_not_null(ap);
  cr_expect_eq(ap->time_unix, 1700000100, "the same approval, not another");
  cr_assert_eq(ap->n_values, 1);
  cr_expect_eq(ap->values[0]->value, 640);
  cr_expect(ap->explanations_kept);
  cr_assert_eq(ap->n_explanations, 1);
  cr_expect_str_eq(ap->explanations[0]->text, "两例均已核实");
  tally__approval__free_unpacked(ap, NULL);
  ap = approval_of("guide");
  cr_assert_not_null(ap, "a reopened report keeps its last approval");
  cr_expect_not(ap->explanations_kept, "nor does it take today's");
  cr_expect_eq(ap->n_explanations, 0);
  cr_expect_eq(ap->n_values, 1);
  tally__approval__free_unpacked(ap, NULL);
}

/* Format 3 kept no explanations and no reviews: it opens as format 6,
 * and a tallyd of format 3, which would store figures in an approved
 * report, then refuses it. */
Test(store, a_store_of_format_3_is_taken_up) {
  tally_store_close(store);
  store = NULL;
  set_format("tally-store/3");
  cr_assert_eq(tally_store_open(dir, 0, 0, &store), 0);
  char buf[64] = "f";
  cr_assert_eq(tally_store_write(store, read_meta, buf), 0);
  cr_assert_str_eq(buf, "tally-store/6");
}

/* Format 1 had no kept sums: it opens as format 6, with no record of
 * sums made for any catalog (so tallyd makes them afresh), and a
 * tallyd of format 1 would then refuse it. */
static int write_sums_catalog(void *arg, tally_store_txn *t) {
  return tally_store_txn_meta_put(t, "sums_catalog", arg);
}

static int read_meta(void *arg, tally_store_txn *t) {
  char *buf = arg;
  return tally_store_txn_meta_get(t, buf[0] == 'f' ? "format"
                                                   : "sums_catalog",
                                  buf, 64);
}

Test(store, a_store_of_format_1_is_taken_up) {
  tally_store_close(store);
  store = NULL;
  set_format("tally-store/1");
  cr_assert_eq(tally_store_open(dir, 0, 0, &store), 0);
  char buf[64] = "f";
  cr_assert_eq(tally_store_write(store, read_meta, buf), 0);
  cr_assert_str_eq(buf, "tally-store/6");
  buf[0] = 's';
  cr_assert_eq(tally_store_write(store, read_meta, buf), TALLY_ENOTFOUND);
}

/* Format 2 had no locked periods: it opens as format 6 with its sums
 * kept (they are the same), and a tallyd of format 2, which would store
 * figures in a locked period, then refuses it. */
Test(store, a_store_of_format_2_is_taken_up) {
  const tally_store_item births[] = {{"live_births", 640}};
  put("wenchang", "2022", births, 1, 1700000000);
  cr_assert_eq(tally_store_write(store, write_sums_catalog, "fingerprint"), 0);
  tally_store_close(store);
  store = NULL;
  set_format("tally-store/2");
  cr_assert_eq(tally_store_open(dir, 0, 0, &store), 0);
  char buf[64] = "f";
  cr_assert_eq(tally_store_write(store, read_meta, buf), 0);
  cr_assert_str_eq(buf, "tally-store/6");
  buf[0] = 's';
  cr_assert_eq(tally_store_write(store, read_meta, buf), 0);
  cr_assert_str_eq(buf, "fingerprint", "the sums are kept");
  seen s = scan("2022", NULL);
  expect_seen(&s, 0, "wenchang", "live_births", 640);
}

Test(store, a_failing_put_writes_nothing) {
  char long_code[66];
  memset(long_code, 'e', 65); /* one byte over the 64 the key allows */
  long_code[65] = 0;
  const tally_store_item before[] = {{"x", 1}};
  const tally_store_item bad[] = {{"x", 5}, {"y", 6}, {long_code, 7}};
  put("a", "2022", before, 1, 1000);

  tally_store_result r;
  memset(&r, 0xff, sizeof r);
  int rc = submit_plain(store, "a", key("2022"), bad, 3, 2000, &r);
  cr_assert_eq(rc, -EINVAL, "rc %d: %s", rc, tally_strerror(rc));
  cr_assert_eq(r.written, 0);
  cr_assert_eq(r.replaced, 0);
  cr_assert_eq(r.unchanged, 0);

  /* Neither x = 5 nor y = 6 is there: the transaction was dropped. */
  seen s = scan("2022", NULL);
  cr_assert_eq(s.n, 1);
  expect_seen(&s, 0, "a", "x", 1);
  cr_assert_eq(s.updated[0], 1000);
}

Test(store, codes_of_64_bytes_fit) {
  char unit[65], element[65];
  memset(unit, 'u', 64);
  unit[64] = 0;
  memset(element, 'e', 64);
  element[64] = 0;
  const tally_store_item v[] = {{element, 9}};
  put(unit, "2022", v, 1, 1);
  seen s = scan("2022", unit);
  cr_assert_eq(s.n, 1);
  expect_seen(&s, 0, unit, element, 9);
}

Test(store, open_on_a_file_gives_an_errno) {
  char path[300];
  snprintf(path, sizeof path, "%s/file", dir);
  tally_test_write_file(path, "not a directory\n");
  tally_store *other = NULL;
  int rc = tally_store_open(path, 0, 0, &other);
  cr_assert_eq(rc, -ENOTDIR, "rc %d: %s", rc, tally_strerror(rc));
  cr_assert_null(other);
}
