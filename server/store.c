/* store.c: the LMDB store.
 *
 * The happy path: tally_store_submit opens a write transaction, checks
 * the submission id and the revision, puts every value, records what
 * changed and the id, lets the keeper (server/rollup.c) bring the sums
 * reports read up to date in the same transaction, and commits. LMDB's
 * commit writes and syncs the data pages and then the meta page, so a
 * committed transaction survives a crash and an uncommitted one leaves
 * no trace.
 * The failure modes: any step failing aborts the whole transaction
 * (nothing is written); a full map is doubled, up to the limit, and the
 * transaction retried; a store of another format version is refused at
 * open.
 */
#include "store.h"

#include "durable.h"
#include "error.h"
#include "period.h"
#include "tally.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* 3: with locked periods; 2: with the sums kept for reports. A tallyd
 * of an earlier format refuses the store, so that it cannot store
 * figures in a locked period or leave the sums behind the figures. A
 * store of format 2 is taken up as it is; one of format 1 has its sums
 * made afresh. */
#define STORE_FORMAT "tally-store/3"
#define STORE_FORMAT_2 "tally-store/2"
#define STORE_FORMAT_1 "tally-store/1"
#define CODE_MAX 64
#define KEY_MAX (4 + CODE_MAX + 1 + CODE_MAX + 8)
#define VALUE_SIZE 16

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
};

/* LMDB's codes, translated at the boundary. */
static int store_err(int rc) {
  if (rc == 0)
    return 0;
  if (rc == MDB_MAP_FULL)
    return TALLY_ESTOREFULL;
  if (rc > 0)
    return -rc; /* an errno value; LMDB's own codes are negative */
  return TALLY_ESTORE;
}

static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 3; i >= 0; i--, v >>= 8)
    p[i] = (uint8_t)v;
}

static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8)
    p[i] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static uint64_t get_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

/* period | unit | 0 [| element]. Returns the length, 0 if a code is too
 * long. */
static size_t make_key(uint8_t *key, uint32_t period, const char *unit,
                       const char *element) {
  size_t ul = strlen(unit), el = element ? strlen(element) : 0;
  if (ul > CODE_MAX || el > CODE_MAX)
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
static int split_key(const MDB_val *k, char first[CODE_MAX + 1],
                     char second[CODE_MAX + 1]) {
  const uint8_t *key = k->mv_data;
  if (k->mv_size < 5)
    return -1;
  const uint8_t *nul = memchr(key + 4, 0, k->mv_size - 4);
  if (nul == NULL)
    return -1;
  size_t fl = (size_t)(nul - key - 4), sl = k->mv_size - 4 - fl - 1;
  if (fl > CODE_MAX || sl > CODE_MAX)
    return -1;
  memcpy(first, key + 4, fl);
  first[fl] = 0;
  memcpy(second, nul + 1, sl);
  second[sl] = 0;
  return 0;
}

static int open_dbs(tally_store *s) {
  MDB_txn *txn;
  MDB_val k = {6, "format"}, v;
  int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
  if (rc != 0)
    return store_err(rc);
  if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) != 0 ||
      (rc = mdb_dbi_open(txn, "values", MDB_CREATE, &s->values)) != 0 ||
      (rc = mdb_dbi_open(txn, "revisions", MDB_CREATE, &s->revisions)) != 0 ||
      (rc = mdb_dbi_open(txn, "changes", MDB_CREATE, &s->changes)) != 0 ||
      (rc = mdb_dbi_open(txn, "submissions", MDB_CREATE, &s->submissions)) != 0 ||
      (rc = mdb_dbi_open(txn, "targets", MDB_CREATE, &s->targets)) != 0 ||
      (rc = mdb_dbi_open(txn, "accounts", MDB_CREATE, &s->accounts)) != 0 ||
      (rc = mdb_dbi_open(txn, "audit", MDB_CREATE, &s->audit)) != 0 ||
      (rc = mdb_dbi_open(txn, "sums", MDB_CREATE, &s->sums)) != 0 ||
      (rc = mdb_dbi_open(txn, "locks", MDB_CREATE, &s->locks)) != 0)
    goto err_after_begin;
  rc = mdb_get(txn, s->meta, &k, &v);
  if (rc == 0 && v.mv_size == strlen(STORE_FORMAT_1) &&
      memcmp(v.mv_data, STORE_FORMAT_1, v.mv_size) == 0) {
    MDB_val made = {12, "sums_catalog"};
    rc = mdb_del(txn, s->meta, &made, NULL);
    if (rc != 0 && rc != MDB_NOTFOUND)
      goto err_after_begin;
    rc = MDB_NOTFOUND; /* written as the current format below */
  } else if (rc == 0 && v.mv_size == strlen(STORE_FORMAT_2) &&
             memcmp(v.mv_data, STORE_FORMAT_2, v.mv_size) == 0) {
    rc = MDB_NOTFOUND; /* no period locked yet: the same otherwise */
  }
  if (rc == MDB_NOTFOUND) {
    v.mv_data = STORE_FORMAT;
    v.mv_size = strlen(STORE_FORMAT);
    if ((rc = mdb_put(txn, s->meta, &k, &v, 0)) != 0)
      goto err_after_begin;
  } else if (rc != 0) {
    goto err_after_begin;
  } else if (v.mv_size != strlen(STORE_FORMAT) ||
             memcmp(v.mv_data, STORE_FORMAT, v.mv_size) != 0) {
    mdb_txn_abort(txn);
    return TALLY_EFORMAT;
  }
  return store_err(mdb_txn_commit(txn));

err_after_begin:
  mdb_txn_abort(txn);
  return store_err(rc);
}

int tally_store_open(const char *dir, size_t map_size, size_t max_map_size,
                     tally_store **out) {
  tally_store *s = calloc(1, sizeof *s);
  int rc;

  if (s == NULL)
    return -ENOMEM;
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    rc = -errno;
    goto err_after_alloc;
  }
  pthread_rwlock_init(&s->map_lock, NULL);
  pthread_mutex_init(&s->gate, NULL);
  pthread_cond_init(&s->gate_open, NULL);
  s->map_size = map_size ? map_size : TALLY_STORE_DEFAULT_MAP;
  s->max_map_size = max_map_size;
  if (s->max_map_size && s->max_map_size < s->map_size)
    s->max_map_size = s->map_size;
  if ((rc = store_err(mdb_env_create(&s->env))) != 0)
    goto err_after_alloc;
  if ((rc = store_err(mdb_env_set_maxdbs(s->env, 12))) != 0 ||
      (rc = store_err(mdb_env_set_mapsize(s->env, s->map_size))) != 0 ||
      (rc = store_err(mdb_env_open(s->env, dir, 0, 0600))) != 0)
    goto err_after_create;
  /* An existing store may be larger than asked for: LMDB keeps its size. */
  MDB_envinfo info;
  if (mdb_env_info(s->env, &info) == 0 && info.me_mapsize > s->map_size)
    s->map_size = info.me_mapsize;
  if ((rc = open_dbs(s)) != 0)
    goto err_after_create;
  *out = s;
  return 0;

err_after_create:
  mdb_env_close(s->env);
err_after_alloc:
  free(s);
  return rc;
}

int tally_store_durable(tally_store *s) {
  unsigned flags = 0;
  return mdb_env_get_flags(s->env, &flags) == 0 &&
         (flags & (MDB_NOSYNC | MDB_NOMETASYNC | MDB_MAPASYNC)) == 0;
}

void tally_store_close(tally_store *s) {
  if (s == NULL)
    return;
  mdb_env_close(s->env);
  pthread_rwlock_destroy(&s->map_lock);
  pthread_mutex_destroy(&s->gate);
  pthread_cond_destroy(&s->gate_open);
  free(s);
}


/* The map may move (grow) only when no transaction is open in the
 * process, on any thread: every transaction, read or write, and every
 * backup holds the map lock shared. A grow closes the gate first, so
 * that new transactions wait while the open ones end; else a steady
 * stream of them would never leave it a moment. */
static void map_hold(tally_store *s) {
  pthread_mutex_lock(&s->gate);
  while (s->growing)
    pthread_cond_wait(&s->gate_open, &s->gate);
  pthread_mutex_unlock(&s->gate);
  pthread_rwlock_rdlock(&s->map_lock);
}

static void map_release(tally_store *s) {
  pthread_rwlock_unlock(&s->map_lock);
}

static int read_begin(tally_store *s, MDB_txn **txn) {
  map_hold(s);
  int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
  if (rc != 0)
    map_release(s);
  return rc;
}

static void read_end(tally_store *s, MDB_txn *txn) {
  mdb_txn_abort(txn);
  map_release(s);
}

static int write_begin(tally_store *s, MDB_txn **txn) {
  map_hold(s);
  int rc = mdb_txn_begin(s->env, NULL, 0, txn);
  if (rc != 0)
    map_release(s);
  return rc;
}

static int write_commit(tally_store *s, MDB_txn *txn) {
  int rc = mdb_txn_commit(txn);
  map_release(s);
  return rc;
}

static void write_abort(tally_store *s, MDB_txn *txn) {
  mdb_txn_abort(txn);
  map_release(s);
}

/* Visits the records of db whose keys begin with prefix (plen bytes;
 * 0 = every record), key and value, in key order, in txn, until fn
 * returns non-zero. Returns 0, fn's value, or a store error. */
static int visit_in(MDB_txn *txn, MDB_dbi db, const void *prefix, size_t plen,
                    int (*fn)(void *arg, const MDB_val *k, const MDB_val *v),
                    void *arg) {
  MDB_cursor *cur;
  MDB_val k = {plen, (void *)prefix}, v;
  int rc, stop = 0;

  if ((rc = mdb_cursor_open(txn, db, &cur)) != 0)
    return store_err(rc);
  for (rc = mdb_cursor_get(cur, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
       rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
      break;
    if ((stop = fn(arg, &k, &v)) != 0)
      break;
  }
  mdb_cursor_close(cur);
  if (stop != 0)
    return stop;
  return rc == MDB_NOTFOUND || rc == 0 ? 0 : store_err(rc);
}

/* visit_in, in a read transaction of its own. */
static int visit_keyed(tally_store *s, MDB_dbi db, const void *prefix,
                       size_t plen,
                       int (*fn)(void *arg, const MDB_val *k, const MDB_val *v),
                       void *arg) {
  MDB_txn *txn;
  int rc = read_begin(s, &txn);
  if (rc != 0)
    return store_err(rc);
  rc = visit_in(txn, db, prefix, plen, fn, arg);
  read_end(s, txn);
  return rc;
}

struct visit {
  tally_store_history_fn fn;
  void *arg;
};

static int visit_value(void *arg, const MDB_val *k, const MDB_val *v) {
  struct visit *vv = arg;
  (void)k;
  return vv->fn(vv->arg, v->mv_data, v->mv_size);
}

/* visit_keyed for callers that want the values alone. */
static int visit_range(tally_store *s, MDB_dbi db, const void *prefix,
                       size_t plen, tally_store_history_fn fn, void *arg) {
  struct visit vv = {fn, arg};
  return visit_keyed(s, db, prefix, plen, visit_value, &vv);
}

static int grow(tally_store *s);

struct tally_store_txn {
  tally_store *s;
  MDB_txn *txn;
};

/* Takes the next number of the counter called name in meta (the first
 * is 1). Returns an LMDB code. */
static int next_counter(MDB_txn *txn, tally_store *s, const char *name,
                        uint64_t *out) {
  MDB_val k = {strlen(name), (void *)name}, v;
  uint8_t next[8];
  int rc = mdb_get(txn, s->meta, &k, &v);
  if (rc == 0 && v.mv_size == 8)
    *out = get_u64(v.mv_data);
  else if (rc == 0 || rc == MDB_NOTFOUND)
    *out = 1;
  else
    return rc;
  put_u64(next, *out + 1);
  v.mv_size = 8;
  v.mv_data = next;
  return mdb_put(txn, s->meta, &k, &v, 0);
}

/* Appends e to the audit trail in txn, under the account that made the
 * change, with the next sequence number. Returns an LMDB code. */
static int audit_append(MDB_txn *txn, tally_store *s, Tally__AuditEntry *e) {
  uint8_t key[16];
  MDB_val k = {sizeof key, key}, v;
  int rc = next_counter(txn, s, "audit_seq", &e->seq);
  if (rc != 0)
    return rc;
  put_u64(key, e->account_id);
  put_u64(key + 8, e->seq);
  v.mv_size = tally__audit_entry__get_packed_size(e);
  if ((rc = mdb_put(txn, s->audit, &k, &v, MDB_RESERVE)) != 0)
    return rc;
  tally__audit_entry__pack(e, v.mv_data);
  return 0;
}

/* An audit entry of kind about subject, made by who. */
static void audit_init(Tally__AuditEntry *e, const tally_store_actor *who,
                       const char *kind, const char *subject) {
  tally__audit_entry__init(e);
  e->time_unix = who->now;
  e->account_id = who->account_id;
  e->account_name = (char *)(who->account_name ? who->account_name : "");
  e->peer = (char *)(who->peer ? who->peer : "");
  e->kind = (char *)kind;
  e->subject = (char *)subject;
}

/* A change of one record: put (value) or delete (value NULL) k in db,
 * with its audit entry, in t. Returns 0, TALLY_ENOTFOUND (a record to
 * delete is not there) or a store error. */
struct audited {
  MDB_dbi db;
  MDB_val k;
  const void *value;
  size_t len;
  int *replaced;            /* set when a record was there; may be NULL */
  Tally__AuditEntry entry;
};

static int audited_change(tally_store_txn *t, struct audited *a) {
  MDB_val v = {a->len, (void *)a->value}, old;
  int rc;
  if (a->replaced)
    *a->replaced = mdb_get(t->txn, a->db, &a->k, &old) == 0;
  rc = a->value ? mdb_put(t->txn, a->db, &a->k, &v, 0)
                : mdb_del(t->txn, a->db, &a->k, NULL);
  if (rc == 0)
    rc = audit_append(t->txn, t->s, &a->entry);
  return rc == MDB_NOTFOUND ? TALLY_ENOTFOUND : store_err(rc);
}

int tally_store_txn_target_put(tally_store_txn *t, const char *indicator,
                               int year, const void *packed, size_t len,
                               int *replaced, const char *before,
                               const char *after, const tally_store_actor *who) {
  uint8_t key[CODE_MAX + 1 + 4];
  size_t il = strlen(indicator);
  char subject[CODE_MAX + 16];
  if (il > CODE_MAX)
    return -EINVAL;
  memcpy(key, indicator, il);
  key[il] = 0;
  put_u32(key + il + 1, (uint32_t)year);
  snprintf(subject, sizeof subject, "%s %d", indicator, year);
  struct audited a = {.db = t->s->targets, .k = {il + 1 + 4, key},
                      .value = packed, .len = len, .replaced = replaced};
  audit_init(&a.entry, who, "target", subject);
  a.entry.before = (char *)before;
  a.entry.after = (char *)after;
  return audited_change(t, &a);
}

int tally_store_targets(tally_store *s, tally_store_history_fn fn, void *arg) {
  return visit_range(s, s->targets, NULL, 0, fn, arg);
}

int tally_store_txn_targets(tally_store_txn *t, tally_store_history_fn fn,
                            void *arg) {
  struct visit vv = {fn, arg};
  return visit_in(t->txn, t->s->targets, NULL, 0, visit_value, &vv);
}

int tally_store_txn_lock_put(tally_store_txn *t, uint32_t period_key,
                             const void *packed, size_t len,
                             const char *subject, const char *before,
                             const char *after, const tally_store_actor *who) {
  uint8_t key[4];
  put_u32(key, period_key);
  struct audited a = {.db = t->s->locks, .k = {sizeof key, key},
                      .value = packed, .len = len};
  audit_init(&a.entry, who, "period", subject);
  a.entry.before = (char *)before;
  a.entry.after = (char *)after;
  return audited_change(t, &a);
}

struct visit_locks {
  tally_store_lock_fn fn;
  void *arg;
};

static int visit_lock(void *arg, const MDB_val *k, const MDB_val *v) {
  struct visit_locks *vl = arg;
  if (k->mv_size != 4)
    return 0; /* not a period's */
  return vl->fn(vl->arg, get_u32(k->mv_data), v->mv_data, v->mv_size);
}

int tally_store_locks(tally_store *s, const uint32_t *period_key,
                      tally_store_lock_fn fn, void *arg) {
  uint8_t key[4];
  struct visit_locks vl = {fn, arg};
  if (period_key == NULL)
    return visit_keyed(s, s->locks, NULL, 0, visit_lock, &vl);
  put_u32(key, *period_key);
  return visit_keyed(s, s->locks, key, sizeof key, visit_lock, &vl);
}

int tally_store_txn_locks(tally_store_txn *t, const uint32_t *period_key,
                          tally_store_lock_fn fn, void *arg) {
  uint8_t key[4];
  struct visit_locks vl = {fn, arg};
  if (period_key)
    put_u32(key, *period_key);
  return visit_in(t->txn, t->s->locks, key, period_key ? sizeof key : 0,
                  visit_lock, &vl);
}

/* The first answer to a submission id, as stored under the id. */
#define ACK_SIZE (4 * 4 + 8 + 8) /* counts, revision, digest */

static void pack_ack(uint8_t *p, const tally_store_result *r,
                     uint64_t digest) {
  put_u32(p, r->written);
  put_u32(p + 4, r->replaced);
  put_u32(p + 8, r->unchanged);
  put_u32(p + 12, r->removed);
  put_u64(p + 16, r->revision);
  put_u64(p + 24, digest);
}

static void unpack_ack(const uint8_t *p, tally_store_result *r) {
  r->written = get_u32(p);
  r->replaced = get_u32(p + 4);
  r->unchanged = get_u32(p + 8);
  r->removed = get_u32(p + 12);
  r->revision = get_u64(p + 16);
}

/* Looks up a submission id. Returns 1 with *res filled (the id is
 * known, for this report and these figures), 0 (not known),
 * TALLY_EIDREUSE (it was used for other figures) or a store error. */
static int seen_id(MDB_txn *txn, tally_store *s, const uint8_t *report_key,
                   size_t report_len, const char *id, uint64_t digest,
                   tally_store_result *res) {
  MDB_val k = {strlen(id), (void *)id}, v;
  int rc = mdb_get(txn, s->submissions, &k, &v);
  if (rc == MDB_NOTFOUND)
    return 0;
  if (rc != 0)
    return store_err(rc);
  if (v.mv_size != ACK_SIZE + report_len ||
      memcmp((uint8_t *)v.mv_data + ACK_SIZE, report_key, report_len) != 0 ||
      get_u64((uint8_t *)v.mv_data + 24) != digest)
    return TALLY_EIDREUSE;
  unpack_ack(v.mv_data, res);
  res->duplicate = 1;
  return 1;
}

/* Appends one change to a ChangeSet under construction. */
static int add_change(Tally__ChangeSet *cs, size_t *cap, const char *element,
                      int had_old, double old, int has_new, double new_value) {
  if (cs->n_changes == *cap) {
    size_t ncap = *cap ? *cap * 2 : 16;
    Tally__Change **grown = realloc(cs->changes, ncap * sizeof *grown);
    if (grown == NULL)
      return -ENOMEM;
    cs->changes = grown;
    *cap = ncap;
  }
  Tally__Change *c = malloc(sizeof *c + strlen(element) + 1);
  if (c == NULL)
    return -ENOMEM;
  tally__change__init(c);
  c->element = strcpy((char *)(c + 1), element);
  c->had_old = had_old;
  c->old_value = old;
  c->has_new = has_new;
  c->new_value = new_value;
  cs->changes[cs->n_changes++] = c;
  return 0;
}

static void free_changes(Tally__ChangeSet *cs) {
  for (size_t i = 0; i < cs->n_changes; i++)
    free(cs->changes[i]);
  free(cs->changes);
  cs->changes = NULL;
  cs->n_changes = 0;
}

static double get_value(const MDB_val *v) {
  uint64_t bits = get_u64(v->mv_data);
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

/* True when element is among the submission's items. */
static int submitted(const tally_store_submission *sub, const char *element,
                     size_t len) {
  for (size_t i = 0; i < sub->n; i++)
    if (strlen(sub->items[i].element) == len &&
        memcmp(sub->items[i].element, element, len) == 0)
      return 1;
  return 0;
}

/* Removes the stored elements of the report that the submission leaves
 * out, recording each. Returns 0 or a negative code. */
static int remove_others(MDB_txn *txn, tally_store *s,
                         const tally_store_submission *sub,
                         const uint8_t *report_key, size_t report_len,
                         Tally__ChangeSet *cs, size_t *cap,
                         tally_store_result *res) {
  MDB_cursor *cur;
  MDB_val k = {report_len, (void *)report_key}, v;
  int rc = mdb_cursor_open(txn, s->values, &cur);
  if (rc != 0)
    return store_err(rc);
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (k.mv_size < report_len || memcmp(k.mv_data, report_key, report_len))
      break;
    const char *element = (const char *)k.mv_data + report_len;
    size_t el = k.mv_size - report_len;
    if (submitted(sub, element, el) || v.mv_size != VALUE_SIZE)
      continue;
    char code[CODE_MAX + 1];
    memcpy(code, element, el < CODE_MAX ? el : CODE_MAX);
    code[el < CODE_MAX ? el : CODE_MAX] = 0;
    if ((rc = add_change(cs, cap, code, 1, get_value(&v), 0, 0)) != 0)
      break;
    if ((rc = store_err(mdb_cursor_del(cur, 0))) != 0)
      break;
    res->removed++;
  }
  mdb_cursor_close(cur);
  return rc == MDB_NOTFOUND ? 0 : rc < 0 ? rc : store_err(rc);
}

/* Writes the history entry of the submission and its audit entry.
 * Returns 0 or a store error. */
static int record_changes(MDB_txn *txn, tally_store *s,
                          const tally_store_submission *sub,
                          const uint8_t *report_key, size_t report_len,
                          Tally__ChangeSet *cs) {
  uint8_t key[KEY_MAX];
  MDB_val k = {report_len + 8, key}, v;
  int rc;

  memcpy(key, report_key, report_len);
  put_u64(key + report_len, cs->revision);
  cs->submission_id = (char *)(sub->id ? sub->id : "");
  cs->time_unix = sub->now;
  cs->peer = (char *)(sub->peer ? sub->peer : "");
  cs->account_id = sub->account_id;
  cs->account_name = (char *)(sub->account_name ? sub->account_name : "");

  /* The audit trail points at the history entry, which holds the
   * values before and after; the entry keeps the trail's number. */
  tally_store_actor who = {sub->account_id, sub->account_name, sub->peer,
                           sub->now};
  tally_period p;
  char period[16] = "", subject[CODE_MAX + 20];
  Tally__AuditEntry e;
  if (tally_period_from_key(sub->period_key, &p) == 0)
    tally_period_format(&p, period);
  snprintf(subject, sizeof subject, "%s %s", sub->unit, period);
  audit_init(&e, &who, "figures", subject);
  e.unit = (char *)sub->unit;
  e.period = period;
  e.revision = cs->revision;
  e.submission_id = cs->submission_id;
  if ((rc = audit_append(txn, s, &e)) != 0)
    return store_err(rc);
  cs->audit_seq = e.seq;
  v.mv_size = tally__change_set__get_packed_size(cs);
  if ((rc = mdb_put(txn, s->changes, &k, &v, MDB_RESERVE)) != 0)
    return store_err(rc);
  tally__change_set__pack(cs, v.mv_data);
  return 0;
}

/* Checks the bounded pairs on the figures as they now stand in txn.
 * Returns 0, TALLY_EBOUND (res says which) or a store error. */
static int check_bounds(MDB_txn *txn, tally_store *s,
                        const tally_store_submission *sub,
                        tally_store_result *res) {
  for (size_t i = 0; i < sub->n_bounds; i++) {
    uint8_t kn[KEY_MAX], kd[KEY_MAX];
    MDB_val n = {make_key(kn, sub->period_key, sub->unit,
                          sub->bounds[i].numerator), kn},
            d = {make_key(kd, sub->period_key, sub->unit,
                          sub->bounds[i].denominator), kd},
            vn, vd;
    int rn = mdb_get(txn, s->values, &n, &vn);
    int rd = mdb_get(txn, s->values, &d, &vd);
    if ((rn != 0 && rn != MDB_NOTFOUND) || (rd != 0 && rd != MDB_NOTFOUND))
      return store_err(rn != 0 && rn != MDB_NOTFOUND ? rn : rd);
    if (rn != 0 || rd != 0 || vn.mv_size != VALUE_SIZE ||
        vd.mv_size != VALUE_SIZE)
      continue;
    if (get_value(&vn) > get_value(&vd)) {
      res->bound = (int)i;
      res->bound_numerator = get_value(&vn);
      res->bound_denominator = get_value(&vd);
      return TALLY_EBOUND;
    }
  }
  return 0;
}

/* Whether period_key is locked in txn: 1, 0, or a store error. */
static int locked(MDB_txn *txn, tally_store *s, uint32_t period_key) {
  uint8_t key[4];
  MDB_val k = {sizeof key, key}, v;
  put_u32(key, period_key);
  int rc = mdb_get(txn, s->locks, &k, &v);
  return rc == 0 ? 1 : rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

/* Applies one submission inside txn, which the caller commits or aborts.
 * Returns 0 (also for a duplicate: res says so), TALLY_EIDREUSE,
 * TALLY_ELOCKED, TALLY_ECONFLICT, TALLY_EBOUND, -EINVAL or a store
 * error. */
static int apply_submission(MDB_txn *txn, tally_store *s,
                            const tally_store_submission *sub,
                            tally_store_result *res) {
  uint8_t report_key[KEY_MAX];
  size_t report_len = make_key(report_key, sub->period_key, sub->unit, NULL);
  Tally__ChangeSet cs = TALLY__CHANGE_SET__INIT;
  size_t cap = 0;
  MDB_val k, v;
  uint64_t revision = 0;
  int rc, has_id = sub->id && *sub->id;

  memset(res, 0, sizeof *res);
  res->bound = -1;
  if (report_len == 0 || (has_id && strlen(sub->id) > TALLY_STORE_MAX_ID))
    return -EINVAL;

  if (has_id &&
      (rc = seen_id(txn, s, report_key, report_len, sub->id, sub->digest,
                    res)) != 0)
    return rc == 1 ? 0 : rc; /* 1: a duplicate, answered from the record */
  /* After the id: a submission stored before the lock still gets its
   * answer when it is sent again. */
  if ((rc = locked(txn, s, sub->period_key)) != 0)
    return rc == 1 ? TALLY_ELOCKED : rc;

  k.mv_size = report_len;
  k.mv_data = report_key;
  rc = mdb_get(txn, s->revisions, &k, &v);
  if (rc == 0 && v.mv_size == 8)
    revision = get_u64(v.mv_data);
  else if (rc != 0 && rc != MDB_NOTFOUND)
    return store_err(rc);
  if (sub->check_revision && revision != sub->base_revision) {
    res->revision = revision;
    return TALLY_ECONFLICT;
  }
  tally_store_txn t = {s, txn};
  if (s->keeper && (rc = s->keeper->before(s->keeper->arg, &t, sub)) != 0)
    return rc;

  for (size_t i = 0; i < sub->n; i++) {
    uint8_t key[KEY_MAX], val[VALUE_SIZE];
    MDB_val old;
    uint64_t bits;
    k.mv_size = make_key(key, sub->period_key, sub->unit, sub->items[i].element);
    k.mv_data = key;
    if (k.mv_size == 0) {
      rc = -EINVAL;
      goto out;
    }
    memcpy(&bits, &sub->items[i].value, sizeof bits);
    rc = mdb_get(txn, s->values, &k, &old);
    if (rc != 0 && rc != MDB_NOTFOUND) {
      rc = store_err(rc);
      goto out;
    }
    int had_old = rc == 0 && old.mv_size == VALUE_SIZE;
    res->written++;
    if (had_old && get_u64(old.mv_data) == bits) {
      res->unchanged++;
      continue; /* keep its time: the figure did not change */
    }
    if (had_old)
      res->replaced++;
    if ((rc = add_change(&cs, &cap, sub->items[i].element, had_old,
                         had_old ? get_value(&old) : 0, 1,
                         sub->items[i].value)) != 0)
      goto out;
    put_u64(val, bits);
    put_u64(val + 8, (uint64_t)sub->now);
    v.mv_size = sizeof val;
    v.mv_data = val;
    if ((rc = store_err(mdb_put(txn, s->values, &k, &v, 0))) != 0)
      goto out;
  }
  if (sub->replace &&
      (rc = remove_others(txn, s, sub, report_key, report_len, &cs, &cap,
                          res)) != 0)
    goto out;
  if ((rc = check_bounds(txn, s, sub, res)) != 0)
    goto out;

  /* A submission that changed something moves the report on. */
  if (cs.n_changes > 0 && s->keeper &&
      (rc = s->keeper->after(s->keeper->arg, &t)) != 0)
    goto out;
  if (cs.n_changes > 0) {
    uint8_t rev[8];
    cs.revision = ++revision;
    put_u64(rev, revision);
    k.mv_size = report_len;
    k.mv_data = report_key;
    v.mv_size = 8;
    v.mv_data = rev;
    if ((rc = store_err(mdb_put(txn, s->revisions, &k, &v, 0))) != 0 ||
        (rc = record_changes(txn, s, sub, report_key, report_len, &cs)) != 0)
      goto out;
  }
  res->revision = revision;

  if (has_id) {
    uint8_t ack[ACK_SIZE + KEY_MAX];
    pack_ack(ack, res, sub->digest);
    memcpy(ack + ACK_SIZE, report_key, report_len);
    k.mv_size = strlen(sub->id);
    k.mv_data = (void *)sub->id;
    v.mv_size = ACK_SIZE + report_len;
    v.mv_data = ack;
    if ((rc = store_err(mdb_put(txn, s->submissions, &k, &v, 0))) != 0)
      goto out;
  }
  rc = 0;
out:
  free_changes(&cs);
  return rc;
}

int tally_store_txn_submit(tally_store_txn *t, const tally_store_submission *sub,
                           tally_store_result *res) {
  int rc = apply_submission(t->txn, t->s, sub, res);
  if (rc != 0 && rc != TALLY_ECONFLICT && rc != TALLY_EBOUND)
    memset(res, 0, sizeof *res); /* only those two say more */
  return rc;
}

int tally_store_refusal(int code) {
  return code == -EINVAL ||
         (code <= TALLY_EBASE && code > TALLY_ELAST && code != TALLY_ESTORE &&
          code != TALLY_ESTOREFULL);
}

static int earlier(const struct timespec *a, const struct timespec *b) {
  return a->tv_sec < b->tv_sec ||
         (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Doubles the map, within the limit. Returns 0 if it (or a grow on
 * another thread meanwhile) grew it. The caller holds no transaction.
 * Open transactions end soon, so the gate is closed and they are waited
 * for, 100 ms at most: a backup's or a verify's snapshot does not end
 * soon, and the map does not grow while one is taken. After a grow that
 * timed out, none is tried for a second, so that a long snapshot holds
 * the others back 100 ms a second at most. */
static int grow(tally_store *s) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  pthread_mutex_lock(&s->gate);
  if (s->growing) { /* another thread is at it: its result is ours */
    unsigned long grows = s->grows;
    while (s->growing)
      pthread_cond_wait(&s->gate_open, &s->gate);
    int grew = s->grows != grows;
    pthread_mutex_unlock(&s->gate);
    return grew ? 0 : TALLY_ESTOREFULL;
  }
  /* map_size is written only by the one grow that set growing, and read
   * here with growing clear: the gate's mutex orders the two. */
  size_t next = s->map_size * 2;
  if (s->max_map_size && next > s->max_map_size)
    next = s->max_map_size;
  if (next <= s->map_size || earlier(&now, &s->grow_after)) {
    pthread_mutex_unlock(&s->gate);
    return TALLY_ESTOREFULL;
  }
  s->growing = 1;
  pthread_mutex_unlock(&s->gate);

  int rc = TALLY_ESTOREFULL, tries = 0;
  while (pthread_rwlock_trywrlock(&s->map_lock) != 0 && ++tries < 100) {
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  if (tries < 100) {
    if (mdb_env_set_mapsize(s->env, next) == 0) {
      s->map_size = next;
      rc = 0;
    }
    pthread_rwlock_unlock(&s->map_lock);
  }

  pthread_mutex_lock(&s->gate);
  s->growing = 0;
  s->grows += rc == 0;
  if (tries == 100) {
    s->grow_after = now;
    s->grow_after.tv_sec += 1;
  }
  pthread_cond_broadcast(&s->gate_open);
  pthread_mutex_unlock(&s->gate);
  return rc;
}

/* One attempt at a batch in one transaction, each operation in a nested
 * transaction of its own so that a refused one leaves the others be.
 * Returns 0 when it committed, or the error that failed the whole batch
 * (TALLY_ESTOREFULL: grow and try again); ops[i].code holds each one's
 * own outcome. */
static int batch_txn(tally_store *s, tally_store_op *ops, size_t n) {
  MDB_txn *txn, *child;
  const tally_store_keeper *k = s->keeper;
  int rc = write_begin(s, &txn);
  if (rc != 0)
    return store_err(rc);
  if (k)
    k->begin(k->arg);
  for (size_t i = 0; i < n; i++) {
    if ((rc = store_err(mdb_txn_begin(s->env, txn, 0, &child))) != 0)
      goto err_after_begin;
    tally_store_txn t = {s, child};
    rc = ops[i].apply(ops[i].arg, &t);
    if (rc != 0 && !tally_store_refusal(rc)) {
      mdb_txn_abort(child);
      goto err_after_begin; /* the batch as a whole cannot go on */
    }
    if (rc == 0)
      rc = store_err(mdb_txn_commit(child));
    else
      mdb_txn_abort(child);
    if (k)
      k->settle(k->arg, rc == 0);
    if (rc != 0 && !tally_store_refusal(rc))
      goto err_after_begin;
    ops[i].code = rc;
  }
  tally_store_txn t = {s, txn};
  if (k && (rc = k->flush(k->arg, &t)) != 0)
    goto err_after_begin;
  return store_err(write_commit(s, txn));

err_after_begin:
  write_abort(s, txn);
  return rc;
}

int tally_store_batch(tally_store *s, tally_store_op *ops, size_t n) {
  int rc;
  while ((rc = batch_txn(s, ops, n)) == TALLY_ESTOREFULL && grow(s) == 0)
    ; /* nothing was written: try again in the larger map */
  if (rc != 0)
    for (size_t i = 0; i < n; i++)
      ops[i].code = rc; /* nothing of the batch was written */
  return rc;
}

/* A submission as a batch operation. */
struct submit_op {
  const tally_store_submission *sub;
  tally_store_result *res;
};

static int submit_apply(void *arg, tally_store_txn *t) {
  struct submit_op *o = arg;
  return tally_store_txn_submit(t, o->sub, o->res);
}

int tally_store_submit_batch(tally_store *s, const tally_store_submission *subs,
                             size_t n, tally_store_result *res, int *codes) {
  struct submit_op *so = calloc(n ? n : 1, sizeof *so);
  tally_store_op *ops = calloc(n ? n : 1, sizeof *ops);
  int rc = -ENOMEM;
  if (so && ops) {
    for (size_t i = 0; i < n; i++) {
      so[i] = (struct submit_op){&subs[i], &res[i]};
      ops[i] = (tally_store_op){submit_apply, &so[i], 0};
    }
    rc = tally_store_batch(s, ops, n);
  }
  for (size_t i = 0; i < n; i++) {
    codes[i] = ops ? ops[i].code : rc;
    if (codes[i] != 0 && codes[i] != TALLY_ECONFLICT &&
        codes[i] != TALLY_EBOUND)
      memset(&res[i], 0, sizeof res[i]);
  }
  free(so);
  free(ops);
  return rc;
}

int tally_store_submit(tally_store *s, const tally_store_submission *sub,
                       tally_store_result *res) {
  int code, rc = tally_store_submit_batch(s, sub, 1, res, &code);
  return rc ? rc : code;
}

/* Visits the values of period_key (of one unit when unit is not NULL)
 * in txn. */
static int scan_txn(tally_store *s, MDB_txn *txn, uint32_t period_key,
                    const char *unit, tally_store_visit_fn fn, void *arg) {
  uint8_t prefix[KEY_MAX];
  size_t plen = 4;
  MDB_cursor *cur;
  MDB_val k, v;
  int rc, stop = 0;

  if (unit) {
    if ((plen = make_key(prefix, period_key, unit, NULL)) == 0)
      return 0; /* no unit has so long a code */
  } else {
    put_u32(prefix, period_key);
  }
  if ((rc = mdb_cursor_open(txn, s->values, &cur)) != 0)
    return store_err(rc);
  k.mv_size = plen;
  k.mv_data = prefix;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    const uint8_t *key = k.mv_data;
    if (k.mv_size < plen || memcmp(key, prefix, plen) != 0)
      break;
    char ucode[CODE_MAX + 1], ecode[CODE_MAX + 1];
    if (v.mv_size != VALUE_SIZE || split_key(&k, ucode, ecode) != 0)
      continue;
    stop = fn(arg, ucode, ecode, get_value(&v),
              (int64_t)get_u64((const uint8_t *)v.mv_data + 8));
    if (stop != 0)
      break;
  }
  mdb_cursor_close(cur);
  if (stop != 0)
    return stop;
  return rc == MDB_NOTFOUND || rc == 0 ? 0 : store_err(rc);
}

int tally_store_scan(tally_store *s, uint32_t period_key, const char *unit,
                     tally_store_visit_fn fn, void *arg) {
  MDB_txn *txn;
  int rc = read_begin(s, &txn);
  if (rc != 0)
    return store_err(rc);
  rc = scan_txn(s, txn, period_key, unit, fn, arg);
  read_end(s, txn);
  return rc;
}

int tally_store_revision(tally_store *s, uint32_t period_key, const char *unit,
                         uint64_t *revision) {
  uint8_t key[KEY_MAX];
  MDB_val k = {make_key(key, period_key, unit, NULL), key}, v;
  MDB_txn *txn;
  int rc;

  *revision = 0;
  if (k.mv_size == 0)
    return 0;
  if ((rc = read_begin(s, &txn)) != 0)
    return store_err(rc);
  rc = mdb_get(txn, s->revisions, &k, &v);
  if (rc == 0 && v.mv_size == 8)
    *revision = get_u64(v.mv_data);
  read_end(s, txn);
  return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

int tally_store_history(tally_store *s, uint32_t period_key, const char *unit,
                        tally_store_history_fn fn, void *arg) {
  uint8_t prefix[KEY_MAX];
  size_t plen = make_key(prefix, period_key, unit, NULL);
  /* period | unit | 0 is the prefix of this report's entries alone. */
  return plen ? visit_range(s, s->changes, prefix, plen, fn, arg) : 0;
}

int tally_store_backup(tally_store *s, const char *path, uint64_t *bytes) {
  struct stat st;
  char file[4096];
  int rc;

  if (mkdir(path, 0700) != 0)
    return -errno;
  /* The copy holds every figure and the accounts' token hashes: it is
   * made as the store is, readable by its owner alone, and synced. */
  snprintf(file, sizeof file, "%s/data.mdb", path);
  int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    rc = -errno;
    rmdir(path);
    return rc;
  }
  map_hold(s);
  rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
  map_release(s);
  if (rc == 0 && fsync(fd) != 0)
    rc = errno;
  if (close(fd) != 0 && rc == 0)
    rc = errno;
  if (rc != 0) {
    unlink(file); /* a partial copy is no backup */
    rmdir(path);
    return store_err(rc);
  }
  /* The copy's name in its folder, and the folder's in its parent. If
   * this fails, the whole copy is left in place and the error returned. */
  char parent[4096];
  snprintf(parent, sizeof parent, "%s", path);
  if ((rc = tally_sync_dir(path)) != 0 ||
      (rc = tally_sync_dir(dirname(parent))) != 0)
    return rc;
  *bytes = stat(file, &st) == 0 ? (uint64_t)st.st_size : 0;
  return 0;
}

int tally_store_changeset(tally_store *s, uint32_t period_key, const char *unit,
                          uint64_t revision, tally_store_history_fn fn,
                          void *arg) {
  uint8_t key[KEY_MAX];
  size_t len = make_key(key, period_key, unit, NULL);
  MDB_txn *txn;
  MDB_val k, v;
  int rc;

  if (len == 0)
    return TALLY_ENOTFOUND;
  put_u64(key + len, revision);
  k.mv_size = len + 8;
  k.mv_data = key;
  if ((rc = read_begin(s, &txn)) != 0)
    return store_err(rc);
  rc = mdb_get(txn, s->changes, &k, &v);
  if (rc == 0)
    rc = fn(arg, v.mv_data, v.mv_size);
  else
    rc = rc == MDB_NOTFOUND ? TALLY_ENOTFOUND : store_err(rc);
  read_end(s, txn);
  return rc;
}

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
                                uint64_t *ids, const tally_store_actor *who) {
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    Tally__Account *a = accs[i]->account;
    char subject[32], after[400];
    Tally__AuditEntry e;
    if ((rc = next_counter(t->txn, t->s, "account_next", &ids[i])) != 0)
      break;
    a->id = ids[i];
    snprintf(subject, sizeof subject, "account %llu",
             (unsigned long long)a->id);
    snprintf(after, sizeof after, "%s%s, \"%s\", active",
             a->role == TALLY__ROLE__ROLE_REPORTER ? "reporter for "
             : a->role == TALLY__ROLE__ROLE_ANALYST ? "analyst"
                                                    : "admin",
             a->unit, a->name);
    audit_init(&e, who, "account", subject);
    e.before = "";
    e.after = after;
    if ((rc = account_put(t->txn, t->s, accs[i])) == 0)
      rc = audit_append(t->txn, t->s, &e);
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
  audit_init(&e, who, "account", subject);
  e.before = (char *)before;
  e.after = (char *)after;
  if ((rc = mdb_get(t->txn, t->s->accounts, &k, &v)) == 0 &&
      (rc = account_put(t->txn, t->s, acc)) == 0)
    rc = audit_append(t->txn, t->s, &e);
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

struct one_change {
  int kind;
  const void *a, *b;
  const char *indicator, *subject, *before, *after;
  int year;
  uint32_t period_key;
  const void *packed;
  size_t len, n;
  int *replaced;
  uint64_t *ids;
  const int64_t *when;
  const tally_store_actor *who;
};

enum { CHANGE_TARGET, CHANGE_LOCK, CHANGE_ADD, CHANGE_UPDATE, CHANGE_TOUCH };

static int one_change(void *arg, tally_store_txn *t) {
  struct one_change *c = arg;
  switch (c->kind) {
  case CHANGE_TARGET:
    return tally_store_txn_target_put(t, c->indicator, c->year, c->packed,
                                      c->len, c->replaced, c->before, c->after,
                                      c->who);
  case CHANGE_LOCK:
    return tally_store_txn_lock_put(t, c->period_key, c->packed, c->len,
                                    c->subject, c->before, c->after, c->who);
  case CHANGE_ADD:
    return tally_store_txn_account_add(t, (Tally__StoredAccount *const *)c->a,
                                       c->n, c->ids, c->who);
  case CHANGE_UPDATE:
    return tally_store_txn_account_update(t, c->a, c->before, c->after,
                                          c->who);
  default:
    return tally_store_txn_account_touch(t, c->a, c->when, c->n);
  }
}

static int change_alone(tally_store *s, struct one_change *c) {
  tally_store_op op = {one_change, c, 0};
  int rc = tally_store_batch(s, &op, 1);
  return rc ? rc : op.code;
}

int tally_store_target_put(tally_store *s, const char *indicator, int year,
                           const void *packed, size_t len, int *replaced,
                           const char *before, const char *after,
                           const tally_store_actor *who) {
  struct one_change c = {.kind = CHANGE_TARGET, .indicator = indicator,
                         .year = year, .packed = packed, .len = len,
                         .replaced = replaced, .before = before,
                         .after = after, .who = who};
  return change_alone(s, &c);
}

int tally_store_lock_put(tally_store *s, uint32_t period_key,
                         const void *packed, size_t len, const char *subject,
                         const char *before, const char *after,
                         const tally_store_actor *who) {
  struct one_change c = {.kind = CHANGE_LOCK, .period_key = period_key,
                         .packed = packed, .len = len, .subject = subject,
                         .before = before, .after = after, .who = who};
  return change_alone(s, &c);
}

int tally_store_account_add(tally_store *s, Tally__StoredAccount *const *accs,
                            size_t n, uint64_t *ids,
                            const tally_store_actor *who) {
  struct one_change c = {.kind = CHANGE_ADD, .a = accs, .n = n, .ids = ids,
                         .who = who};
  return change_alone(s, &c);
}

int tally_store_account_update(tally_store *s, const Tally__StoredAccount *acc,
                               const char *before, const char *after,
                               const tally_store_actor *who) {
  struct one_change c = {.kind = CHANGE_UPDATE, .a = acc, .before = before,
                         .after = after, .who = who};
  return change_alone(s, &c);
}

int tally_store_account_touch(tally_store *s, const uint64_t *ids,
                              const int64_t *when, size_t n) {
  struct one_change c = {.kind = CHANGE_TOUCH, .a = ids, .when = when, .n = n};
  return change_alone(s, &c);
}

int tally_store_accounts(tally_store *s, tally_store_history_fn fn, void *arg) {
  return visit_range(s, s->accounts, NULL, 0, fn, arg);
}

int tally_store_audit(tally_store *s, int all, uint64_t account,
                      tally_store_history_fn fn, void *arg) {
  uint8_t prefix[8];
  put_u64(prefix, account);
  return visit_range(s, s->audit, prefix, all ? 0 : 8, fn, arg);
}

/* ---- transactions for the sums kept beside the figures ---- */

void tally_store_set_keeper(tally_store *s, const tally_store_keeper *k) {
  s->keeper = k;
}

int tally_store_read_begin(tally_store *s, tally_store_txn **out) {
  tally_store_txn *t = calloc(1, sizeof *t);
  if (t == NULL)
    return -ENOMEM;
  int rc = read_begin(s, &t->txn);
  if (rc != 0) {
    free(t);
    return store_err(rc);
  }
  t->s = s;
  *out = t;
  return 0;
}

void tally_store_txn_end(tally_store_txn *t) {
  if (t == NULL)
    return;
  read_end(t->s, t->txn);
  free(t);
}

int tally_store_write(tally_store *s,
                      int (*fn)(void *arg, tally_store_txn *t), void *arg) {
  for (;;) {
    tally_store_txn t = {s, NULL};
    int rc = write_begin(s, &t.txn);
    if (rc != 0)
      return store_err(rc);
    rc = fn(arg, &t);
    if (rc != 0) {
      write_abort(s, t.txn);
      if (rc == TALLY_ESTOREFULL && grow(s) == 0)
        continue;
      return rc;
    }
    rc = write_commit(s, t.txn);
    if (rc == MDB_MAP_FULL && grow(s) == 0)
      continue;
    return store_err(rc);
  }
}

int tally_store_txn_scan(tally_store_txn *t, uint32_t period_key,
                         const char *unit, tally_store_visit_fn fn, void *arg) {
  return scan_txn(t->s, t->txn, period_key, unit, fn, arg);
}

int tally_store_txn_reports(tally_store_txn *t, uint32_t period_key,
                            int (*fn)(void *arg, uint32_t period,
                                      const char *unit),
                            void *arg) {
  uint8_t from[4];
  MDB_cursor *cur;
  MDB_val k = {4, from}, v;
  int rc, stop = 0;
  put_u32(from, period_key);
  if ((rc = mdb_cursor_open(t->txn, t->s->revisions, &cur)) != 0)
    return store_err(rc);
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    char unit[CODE_MAX + 1];
    size_t ul = k.mv_size - 5; /* period | unit | 0 */
    if (k.mv_size < 6 || ul > CODE_MAX)
      continue;
    memcpy(unit, (const uint8_t *)k.mv_data + 4, ul);
    unit[ul] = 0;
    if ((stop = fn(arg, get_u32(k.mv_data), unit)) != 0)
      break;
  }
  mdb_cursor_close(cur);
  if (stop != 0)
    return stop;
  return rc == MDB_NOTFOUND || rc == 0 ? 0 : store_err(rc);
}

int tally_store_txn_has_report(tally_store_txn *t, uint32_t period_key,
                               const char *unit) {
  uint8_t key[KEY_MAX];
  MDB_val k = {make_key(key, period_key, unit, NULL), key}, v;
  if (k.mv_size == 0)
    return 0;
  int rc = mdb_get(t->txn, t->s->revisions, &k, &v);
  return rc == 0 ? 1 : rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

int tally_store_txn_next_period(tally_store_txn *t, uint32_t period_key,
                                uint32_t *next) {
  uint8_t from[4];
  MDB_cursor *cur;
  MDB_val k = {4, from}, v;
  if (period_key == UINT32_MAX)
    return TALLY_ENOTFOUND;
  put_u32(from, period_key + 1);
  int rc = mdb_cursor_open(t->txn, t->s->revisions, &cur);
  if (rc != 0)
    return store_err(rc);
  rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  if (rc == 0 && k.mv_size >= 4)
    *next = get_u32(k.mv_data);
  mdb_cursor_close(cur);
  return rc == 0 ? 0 : rc == MDB_NOTFOUND ? TALLY_ENOTFOUND : store_err(rc);
}

int tally_store_txn_sums_get(tally_store_txn *t, uint32_t period_key,
                             const char *unit, const char *indicator,
                             const void **data, size_t *len) {
  uint8_t key[KEY_MAX];
  MDB_val k = {make_key(key, period_key, unit, indicator), key}, v;
  if (k.mv_size == 0)
    return TALLY_ENOTFOUND;
  int rc = mdb_get(t->txn, t->s->sums, &k, &v);
  if (rc == MDB_NOTFOUND)
    return TALLY_ENOTFOUND;
  if (rc != 0)
    return store_err(rc);
  *data = v.mv_data;
  *len = v.mv_size;
  return 0;
}

int tally_store_txn_sums_put(tally_store_txn *t, uint32_t period_key,
                             const char *unit, const char *indicator,
                             const void *data, size_t len) {
  uint8_t key[KEY_MAX];
  MDB_val k = {make_key(key, period_key, unit, indicator), key},
          v = {len, (void *)data};
  if (k.mv_size == 0)
    return -EINVAL;
  int rc = len ? mdb_put(t->txn, t->s->sums, &k, &v, 0)
               : mdb_del(t->txn, t->s->sums, &k, NULL);
  return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

int tally_store_txn_sums_scan(tally_store_txn *t, uint32_t period_key,
                              int (*fn)(void *arg, uint32_t period,
                                        const char *unit,
                                        const char *indicator,
                                        const void *data, size_t len),
                              void *arg) {
  uint8_t from[4];
  MDB_cursor *cur;
  MDB_val k = {period_key ? 4 : 0, from}, v;
  int rc, stop = 0;
  put_u32(from, period_key);
  if ((rc = mdb_cursor_open(t->txn, t->s->sums, &cur)) != 0)
    return store_err(rc);
  for (rc = mdb_cursor_get(cur, &k, &v, period_key ? MDB_SET_RANGE : MDB_FIRST);
       rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    const uint8_t *key = k.mv_data;
    if (k.mv_size < 5 || (period_key && get_u32(key) != period_key))
      break;
    char unit[CODE_MAX + 1], ind[CODE_MAX + 1];
    if (split_key(&k, unit, ind) != 0)
      continue;
    if ((stop = fn(arg, get_u32(key), unit, ind, v.mv_data, v.mv_size)) != 0)
      break;
  }
  mdb_cursor_close(cur);
  if (stop != 0)
    return stop;
  return rc == MDB_NOTFOUND || rc == 0 ? 0 : store_err(rc);
}

int tally_store_txn_sums_clear(tally_store_txn *t) {
  return store_err(mdb_drop(t->txn, t->s->sums, 0));
}

int tally_store_txn_meta_get(tally_store_txn *t, const char *name, char *buf,
                             size_t cap) {
  MDB_val k = {strlen(name), (void *)name}, v;
  int rc = mdb_get(t->txn, t->s->meta, &k, &v);
  if (rc == MDB_NOTFOUND)
    return TALLY_ENOTFOUND;
  if (rc != 0)
    return store_err(rc);
  size_t n = v.mv_size < cap - 1 ? v.mv_size : cap - 1;
  memcpy(buf, v.mv_data, n);
  buf[n] = 0;
  return 0;
}

int tally_store_txn_meta_put(tally_store_txn *t, const char *name,
                             const char *value) {
  MDB_val k = {strlen(name), (void *)name}, v = {strlen(value), (void *)value};
  return store_err(mdb_put(t->txn, t->s->meta, &k, &v, 0));
}
