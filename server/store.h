/* store.h: figures kept durably in LMDB; the mechanics.
 *
 * This header opens and closes the store and runs its transactions: a
 * batch of writes in one commit, a write of one function, a read
 * snapshot. What is kept in it is written and read through the header
 * of each part:
 *   store_figures.h   submissions, values, revisions, history, ids
 *   store_audit.h     the audit trail, targets entered, period locks
 *   store_accounts.h  accounts and their last-used times
 *   store_sums.h      what the sums of server/rollup.c need
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
 *   meta         "format" -> "tally-store/6"; "account_next", "audit_seq"
 *                -> the next account id and audit sequence number;
 *                "sums_catalog" -> the catalog the sums were made for
 * All integers are big-endian. All values of one period, or of one unit
 * in one period, are one range scan. Codes are kept as text, so the
 * store does not depend on positions in the catalog.
 */
#ifndef TALLY_STORE_H
#define TALLY_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct tally_store tally_store;

#define TALLY_STORE_DEFAULT_MAP (1024ul << 20) /* 1 GiB of address space */

/* Opens (creating if needed) the store in directory dir. map_size 0
 * means TALLY_STORE_DEFAULT_MAP; when a write finds the map full, the
 * map doubles up to max_map_size (0 = no limit). The store holds a lock
 * on dir/tallyd.pid until it is closed: one process at a time. Returns
 * 0 and *out, -EBUSY (another process has it open), -EUCLEAN (data.mdb
 * is cut short or a meta page is damaged), -errno, TALLY_EFORMAT (a
 * store of another format) or TALLY_ESTORE (LMDB refused). */
int tally_store_open(const char *dir, size_t map_size, size_t max_map_size,
                     tally_store **out);
void tally_store_close(tally_store *s);

/* Why tally_store_open(dir) returned rc, as a sentence into err: the pid
 * of the process that holds the store, the damage found and the way
 * back, or the error. */
void tally_store_explain(const char *dir, int rc, char *err, size_t n);

/* Whether the store syncs on every commit (no MDB_NOSYNC, MDB_NOMETASYNC
 * or MDB_MAPASYNC): an acknowledgement means the figures are on disk. */
int tally_store_durable(tally_store *s);

/* How much room the store takes: data.mdb's size on the disk, the bytes
 * of the pages in use, the map and its limit (0: none). Returns 0 or a
 * store error. */
int tally_store_usage(tally_store *s, uint64_t *file_bytes,
                      uint64_t *used_bytes, uint64_t *map_bytes,
                      uint64_t *max_map_bytes);

/* The store's directory, as it was opened. */
const char *tally_store_dir(const tally_store *s);

/* Calls fn(arg) once, from whichever thread finds it, when the store
 * goes into LMDB's panic state: a commit could not write its meta page,
 * and every read and write fails from then on, until the process
 * restarts. Called at once if it is in that state already. fn NULL: no
 * one is told. */
void tally_store_on_failure(tally_store *s, void (*fn)(void *arg), void *arg);

/* Backups go only into dir, an existing directory apart from the
 * store's own (tallyd --backup-dir); until it is set, none are made.
 * Returns 0, or -errno / -EINVAL with a sentence in err. */
int tally_store_set_backup_dir(tally_store *s, const char *dir, char *err,
                               size_t n);

/* The backup folder (resolved), or NULL when backups are off. */
const char *tally_store_backup_dir(const tally_store *s);

#define TALLY_STORE_BACKUP_NAME_MAX 200

/* Whether name may name a backup: a plain file name of 1 to
 * TALLY_STORE_BACKUP_NAME_MAX bytes, without '/', not hidden (so
 * neither "." nor ".."), without control characters. */
int tally_store_backup_name_ok(const char *name);

/* Copies the store, compacted, into the new file name in the backup
 * folder (its full path into path, n bytes). The copy is one consistent
 * snapshot and other transactions go on meanwhile. Safe to call from
 * another thread. Returns 0 and the size of the copy; -EPERM (no backup
 * folder), -EINVAL (not a plain name), -EEXIST (a file of that name is
 * there), other -errno or TALLY_ESTORE. */
int tally_store_backup(tally_store *s, const char *name, char *path,
                       size_t n, uint64_t *bytes);

/* Copies the store in dir, compacted, into the open file fd, from a
 * process that is not the one serving it: read-only, without the lock
 * on tallyd.pid, while a tallyd may be writing (LMDB's readers do not
 * wait for its writer, nor it for them). The copy is one consistent
 * snapshot; fd is synced. Returns 0, -ENOENT (no store in dir), -EUCLEAN
 * (damaged: why in err), -errno or TALLY_ESTORE. */
int tally_store_copy(const char *dir, int fd, char *err, size_t n);

/* ---- types the parts share ---- */

/* Who makes a change, for the audit trail. */
typedef struct {
  uint64_t account_id;      /* 0 = tallyd init */
  const char *account_name;
  const char *peer;         /* the client's address */
  int64_t now;              /* Unix time of the change */
} tally_store_actor;

/* Called for each record of a visit (a history entry, oldest first, an
 * account, an audit entry...), packed (proto/tally.proto); valid only
 * during the call. A non-zero return stops the visit and is returned by
 * it. */
typedef int (*tally_store_history_fn)(void *arg, const void *changeset,
                                      size_t len);

/* ---- transactions ---- */

typedef struct tally_store_txn tally_store_txn;

/* One write of a batch. apply returns 0 (kept), a refusal
 * (tally_store_refusal: undone alone, the rest of the batch goes on) or
 * any other error, which fails the whole batch. It may run more than
 * once, in the batch's transaction and, when one of the batch is
 * refused, again in a nested transaction of its own: it starts afresh
 * each time. */
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

/* Runs fn in a write transaction and commits it when fn returns 0 (the
 * map grows and fn runs again when it fills). Returns fn's code, 0, or a
 * store error. */
int tally_store_write(tally_store *s,
                      int (*fn)(void *arg, tally_store_txn *t), void *arg);

/* A read transaction: one snapshot until tally_store_txn_end. */
int tally_store_read_begin(tally_store *s, tally_store_txn **out);
void tally_store_txn_end(tally_store_txn *t);

/* A small value in meta: get (0, TALLY_ENOTFOUND) into buf (NUL-ended,
 * cut to cap) and put. */
int tally_store_txn_meta_get(tally_store_txn *t, const char *name, char *buf,
                             size_t cap);
int tally_store_txn_meta_put(tally_store_txn *t, const char *name,
                             const char *value);


#endif
