/* flags.h: figures that moved sharply against the same period a year
 * before. They are stored as sent and flagged, so that someone checks
 * them: a slipped digit, a figure of another period or unit. tally
 * submit asks for its unit's after each acknowledgement (off the
 * server's write path); tally check lists them.
 *
 * The rule: a change of more than TALLY_FLAG_CHANGE up or down and, for
 * a count, more than TALLY_FLAG_SIGMAS standard deviations of the
 * difference of two Poisson counts, |x - p| > 3 sqrt(x + p), so that 1
 * infant death after 3 is not flagged and 40 after 13 is: the z-test of
 * interval.h (tally_interval_differ) that reports make at 95 % on a
 * change of an indicator. Status elements (milestones) are not
 * compared.
 */
#ifndef TALLY_FLAGS_H
#define TALLY_FLAGS_H

#include "arena.h"
#include "catalog.h"
#include "period.h"
#include "store.h"
#include "tally.pb-c.h"

#define TALLY_FLAG_CHANGE 0.30
#define TALLY_FLAG_SIGMAS 3.0

/* Whether value is a sharp change on previous for an element of type. */
int tally_flag_sharp(tally_element_type type, double previous, double value);

/* The same period a year before p. Returns 0 or TALLY_EPERIOD. */
int tally_flag_base(const tally_period *p, tally_period *out);

/* The flags of period: of every reporting unit within scope (and the
 * root's own figures when scope is the root), or with own of scope's own
 * figures alone. Returns 0 and *out in arena, -ENOMEM or a store error. */
int tally_flags_of_period(const tally_catalog *cat, tally_store *store,
                          const tally_period *period, int scope, int own,
                          tally_arena *arena, Tally__CheckReply **out);

#endif
