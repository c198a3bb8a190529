/* signin.c: a password sign-in, from the name to a session. */
#include "signin.h"

#include "log.h"
#include "password.h"
#include "store_accounts.h"
#include "wire.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  uv_work_t work;            /* first: the checks in the pool */
  tally_write write;         /* a new password, to the writer */
  uv_timer_t delay;          /* a refusal is answered late */
  tally_services svc;
  char peer[64];
  char name[TALLY_ACCOUNT_NAME_MAX + 1];
  char password[TALLY_PASSWORD_MAX + 1];     /* wiped once checked */
  char new_password[TALLY_PASSWORD_MAX + 1]; /* wiped once hashed */
  char hash[TALLY_PASSWORD_HASH_MAX];        /* the account's, then the new */
  uint64_t account;          /* 0: no account has the name */
  int ok;                    /* the password is the account's */
  int hashed;                /* the new one's hash: 0 or -ENOMEM */
  tally_account changed;     /* with its new password, for the writer */
  Tally__Account a;
  Tally__StoredAccount stored;
  tally_store_actor who;
  tally_sign_in_result res;
  void (*done)(const tally_sign_in_result *res, void *arg);
  void *arg;
} sign_in;

static void job_free(uv_handle_t *h) {
  sign_in *j = h->data;
  tally_password_wipe(j, sizeof *j);
  free(j);
}

/* Answers and frees the job. */
static void answer(sign_in *j) {
  j->done(&j->res, j->arg);
  tally_password_wipe(&j->res, sizeof j->res);
  uv_close((uv_handle_t *)&j->delay, job_free);
}

static void on_delay(uv_timer_t *t) { answer(t->data); }

/* A refusal: counted against the address when fail is set, and answered
 * after the delay. */
__attribute__((format(printf, 4, 5))) static void
refuse(sign_in *j, Tally__ErrorCode code, int fail, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(j->res.message, sizeof j->res.message, fmt, ap);
  va_end(ap);
  j->res.code = code;
  j->res.account = 0;
  if (fail && j->svc.guard)
    tally_guard_fail(j->svc.guard, j->peer, (int64_t)time(NULL));
  if (uv_timer_start(&j->delay, on_delay, TALLY_GUARD_DELAY_MS, 0) != 0)
    answer(j);
}

/* The account signed in: its session opens. */
static void open_session(sign_in *j, tally_account *acc) {
  int64_t now = (int64_t)time(NULL);
  if (j->svc.sessions == NULL ||
      tally_sessions_open(j->svc.sessions, acc->id, now, j->res.cookie,
                          j->res.session_sha256, &j->res.expires) != 0) {
    refuse(j, TALLY__ERROR_CODE__ERROR_INTERNAL, 0,
           "no session could be opened; try again (无法登录，请重试)");
    return;
  }
  tally_log("signed in with a password from %s as account %llu (%s, %s%s%s)",
            j->peer, (unsigned long long)acc->id, acc->name,
            tally_role_name(acc->role), acc->unit >= 0 ? " for " : "",
            acc->unit >= 0 ? acc->unit_code : "");
  if (acc->last_used != now) {
    acc->last_used = now;
    acc->touched = 1;
  }
  j->res.account = acc->id;
  answer(j);
}

/* The account the job checked, if it is still as it was: active, with
 * the same hash, and no change of it on its way to the store. */
static tally_account *still(sign_in *j, const char *hash) {
  tally_account *acc = tally_accounts_find(j->svc.accounts, j->account);
  if (acc == NULL || acc->revoked || acc->change_out ||
      strcmp(acc->password_hash, hash) != 0)
    return NULL;
  return acc;
}

static void written(tally_write *w, int code) {
  sign_in *j = (sign_in *)((char *)w - offsetof(sign_in, write));
  tally_account *acc = tally_accounts_find(j->svc.accounts, j->account);
  if (acc)
    acc->change_out = 0;
  if (code != 0 || tally_accounts_put(j->svc.accounts, &j->stored) != 0 ||
      (acc = tally_accounts_find(j->svc.accounts, j->account)) == NULL) {
    tally_log_err("password of account %llu not changed: the store failed",
              (unsigned long long)j->account);
    refuse(j, TALLY__ERROR_CODE__ERROR_STORE, 0,
           "the new password could not be stored; nothing was changed "
           "(新密码未能保存，请重试)");
    return;
  }
  tally_log("account %llu changed its password, from %s",
            (unsigned long long)j->account, j->peer);
  if (j->svc.sessions) /* sessions of the old password end */
    tally_sessions_end_account(j->svc.sessions, j->account);
  open_session(j, acc);
}

static int apply(tally_write *w, tally_store_txn *t) {
  sign_in *j = (sign_in *)((char *)w - offsetof(sign_in, write));
  return tally_store_txn_account_update(
      t, &j->stored,
      j->changed.must_change ? "first password (to be changed)"
                             : "password set",
      "password changed by its owner", &j->who);
}

/* In the pool: the password checked, the new one hashed. */
static void check(uv_work_t *w) {
  sign_in *j = w->data;
  j->ok = tally_password_check(j->account ? j->hash : "", j->password) == 0;
  tally_password_wipe(j->password, sizeof j->password);
  if (j->ok && *j->new_password)
    j->hashed = tally_password_hash(j->new_password, j->changed.password_hash);
  tally_password_wipe(j->new_password, sizeof j->new_password);
}

/* On the loop: what the check found. */
static void checked(uv_work_t *w, int status) {
  sign_in *j = w->data;
  (void)status;
  if (!j->ok) {
    tally_log_warn("password sign-in refused from %s: wrong name or password",
              j->peer);
    refuse(j, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED, 1,
           "wrong name or password (用户名或密码错误)");
    return;
  }
  tally_account *acc = still(j, j->hash);
  if (acc == NULL) {
    refuse(j, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED, 0,
           "the account changed while signing in; sign in again "
           "(账户刚被修改，请重新登录)");
    return;
  }
  if (*j->changed.password_hash == 0 && j->hashed == 0) {
    if (acc->must_change) {
      j->res.must_change = 1;
      j->res.account = acc->id;
      answer(j); /* the right password: told at once */
      return;
    }
    open_session(j, acc);
    return;
  }
  if (j->hashed != 0) {
    refuse(j, TALLY__ERROR_CODE__ERROR_INTERNAL, 0,
           "the new password could not be hashed; try again");
    return;
  }
  /* The new password, stored by the writer with its audit entry. */
  char hash[TALLY_PASSWORD_HASH_MAX];
  memcpy(hash, j->changed.password_hash, sizeof hash);
  j->changed = *acc;
  memcpy(j->changed.password_hash, hash, sizeof hash);
  tally_password_wipe(hash, sizeof hash);
  j->changed.password_set = (int64_t)time(NULL);
  j->changed.must_change = 0;
  tally_account_to_stored(&j->changed, &j->a, &j->stored);
  j->who = (tally_store_actor){acc->id, j->changed.name, j->peer,
                               j->changed.password_set};
  acc->change_out = TALLY_ACCOUNT_PASSWORD;
  j->write.apply = apply;
  j->write.done = written;
  if (j->svc.writer)
    tally_writer_queue(j->svc.writer, &j->write);
  else
    written(&j->write, tally_writer_write_now(j->svc.store, &j->write));
}

int tally_sign_in_start(const tally_services *svc, const char *peer,
                        Tally__SignInRequest *q,
                        void (*done)(const tally_sign_in_result *res,
                                     void *arg),
                        void *arg) {
  sign_in *j = calloc(1, sizeof *j);
  int64_t now = (int64_t)time(NULL);
  int twice = 0;
  if (j == NULL) {
    tally_password_wipe(q->password, strlen(q->password));
    tally_password_wipe(q->new_password, strlen(q->new_password));
    return -ENOMEM;
  }
  j->svc = *svc;
  j->done = done;
  j->arg = arg;
  j->work.data = j;
  j->delay.data = j;
  snprintf(j->peer, sizeof j->peer, "%s", peer);
  snprintf(j->name, sizeof j->name, "%s", q->name);
  snprintf(j->password, sizeof j->password, "%s", q->password);
  snprintf(j->new_password, sizeof j->new_password, "%s", q->new_password);
  int too_long = strlen(q->password) > TALLY_PASSWORD_MAX;
  tally_password_wipe(q->password, strlen(q->password));
  tally_password_wipe(q->new_password, strlen(q->new_password));
  uv_timer_init(svc->loop, &j->delay); /* never fails on a live loop */

  int64_t wait = svc->guard ? tally_guard_wait(svc->guard, peer, now) : 0;
  const char *why = *j->new_password ? tally_password_refusal(j->new_password)
                                     : NULL;
  tally_account *acc = tally_accounts_named(svc->accounts, j->name, &twice);
  if (wait > 0) {
    tally_log_warn("password sign-in refused from %s: too many failed sign-ins",
              peer);
    refuse(j, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED, 0,
           "too many failed sign-ins from this address; try again in %lld s "
           "(登录失败次数过多，请%lld秒后再试)",
           (long long)wait, (long long)wait);
    return 0;
  }
  if (why) {
    refuse(j, TALLY__ERROR_CODE__ERROR_BAD_REQUEST, 0,
           "the new password: %s", why);
    return 0;
  }
  if (twice) {
    tally_log("password sign-in refused from %s: two accounts are named "
              "alike", peer);
    refuse(j, TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED, 0,
           "more than one account has this name; ask the central office "
           "(多个账户同名，请联系区统计部门)");
    return 0;
  }
  if (acc && acc->role == TALLY__ROLE__ROLE_REPORTER && acc->unit < 0)
    acc = NULL; /* its unit is gone: it cannot sign in */
  if (acc && *acc->password_hash && !too_long) {
    j->account = acc->id;
    memcpy(j->hash, acc->password_hash, sizeof j->hash);
  }
  if (uv_queue_work(svc->loop, &j->work, check, checked) != 0) {
    refuse(j, TALLY__ERROR_CODE__ERROR_INTERNAL, 0, "the server is busy");
    return 0;
  }
  return 0;
}
