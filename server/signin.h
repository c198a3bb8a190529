/* signin.h: signing in to the web pages with an account's name and
 * password, whatever carries it (server/web.c: POST /session).
 *
 * The happy path: the name is looked up, the password checked against
 * its Argon2id hash in a pool thread, and a session opened
 * (sessions.h). A first password set by an admin must be replaced in
 * the same request: the new one is hashed in the pool too, stored by
 * the writer with its audit entry, and the session opened once that
 * has committed.
 * The failure modes: a wrong name or password, or an address with too
 * many failed sign-ins (counted with the tokens', server/guard.h), is
 * answered only after TALLY_GUARD_DELAY_MS, as a refused token is; a
 * first password not replaced yet is answered "must change" without a
 * session; a new password too short or too long, or an account changed
 * meanwhile, is refused with nothing changed. The log names the
 * address and the name, never a password or the session.
 */
#ifndef TALLY_SIGNIN_H
#define TALLY_SIGNIN_H

#include "dispatch.h"

typedef struct {
  Tally__ErrorCode code;  /* 0: signed in, or must_change */
  char message[320];      /* the refusal, in English and Chinese */
  int must_change;        /* the password is right, but a first one */
  uint64_t account;       /* signed in (or must_change) as */
  char cookie[TALLY_SESSION_COOKIE]; /* the session's value: wiped by
                                        the caller once sent */
  uint8_t session_sha256[32];
  int64_t expires;
} tally_sign_in_result;

/* Starts checking q for peer ("HOST:PORT"); q's passwords are copied
 * and wiped. done(res, arg) is called once, later, on the loop (never
 * within this call); res is valid during the call. Returns 0, or
 * -ENOMEM (done is then never called). */
int tally_sign_in_start(const tally_services *svc, const char *peer,
                        Tally__SignInRequest *q,
                        void (*done)(const tally_sign_in_result *res,
                                     void *arg),
                        void *arg);

#endif
