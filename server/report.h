/* report.h: the indicator report of one period, built from the store. */
#ifndef TALLY_REPORT_H
#define TALLY_REPORT_H

#include "arena.h"
#include "catalog.h"
#include "period.h"
#include "store.h"
#include "tally.pb-c.h"

/* Builds the report of period for scope (a unit index) in arena: every
 * indicator, or only indicator ind when ind >= 0. Returns 0 and *out,
 * -ENOMEM, or a store error. */
int tally_report_build(const tally_catalog *cat, tally_store *store,
                       const tally_period *period, int scope, int ind,
                       tally_arena *arena, Tally__ReportReply **out);

#endif
