/* sessions.c: the web sessions, a small table in memory. */
#include "sessions.h"

#include "error.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct session {
  uint8_t sha256[32];
  uint64_t account;
  int64_t opened, expires;
};

struct tally_sessions {
  struct session *v;   /* in no order; few and short-lived */
  size_t n, cap;
  int64_t ttl;
  void (*on_end)(void *arg, const uint8_t sha256[32]);
  void *arg;
};

tally_sessions *tally_sessions_new(int64_t ttl_s) {
  tally_sessions *s = calloc(1, sizeof *s);
  if (s)
    s->ttl = ttl_s > 0 ? ttl_s : TALLY_SESSION_TTL_S;
  return s;
}

void tally_sessions_free(tally_sessions *s) {
  if (s == NULL)
    return;
  OPENSSL_cleanse(s->v, s->cap * sizeof *s->v);
  free(s->v);
  free(s);
}

static int sha256(const uint8_t *data, size_t len, uint8_t out[32]) {
  unsigned int n = 32;
  return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

/* Removes entry i, telling the transport when told is set. */
static void drop(tally_sessions *s, size_t i, int tell) {
  uint8_t gone[32];
  memcpy(gone, s->v[i].sha256, 32);
  s->v[i] = s->v[--s->n];
  OPENSSL_cleanse(&s->v[s->n], sizeof s->v[s->n]);
  if (tell && s->on_end)
    s->on_end(s->arg, gone);
  OPENSSL_cleanse(gone, sizeof gone);
}

/* Forgets the sessions that have expired (their connections find out
 * at their next request). */
static void sweep(tally_sessions *s, int64_t now) {
  for (size_t i = 0; i < s->n;)
    if (s->v[i].expires <= now)
      drop(s, i, 0);
    else
      i++;
}

int tally_sessions_open(tally_sessions *s, uint64_t account, int64_t now,
                        char cookie[TALLY_SESSION_COOKIE],
                        uint8_t out[32], int64_t *expires) {
  uint8_t secret[32];
  sweep(s, now);
  if (s->n == TALLY_SESSIONS_MAX) {
    size_t oldest = 0;
    for (size_t i = 1; i < s->n; i++)
      if (s->v[i].opened < s->v[oldest].opened)
        oldest = i;
    drop(s, oldest, 1);
  }
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    struct session *grown = calloc(cap, sizeof *grown);
    if (grown == NULL)
      return -ENOMEM;
    if (s->n)
      memcpy(grown, s->v, s->n * sizeof *grown);
    OPENSSL_cleanse(s->v, s->cap * sizeof *s->v);
    free(s->v);
    s->v = grown;
    s->cap = cap;
  }
  if (RAND_bytes(secret, sizeof secret) != 1)
    return TALLY_ESTORE;
  struct session *e = &s->v[s->n];
  if (sha256(secret, sizeof secret, e->sha256) != 0) {
    OPENSSL_cleanse(secret, sizeof secret);
    return TALLY_ESTORE;
  }
  for (size_t i = 0; i < sizeof secret; i++)
    snprintf(cookie + 2 * i, 3, "%02x", secret[i]);
  OPENSSL_cleanse(secret, sizeof secret);
  e->account = account;
  e->opened = now;
  e->expires = now + s->ttl;
  memcpy(out, e->sha256, 32);
  *expires = e->expires;
  s->n++;
  return 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* The entry with this hash, live at now, or NULL. */
static struct session *find(tally_sessions *s, const uint8_t sha[32],
                            int64_t now) {
  for (size_t i = 0; i < s->n; i++)
    if (CRYPTO_memcmp(s->v[i].sha256, sha, 32) == 0)
      return s->v[i].expires > now ? &s->v[i] : NULL;
  return NULL;
}

uint64_t tally_sessions_check(tally_sessions *s, const char *cookie,
                              int64_t now, uint8_t out[32],
                              int64_t *expires) {
  uint8_t secret[32], sha[32];
  if (strlen(cookie) != 64)
    return 0;
  for (size_t i = 0; i < 32; i++) {
    int hi = hexval(cookie[2 * i]), lo = hexval(cookie[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      OPENSSL_cleanse(secret, sizeof secret);
      return 0;
    }
    secret[i] = (uint8_t)(hi << 4 | lo);
  }
  int rc = sha256(secret, sizeof secret, sha);
  OPENSSL_cleanse(secret, sizeof secret);
  struct session *e = rc == 0 ? find(s, sha, now) : NULL;
  if (e == NULL)
    return 0;
  if (out)
    memcpy(out, sha, 32);
  if (expires)
    *expires = e->expires;
  return e->account;
}

uint64_t tally_sessions_live(tally_sessions *s, const uint8_t sha256[32],
                             int64_t now) {
  struct session *e = find(s, sha256, now);
  return e ? e->account : 0;
}

void tally_sessions_end(tally_sessions *s, const uint8_t sha256[32]) {
  for (size_t i = 0; i < s->n; i++)
    if (CRYPTO_memcmp(s->v[i].sha256, sha256, 32) == 0) {
      drop(s, i, 1);
      return;
    }
}

size_t tally_sessions_end_account(tally_sessions *s, uint64_t account) {
  size_t n = 0;
  for (size_t i = 0; i < s->n;)
    if (s->v[i].account == account) {
      drop(s, i, 1);
      n++;
    } else {
      i++;
    }
  return n;
}

void tally_sessions_on_end(tally_sessions *s,
                           void (*fn)(void *arg, const uint8_t sha256[32]),
                           void *arg) {
  s->on_end = fn;
  s->arg = arg;
}

size_t tally_sessions_count(const tally_sessions *s) { return s->n; }
