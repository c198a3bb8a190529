/* store.h: figures kept durably in LMDB.
 *
 * Databases:
 *   values       period (4 bytes, big-endian) | unit | 0x00 | element
 *                -> 8 bytes IEEE-754 figure, 8 bytes Unix time written
 *   revisions    period | unit -> the report's revision (8 bytes)
 *   changes      period | unit | 0x00 | revision (8 bytes) -> ChangeSet
 *   submissions  submission id -> the first acknowledgement
 *   targets      indicator | 0x00 | year (4 bytes) -> a packed Target
 *   accounts     account id (8 bytes) -> a packed StoredAccount
 *   audit        account id (8 bytes) | seq (8 bytes) -> a packed AuditEntry
 *   sums         period | unit | 0x00 | indicator -> an indicator's sums
 *                over the units within an inner unit (server/rollup.c)
 *   locks        period -> a packed PeriodLock
 *   meta         "format" -> "tally-store/3"; "account_next", "audit_seq"
 *                -> the next account id and audit sequence number;
 *                "sums_catalog" -> the catalog the sums were made for
 * All integers are big-endian. All values of one period, or of one unit
 * in one period, are one range scan. Codes are kept as text, so the
 * store does not depend on positions in the catalog.
 */
#ifndef TALLY_STORE_H
#define TALLY_STORE_H

#include "tally.pb-c.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tally_store tally_store;

#define TALLY_STORE_DEFAULT_MAP (1024ul << 20) /* 1 GiB of address space */
#define TALLY_STORE_MAX_ID 64                  /* longest submission id */

/* Opens (creating if needed) the store in directory dir. map_size 0
 * means TALLY_STORE_DEFAULT_MAP; when a write finds the map full, the
 * map doubles up to max_map_size (0 = no limit). Returns 0 and *out,
 * -errno, TALLY_EFORMAT (a store of another format) or TALLY_ESTORE
 * (LMDB refused). */
int tally_store_open(const char *dir, size_t map_size, size_t max_map_size,
                     tally_store **out);
void tally_store_close(tally_store *s);

typedef struct {
  const char *element;
  double value;
} tally_store_item;

/* A numerator that may not exceed its denominator (a "bounded" ratio of
 * the catalog), checked on the figures as they stand after a write. */
typedef struct {
  const char *numerator;    /* element codes */
  const char *denominator;
} tally_store_bound;

/* Who makes a change, for the audit trail. */
typedef struct {
  uint64_t account_id;      /* 0 = tallyd init */
  const char *account_name;
  const char *peer;         /* the client's address */
  int64_t now;              /* Unix time of the change */
} tally_store_actor;

/* One submission of a unit's figures for one period. */
typedef struct {
  const char *id;           /* submission id; NULL or "" = none */
  const char *unit;
  uint32_t period_key;
  const tally_store_item *items;
  size_t n;
  int check_revision;       /* refuse unless the report is at base_revision */
  uint64_t base_revision;
  int replace;              /* remove stored elements not among items */
  int64_t now;              /* Unix time of the write */
  const char *peer;         /* for the history; may be NULL */
  uint64_t digest;          /* of the request: an id sent again with other
                               figures is refused (TALLY_EIDREUSE) */
  const tally_store_bound *bounds; /* pairs to hold after the write */
  size_t n_bounds;
  uint64_t account_id;      /* who sent it, for the history and the audit */
  const char *account_name; /* may be NULL */
} tally_store_submission;

typedef struct {
  unsigned written;   /* values written */
  unsigned replaced;  /* of those, values that replaced a different value */
  unsigned unchanged; /* of those, values equal to what was stored */
  unsigned removed;   /* values removed by a replace */
  uint64_t revision;  /* the report's revision after the submission; on
                         TALLY_ECONFLICT, its current revision */
  int duplicate;      /* the id was seen: this is the first answer */
  int bound;          /* on TALLY_EBOUND: the pair that would be broken */
  double bound_numerator, bound_denominator; /* and its two figures */
} tally_store_result;

/* Writes a submission in one transaction: every value or none, with its
 * history entry and its id. When this returns 0 the transaction has
 * committed (LMDB syncs on commit). A known id returns the first
 * result with duplicate set and writes nothing. Returns 0, -errno,
 * TALLY_ECONFLICT, TALLY_EIDREUSE (the id was used for other figures),
 * TALLY_EBOUND (a bounded pair would be broken), TALLY_ELOCKED (the
 * period is locked), TALLY_ESTOREFULL or TALLY_ESTORE. */
int tally_store_submit(tally_store *s, const tally_store_submission *sub,
                       tally_store_result *res);

typedef struct tally_store_txn tally_store_txn;

/* One write of a batch. apply runs in a nested transaction of its own
 * and returns 0 (kept), a refusal (tally_store_refusal: undone alone,
 * the rest of the batch goes on) or any other error, which fails the
 * whole batch. */
typedef struct {
  int (*apply)(void *arg, tally_store_txn *t);
  void *arg;
  int code;   /* out: apply's code, or the batch's error */
} tally_store_op;

/* Whether code refuses one write (a TALLY_E code of the request, or
 * -EINVAL) rather than failing the store (TALLY_ESTORE,
 * TALLY_ESTOREFULL, -errno). */
int tally_store_refusal(int code);

/* Runs n writes in one write transaction and commits it (one sync);
 * when the map fills, it grows and the batch runs again from the start.
 * Returns 0 when the batch committed (see each ops[i].code), or the
 * error that kept all of it from being written (every code is then that
 * error). The writer thread calls this; so may a process that has no
 * writer (tallyd init, tests). */
int tally_store_batch(tally_store *s, tally_store_op *ops, size_t n);

/* Whether the store syncs on every commit (no MDB_NOSYNC, MDB_NOMETASYNC
 * or MDB_MAPASYNC): an acknowledgement means the figures are on disk. */
int tally_store_durable(tally_store *s);

/* Writes n submissions in one transaction (one sync): each is applied in
 * a nested transaction of its own, so one refused leaves the others be;
 * codes[i] is what tally_store_submit would have returned for it.
 * Returns 0 when the batch committed, or the store error that kept all
 * of it from being written (every codes[i] is then that error). */
int tally_store_submit_batch(tally_store *s, const tally_store_submission *subs,
                             size_t n, tally_store_result *res, int *codes);

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

/* The revision of unit's report for period (0 = never written). */
int tally_store_revision(tally_store *s, uint32_t period_key, const char *unit,
                         uint64_t *revision);

/* Called for each history entry, oldest first, with the packed
 * ChangeSet (proto/tally.proto); valid only during the call. */
typedef int (*tally_store_history_fn)(void *arg, const void *changeset,
                                      size_t len);

int tally_store_history(tally_store *s, uint32_t period_key, const char *unit,
                        tally_store_history_fn fn, void *arg);

/* Copies the store, compacted, into directory path, which must not
 * exist yet (it is created). The copy is one consistent snapshot and
 * other transactions go on meanwhile. Safe to call from another thread.
 * Returns 0 and the size of the copy, or -errno / TALLY_ESTORE. */
int tally_store_backup(tally_store *s, const char *path, uint64_t *bytes);

/* Stores a target entered on the server (a packed Target) under its
 * indicator and year, replacing one entered before (*replaced = 1), and
 * records in the audit trail who did it and before and after (in words),
 * in the same transaction. Returns 0 or a store error. */
int tally_store_target_put(tally_store *s, const char *indicator, int year,
                           const void *packed, size_t len, int *replaced,
                           const char *before, const char *after,
                           const tally_store_actor *who);

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

/* The revision-th history entry of unit's report for period, packed,
 * to fn. Returns 0, fn's value, TALLY_ENOTFOUND or a store error. */
int tally_store_changeset(tally_store *s, uint32_t period_key, const char *unit,
                          uint64_t revision, tally_store_history_fn fn,
                          void *arg);

/* Adds n accounts (packed StoredAccounts) in one transaction, each with
 * its audit entry; ids[i] gets the id given to the i-th, which is also
 * written into its record (the id in packed[i] is ignored). Returns 0
 * or a store error (then nothing was written). */
int tally_store_account_add(tally_store *s, Tally__StoredAccount *const *accs,
                            size_t n, uint64_t *ids,
                            const tally_store_actor *who);

/* Replaces an account's record (a revoke or a new token) and records the
 * change, before and after in words, in the same transaction. Returns 0,
 * TALLY_ENOTFOUND or a store error. */
int tally_store_account_update(tally_store *s, const Tally__StoredAccount *acc,
                               const char *before, const char *after,
                               const tally_store_actor *who);

/* Sets last-used times (not audited: no one changed anything). */
int tally_store_account_touch(tally_store *s, const uint64_t *ids,
                              const int64_t *when, size_t n);

/* Visits every account, packed StoredAccounts, by id. */
int tally_store_accounts(tally_store *s, tally_store_history_fn fn, void *arg);

/* Visits the audit trail, packed AuditEntries: one account's changes in
 * order, or (all set) everyone's, by account. */
int tally_store_audit(tally_store *s, int all, uint64_t account,
                      tally_store_history_fn fn, void *arg);

/* ---- writes inside a batch's transaction (tally_store_batch) ----
 * Each is what the function of the same name without _txn does, in t;
 * the one-transaction versions above are these in a batch of one. */

int tally_store_txn_submit(tally_store_txn *t, const tally_store_submission *sub,
                           tally_store_result *res);
int tally_store_txn_target_put(tally_store_txn *t, const char *indicator,
                               int year, const void *packed, size_t len,
                               int *replaced, const char *before,
                               const char *after, const tally_store_actor *who);
int tally_store_txn_lock_put(tally_store_txn *t, uint32_t period_key,
                             const void *packed, size_t len,
                             const char *subject, const char *before,
                             const char *after, const tally_store_actor *who);
int tally_store_txn_account_add(tally_store_txn *t,
                                Tally__StoredAccount *const *accs, size_t n,
                                uint64_t *ids, const tally_store_actor *who);
int tally_store_txn_account_update(tally_store_txn *t,
                                   const Tally__StoredAccount *acc,
                                   const char *before, const char *after,
                                   const tally_store_actor *who);
int tally_store_txn_account_touch(tally_store_txn *t, const uint64_t *ids,
                                  const int64_t *when, size_t n);

/* Reads in a transaction: as tally_store_targets and tally_store_locks. */
int tally_store_txn_targets(tally_store_txn *t, tally_store_history_fn fn,
                            void *arg);
int tally_store_txn_locks(tally_store_txn *t, const uint32_t *period_key,
                          tally_store_lock_fn fn, void *arg);

/* ---- transactions for the sums kept beside the figures ---- */

/* Told of every change to figures, inside the transaction that makes it,
 * so that what depends on them changes in the same commit. Callbacks
 * return 0 or a negative code, which fails the batch. */
typedef struct {
  void *arg;
  /* A batch begins (again, after a retry): forget any earlier one. */
  void (*begin)(void *arg);
  /* The submission's figures are about to change... */
  int (*before)(void *arg, tally_store_txn *t,
                const tally_store_submission *sub);
  /* ...and have changed (not called when nothing changed). */
  int (*after)(void *arg, tally_store_txn *t);
  /* The batch's last write was kept (1) or undone (0). */
  void (*settle)(void *arg, int kept);
  /* The batch is about to commit: write what it changed. */
  int (*flush)(void *arg, tally_store_txn *t);
} tally_store_keeper;

/* Sets the keeper (NULL: none) before any write. */
void tally_store_set_keeper(tally_store *s, const tally_store_keeper *k);

/* A read transaction: one snapshot until tally_store_txn_end. */
int tally_store_read_begin(tally_store *s, tally_store_txn **out);
void tally_store_txn_end(tally_store_txn *t);

/* Runs fn in a write transaction and commits it when fn returns 0 (the
 * map grows and fn runs again when it fills). Returns fn's code, 0, or a
 * store error. */
int tally_store_write(tally_store *s,
                      int (*fn)(void *arg, tally_store_txn *t), void *arg);

/* As tally_store_scan, in t. */
int tally_store_txn_scan(tally_store_txn *t, uint32_t period_key,
                         const char *unit, tally_store_visit_fn fn, void *arg);

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

/* A small value in meta: get (0, TALLY_ENOTFOUND) into buf (NUL-ended,
 * cut to cap) and put. */
int tally_store_txn_meta_get(tally_store_txn *t, const char *name, char *buf,
                             size_t cap);
int tally_store_txn_meta_put(tally_store_txn *t, const char *name,
                             const char *value);

#endif
