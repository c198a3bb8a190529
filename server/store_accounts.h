/* store_accounts.h: accounts kept in the store (database accounts, by
 * id), each added or changed with its entry in the audit trail, and
 * their last-used times, which are not audited. The registry that signs
 * requests in is server/accounts.h.
 */
#ifndef TALLY_STORE_ACCOUNTS_H
#define TALLY_STORE_ACCOUNTS_H

#include "store.h"
#include "tally.pb-c.h"

#include <stddef.h>
#include <stdint.h>

/* Adds n accounts (packed StoredAccounts) in one transaction, each with
 * its audit entry (after[i]: the account in words); ids[i] gets the id
 * given to the i-th, which is also written into its record (the id in
 * packed[i] is ignored). Returns 0 or a store error (then nothing was
 * written). */
int tally_store_account_add(tally_store *s, Tally__StoredAccount *const *accs,
                            size_t n, const char *const *after, uint64_t *ids,
                            const tally_store_actor *who);

/* Sets last-used times (not audited: no one changed anything). */
int tally_store_account_touch(tally_store *s, const uint64_t *ids,
                              const int64_t *when, size_t n);

/* Visits every account, packed StoredAccounts, by id. */
int tally_store_accounts(tally_store *s, tally_store_history_fn fn, void *arg);

/* ---- inside a batch's transaction (tally_store_batch) ----
 * Each _txn function with a one-transaction version above does what it
 * does, in t; that version is it in a batch of one. */

int tally_store_txn_account_add(tally_store_txn *t,
                                Tally__StoredAccount *const *accs, size_t n,
                                const char *const *after, uint64_t *ids,
                                const tally_store_actor *who);
/* Replaces an account's record (a revoke or a new token) and records the
 * change, before and after in words, in t. Returns 0, TALLY_ENOTFOUND or
 * a store error. */
int tally_store_txn_account_update(tally_store_txn *t,
                                   const Tally__StoredAccount *acc,
                                   const char *before, const char *after,
                                   const tally_store_actor *who);
int tally_store_txn_account_touch(tally_store_txn *t, const uint64_t *ids,
                                  const int64_t *when, size_t n);

#endif
