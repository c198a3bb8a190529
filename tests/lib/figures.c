/* figures.c: units' figures for the engine's tests, in a real store. */
#include "figures.h"

#include "fixture.h"
#include "period.h"
#include "rows.h"
#include "store.h"
#include "store_figures.h"
#include "error.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What is set for one unit and period, not written yet. */
struct pending {
  int unit;
  uint32_t period;
  int drop;                /* remove the figures not among items */
  tally_store_item *items; /* each element once */
  size_t n, cap;
};

struct tally_test_figures {
  const tally_catalog *cat;
  char dir[256];
  tally_store *store;
  tally_store_txn *txn;    /* the snapshot rows reads, or NULL */
  tally_rows rows;
  struct pending *pending;
  size_t n_pending, cap_pending;
};

tally_test_figures *tally_test_figures_new(const tally_catalog *cat) {
  tally_test_figures *f = calloc(1, sizeof *f);
  cr_assert_not_null(f);
  f->cat = cat;
  tally_test_tmpdir(f->dir, sizeof f->dir);
  cr_assert_eq(tally_store_open(f->dir, 0, 0, &f->store), 0);
  tally_rows_init(&f->rows, cat, NULL);
  return f;
}

static void drop_pending(tally_test_figures *f) {
  for (size_t i = 0; i < f->n_pending; i++)
    free(f->pending[i].items);
  f->n_pending = 0;
}

void tally_test_figures_free(tally_test_figures *f) {
  if (f == NULL)
    return;
  tally_rows_free(&f->rows);
  if (f->txn)
    tally_store_txn_end(f->txn);
  tally_store_close(f->store);
  tally_test_rmtree(f->dir);
  drop_pending(f);
  free(f->pending);
  free(f);
}

/* The pending write of unit and period, made if there is none. */
static struct pending *pending_of(tally_test_figures *f, int unit,
                                  const char *period) {
  tally_period p;
  cr_assert_eq(tally_period_parse(period, &p), 0, "period %s", period);
  cr_assert(unit >= 0 && (size_t)unit < f->cat->n_units, "unit %d", unit);
  uint32_t key = tally_period_key(&p);
  for (size_t i = 0; i < f->n_pending; i++)
    if (f->pending[i].unit == unit && f->pending[i].period == key)
      return &f->pending[i];
  if (f->n_pending == f->cap_pending) {
    f->cap_pending = f->cap_pending ? 2 * f->cap_pending : 64;
    f->pending = realloc(f->pending, f->cap_pending * sizeof *f->pending);
    cr_assert_not_null(f->pending);
  }
  struct pending *w = &f->pending[f->n_pending++];
  memset(w, 0, sizeof *w);
  w->unit = unit;
  w->period = key;
  return w;
}

void tally_test_figures_set(tally_test_figures *f, int unit, int element,
                            const char *period, double v) {
  cr_assert(element >= 0 && (size_t)element < f->cat->n_elements,
            "element %d", element);
  struct pending *w = pending_of(f, unit, period);
  const char *code = f->cat->elements[element].code;
  for (size_t i = 0; i < w->n; i++)
    if (strcmp(w->items[i].element, code) == 0) {
      w->items[i].value = v;
      return;
    }
  if (w->n == w->cap) {
    w->cap = w->cap ? 2 * w->cap : 16;
    w->items = realloc(w->items, w->cap * sizeof *w->items);
    cr_assert_not_null(w->items);
  }
  w->items[w->n++] = (tally_store_item){code, v};
}

void tally_test_figures_drop(tally_test_figures *f, int unit,
                             const char *period) {
  struct pending *w = pending_of(f, unit, period);
  w->n = 0;
  w->drop = 1;
}

/* Writes the pending figures, every unit's report of every period in
 * one transaction. */
static void write_pending(tally_test_figures *f) {
  size_t n = f->n_pending;
  if (n == 0)
    return;
  tally_store_submission *subs = calloc(n, sizeof *subs);
  tally_store_result *res = calloc(n, sizeof *res);
  int *codes = calloc(n, sizeof *codes);
  cr_assert(subs && res && codes);
  for (size_t i = 0; i < n; i++) {
    const struct pending *w = &f->pending[i];
    subs[i].unit = f->cat->units[w->unit].code;
    subs[i].period_key = w->period;
    subs[i].items = w->items;
    subs[i].n = w->n;
    subs[i].replace = w->drop;
    subs[i].now = 1700000000;
  }
  cr_assert_eq(tally_store_submit_batch(f->store, subs, n, res, codes), 0);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(codes[i], 0, "figures of %s not written: %d", subs[i].unit,
                 codes[i]);
  free(subs);
  free(res);
  free(codes);
  drop_pending(f);
}

tally_source *tally_test_figures_source(tally_test_figures *f) {
  if (f->txn) {
    tally_store_txn_end(f->txn);
    f->txn = NULL;
  }
  write_pending(f);
  cr_assert_eq(tally_store_read_begin(f->store, &f->txn), 0);
  tally_rows_free(&f->rows);
  tally_rows_init(&f->rows, f->cat, f->txn);
  return &f->rows.src;
}

int tally_test_figures_get(tally_test_figures *f, int unit, int element,
                           const char *period, double *v) {
  tally_period p;
  const double *value;
  const unsigned char *has;
  tally_test_figures_source(f);
  cr_assert_eq(tally_period_parse(period, &p), 0, "period %s", period);
  cr_assert_eq(tally_rows_read(&f->rows, unit, &p, &value, &has), 0);
  if (!has[element])
    return 0;
  *v = value[element];
  return 1;
}

void tally_test_history_write(const char *dir, const char *unit,
                              const char *period, const char *element,
                              int n) {
  enum { BATCH = 256 };
  static tally_store_item items[BATCH];
  static tally_store_submission subs[BATCH];
  static tally_store_result res[BATCH];
  int codes[BATCH];
  tally_period p;
  tally_store *store;
  cr_assert_eq(tally_period_parse(period, &p), 0);
  cr_assert_eq(tally_store_open(dir, 0, 0, &store), 0);
  for (int done = 0; done < n;) {
    int m = n - done < BATCH ? n - done : BATCH;
    for (int k = 0; k < m; k++) {
      /* Each a correction: a value other than the one before. */
      items[k] = (tally_store_item){element, (double)(done + k + 1)};
      subs[k] = (tally_store_submission){.unit = unit,
                                         .period_key = tally_period_key(&p),
                                         .items = &items[k],
                                         .n = 1,
                                         .now = 1700000000 + done + k,
                                         .peer = "127.0.0.1:1",
                                         .account_id = 1,
                                         .account_name = "test admin"};
    }
    cr_assert_eq(tally_store_submit_batch(store, subs, (size_t)m, res, codes),
                 0);
    for (int k = 0; k < m; k++)
      cr_assert_eq(codes[k], 0, "%s", tally_strerror(codes[k]));
    done += m;
  }
  tally_store_close(store);
}

void tally_test_store_reports(tally_test_server *s,
                              const tally_test_report *reports, size_t n) {
  char dir[256];
  int own = s->own_dir;
  tally_store *store;
  snprintf(dir, sizeof dir, "%s", s->dir);
  s->own_dir = 0;
  cr_assert_eq(tally_test_server_stop(s), 0);
  cr_assert_eq(tally_store_open(dir, 0, 0, &store), 0);
  for (size_t i = 0; i < n; i++) {
    tally_period p;
    tally_store_result res;
    cr_assert_eq(tally_period_parse(reports[i].period, &p), 0);
    tally_store_submission sub = {.unit = reports[i].unit,
                                  .period_key = tally_period_key(&p),
                                  .items = reports[i].items,
                                  .n = reports[i].n,
                                  .now = reports[i].now,
                                  .account_id = 1};
    cr_assert_eq(tally_store_submit(store, &sub, &res), 0, "%s %s",
                 reports[i].unit, reports[i].period);
  }
  tally_store_close(store);
  tally_test_server_start_in(s, dir, NULL);
  s->own_dir = own;
  setenv("TALLY_SERVER", s->address, 1);
}
