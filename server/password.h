/* password.h: passwords for the web pages, hashed with Argon2id
 * (libsodium's crypto_pwhash_str). Hashing and checking are slow on
 * purpose (about 0.1-0.3 s and 64 MiB each): call them in a pool
 * thread, never on the loop. */
#ifndef TALLY_PASSWORD_H
#define TALLY_PASSWORD_H

#include "accounts.h"

#include <stddef.h>

#define TALLY_PASSWORD_MIN 8   /* bytes */
#define TALLY_PASSWORD_MAX 128 /* bytes */

/* Makes libsodium ready. Returns 0, or -1 when it cannot start. */
int tally_password_init(void);

/* Why pw cannot be a password ("at least 8 bytes", ...), or NULL when
 * it can: 8-128 bytes of UTF-8 text. */
const char *tally_password_refusal(const char *pw);

/* Hashes pw into out (Argon2id, its parameters and salt in the text).
 * Returns 0, or -ENOMEM when the hash's memory could not be had. */
int tally_password_hash(const char *pw, char out[TALLY_PASSWORD_HASH_MAX]);

/* 0 when pw is the password of hash. Given an empty hash (no such
 * account, or none set), it hashes pw all the same against a hash of
 * nothing, so that the time taken does not tell, and returns -1. */
int tally_password_check(const char *hash, const char *pw);

/* Wipes a password from memory. */
void tally_password_wipe(void *p, size_t n);

#endif
