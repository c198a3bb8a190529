/* rollup.c: each indicator's sums per period for every inner unit,
 * kept up to date in the transaction that changes the figures.
 *
 * The happy path: the store calls before() as a submission begins,
 * after() once it has changed figures, settle() when its nested
 * transaction is kept, and flush() as the batch commits; flush writes
 * every record the batch touched once, with the differences added.
 * The failure modes: no memory or a store error fails the batch (the
 * store aborts it: figures and sums stay together); a submission undone
 * is dropped from the differences; a record that does not decode fails
 * the batch rather than be overwritten with a guess.
 */
#include "rollup.h"

#include "error.h"
#include "kind.h"
#include "period.h"
#include "store_figures.h"
#include "store_sums.h"
#include "rows.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- records ----
 * counted, both, misses (8 bytes each), n (4), then n sums of the period,
 * n of the period before and n of the period over the units in both, 16
 * bytes each (host order, as LMDB's own pages are). */

#define RECORD_HEAD 28
#define RECORD_SETS 3 /* cur, prev, both_cur */

static size_t record_size(int n) {
  return RECORD_HEAD + RECORD_SETS * (size_t)n * sizeof(tally_amount);
}

static void record_pack(const tally_sums *s, int n, uint8_t *buf) {
  uint32_t n32 = (uint32_t)n;
  size_t set = (size_t)n * sizeof(tally_amount);
  memcpy(buf, &s->counted, 8);
  memcpy(buf + 8, &s->both, 8);
  memcpy(buf + 16, &s->misses, 8);
  memcpy(buf + 24, &n32, 4);
  memcpy(buf + RECORD_HEAD, s->cur, set);
  memcpy(buf + RECORD_HEAD + set, s->prev, set);
  memcpy(buf + RECORD_HEAD + 2 * set, s->both_cur, set);
}

static int record_unpack(const void *data, size_t len, int n, tally_sums *s) {
  const uint8_t *buf = data;
  uint32_t n32;
  if (len != record_size(n))
    return TALLY_ESTORE;
  memcpy(&n32, buf + 24, 4);
  if (n32 != (uint32_t)n)
    return TALLY_ESTORE;
  size_t set = (size_t)n * sizeof(tally_amount);
  memcpy(&s->counted, buf, 8);
  memcpy(&s->both, buf + 8, 8);
  memcpy(&s->misses, buf + 16, 8);
  memcpy(s->cur, buf + RECORD_HEAD, set);
  memcpy(s->prev, buf + RECORD_HEAD + set, set);
  memcpy(s->both_cur, buf + RECORD_HEAD + 2 * set, set);
  return 0;
}

static int is_zero(const tally_sums *s, int n) {
  if (s->counted || s->both || s->misses)
    return 0;
  for (int k = 0; k < n; k++)
    if (s->cur[k] || s->prev[k] || s->both_cur[k])
      return 0;
  return 1;
}

int tally_rollup_read(const tally_catalog *cat, tally_store_txn *txn, int ind,
                      int scope, uint32_t period, tally_sums *out) {
  int n = tally_sums_size(cat, ind);
  const void *data;
  size_t len;
  memset(out, 0, sizeof *out);
  int rc = tally_store_txn_sums_get(txn, period, cat->units[scope].code,
                                    cat->indicators[ind].code, &data, &len);
  if (rc == TALLY_ENOTFOUND)
    return 0;
  if (rc != 0)
    return rc;
  return record_unpack(data, len, n, out);
}

/* ---- sums by period, unit and indicator, in memory ---- */

struct entry {
  struct entry *next;   /* in its bucket */
  uint32_t period;
  int unit, ind, n;
  int64_t counted, both, misses;
  tally_amount v[];     /* n sums of the period, n of the one before, n
                           of the period over the units in both */
};

struct table {
  struct entry **bucket;
  size_t n_buckets, n;
};

static size_t hash(uint32_t period, int unit, int ind) {
  uint64_t h = (uint64_t)period * 0x9e3779b97f4a7c15ull;
  h ^= (uint64_t)(unsigned)unit * 0xc2b2ae3d27d4eb4full;
  h ^= (uint64_t)(unsigned)ind * 0x165667b19e3779f9ull;
  return (size_t)(h ^ h >> 29);
}

static void table_clear(struct table *t) {
  for (size_t i = 0; i < t->n_buckets; i++)
    for (struct entry *e = t->bucket[i], *next; e; e = next) {
      next = e->next;
      free(e);
    }
  free(t->bucket);
  memset(t, 0, sizeof *t);
}

static int table_grow(struct table *t) {
  size_t nb = t->n_buckets ? t->n_buckets * 2 : 256;
  struct entry **b = calloc(nb, sizeof *b);
  if (b == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < t->n_buckets; i++)
    for (struct entry *e = t->bucket[i], *next; e; e = next) {
      next = e->next;
      size_t h = hash(e->period, e->unit, e->ind) & (nb - 1);
      e->next = b[h];
      b[h] = e;
    }
  free(t->bucket);
  t->bucket = b;
  t->n_buckets = nb;
  return 0;
}

static struct entry *table_find(const struct table *t, uint32_t period,
                                int unit, int ind) {
  if (t->n_buckets == 0)
    return NULL;
  struct entry *e = t->bucket[hash(period, unit, ind) & (t->n_buckets - 1)];
  while (e && !(e->period == period && e->unit == unit && e->ind == ind))
    e = e->next;
  return e;
}

/* Adds s (n sums) to the entry of period, unit and ind. Returns 0 or
 * -ENOMEM. */
static int table_add(struct table *t, uint32_t period, int unit, int ind,
                     const tally_sums *s, int n) {
  struct entry *e = table_find(t, period, unit, ind);
  if (e == NULL) {
    if (t->n >= t->n_buckets && table_grow(t) != 0)
      return -ENOMEM;
    /* Only the sums the kind uses. */
    e = calloc(1, sizeof *e + RECORD_SETS * (size_t)n * sizeof(tally_amount));
    if (e == NULL)
      return -ENOMEM;
    size_t h = hash(period, unit, ind) & (t->n_buckets - 1);
    e->period = period;
    e->unit = unit;
    e->ind = ind;
    e->n = n;
    e->next = t->bucket[h];
    t->bucket[h] = e;
    t->n++;
  }
  e->counted += s->counted;
  e->both += s->both;
  e->misses += s->misses;
  for (int k = 0; k < n; k++) {
    e->v[k] += s->cur[k];
    e->v[n + k] += s->prev[k];
    e->v[2 * n + k] += s->both_cur[k];
  }
  return 0;
}

/* The entry as sums. */
static void entry_sums(const struct entry *e, tally_sums *s) {
  s->counted = e->counted;
  s->both = e->both;
  s->misses = e->misses;
  memcpy(s->cur, e->v, (size_t)e->n * sizeof(tally_amount));
  memcpy(s->prev, e->v + e->n, (size_t)e->n * sizeof(tally_amount));
  memcpy(s->both_cur, e->v + 2 * e->n, (size_t)e->n * sizeof(tally_amount));
}

/* Adds a leaf's share s of ind in period to every inner unit above it. */
static int add_to_ancestors(const tally_catalog *cat, struct table *t,
                            uint32_t period, int leaf, int ind,
                            const tally_sums *s, int n) {
  for (int u = cat->units[leaf].parent; u >= 0; u = cat->units[u].parent) {
    int rc = table_add(t, period, u, ind, s, n);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* ---- which shares a change touches ---- */

/* A list of periods, each once, as long as needed. */
struct periods {
  uint32_t *period;
  int n, cap;
};

/* Adds period to t unless it is there. Returns 0 or -ENOMEM. */
static int touch(struct periods *t, uint32_t period) {
  for (int i = 0; i < t->n; i++)
    if (t->period[i] == period)
      return 0;
  if (t->n == t->cap) {
    int cap = t->cap ? t->cap * 2 : 16;
    uint32_t *grown = realloc(t->period, (size_t)cap * sizeof *grown);
    if (grown == NULL)
      return -ENOMEM;
    t->period = grown;
    t->cap = cap;
  }
  t->period[t->n++] = period;
  return 0;
}

struct tally_rollup {
  const tally_catalog *cat;
  tally_store *store;
  tally_store_keeper keeper;
  tally_rows rows;
  struct table batch;      /* differences of the batch, by inner unit */
  /* The submission under way. */
  int unit;                /* -1: none, or not a unit with sums above it */
  uint32_t period;
  int changed;             /* after() was called */
  struct share {
    uint32_t period;
    int ind;
    tally_sums *sums;      /* minus the share before, then the difference;
                              kept allocated from one submission to the
                              next */
  } *shares;
  int n_shares, cap_shares;
  tally_sums scratch[2];
  int settle_error;        /* settling ran out of memory: fail the batch */
  struct periods touched;  /* whose shares of one indicator a change
                              touches (touched_by) */
  struct periods reported; /* periods the unit has a report for... */
  struct periods unreported; /* ...and not, as looked up */
  int *input_list;         /* the elements each indicator sums, listed: */
  size_t *input_first;     /* [ind] .. [ind + 1] in input_list */
  unsigned char *changing; /* [e]: the submission may change element e */
  /* The periods with reports, for the kinds that look far back: listed
   * once a submission, when needed. */
  struct periods all;
};

/* Every period with any report, into r->all. */
static int list_periods(tally_rollup *r, tally_store_txn *t) {
  uint32_t p = 0;
  r->all.n = 0;
  for (;;) {
    int rc = tally_store_txn_next_period(t, p, &p);
    if (rc == TALLY_ENOTFOUND)
      return 0;
    if (rc != 0 || (rc = touch(&r->all, p)) != 0)
      return rc;
  }
}

/* What touched_by's visit works in. */
struct touching {
  tally_rollup *r;
  tally_store_txn *txn;
};

static int touched_found(void *arg, const tally_period *p) {
  struct touching *tc = arg;
  return touch(&tc->r->touched, tally_period_key(p));
}

/* Every period with a report, listed once a submission. */
static int touched_every(void *arg, const uint32_t **keys, int *n) {
  struct touching *tc = arg;
  int rc;
  if (tc->r->all.n == 0 && (rc = list_periods(tc->r, tc->txn)) != 0)
    return rc;
  *keys = tc->r->all.period;
  *n = tc->r->all.n;
  return 0;
}

/* The periods of ind's shares that a change to q touches, into
 * r->touched: the kind's row says which periods read q. */
static int touched_by(tally_rollup *r, tally_store_txn *t, int ind,
                      const tally_period *q) {
  struct touching tc = {r, t};
  tally_kind_visit v = {touched_found, touched_every, &tc};
  r->touched.n = 0;
  return tally_kind_changed_by(&r->cat->indicators[ind], q, &v);
}

/* 1 when the unit of the submission under way has a report for period
 * (looked up once a submission), 0 when not, or a store error. */
static int has_report(tally_rollup *r, tally_store_txn *t, uint32_t period,
                      const char *unit) {
  for (int i = 0; i < r->reported.n; i++)
    if (r->reported.period[i] == period)
      return 1;
  for (int i = 0; i < r->unreported.n; i++)
    if (r->unreported.period[i] == period)
      return 0;
  int rc = tally_store_txn_has_report(t, period, unit);
  if (rc < 0)
    return rc;
  int added = touch(rc ? &r->reported : &r->unreported, period);
  return added ? added : rc;
}

/* ---- the store's keeper ---- */

static void drop_shares(tally_rollup *r) {
  r->n_shares = 0;
  r->unit = -1;
  r->changed = 0;
}

static void negate(tally_sums *s, int n) {
  s->counted = -s->counted;
  s->both = -s->both;
  s->misses = -s->misses;
  for (int k = 0; k < n; k++) {
    s->cur[k] = -s->cur[k];
    s->prev[k] = -s->prev[k];
    s->both_cur[k] = -s->both_cur[k];
  }
}

static void keeper_begin(void *arg) {
  tally_rollup *r = arg;
  drop_shares(r);
  table_clear(&r->batch);
  r->settle_error = 0;
}

static int add_share(tally_rollup *r, uint32_t period, int ind) {
  if (r->n_shares == r->cap_shares) {
    int cap = r->cap_shares ? r->cap_shares * 2 : 256;
    struct share *grown = realloc(r->shares, (size_t)cap * sizeof *grown);
    if (grown == NULL)
      return -ENOMEM;
    for (int i = r->cap_shares; i < cap; i++)
      grown[i].sums = NULL;
    r->shares = grown;
    r->cap_shares = cap;
  }
  struct share *sh = &r->shares[r->n_shares];
  if (sh->sums == NULL && (sh->sums = malloc(sizeof *sh->sums)) == NULL)
    return -ENOMEM;
  sh->period = period;
  sh->ind = ind;
  r->n_shares++;
  return 0;
}

/* Marks in r->changing the elements sub may change: its own, or all
 * when it replaces the report (it may remove any). */
static void mark_changing(tally_rollup *r, const tally_store_submission *sub) {
  size_t n = r->cat->n_elements;
  memset(r->changing, sub->replace, n ? n : 1);
  /* Items in catalog order are found by guessing the next. */
  for (int i = 0, e = -1; (size_t)i < sub->n && !sub->replace; i++) {
    e = tally_catalog_element_guess(r->cat, sub->items[i].element, e + 1);
    if (e >= 0)
      r->changing[e] = 1;
  }
}

/* True when one of ind's inputs may change. */
static int inputs_change(const tally_rollup *r, int ind) {
  for (size_t i = r->input_first[ind]; i < r->input_first[ind + 1]; i++)
    if (r->changing[r->input_list[i]])
      return 1;
  return 0;
}

static int keeper_before(void *arg, tally_store_txn *t,
                         const tally_store_submission *sub) {
  tally_rollup *r = arg;
  const tally_catalog *cat = r->cat;
  const char *unit = sub->unit;
  uint32_t period = sub->period_key;
  tally_period q;
  drop_shares(r);
  r->all.n = 0; /* an earlier submission may have begun a period */
  r->reported.n = r->unreported.n = 0;
  int u = tally_catalog_unit(cat, unit);
  /* Only a leaf's figures go into kept sums, and only if it has an
   * inner unit above it. */
  if (u < 0 || !cat->units[u].is_leaf || cat->units[u].parent < 0 ||
      tally_period_from_key(period, &q) != 0)
    return 0;
  mark_changing(r, sub);
  r->unit = u;
  r->period = period;
  r->rows.txn = t;
  tally_rows_reset(&r->rows);
  for (size_t ind = 0; ind < cat->n_indicators; ind++) {
    const struct periods *tp = &r->touched;
    int rc;
    /* An indicator none of whose inputs change keeps its shares. */
    if (!tally_indicator_kept(cat, (int)ind) || !inputs_change(r, (int)ind))
      continue;
    if ((rc = touched_by(r, t, (int)ind, &q)) != 0)
      return rc;
    for (int i = 0; i < tp->n; i++) {
      tally_period p;
      if (tp->period[i] != period) {
        rc = has_report(r, t, tp->period[i], unit);
        if (rc < 0)
          return rc;
        if (rc == 0)
          continue; /* no report then: its share is nothing either way */
      }
      if (tally_period_from_key(tp->period[i], &p) != 0)
        continue;
      if ((rc = add_share(r, tp->period[i], (int)ind)) != 0)
        return rc;
      tally_sums *s = r->shares[r->n_shares - 1].sums;
      if ((rc = tally_sums_unit(cat, (int)ind, &r->rows.src, u, &p, s)) != 0)
        return rc;
      negate(s, tally_sums_size(cat, (int)ind));
    }
  }
  return 0;
}

static int keeper_after(void *arg, tally_store_txn *t) {
  tally_rollup *r = arg;
  const tally_catalog *cat = r->cat;
  if (r->unit < 0)
    return 0;
  r->rows.txn = t;
  tally_rows_forget(&r->rows, r->unit, r->period);
  for (int i = 0; i < r->n_shares; i++) {
    struct share *sh = &r->shares[i];
    tally_period p;
    int n = tally_sums_size(cat, sh->ind);
    tally_period_from_key(sh->period, &p);
    int rc = tally_sums_unit(cat, sh->ind, &r->rows.src, r->unit, &p,
                             r->scratch);
    if (rc != 0)
      return rc;
    /* The difference: after - before. */
    tally_sums_add(sh->sums, r->scratch, n, 1);
  }
  r->changed = 1;
  return 0;
}

static void keeper_settle(void *arg, int kept) {
  tally_rollup *r = arg;
  if (kept && r->changed && r->unit >= 0)
    for (int i = 0; i < r->n_shares; i++) {
      struct share *sh = &r->shares[i];
      int n = tally_sums_size(r->cat, sh->ind);
      if (is_zero(sh->sums, n))
        continue;
      if (add_to_ancestors(r->cat, &r->batch, sh->period, r->unit, sh->ind,
                           sh->sums, n) != 0)
        r->settle_error = 1;
    }
  drop_shares(r);
}

/* Adds each entry of the table to its stored record; a record that
 * comes to nothing is removed. Returns 0 or a store error. */
static int write_table(const tally_catalog *cat, tally_store_txn *t,
                       struct table *tab, tally_sums *scratch) {
  uint8_t *buf = malloc(record_size(TALLY_SUMS_MAX));
  int rc = 0;
  if (buf == NULL)
    return -ENOMEM;
  for (size_t b = 0; b < tab->n_buckets && rc == 0; b++)
    for (struct entry *e = tab->bucket[b]; e && rc == 0; e = e->next) {
      int n = e->n;
      const char *unit = cat->units[e->unit].code,
                 *ind = cat->indicators[e->ind].code;
      tally_sums *add = scratch + 1;
      if ((rc = tally_rollup_read(cat, t, e->ind, e->unit, e->period,
                                  scratch)) != 0)
        break;
      entry_sums(e, add);
      tally_sums_add(scratch, add, n, 1);
      if (is_zero(scratch, n)) {
        rc = tally_store_txn_sums_put(t, e->period, unit, ind, NULL, 0);
      } else {
        record_pack(scratch, n, buf);
        rc = tally_store_txn_sums_put(t, e->period, unit, ind, buf,
                                      record_size(n));
      }
    }
  free(buf);
  return rc;
}

static int keeper_flush(void *arg, tally_store_txn *t) {
  tally_rollup *r = arg;
  int rc = 0;
  if (r->settle_error) {
    r->settle_error = 0;
    rc = -ENOMEM;
  } else {
    rc = write_table(r->cat, t, &r->batch, r->scratch);
  }
  table_clear(&r->batch);
  return rc;
}

/* The elements ind's shares are made of, in any period. */
static void mark_inputs(const tally_catalog *cat, int ind, unsigned char *in) {
  const tally_indicator *x = &cat->indicators[ind];
  int one[] = {x->numerator, x->denominator, x->element, x->weight, x->births};
  int groups[] = {x->deaths_groups, x->population_groups,
                  x->numerator_groups, x->denominator_groups};
  for (size_t k = 0; k < sizeof one / sizeof *one; k++)
    if (one[k] >= 0)
      in[one[k]] = 1;
  for (size_t k = 0; k < sizeof groups / sizeof *groups; k++)
    if (groups[k] >= 0)
      for (int j = 0; j < cat->age_groups[groups[k]].n; j++)
        in[cat->age_groups[groups[k]].first + j] = 1;
}

/* Lists the elements each indicator sums, into r->input_list. Returns 0
 * or -ENOMEM. */
static int list_inputs(tally_rollup *r) {
  const tally_catalog *cat = r->cat;
  size_t ne = cat->n_elements ? cat->n_elements : 1, listed = 0;
  unsigned char *in = calloc(cat->n_indicators ? cat->n_indicators : 1, ne);
  if (in == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < cat->n_indicators; i++) {
    mark_inputs(cat, (int)i, in + i * ne);
    for (size_t e = 0; e < cat->n_elements; e++)
      listed += in[i * ne + e];
  }
  r->input_list = malloc((listed ? listed : 1) * sizeof *r->input_list);
  r->input_first = malloc((cat->n_indicators + 1) * sizeof *r->input_first);
  if (r->input_list == NULL || r->input_first == NULL) {
    free(in);
    return -ENOMEM;
  }
  listed = 0;
  for (size_t i = 0; i < cat->n_indicators; i++) {
    r->input_first[i] = listed;
    for (size_t e = 0; e < cat->n_elements; e++)
      if (in[i * ne + e])
        r->input_list[listed++] = (int)e;
  }
  r->input_first[cat->n_indicators] = listed;
  free(in);
  return 0;
}

int tally_rollup_new(const tally_catalog *cat, tally_store *store,
                     tally_rollup **out) {
  tally_rollup *r = calloc(1, sizeof *r);
  if (r == NULL)
    return -ENOMEM;
  r->cat = cat;
  r->store = store;
  r->unit = -1;
  size_t ne = cat->n_elements ? cat->n_elements : 1;
  r->changing = calloc(ne, 1);
  if (r->changing == NULL || list_inputs(r) != 0) {
    tally_rollup_free(r);
    return -ENOMEM;
  }
  tally_rows_init(&r->rows, cat, NULL);
  r->keeper = (tally_store_keeper){r, keeper_begin, keeper_before,
                                   keeper_after, keeper_settle, keeper_flush};
  tally_store_set_keeper(store, &r->keeper);
  *out = r;
  return 0;
}

void tally_rollup_free(tally_rollup *r) {
  if (r == NULL)
    return;
  tally_store_set_keeper(r->store, NULL);
  for (int i = 0; i < r->cap_shares; i++)
    free(r->shares[i].sums);
  free(r->shares);
  free(r->all.period);
  free(r->touched.period);
  free(r->reported.period);
  free(r->unreported.period);
  free(r->input_list);
  free(r->input_first);
  free(r->changing);
  table_clear(&r->batch);
  tally_rows_free(&r->rows);
  free(r);
}

/* ---- made afresh: rebuilt, or remade to verify ---- */

/* What the records were made for: this file's record format and the way
 * shares are made (raise the number when either changes), and the
 * catalog. */
#define SUMS_FORMAT "sums/2" /* 2: the period's sums over the units in
                                 both periods too */
static void sums_stamp(const tally_catalog *cat, char *buf, size_t n) {
  snprintf(buf, n, "%s %016llx", SUMS_FORMAT, cat->fingerprint);
}

struct remake {
  const tally_catalog *cat;
  tally_store_txn *txn;
  tally_rows rows;
  struct table table;     /* the sums of the period being read */
  uint32_t period;        /* 0: none yet */
  uint64_t reports;
  tally_sums share[2];
  /* What to do with each period's table. */
  int (*done)(struct remake *m);
  tally_rollup_check *check;
};

/* Adds unit's shares of period to the table, finishing the table of the
 * previous period first. */
static int remake_report(void *arg, uint32_t period, const char *unit) {
  struct remake *m = arg;
  const tally_catalog *cat = m->cat;
  tally_period p;
  int rc, u = tally_catalog_unit(cat, unit);
  if (period != m->period) {
    if (m->period && (rc = m->done(m)) != 0)
      return rc;
    table_clear(&m->table);
    m->period = period;
  }
  if (u < 0 || !cat->units[u].is_leaf || cat->units[u].parent < 0 ||
      tally_period_from_key(period, &p) != 0)
    return 0;
  m->reports++;
  for (size_t ind = 0; ind < cat->n_indicators; ind++) {
    if (!tally_indicator_kept(cat, (int)ind))
      continue;
    int n = tally_sums_size(cat, (int)ind);
    if ((rc = tally_sums_unit(cat, (int)ind, &m->rows.src, u, &p,
                              m->share)) != 0)
      return rc;
    if (!is_zero(m->share, n) &&
        (rc = add_to_ancestors(cat, &m->table, period, u, (int)ind, m->share,
                               n)) != 0)
      return rc;
  }
  return 0;
}

static int remake(struct remake *m) {
  tally_rows_init(&m->rows, m->cat, m->txn);
  int rc = tally_store_txn_reports(m->txn, 0, remake_report, m);
  if (rc == 0 && m->period)
    rc = m->done(m);
  table_clear(&m->table);
  tally_rows_free(&m->rows);
  return rc;
}

static int rebuild_done(struct remake *m) {
  return write_table(m->cat, m->txn, &m->table, m->share);
}

static int rebuild_txn(void *arg, tally_store_txn *t) {
  struct remake *m = arg;
  char fp[32];
  m->txn = t;
  m->period = 0;
  m->reports = 0;
  int rc = tally_store_txn_sums_clear(t);
  if (rc == 0)
    rc = remake(m);
  sums_stamp(m->cat, fp, sizeof fp);
  if (rc == 0)
    rc = tally_store_txn_meta_put(t, "sums_catalog", fp);
  return rc;
}

int tally_rollup_prepare(tally_rollup *r, int *rebuilt, uint64_t *reports) {
  tally_store_txn *t;
  char have[32] = "", want[32];
  sums_stamp(r->cat, want, sizeof want);
  *rebuilt = 0;
  *reports = 0;
  int rc = tally_store_read_begin(r->store, &t);
  if (rc != 0)
    return rc;
  rc = tally_store_txn_meta_get(t, "sums_catalog", have, sizeof have);
  tally_store_txn_end(t);
  if (rc != 0 && rc != TALLY_ENOTFOUND)
    return rc;
  if (rc == 0 && strcmp(have, want) == 0)
    return 0;
  struct remake *m = calloc(1, sizeof *m);
  if (m == NULL)
    return -ENOMEM;
  m->cat = r->cat;
  m->done = rebuild_done;
  rc = tally_store_write(r->store, rebuild_txn, m);
  *reports = m->reports;
  *rebuilt = rc == 0;
  free(m);
  return rc;
}

/* ---- verify ---- */

static int is_zero_entry(const struct entry *e) {
  if (e->counted || e->both || e->misses)
    return 0;
  for (int k = 0; k < RECORD_SETS * e->n; k++)
    if (e->v[k])
      return 0;
  return 1;
}

static void mismatch(tally_rollup_check *c, uint32_t period, const char *unit,
                     const char *ind, const char *what) {
  tally_period p;
  char ptext[TALLY_PERIOD_STRLEN] = "?";
  size_t len = strlen(c->first);
  if (tally_period_from_key(period, &p) == 0)
    tally_period_format(&p, ptext);
  if (c->mismatches++ < 5)
    snprintf(c->first + len, sizeof c->first - len, "%s%s %s %s: %s",
             len ? "; " : "", ptext, unit, ind, what);
}

/* Each remade sums of the period against its stored record. */
static int verify_done(struct remake *m) {
  const tally_catalog *cat = m->cat;
  tally_sums *stored = &m->share[0], *made = &m->share[1];
  for (size_t b = 0; b < m->table.n_buckets; b++)
    for (struct entry *e = m->table.bucket[b]; e; e = e->next) {
      const char *unit = cat->units[e->unit].code,
                 *ind = cat->indicators[e->ind].code;
      entry_sums(e, made);
      if (is_zero(made, e->n))
        continue; /* shares that cancel: no record is kept */
      m->check->records++;
      int rc = tally_rollup_read(cat, m->txn, e->ind, e->unit, e->period,
                                 stored);
      if (rc == TALLY_ESTORE) {
        mismatch(m->check, e->period, unit, ind, "a record that does not "
                 "decode");
        continue;
      }
      if (rc != 0)
        return rc;
      if (!tally_sums_equal(stored, made, e->n))
        mismatch(m->check, e->period, unit, ind,
                 is_zero(stored, e->n) ? "missing" : "differs");
    }
  return 0;
}

/* A stored record must be one of those remade. */
static int verify_extra(void *arg, uint32_t period, const char *unit,
                        const char *indicator, const void *data, size_t len) {
  struct remake *m = arg;
  const tally_catalog *cat = m->cat;
  int u = tally_catalog_unit(cat, unit),
      ind = tally_catalog_indicator(cat, indicator);
  (void)data;
  (void)len;
  if (u < 0 || ind < 0 || cat->units[u].is_leaf ||
      !tally_indicator_kept(cat, ind)) {
    mismatch(m->check, period, unit, indicator, "a record no unit or "
             "indicator of the catalog has");
    return 0;
  }
  struct entry *e = table_find(&m->table, period, u, ind);
  if (e == NULL || is_zero_entry(e))
    mismatch(m->check, period, unit, indicator,
             "a record the figures do not make");
  return 0;
}

static int verify_period_done(struct remake *m) {
  int rc = verify_done(m);
  if (rc == 0)
    rc = tally_store_txn_sums_scan(m->txn, m->period, verify_extra, m);
  return rc;
}

/* Records of a period without any report. */
static int verify_orphans(void *arg, uint32_t period, const char *unit,
                          const char *indicator, const void *data,
                          size_t len) {
  struct remake *m = arg;
  uint32_t first;
  (void)data;
  (void)len;
  int rc = tally_store_txn_next_period(m->txn, period - 1, &first);
  if (rc == TALLY_ENOTFOUND || (rc == 0 && first != period))
    mismatch(m->check, period, unit, indicator,
             "a record of a period without figures");
  return rc == TALLY_ENOTFOUND ? 0 : rc;
}

int tally_rollup_verify(const tally_catalog *cat, tally_store *store,
                        tally_rollup_check *out) {
  struct remake *m = calloc(1, sizeof *m);
  char have[32] = "", want[32];
  int rc;
  memset(out, 0, sizeof *out);
  if (m == NULL)
    return -ENOMEM;
  m->cat = cat;
  m->done = verify_period_done;
  m->check = out;
  if ((rc = tally_store_read_begin(store, &m->txn)) != 0) {
    free(m);
    return rc;
  }
  sums_stamp(cat, want, sizeof want);
  rc = tally_store_txn_meta_get(m->txn, "sums_catalog", have, sizeof have);
  if (rc == 0 && strcmp(have, want) != 0)
    mismatch(out, 0, "-", "-", "the sums were made for another catalog");
  rc = remake(m);
  if (rc == 0)
    rc = tally_store_txn_sums_scan(m->txn, 0, verify_orphans, m);
  out->reports = m->reports;
  tally_store_txn_end(m->txn);
  free(m);
  return rc;
}
