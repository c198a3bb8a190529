/* accounts.h: API tokens and the accounts they sign in as.
 *
 * A token is "tally_<id>_<64 hex digits>": the account id, then 256
 * random bits from the system's CSPRNG (OpenSSL's RAND_bytes). The store
 * keeps only the SHA-256 of the random part; a token is checked by
 * looking up its id and comparing hashes in constant time. The server
 * holds every account in memory (a registry, loaded at start and
 * changed only on the loop thread, after a change has committed), so a revoked token stops working
 * with the next request.
 */
#ifndef TALLY_ACCOUNTS_H
#define TALLY_ACCOUNTS_H

#include "catalog.h"
#include "store.h"
#include "tally.pb-c.h"

#include <stddef.h>
#include <stdint.h>

#define TALLY_TOKEN_SECRET 32 /* bytes of randomness in a token */
#define TALLY_TOKEN_MAX 96    /* longest token text, with its NUL */
#define TALLY_ACCOUNT_NAME_MAX 120
#define TALLY_PASSWORD_HASH_MAX 128 /* libsodium's crypto_pwhash_STRBYTES */

typedef struct {
  uint64_t id;
  char name[TALLY_ACCOUNT_NAME_MAX + 1];
  Tally__Role role;
  int unit;                  /* a reporter's unit (catalog index); else -1 */
  char unit_code[TALLY_CODE_MAX + 1];
  uint8_t secret_sha256[32];
  int64_t created, last_used, revoked, rotated;
  uint64_t created_by;
  char password_hash[TALLY_PASSWORD_HASH_MAX]; /* Argon2id; "" = none */
  int64_t password_set;      /* when; 0 = never */
  int must_change;           /* a first password: changed at sign-in */
  int touched;               /* last_used changed since it was stored */
  int change_out;            /* a change of it is being written: one of
                                TALLY_ACCOUNT_REVOKING, _ROTATING; 0 */
} tally_account;

/* A revoke or a new token on its way to the store. While one is out, no
 * other change of the account is taken, and a revoked admin no longer
 * counts as one: each is decided against what it will find stored. */
#define TALLY_ACCOUNT_REVOKING 1
#define TALLY_ACCOUNT_ROTATING 2
#define TALLY_ACCOUNT_PASSWORD 3 /* a new password */

/* Whether a is a district's reporter at the city: a reporter of a unit
 * with units below it that is not the root. Its scope is its unit's
 * subtree: it imports and submits the figures of the reporting units
 * below it, and reads what concerns them, nothing else. */
int tally_account_is_district(const tally_account *a, const tally_catalog *cat);

/* Whether a reporter's figures and reads cover unit (a catalog index):
 * its own unit, and for a district's reporter every unit within it.
 * 0 for analysts and admins (they read everything by their role). */
int tally_account_covers(const tally_account *a, const tally_catalog *cat,
                         int unit);

typedef struct tally_accounts tally_accounts;

/* A token's secret and the hash the store keeps. */
typedef struct {
  uint8_t secret[TALLY_TOKEN_SECRET];
  uint8_t sha256[32];
} tally_token_secret;

/* Draws a new secret. Returns 0, or TALLY_ESTORE when the CSPRNG fails. */
int tally_token_new(tally_token_secret *t);

/* The token's text for account id. */
void tally_token_text(uint64_t id, const tally_token_secret *t,
                      char out[TALLY_TOKEN_MAX]);

/* Wipes a secret from memory. */
void tally_token_wipe(void *p, size_t n);

/* Loads every account of the store. A reporter whose unit the catalog
 * does not have is kept but cannot sign in (it is logged). Returns 0,
 * -ENOMEM or a store error, with a message in err. */
int tally_accounts_load(tally_store *store, const tally_catalog *cat,
                        tally_accounts **out, char *err, size_t errlen);
void tally_accounts_free(tally_accounts *a);

/* The account with this id, or NULL. */
tally_account *tally_accounts_find(tally_accounts *a, uint64_t id);

/* The account a token signs in as, or NULL with *why saying what is
 * wrong (malformed, unknown, revoked): for the log, never the token. */
tally_account *tally_accounts_check(tally_accounts *a, const char *token,
                                    const char **why);

/* The active account (not revoked) with this name, or NULL: what a
 * password signs in as. *twice is set when more than one has it. */
tally_account *tally_accounts_named(tally_accounts *a, const char *name,
                                    int *twice);

/* Makes room for more accounts, so that the puts after a commit cannot
 * fail. Returns 0 or -ENOMEM. Pointers into the registry (tally_account
 * *) are valid only until the next put or reserve. */
int tally_accounts_reserve(tally_accounts *a, size_t more);

/* Adds or replaces the registry's copy of a stored account. Returns 0 or
 * -ENOMEM. */
int tally_accounts_put(tally_accounts *a, const Tally__StoredAccount *stored);

/* The stored form of an account (for writing it back). Strings point
 * into acc. */
void tally_account_to_stored(const tally_account *acc, Tally__Account *a,
                             Tally__StoredAccount *stored);

/* A new account as the audit trail says it: "reporter for wenchang,
 * \"Wenchang office\", active". */
#define TALLY_ACCOUNT_WORDS_MAX 400
void tally_account_words(const Tally__Account *a,
                         char buf[TALLY_ACCOUNT_WORDS_MAX]);

/* Active admins (not revoked, nor being revoked). */
size_t tally_accounts_admins(const tally_accounts *a);

/* Number of accounts, and the i-th by id. */
size_t tally_accounts_count(const tally_accounts *a);
tally_account *tally_accounts_at(tally_accounts *a, size_t i);

/* The accounts whose last-used time changed since the last call, and
 * those times (*n of each, malloc'd, the caller frees); they count as
 * stored from now on. Returns 0 or -ENOMEM. */
int tally_accounts_touched(tally_accounts *a, uint64_t **ids, int64_t **when,
                           size_t *n);

/* Marks them changed again (storing them failed). */
void tally_accounts_retouch(tally_accounts *a, const uint64_t *ids, size_t n);

/* Writes the last-used times that changed since the last call, in a
 * transaction of its own (when no writer thread runs). Returns 0 or a
 * store error. */
int tally_accounts_flush(tally_accounts *a, tally_store *store);


#endif
