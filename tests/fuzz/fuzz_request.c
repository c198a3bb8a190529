/* fuzz_request.c: a request from decoding to the packed reply.
 *
 * The input is a frame body. When it decodes as an Envelope it is
 * dispatched as the server would dispatch it: against the built-in
 * catalog and a real LMDB store, both opened once for the whole run (in
 * a temporary directory removed at exit), with the reply built in an
 * arena. The reply must carry the request's id, be of a reply type, and
 * encode within a frame the client accepts.
 *
 * The store keeps what earlier inputs submitted, so an input may behave
 * differently after others; a crash found that way is replayed from an
 * empty store and may need the inputs before it.
 *
 * Every input comes on a connection of its own, signed in as the server
 * would have signed it in, as one of the accounts made in the store at
 * the start, chosen by the envelope's id: id % 5 = 0 nobody (not signed
 * in), 1 the admin, 2 an analyst, 3 the reporter of wenchang (a
 * township), 4 the reporter of changqing (the district). The envelope's
 * own auth field signs in again, as the server does: a token from the
 * input is almost always refused, except "@0".."@3", which stand for the
 * real tokens of those four accounts (admin, analyst, wenchang,
 * changqing), so that a sign-in that switches accounts is reached too.
 * Besides the reply's form, the target checks the sign-in (a refused
 * token is an UNAUTHENTICATED error and leaves the connection signed
 * out; a real token signs in) and the roles: a request is answered with
 * anything but an error only for an account that may make it.
 *
 * An input may revoke or rotate one of the four (as an admin); the next
 * input then gets a new account of the same role in its place.
 */
#include "accounts.h"
#include "arena.h"
#include "catalog.h"
#include "dispatch.h"
#include "frame.h"
#include "password.h"
#include "store.h"
#include "store_accounts.h"
#include "wire.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAP_SIZE (64ul << 20)

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "fuzz_request: %s:%d: check failed: %s\n", __FILE__,    \
              __LINE__, #cond);                                               \
      abort();                                                                \
    }                                                                         \
  } while (0)

static tally_catalog *cat;
static tally_store *store;
static tally_accounts *accounts;
static char dir[256];

/* The accounts an input may sign in as. */
#define ACCOUNTS 4
static const struct {
  Tally__Role role;
  const char *unit;
  const char *name;
} roles[ACCOUNTS] = {
    {TALLY__ROLE__ROLE_ADMIN, "", "fuzz admin"},
    {TALLY__ROLE__ROLE_ANALYST, "", "fuzz analyst"},
    {TALLY__ROLE__ROLE_REPORTER, "wenchang", "fuzz reporter for wenchang"},
    {TALLY__ROLE__ROLE_REPORTER, "changqing", "fuzz reporter for changqing"},
};
static struct {
  uint64_t id;
  int64_t rotated;              /* as made: a change means a new token */
  char token[TALLY_TOKEN_MAX];
} made[ACCOUNTS];

/* Closes the store and removes its directory. */
static void cleanup(void) {
  char path[300];
  tally_accounts_free(accounts);
  accounts = NULL;
  tally_store_close(store);
  store = NULL;
  tally_catalog_free(cat);
  cat = NULL;
  snprintf(path, sizeof path, "%s/data.mdb", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/lock.mdb", dir);
  unlink(path);
  rmdir(dir);
}

/* Loads the catalog and opens the store on the first input. A store on
 * tmpfs (/dev/shm) makes LMDB's sync on every commit cheap. */
static void setup(void) {
  char err[512];
  const char *base = getenv("TMPDIR");

  if (tally_password_init() != 0)
    abort();

  if (access("/dev/shm", W_OK) == 0)
    base = "/dev/shm";
  else if (base == NULL || *base == 0)
    base = "/tmp";
  snprintf(dir, sizeof dir, "%s/tally-fuzz-request-XXXXXX", base);
  if (mkdtemp(dir) == NULL) {
    perror(dir);
    abort();
  }
  if (tally_catalog_load_builtin(&cat, err, sizeof err) != 0) {
    fprintf(stderr, "fuzz_request: %s\n", err);
    abort();
  }
  if (tally_store_open(dir, MAP_SIZE, 0, &store) != 0) {
    fprintf(stderr, "fuzz_request: cannot open a store in %s\n", dir);
    abort();
  }
  if (tally_accounts_load(store, cat, &accounts, err, sizeof err) != 0) {
    fprintf(stderr, "fuzz_request: %s\n", err);
    abort();
  }
  atexit(cleanup);
}

/* Makes account k anew in the store (as tallyd init makes the first
 * admin) and in the registry, keeping its token. */
static void make_account(int k) {
  tally_token_secret secret;
  Tally__Account a = TALLY__ACCOUNT__INIT;
  Tally__StoredAccount stored = TALLY__STORED_ACCOUNT__INIT;
  Tally__StoredAccount *list[1] = {&stored};
  tally_store_actor who = {0, "fuzz setup", "local", (int64_t)time(NULL)};
  uint64_t id = 0;

  CHECK(tally_token_new(&secret) == 0);
  a.name = (char *)roles[k].name;
  a.role = roles[k].role;
  a.unit = (char *)roles[k].unit;
  a.created_unix = who.now;
  stored.account = &a;
  stored.secret_sha256.data = secret.sha256;
  stored.secret_sha256.len = 32;
  char words[TALLY_ACCOUNT_WORDS_MAX];
  const char *after[] = {words};
  tally_account_words(&a, words);
  CHECK(tally_store_account_add(store, list, 1, after, &id, &who) == 0);
  CHECK(id != 0);
  a.id = id;
  CHECK(tally_accounts_put(accounts, &stored) == 0);
  tally_token_text(id, &secret, made[k].token);
  tally_token_wipe(&secret, sizeof secret);
  made[k].id = id;
  made[k].rotated = 0;
  const tally_account *acc = tally_accounts_find(accounts, id);
  CHECK(acc != NULL && !acc->revoked && acc->role == roles[k].role);
  CHECK(roles[k].role != TALLY__ROLE__ROLE_REPORTER || acc->unit >= 0);
}

/* The four accounts, made again where an earlier input revoked one or
 * replaced its token. */
static void refresh_accounts(void) {
  for (int k = 0; k < ACCOUNTS; k++) {
    const tally_account *acc =
        made[k].id ? tally_accounts_find(accounts, made[k].id) : NULL;
    if (acc == NULL || acc->revoked || acc->rotated != made[k].rotated)
      make_account(k);
  }
}

/* "@0".."@3" in the input stand for the real tokens: which, or -1. */
static int real_token(const char *t) {
  if (t && t[0] == '@' && t[1] >= '0' && t[1] < '0' + ACCOUNTS && !t[2])
    return t[1] - '0';
  return -1;
}

/* Whether acc may read a unit's figures (READ_UNIT): analysts and
 * admins any, a reporter only its own unit, never the whole district. */
static int may_read(const tally_account *acc, const char *unit) {
  if (acc->role == TALLY__ROLE__ROLE_ADMIN ||
      acc->role == TALLY__ROLE__ROLE_ANALYST)
    return 1;
  return acc->role == TALLY__ROLE__ROLE_REPORTER && unit && *unit &&
         strcmp(unit, acc->unit_code) == 0;
}

/* Checks that a reply other than an error went to an account that may
 * make the request. */
static void check_allowed(const Tally__Envelope *req,
                          const Tally__Envelope *reply,
                          const tally_account *acc) {
  int admin = acc->role == TALLY__ROLE__ROLE_ADMIN;
  int analyst = admin || acc->role == TALLY__ROLE__ROLE_ANALYST;

  switch (reply->body_case) {
  case TALLY__ENVELOPE__BODY_SUBMIT_REPLY:
    CHECK(req->body_case == TALLY__ENVELOPE__BODY_SUBMIT);
    CHECK(acc->role == TALLY__ROLE__ROLE_REPORTER);
    CHECK(strcmp(req->submit->unit, acc->unit_code) == 0);
    break;
  case TALLY__ENVELOPE__BODY_VALUES_REPLY:
    CHECK(may_read(acc, req->values->unit));
    break;
  case TALLY__ENVELOPE__BODY_HISTORY_REPLY:
    CHECK(may_read(acc, req->history->unit));
    break;
  case TALLY__ENVELOPE__BODY_REPORT_REPLY:
    CHECK(may_read(acc, req->report->unit));
    break;
  case TALLY__ENVELOPE__BODY_EXPLAIN_REPLY:
    CHECK(may_read(acc, req->explain->unit));
    break;
  case TALLY__ENVELOPE__BODY_COMPLETENESS_REPLY:
    CHECK(may_read(acc, req->completeness->unit));
    break;
  case TALLY__ENVELOPE__BODY_CHECK_REPLY:
    CHECK(may_read(acc, req->check->unit));
    break;
  case TALLY__ENVELOPE__BODY_TREND_REPLY:
    CHECK(may_read(acc, req->trend->unit));
    break;
  case TALLY__ENVELOPE__BODY_MATRIX_REPLY:
    CHECK(may_read(acc, req->matrix->unit));
    break;
  case TALLY__ENVELOPE__BODY_TARGET_SET_REPLY:
  case TALLY__ENVELOPE__BODY_LOCK_REPLY:
    CHECK(analyst);
    break;
  case TALLY__ENVELOPE__BODY_BACKUP_REPLY:
  case TALLY__ENVELOPE__BODY_VERIFY_REPLY:
  case TALLY__ENVELOPE__BODY_ACCOUNT_ADD_REPLY:
  case TALLY__ENVELOPE__BODY_ACCOUNT_LIST_REPLY:
  case TALLY__ENVELOPE__BODY_ACCOUNT_REVOKE_REPLY:
  case TALLY__ENVELOPE__BODY_ACCOUNT_PASSWORD_REPLY:
    CHECK(admin);
    break;
  case TALLY__ENVELOPE__BODY_ACCOUNT_ROTATE_REPLY:
    /* Anyone their own token; only an admin another's. */
    CHECK(admin || req->account_rotate->id == 0 ||
          req->account_rotate->id == acc->id);
    break;
  default:
    break;
  }
}

static int is_reply(Tally__Envelope__BodyCase c) {
  return c == TALLY__ENVELOPE__BODY_ERROR ||
         c == TALLY__ENVELOPE__BODY_SUBMIT_REPLY ||
         c == TALLY__ENVELOPE__BODY_VALUES_REPLY ||
         c == TALLY__ENVELOPE__BODY_REPORT_REPLY ||
         c == TALLY__ENVELOPE__BODY_HISTORY_REPLY ||
         c == TALLY__ENVELOPE__BODY_BACKUP_REPLY ||
         c == TALLY__ENVELOPE__BODY_VERIFY_REPLY ||
         c == TALLY__ENVELOPE__BODY_EXPLAIN_REPLY ||
         c == TALLY__ENVELOPE__BODY_COMPLETENESS_REPLY ||
         c == TALLY__ENVELOPE__BODY_CHECK_REPLY ||
         c == TALLY__ENVELOPE__BODY_CATALOG_REPLY ||
         c == TALLY__ENVELOPE__BODY_TARGET_SET_REPLY ||
         c == TALLY__ENVELOPE__BODY_TARGET_LIST_REPLY ||
         c == TALLY__ENVELOPE__BODY_LOCK_REPLY ||
         c == TALLY__ENVELOPE__BODY_LOCK_LIST_REPLY ||
         c == TALLY__ENVELOPE__BODY_ACCOUNT_ADD_REPLY ||
         c == TALLY__ENVELOPE__BODY_ACCOUNT_LIST_REPLY ||
         c == TALLY__ENVELOPE__BODY_ACCOUNT_REVOKE_REPLY ||
         c == TALLY__ENVELOPE__BODY_ACCOUNT_ROTATE_REPLY ||
         c == TALLY__ENVELOPE__BODY_WHOAMI_REPLY ||
         c == TALLY__ENVELOPE__BODY_VALIDATE_REPLY ||
         c == TALLY__ENVELOPE__BODY_REVIEW_REPLY ||
         c == TALLY__ENVELOPE__BODY_REVIEW_LIST_REPLY ||
         c == TALLY__ENVELOPE__BODY_STATUS_REPLY ||
         c == TALLY__ENVELOPE__BODY_AUDIT_REPLY ||
         c == TALLY__ENVELOPE__BODY_ACCOUNT_PASSWORD_REPLY ||
         c == TALLY__ENVELOPE__BODY_TREND_REPLY ||
         c == TALLY__ENVELOPE__BODY_MATRIX_REPLY ||
         c == TALLY__ENVELOPE__BODY_REPORT_FILE_REPLY ||
         c == TALLY__ENVELOPE__BODY_IMPORT_REPLY ||
         c == TALLY__ENVELOPE__BODY_ADMIN_STATUS_REPLY ||
         c == TALLY__ENVELOPE__BODY_GUARD_CLEAR_REPLY;
}

static int is_error(const Tally__Envelope *reply, Tally__ErrorCode code) {
  return reply->body_case == TALLY__ENVELOPE__BODY_ERROR &&
         reply->error != NULL && reply->error->code == code;
}

static int replied;
static const Tally__Envelope *reply_got;

static void take_reply(tally_request *r, const Tally__Envelope *reply) {
  replied++;
  reply_got = reply;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Tally__Envelope *req = NULL;

  if (store == NULL)
    setup();
  if (tally_wire_unpack(data, size, &req) != 0)
    return 0;
  refresh_accounts();

  /* Who the connection signed in as before this request. */
  int who = (int)(req->id % (ACCOUNTS + 1)) - 1; /* -1: nobody */
  tally_session session = {0};
  if (who >= 0)
    tally_session_sign_in(&session, tally_accounts_find(accounts, made[who].id));
  /* The token the request carries, and whether it is a real one. */
  char *input_token = req->auth ? req->auth->token : NULL;
  int real = real_token(input_token);
  int signs_in = input_token && *input_token;
  char token[TALLY_TOKEN_MAX]; /* dispatch wipes the token it checked */
  if (real >= 0) {
    snprintf(token, sizeof token, "%s", made[real].token);
    req->auth->token = token;
  }
  /* A backup goes into a new folder of ours, wherever the input points. */
  char backup[300], *input_path = NULL;
  static unsigned backups;
  if (req->body_case == TALLY__ENVELOPE__BODY_BACKUP && req->backup->path &&
      req->backup->path[0] == '/') {
    snprintf(backup, sizeof backup, "%s/backup-%u", dir, ++backups);
    input_path = req->backup->path;
    req->backup->path = backup;
  }

  /* No loop and no writer thread: jobs and writes are done inline, and
   * the reply comes through the callback before tally_dispatch returns. */
  tally_services svc = {NULL, cat, store, NULL, accounts, NULL, NULL, NULL,
                        NULL};
  tally_request r;
  tally_request_init(&r, &svc, &session, "fuzz", take_reply, NULL);
  replied = 0;
  tally_dispatch(&r, req);
  CHECK(replied == 1);
  const Tally__Envelope *reply = reply_got;
  CHECK(reply != NULL);
  CHECK(reply->id == req->id);
  CHECK(is_reply(reply->body_case));
  if (reply->body_case == TALLY__ENVELOPE__BODY_ERROR)
    CHECK(reply->error != NULL && reply->error->message != NULL);

  /* The sign-in. */
  if (real >= 0) {
    /* A real token signs in as its account (whatever came before). */
    CHECK(!r.refused_sign_in);
    CHECK(session.account == made[real].id);
  } else if (signs_in) {
    /* A token from the input (not one of the four: a made-up one could
     * only match by guessing 256 random bits) is refused, the connection
     * left signed out. */
    CHECK(r.refused_sign_in);
    CHECK(is_error(reply, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED));
    CHECK(session.account == 0);
  } else {
    CHECK(!r.refused_sign_in);
    if (who < 0)
      CHECK(is_error(reply, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED));
    else
      CHECK(session.account == made[who].id);
  }
  if (r.refused_sign_in)
    CHECK(is_error(reply, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED));
  /* An answer other than an error: the account may make the request. */
  if (reply->body_case != TALLY__ENVELOPE__BODY_ERROR) {
    const tally_account *acc = tally_accounts_find(accounts, session.account);
    CHECK(acc != NULL);
    check_allowed(req, reply, acc);
  }

  uint8_t *frame = NULL;
  size_t frame_len = 0;
  CHECK(tally_wire_pack(reply, UINT32_MAX, &frame, &frame_len) == 0);
  CHECK(frame_len - TALLY_FRAME_HEADER <= TALLY_FRAME_DEFAULT_MAX);
  CHECK(tally_frame_get_len(frame) == frame_len - TALLY_FRAME_HEADER);

  /* What was sent must decode as the client would decode it. */
  Tally__Envelope *back = NULL;
  CHECK(tally_wire_unpack(frame + TALLY_FRAME_HEADER,
                          frame_len - TALLY_FRAME_HEADER, &back) == 0);
  CHECK(back->id == reply->id && back->body_case == reply->body_case);
  tally_wire_free(back);

  free(frame);
  tally_request_end(&r);
  if (input_path) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", backup);
    CHECK(system(cmd) == 0);
    req->backup->path = input_path; /* the unpacked string, to be freed */
  }
  if (real >= 0)
    req->auth->token = input_token; /* the unpacked string, to be freed */
  tally_wire_free(req);
  return 0;
}
