/* validate.c: the catalog's rules checked on a unit's figures. */
#include "validate.h"

#include "error.h"
#include "outlier.h"
#include "rule.h"
#include "store_figures.h"

#include <errno.h>

#include <stdio.h>

/* True when rule r is checked on unit. */
static int for_unit(const tally_catalog *cat, const tally_rule *r, int unit) {
  return r->district ? unit == cat->root : cat->units[unit].is_leaf;
}

/* True when r reads an element touched. */
static int touches(const tally_rule *r, const unsigned char *touched) {
  for (size_t i = 0; i < r->left.n; i++)
    if (touched[r->left.elements[i]])
      return 1;
  for (size_t i = 0; i < r->right.n; i++)
    if (touched[r->right.elements[i]])
      return 1;
  return 0;
}

int tally_validate_checks(const tally_catalog *cat, int r, int unit,
                          const unsigned char *touched) {
  const tally_rule *rule = &cat->rules[r];
  return for_unit(cat, rule, unit) && (!touched || touches(rule, touched));
}

int tally_validate(const tally_catalog *cat, tally_rows *rows, int unit,
                   const tally_period *p, const unsigned char *touched,
                   tally_violation *out, size_t *n) {
  const double *value;
  const unsigned char *has;
  int rc = tally_rows_read(rows, unit, p, &value, &has);
  *n = 0;
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < cat->n_rules; i++) {
    const tally_rule *r = &cat->rules[i];
    tally_violation v = {(int)i, 0, 0, 0, 0, 0};
    if (!tally_validate_checks(cat, (int)i, unit, touched))
      continue;
    if (tally_rule_check(r, value, has, &v.left, &v.right) ==
        TALLY_RULE_BROKEN)
      out[(*n)++] = v;
  }
  /* The outlier tests read other rows (the row above is then no longer
   * to be used): after the rest, as they come last in the catalog. */
  for (size_t i = 0; i < cat->n_rules; i++) {
    if (cat->rules[i].test == TALLY_RULE_COMPARE ||
        !tally_validate_checks(cat, (int)i, unit, touched))
      continue;
    rc = tally_outlier_check(cat, rows, (int)i, unit, p, &out[*n]);
    if (rc < 0)
      return rc;
    *n += rc == 1;
  }
  return 0;
}

struct explained {
  const tally_violation *v;
  tally_arena *arena;
  const char *text;
  int no_memory;
};

static int take_if_same(void *arg, const void *packed, size_t len) {
  struct explained *x = arg;
  Tally__Explanation *e = tally__explanation__unpack(NULL, len, packed);
  if (e == NULL)
    return 0; /* unreadable: as if there were none */
  if (e->left == x->v->left && e->right == x->v->right) {
    x->text = x->arena ? tally_arena_strdup(x->arena, e->text) : "";
    x->no_memory = x->text == NULL;
  }
  tally__explanation__free_unpacked(e, NULL);
  return 0;
}

int tally_validate_explained(tally_store_txn *t, uint32_t period_key,
                             const char *unit, const tally_catalog *cat,
                             const tally_violation *v, tally_arena *arena,
                             const char **text) {
  struct explained x = {v, arena, NULL, 0};
  int rc = tally_store_txn_explanation_get(t, period_key, unit,
                                           cat->rules[v->rule].code,
                                           take_if_same, &x);
  *text = x.text;
  if (x.no_memory)
    return -ENOMEM;
  return rc == TALLY_ENOTFOUND ? 0 : rc;
}

Tally__Violation *tally_violation_message(const tally_catalog *cat,
                                          const tally_violation *v, int unit,
                                          tally_arena *arena) {
  const tally_rule *rule = &cat->rules[v->rule];
  Tally__Violation *m = tally_arena_alloc(arena, sizeof *m);
  char text[800];
  if (m == NULL)
    return NULL;
  tally__violation__init(m);
  tally_violation_text(cat, v, text, sizeof text);
  m->unit = cat->units[unit].code;
  m->rule = rule->code;
  m->warning = rule->warning;
  m->left = v->left;
  m->right = v->right;
  m->explanation = "";
  return (m->message = tally_arena_strdup(arena, text)) ? m : NULL;
}
