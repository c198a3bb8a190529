/* store.c: the LMDB store's mechanics.
 *
 * The happy path: a write (tally_store_batch, tally_store_write) opens
 * a write transaction, runs each operation in a nested transaction of
 * its own, lets the keeper (store_sums.h) write what the batch changed,
 * and commits. LMDB's commit writes and syncs the data pages and then
 * the meta page, so a committed transaction survives a crash and an
 * uncommitted one leaves no trace. What the operations write is the
 * business of the parts: store_figures.c, store_audit.c,
 * store_accounts.c and store_sums.c.
 * The failure modes: any step failing aborts the whole transaction
 * (nothing is written); a full map is doubled, up to the limit, and the
 * transaction retried; a store of another format version is refused at
 * open.
 */
#include "store.h"
#include "store_impl.h"
#include "store_sums.h"

#include "durable.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* 6: with the explanations as approved; 5: with the figures as
 * approved, and passwords; 4: with explanations and reviews; 3: with
 * locked periods; 2: with the sums kept for reports. A tallyd of an
 * earlier format refuses the store, so that it cannot store figures in
 * an approved report or a locked period, approve without keeping the
 * figures or their explanations, leave the sums behind the figures, or
 * write an account back (its last use) without its password. A store of
 * format 2 to 5 is taken up as it is; one of format 1 has its sums made
 * afresh. */
#define STORE_FORMAT "tally-store/6"
#define STORE_FORMAT_5 "tally-store/5"
#define STORE_FORMAT_4 "tally-store/4"
#define STORE_FORMAT_3 "tally-store/3"
#define STORE_FORMAT_2 "tally-store/2"
#define STORE_FORMAT_1 "tally-store/1"

static int is_format(const MDB_val *v, const char *format) {
  return v->mv_size == strlen(format) &&
         memcmp(v->mv_data, format, v->mv_size) == 0;
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
      (rc = mdb_dbi_open(txn, "locks", MDB_CREATE, &s->locks)) != 0 ||
      (rc = mdb_dbi_open(txn, "explanations", MDB_CREATE,
                         &s->explanations)) != 0 ||
      (rc = mdb_dbi_open(txn, "reviews", MDB_CREATE, &s->reviews)) != 0 ||
      (rc = mdb_dbi_open(txn, "approvals", MDB_CREATE, &s->approvals)) != 0)
    goto err_after_begin;
  rc = mdb_get(txn, s->meta, &k, &v);
  if (rc == 0 && is_format(&v, STORE_FORMAT_1)) {
    MDB_val made = {12, "sums_catalog"};
    rc = mdb_del(txn, s->meta, &made, NULL);
    if (rc != 0 && rc != MDB_NOTFOUND)
      goto err_after_begin;
    rc = MDB_NOTFOUND; /* written as the current format below */
  } else if (rc == 0 && is_format(&v, STORE_FORMAT_4) &&
             (rc = tally__store_take_up_approvals(txn, s)) != 0) {
    goto err_after_begin;
  } else if (rc == 0 && is_format(&v, STORE_FORMAT_5) &&
             (rc = tally__store_take_up_explanations(txn, s)) != 0) {
    goto err_after_begin;
  } else if (rc == 0 && (is_format(&v, STORE_FORMAT_2) ||
                          is_format(&v, STORE_FORMAT_3) ||
                          is_format(&v, STORE_FORMAT_4) ||
                          is_format(&v, STORE_FORMAT_5))) {
    /* 2: no period locked yet; 3: no explanation kept, no report
     * reviewed yet (a tallyd of format 3 would not heed them); 4: no
     * figures kept as approved (those of the reports approved now are
     * taken up above from their live figures, which an approved report
     * keeps), no password; 5: no explanations kept as approved (those of
     * the reports approved now are taken up above from the live ones,
     * the approvals of reports reopened since keep none): the same
     * otherwise. */
    rc = MDB_NOTFOUND;
  }
  if (rc == MDB_NOTFOUND) {
    v.mv_data = STORE_FORMAT;
    v.mv_size = strlen(STORE_FORMAT);
    if ((rc = mdb_put(txn, s->meta, &k, &v, 0)) != 0)
      goto err_after_begin;
  } else if (rc != 0) {
    goto err_after_begin;
  } else if (!is_format(&v, STORE_FORMAT)) {
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
  char why[512];
  int rc;

  if (s == NULL)
    return -ENOMEM;
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    rc = -errno;
    goto err_after_alloc;
  }
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  /* One process at a time, and only on a file whose meta pages hold:
   * LMDB would die of SIGBUS on a file cut short. */
  if ((rc = s->lock_fd = tally__store_lock(dir)) < 0)
    goto err_after_alloc;
  if ((rc = tally__store_check(dir, why, sizeof why)) != 0)
    goto err_after_lock;
  pthread_rwlock_init(&s->map_lock, NULL);
  pthread_mutex_init(&s->gate, NULL);
  pthread_cond_init(&s->gate_open, NULL);
  s->map_size = map_size ? map_size : TALLY_STORE_DEFAULT_MAP;
  s->max_map_size = max_map_size;
  if (s->max_map_size && s->max_map_size < s->map_size)
    s->max_map_size = s->map_size;
  if ((rc = store_err(mdb_env_create(&s->env))) != 0)
    goto err_after_lock;
  if ((rc = store_err(mdb_env_set_maxdbs(s->env, 13))) != 0 ||
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
err_after_lock:
  close(s->lock_fd);
err_after_alloc:
  free(s);
  return rc;
}

void tally_store_explain(const char *dir, int rc, char *err, size_t n) {
  char why[512];
  if (rc == -EBUSY) {
    long pid = tally__store_holder(dir);
    snprintf(err, n, "the store in %s is in use by another process (pid %ld, "
             "which holds %s/tallyd.pid): only one tallyd may serve a "
             "store; stop that one first", dir, pid, dir);
  } else if (rc == -EUCLEAN && tally__store_check(dir, why, sizeof why) != 0) {
    snprintf(err, n, "the store in %s is damaged: %s; it is not opened. "
             "Restore the latest backup: move %s away, then 'tallyd restore "
             "BACKUP --data %s' (see 'tallyd restore --help')", dir, why, dir,
             dir);
  } else {
    snprintf(err, n, "cannot open the store in %s: %s", dir,
             tally_strerror(rc));
  }
}

int tally_store_durable(tally_store *s) {
  unsigned flags = 0;
  return mdb_env_get_flags(s->env, &flags) == 0 &&
         (flags & (MDB_NOSYNC | MDB_NOMETASYNC | MDB_MAPASYNC)) == 0;
}

int tally_store_usage(tally_store *s, uint64_t *file_bytes,
                      uint64_t *used_bytes, uint64_t *map_bytes,
                      uint64_t *max_map_bytes) {
  MDB_envinfo info;
  MDB_stat st;
  struct stat fs;
  char file[PATH_MAX + 16];
  int rc;
  if ((rc = mdb_env_info(s->env, &info)) != 0 ||
      (rc = mdb_env_stat(s->env, &st)) != 0)
    return store_err(rc);
  snprintf(file, sizeof file, "%s/data.mdb", s->dir);
  *file_bytes = stat(file, &fs) == 0 ? (uint64_t)fs.st_size : 0;
  *used_bytes = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
  *map_bytes = (uint64_t)info.me_mapsize;
  *max_map_bytes = s->max_map_size;
  return 0;
}

void tally_store_close(tally_store *s) {
  if (s == NULL)
    return;
  mdb_env_close(s->env);
  close(s->lock_fd); /* the next process may have the store */
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

/* LMDB's panic state (MDB_PANIC): a commit could not write its meta
 * page, and every transaction after it fails, even once the disk is
 * well again. Marks the store failed and tells its watcher, once. */
static void failed(tally_store *s) {
  pthread_mutex_lock(&s->gate);
  if (!s->failed && s->on_failure)
    s->on_failure(s->on_failure_arg);
  s->failed = 1;
  pthread_mutex_unlock(&s->gate);
}

static int watch(tally_store *s, int rc) {
  if (rc == MDB_PANIC)
    failed(s);
  return rc;
}

/* After a commit failed: whether LMDB went into its panic state (it
 * says so only to the next transaction). The caller holds the map. */
static void probe(tally_store *s) {
  MDB_txn *txn;
  int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
  if (rc == 0)
    mdb_txn_abort(txn);
  watch(s, rc);
}

void tally_store_on_failure(tally_store *s, void (*fn)(void *arg), void *arg) {
  pthread_mutex_lock(&s->gate);
  s->on_failure = fn;
  s->on_failure_arg = arg;
  int now = s->failed && fn;
  pthread_mutex_unlock(&s->gate);
  if (now)
    fn(arg);
}

int tally__store_read_begin(tally_store *s, MDB_txn **txn) {
  map_hold(s);
  int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
  if (rc != 0)
    map_release(s);
  return watch(s, rc);
}

void tally__store_read_end(tally_store *s, MDB_txn *txn) {
  mdb_txn_abort(txn);
  map_release(s);
}

static int write_begin(tally_store *s, MDB_txn **txn) {
  map_hold(s);
  int rc = mdb_txn_begin(s->env, NULL, 0, txn);
  if (rc != 0)
    map_release(s);
  return watch(s, rc);
}

/* Less room than this on the store's disk after a failed write: the
 * disk is full. A write that ran out of room has taken what was left,
 * down to less than a block. */
#define FULL_ROOM (1u << 20)

/* LMDB reports the short write of a full disk as EIO ("short write,
 * filesystem full?"): a commit that failed so on a disk with no room
 * left failed for want of room. Returns ENOSPC then, else rc. */
static int room_err(tally_store *s, int rc) {
  struct statvfs v;
  if ((rc != EIO && rc != ENOSPC) || statvfs(s->dir, &v) != 0)
    return rc;
  uint64_t room = (uint64_t)(geteuid() == 0 ? v.f_bfree : v.f_bavail) *
                  v.f_frsize; /* root may write into the reserved blocks */
  return room < FULL_ROOM ? ENOSPC : rc;
}

static int write_commit(tally_store *s, MDB_txn *txn) {
  int rc = mdb_txn_commit(txn);
  if (rc != 0 && rc != MDB_MAP_FULL) {
    probe(s);
    rc = room_err(s, rc);
  }
  map_release(s);
  return rc;
}

const char *tally_store_dir(const tally_store *s) { return s->dir; }

static void write_abort(tally_store *s, MDB_txn *txn) {
  mdb_txn_abort(txn);
  map_release(s);
}

int tally__store_visit_in(MDB_txn *txn, MDB_dbi db, const void *prefix,
                          size_t plen,
                          int (*fn)(void *arg, const MDB_val *k,
                                    const MDB_val *v),
                          void *arg) {
  return tally__store_visit_after(txn, db, prefix, plen, prefix, plen, fn,
                                  arg);
}

int tally__store_visit_after(MDB_txn *txn, MDB_dbi db, const void *prefix,
                             size_t plen, const void *start, size_t slen,
                             int (*fn)(void *arg, const MDB_val *k,
                                       const MDB_val *v),
                             void *arg) {
  MDB_cursor *cur;
  MDB_val k = {slen, (void *)start}, v;
  int rc, stop = 0;

  if ((rc = mdb_cursor_open(txn, db, &cur)) != 0)
    return store_err(rc);
  for (rc = mdb_cursor_get(cur, &k, &v, slen ? MDB_SET_RANGE : MDB_FIRST);
       rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
      break;
    if (slen > plen && k.mv_size == slen && memcmp(k.mv_data, start, slen) == 0)
      continue; /* the cursor itself: the page before ended there */
    if ((stop = fn(arg, &k, &v)) != 0)
      break;
  }
  mdb_cursor_close(cur);
  if (stop != 0)
    return stop;
  return rc == MDB_NOTFOUND || rc == 0 ? 0 : store_err(rc);
}

int tally__store_visit_keyed(tally_store *s, MDB_dbi db, const void *prefix,
                             size_t plen,
                             int (*fn)(void *arg, const MDB_val *k,
                                       const MDB_val *v),
                             void *arg) {
  MDB_txn *txn;
  int rc = tally__store_read_begin(s, &txn);
  if (rc != 0)
    return store_err(rc);
  rc = tally__store_visit_in(txn, db, prefix, plen, fn, arg);
  tally__store_read_end(s, txn);
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

int tally__store_visit_range_in(MDB_txn *txn, MDB_dbi db, const void *prefix,
                                size_t plen, tally_store_history_fn fn,
                                void *arg) {
  struct visit vv = {fn, arg};
  return tally__store_visit_in(txn, db, prefix, plen, visit_value, &vv);
}

int tally__store_visit_range(tally_store *s, MDB_dbi db, const void *prefix,
                             size_t plen, tally_store_history_fn fn,
                             void *arg) {
  struct visit vv = {fn, arg};
  return tally__store_visit_keyed(s, db, prefix, plen, visit_value, &vv);
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

/* batch_txn's answer when an operation was refused in a batch without
 * nested transactions: run it again with them. Not a tally code. */
#define BATCH_NESTED 1

/* One attempt at a batch in one transaction. nested: each operation in
 * a nested transaction of its own, so that a refused one leaves the
 * others be. Without (the first attempt: a nested transaction copies
 * each page it changes and merges its list of pages into its parent's,
 * a fifth of the writer's time in a bulk import), the operations write
 * straight into the batch, and the first refusal ends the attempt,
 * nothing written: BATCH_NESTED, or for a batch of one its refusal.
 * Returns 0 when it committed, or the error that failed the whole batch
 * (TALLY_ESTOREFULL: grow and try again); ops[i].code holds each one's
 * own outcome. */
static int batch_txn(tally_store *s, tally_store_op *ops, size_t n,
                     int nested) {
  MDB_txn *txn, *child = NULL;
  const tally_store_keeper *k = s->keeper;
  int rc = write_begin(s, &txn);
  if (rc != 0)
    return store_err(rc);
  if (k)
    k->begin(k->arg);
  for (size_t i = 0; i < n; i++) {
    if (nested &&
        (rc = store_err(watch(s, mdb_txn_begin(s->env, txn, 0, &child)))) != 0)
      goto err_after_begin;
    tally_store_txn t = {.s = s, .txn = nested ? child : txn};
    rc = ops[i].apply(ops[i].arg, &t);
    if (rc != 0 && !tally_store_refusal(rc)) {
      if (nested)
        mdb_txn_abort(child);
      goto err_after_begin; /* the batch as a whole cannot go on */
    }
    if (rc != 0 && !nested) {
      if (k)
        k->settle(k->arg, 0);
      write_abort(s, txn);
      if (n > 1)
        return BATCH_NESTED;
      ops[i].code = rc;
      return 0; /* nothing else to write */
    }
    if (nested && rc == 0)
      rc = store_err(mdb_txn_commit(child));
    else if (nested)
      mdb_txn_abort(child);
    if (k)
      k->settle(k->arg, rc == 0);
    if (rc != 0 && !tally_store_refusal(rc))
      goto err_after_begin;
    ops[i].code = rc;
  }
  tally_store_txn t = {.s = s, .txn = txn};
  if (k && (rc = k->flush(k->arg, &t)) != 0)
    goto err_after_begin;
  return store_err(write_commit(s, txn));

err_after_begin:
  write_abort(s, txn);
  return rc;
}

int tally_store_batch(tally_store *s, tally_store_op *ops, size_t n) {
  int rc, nested = 0;
  for (;;) {
    rc = batch_txn(s, ops, n, nested);
    if (rc == BATCH_NESTED)
      nested = 1;
    else if (rc != TALLY_ESTOREFULL || grow(s) != 0)
      break;
    /* else nothing was written: try again in the larger map */
  }
  if (rc != 0)
    for (size_t i = 0; i < n; i++)
      ops[i].code = rc; /* nothing of the batch was written */
  return rc;
}

int tally__store_alone(tally_store *s,
                       int (*apply)(void *arg, tally_store_txn *t), void *arg) {
  tally_store_op op = {apply, arg, 0};
  int rc = tally_store_batch(s, &op, 1);
  return rc ? rc : op.code;
}

int tally_store_read_begin(tally_store *s, tally_store_txn **out) {
  tally_store_txn *t = calloc(1, sizeof *t);
  if (t == NULL)
    return -ENOMEM;
  int rc = tally__store_read_begin(s, &t->txn);
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
  tally__store_read_end(t->s, t->txn);
  free(t);
}

int tally_store_write(tally_store *s,
                      int (*fn)(void *arg, tally_store_txn *t), void *arg) {
  for (;;) {
    tally_store_txn t = {.s = s, .txn = NULL};
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

int tally_store_set_backup_dir(tally_store *s, const char *dir, char *err,
                               size_t n) {
  char real[PATH_MAX], data[PATH_MAX];
  struct stat st;
  if (realpath(dir, real) == NULL || stat(real, &st) != 0) {
    int rc = -errno;
    snprintf(err, n, "the backup folder %s cannot be used: %s", dir,
             strerror(errno));
    return rc;
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(err, n, "the backup folder %s is not a directory", dir);
    return -ENOTDIR;
  }
  size_t len = realpath(s->dir, data) ? strlen(data) : 0;
  if (len && strncmp(real, data, len) == 0 &&
      (real[len] == 0 || real[len] == '/')) {
    snprintf(err, n, "the backup folder %s is within the store's own %s: "
             "give one apart from it", dir, s->dir);
    return -EINVAL;
  }
  snprintf(s->backup_dir, sizeof s->backup_dir, "%s", real);
  return 0;
}

const char *tally_store_backup_dir(const tally_store *s) {
  return s->backup_dir[0] ? s->backup_dir : NULL;
}

int tally_store_backup_name_ok(const char *name) {
  size_t len = strlen(name);
  if (len == 0 || len > TALLY_STORE_BACKUP_NAME_MAX || name[0] == '.')
    return 0; /* not hidden, and so neither "." nor ".." */
  for (const char *p = name; *p; p++)
    if (*p == '/' || (unsigned char)*p < 0x20 || *p == 0x7f)
      return 0;
  return 1;
}

int tally_store_backup(tally_store *s, const char *name, char *path,
                       size_t n, uint64_t *bytes) {
  struct stat st;
  int rc;

  if (s->backup_dir[0] == 0)
    return -EPERM;
  if (!tally_store_backup_name_ok(name))
    return -EINVAL;
  snprintf(path, n, "%s/%s", s->backup_dir, name);
  /* The copy holds every figure and the accounts' token hashes: it is
   * made as the store is, readable by its owner alone, and synced. */
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                0600);
  if (fd < 0)
    return -errno;
  map_hold(s);
  rc = watch(s, mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT));
  map_release(s);
  if (rc == 0 && fsync(fd) != 0)
    rc = errno;
  if (rc == 0 && fstat(fd, &st) != 0)
    rc = errno;
  if (close(fd) != 0 && rc == 0)
    rc = errno;
  if (rc != 0) {
    unlink(path); /* a partial copy is no backup */
    return store_err(rc);
  }
  /* The copy's name in its folder. If this fails, the copy is left in
   * place and the error returned. */
  if ((rc = tally_sync_dir(s->backup_dir)) != 0)
    return rc;
  *bytes = (uint64_t)st.st_size;
  return 0;
}

int tally_store_copy(const char *dir, int fd, char *err, size_t n) {
  char file[4200];
  struct stat st;
  MDB_env *env;
  int rc;
  snprintf(file, sizeof file, "%s/data.mdb", dir);
  if (stat(file, &st) != 0) {
    rc = -errno;
    snprintf(err, n, "there is no store in %s: %s", dir, strerror(errno));
    return rc;
  }
  /* A file cut short would kill the copy with SIGBUS: look first. */
  if ((rc = tally__store_check(dir, err, n)) != 0)
    return rc;
  if ((rc = mdb_env_create(&env)) != 0)
    goto err_lmdb;
  if ((rc = mdb_env_set_maxdbs(env, 13)) != 0 ||
      (rc = mdb_env_open(env, dir, MDB_RDONLY, 0600)) != 0) {
    mdb_env_close(env);
    goto err_lmdb;
  }
  /* The serving tallyd may grow the map meanwhile: take its new size
   * and start again. */
  for (int tries = 0;; tries++) {
    rc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT);
    if (rc != MDB_MAP_RESIZED || tries == 3 ||
        mdb_env_set_mapsize(env, 0) != 0 || ftruncate(fd, 0) != 0 ||
        lseek(fd, 0, SEEK_SET) != 0)
      break;
  }
  if (rc != 0) {
    mdb_env_close(env);
    goto err_lmdb;
  }
  mdb_env_close(env);
  if (fsync(fd) != 0) {
    rc = -errno;
    snprintf(err, n, "the copy cannot be synced: %s", strerror(errno));
    return rc;
  }
  return 0;

err_lmdb:
  snprintf(err, n, "cannot copy the store in %s: %s", dir, mdb_strerror(rc));
  return store_err(rc);
}

int tally__store_next_counter(MDB_txn *txn, tally_store *s, const char *name,
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

