/* handle_accounts.c: the handlers of accounts and the audit trail.
 *
 * Account changes are written by the writer thread, each with its audit
 * entry in the same transaction; once committed they change the
 * registry (on the loop), so a revoked token is refused from the next
 * request on.
 */
#include "handlers.h"

#include "password.h"
#include "reply.h"
#include "utf8.h"

#include "error.h"
#include "log.h"
#include "wire.h"
#include "store_accounts.h"
#include "store_audit.h"
#include "store_figures.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ADD 5000 /* accounts in one request: each is a RAND_bytes and
                        a hash on the loop thread */

static Tally__Envelope *store_error(tally_request *r, uint64_t id,
                                    const char *what, int rc) {
  return tally_reply_error(r, id, TALLY__ERROR_CODE__ERROR_STORE,
                              "%s: %s; nothing was changed", what,
                              tally_strerror(rc));
}

/* The account as the wire shows it, in the arena. */
static Tally__Account *account_msg(tally_request *r, const tally_account *acc) {
  Tally__Account *a = tally_arena_alloc(r->arena, sizeof *a);
  if (a == NULL)
    return NULL;
  tally__account__init(a);
  a->id = acc->id;
  a->name = tally_arena_strdup(r->arena, acc->name);
  a->role = acc->role;
  a->unit = tally_arena_strdup(r->arena, acc->unit_code);
  a->created_unix = acc->created;
  a->last_used_unix = acc->last_used;
  a->revoked_unix = acc->revoked;
  a->rotated_unix = acc->rotated;
  a->created_by = acc->created_by;
  a->password_set_unix = acc->password_set;
  a->password_must_change = acc->must_change;
  return a->name && a->unit ? a : NULL;
}

/* A name is 1-120 bytes of UTF-8 text without control characters. */
static int good_name(const char *s) {
  return *s && tally_utf8_is_text(s, TALLY_ACCOUNT_NAME_MAX);
}

/* Checks one account to add; on a problem returns the refusal. */
static Tally__Envelope *check_spec(tally_request *r, uint64_t id, size_t i,
                                   const Tally__AccountSpec *spec) {
  const Tally__ErrorCode bad = TALLY__ERROR_CODE__ERROR_BAD_REQUEST;
  char shown[SHOWN_MAX];
  if (!good_name(spec->name))
    return tally_reply_error(r, id, bad,
                                "new account #%zu: a name (1-%d characters, no "
                                "control characters) is required",
                                i + 1, TALLY_ACCOUNT_NAME_MAX);
  switch (spec->role) {
  case TALLY__ROLE__ROLE_REPORTER: {
    int u = *spec->unit ? tally_catalog_unit(r->cat, spec->unit) : -1;
    if (u < 0)
      return tally_reply_error(
          r, id, TALLY__ERROR_CODE__ERROR_UNKNOWN_UNIT,
          "new account #%zu: a reporter needs a unit of the catalog, not '%s'",
          i + 1, tally_reply_show(spec->unit, shown));
    /* A town's, the root's (the district office's own figures) or, for
     * a unit with units below it, that district's at the city: it
     * imports its towns' figures (dispatch.c says what each may do). */
    return NULL;
  }
  case TALLY__ROLE__ROLE_ANALYST:
  case TALLY__ROLE__ROLE_ADMIN:
    if (*spec->unit)
      return tally_reply_error(r, id, bad,
                                  "new account #%zu: only a reporter has a unit; "
                                  "an %s reads every unit",
                                  i + 1, tally_role_name(spec->role));
    return NULL;
  default:
    return tally_reply_error(r, id, bad,
                                "new account #%zu: the role is reporter, analyst "
                                "or admin",
                                i + 1);
  }
}

/* Accounts on their way to the store, with their new secrets. */
struct add_job {
  tally_job job;             /* first: the job is its tally_job */
  size_t n;
  tally_token_secret *secrets; /* wiped when the job is freed */
  Tally__Account *accs;
  Tally__StoredAccount *stored, **list;
  uint64_t *ids;             /* given by the store */
  char (*text)[TALLY_ACCOUNT_WORDS_MAX]; /* each in words, for the audit */
  char **words;              /* pointers to those */
  tally_store_actor who;
  char name[TALLY_ACCOUNT_NAME_MAX + 1]; /* who's */
};

static int add_apply(tally_write *w, tally_store_txn *t) {
  struct add_job *j = (struct add_job *)tally_job_of(w);
  return tally_store_txn_account_add(t, j->list, j->n,
                                     (const char *const *)j->words, j->ids,
                                     &j->who);
}

/* The registry takes the new accounts, and the reply their tokens. */
static Tally__Envelope *add_finish(tally_job *job, tally_request *r) {
  struct add_job *j = (struct add_job *)job;
  uint64_t id = r->req->id;
  if (j->job.write.code != 0)
    return store_error(r, id, "the accounts could not be stored",
                       j->job.write.code);
  Tally__AccountAddReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  if (rep == NULL)
    return NULL;
  tally__account_add_reply__init(rep);
  rep->accounts = tally_arena_alloc(r->arena, j->n * sizeof *rep->accounts);
  if (rep->accounts == NULL || tally_accounts_reserve(r->accounts, j->n) != 0)
    return NULL; /* stored; a restart loads them */
  for (size_t i = 0; i < j->n; i++) {
    char token[TALLY_TOKEN_MAX];
    Tally__NewAccount *na = tally_arena_alloc(r->arena, sizeof *na);
    if (tally_accounts_put(r->accounts, &j->stored[i]) != 0 || na == NULL)
      return NULL;
    tally__new_account__init(na);
    na->account = account_msg(r, tally_accounts_find(r->accounts, j->ids[i]));
    tally_token_text(j->ids[i], &j->secrets[i], token);
    na->token = tally_arena_strdup(r->arena, token);
    r->secret_reply = 1;
    tally_token_wipe(token, sizeof token);
    if (na->account == NULL || na->token == NULL)
      return NULL;
    rep->accounts[rep->n_accounts++] = na;
    tally_log("account %llu added by account %llu from %s: %s%s%s, \"%s\"",
              (unsigned long long)j->ids[i],
              (unsigned long long)j->who.account_id, r->peer,
              tally_role_name(j->accs[i].role),
              *j->accs[i].unit ? " for " : "", j->accs[i].unit,
              j->accs[i].name);
  }
  Tally__Envelope *reply = tally_reply_new(r, id);
  if (reply == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_ACCOUNT_ADD_REPLY;
  reply->account_add_reply = rep;
  return reply;
}

static void add_free(tally_job *job) {
  struct add_job *j = (struct add_job *)job;
  if (j->secrets)
    tally_token_wipe(j->secrets, j->n * sizeof *j->secrets);
  free(j->secrets);
  free(j->accs);
  free(j->stored);
  free(j->list);
  free(j->ids);
  free(j->text);
  free(j->words);
  free(j);
}

Tally__Envelope *tally_handle_account_add(tally_request *r,
                                          const Tally__Envelope *req) {
  const Tally__AccountAddRequest *q = req->account_add;
  size_t n = q->n_accounts;
  Tally__Envelope *reply = NULL;

  if (n == 0 || n > MAX_ADD)
    return tally_reply_error(r, req->id,
                                TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "give 1-%d accounts to add", MAX_ADD);
  for (size_t i = 0; i < n; i++)
    if ((reply = check_spec(r, req->id, i, q->accounts[i])) != NULL)
      return reply;
  /* Room in the registry first: nothing after the commit may fail for
   * want of memory (the accounts would be stored, their tokens lost).
   * Growing it moves the caller's record, so look it up again. */
  if (tally_accounts_reserve(r->accounts, n) != 0)
    return NULL;
  r->account = tally_accounts_find(r->accounts, r->session->account);

  struct add_job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return NULL;
  j->job.write.apply = add_apply;
  j->job.finish = add_finish;
  j->job.free = add_free;
  r->job = &j->job; /* freed with the request, whatever happens next */
  tally_request_actor(r, time(NULL), &j->who, j->name);
  j->n = n;
  j->secrets = calloc(n, sizeof *j->secrets);
  j->accs = calloc(n, sizeof *j->accs);
  j->stored = calloc(n, sizeof *j->stored);
  j->list = calloc(n, sizeof *j->list);
  j->ids = calloc(n, sizeof *j->ids);
  j->text = calloc(n, sizeof *j->text);
  j->words = calloc(n, sizeof *j->words);
  if (!j->secrets || !j->accs || !j->stored || !j->list || !j->ids ||
      !j->text || !j->words)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    const Tally__AccountSpec *spec = q->accounts[i];
    if (tally_token_new(&j->secrets[i]) != 0)
      return NULL;
    tally__account__init(&j->accs[i]);
    tally__stored_account__init(&j->stored[i]);
    j->accs[i].name = spec->name; /* the request lives until the reply */
    j->accs[i].role = spec->role;
    j->accs[i].unit = spec->unit;
    j->accs[i].created_unix = j->who.now;
    j->accs[i].created_by = j->who.account_id;
    j->stored[i].account = &j->accs[i];
    j->stored[i].secret_sha256.data = j->secrets[i].sha256;
    j->stored[i].secret_sha256.len = 32;
    j->list[i] = &j->stored[i];
    tally_account_words(&j->accs[i], j->text[i]);
    j->words[i] = j->text[i];
  }
  r->job = NULL;
  return tally_job_write(r, &j->job);
}

Tally__Envelope *tally_handle_account_list(tally_request *r,
                                           const Tally__Envelope *req) {
  size_t n = tally_accounts_count(r->accounts);
  Tally__AccountListReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  Tally__Envelope *reply = tally_reply_new(r, req->id);
  if (rep == NULL || reply == NULL)
    return NULL;
  tally__account_list_reply__init(rep);
  rep->accounts = tally_arena_alloc(r->arena, (n + 1) * sizeof *rep->accounts);
  if (rep->accounts == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if ((rep->accounts[rep->n_accounts++] =
             account_msg(r, tally_accounts_at(r->accounts, i))) == NULL)
      return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_ACCOUNT_LIST_REPLY;
  reply->account_list_reply = rep;
  return reply;
}

/* The account a request names, or NULL with *err the refusal. */
static tally_account *want_account(tally_request *r, uint64_t req_id,
                                   uint64_t id, Tally__Envelope **err) {
  tally_account *acc = id ? tally_accounts_find(r->accounts, id) : NULL;
  if (acc == NULL)
    *err = tally_reply_error(r, req_id, TALLY__ERROR_CODE__ERROR_NOT_FOUND,
                                "no account %llu (see 'tally account list')",
                                (unsigned long long)id);
  else if (acc->revoked)
    *err = tally_reply_error(r, req_id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "account %llu is already revoked",
                                (unsigned long long)id);
  return acc && !acc->revoked ? acc : NULL;
}

/* A changed copy of an account on its way to the store; the registry
 * takes it once it has committed. */
struct update_job {
  tally_job job;             /* first: the job is its tally_job */
  tally_account changed;     /* wiped when the job is freed */
  Tally__Account a;          /* changed, as stored; strings point into it */
  Tally__StoredAccount stored;
  const char *before, *after; /* in words, for the audit trail */
  tally_token_secret secret; /* a rotate's new one; wiped */
  tally_store_actor who;
  char name[TALLY_ACCOUNT_NAME_MAX + 1]; /* who's */
};

static int update_apply(tally_write *w, tally_store_txn *t) {
  struct update_job *j = (struct update_job *)tally_job_of(w);
  return tally_store_txn_account_update(t, &j->stored, j->before, j->after,
                                        &j->who);
}

static void update_free(tally_job *job) {
  struct update_job *j = (struct update_job *)job;
  tally_token_wipe(j, sizeof *j);
  free(j);
}

/* A job that writes changed (a copy of an account) with its audit
 * entry; finish makes the reply. NULL: no memory. */
static void update_init(struct update_job *j, tally_request *r,
                        const tally_account *changed, const char *before,
                        const char *after,
                        Tally__Envelope *(*finish)(tally_job *,
                                                   tally_request *)) {
  j->changed = *changed;
  tally_account_to_stored(&j->changed, &j->a, &j->stored);
  j->before = before;
  j->after = after;
  tally_request_actor(r, time(NULL), &j->who, j->name);
  j->job.write.apply = update_apply;
  j->job.finish = finish;
  j->job.free = update_free;
}

static struct update_job *update_job(tally_request *r,
                                     const tally_account *changed,
                                     const char *before, const char *after,
                                     Tally__Envelope *(*finish)(tally_job *,
                                                                tally_request *)) {
  struct update_job *j = calloc(1, sizeof *j);
  if (j != NULL)
    update_init(j, r, changed, before, after, finish);
  return j;
}

/* The write is done: the registry takes the account (the put ends its
 * change_out), or on a failure the account is as it was. Returns 0, or
 * the store's error or -ENOMEM. */
static int update_settle(tally_request *r, struct update_job *j) {
  int rc = j->job.write.code;
  if (rc == 0)
    rc = tally_accounts_put(r->accounts, &j->stored);
  tally_account *acc = tally_accounts_find(r->accounts, j->changed.id);
  if (rc != 0 && acc)
    acc->change_out = 0;
  return rc;
}

/* A change of an account already on its way to the store, refused: the
 * second would be decided on what the first is changing. NULL: none. */
static Tally__Envelope *change_out(tally_request *r, uint64_t id,
                                   const tally_account *acc) {
  if (acc->change_out == 0)
    return NULL;
  return tally_reply_error(r, id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                           "account %llu is being %s just now; nothing was "
                           "changed (try again)",
                           (unsigned long long)acc->id,
                           acc->change_out == TALLY_ACCOUNT_REVOKING ? "revoked"
                           : acc->change_out == TALLY_ACCOUNT_PASSWORD
                               ? "given a new password"
                               : "given a new token");
}

static Tally__Envelope *revoke_finish(tally_job *job, tally_request *r) {
  struct update_job *j = (struct update_job *)job;
  uint64_t id = r->req->id;
  int rc = update_settle(r, j);
  if (rc != 0)
    return store_error(r, id, "the account could not be revoked", rc);
  tally_log("account %llu revoked by account %llu from %s",
            (unsigned long long)j->changed.id,
            (unsigned long long)j->who.account_id, r->peer);
  if (r->sessions) /* its web pages stop at once */
    tally_sessions_end_account(r->sessions, j->changed.id);
  Tally__AccountRevokeReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  Tally__Envelope *reply = tally_reply_new(r, id);
  if (rep == NULL || reply == NULL)
    return NULL;
  tally__account_revoke_reply__init(rep);
  const tally_account *now = tally_accounts_find(r->accounts, j->changed.id);
  if (now == NULL || (rep->account = account_msg(r, now)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_ACCOUNT_REVOKE_REPLY;
  reply->account_revoke_reply = rep;
  return reply;
}

static Tally__Envelope *rotate_finish(tally_job *job, tally_request *r) {
  struct update_job *j = (struct update_job *)job;
  uint64_t id = r->req->id;
  int rc = update_settle(r, j);
  if (rc != 0)
    return store_error(r, id, "the token could not be replaced", rc);
  tally_log("account %llu: token replaced by account %llu from %s",
            (unsigned long long)j->changed.id,
            (unsigned long long)j->who.account_id, r->peer);
  char token[TALLY_TOKEN_MAX];
  Tally__AccountRotateReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  Tally__NewAccount *na = tally_arena_alloc(r->arena, sizeof *na);
  Tally__Envelope *reply = tally_reply_new(r, id);
  if (rep == NULL || na == NULL || reply == NULL)
    return NULL;
  tally__account_rotate_reply__init(rep);
  tally__new_account__init(na);
  const tally_account *now = tally_accounts_find(r->accounts, j->changed.id);
  na->account = now ? account_msg(r, now) : NULL;
  tally_token_text(j->changed.id, &j->secret, token);
  na->token = tally_arena_strdup(r->arena, token);
  r->secret_reply = 1;
  tally_token_wipe(token, sizeof token);
  rep->account = na;
  reply->body_case = TALLY__ENVELOPE__BODY_ACCOUNT_ROTATE_REPLY;
  reply->account_rotate_reply = rep;
  return na->account && na->token ? reply : NULL;
}

Tally__Envelope *tally_handle_account_revoke(tally_request *r,
                                             const Tally__Envelope *req) {
  Tally__Envelope *reply = NULL;
  tally_account *acc = want_account(r, req->id, req->account_revoke->id, &reply);
  if (acc == NULL)
    return reply;
  if ((reply = change_out(r, req->id, acc)) != NULL)
    return reply;
  if (acc->role == TALLY__ROLE__ROLE_ADMIN &&
      tally_accounts_admins(r->accounts) == 1)
    return tally_reply_error(r, req->id,
                                TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                "account %llu is the last admin: add another "
                                "admin before revoking it",
                                (unsigned long long)acc->id);
  tally_account changed = *acc;
  changed.revoked = (int64_t)time(NULL);
  struct update_job *j =
      update_job(r, &changed, "active", "revoked", revoke_finish);
  tally_token_wipe(&changed, sizeof changed);
  if (j == NULL)
    return NULL;
  acc->change_out = TALLY_ACCOUNT_REVOKING;
  return tally_job_write(r, &j->job);
}

Tally__Envelope *tally_handle_account_rotate(tally_request *r,
                                             const Tally__Envelope *req) {
  uint64_t id = req->account_rotate->id ? req->account_rotate->id
                                        : r->account->id;
  Tally__Envelope *reply = NULL;
  if (id != r->account->id && r->account->role != TALLY__ROLE__ROLE_ADMIN)
    return tally_reply_error(
        r, req->id, TALLY__ERROR_CODE__ERROR_PERMISSION_DENIED,
        "permission denied: only an admin may replace another account's "
        "token; account %llu may replace its own",
        (unsigned long long)r->account->id);
  tally_account *acc = want_account(r, req->id, id, &reply);
  if (acc == NULL)
    return reply;
  if ((reply = change_out(r, req->id, acc)) != NULL)
    return reply;

  tally_account changed = *acc;
  changed.rotated = (int64_t)time(NULL);
  struct update_job *j = update_job(r, &changed, "token in use",
                                    "token replaced", rotate_finish);
  tally_token_wipe(&changed, sizeof changed);
  if (j == NULL)
    return NULL;
  if (tally_token_new(&j->secret) != 0) {
    update_free(&j->job);
    return store_error(r, req->id, "the token could not be replaced",
                       TALLY_ESTORE);
  }
  memcpy(j->changed.secret_sha256, j->secret.sha256, 32);
  tally_account_to_stored(&j->changed, &j->a, &j->stored);
  acc->change_out = TALLY_ACCOUNT_ROTATING;
  return tally_job_write(r, &j->job);
}

/* A first password: hashed in the pool (slow on purpose), then stored
 * by the writer with its audit entry; the account's web sessions end
 * once it has committed. */
struct password_job {
  struct update_job u;       /* first: the job is its tally_job */
  char password[TALLY_PASSWORD_MAX + 1]; /* wiped once hashed */
  int rc;                    /* the hash's */
};

static void password_run(tally_job *job) {
  struct password_job *j = (struct password_job *)job;
  j->rc = tally_password_hash(j->password, j->u.changed.password_hash);
  tally_password_wipe(j->password, sizeof j->password);
  if (j->rc == 0)
    tally_account_to_stored(&j->u.changed, &j->u.a, &j->u.stored);
}

static int password_apply(tally_write *w, tally_store_txn *t) {
  struct password_job *j = (struct password_job *)tally_job_of(w);
  return j->rc != 0 ? j->rc : update_apply(w, t);
}

static Tally__Envelope *password_finish(tally_job *job, tally_request *r) {
  struct password_job *j = (struct password_job *)job;
  uint64_t id = r->req->id;
  int rc = update_settle(r, &j->u);
  if (rc != 0)
    return store_error(r, id, "the password could not be set", rc);
  tally_log("account %llu: a first password set by account %llu from %s",
            (unsigned long long)j->u.changed.id,
            (unsigned long long)j->u.who.account_id, r->peer);
  if (r->sessions)
    tally_sessions_end_account(r->sessions, j->u.changed.id);
  Tally__AccountPasswordReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  Tally__Envelope *reply = tally_reply_new(r, id);
  if (rep == NULL || reply == NULL)
    return NULL;
  tally__account_password_reply__init(rep);
  const tally_account *now = tally_accounts_find(r->accounts, j->u.changed.id);
  if (now == NULL || (rep->account = account_msg(r, now)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_ACCOUNT_PASSWORD_REPLY;
  reply->account_password_reply = rep;
  return reply;
}

static void password_free(tally_job *job) {
  struct password_job *j = (struct password_job *)job;
  tally_password_wipe(j, sizeof *j);
  free(j);
}

Tally__Envelope *tally_handle_account_password(tally_request *r,
                                               const Tally__Envelope *req) {
  const Tally__AccountPasswordRequest *q = req->account_password;
  Tally__Envelope *reply = NULL;
  const char *why = tally_password_refusal(q->password);
  tally_account *acc = want_account(r, req->id, q->id, &reply);
  int twice = 0;
  if (acc && why == NULL)
    tally_accounts_named(r->accounts, acc->name, &twice);
  if (acc == NULL)
    ;
  else if (why)
    reply = tally_reply_error(r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                              "%s; nothing was changed", why);
  else if (twice)
    reply = tally_reply_error(
        r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
        "another active account is also named \"%s\": a password signs in "
        "by the account's name, which must be one account's alone; nothing "
        "was changed",
        acc->name);
  else
    reply = change_out(r, req->id, acc);
  if (reply != NULL || acc == NULL) {
    explicit_bzero(q->password, strlen(q->password));
    return reply;
  }

  tally_account changed = *acc;
  changed.password_set = (int64_t)time(NULL);
  changed.must_change = 1;
  struct password_job *j = calloc(1, sizeof *j);
  if (j == NULL) {
    tally_token_wipe(&changed, sizeof changed);
    explicit_bzero(q->password, strlen(q->password));
    return NULL;
  }
  update_init(&j->u, r, &changed,
              *acc->password_hash ? "password set" : "no password",
              "first password set (to be changed)", password_finish);
  tally_token_wipe(&changed, sizeof changed);
  snprintf(j->password, sizeof j->password, "%s", q->password);
  explicit_bzero(q->password, strlen(q->password));
  j->u.job.run = password_run;
  j->u.job.write.apply = password_apply;
  j->u.job.free = password_free;
  acc->change_out = TALLY_ACCOUNT_PASSWORD;
  return tally_job_run(r, &j->u.job);
}

Tally__Envelope *tally_handle_sign_in_elsewhere(tally_request *r,
                                                const Tally__Envelope *req) {
  explicit_bzero(req->sign_in->password, strlen(req->sign_in->password));
  explicit_bzero(req->sign_in->new_password,
                 strlen(req->sign_in->new_password));
  return tally_reply_error(
      r, req->id, TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
      "a password signs in to the web pages only (POST /session of tallyd "
      "--http); a connection signs in with a token");
}

Tally__Envelope *tally_handle_whoami(tally_request *r,
                                     const Tally__Envelope *req) {
  Tally__WhoamiReply *rep = tally_arena_alloc(r->arena, sizeof *rep);
  Tally__Envelope *reply = tally_reply_new(r, req->id);
  if (rep == NULL || reply == NULL)
    return NULL;
  tally__whoami_reply__init(rep);
  if ((rep->account = account_msg(r, r->account)) == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_WHOAMI_REPLY;
  reply->whoami_reply = rep;
  return reply;
}

/* An audit trail is read a page at a time in a pool thread, as a
 * history is (handle_read.c): a unit's by revision, from its history;
 * an account's by sequence number; everyone's by account and sequence
 * number (the client orders the pages by seq). */
enum { AUDIT_UNIT, AUDIT_ACCOUNT, AUDIT_ALL };
struct audit_job {
  tally_job job;       /* first: the job is its tally_job */
  tally_store *store;
  uint64_t id;
  int mode;
  uint32_t period_key; /* AUDIT_UNIT: the unit's report */
  const char *unit;    /* the request's, which outlives the job */
  const char *period, *subject;
  uint64_t account, after, after_account;
  size_t limit;
  size_t cap, bytes;   /* of rep->entries; their packed size */
  int rc;
  tally_arena arena;   /* the reply, built where the job runs */
  Tally__AuditReply *rep;
};

/* Appends an entry to the page; returns 0 or -ENOMEM. */
static int audit_add(struct audit_job *j, Tally__AuditEntry *e) {
  if (tally_arena_reserve(&j->arena, &j->rep->entries, j->rep->n_entries,
                          &j->cap, sizeof *j->rep->entries) != 0)
    return -ENOMEM;
  j->rep->entries[j->rep->n_entries++] = e;
  return 0;
}

/* True (and the page says so) when an entry of len bytes does not fit. */
static int audit_full(struct audit_job *j, size_t len) {
  if (!tally_page_full(j->rep->n_entries, j->limit, j->bytes, len))
    return 0;
  j->rep->more = 1;
  return 1;
}

/* Store visitor: the changes of a figures entry, from the history. */
static int take_changes(void *arg, const void *packed, size_t len) {
  Tally__AuditEntry *e = ((void **)arg)[0];
  tally_arena *a = ((void **)arg)[1];
  ProtobufCAllocator alloc = tally_reply_pb_arena(a);
  Tally__ChangeSet *cs = tally__change_set__unpack(&alloc, len, packed);
  if (cs) {
    e->changes = cs->changes;
    e->n_changes = cs->n_changes;
    e->explanations = cs->explanations;
    e->n_explanations = cs->n_explanations;
  }
  return 0;
}

/* Store visitor: one entry of the trail. */
static int collect_entry(void *arg, uint64_t account, uint64_t seq,
                         const void *packed, size_t len) {
  struct audit_job *j = arg;
  if (audit_full(j, len))
    return 1;
  j->rep->next_account = account;
  j->rep->next = seq;
  ProtobufCAllocator alloc = tally_reply_pb_arena(&j->arena);
  Tally__AuditEntry *e = tally__audit_entry__unpack(&alloc, len, packed);
  if (e == NULL)
    return 0; /* not ours to judge */
  j->bytes += TALLY_PAGE_COST(len);
  return audit_add(j, e);
}

/* Fills each figures entry's changes from the unit's history, then
 * keeps as many entries as a page holds. Runs after the audit scan: a
 * thread has one read transaction at a time. Returns 0 or a store
 * error. */
static int add_changes(struct audit_job *j) {
  Tally__AuditReply *rep = j->rep;
  size_t bytes = 0;
  for (size_t i = 0; i < rep->n_entries; i++) {
    Tally__AuditEntry *e = rep->entries[i];
    tally_period p;
    if (strcmp(e->kind, "figures") == 0 &&
        tally_period_parse(e->period, &p) == 0) {
      void *both[2] = {e, &j->arena};
      int rc = tally_store_changeset(j->store, tally_period_key(&p), e->unit,
                                     e->revision, take_changes, both);
      if (rc != 0 && rc != TALLY_ENOTFOUND)
        return rc;
    }
    bytes += TALLY_PAGE_COST(tally__audit_entry__get_packed_size(e));
    if (i > 0 && bytes > TALLY_PAGE_ROOM) { /* the next page starts here */
      rep->n_entries = i;
      rep->more = 1;
      rep->next_account = rep->entries[i - 1]->account_id;
      rep->next = rep->entries[i - 1]->seq;
      break;
    }
  }
  return 0;
}

/* Store visitor: one history entry of a unit, as an audit entry. */
static int collect_history(void *arg, uint64_t revision, const void *packed,
                           size_t len) {
  struct audit_job *j = arg;
  ProtobufCAllocator alloc = tally_reply_pb_arena(&j->arena);
  Tally__ChangeSet *cs = tally__change_set__unpack(&alloc, len, packed);
  Tally__AuditEntry *e = tally_arena_alloc(&j->arena, sizeof *e);
  if (e == NULL)
    return -ENOMEM;
  if (cs == NULL) {
    if (audit_full(j, len))
      return 1;
    j->rep->next = revision; /* unreadable: passed over */
    return 0;
  }
  tally__audit_entry__init(e);
  e->time_unix = cs->time_unix;
  e->account_id = cs->account_id;
  e->account_name = cs->account_name;
  e->peer = cs->peer;
  e->kind = "figures";
  e->seq = cs->audit_seq;
  e->revision = cs->revision;
  e->submission_id = cs->submission_id;
  e->how = cs->how;
  e->changes = cs->changes;
  e->n_changes = cs->n_changes;
  e->explanations = cs->explanations;
  e->n_explanations = cs->n_explanations;
  e->unit = (char *)j->unit;
  e->period = (char *)j->period;
  e->subject = (char *)j->subject;
  /* What the entry costs in the reply, its unit and subject included. */
  size_t size = tally__audit_entry__get_packed_size(e);
  if (audit_full(j, size))
    return 1;
  j->rep->next = revision;
  j->bytes += TALLY_PAGE_COST(size);
  return audit_add(j, e);
}

static void audit_run(tally_job *a) {
  struct audit_job *j = (struct audit_job *)a;
  if (j->mode == AUDIT_UNIT)
    j->rc = tally_store_history_page(j->store, j->period_key, j->unit,
                                     j->after, collect_history, j);
  else
    j->rc = tally_store_audit_page(j->store, j->mode == AUDIT_ALL,
                                   j->mode == AUDIT_ALL ? j->after_account
                                                        : j->account,
                                   j->after, collect_entry, j);
  if (j->rc == 1)
    j->rc = 0; /* the page is full: rep->more is set */
  if (j->rc == 0 && j->mode != AUDIT_UNIT)
    j->rc = add_changes(j);
  if (!j->rep->more)
    j->rep->next = j->rep->next_account = 0; /* the last page */
}

/* The reply points into the job's arena, freed after it is sent. */
static Tally__Envelope *audit_finish(tally_job *a, tally_request *r) {
  struct audit_job *j = (struct audit_job *)a;
  if (j->rc == -ENOMEM)
    return NULL;
  if (j->rc != 0)
    return tally_reply_error(r, j->id, TALLY__ERROR_CODE__ERROR_STORE,
                             "the audit trail could not be read (%s)",
                             tally_strerror(j->rc));
  /* An empty trail of an account the server does not know (one made
   * by 'tallyd init --recover' since the start has a trail). */
  if (j->mode == AUDIT_ACCOUNT && j->rep->n_entries == 0 && j->after == 0 &&
      tally_accounts_find(r->accounts, j->account) == NULL)
    return tally_reply_error(r, j->id, TALLY__ERROR_CODE__ERROR_NOT_FOUND,
                             "no account %llu",
                             (unsigned long long)j->account);
  Tally__Envelope *reply = tally_reply_new(r, j->id);
  if (reply == NULL)
    return NULL;
  reply->body_case = TALLY__ENVELOPE__BODY_AUDIT_REPLY;
  reply->audit_reply = j->rep;
  return reply;
}

static void audit_free(tally_job *a) {
  struct audit_job *j = (struct audit_job *)a;
  tally_arena_free(&j->arena);
  free(j);
}

/* Which trail the request asks for, if the account may read it: 0 and
 * j's mode (and its unit and period), or 1 and the refusal in *reply. */
static int audit_want(tally_request *r, const Tally__Envelope *req,
                      struct audit_job *j, Tally__Envelope **reply) {
  const Tally__AuditRequest *q = req->audit;
  const tally_account *me = r->account;
  int analyst = me->role == TALLY__ROLE__ROLE_ANALYST ||
                me->role == TALLY__ROLE__ROLE_ADMIN;
  *reply = NULL;
  if (*q->unit || *q->period) {
    tally_period p;
    char ptext[TALLY_PERIOD_STRLEN];
    if (q->account) {
      *reply = tally_reply_error(r, req->id,
                                 TALLY__ERROR_CODE__ERROR_BAD_REQUEST,
                                 "ask for a unit and period, or for an "
                                 "account, not both");
      return 1;
    }
    if (tally_reply_want_unit(r, req->id, q->unit, reply) < 0 ||
        tally_reply_want_period(r, req->id, q->period, &p, reply) != 0)
      return 1;
    if (!analyst &&
        !tally_account_covers(me, r->cat, tally_catalog_unit(r->cat, q->unit))) {
      *reply = tally_reply_error(
          r, req->id, TALLY__ERROR_CODE__ERROR_PERMISSION_DENIED,
          "permission denied: account %llu reports for %s and may not read "
          "the trail of %s",
          (unsigned long long)me->id, me->unit_code, q->unit);
      return 1;
    }
    j->mode = AUDIT_UNIT;
    j->period_key = tally_period_key(&p);
    j->unit = q->unit;
    tally_period_format(&p, ptext);
    j->period = tally_arena_strdup(&j->arena, ptext);
    j->subject = tally_arena_printf(&j->arena, "%s %s", q->unit, ptext);
    return 0;
  }
  if (q->account) {
    if (!analyst && q->account != me->id) {
      *reply = tally_reply_error(
          r, req->id, TALLY__ERROR_CODE__ERROR_PERMISSION_DENIED,
          "permission denied: account %llu may read its own trail only",
          (unsigned long long)me->id);
      return 1;
    }
    j->mode = AUDIT_ACCOUNT;
    j->account = q->account;
    return 0;
  }
  if (!analyst) {
    *reply = tally_reply_error(
        r, req->id, TALLY__ERROR_CODE__ERROR_PERMISSION_DENIED,
        "permission denied: a reporter reads the trail of its unit "
        "(--unit %s --period P) or of its account (--account %llu)",
        me->unit_code, (unsigned long long)me->id);
    return 1;
  }
  j->mode = AUDIT_ALL;
  return 0;
}

Tally__Envelope *tally_handle_audit(tally_request *r,
                                    const Tally__Envelope *req) {
  const Tally__AuditRequest *q = req->audit;
  Tally__Envelope *reply = NULL;
  struct audit_job *j = calloc(1, sizeof *j);
  if (j == NULL)
    return NULL;
  j->job.run = audit_run;
  j->job.finish = audit_finish;
  j->job.free = audit_free;
  j->store = r->store;
  j->id = req->id;
  j->after = q->after;
  j->after_account = q->after_account;
  j->limit = tally_page_limit(q->limit);
  j->rep = tally_arena_alloc(&j->arena, sizeof *j->rep);
  if (j->rep == NULL || audit_want(r, req, j, &reply) != 0 ||
      (j->mode == AUDIT_UNIT && (j->period == NULL || j->subject == NULL))) {
    audit_free(&j->job); /* the refusal is in r's arena */
    return reply;
  }
  tally__audit_reply__init(j->rep);
  return tally_job_run(r, &j->job);
}
