/* report.h: reports, explanations and completeness of one period, built
 * from the store through the indicator engine. */
#ifndef TALLY_REPORT_H
#define TALLY_REPORT_H

#include "arena.h"
#include "catalog.h"
#include "period.h"
#include "store.h"
#include "tally.pb-c.h"

/* Targets entered on the server (tally target set), for the engine. */
typedef struct tally_report_targets tally_report_targets;
struct tally_report_targets {
  /* The target entered for indicator ind and year, or NULL. */
  const tally_target *(*find)(const tally_report_targets *t, int ind,
                              int year);
};

typedef struct {
  int indicator;  /* only this indicator, or -1 */
  int plan;       /* only this plan's, or -1 */
  int name_missing; /* name units left out in a scope of any size */
  int as_approved;  /* from the figures as last approved at or before */
  int64_t at;       /* at (0: now), made into sums afresh */
} tally_report_filter;

/* Builds the report of period for scope (a unit index) in arena, from
 * the snapshot txn. targets and filter may be NULL. Returns 0 and *out, or -ENOMEM. */
int tally_report_build(const tally_catalog *cat, tally_store_txn *txn,
                       const tally_report_targets *targets,
                       const tally_period *period, int scope,
                       const tally_report_filter *filter, tally_arena *arena,
                       Tally__ReportReply **out);

/* Indicator ind for scope, with each reporting unit's own figures. */
int tally_report_explain(const tally_catalog *cat, tally_store_txn *txn,
                         const tally_report_targets *targets,
                         const tally_period *period, int scope, int ind,
                         tally_arena *arena, Tally__ExplainReply **out);

/* The most rows a trend gives (years, times the scope and its units). */
#define TALLY_TREND_ROWS_MAX 20000

/* Indicator ind for scope in each year from..to, and with units for
 * each unit directly below scope. Returns 0 and *out, or -ENOMEM. */
int tally_report_trend(const tally_catalog *cat, tally_store_txn *txn,
                       const tally_report_targets *targets, int ind,
                       int scope, int from, int to, int units,
                       tally_arena *arena, Tally__TrendReply **out);

/* Each unit directly below scope against every indicator of plan (-1:
 * both) the units' figures make, for period. */
int tally_report_matrix(const tally_catalog *cat, tally_store_txn *txn,
                        const tally_report_targets *targets,
                        const tally_period *period, int scope, int plan,
                        tally_arena *arena, Tally__MatrixReply **out);

/* Which units in scope reported which data elements for period (with
 * counts_only, how many, not which are missing). */
int tally_report_completeness(const tally_catalog *cat, tally_store_txn *txn,
                              const tally_period *period, int scope,
                              int counts_only, tally_arena *arena,
                              Tally__CompletenessReply **out);

#endif
