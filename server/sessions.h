/* sessions.h: the web pages' sessions, made by a password sign-in.
 *
 * A session is 256 random bits given to the browser once, as the value
 * of an HttpOnly cookie (64 hex digits); the server keeps only its
 * SHA-256, the account and when it ends, in memory (a restart signs
 * everyone out). It ends when it expires, when its owner signs out,
 * and at once for every session of an account that is revoked or given
 * a new password: then the transport that registered with
 * tally_sessions_on_end closes the connections it opened. Loop thread
 * only.
 */
#ifndef TALLY_SESSIONS_H
#define TALLY_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#define TALLY_SESSION_COOKIE 65     /* 64 hex digits and a NUL */
#define TALLY_SESSION_TTL_S 28800   /* a working day: 8 hours */
#define TALLY_SESSIONS_MAX 10000    /* past it, the oldest ends */

typedef struct tally_sessions tally_sessions;

/* ttl_s: how long a session lasts (0 = TALLY_SESSION_TTL_S). NULL: no
 * memory. */
tally_sessions *tally_sessions_new(int64_t ttl_s);
void tally_sessions_free(tally_sessions *s);

/* Opens a session for account at time now: its cookie value into
 * cookie, the hash kept into sha256, when it ends into *expires.
 * Returns 0, -ENOMEM, or TALLY_ESTORE when the CSPRNG failed. */
int tally_sessions_open(tally_sessions *s, uint64_t account, int64_t now,
                        char cookie[TALLY_SESSION_COOKIE],
                        uint8_t sha256[32], int64_t *expires);

/* The account of the session whose cookie value this is, at time now,
 * or 0 (none, malformed, or ended); its hash into sha256 and its end
 * into *expires (either may be NULL). */
uint64_t tally_sessions_check(tally_sessions *s, const char *cookie,
                              int64_t now, uint8_t sha256[32],
                              int64_t *expires);

/* The account of the session with this hash, or 0 when it has ended. */
uint64_t tally_sessions_live(tally_sessions *s, const uint8_t sha256[32],
                             int64_t now);

/* Ends one session (signing out). */
void tally_sessions_end(tally_sessions *s, const uint8_t sha256[32]);

/* Ends every session of an account. Returns how many were open. */
size_t tally_sessions_end_account(tally_sessions *s, uint64_t account);

/* Called (on the loop) for each session ended by the calls above, so
 * that the connections signed in with it close. */
void tally_sessions_on_end(tally_sessions *s,
                           void (*fn)(void *arg, const uint8_t sha256[32]),
                           void *arg);

/* Sessions open (for tests and the log). */
size_t tally_sessions_count(const tally_sessions *s);

#endif
