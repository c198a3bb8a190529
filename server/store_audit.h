/* store_audit.h: who changed what, and the records changed with it.
 *
 * The audit trail (database audit: by account, then sequence) gets an
 * entry with every change: of figures (store_figures.h), of accounts
 * (store_accounts.h) and of the two records kept here, a target entered
 * on the server (targets) and a period's lock (locks). Each change and
 * its entry are one transaction.
 */
#ifndef TALLY_STORE_AUDIT_H
#define TALLY_STORE_AUDIT_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

/* Called for each entry of a page of the trail: its account and
 * sequence number, and the packed AuditEntry, valid only during the
 * call. A non-zero return stops the visit and is returned by it. */
typedef int (*tally_store_audit_fn)(void *arg, uint64_t account, uint64_t seq,
                                    const void *packed, size_t len);

/* Visits the audit trail, packed AuditEntries (one account's changes in
 * order, or, all set, everyone's by account), in one snapshot, from the
 * first entry after (account, after) (0, 0: from the first), until fn
 * returns non-zero. Returns 0, fn's value or a store error. */
int tally_store_audit_page(tally_store *s, int all, uint64_t account,
                           uint64_t after, tally_store_audit_fn fn,
                           void *arg);

/* Visits every target entered on the server, by indicator and year. */
int tally_store_targets(tally_store *s, tally_store_history_fn fn, void *arg);

/* Locks period_key with a packed PeriodLock or, with packed NULL,
 * unlocks it, and records in the audit trail who did it to subject
 * ("2022") and before and after (in words), in the same transaction.
 * While a period is locked, a submission for it is refused with
 * TALLY_ELOCKED (one stored before the lock is still answered from its
 * record). Returns 0, TALLY_ENOTFOUND (an unlock of a period not
 * locked) or a store error. */
int tally_store_lock_put(tally_store *s, uint32_t period_key,
                         const void *packed, size_t len, const char *subject,
                         const char *before, const char *after,
                         const tally_store_actor *who);

/* Called with each locked period's key and its packed PeriodLock
 * (valid only during the call). */
typedef int (*tally_store_lock_fn)(void *arg, uint32_t period_key,
                                   const void *packed, size_t len);

/* Visits the lock of *period_key, or with NULL every lock by period. */
int tally_store_locks(tally_store *s, const uint32_t *period_key,
                      tally_store_lock_fn fn, void *arg);

/* ---- inside a batch's transaction (tally_store_batch) ----
 * Each _txn function with a one-transaction version above does what it
 * does, in t; that version is it in a batch of one. */

/* Stores a target entered on the server (a packed Target) under its
 * indicator and year, replacing one entered before (*replaced = 1), and
 * records in the audit trail who did it and before and after (in words),
 * in t. Returns 0 or a store error. */
int tally_store_txn_target_put(tally_store_txn *t, const char *indicator,
                               int year, const void *packed, size_t len,
                               int *replaced, const char *before,
                               const char *after, const tally_store_actor *who);
int tally_store_txn_lock_put(tally_store_txn *t, uint32_t period_key,
                             const void *packed, size_t len,
                             const char *subject, const char *before,
                             const char *after, const tally_store_actor *who);
/* Keeps a report's review (a packed Review) under its unit and period,
 * with an audit entry of kind "review" saying before and after, in t. */
int tally_store_txn_review_put(tally_store_txn *t, uint32_t period_key,
                               const char *unit, const void *packed,
                               size_t len, const char *before,
                               const char *after, const tally_store_actor *who);
/* The review of unit's report for period (packed) to fn; 0 and nothing
 * called when there is none. unit NULL: every unit's of the period, as
 * fn(arg, unit, ...) by unit. */
typedef int (*tally_store_review_fn)(void *arg, const char *unit,
                                     const void *packed, size_t len);
int tally_store_txn_reviews(tally_store_txn *t, uint32_t period_key,
                            const char *unit, tally_store_review_fn fn,
                            void *arg);
/* Keeps unit's figures of period as approved at time, at revision (a
 * packed Approval), in t; the approvals before it stay. Returns 0,
 * -EINVAL for a code too long, or a store error. */
int tally_store_txn_approval_put(tally_store_txn *t, uint32_t period_key,
                                 const char *unit, int64_t time,
                                 uint64_t revision, const void *packed,
                                 size_t len);
/* Keeps unit's report for period as it stands in t, its figures and the
 * explanations kept with it, as approved at time by the account
 * (account_id, account_name) at revision (tally_store_txn_approval_put).
 * Returns 0, -ENOMEM, -EINVAL for a code too long, or a store error. */
int tally_store_txn_approval_keep(tally_store_txn *t, uint32_t period_key,
                                  const char *unit, int64_t time,
                                  uint64_t account_id,
                                  const char *account_name,
                                  uint64_t revision);
/* The last approval of unit's report for period made at or before at
 * (0: the last of all), packed, to fn as a review is; 0 and nothing
 * called when there is none. */
int tally_store_txn_approval(tally_store_txn *t, uint32_t period_key,
                             const char *unit, int64_t at,
                             tally_store_review_fn fn, void *arg);
/* Reads in t: as tally_store_targets and tally_store_locks. */
int tally_store_txn_targets(tally_store_txn *t, tally_store_history_fn fn,
                            void *arg);
int tally_store_txn_locks(tally_store_txn *t, const uint32_t *period_key,
                          tally_store_lock_fn fn, void *arg);

#endif
