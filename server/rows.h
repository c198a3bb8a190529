/* rows.h: one unit's figures of one period, read from a store
 * transaction: a value and a has-flag for each catalog element.
 *
 * The one reader of units' figures: the rollup, reports, completeness
 * and the check (flags.c) read through it, and it is the engine's
 * tally_source (its row callback) wherever the engine runs, tests
 * included. A figure of an element the catalog no longer has is left
 * out; a unit without a report has a row of nothing (every flag 0).
 *
 * The last TALLY_ROWS_KEPT rows read are kept, so that the rollup,
 * which reads the same few rows again for every indicator, reads the
 * store once for each. A row handed out stays valid while at most one
 * other row is read (the engine uses two at a time), and until the
 * next tally_rows_reset, tally_rows_forget of it, or tally_rows_free.
 * Rows are copies: they outlive neither the tally_rows nor, in
 * meaning, the snapshot they were read from (reset when txn changes).
 */
#ifndef TALLY_ROWS_H
#define TALLY_ROWS_H

#include "catalog.h"
#include "indicator.h"
#include "period.h"
#include "store.h"

#include <stdint.h>

#define TALLY_ROWS_KEPT 64

/* Callers embed it; its fields are the reader's own, but src may be
 * given assigned and kept callbacks for the engine. */
typedef struct {
  tally_source src;        /* first: the engine's view (row is set) */
  const tally_catalog *cat;
  tally_store_txn *txn;    /* read from; may be changed between reads
                              (then tally_rows_reset) */
  struct tally_row_slot {
    int unit;              /* -1: empty */
    uint32_t period;       /* key */
    double *value;         /* n_elements each */
    unsigned char *has;
  } slot[TALLY_ROWS_KEPT];
  int next;                /* the slot to fill next */
  int last;                /* the slot handed out last, or -1 */
  int used;                /* slots from 0 filled since the last reset */
  int approved;            /* 1: the figures as last approved at or
                              before at (0: ever), not the live ones */
  int64_t at;
} tally_rows;

/* Allocates nothing yet; txn may be NULL until the first read. */
void tally_rows_init(tally_rows *r, const tally_catalog *cat,
                     tally_store_txn *txn);
/* Frees the rows kept; r may still be read from, and reads afresh. */
void tally_rows_free(tally_rows *r);

/* Unit's figures of p, cat->n_elements values and flags (1 = submitted;
 * a value without its flag means nothing). Returns 0, -ENOMEM or a
 * store error (then *value and *has are not set). */
int tally_rows_read(tally_rows *r, int unit, const tally_period *p,
                    const double **value, const unsigned char **has);

/* From now on reads each unit's figures as last approved at or before
 * at (0: the last approval of all): a unit whose report was never
 * approved has a row of nothing. Forgets the rows read. */
void tally_rows_as_approved(tally_rows *r, int64_t at);

/* Forgets every row read (the figures changed, or txn did). */
void tally_rows_reset(tally_rows *r);
/* Forgets unit's row of the period with this key. */
void tally_rows_forget(tally_rows *r, int unit, uint32_t period);

#endif
