/* store_figures.h: the figures in the store, as submissions write them.
 *
 * A submission writes one unit's figures for one period in one
 * transaction, with the report's new revision, its history entry
 * (a ChangeSet), its audit entry and its id. Reads: the values of a
 * period or of one report, a report's revision, its history, one
 * history entry. Databases values, revisions, changes and submissions
 * (see store.h).
 */
#ifndef TALLY_STORE_FIGURES_H
#define TALLY_STORE_FIGURES_H

#include "store.h"
#include "tally.pb-c.h"

#include <stddef.h>
#include <stdint.h>

#define TALLY_STORE_MAX_ID 64 /* longest submission id */

typedef struct {
  const char *element;
  double value;
} tally_store_item;

/* Checks a submission on the figures as they stand after its write, in
 * its transaction (the catalog's rules). Returns 0, or TALLY_ERULES or a
 * store error to refuse it. It may write in t (explanations), and give
 * in *kept the explanations that go into the history entry (its own
 * memory, valid until the submission is answered). */
typedef int (*tally_store_check_fn)(void *arg, tally_store_txn *t,
                                    Tally__Explanation ***kept,
                                    size_t *n_kept);

/* One submission of a unit's figures for one period. */
typedef struct tally_store_submission {
  const char *id;           /* submission id; NULL or "" = none */
  const char *unit;
  uint32_t period_key;
  const tally_store_item *items;
  size_t n;
  const uint32_t *order;    /* the items' indexes in the order of their
                               element codes (strcmp's), or NULL: the store
                               sorts them */
  const uint8_t *first_changes; /* the history's changes if the report held
                               no figures before (each item new, in their
                               order), packed as a ChangeSet of changes
                               alone; NULL: the store makes them */
  size_t first_changes_len;
  int check_revision;       /* refuse unless the report is at base_revision */
  uint64_t base_revision;
  int replace;              /* remove stored elements not among items */
  int64_t now;              /* Unix time of the write */
  const char *peer;         /* for the history; may be NULL */
  uint64_t digest;          /* of the request: an id sent again with other
                               figures is refused (TALLY_EIDREUSE) */
  tally_store_check_fn check; /* NULL: none */
  void *check_arg;
  uint64_t account_id;      /* who sent it, for the history and the audit */
  const char *account_name; /* may be NULL */
  const char *how;          /* "imported by account 3", for the history
                               and the audit; NULL: a submission */
} tally_store_submission;

typedef struct {
  unsigned written;   /* values written */
  unsigned replaced;  /* of those, values that replaced a different value */
  unsigned unchanged; /* of those, values equal to what was stored */
  unsigned removed;   /* values removed by a replace */
  uint64_t revision;  /* the report's revision after the submission; on
                         TALLY_ECONFLICT, its current revision */
  int duplicate;      /* the id was seen: this is the first answer */
} tally_store_result;

/* Writes a submission in one transaction: every value or none, with its
 * history entry and its id. When this returns 0 the transaction has
 * committed (LMDB syncs on commit). A known id returns the first
 * result with duplicate set and writes nothing. Returns 0, -errno,
 * TALLY_ECONFLICT, TALLY_EIDREUSE (the id was used for other figures),
 * TALLY_ERULES (its check refused it), TALLY_ELOCKED (the
 * period is locked), TALLY_ESTOREFULL or TALLY_ESTORE. */
int tally_store_submit(tally_store *s, const tally_store_submission *sub,
                       tally_store_result *res);

/* Writes n submissions in one transaction (one sync), as
 * tally_store_batch writes its operations: one refused leaves the
 * others be; codes[i] is what tally_store_submit would have returned
 * for it.
 * Returns 0 when the batch committed, or the store error that kept all
 * of it from being written (every codes[i] is then that error). */
int tally_store_submit_batch(tally_store *s, const tally_store_submission *subs,
                             size_t n, tally_store_result *res, int *codes);

/* tally_store_submit inside a batch's transaction (tally_store_batch). */
int tally_store_txn_submit(tally_store_txn *t, const tally_store_submission *sub,
                           tally_store_result *res);

/* Called for each stored value; strings are valid only during the
 * call. A non-zero return stops the scan and is returned by it. */
typedef int (*tally_store_visit_fn)(void *arg, const char *unit,
                                    const char *element, double value,
                                    int64_t updated);

/* Visits the values of period_key, of one unit only when unit is not
 * NULL, in key order. Returns 0, the visitor's non-zero value, or
 * TALLY_ESTORE. */
int tally_store_scan(tally_store *s, uint32_t period_key, const char *unit,
                     tally_store_visit_fn fn, void *arg);

/* As tally_store_scan, in t. */
int tally_store_txn_scan(tally_store_txn *t, uint32_t period_key,
                         const char *unit, tally_store_visit_fn fn, void *arg);

/* The revision of unit's report for period in t (0 = never written). */
int tally_store_txn_revision(tally_store_txn *t, uint32_t period_key,
                             const char *unit, uint64_t *revision);

/* Called for each entry of a page: its revision (or an audit entry's
 * sequence number), its packed record, valid only during the call. A
 * non-zero return stops the visit and is returned by it. */
typedef int (*tally_store_page_fn)(void *arg, uint64_t at, const void *packed,
                                   size_t len);

/* Visits the history of unit's report for period from the first entry
 * after revision after (0: from the first), oldest first, in one
 * snapshot, until fn returns non-zero. Returns 0, fn's value or a store
 * error. */
int tally_store_history_page(tally_store *s, uint32_t period_key,
                             const char *unit, uint64_t after,
                             tally_store_page_fn fn, void *arg);

/* The revision-th history entry of unit's report for period, packed,
 * to fn. Returns 0, fn's value, TALLY_ENOTFOUND or a store error. */
int tally_store_changeset(tally_store *s, uint32_t period_key, const char *unit,
                          uint64_t revision, tally_store_history_fn fn,
                          void *arg);

/* The explanations kept with unit's report for period (Explanation,
 * packed, in the order of their rules' codes). Returns 0, fn's non-zero
 * value or a store error. */
int tally_store_txn_explanations(tally_store_txn *t, uint32_t period_key,
                                 const char *unit, tally_store_history_fn fn,
                                 void *arg);

/* The explanation of rule kept with unit's report for period, packed,
 * to fn. Returns 0, fn's value, TALLY_ENOTFOUND or a store error. */
int tally_store_txn_explanation_get(tally_store_txn *t, uint32_t period_key,
                                    const char *unit, const char *rule,
                                    tally_store_history_fn fn, void *arg);

/* Keeps e with the report, in place of its rule's earlier one. */
int tally_store_txn_explanation_put(tally_store_txn *t, uint32_t period_key,
                                    const char *unit,
                                    const Tally__Explanation *e);

/* Forgets rule's explanation of the report (none kept is no error). */
int tally_store_txn_explanation_del(tally_store_txn *t, uint32_t period_key,
                                    const char *unit, const char *rule);

/* The first and the last period any unit has a report for, as period
 * keys (both 0 when the store holds none). Returns 0 or a store error. */
int tally_store_txn_period_span(tally_store_txn *t, uint32_t *first,
                                uint32_t *last);

/* Visits every period unit has a report for (a revision above 0), by
 * period, with its revision. Returns 0, fn's value or a store error. */
int tally_store_txn_unit_periods(tally_store_txn *t, const char *unit,
                                 int (*fn)(void *arg, uint32_t period_key,
                                           uint64_t revision),
                                 void *arg);

/* When the revision-th history entry of unit's report was written, in
 * t (one thread may not open a second read transaction while it holds
 * one), into *when (0 when there is no such entry). Returns 0 or a
 * store error. */
int tally_store_txn_change_time(tally_store_txn *t, uint32_t period_key,
                                const char *unit, uint64_t revision,
                                int64_t *when);

/* The time of the newest figure written (a value's Unix time), over
 * the whole store: *unix 0 when it holds none. One read snapshot.
 * Returns 0 or a store error. */
int tally_store_newest_figure(tally_store *s, int64_t *unix_s);

#endif
