/* store_impl.h: what the store's own files share, and no one else.
 *
 * Included only by server/store*.c. It holds the store's struct, the key
 * codec (big-endian integers, period | code | 0 | code keys), the
 * translation of LMDB's codes, the transactions the parts begin and the
 * visits they make, and the audit trail's append, which the figures and
 * the accounts write to as well as the targets and locks. The public
 * interface is store.h and the header of each part.
 */
#ifndef TALLY_STORE_IMPL_H
#define TALLY_STORE_IMPL_H

#include "store.h"
#include "store_sums.h"

#include "error.h"
#include "tally.pb-c.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* The longest code the store keeps in a key. Not TALLY_CODE_MAX
 * (common/catalog.h, 31): a unit's or an indicator's code is at most
 * that, but an element reported by age group is stored as
 * "code.label" ("deaths.85+"), up to TALLY_CODE_MAX + 1 + the label,
 * and the catalog does not bound the label. 64 leaves it 32. */
#define STORE_CODE_MAX 64
#define KEY_MAX (4 + STORE_CODE_MAX + 1 + STORE_CODE_MAX + 8)
#define VALUE_SIZE 16 /* a figure: 8 bytes IEEE-754, 8 bytes time written */

struct tally_store {
  MDB_env *env;
  MDB_dbi values;       /* the figures */
  MDB_dbi revisions;    /* each report's revision */
  MDB_dbi changes;      /* each report's history */
  MDB_dbi submissions;  /* ids seen, with their first answer */
  MDB_dbi targets;      /* targets entered on the server */
  MDB_dbi accounts;     /* accounts and their tokens' hashes */
  MDB_dbi audit;        /* who changed what, by account */
  MDB_dbi sums;         /* sums kept for inner units */
  MDB_dbi locks;        /* periods locked by the central office */
  MDB_dbi explanations; /* offices' explanations of broken warnings */
  MDB_dbi reviews;      /* each report's review: returned, approved */
  MDB_dbi approvals;    /* each report's figures as approved */
  MDB_dbi meta;         /* "format", counters */
  const tally_store_keeper *keeper; /* told of changes to figures */
  size_t map_size;
  size_t max_map_size;  /* 0 = no limit */
  pthread_rwlock_t map_lock; /* held shared by every transaction and
                                backup; taken exclusive to move the map */
  pthread_mutex_t gate;      /* guards growing and grows */
  pthread_cond_t gate_open;  /* growing went back to 0 */
  int growing;               /* a grow waits for the map: new transactions
                                wait for it */
  unsigned long grows;       /* how many times the map grew */
  struct timespec grow_after; /* a grow that timed out: none before this */
  int lock_fd;               /* DIR/tallyd.pid, locked while open */
  char dir[4096];            /* the store's directory, for messages */
  char backup_dir[4096];     /* where backups go, resolved; "" = none */
  int failed;                /* (gate) LMDB is in its panic state */
  void (*on_failure)(void *arg); /* (gate) told once, when failed is set */
  void *on_failure_arg;
};

struct tally_store_txn {
  tally_store *s;
  MDB_txn *txn;
  /* While a submission is applied: when its report held no figures
   * before and holds exactly its items now, a scan of the report reads
   * them from here (sub->order gives their key order), not the store. */
  const struct tally_store_submission *fresh;
};

/* LMDB's codes, translated at the boundary. */
/* For LMDB's codes only (never a tally code: it would become
 * TALLY_ESTORE). LMDB's EINVAL is a store failure, not a refusal of the
 * write (-EINVAL is kept for the store's own checks of its input). */
static inline int store_err(int rc) {
  if (rc == 0)
    return 0;
  if (rc == MDB_MAP_FULL)
    return TALLY_ESTOREFULL;
  if (rc == EINVAL)
    return TALLY_ESTORE;
  if (rc > 0)
    return -rc; /* an errno value; LMDB's own codes are negative */
  return TALLY_ESTORE;
}

/* store_lock.c: locks DIR/tallyd.pid for this process and writes the
 * pid into it. Returns the descriptor that holds the lock (closing it
 * lets go), -EBUSY when another process holds it, or -errno. */
int tally__store_lock(const char *dir);

/* The pid written into DIR/tallyd.pid by the process that holds it, or 0
 * if none can be read. */
long tally__store_holder(const char *dir);

/* store_check.c: checks DIR/data.mdb against its two meta pages (a
 * missing file is a new store). Returns 0, -EUCLEAN (damaged or cut
 * short) or -errno, with a sentence into why. */
int tally__store_check(const char *dir, char *why, size_t n);

static inline void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 3; i >= 0; i--, v >>= 8)
    p[i] = (uint8_t)v;
}

static inline void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8)
    p[i] = (uint8_t)v;
}

static inline uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static inline uint64_t get_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

/* period | unit | 0 [| element]. Returns the length, 0 if a code is too
 * long. */
static inline size_t make_key(uint8_t *key, uint32_t period, const char *unit,
                       const char *element) {
  size_t ul = strlen(unit), el = element ? strlen(element) : 0;
  if (ul > STORE_CODE_MAX || el > STORE_CODE_MAX)
    return 0;
  put_u32(key, period);
  memcpy(key + 4, unit, ul);
  key[4 + ul] = 0;
  if (element)
    memcpy(key + 5 + ul, element, el);
  return 5 + ul + el;
}

/* Splits a key period | code | 0 | code into its two codes (copied out:
 * LMDB's data is borrowed until the transaction ends). Returns 0, or -1
 * for a key of another shape. */
static inline int split_key(const MDB_val *k, char first[STORE_CODE_MAX + 1],
                     char second[STORE_CODE_MAX + 1]) {
  const uint8_t *key = k->mv_data;
  if (k->mv_size < 5)
    return -1;
  const uint8_t *nul = memchr(key + 4, 0, k->mv_size - 4);
  if (nul == NULL)
    return -1;
  size_t fl = (size_t)(nul - key - 4), sl = k->mv_size - 4 - fl - 1;
  if (fl > STORE_CODE_MAX || sl > STORE_CODE_MAX)
    return -1;
  memcpy(first, key + 4, fl);
  first[fl] = 0;
  memcpy(second, nul + 1, sl);
  second[sl] = 0;
  return 0;
}

static inline double get_value(const MDB_val *v) {
  uint64_t bits = get_u64(v->mv_data);
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

/* ---- server/store.c ---- */

/* A read transaction, held against a move of the map: an LMDB code. */
int tally__store_read_begin(tally_store *s, MDB_txn **txn);
void tally__store_read_end(tally_store *s, MDB_txn *txn);

/* Visits the records of db whose keys begin with prefix (plen bytes;
 * 0 = every record), key and value, in key order, in txn, until fn
 * returns non-zero. Returns 0, fn's value, or a store error. */
int tally__store_visit_in(MDB_txn *txn, MDB_dbi db, const void *prefix,
                          size_t plen,
                          int (*fn)(void *arg, const MDB_val *k,
                                    const MDB_val *v),
                          void *arg);

/* The same, from the first key after start (slen bytes, beginning with
 * the prefix; start = prefix: from the first). */
int tally__store_visit_after(MDB_txn *txn, MDB_dbi db, const void *prefix,
                             size_t plen, const void *start, size_t slen,
                             int (*fn)(void *arg, const MDB_val *k,
                                       const MDB_val *v),
                             void *arg);

/* tally__store_visit_in, in a read transaction of its own. */
int tally__store_visit_keyed(tally_store *s, MDB_dbi db, const void *prefix,
                             size_t plen,
                             int (*fn)(void *arg, const MDB_val *k,
                                       const MDB_val *v),
                             void *arg);

/* The same for callers that want the values alone: in txn, and in a read
 * transaction of its own. */
int tally__store_visit_range_in(MDB_txn *txn, MDB_dbi db, const void *prefix,
                                size_t plen, tally_store_history_fn fn,
                                void *arg);
int tally__store_visit_range(tally_store *s, MDB_dbi db, const void *prefix,
                             size_t plen, tally_store_history_fn fn,
                             void *arg);

/* Takes the next number of the counter called name in meta (the first
 * is 1). Returns an LMDB code. */
int tally__store_next_counter(MDB_txn *txn, tally_store *s, const char *name,
                              uint64_t *out);

/* Runs apply as a batch of one. Returns the batch's error or apply's
 * code. */
int tally__store_alone(tally_store *s,
                       int (*apply)(void *arg, tally_store_txn *t), void *arg);

/* ---- server/store_audit.c ---- */

/* An audit entry of kind about subject, made by who. */
void tally__store_audit_init(Tally__AuditEntry *e, const tally_store_actor *who,
                             const char *kind, const char *subject);

/* Appends e to the audit trail in txn, under the account that made the
 * change, with the next sequence number (into e->seq). Returns an LMDB
 * code. */
int tally__store_audit_append(MDB_txn *txn, tally_store *s,
                              Tally__AuditEntry *e);

/* Whether period_key is locked in txn: 1, 0, or a store error. */
/* Taking up a store of format 4: the figures and explanations of each
 * report approved then, as approved (its live ones: an approved report
 * took no change), into approvals, in txn. Returns an LMDB code or < 0. */
int tally__store_take_up_approvals(MDB_txn *txn, tally_store *s);

/* Taking up a store of format 5: the explanations of each report still
 * approved at the revision of its last approval join that approval, in
 * txn. Returns an LMDB code or < 0. */
int tally__store_take_up_explanations(MDB_txn *txn, tally_store *s);

int tally__store_audit_locked(MDB_txn *txn, tally_store *s,
                              uint32_t period_key);

#endif
