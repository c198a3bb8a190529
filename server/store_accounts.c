/* store_accounts.c: accounts in the store.
 *
 * The happy path: an account added takes the next id of the counter
 * "account_next" and is written under it with its audit entry; one
 * changed (revoked, given a new token) is written over with its entry,
 * before and after in the caller's words; last-used times are written
 * without one.
 * The failure modes: an update of an account not stored is
 * TALLY_ENOTFOUND; a record that does not unpack is left as it is by a
 * touch; any LMDB failure fails the whole transaction.
 */
#include "store_accounts.h"
#include "store_impl.h"

#include "error.h"
#include "tally.pb-c.h"

#include <lmdb.h>
#include <stdio.h>
#include <string.h>

/* Writes one account record under its id. Returns an LMDB code. */
static int account_put(MDB_txn *txn, tally_store *s,
                       const Tally__StoredAccount *acc) {
  uint8_t key[8];
  MDB_val k = {8, key}, v;
  int rc;
  put_u64(key, acc->account->id);
  v.mv_size = tally__stored_account__get_packed_size(acc);
  if ((rc = mdb_put(txn, s->accounts, &k, &v, MDB_RESERVE)) != 0)
    return rc;
  tally__stored_account__pack(acc, v.mv_data);
  return 0;
}

int tally_store_txn_account_add(tally_store_txn *t,
                                Tally__StoredAccount *const *accs, size_t n,
                                const char *const *after, uint64_t *ids,
                                const tally_store_actor *who) {
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    Tally__Account *a = accs[i]->account;
    char subject[32];
    Tally__AuditEntry e;
    rc = tally__store_next_counter(t->txn, t->s, "account_next", &ids[i]);
    if (rc != 0)
      break;
    a->id = ids[i];
    snprintf(subject, sizeof subject, "account %llu",
             (unsigned long long)a->id);
    tally__store_audit_init(&e, who, "account", subject);
    e.before = "";
    e.after = (char *)after[i];
    if ((rc = account_put(t->txn, t->s, accs[i])) == 0)
      rc = tally__store_audit_append(t->txn, t->s, &e);
  }
  return store_err(rc);
}

int tally_store_txn_account_update(tally_store_txn *t,
                                   const Tally__StoredAccount *acc,
                                   const char *before, const char *after,
                                   const tally_store_actor *who) {
  uint8_t key[8];
  MDB_val k = {8, key}, v;
  char subject[32];
  Tally__AuditEntry e;
  int rc;
  put_u64(key, acc->account->id);
  snprintf(subject, sizeof subject, "account %llu",
           (unsigned long long)acc->account->id);
  tally__store_audit_init(&e, who, "account", subject);
  e.before = (char *)before;
  e.after = (char *)after;
  if ((rc = mdb_get(t->txn, t->s->accounts, &k, &v)) == 0 &&
      (rc = account_put(t->txn, t->s, acc)) == 0)
    rc = tally__store_audit_append(t->txn, t->s, &e);
  return rc == MDB_NOTFOUND ? TALLY_ENOTFOUND : store_err(rc);
}

int tally_store_txn_account_touch(tally_store_txn *t, const uint64_t *ids,
                                  const int64_t *when, size_t n) {
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    uint8_t key[8];
    MDB_val k = {8, key}, v;
    put_u64(key, ids[i]);
    if ((rc = mdb_get(t->txn, t->s->accounts, &k, &v)) == MDB_NOTFOUND) {
      rc = 0;
      continue;
    }
    if (rc != 0)
      break;
    Tally__StoredAccount *acc =
        tally__stored_account__unpack(NULL, v.mv_size, v.mv_data);
    if (acc == NULL || acc->account == NULL) {
      tally__stored_account__free_unpacked(acc, NULL);
      continue; /* not ours to mend here */
    }
    acc->account->last_used_unix = when[i];
    rc = account_put(t->txn, t->s, acc);
    tally__stored_account__free_unpacked(acc, NULL);
  }
  return store_err(rc);
}

/* ---- the same changes, each in a transaction of its own ---- */

struct account_change {
  Tally__StoredAccount *const *accs; /* an add */
  const uint64_t *touch_ids;         /* a touch */
  const int64_t *when;
  size_t n;
  uint64_t *ids;
  const char *const *words; /* each new account, in words */
  const tally_store_actor *who;
};

static int add_apply(void *arg, tally_store_txn *t) {
  struct account_change *c = arg;
  return tally_store_txn_account_add(t, c->accs, c->n, c->words, c->ids,
                                     c->who);
}

static int touch_apply(void *arg, tally_store_txn *t) {
  struct account_change *c = arg;
  return tally_store_txn_account_touch(t, c->touch_ids, c->when, c->n);
}

int tally_store_account_add(tally_store *s, Tally__StoredAccount *const *accs,
                            size_t n, const char *const *after, uint64_t *ids,
                            const tally_store_actor *who) {
  struct account_change c = {.accs = accs, .n = n, .words = after, .ids = ids,
                             .who = who};
  return tally__store_alone(s, add_apply, &c);
}

int tally_store_account_touch(tally_store *s, const uint64_t *ids,
                              const int64_t *when, size_t n) {
  struct account_change c = {.touch_ids = ids, .when = when, .n = n};
  return tally__store_alone(s, touch_apply, &c);
}

int tally_store_accounts(tally_store *s, tally_store_history_fn fn, void *arg) {
  return tally__store_visit_range(s, s->accounts, NULL, 0, fn, arg);
}
