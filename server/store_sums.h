/* store_sums.h: what the sums kept beside the figures (server/rollup.c)
 * need of the store: a keeper told of every change to figures inside
 * the transaction that makes it, the reports there are, and the sums
 * records themselves (database sums: period | unit | 0x00 | indicator).
 */
#ifndef TALLY_STORE_SUMS_H
#define TALLY_STORE_SUMS_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

struct tally_store_submission; /* store_figures.h */

/* Told of every change to figures, inside the transaction that makes it,
 * so that what depends on them changes in the same commit. Callbacks
 * return 0 or a negative code, which fails the batch. */
typedef struct {
  void *arg;
  /* A batch begins (again, after a retry): forget any earlier one. */
  void (*begin)(void *arg);
  /* The submission's figures are about to change... */
  int (*before)(void *arg, tally_store_txn *t,
                const struct tally_store_submission *sub);
  /* ...and have changed (not called when nothing changed). */
  int (*after)(void *arg, tally_store_txn *t);
  /* The batch's last write was kept (1) or undone (0). */
  void (*settle)(void *arg, int kept);
  /* The batch is about to commit: write what it changed. */
  int (*flush)(void *arg, tally_store_txn *t);
} tally_store_keeper;

/* Sets the keeper (NULL: none) before any write. */
void tally_store_set_keeper(tally_store *s, const tally_store_keeper *k);

/* Visits every report (period, unit) with figures, in key order; fn's
 * non-zero return stops it. From period_key on (0 = all). */
int tally_store_txn_reports(tally_store_txn *t, uint32_t period_key,
                            int (*fn)(void *arg, uint32_t period,
                                      const char *unit),
                            void *arg);

/* 1 when unit has a report for period, 0 when not, or a store error. */
int tally_store_txn_has_report(tally_store_txn *t, uint32_t period_key,
                               const char *unit);

/* The first period after period_key with any report: 0 and *next, or
 * TALLY_ENOTFOUND. */
int tally_store_txn_next_period(tally_store_txn *t, uint32_t period_key,
                                uint32_t *next);

/* The sums record of indicator for unit and period: 0 with *data and
 * *len (valid until the transaction ends or writes), TALLY_ENOTFOUND,
 * or a store error. */
int tally_store_txn_sums_get(tally_store_txn *t, uint32_t period_key,
                             const char *unit, const char *indicator,
                             const void **data, size_t *len);

/* Writes (len > 0) or removes (len 0) a sums record. */
int tally_store_txn_sums_put(tally_store_txn *t, uint32_t period_key,
                             const char *unit, const char *indicator,
                             const void *data, size_t len);

/* Visits the sums records of period_key (every period: 0). */
int tally_store_txn_sums_scan(tally_store_txn *t, uint32_t period_key,
                              int (*fn)(void *arg, uint32_t period,
                                        const char *unit,
                                        const char *indicator,
                                        const void *data, size_t len),
                              void *arg);

/* Removes every sums record. */
int tally_store_txn_sums_clear(tally_store_txn *t);

#endif
