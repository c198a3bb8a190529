/* validate.h: the catalog's rules (rule.h) checked on one unit's figures
 * of one period as they stand in a store transaction: in a submission's
 * write, on the writer thread, and over what is stored (tally validate).
 * A rule is checked on the units it is for: the district's rules on the
 * root, the others on the reporting units.
 */
#ifndef TALLY_VALIDATE_H
#define TALLY_VALIDATE_H

#include "arena.h"
#include "catalog.h"
#include "period.h"
#include "rows.h"
#include "rule.h"
#include "tally.pb-c.h"

#include <stddef.h>

/* The rules unit's figures of p break, read through rows (on the
 * transaction to check), into out (cat->n_rules at most); with touched
 * (cat->n_elements flags), only the rules that read an element touched.
 * Returns 0 and *n, or -ENOMEM or a store error. */
int tally_validate(const tally_catalog *cat, tally_rows *rows, int unit,
                   const tally_period *p, const unsigned char *touched,
                   tally_violation *out, size_t *n);

/* True when tally_validate checks rule r on unit (with touched as it
 * would be given). */
int tally_validate_checks(const tally_catalog *cat, int r, int unit,
                          const unsigned char *touched);

/* The explanation kept with unit's report of the period key for v's
 * rule, when it was given for these very figures (the rule's two sides
 * as they are now): its text copied into arena (NULL: "" when there is
 * one, not copied), in *text; NULL when there is none, or when it was
 * given for other figures. Returns 0, -ENOMEM or a store error. */
int tally_validate_explained(tally_store_txn *t, uint32_t period_key,
                             const char *unit, const tally_catalog *cat,
                             const tally_violation *v, tally_arena *arena,
                             const char **text);

/* unit's violation v as a reply's Violation, in arena: its unit, rule,
 * severity, words and sides; explanation "" (the caller's to set). NULL
 * when out of memory. */
Tally__Violation *tally_violation_message(const tally_catalog *cat,
                                          const tally_violation *v, int unit,
                                          tally_arena *arena);

#endif
