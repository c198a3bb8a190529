/* store_sums.c: what server/rollup.c needs of the store to keep its
 * sums beside the figures: the keeper it is told through, the reports
 * there are (from revisions), and the sums records (database sums).
 * Every function here but the keeper's setter works in the caller's
 * transaction.
 * The failure modes: a code too long for a key is not found (a read) or
 * -EINVAL (a write); LMDB's failures are store errors.
 */
#include "store_sums.h"
#include "store_impl.h"

#include "error.h"

#include <errno.h>
#include <lmdb.h>
#include <string.h>

void tally_store_set_keeper(tally_store *s, const tally_store_keeper *k) {
  s->keeper = k;
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
    char unit[STORE_CODE_MAX + 1];
    size_t ul = k.mv_size - 5; /* period | unit | 0 */
    if (k.mv_size < 6 || ul > STORE_CODE_MAX)
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
    char unit[STORE_CODE_MAX + 1], ind[STORE_CODE_MAX + 1];
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
