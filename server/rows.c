/* rows.c: one unit's figures of one period from a store transaction,
 * the last few kept.
 *
 * The happy path: a row asked for again is found among the slots;
 * else the oldest slot (not the one handed out last) is filled by one
 * range scan of the unit's figures of the period (or one read of its
 * figures as approved).
 * The failure modes: no memory for a slot's arrays, or a store error
 * during the scan; the slot is then left empty and nothing is handed
 * out.
 */
#include "rows.h"

#include "store_audit.h"
#include "store_figures.h"
#include "tally.pb-c.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* What a scan fills. */
struct row_load {
  const tally_catalog *cat;
  double *value;
  unsigned char *has;
  int next; /* the place, in code order, of the element expected next */
};

static int load_value(void *arg, const char *unit, const char *element,
                      double value, int64_t updated) {
  struct row_load *l = arg;
  const tally_catalog *cat = l->cat;
  /* A scan gives the elements in the order of their codes: the one
   * after the last is a good guess. */
  int guess = (size_t)l->next < cat->n_elements ? cat->element_by_code[l->next]
                                                : -1;
  int e = tally_catalog_element_guess(cat, element, guess);
  (void)unit;
  (void)updated;
  if (e >= 0) { /* an element no longer in the catalog is left out */
    l->value[e] = value;
    l->has[e] = 1;
    l->next = cat->element_rank[e] + 1;
  }
  return 0;
}

/* The values of an approval's packed figures, as a scan's. */
static int load_approval(void *arg, const char *unit, const void *packed,
                         size_t len) {
  Tally__Approval *ap = tally__approval__unpack(NULL, len, packed);
  if (ap == NULL)
    return 0; /* not ours to judge: a unit without approved figures */
  for (size_t i = 0; i < ap->n_values; i++)
    load_value(arg, unit, ap->values[i]->element, ap->values[i]->value, 0);
  tally__approval__free_unpacked(ap, NULL);
  return 0;
}

int tally_rows_read(tally_rows *r, int unit, const tally_period *p,
                    const double **value, const unsigned char **has) {
  uint32_t key = tally_period_key(p);
  /* Most often the row handed out last is asked for again. */
  if (r->last >= 0 && r->slot[r->last].unit == unit &&
      r->slot[r->last].period == key) {
    *value = r->slot[r->last].value;
    *has = r->slot[r->last].has;
    return 0;
  }
  for (int i = 0; i < r->used; i++)
    if (r->slot[i].unit == unit && r->slot[i].period == key) {
      *value = r->slot[i].value;
      *has = r->slot[i].has;
      r->last = i;
      return 0;
    }
  /* The oldest slot, unless it holds the row handed out last, which the
   * caller may still be using beside this one. */
  if (r->next == r->last)
    r->next = (r->next + 1) % TALLY_ROWS_KEPT;
  struct tally_row_slot *s = &r->slot[r->next];
  size_t n = r->cat->n_elements ? r->cat->n_elements : 1;
  if (s->value == NULL) {
    double *values = malloc(n * sizeof *values);
    unsigned char *flags = malloc(n);
    if (values == NULL || flags == NULL) {
      free(values);
      free(flags);
      return -ENOMEM;
    }
    s->value = values;
    s->has = flags;
  }
  s->unit = -1;
  memset(s->has, 0, n);
  struct row_load l = {r->cat, s->value, s->has, 0};
  const char *code = r->cat->units[unit].code;
  int rc = r->approved ? tally_store_txn_approval(r->txn, key, code, r->at,
                                                  load_approval, &l)
                       : tally_store_txn_scan(r->txn, key, code, load_value,
                                              &l);
  if (rc != 0)
    return rc;
  s->unit = unit;
  s->period = key;
  if (r->next >= r->used)
    r->used = r->next + 1;
  r->last = r->next;
  r->next = (r->next + 1) % TALLY_ROWS_KEPT;
  *value = s->value;
  *has = s->has;
  return 0;
}

/* The engine's row callback. */
static int rows_row(tally_source *src, int unit, const tally_period *p,
                    const double **value, const unsigned char **has) {
  return tally_rows_read((tally_rows *)src, unit, p, value, has);
}

void tally_rows_init(tally_rows *r, const tally_catalog *cat,
                     tally_store_txn *txn) {
  memset(r, 0, sizeof *r);
  r->src.row = rows_row;
  r->cat = cat;
  r->txn = txn;
  r->last = -1;
  tally_rows_reset(r);
}

void tally_rows_as_approved(tally_rows *r, int64_t at) {
  r->approved = 1;
  r->at = at;
  tally_rows_reset(r);
}

void tally_rows_reset(tally_rows *r) {
  for (int i = 0; i < TALLY_ROWS_KEPT; i++)
    r->slot[i].unit = -1;
  r->next = r->used = 0; /* all empty: filled from the first again */
  r->last = -1;
}

void tally_rows_forget(tally_rows *r, int unit, uint32_t period) {
  for (int i = 0; i < TALLY_ROWS_KEPT; i++)
    if (r->slot[i].unit == unit && r->slot[i].period == period)
      r->slot[i].unit = -1;
}

void tally_rows_free(tally_rows *r) {
  for (int i = 0; i < TALLY_ROWS_KEPT; i++) {
    free(r->slot[i].value);
    free(r->slot[i].has);
    r->slot[i].value = NULL;
    r->slot[i].has = NULL;
    r->slot[i].unit = -1;
  }
}
