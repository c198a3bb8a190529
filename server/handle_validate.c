/* handle_validate.c: the catalog's rules over what is stored.
 *
 * For figures stored before a rule existed, or sent in several files: a
 * unit's figures of a period, or those of every reporting unit within a
 * unit (the district's own included when the scope is the district), are
 * checked against every rule (validate.h) in one snapshot; each broken
 * rule is listed, a warning with the explanation kept for it.
 */
#include "handlers.h"

#include "error.h"
#include "reply.h"
#include "rows.h"
#include "store_figures.h"
#include "validate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct validate_ctx {
  tally_request *r;
  Tally__ValidateReply *rep;
  size_t cap;
};

/* Checks one unit's figures; adds a Violation for each broken rule. */
static int validate_unit(struct validate_ctx *vc, tally_store_txn *txn,
                         tally_rows *rows, int unit, const tally_period *p,
                         tally_violation *broken) {
  const tally_catalog *cat = vc->r->cat;
  size_t n;
  int rc = tally_validate(cat, rows, unit, p, NULL, broken, &n);
  if (rc != 0)
    return rc;
  vc->rep->units++;
  for (size_t i = 0; i < n; i++) {
    const tally_rule *rule = &cat->rules[broken[i].rule];
    Tally__Violation *v =
        tally_violation_message(cat, &broken[i], unit, vc->r->arena);
    if (v == NULL ||
        tally_arena_reserve(vc->r->arena, &vc->rep->violations,
                            vc->rep->n_violations, &vc->cap,
                            sizeof *vc->rep->violations) != 0)
      return -ENOMEM;
    if (rule->warning) {
      const char *kept;
      if ((rc = tally_validate_explained(txn, tally_period_key(p),
                                         cat->units[unit].code, cat,
                                         &broken[i], vc->r->arena, &kept)))
        return rc;
      v->explanation = kept ? (char *)kept : "";
    }
    vc->rep->violations[vc->rep->n_violations++] = v;
  }
  return 0;
}

Tally__Envelope *tally_handle_validate(tally_request *r,
                                        const Tally__Envelope *req) {
  const Tally__ValidateRequest *q = req->validate;
  const tally_catalog *cat = r->cat;
  Tally__Envelope *reply = NULL;
  tally_period p;
  char ptext[TALLY_PERIOD_STRLEN];
  int scope = cat->root;

  if (tally_reply_want_period(r, req->id, q->period, &p, &reply) != 0)
    return reply;
  if (*q->unit &&
      (scope = tally_reply_want_unit(r, req->id, q->unit, &reply)) < 0)
    return reply;
  Tally__ValidateReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  tally_violation *broken = calloc(cat->n_rules + 1, sizeof *broken);
  if (rep == NULL || broken == NULL) {
    free(broken);
    return NULL;
  }
  tally__validate_reply__init(rep);
  rep->period = tally_arena_strdup(r->arena, tally_period_format(&p, ptext));
  rep->rules = (uint32_t)cat->n_rules;
  struct validate_ctx vc = {r, rep, 0};
  tally_store_txn *txn = NULL;
  tally_rows rows;
  int rc = tally_store_read_begin(r->store, &txn);
  tally_rows_init(&rows, cat, txn);
  /* A reporting unit's own figures; a unit above them: theirs, and the
   * district's own when it is the district. */
  for (size_t u = 0; rc == 0 && u < cat->n_units; u++) {
    int own = (int)u == scope && (cat->units[u].is_leaf || (int)u == cat->root);
    int below = cat->units[u].is_leaf && tally_catalog_unit_within(cat, (int)u,
                                                                  scope);
    if (own || below)
      rc = validate_unit(&vc, txn, &rows, (int)u, &p, broken);
    tally_rows_reset(&rows);
  }
  tally_rows_free(&rows);
  tally_store_txn_end(txn);
  free(broken);
  if (rc != 0 || rep->period == NULL)
    return rep->period ? tally_reply_read_failed(r, req->id, rc) : NULL;
  if ((reply = tally_reply_new(r, req->id)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_VALIDATE_REPLY;
  reply->validate_reply = rep;
  return reply;
}
