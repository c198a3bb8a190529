/* store_figures.c: submissions of figures, and the figures read back.
 *
 * The happy path: a submission, in the caller's transaction, checks its
 * id (one seen before is answered from its record), the period's lock
 * and the report's revision, puts every value, removes those a replace
 * leaves out, runs its check (the catalog's rules) on the figures as
 * they now stand, lets the keeper
 * (store_sums.h) bring the sums up to date, and writes the report's new
 * revision, its history entry, its audit entry and its id.
 * The failure modes: a refusal (TALLY_EIDREUSE, TALLY_ELOCKED,
 * TALLY_ECONFLICT, TALLY_ERULES, -EINVAL) returns before anything of the
 * submission is kept, and the batch undoes its nested transaction; a
 * store error fails the whole batch.
 */
#include "store_figures.h"
#include "store_impl.h"
#include "store_sums.h"

#include "arena.h"
#include "error.h"
#include "period.h"
#include "tally.pb-c.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A ChangeSet under construction: its changes and the codes it copied
 * live in one arena, freed when the submission is done. */
struct changes {
  Tally__ChangeSet cs;
  tally_arena arena;
  size_t cap; /* of cs.changes */
  /* Or, for a report that held no figures, the submission's changes
   * packed already (sub->first_changes): how many, none in cs. */
  size_t n_first;
};

/* Appends one change; its element copied unless it outlives the entry
 * (a submission's items do). Returns 0 or -ENOMEM. */
static int add_change(struct changes *ch, const char *element, int copy,
                      int had_old, double old, int has_new, double new_value) {
  Tally__ChangeSet *cs = &ch->cs;
  if (tally_arena_reserve(&ch->arena, &cs->changes, cs->n_changes, &ch->cap,
                          sizeof *cs->changes) != 0)
    return -ENOMEM;
  Tally__Change *c = tally_arena_alloc(&ch->arena, sizeof *c);
  if (c == NULL ||
      (copy && (element = tally_arena_strdup(&ch->arena, element)) == NULL))
    return -ENOMEM;
  tally__change__init(c);
  c->element = (char *)element;
  c->had_old = had_old;
  c->old_value = old;
  c->has_new = has_new;
  c->new_value = new_value;
  cs->changes[cs->n_changes++] = c;
  return 0;
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
                         struct changes *ch, tally_store_result *res) {
  MDB_cursor *cur;
  MDB_val k = {report_len, (void *)report_key}, v;
  int rc = mdb_cursor_open(txn, s->values, &cur), got;
  if (rc != 0)
    return store_err(rc);
  /* rc: a tally code from a step; got: LMDB's from the cursor. */
  for (got = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); got == 0;
       got = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (k.mv_size < report_len || memcmp(k.mv_data, report_key, report_len))
      break;
    const char *element = (const char *)k.mv_data + report_len;
    size_t el = k.mv_size - report_len;
    if (submitted(sub, element, el) || v.mv_size != VALUE_SIZE)
      continue;
    char code[STORE_CODE_MAX + 1];
    memcpy(code, element, el < STORE_CODE_MAX ? el : STORE_CODE_MAX);
    code[el < STORE_CODE_MAX ? el : STORE_CODE_MAX] = 0;
    if ((rc = add_change(ch, code, 1, 1, get_value(&v), 0, 0)) != 0)
      break;
    if ((rc = store_err(mdb_cursor_del(cur, 0))) != 0)
      break;
    res->removed++;
  }
  mdb_cursor_close(cur);
  if (rc != 0)
    return rc;
  return got == 0 || got == MDB_NOTFOUND ? 0 : store_err(got);
}

/* Orders items by element code: the order of their keys. */
static int by_element(const void *a, const void *b) {
  const tally_store_item *x = *(const tally_store_item *const *)a,
                         *y = *(const tally_store_item *const *)b;
  int c = strcmp(x->element, y->element);
  return c ? c : (x > y) - (x < y); /* the same element twice: as sent */
}

/* After an append at the cursor: true when the key before it (if any)
 * is not the same report's, the prefix's plen bytes of key. The cursor
 * is left at the last key, the one appended. */
static int first_of_report(MDB_cursor *cur, const uint8_t *key, size_t plen) {
  MDB_val k, v;
  int first = 1;
  if (mdb_cursor_get(cur, &k, &v, MDB_PREV) == 0)
    first = k.mv_size < plen || memcmp(k.mv_data, key, plen) != 0;
  if (mdb_cursor_get(cur, &k, &v, MDB_LAST) != 0)
    first = 0; /* cannot be; then no shortcut */
  return first;
}

/* What put_values found stored under an item's key. */
struct old_value {
  int had;
  double value;
};

/* Puts the submission's values with one cursor, in key order: a key
 * near the last one is found without a descent from the root, and keys
 * past the end of the store are appended (which fills pages rather than
 * splitting them in half). An unchanged figure keeps its time. The
 * changes go into ch in the submission's own order (or, for a report
 * that held none and whose changes came packed, only their number).
 * *fresh tells whether the report held no figures before and holds just
 * these now. Returns 0 or a negative code. */
static int put_values(MDB_txn *txn, tally_store *s,
                      const tally_store_submission *sub, struct changes *ch,
                      tally_store_result *res, int *fresh) {
  const tally_store_item **order = malloc((sub->n ? sub->n : 1) * sizeof *order);
  struct old_value *old = malloc((sub->n ? sub->n : 1) * sizeof *old);
  MDB_cursor *cur = NULL;
  int rc = order && old ? store_err(mdb_cursor_open(txn, s->values, &cur))
                        : -ENOMEM;
  if (rc == 0 && sub->order) {
    for (size_t i = 0; i < sub->n; i++)
      order[i] = &sub->items[sub->order[i]];
  } else if (rc == 0) {
    for (size_t i = 0; i < sub->n; i++)
      order[i] = &sub->items[i];
    qsort(order, sub->n, sizeof *order, by_element);
  }
  int appending = 1; /* until a key is not past the end */
  *fresh = 0;
  for (size_t j = 0; j < sub->n && rc == 0; j++) {
    const tally_store_item *it = order[j];
    struct old_value *o = &old[it - sub->items];
    uint8_t key[KEY_MAX], val[VALUE_SIZE];
    uint64_t bits;
    MDB_val k = {make_key(key, sub->period_key, sub->unit, it->element), key};
    MDB_val v = {sizeof val, val}, got;
    if (k.mv_size == 0) {
      rc = -EINVAL;
      break;
    }
    memcpy(&bits, &it->value, sizeof bits);
    put_u64(val, bits);
    put_u64(val + 8, (uint64_t)sub->now);
    o->had = 0;
    if (appending) {
      int put = mdb_cursor_put(cur, &k, &v, MDB_APPEND);
      if (put == 0 && j == 0)
        *fresh = first_of_report(cur, key, k.mv_size - strlen(it->element));
      if (put == 0)
        continue;
      if (put != MDB_KEYEXIST) {
        rc = store_err(put);
        break;
      }
      appending = 0; /* this key is not past the end: look it up */
      *fresh = 0;
    }
    int found = mdb_cursor_get(cur, &k, &got, MDB_SET_KEY);
    if (found == 0 && got.mv_size == VALUE_SIZE) {
      o->had = 1;
      o->value = get_value(&got);
      if (get_u64(got.mv_data) == bits)
        continue; /* the same figure: keep its time */
      rc = store_err(mdb_cursor_put(cur, &k, &v, MDB_CURRENT));
    } else if (found == 0 || found == MDB_NOTFOUND) {
      rc = store_err(mdb_cursor_put(cur, &k, &v, 0));
    } else {
      rc = store_err(found);
    }
  }
  if (cur)
    mdb_cursor_close(cur);
  if (rc == 0 && *fresh && sub->first_changes) {
    res->written = (unsigned)sub->n; /* each new: its change packed */
    ch->n_first = sub->n;
  }
  for (size_t i = 0; i < sub->n && rc == 0 && ch->n_first == 0; i++) {
    const tally_store_item *it = &sub->items[i];
    uint64_t bits;
    memcpy(&bits, &it->value, sizeof bits);
    res->written++;
    if (old[i].had) {
      uint64_t was;
      memcpy(&was, &old[i].value, sizeof was);
      if (was == bits) {
        res->unchanged++;
        continue;
      }
      res->replaced++;
    }
    rc = add_change(ch, it->element, 0, old[i].had,
                    old[i].had ? old[i].value : 0, 1, it->value);
  }
  free(order);
  free(old);
  return rc;
}

/* Writes the history entry of the submission and its audit entry.
 * Returns 0 or a store error. */
static int record_changes(MDB_txn *txn, tally_store *s,
                          const tally_store_submission *sub,
                          const uint8_t *report_key, size_t report_len,
                          struct changes *ch) {
  Tally__ChangeSet *cs = &ch->cs;
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
  cs->how = (char *)(sub->how ? sub->how : "");

  /* The audit trail points at the history entry, which holds the
   * values before and after; the entry keeps the trail's number. */
  tally_store_actor who = {sub->account_id, sub->account_name, sub->peer,
                           sub->now};
  tally_period p;
  char period[16] = "", subject[STORE_CODE_MAX + 20];
  Tally__AuditEntry e;
  if (tally_period_from_key(sub->period_key, &p) == 0)
    tally_period_format(&p, period);
  snprintf(subject, sizeof subject, "%s %s", sub->unit, period);
  tally__store_audit_init(&e, &who, "figures", subject);
  e.unit = (char *)sub->unit;
  e.period = period;
  e.revision = cs->revision;
  e.submission_id = cs->submission_id;
  e.how = cs->how;
  if ((rc = tally__store_audit_append(txn, s, &e)) != 0)
    return store_err(rc);
  cs->audit_seq = e.seq;
  /* Packed changes follow the rest: protobuf reads two messages end to
   * end as one with the fields of both. */
  size_t head = tally__change_set__get_packed_size(cs),
         tail = ch->n_first ? sub->first_changes_len : 0;
  v.mv_size = head + tail;
  if ((rc = mdb_put(txn, s->changes, &k, &v, MDB_RESERVE)) != 0)
    return store_err(rc);
  tally__change_set__pack(cs, v.mv_data);
  if (tail)
    memcpy((uint8_t *)v.mv_data + head, sub->first_changes, tail);
  return 0;
}

/* Applies one submission inside txn, which the caller commits or aborts.
 * Returns 0 (also for a duplicate: res says so), TALLY_EIDREUSE,
 * TALLY_ELOCKED, TALLY_ECONFLICT, TALLY_ERULES, -EINVAL or a store
 * error. */
static int apply_submission(MDB_txn *txn, tally_store *s,
                            const tally_store_submission *sub,
                            tally_store_result *res) {
  uint8_t report_key[KEY_MAX];
  size_t report_len = make_key(report_key, sub->period_key, sub->unit, NULL);
  struct changes ch = {TALLY__CHANGE_SET__INIT, TALLY_ARENA_INIT, 0, 0};
  Tally__ChangeSet *cs = &ch.cs;
  MDB_val k, v;
  uint64_t revision = 0;
  int rc, has_id = sub->id && *sub->id;

  memset(res, 0, sizeof *res);
  if (report_len == 0 || (has_id && strlen(sub->id) > TALLY_STORE_MAX_ID))
    return -EINVAL;

  if (has_id &&
      (rc = seen_id(txn, s, report_key, report_len, sub->id, sub->digest,
                    res)) != 0)
    return rc == 1 ? 0 : rc; /* 1: a duplicate, answered from the record */
  /* After the id: a submission stored before the lock still gets its
   * answer when it is sent again. */
  if ((rc = tally__store_audit_locked(txn, s, sub->period_key)) != 0)
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
  tally_store_txn t = {.s = s, .txn = txn};
  if (s->keeper && (rc = s->keeper->before(s->keeper->arg, &t, sub)) != 0)
    return rc;

  int fresh;
  if ((rc = put_values(txn, s, sub, &ch, res, &fresh)) != 0)
    goto out;
  if (sub->replace &&
      (rc = remove_others(txn, s, sub, report_key, report_len, &ch,
                          res)) != 0)
    goto out;
  if (fresh && sub->order && res->removed == 0)
    t.fresh = sub; /* t is this function's: the shortcut ends with it */
  if (sub->check &&
      (rc = sub->check(sub->check_arg, &t, &cs->explanations,
                       &cs->n_explanations)) != 0)
    goto out;

  /* A submission that changed something moves the report on. */
  size_t changed = cs->n_changes + ch.n_first;
  if (changed > 0 && s->keeper &&
      (rc = s->keeper->after(s->keeper->arg, &t)) != 0)
    goto out;
  /* A new explanation of the same figures moves it on too: its history
   * entry and audit entry say who explained them, and how. */
  if (changed > 0 || cs->n_explanations > 0) {
    uint8_t rev[8];
    cs->revision = ++revision;
    put_u64(rev, revision);
    k.mv_size = report_len;
    k.mv_data = report_key;
    v.mv_size = 8;
    v.mv_data = rev;
    if ((rc = store_err(mdb_put(txn, s->revisions, &k, &v, 0))) != 0 ||
        (rc = record_changes(txn, s, sub, report_key, report_len, &ch)) != 0)
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
  tally_arena_free(&ch.arena);
  return rc;
}

int tally_store_txn_submit(tally_store_txn *t, const tally_store_submission *sub,
                           tally_store_result *res) {
  int rc = apply_submission(t->txn, t->s, sub, res);
  if (rc != 0 && rc != TALLY_ECONFLICT)
    memset(res, 0, sizeof *res); /* only a conflict says more */
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
    codes[i] = so && ops ? ops[i].code : rc;
    if (codes[i] != 0 && codes[i] != TALLY_ECONFLICT)
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
    char ucode[STORE_CODE_MAX + 1], ecode[STORE_CODE_MAX + 1];
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
  int rc = tally__store_read_begin(s, &txn);
  if (rc != 0)
    return store_err(rc);
  rc = scan_txn(s, txn, period_key, unit, fn, arg);
  tally__store_read_end(s, txn);
  return rc;
}

int tally_store_txn_revision(tally_store_txn *t, uint32_t period_key,
                             const char *unit, uint64_t *revision) {
  uint8_t key[KEY_MAX];
  MDB_val k = {make_key(key, period_key, unit, NULL), key}, v;

  *revision = 0;
  if (k.mv_size == 0)
    return 0;
  int rc = mdb_get(t->txn, t->s->revisions, &k, &v);
  if (rc == 0 && v.mv_size == 8)
    *revision = get_u64(v.mv_data);
  return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

struct history_page {
  tally_store_page_fn fn;
  void *arg;
};

static int visit_page(void *arg, const MDB_val *k, const MDB_val *v) {
  struct history_page *hp = arg;
  if (k->mv_size < 8)
    return 0; /* not an entry of ours */
  uint64_t revision = get_u64((const uint8_t *)k->mv_data + k->mv_size - 8);
  return hp->fn(hp->arg, revision, v->mv_data, v->mv_size);
}

int tally_store_history_page(tally_store *s, uint32_t period_key,
                             const char *unit, uint64_t after,
                             tally_store_page_fn fn, void *arg) {
  uint8_t start[KEY_MAX + 8];
  size_t plen = make_key(start, period_key, unit, NULL);
  struct history_page hp = {fn, arg};
  MDB_txn *txn;
  if (plen == 0)
    return 0;
  put_u64(start + plen, after);
  int rc = tally__store_read_begin(s, &txn);
  if (rc != 0)
    return store_err(rc);
  rc = tally__store_visit_after(txn, s->changes, start, plen, start, plen + 8,
                                visit_page, &hp);
  tally__store_read_end(s, txn);
  return rc;
}

int tally_store_txn_scan(tally_store_txn *t, uint32_t period_key,
                         const char *unit, tally_store_visit_fn fn, void *arg) {
  const tally_store_submission *f = t->fresh;
  if (f == NULL || unit == NULL || period_key != f->period_key ||
      strcmp(unit, f->unit) != 0)
    return scan_txn(t->s, t->txn, period_key, unit, fn, arg);
  for (size_t i = 0; i < f->n; i++) { /* what put_values wrote, in order */
    const tally_store_item *it = &f->items[f->order[i]];
    int stop = fn(arg, f->unit, it->element, it->value, f->now);
    if (stop != 0)
      return stop;
  }
  return 0;
}

/* The revision-th history entry of a report, in txn, to fn. */
static int changeset_in(MDB_txn *txn, tally_store *s, uint32_t period_key,
                        const char *unit, uint64_t revision,
                        tally_store_history_fn fn, void *arg) {
  uint8_t key[KEY_MAX];
  size_t len = make_key(key, period_key, unit, NULL);
  MDB_val k, v;
  if (len == 0)
    return TALLY_ENOTFOUND;
  put_u64(key + len, revision);
  k.mv_size = len + 8;
  k.mv_data = key;
  int rc = mdb_get(txn, s->changes, &k, &v);
  if (rc == 0)
    return fn(arg, v.mv_data, v.mv_size);
  return rc == MDB_NOTFOUND ? TALLY_ENOTFOUND : store_err(rc);
}

int tally_store_changeset(tally_store *s, uint32_t period_key, const char *unit,
                          uint64_t revision, tally_store_history_fn fn,
                          void *arg) {
  MDB_txn *txn;
  int rc;
  if ((rc = tally__store_read_begin(s, &txn)) != 0)
    return store_err(rc);
  rc = changeset_in(txn, s, period_key, unit, revision, fn, arg);
  tally__store_read_end(s, txn);
  return rc;
}

/* Store visitor: the time of a history entry. */
static int take_time(void *arg, const void *packed, size_t len) {
  Tally__ChangeSet *cs = tally__change_set__unpack(NULL, len, packed);
  if (cs) {
    *(int64_t *)arg = cs->time_unix;
    tally__change_set__free_unpacked(cs, NULL);
  }
  return 0;
}

int tally_store_txn_change_time(tally_store_txn *t, uint32_t period_key,
                                const char *unit, uint64_t revision,
                                int64_t *when) {
  *when = 0;
  int rc = changeset_in(t->txn, t->s, period_key, unit, revision, take_time,
                        when);
  return rc == TALLY_ENOTFOUND ? 0 : rc;
}

/* ---- explanations ---- */

int tally_store_txn_explanations(tally_store_txn *t, uint32_t period_key,
                                 const char *unit, tally_store_history_fn fn,
                                 void *arg) {
  uint8_t key[KEY_MAX];
  size_t len = make_key(key, period_key, unit, "");
  if (len == 0)
    return 0;
  return tally__store_visit_range_in(t->txn, t->s->explanations, key, len,
                                     fn, arg);
}

int tally_store_txn_explanation_get(tally_store_txn *t, uint32_t period_key,
                                    const char *unit, const char *rule,
                                    tally_store_history_fn fn, void *arg) {
  uint8_t key[KEY_MAX];
  MDB_val k = {make_key(key, period_key, unit, rule), key}, v;
  if (k.mv_size == 0)
    return TALLY_ENOTFOUND;
  int rc = mdb_get(t->txn, t->s->explanations, &k, &v);
  if (rc == MDB_NOTFOUND)
    return TALLY_ENOTFOUND;
  return rc ? store_err(rc) : fn(arg, v.mv_data, v.mv_size);
}

int tally_store_txn_explanation_put(tally_store_txn *t, uint32_t period_key,
                                    const char *unit,
                                    const Tally__Explanation *e) {
  uint8_t key[KEY_MAX];
  MDB_val k = {make_key(key, period_key, unit, e->rule), key}, v;
  int rc;
  if (k.mv_size == 0)
    return -EINVAL;
  v.mv_size = tally__explanation__get_packed_size(e);
  if ((rc = mdb_put(t->txn, t->s->explanations, &k, &v, MDB_RESERVE)) != 0)
    return store_err(rc);
  tally__explanation__pack(e, v.mv_data);
  return 0;
}

int tally_store_txn_explanation_del(tally_store_txn *t, uint32_t period_key,
                                    const char *unit, const char *rule) {
  uint8_t key[KEY_MAX];
  MDB_val k = {make_key(key, period_key, unit, rule), key};
  if (k.mv_size == 0)
    return -EINVAL;
  int rc = mdb_del(t->txn, t->s->explanations, &k, NULL);
  return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

/* ---- the periods a unit has reported ---- */

struct unit_periods {
  const char *unit;
  int (*fn)(void *arg, uint32_t period_key, uint64_t revision);
  void *arg;
};

static int visit_revision(void *arg, const MDB_val *k, const MDB_val *v) {
  struct unit_periods *up = arg;
  char unit[STORE_CODE_MAX + 1], rest[STORE_CODE_MAX + 1];
  if (split_key(k, unit, rest) != 0 || rest[0] != 0 ||
      strcmp(unit, up->unit) != 0 || v->mv_size != 8)
    return 0;
  return up->fn(up->arg, get_u32(k->mv_data), get_u64(v->mv_data));
}

int tally_store_txn_unit_periods(tally_store_txn *t, const char *unit,
                                 int (*fn)(void *arg, uint32_t period_key,
                                           uint64_t revision),
                                 void *arg) {
  struct unit_periods up = {unit, fn, arg};
  return tally__store_visit_in(t->txn, t->s->revisions, NULL, 0,
                               visit_revision, &up);
}

int tally_store_newest_figure(tally_store *s, int64_t *unix_s) {
  MDB_txn *txn;
  MDB_cursor *cur;
  MDB_val k, v;
  int rc;
  *unix_s = 0;
  if ((rc = tally__store_read_begin(s, &txn)) != 0)
    return rc;
  if ((rc = mdb_cursor_open(txn, s->values, &cur)) != 0) {
    tally__store_read_end(s, txn);
    return store_err(rc);
  }
  while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
    int64_t t = v.mv_size == VALUE_SIZE
                    ? (int64_t)get_u64((const uint8_t *)v.mv_data + 8)
                    : 0;
    if (t > *unix_s)
      *unix_s = t;
  }
  mdb_cursor_close(cur);
  tally__store_read_end(s, txn);
  return rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

/* ---- the periods reported ---- */

int tally_store_txn_period_span(tally_store_txn *t, uint32_t *first,
                                uint32_t *last) {
  MDB_cursor *cur;
  MDB_val k, v;
  int rc;

  *first = *last = 0;
  if ((rc = mdb_cursor_open(t->txn, t->s->revisions, &cur)) != 0)
    return store_err(rc);
  rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
  if (rc == 0 && k.mv_size >= 4)
    *first = get_u32(k.mv_data);
  if (rc == 0 && (rc = mdb_cursor_get(cur, &k, &v, MDB_LAST)) == 0 &&
      k.mv_size >= 4)
    *last = get_u32(k.mv_data);
  mdb_cursor_close(cur);
  return rc == 0 || rc == MDB_NOTFOUND ? 0 : store_err(rc);
}
