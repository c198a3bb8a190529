/* approved.h: the units an as-approved report takes its figures from,
 * when each was approved, and how its live figures differ since. */
#ifndef TALLY_APPROVED_H
#define TALLY_APPROVED_H

#include "arena.h"
#include "catalog.h"
#include "period.h"
#include "store.h"
#include "tally.pb-c.h"

/* An as-approved report reads each unit's approved figures afresh (the
 * kept sums are the live figures'): a scope of at most this many units. */
#define TALLY_APPROVED_SCOPE_MAX 2000

/* Marks rep as built from the figures as approved at or before at (0:
 * now) and lists, in a, each reporting unit of scope with such an
 * approval: rep->approved, rep->units_approved. Returns 0, -ENOMEM or a
 * store error. */
int tally_approved_list(const tally_catalog *cat, tally_store_txn *txn,
                        const tally_period *p, int scope, int64_t at,
                        tally_arena *a, Tally__ReportReply *rep);

#endif
