/* store_audit.c: the audit trail, and the targets and period locks
 * changed with an entry in it.
 *
 * The happy path: a change of a target or a lock puts (or deletes) its
 * record and appends an entry, before and after in the words the caller
 * gives, under the account that made it, in the caller's transaction.
 * The figures and the accounts append their entries here too.
 * The failure modes: a code too long for a key is refused (-EINVAL); an
 * unlock of a period not locked is TALLY_ENOTFOUND; any LMDB failure
 * fails the change and its entry together.
 */
#include "store_audit.h"
#include "store_impl.h"

#include "error.h"
#include "period.h"
#include "store_figures.h"
#include "tally.pb-c.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tally__store_audit_append(MDB_txn *txn, tally_store *s,
                              Tally__AuditEntry *e) {
  uint8_t key[16];
  MDB_val k = {sizeof key, key}, v;
  int rc = tally__store_next_counter(txn, s, "audit_seq", &e->seq);
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

void tally__store_audit_init(Tally__AuditEntry *e,
                             const tally_store_actor *who,
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
    rc = tally__store_audit_append(t->txn, t->s, &a->entry);
  return rc == MDB_NOTFOUND ? TALLY_ENOTFOUND : store_err(rc);
}

int tally_store_txn_target_put(tally_store_txn *t, const char *indicator,
                               int year, const void *packed, size_t len,
                               int *replaced, const char *before,
                               const char *after, const tally_store_actor *who) {
  uint8_t key[STORE_CODE_MAX + 1 + 4];
  size_t il = strlen(indicator);
  char subject[STORE_CODE_MAX + 16];
  if (il > STORE_CODE_MAX)
    return -EINVAL;
  memcpy(key, indicator, il);
  key[il] = 0;
  put_u32(key + il + 1, (uint32_t)year);
  snprintf(subject, sizeof subject, "%s %d", indicator, year);
  struct audited a = {.db = t->s->targets, .k = {il + 1 + 4, key},
                      .value = packed, .len = len, .replaced = replaced};
  tally__store_audit_init(&a.entry, who, "target", subject);
  a.entry.before = (char *)before;
  a.entry.after = (char *)after;
  return audited_change(t, &a);
}

int tally_store_targets(tally_store *s, tally_store_history_fn fn, void *arg) {
  return tally__store_visit_range(s, s->targets, NULL, 0, fn, arg);
}

int tally_store_txn_targets(tally_store_txn *t, tally_store_history_fn fn,
                            void *arg) {
  return tally__store_visit_range_in(t->txn, t->s->targets, NULL, 0, fn,
                                     arg);
}

int tally_store_txn_lock_put(tally_store_txn *t, uint32_t period_key,
                             const void *packed, size_t len,
                             const char *subject, const char *before,
                             const char *after, const tally_store_actor *who) {
  uint8_t key[4];
  put_u32(key, period_key);
  struct audited a = {.db = t->s->locks, .k = {sizeof key, key},
                      .value = packed, .len = len};
  tally__store_audit_init(&a.entry, who, "period", subject);
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
    return tally__store_visit_keyed(s, s->locks, NULL, 0, visit_lock, &vl);
  put_u32(key, *period_key);
  return tally__store_visit_keyed(s, s->locks, key, sizeof key, visit_lock,
                                  &vl);
}

int tally_store_txn_locks(tally_store_txn *t, const uint32_t *period_key,
                          tally_store_lock_fn fn, void *arg) {
  uint8_t key[4];
  struct visit_locks vl = {fn, arg};
  if (period_key)
    put_u32(key, *period_key);
  return tally__store_visit_in(t->txn, t->s->locks, key,
                               period_key ? sizeof key : 0, visit_lock, &vl);
}

int tally_store_txn_review_put(tally_store_txn *t, uint32_t period_key,
                               const char *unit, const void *packed,
                               size_t len, const char *before,
                               const char *after, const tally_store_actor *who) {
  uint8_t key[KEY_MAX];
  size_t kl = make_key(key, period_key, unit, NULL);
  tally_period p;
  char period[16] = "", subject[STORE_CODE_MAX + 20];
  if (kl == 0)
    return -EINVAL;
  if (tally_period_from_key(period_key, &p) == 0)
    tally_period_format(&p, period);
  snprintf(subject, sizeof subject, "%s %s", unit, period);
  struct audited a = {.db = t->s->reviews, .k = {kl, key}, .value = packed,
                      .len = len};
  tally__store_audit_init(&a.entry, who, "review", subject);
  a.entry.unit = (char *)unit;
  a.entry.period = period;
  a.entry.before = (char *)before;
  a.entry.after = (char *)after;
  return audited_change(t, &a);
}

struct visit_reviews {
  tally_store_review_fn fn;
  void *arg;
};

static int visit_review(void *arg, const MDB_val *k, const MDB_val *v) {
  struct visit_reviews *vr = arg;
  char unit[STORE_CODE_MAX + 1], rest[STORE_CODE_MAX + 1];
  if (split_key(k, unit, rest) != 0 || rest[0] != 0)
    return 0; /* not a report's */
  return vr->fn(vr->arg, unit, v->mv_data, v->mv_size);
}

int tally_store_txn_reviews(tally_store_txn *t, uint32_t period_key,
                            const char *unit, tally_store_review_fn fn,
                            void *arg) {
  uint8_t key[KEY_MAX];
  struct visit_reviews vr = {fn, arg};
  size_t kl;
  if (unit) {
    MDB_val k = {make_key(key, period_key, unit, NULL), key}, v;
    if (k.mv_size == 0)
      return 0;
    int rc = mdb_get(t->txn, t->s->reviews, &k, &v);
    if (rc == MDB_NOTFOUND)
      return 0;
    return rc ? store_err(rc) : fn(arg, unit, v.mv_data, v.mv_size);
  }
  put_u32(key, period_key);
  kl = 4;
  return tally__store_visit_in(t->txn, t->s->reviews, key, kl, visit_review,
                               &vr);
}

/* ---- figures as approved: period | unit | 0 | time, revision ---- */

#define APPROVAL_REST 32 /* two 16-digit hex numbers: they sort in order */

static size_t approval_key(uint8_t *key, uint32_t period_key, const char *unit,
                           int64_t time, uint64_t revision) {
  char rest[APPROVAL_REST + 1];
  snprintf(rest, sizeof rest, "%016llx%016llx", (unsigned long long)time,
           (unsigned long long)revision);
  return make_key(key, period_key, unit, rest);
}

int tally_store_txn_approval_put(tally_store_txn *t, uint32_t period_key,
                                 const char *unit, int64_t time,
                                 uint64_t revision, const void *packed,
                                 size_t len) {
  uint8_t key[KEY_MAX];
  MDB_val k = {approval_key(key, period_key, unit, time, revision), key};
  MDB_val v = {len, (void *)packed};
  if (k.mv_size == 0 || time < 0)
    return -EINVAL;
  return store_err(mdb_put(t->txn, t->s->approvals, &k, &v, 0));
}

struct last_approval {
  int64_t at;
  MDB_val found; /* borrowed from the transaction */
};

static int visit_approval(void *arg, const MDB_val *k, const MDB_val *v) {
  struct last_approval *la = arg;
  char unit[STORE_CODE_MAX + 1], rest[STORE_CODE_MAX + 1];
  unsigned long long time;
  if (split_key(k, unit, rest) != 0 || strlen(rest) != APPROVAL_REST ||
      sscanf(rest, "%16llx", &time) != 1)
    return 0; /* not an approval's */
  if (la->at > 0 && time > (unsigned long long)la->at)
    return 1; /* later ones follow in key order */
  la->found = *v;
  return 0;
}

int tally_store_txn_approval(tally_store_txn *t, uint32_t period_key,
                             const char *unit, int64_t at,
                             tally_store_review_fn fn, void *arg) {
  uint8_t key[KEY_MAX];
  size_t kl = make_key(key, period_key, unit, "");
  struct last_approval la = {at, {0, NULL}};
  if (kl == 0)
    return 0;
  int rc = tally__store_visit_in(t->txn, t->s->approvals, key, kl,
                                 visit_approval, &la);
  if (rc < 0)
    return rc;
  return la.found.mv_data ? fn(arg, unit, la.found.mv_data, la.found.mv_size)
                          : 0;
}

/* The figures of one report, as an Approval's values. */
struct taken {
  Tally__Value *v;
  Tally__Value **list;
  size_t n, cap;
};

static int take_value(void *arg, const char *unit, const char *element,
                      double value, int64_t updated) {
  struct taken *tk = arg;
  (void)unit;
  (void)updated;
  if (tk->n == tk->cap) {
    size_t cap = tk->cap ? 2 * tk->cap : 64;
    Tally__Value *v = realloc(tk->v, cap * sizeof *v);
    if (v == NULL)
      return -ENOMEM;
    tk->v = v;
    tk->cap = cap;
  }
  tally__value__init(&tk->v[tk->n]);
  if ((tk->v[tk->n].element = strdup(element)) == NULL)
    return -ENOMEM;
  tk->v[tk->n++].value = value;
  return 0;
}

/* The explanations kept with one report, unpacked. */
struct explained {
  Tally__Explanation **list;
  size_t n, cap;
};

static int take_explanation(void *arg, const void *packed, size_t len) {
  struct explained *ex = arg;
  if (ex->n == ex->cap) {
    size_t cap = ex->cap ? 2 * ex->cap : 16;
    Tally__Explanation **list = realloc(ex->list, cap * sizeof *list);
    if (list == NULL)
      return -ENOMEM;
    ex->list = list;
    ex->cap = cap;
  }
  Tally__Explanation *e = tally__explanation__unpack(NULL, len, packed);
  if (e != NULL) /* unreadable: left out, as the reads leave it */
    ex->list[ex->n++] = e;
  return 0;
}

static void explained_free(struct explained *ex) {
  for (size_t i = 0; i < ex->n; i++)
    tally__explanation__free_unpacked(ex->list[i], NULL);
  free(ex->list);
}

/* Puts ap, as unit's approval of period, at its time and revision. */
static int approval_pack_put(tally_store_txn *t, uint32_t period_key,
                             const char *unit, const Tally__Approval *ap) {
  size_t len = tally__approval__get_packed_size(ap);
  uint8_t *packed = malloc(len + 1);
  if (packed == NULL)
    return -ENOMEM;
  tally__approval__pack(ap, packed);
  int rc = tally_store_txn_approval_put(t, period_key, unit, ap->time_unix,
                                        ap->revision, packed, len);
  free(packed);
  return rc;
}

int tally_store_txn_approval_keep(tally_store_txn *t, uint32_t period_key,
                                  const char *unit, int64_t time,
                                  uint64_t account_id,
                                  const char *account_name,
                                  uint64_t revision) {
  struct taken tk = {0};
  struct explained ex = {0};
  Tally__Value **list = NULL;
  int rc = tally_store_txn_scan(t, period_key, unit, take_value, &tk);
  if (rc == 0)
    rc = tally_store_txn_explanations(t, period_key, unit, take_explanation,
                                      &ex);
  if (rc == 0 && (list = calloc(tk.n + 1, sizeof *list)) == NULL)
    rc = -ENOMEM;
  if (rc == 0) {
    for (size_t i = 0; i < tk.n; i++)
      list[i] = &tk.v[i];
    Tally__Approval ap = TALLY__APPROVAL__INIT;
    ap.time_unix = time;
    ap.account_id = account_id;
    ap.account_name = (char *)(account_name ? account_name : "");
    ap.revision = revision;
    ap.values = list;
    ap.n_values = tk.n;
    ap.explanations = ex.list;
    ap.n_explanations = ex.n;
    ap.explanations_kept = 1;
    rc = approval_pack_put(t, period_key, unit, &ap);
  }
  for (size_t i = 0; i < tk.n; i++)
    free(tk.v[i].element);
  free(tk.v);
  free(list);
  explained_free(&ex);
  return rc;
}

/* The review of a report (reviews' key k, value v) if it is approved;
 * else NULL (the caller frees it), its period and unit into *period and
 * unit. */
static Tally__Review *approved_review(const MDB_val *k, const MDB_val *v,
                                      uint32_t *period, char *unit) {
  char rest[STORE_CODE_MAX + 1];
  if (split_key(k, unit, rest) != 0 || rest[0] != 0)
    return NULL;
  *period = get_u32(k->mv_data);
  Tally__Review *rv = tally__review__unpack(NULL, v->mv_size, v->mv_data);
  if (rv && rv->state != TALLY__REVIEW_STATE__REVIEW_APPROVED) {
    tally__review__free_unpacked(rv, NULL);
    rv = NULL;
  }
  return rv;
}

/* Format 4: each report approved then is kept as approved as it stands
 * (an approved report took no change). */
static int take_up_one(void *arg, const MDB_val *k, const MDB_val *v) {
  tally_store_txn *t = arg;
  char unit[STORE_CODE_MAX + 1];
  uint32_t period;
  Tally__Review *rv = approved_review(k, v, &period, unit);
  if (rv == NULL)
    return 0;
  int rc = tally_store_txn_approval_keep(t, period, unit, rv->time_unix,
                                         rv->account_id, rv->account_name,
                                         rv->revision);
  tally__review__free_unpacked(rv, NULL);
  return rc;
}

int tally__store_take_up_approvals(MDB_txn *txn, tally_store *s) {
  tally_store_txn t = {.s = s, .txn = txn};
  int rc = tally__store_visit_in(txn, s->reviews, NULL, 0, take_up_one, &t);
  return rc > 0 ? 0 : rc;
}

static int take_last_approval(void *arg, const char *unit, const void *packed,
                              size_t len) {
  (void)unit;
  *(Tally__Approval **)arg = tally__approval__unpack(NULL, len, packed);
  return 0;
}

/* Format 5: a report still approved at the revision of its last approval
 * has the explanations of then (an approved report took no change): they
 * join that approval. The others' approvals keep none. */
static int explain_one(void *arg, const MDB_val *k, const MDB_val *v) {
  tally_store_txn *t = arg;
  char unit[STORE_CODE_MAX + 1];
  uint32_t period;
  Tally__Approval *ap = NULL;
  Tally__Review *rv = approved_review(k, v, &period, unit);
  if (rv == NULL)
    return 0;
  int rc = tally_store_txn_approval(t, period, unit, 0,
                                    take_last_approval, &ap);
  struct explained ex = {0};
  if (rc == 0 && ap && !ap->explanations_kept && ap->revision == rv->revision &&
      (rc = tally_store_txn_explanations(t, period, unit,
                                         take_explanation, &ex)) == 0) {
    Tally__Approval with = *ap;
    with.explanations = ex.list;
    with.n_explanations = ex.n;
    with.explanations_kept = 1;
    rc = approval_pack_put(t, period, unit, &with);
  }
  explained_free(&ex);
  if (ap)
    tally__approval__free_unpacked(ap, NULL);
  tally__review__free_unpacked(rv, NULL);
  return rc;
}

int tally__store_take_up_explanations(MDB_txn *txn, tally_store *s) {
  tally_store_txn t = {.s = s, .txn = txn};
  int rc = tally__store_visit_in(txn, s->reviews, NULL, 0, explain_one, &t);
  return rc > 0 ? 0 : rc;
}

int tally__store_audit_locked(MDB_txn *txn, tally_store *s,
                              uint32_t period_key) {
  uint8_t key[4];
  MDB_val k = {sizeof key, key}, v;
  put_u32(key, period_key);
  int rc = mdb_get(txn, s->locks, &k, &v);
  return rc == 0 ? 1 : rc == MDB_NOTFOUND ? 0 : store_err(rc);
}

/* ---- the same changes, each in a transaction of its own ---- */

struct lock_change {
  uint32_t period_key;
  const void *packed;
  size_t len;
  const char *subject, *before, *after;
  const tally_store_actor *who;
};

static int lock_apply(void *arg, tally_store_txn *t) {
  struct lock_change *c = arg;
  return tally_store_txn_lock_put(t, c->period_key, c->packed, c->len,
                                  c->subject, c->before, c->after, c->who);
}

int tally_store_lock_put(tally_store *s, uint32_t period_key,
                         const void *packed, size_t len, const char *subject,
                         const char *before, const char *after,
                         const tally_store_actor *who) {
  struct lock_change c = {period_key, packed, len, subject,
                          before,     after,  who};
  return tally__store_alone(s, lock_apply, &c);
}

struct audit_page {
  tally_store_audit_fn fn;
  void *arg;
};

static int visit_audit(void *arg, const MDB_val *k, const MDB_val *v) {
  struct audit_page *ap = arg;
  if (k->mv_size != 16)
    return 0; /* not an entry of ours */
  return ap->fn(ap->arg, get_u64(k->mv_data),
                get_u64((const uint8_t *)k->mv_data + 8), v->mv_data,
                v->mv_size);
}

int tally_store_audit_page(tally_store *s, int all, uint64_t account,
                           uint64_t after, tally_store_audit_fn fn,
                           void *arg) {
  uint8_t start[16];
  struct audit_page ap = {fn, arg};
  MDB_txn *txn;
  put_u64(start, account);
  put_u64(start + 8, after);
  int rc = tally__store_read_begin(s, &txn);
  if (rc != 0)
    return store_err(rc);
  rc = tally__store_visit_after(txn, s->audit, start, all ? 0 : 8, start,
                                sizeof start, visit_audit, &ap);
  tally__store_read_end(s, txn);
  return rc;
}
