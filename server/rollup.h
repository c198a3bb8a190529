/* rollup.h: each indicator's sums, per period, for every inner unit of
 * the tree, kept in the store up to date with the figures.
 *
 * A report for an inner unit (the district, a city, a province) reads
 * one sums record per indicator instead of every unit's figures. The
 * sums change in the same transaction as the figures they come from:
 * before a submission is applied the rollup takes the unit's share of
 * every indicator it touches (in that period, and in the periods that
 * look back at it: the next one, the years of a cumulative sum, every
 * period of an intensity's base year), takes it again after, and adds
 * the difference to the unit's every ancestor. Shares are exact
 * (tally_amount), so a record kept this way equals one made afresh.
 *
 * The records are made for one catalog: when tallyd starts with another
 * (or on a store that has none), they are made afresh from the figures.
 * tally_rollup_verify remakes them in memory and compares.
 */
#ifndef TALLY_ROLLUP_H
#define TALLY_ROLLUP_H

#include "catalog.h"
#include "indicator.h"
#include "store.h"

#include <stdint.h>

/* The kept sums of ind for the inner unit scope and period, in txn
 * (all zero when none are kept). Returns 0, -ENOMEM or TALLY_ESTORE
 * (a record that does not decode). */
int tally_rollup_read(const tally_catalog *cat, tally_store_txn *txn, int ind,
                      int scope, uint32_t period, tally_sums *out);

typedef struct tally_rollup tally_rollup;

/* Keeps the sums of store for cat from now on (the store's keeper).
 * Returns 0 or -ENOMEM. */
int tally_rollup_new(const tally_catalog *cat, tally_store *store,
                     tally_rollup **out);
/* Stops keeping them. */
void tally_rollup_free(tally_rollup *r);

/* Makes the sums afresh when they were made for another catalog or never
 * (*rebuilt = 1, *reports = the reports read). Returns 0 or an error. */
int tally_rollup_prepare(tally_rollup *r, int *rebuilt, uint64_t *reports);

typedef struct {
  uint64_t reports;    /* unit reports read */
  uint64_t records;    /* sums records compared */
  uint64_t mismatches; /* records that differ, are missing or are extra */
  char first[512];     /* the first few, in words */
} tally_rollup_check;

/* Remakes every sums record from the figures, in one snapshot, and
 * compares it with the stored one. Returns 0 (see out->mismatches) or an
 * error. Safe on another thread than the writer's. */
int tally_rollup_verify(const tally_catalog *cat, tally_store *store,
                        tally_rollup_check *out);

#endif
