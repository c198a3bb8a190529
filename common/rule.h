/* rule.h: a validation rule of the catalog, checked on one unit's
 * figures of one period (catalog.h has the rule; catalog_rules.c loads
 * it).
 *
 * A side's value is factor x (the sum of its elements) + constant. A
 * rule is skipped when any of its elements is missing, or, with
 * skip_if_all, only when all are (the missing then count as 0). "="
 * holds within the rule's tolerance: an absolute one, or a percentage
 * of the right side, whichever is larger.
 */
#ifndef TALLY_RULE_H
#define TALLY_RULE_H

#include "catalog.h"

#include <stddef.h>

typedef enum {
  TALLY_RULE_HOLDS = 0,
  TALLY_RULE_BROKEN,
  TALLY_RULE_SKIPPED
} tally_rule_result;

/* Checks rule r on a row (cat->n_elements values and has-flags, as
 * rows.h reads them). *left and *right get the two sides' values (when
 * not skipped). An outlier test, which reads more than the row, is
 * skipped here (server/outlier.c checks it). */
tally_rule_result tally_rule_check(const tally_rule *r, const double *value,
                                   const unsigned char *has, double *left,
                                   double *right);

/* True when r reads element e. */
int tally_rule_reads(const tally_rule *r, int e);

/* The rule as text: "infant_deaths <= live_births",
 * "midyear_population.0 + ... + midyear_population.65-69 = population_under70",
 * "midyear_population >= 0.9 x resident_population". Returns the length
 * it needed (as snprintf). */
int tally_rule_text(const tally_catalog *cat, const tally_rule *r, char *buf,
                    size_t n);

/* One side as tally_rule_text writes it. */
int tally_rule_side_text(const tally_catalog *cat, const tally_rule_side *s,
                         char *buf, size_t n);

/* "<=", "<", "=", ">=", ">" */
const char *tally_rule_op_text(tally_rule_op op);

#endif
