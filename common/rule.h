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

/* A rule a unit's figures break. */
typedef struct {
  int rule;            /* index into cat->rules */
  double left, right;  /* its two sides' values (an outlier test's: its
                          figure and the median of its years; or its
                          numerator and denominator) */
  double centre;       /* units: the count the others' rate expects */
  double spread;       /* history: the MAD; units: the others' rate */
  double score;        /* history: the modified z-score; units: p */
} tally_violation;

/* A violation in words, Chinese first: "婴儿死亡数不能多于活产数 / infant
 * deaths cannot exceed live births: infant_deaths = 2000, live_births =
 * 1255 (infant_deaths <= live_births)". Returns the length needed, as
 * snprintf. */
int tally_violation_text(const tally_catalog *cat, const tally_violation *v,
                         char *buf, size_t n);

/* A violation as the reply to a submission lists it: "error CODE: TEXT;
 * 请更正 / correct the figures", or for a warning "warning CODE: TEXT;
 * ... --explain CODE=\"...\"". Returns the length needed. */
int tally_violation_detail(const tally_catalog *cat, const tally_violation *v,
                           char *buf, size_t n);

/* NULL when code is a warning rule of cat, which figures may be sent
 * with an explanation of; else why it cannot be explained ("is not a
 * rule of the catalog", "is an error rule ..."). */
const char *tally_rule_unexplainable(const tally_catalog *cat,
                                     const char *code);

/* The words a submission refused by its rules opens with: "UNIT PERIOD
 * 的数据未通过 N 条审核公式，未保存 / the figures of UNIT for PERIOD break N
 * of the catalog's rules (errors must be fixed); nothing was stored". */
int tally_rules_refusal(const char *unit, const char *period, size_t broken,
                        size_t errors, char *buf, size_t n);

#endif
