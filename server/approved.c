/* approved.c: which units of a scope an as-approved report takes its
 * figures from, when each was approved, and how its live figures
 * differ from the approved ones.
 *
 * The happy path: for each reporting unit in the scope, its last
 * approval at or before the report's time is read, then its live
 * figures, and the two lists (both in element order, as the store
 * keeps them) are merged into the differences.
 * The failure modes: no memory, or a store error, fails the list; an
 * approval that does not decode counts as none.
 */
#include "approved.h"

#include "handlers.h"
#include "reply.h"
#include "store_audit.h"
#include "store_figures.h"

#include <errno.h>
#include <string.h>

struct live {
  tally_arena *a;
  const char **element;
  double *value;
  size_t n, cap, vcap;
};

static int take_live(void *arg, const char *unit, const char *element,
                     double value, int64_t updated) {
  struct live *l = arg;
  (void)unit;
  (void)updated;
  if (tally_arena_reserve(l->a, &l->element, l->n, &l->cap,
                          sizeof *l->element) != 0 ||
      tally_arena_reserve(l->a, &l->value, l->n, &l->vcap,
                          sizeof *l->value) != 0)
    return -ENOMEM;
  if ((l->element[l->n] = tally_arena_strdup(l->a, element)) == NULL)
    return -ENOMEM;
  l->value[l->n++] = value;
  return 0;
}

struct found {
  ProtobufCAllocator alloc;
  Tally__Approval *ap;
};

static int take_approval(void *arg, const char *unit, const void *packed,
                         size_t len) {
  struct found *f = arg;
  (void)unit;
  f->ap = tally__approval__unpack(&f->alloc, len, packed);
  return 0;
}

static Tally__FigureDifference *difference(tally_arena *a, const char *element) {
  Tally__FigureDifference *d = tally_arena_alloc(a, sizeof *d);
  if (d) {
    tally__figure_difference__init(d);
    d->element = (char *)element;
  }
  return d;
}

/* u->differences: the approved figures ap against the live ones. */
static int differ(tally_arena *a, const Tally__Approval *ap,
                  const struct live *l, Tally__ApprovedUnit *u) {
  size_t i = 0, k = 0, cap = 0;
  while (i < ap->n_values || k < l->n) {
    int cmp = i == ap->n_values ? 1
              : k == l->n       ? -1
                                : strcmp(ap->values[i]->element, l->element[k]);
    Tally__FigureDifference *d = NULL;
    if (cmp < 0) { /* removed since */
      if ((d = difference(a, ap->values[i]->element)) == NULL)
        return -ENOMEM;
      d->has_approved = 1;
      d->approved = ap->values[i++]->value;
    } else if (cmp > 0) { /* added since */
      if ((d = difference(a, l->element[k])) == NULL)
        return -ENOMEM;
      d->has_live = 1;
      d->live = l->value[k++];
    } else if (ap->values[i]->value != l->value[k]) { /* corrected */
      if ((d = difference(a, l->element[k])) == NULL)
        return -ENOMEM;
      d->has_approved = d->has_live = 1;
      d->approved = ap->values[i++]->value;
      d->live = l->value[k++];
    } else {
      i++;
      k++;
      continue;
    }
    if (tally_arena_reserve(a, &u->differences, u->n_differences, &cap,
                            sizeof *u->differences) != 0)
      return -ENOMEM;
    u->differences[u->n_differences++] = d;
  }
  return 0;
}

/* The unit's approval at or before at, into *out (NULL: none). */
static int one_unit(const tally_catalog *cat, tally_store_txn *txn,
                    uint32_t key, int unit, int64_t at, tally_arena *a,
                    Tally__ApprovedUnit **out) {
  const char *code = cat->units[unit].code;
  struct found f = {tally_reply_pb_arena(a), NULL};
  struct live l = {a, NULL, NULL, 0, 0, 0};
  int rc;
  *out = NULL;
  if ((rc = tally_store_txn_approval(txn, key, code, at, take_approval, &f)) !=
          0 ||
      f.ap == NULL)
    return rc;
  Tally__ApprovedUnit *u = tally_arena_alloc(a, sizeof *u);
  if (u == NULL)
    return -ENOMEM;
  tally__approved_unit__init(u);
  u->unit = (char *)code;
  u->approved_unix = f.ap->time_unix;
  u->account_name = f.ap->account_name;
  u->revision = f.ap->revision;
  if ((rc = tally_store_txn_revision(txn, key, code, &u->live_revision)) != 0 ||
      (rc = tally_review_get(txn, key, code, &f.alloc, &u->review)) != 0 ||
      (rc = tally_store_txn_scan(txn, key, code, take_live, &l)) != 0 ||
      (rc = differ(a, f.ap, &l, u)) != 0)
    return rc;
  *out = u;
  return 0;
}

int tally_approved_list(const tally_catalog *cat, tally_store_txn *txn,
                        const tally_period *p, int scope, int64_t at,
                        tally_arena *a, Tally__ReportReply *rep) {
  uint32_t key = tally_period_key(p);
  size_t cap = 0;
  rep->as_approved = 1;
  rep->at_unix = at;
  rep->units_approved = 0;
  for (size_t u = 0; u < cat->n_units; u++) {
    if ((int)u != scope && !(cat->units[u].is_leaf &&
                             tally_catalog_unit_within(cat, (int)u, scope)))
      continue;
    Tally__ApprovedUnit *au;
    int rc = one_unit(cat, txn, key, (int)u, at, a, &au);
    if (rc != 0)
      return rc;
    if (au == NULL)
      continue;
    if (tally_arena_reserve(a, &rep->approved, rep->n_approved, &cap,
                            sizeof *rep->approved) != 0)
      return -ENOMEM;
    rep->approved[rep->n_approved++] = au;
    rep->units_approved++;
  }
  return 0;
}
