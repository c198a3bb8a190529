/* flags.c: figures that moved sharply against a year before. */
#include "flags.h"

#include "error.h"
#include "interval.h"
#include "rows.h"
#include "store_figures.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int tally_flag_sharp(tally_element_type type, double previous, double value) {
  double diff = fabs(value - previous);
  if (type == TALLY_ELEMENT_STATUS || diff == 0)
    return 0;
  /* Within 30% (a previous 0: any change is more). The margin keeps an
   * exact 30% within, whatever the rounding of the binary fractions. */
  if (diff <= TALLY_FLAG_CHANGE * previous * (1 + 1e-9))
    return 0;
  /* Small counts: chance explains it. Two Poisson counts, each its own
   * variance: the z-test reports make of two periods' values. */
  if (type == TALLY_ELEMENT_COUNT &&
      tally_interval_differ(value, value, previous, previous,
                            TALLY_FLAG_SIGMAS) == 0)
    return 0;
  return 1;
}

int tally_flag_base(const tally_period *p, tally_period *out) {
  if (p->year <= TALLY_PERIOD_MIN_YEAR)
    return TALLY_EPERIOD;
  *out = *p;
  out->year--;
  return 0;
}

/* One unit's figures of one period (tally_rows_read's). */
struct figures {
  const double *value;
  const unsigned char *has;
};

/* A flagged figure: a catalog element, its value and the one before. */
typedef struct {
  int element;
  double value, previous;
} tally_flag;

/* The message of flag f of unit in arena; NULL when out of memory. */
static Tally__Flag *flag_msg(const tally_catalog *cat, const char *unit,
                             const char *base_period, const tally_flag *f,
                             tally_arena *arena) {
  const tally_element *el = &cat->elements[f->element];
  Tally__Flag *m = tally_arena_alloc(arena, sizeof *m);
  if (m == NULL)
    return NULL;
  tally__flag__init(m);
  m->unit = (char *)unit;
  m->element = el->code;
  m->name_zh = el->name_zh;
  m->name_en = el->name_en;
  m->value = f->value;
  m->previous = f->previous;
  m->base_period = (char *)base_period;
  return m;
}

/* Compares one unit's figures of two periods, adding its flags to rep. */
static int flag_unit(const tally_catalog *cat, int u, const struct figures *now,
                     const struct figures *before, tally_arena *arena,
                     Tally__CheckReply *rep, size_t *cap) {
  for (size_t e = 0; e < cat->n_elements; e++) {
    if (!now->has[e] || !before->has[e] ||
        cat->elements[e].type == TALLY_ELEMENT_STATUS)
      continue;
    rep->compared++;
    tally_flag f = {(int)e, now->value[e], before->value[e]};
    if (!tally_flag_sharp(cat->elements[e].type, f.previous, f.value))
      continue;
    Tally__Flag *m = flag_msg(cat, cat->units[u].code, rep->base_period, &f,
                              arena);
    if (m == NULL || tally_arena_reserve(arena, &rep->flags, rep->n_flags,
                                         cap, sizeof *rep->flags) != 0)
      return -ENOMEM;
    rep->flags[rep->n_flags++] = m;
  }
  return 0;
}

int tally_flags_of_period(const tally_catalog *cat, tally_store *store,
                          const tally_period *period, int scope, int own,
                          tally_arena *arena, Tally__CheckReply **out) {
  char text[TALLY_PERIOD_STRLEN];
  tally_period base;
  struct figures now, before;
  tally_rows rows;
  tally_store_txn *txn = NULL;
  size_t cap = 0;
  int rc = -ENOMEM;

  Tally__CheckReply *rep = tally_arena_alloc(arena, sizeof *rep);
  if (rep == NULL)
    return -ENOMEM;
  tally__check_reply__init(rep);
  rep->unit = cat->units[scope].code;
  rep->own = own && !cat->units[scope].is_leaf; /* a leaf has no others */
  if ((rep->period = tally_arena_strdup(
           arena, tally_period_format(period, text))) == NULL)
    return -ENOMEM;
  if (tally_flag_base(period, &base) != 0) { /* nothing before 1900 */
    *out = rep;
    return 0;
  }
  if ((rep->base_period = tally_arena_strdup(
           arena, tally_period_format(&base, text))) == NULL ||
      (rc = tally_store_read_begin(store, &txn)) != 0)
    goto out;
  tally_rows_init(&rows, cat, txn);
  /* Every reporting unit in scope, and the root for what it reports. */
  for (size_t u = 0; u < cat->n_units && rc == 0; u++) {
    if (own ? (int)u != scope
            : !(cat->units[u].is_leaf || (int)u == cat->root) ||
                  !tally_catalog_unit_within(cat, (int)u, scope))
      continue;
    /* Both rows stay valid: at most one other is read after now. */
    if ((rc = tally_rows_read(&rows, (int)u, period, &now.value,
                              &now.has)) == 0 &&
        (rc = tally_rows_read(&rows, (int)u, &base, &before.value,
                              &before.has)) == 0)
      rc = flag_unit(cat, (int)u, &now, &before, arena, rep, &cap);
  }
  if (rc == 0)
    *out = rep;
  tally_rows_free(&rows);
out:
  if (txn)
    tally_store_txn_end(txn);
  return rc;
}
