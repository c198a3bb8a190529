/* password.c: Argon2id through libsodium. */
#include "password.h"

#include "utf8.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

/* libsodium's "interactive" cost: 2 passes over 64 MiB. */
#define OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE

_Static_assert(crypto_pwhash_STRBYTES <= TALLY_PASSWORD_HASH_MAX,
               "a hash fits the account's field");

/* A hash checked against when there is none: made once, in the pool,
 * at the first sign-in that needs it (not at start: it takes 64 MiB). */
static char nothing[crypto_pwhash_STRBYTES];
static pthread_once_t nothing_once = PTHREAD_ONCE_INIT;

static void make_nothing(void) {
  if (crypto_pwhash_str_alg(nothing, "", 0, OPSLIMIT, MEMLIMIT,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    nothing[0] = 0;
}

int tally_password_init(void) { return sodium_init() < 0 ? -1 : 0; }

const char *tally_password_refusal(const char *pw) {
  size_t n = strlen(pw);
  if (n < TALLY_PASSWORD_MIN)
    return "a password needs at least 8 bytes (密码至少8个字符)";
  if (n > TALLY_PASSWORD_MAX)
    return "a password has at most 128 bytes (密码最多128个字节)";
  if (!tally_utf8_is_text(pw, TALLY_PASSWORD_MAX))
    return "a password is UTF-8 text without control characters "
           "(密码不能含控制字符)";
  return NULL;
}

int tally_password_hash(const char *pw, char out[TALLY_PASSWORD_HASH_MAX]) {
  memset(out, 0, TALLY_PASSWORD_HASH_MAX);
  if (crypto_pwhash_str_alg(out, pw, strlen(pw), OPSLIMIT, MEMLIMIT,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    return -ENOMEM;
  return 0;
}

int tally_password_check(const char *hash, const char *pw) {
  if (hash == NULL || *hash == 0) {
    pthread_once(&nothing_once, make_nothing);
    if (*nothing && crypto_pwhash_str_verify(nothing, pw, strlen(pw)) != 0)
      return -1;
    return -1; /* the time of a check, and no account */
  }
  return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0 ? 0 : -1;
}

void tally_password_wipe(void *p, size_t n) { sodium_memzero(p, n); }
