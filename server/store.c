/* store.c: the LMDB store.
 *
 * The happy path: tally_store_put opens a write transaction, puts every
 * value, commits; LMDB's commit writes and syncs the data pages and then
 * the meta page, so a committed transaction survives a crash and an
 * uncommitted one leaves no trace.
 * The failure modes: any put failing aborts the whole transaction (no
 * value is written); a full map is grown once and the transaction
 * retried; a store written by another format version is refused at open.
 */
#include "store.h"

#include "error.h"

#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STORE_FORMAT "tally-store/1"
#define KEY_MAX (4 + 2 * 64 + 1)

struct tally_store {
  MDB_env *env;
  MDB_dbi values; /* the figures, keyed as store.h says */
  MDB_dbi meta;   /* "format" -> STORE_FORMAT */
  size_t map_size;
};

/* LMDB's codes, translated at the boundary. */
static int store_err(int rc) {
  if (rc == 0)
    return 0;
  if (rc == MDB_MAP_FULL)
    return TALLY_ESTOREFULL;
  if (rc > 0 && rc < MDB_KEYEXIST)
    return -rc; /* an errno value */
  return TALLY_ESTORE;
}

static void put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8)
    p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

/* Builds period | unit | 0 | element (element may be NULL: a prefix).
 * Returns the key length, or 0 if the codes are too long. */
static size_t make_key(uint8_t *key, uint32_t period, const char *unit,
                       const char *element) {
  size_t ul = unit ? strlen(unit) : 0, el = element ? strlen(element) : 0;
  size_t n = 4;

  if (ul > 64 || el > 64)
    return 0;
  put_u32(key, period);
  if (unit) {
    memcpy(key + n, unit, ul);
    n += ul;
    key[n++] = 0;
  }
  if (element) {
    memcpy(key + n, element, el);
    n += el;
  }
  return n;
}

static int check_format(tally_store *s) {
  MDB_txn *txn;
  MDB_val k = {6, "format"}, v;
  int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
  if (rc != 0)
    return store_err(rc);
  rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta);
  if (rc == 0)
    rc = mdb_dbi_open(txn, "values", MDB_CREATE, &s->values);
  if (rc != 0)
    goto err_after_begin;
  rc = mdb_get(txn, s->meta, &k, &v);
  if (rc == MDB_NOTFOUND) {
    v.mv_data = STORE_FORMAT;
    v.mv_size = strlen(STORE_FORMAT);
    rc = mdb_put(txn, s->meta, &k, &v, 0);
    if (rc != 0)
      goto err_after_begin;
  } else if (rc != 0) {
    goto err_after_begin;
  } else if (v.mv_size != strlen(STORE_FORMAT) ||
             memcmp(v.mv_data, STORE_FORMAT, v.mv_size) != 0) {
    mdb_txn_abort(txn);
    return TALLY_ESTORE;
  }
  return store_err(mdb_txn_commit(txn));

err_after_begin:
  mdb_txn_abort(txn);
  return store_err(rc);
}

int tally_store_open(const char *dir, size_t map_size, tally_store **out) {
  tally_store *s = calloc(1, sizeof *s);
  int rc;

  if (s == NULL)
    return -ENOMEM;
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    rc = -errno;
    goto err_after_alloc;
  }
  s->map_size = map_size ? map_size : TALLY_STORE_DEFAULT_MAP;
  if ((rc = store_err(mdb_env_create(&s->env))) != 0)
    goto err_after_alloc;
  if ((rc = store_err(mdb_env_set_maxdbs(s->env, 4))) != 0 ||
      (rc = store_err(mdb_env_set_mapsize(s->env, s->map_size))) != 0 ||
      (rc = store_err(mdb_env_open(s->env, dir, 0, 0600))) != 0)
    goto err_after_create;
  if ((rc = check_format(s)) != 0)
    goto err_after_create;
  *out = s;
  return 0;

err_after_create:
  mdb_env_close(s->env);
err_after_alloc:
  free(s);
  return rc;
}

void tally_store_close(tally_store *s) {
  if (s == NULL)
    return;
  mdb_env_close(s->env);
  free(s);
}

/* One attempt at the whole write transaction. Returns an LMDB code. */
static int put_txn(tally_store *s, const char *unit, uint32_t period_key,
                   const tally_store_item *items, size_t n, int64_t now,
                   tally_store_put_result *res) {
  MDB_txn *txn;
  int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
  if (rc != 0)
    return rc;

  memset(res, 0, sizeof *res);
  for (size_t i = 0; i < n; i++) {
    uint8_t key[KEY_MAX], val[16];
    MDB_val k, v, old;
    k.mv_size = make_key(key, period_key, unit, items[i].element);
    k.mv_data = key;
    if (k.mv_size == 0) {
      rc = EINVAL;
      goto err_after_begin;
    }
    uint64_t bits;
    memcpy(&bits, &items[i].value, sizeof bits);
    rc = mdb_get(txn, s->values, &k, &old);
    if (rc == 0 && old.mv_size == 16) {
      if (get_u64(old.mv_data) == bits) {
        res->unchanged++;
      } else {
        res->replaced++;
      }
    } else if (rc != MDB_NOTFOUND && rc != 0) {
      goto err_after_begin;
    }
    put_u64(val, bits);
    put_u64(val + 8, (uint64_t)now);
    v.mv_size = sizeof val;
    v.mv_data = val;
    if ((rc = mdb_put(txn, s->values, &k, &v, 0)) != 0)
      goto err_after_begin;
    res->written++;
  }
  return mdb_txn_commit(txn);

err_after_begin:
  mdb_txn_abort(txn);
  return rc;
}

int tally_store_put(tally_store *s, const char *unit, uint32_t period_key,
                    const tally_store_item *items, size_t n, int64_t now,
                    tally_store_put_result *res) {
  int rc = put_txn(s, unit, period_key, items, n, now, res);
  if (rc == MDB_MAP_FULL) {
    /* Nothing was written. Grow the map (no transaction is open in this
     * process, as LMDB requires) and try once more. */
    if (mdb_env_set_mapsize(s->env, s->map_size * 2) == 0) {
      s->map_size *= 2;
      rc = put_txn(s, unit, period_key, items, n, now, res);
    }
  }
  if (rc != 0)
    memset(res, 0, sizeof *res);
  return store_err(rc);
}

int tally_store_scan(tally_store *s, uint32_t period_key, const char *unit,
                     tally_store_visit_fn fn, void *arg) {
  uint8_t prefix[KEY_MAX];
  size_t plen = make_key(prefix, period_key, unit, NULL);
  MDB_txn *txn;
  MDB_cursor *cur;
  MDB_val k, v;
  int rc, stop = 0;

  if (plen == 0)
    return TALLY_ESTORE;
  if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
    return store_err(rc);
  if ((rc = mdb_cursor_open(txn, s->values, &cur)) != 0)
    goto err_after_begin;

  k.mv_size = plen;
  k.mv_data = prefix;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    const uint8_t *key = k.mv_data;
    if (k.mv_size < plen || memcmp(key, prefix, plen) != 0)
      break;
    /* The key is period | unit | 0 | element: split it. LMDB's data is
     * borrowed until the transaction ends, so copy the codes out. */
    const uint8_t *nul = memchr(key + 4, 0, k.mv_size - 4);
    if (nul == NULL || v.mv_size != 16)
      continue;
    char ucode[65], ecode[65];
    size_t ul = (size_t)(nul - key - 4), el = k.mv_size - 4 - ul - 1;
    if (ul >= sizeof ucode || el >= sizeof ecode)
      continue;
    memcpy(ucode, key + 4, ul);
    ucode[ul] = 0;
    memcpy(ecode, nul + 1, el);
    ecode[el] = 0;
    uint64_t bits = get_u64(v.mv_data);
    double value;
    memcpy(&value, &bits, sizeof value);
    stop = fn(arg, ucode, ecode, value, (int64_t)get_u64((uint8_t *)v.mv_data + 8));
    if (stop != 0)
      break;
  }
  mdb_cursor_close(cur);
  mdb_txn_abort(txn);
  if (stop != 0)
    return stop;
  return rc == MDB_NOTFOUND || rc == 0 ? 0 : store_err(rc);

err_after_begin:
  mdb_txn_abort(txn);
  return store_err(rc);
}
