/* accounts.c: tokens, their hashes, and the in-memory registry. */
#include "accounts.h"

#include "error.h"
#include "log.h"
#include "store_accounts.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_PREFIX "tally_"

struct tally_accounts {
  tally_account *v;    /* sorted by id */
  size_t n, cap;
  const tally_catalog *cat;
};

static int sha256(const uint8_t *data, size_t len, uint8_t out[32]) {
  unsigned int n = 32;
  return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

int tally_token_new(tally_token_secret *t) {
  if (RAND_bytes(t->secret, sizeof t->secret) != 1 ||
      sha256(t->secret, sizeof t->secret, t->sha256) != 0)
    return TALLY_ESTORE;
  return 0;
}

void tally_token_text(uint64_t id, const tally_token_secret *t,
                      char out[TALLY_TOKEN_MAX]) {
  int len = snprintf(out, TALLY_TOKEN_MAX, TOKEN_PREFIX "%" PRIu64 "_", id);
  for (size_t i = 0; i < sizeof t->secret; i++)
    len += snprintf(out + len, TALLY_TOKEN_MAX - (size_t)len, "%02x",
                    t->secret[i]);
}

void tally_token_wipe(void *p, size_t n) { OPENSSL_cleanse(p, n); }

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* Splits a token into its id and the hash of its secret. Returns 0 or
 * -1 when it is not a token. */
static int token_parse(const char *token, uint64_t *id, uint8_t sha[32]) {
  uint8_t secret[TALLY_TOKEN_SECRET];
  const char *p = token;
  uint64_t v = 0;
  int digits = 0, rc = -1;

  if (strncmp(p, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)
    return -1;
  for (p += strlen(TOKEN_PREFIX); *p >= '0' && *p <= '9'; p++, digits++) {
    if (v > (UINT64_MAX - 9) / 10)
      return -1;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  if (digits == 0 || *p++ != '_' || strlen(p) != 2 * sizeof secret)
    return -1;
  for (size_t i = 0; i < sizeof secret; i++) {
    int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);
    if (hi < 0 || lo < 0)
      goto out;
    secret[i] = (uint8_t)(hi << 4 | lo);
  }
  *id = v;
  rc = sha256(secret, sizeof secret, sha);
out:
  OPENSSL_cleanse(secret, sizeof secret);
  return rc;
}

/* Index of the first account with id >= id. */
static size_t lower_bound(const tally_accounts *a, uint64_t id) {
  size_t lo = 0, hi = a->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (a->v[mid].id < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

tally_account *tally_accounts_find(tally_accounts *a, uint64_t id) {
  size_t i = lower_bound(a, id);
  return i < a->n && a->v[i].id == id ? &a->v[i] : NULL;
}

int tally_accounts_reserve(tally_accounts *a, size_t more) {
  if (a->n + more <= a->cap)
    return 0;
  size_t cap = a->cap ? a->cap : 16;
  while (cap < a->n + more)
    cap *= 2;
  tally_account *grown = realloc(a->v, cap * sizeof *grown);
  if (grown == NULL)
    return -ENOMEM;
  a->v = grown;
  a->cap = cap;
  return 0;
}

int tally_accounts_put(tally_accounts *a, const Tally__StoredAccount *stored) {
  const Tally__Account *s = stored->account;
  tally_account acc = {0};

  if (s == NULL || s->id == 0)
    return 0; /* not a record: nothing can sign in with it */
  acc.id = s->id;
  snprintf(acc.name, sizeof acc.name, "%s", s->name);
  acc.role = s->role;
  snprintf(acc.unit_code, sizeof acc.unit_code, "%s", s->unit);
  acc.unit = *s->unit && a->cat ? tally_catalog_unit(a->cat, s->unit) : -1;
  if (stored->secret_sha256.len == 32)
    memcpy(acc.secret_sha256, stored->secret_sha256.data, 32);
  else
    acc.revoked = 1; /* no hash: no token can match */
  acc.created = s->created_unix;
  acc.last_used = s->last_used_unix;
  acc.revoked = acc.revoked ? acc.revoked : s->revoked_unix;
  acc.rotated = s->rotated_unix;
  acc.created_by = s->created_by;
  if (stored->password_hash && *stored->password_hash)
    snprintf(acc.password_hash, sizeof acc.password_hash, "%s",
             stored->password_hash);
  acc.password_set = s->password_set_unix;
  acc.must_change = s->password_must_change;

  size_t i = lower_bound(a, acc.id);
  if (i < a->n && a->v[i].id == acc.id) {
    acc.touched = a->v[i].touched;
    if (a->v[i].last_used > acc.last_used)
      acc.last_used = a->v[i].last_used;
    OPENSSL_cleanse(&a->v[i], sizeof a->v[i]);
    a->v[i] = acc;
    OPENSSL_cleanse(&acc, sizeof acc);
    return 0;
  }
  if (tally_accounts_reserve(a, 1) != 0)
    return -ENOMEM;
  memmove(&a->v[i + 1], &a->v[i], (a->n - i) * sizeof *a->v);
  a->v[i] = acc;
  a->n++;
  OPENSSL_cleanse(&acc, sizeof acc);
  return 0;
}

void tally_account_to_stored(const tally_account *acc, Tally__Account *a,
                             Tally__StoredAccount *stored) {
  tally__account__init(a);
  tally__stored_account__init(stored);
  a->id = acc->id;
  a->name = (char *)acc->name;
  a->role = acc->role;
  a->unit = (char *)acc->unit_code;
  a->created_unix = acc->created;
  a->last_used_unix = acc->last_used;
  a->revoked_unix = acc->revoked;
  a->rotated_unix = acc->rotated;
  a->created_by = acc->created_by;
  a->password_set_unix = acc->password_set;
  a->password_must_change = acc->must_change;
  stored->account = a;
  stored->password_hash = (char *)acc->password_hash;
  stored->secret_sha256.data = (uint8_t *)acc->secret_sha256;
  stored->secret_sha256.len = 32;
}

struct load_ctx {
  tally_accounts *a;
  int rc;
};

static int load_one(void *arg, const void *packed, size_t len) {
  struct load_ctx *ctx = arg;
  Tally__StoredAccount *s = tally__stored_account__unpack(NULL, len, packed);
  if (s == NULL) {
    tally_log_warn("an account record does not decode; skipped");
    return 0;
  }
  ctx->rc = tally_accounts_put(ctx->a, s);
  tally_account *acc = s->account ? tally_accounts_find(ctx->a, s->account->id)
                                  : NULL;
  if (acc && acc->role == TALLY__ROLE__ROLE_REPORTER && acc->unit < 0)
    tally_log_warn("account %" PRIu64 " reports for unit '%s', which the "
              "catalog does not have; it cannot sign in", acc->id,
              acc->unit_code);
  tally__stored_account__free_unpacked(s, NULL);
  return ctx->rc;
}

int tally_accounts_load(tally_store *store, const tally_catalog *cat,
                        tally_accounts **out, char *err, size_t errlen) {
  tally_accounts *a = calloc(1, sizeof *a);
  if (a == NULL)
    return -ENOMEM;
  a->cat = cat;
  struct load_ctx ctx = {a, 0};
  int rc = tally_store_accounts(store, load_one, &ctx);
  if (rc != 0) {
    snprintf(err, errlen, "cannot read the accounts: %s", tally_strerror(rc));
    tally_accounts_free(a);
    return rc;
  }
  *out = a;
  return 0;
}

void tally_accounts_free(tally_accounts *a) {
  if (a == NULL)
    return;
  OPENSSL_cleanse(a->v, a->n * sizeof *a->v);
  free(a->v);
  free(a);
}

tally_account *tally_accounts_named(tally_accounts *a, const char *name,
                                    int *twice) {
  tally_account *found = NULL;
  *twice = 0;
  for (size_t i = 0; i < a->n; i++)
    if (!a->v[i].revoked && strcmp(a->v[i].name, name) == 0) {
      *twice |= found != NULL;
      found = &a->v[i];
    }
  return found;
}

tally_account *tally_accounts_check(tally_accounts *a, const char *token,
                                    const char **why) {
  uint8_t sha[32];
  uint64_t id;
  if (token_parse(token, &id, sha) != 0) {
    *why = "a malformed token";
    return NULL;
  }
  tally_account *acc = tally_accounts_find(a, id);
  /* Compare with something even when there is no such account, so that
   * the time taken does not tell which ids exist. */
  static const uint8_t none[32];
  int same = CRYPTO_memcmp(sha, acc ? acc->secret_sha256 : none, 32) == 0;
  OPENSSL_cleanse(sha, sizeof sha);
  if (acc == NULL || !same) {
    *why = "an unknown token";
    return NULL;
  }
  if (acc->revoked) {
    *why = "a revoked token";
    return NULL;
  }
  if (acc->role != TALLY__ROLE__ROLE_REPORTER &&
      acc->role != TALLY__ROLE__ROLE_ANALYST &&
      acc->role != TALLY__ROLE__ROLE_ADMIN) {
    *why = "the token of an account with no known role";
    return NULL;
  }
  if (acc->role == TALLY__ROLE__ROLE_REPORTER && acc->unit < 0) {
    *why = "the token of a reporter whose unit the catalog does not have";
    return NULL;
  }
  return acc;
}

int tally_account_is_district(const tally_account *a,
                              const tally_catalog *cat) {
  return a->role == TALLY__ROLE__ROLE_REPORTER && a->unit >= 0 &&
         (size_t)a->unit < cat->n_units && !cat->units[a->unit].is_leaf &&
         a->unit != cat->root;
}

int tally_account_covers(const tally_account *a, const tally_catalog *cat,
                         int unit) {
  if (a->role != TALLY__ROLE__ROLE_REPORTER || a->unit < 0 || unit < 0)
    return 0;
  if (unit == a->unit)
    return 1;
  return tally_account_is_district(a, cat) &&
         tally_catalog_unit_within(cat, unit, a->unit);
}

void tally_account_words(const Tally__Account *a,
                         char buf[TALLY_ACCOUNT_WORDS_MAX]) {
  snprintf(buf, TALLY_ACCOUNT_WORDS_MAX, "%s%s, \"%s\", active",
           a->role == TALLY__ROLE__ROLE_REPORTER ? "reporter for "
           : a->role == TALLY__ROLE__ROLE_ANALYST ? "analyst"
                                                  : "admin",
           a->unit, a->name);
}

size_t tally_accounts_admins(const tally_accounts *a) {
  size_t n = 0;
  for (size_t i = 0; i < a->n; i++)
    n += a->v[i].role == TALLY__ROLE__ROLE_ADMIN && !a->v[i].revoked &&
         a->v[i].change_out != TALLY_ACCOUNT_REVOKING;
  return n;
}

size_t tally_accounts_count(const tally_accounts *a) { return a->n; }

tally_account *tally_accounts_at(tally_accounts *a, size_t i) {
  return &a->v[i];
}

int tally_accounts_touched(tally_accounts *a, uint64_t **ids, int64_t **when,
                           size_t *n) {
  size_t k = 0;
  *ids = NULL;
  *when = NULL;
  *n = 0;
  for (size_t i = 0; i < a->n; i++)
    k += a->v[i].touched;
  if (k == 0)
    return 0;
  *ids = malloc(k * sizeof **ids);
  *when = malloc(k * sizeof **when);
  if (*ids == NULL || *when == NULL) {
    free(*ids);
    free(*when);
    *ids = NULL;
    *when = NULL;
    return -ENOMEM;
  }
  for (size_t i = 0; i < a->n; i++)
    if (a->v[i].touched) {
      (*ids)[*n] = a->v[i].id;
      (*when)[(*n)++] = a->v[i].last_used;
      a->v[i].touched = 0;
    }
  return 0;
}

void tally_accounts_retouch(tally_accounts *a, const uint64_t *ids, size_t n) {
  for (size_t i = 0; i < n; i++) {
    tally_account *acc = tally_accounts_find(a, ids[i]);
    if (acc)
      acc->touched = 1;
  }
}

int tally_accounts_flush(tally_accounts *a, tally_store *store) {
  uint64_t *ids;
  int64_t *when;
  size_t n;
  int rc = tally_accounts_touched(a, &ids, &when, &n);
  if (rc == 0 && n > 0 &&
      (rc = tally_store_account_touch(store, ids, when, n)) != 0)
    tally_accounts_retouch(a, ids, n);
  free(ids);
  free(when);
  return rc;
}
