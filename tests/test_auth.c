/* test_auth.c: issue #4 against the real tallyd and the real tally:
 * who may do what, revoked and rotated tokens, tokens kept out of logs
 * and out of the store, slowed-down guessing, the audit trail, tallyd
 * init and tally login. */
#include "client.h"
#include "fixture.h"
#include "wire.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static tally_test_server srv;
static char tmp[256]; /* input files, spool, config */
static char backups[256]; /* the server's --backup-dir */

/* The suite's catalog: the district's towns in two groups, north and
 * south, under changqing, so that a group's reporter is a district's
 * at the city (tally forward's account). */
static void setup(void) {
  char spool[300], catalog[300];
  tally_test_tmpdir(backups, sizeof backups);
  tally_test_tmpdir(tmp, sizeof tmp);
  snprintf(catalog, sizeof catalog, "%s/catalog.json", tmp);
  tally_test_catalog_tree(
      catalog, "changqing",
      (const char *const[]){"north=wenchang,pingan,guyunhu,wufengshan,xiaoli",
                            "south=guide,wande,zhangxia,mashan,shuangquan",
                            NULL});
  tally_test_server_start(&srv, (const char *const[]){"--backup-dir", backups,
                                                      "--catalog", catalog,
                                                      NULL});
  snprintf(spool, sizeof spool, "%s/spool", tmp);
  setenv("TALLY_SERVER", srv.address, 1);
  setenv("TALLY_SPOOL", spool, 1);
}

static void teardown(void) {
  tally_test_cli_stop(&srv, tmp);
  tally_test_rmtree(backups);
}

TestSuite(auth, .init = setup, .fini = teardown, .timeout = 120);

#define UNAUTH TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED
#define DENIED TALLY__ERROR_CODE__ERROR_PERMISSION_DENIED
#define BAD TALLY__ERROR_CODE__ERROR_BAD_REQUEST

static const char *file_with(const char *name, const char *text) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", tmp, name);
  tally_test_write_file(path, text);
  return path;
}

/* The account id in a token "tally_<id>_<hex>". */
static unsigned long long id_of(const char *token) {
  unsigned long long id = 0;
  cr_assert_eq(sscanf(token, "tally_%llu_", &id), 1, "not a token: %s", token);
  return id;
}

/* The 64-hex secret part of a token. */
static const char *secret_of(const char *token) {
  const char *p = strrchr(token, '_');
  cr_assert(p && strlen(p + 1) == 64, "not a token: %s", token);
  return p + 1;
}

/* The error code of a reply, 0 when it is not an error. */
static int code_of(const Tally__Envelope *r) {
  return r->body_case == TALLY__ENVELOPE__BODY_ERROR ? (int)r->error->code : 0;
}

static const char *message_of(const Tally__Envelope *r) {
  return r->body_case == TALLY__ENVELOPE__BODY_ERROR ? r->error->message : "";
}

/* Sends req on a new connection signed in with token (NULL: none). */
static Tally__Envelope *call_as(const char *token, Tally__Envelope *req) {
  tally_client *c = tally_test_connect(&srv, token);
  Tally__Envelope *reply = NULL;
  char err[256];
  int rc = tally_client_call(c, req, &reply, err, sizeof err);
  tally_client_close(c);
  cr_assert_eq(rc, 0, "call: %s", err);
  return reply;
}

/* The same, and the request must succeed. */
static Tally__Envelope *call_ok(const char *token, Tally__Envelope *req) {
  Tally__Envelope *r = call_as(token, req);
  cr_assert_eq(code_of(r), 0, "refused: %s", message_of(r));
  return r;
}

static Tally__Envelope *whoami_as(const char *token) {
  Tally__WhoamiRequest q = TALLY__WHOAMI_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  req.body_case = TALLY__ENVELOPE__BODY_WHOAMI;
  req.whoami = &q;
  return call_as(token, &req);
}

static Tally__Envelope *values_of(const char *unit) {
  Tally__ValuesRequest q = TALLY__VALUES_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  q.unit = (char *)unit;
  q.period = "2022";
  req.body_case = TALLY__ENVELOPE__BODY_VALUES;
  req.values = &q;
  return call_ok(srv.admin, &req);
}

static size_t stored_count(const char *unit) {
  Tally__Envelope *r = values_of(unit);
  size_t n = r->values_reply->n_values;
  tally_wire_free(r);
  return n;
}

static Tally__Envelope *account_list(void) {
  Tally__AccountListRequest q = TALLY__ACCOUNT_LIST_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  req.body_case = TALLY__ENVELOPE__BODY_ACCOUNT_LIST;
  req.account_list = &q;
  return call_ok(srv.admin, &req);
}

/* A CLI run's standard output as JSON (the run must succeed). */
static json_t *run_json(const char *const *args) {
  char *out = NULL, *err = NULL;
  int rc = tally_test_run(args, NULL, &out, &err);
  cr_assert_eq(rc, 0, "tally %s: exit %d: %s", args[0], rc, err);
  json_error_t je;
  json_t *doc = json_loads(out, 0, &je);
  cr_assert_not_null(doc, "%s: %s", je.text, out);
  free(out);
  free(err);
  return doc;
}
#define RUN_JSON(...) run_json((const char *const[]){__VA_ARGS__, NULL})

/* JSON as text for a message (cut at 2000 bytes). */
static const char *shown(const json_t *j) {
  static char buf[2001];
  size_t n = j ? json_dumpb(j, buf, sizeof buf - 1, 0) : 0;
  if (j == NULL || n == 0 || n >= sizeof buf - 1)
    return j ? "(too long to show)" : "(none)";
  buf[n] = 0;
  return buf;
}

/* ---- 1. The authorisation matrix ---- */

enum op {
  OP_SUBMIT, OP_VALUES, OP_HISTORY, OP_REPORT, OP_EXPLAIN, OP_COMPLETENESS,
  OP_AUDIT, OP_CATALOG, OP_TARGET_LIST, OP_TARGET_SET, OP_BACKUP, OP_VERIFY,
  OP_ACCOUNT_ADD, OP_ACCOUNT_LIST, OP_ACCOUNT_REVOKE, OP_ACCOUNT_ROTATE,
  OP_WHOAMI, OP_VALIDATE, OP_REVIEW, OP_REVIEW_LIST, OP_STATUS,
  OP_ACCOUNT_PASSWORD, OP_SIGN_IN, OP_IMPORT, OP_ADMIN_STATUS, OP_GUARD_CLEAR,
  OP_TREND, OP_MATRIX, OP_REPORT_FILE,
};
static const char *const op_names[] = {
    "submit", "values", "history", "report", "explain", "completeness",
    "audit", "catalog", "target list", "target set", "backup", "admin verify",
    "account add", "account list", "account revoke", "account rotate (other's)",
    "whoami", "validate", "review", "review list", "status",
    "account password", "sign in with a password (web only)", "import",
    "admin status", "admin unblock", "trend", "matrix", "report file"};

/* OWN: wenchang, in north; OTHER: guide, in south; DISTRICT: the root
 * (changqing), or the whole tree for a read of a scope; INNER: north,
 * the district of wenchang at the city. */
enum scope { ANY, OWN, OTHER, DISTRICT, INNER };
static const char *const scope_names[] = {"", "own unit", "other unit",
                                          "district", "north"};

enum role { R_NONE, R_REPORTER, R_DISTRICT, R_ANALYST, R_ADMIN };
static const char *const role_names[] = {
    "no token", "reporter for wenchang", "reporter for north (a district)",
    "analyst", "admin"};

#define OK 0

/* Expected outcome per role: no token, reporter for wenchang, reporter
 * for north (a district at the city: wenchang is within it, guide not),
 * analyst, admin. */
static const struct {
  enum op op;
  enum scope scope;
  int want[5];
} matrix[] = {
    /* Only a unit's own reporter submits its figures, or at the city its
     * district's (north: for wenchang, not for itself). */
    {OP_SUBMIT, OWN, {UNAUTH, OK, OK, DENIED, DENIED}},
    {OP_SUBMIT, OTHER, {UNAUTH, DENIED, DENIED, DENIED, DENIED}},
    {OP_SUBMIT, DISTRICT, {UNAUTH, DENIED, DENIED, DENIED, DENIED}},
    {OP_SUBMIT, INNER, {UNAUTH, DENIED, DENIED, DENIED, DENIED}},
    /* A reporter reads its own unit (a district's: it and the units
     * within it); analysts and admins read all. */
    {OP_VALUES, OWN, {UNAUTH, OK, OK, OK, OK}},
    {OP_VALUES, OTHER, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_VALUES, DISTRICT, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_VALUES, INNER, {UNAUTH, DENIED, OK, OK, OK}},
    {OP_HISTORY, OWN, {UNAUTH, OK, OK, OK, OK}},
    {OP_HISTORY, OTHER, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_HISTORY, DISTRICT, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_HISTORY, INNER, {UNAUTH, DENIED, OK, OK, OK}},
    {OP_REPORT, OWN, {UNAUTH, OK, OK, OK, OK}},
    {OP_REPORT, OTHER, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_REPORT, DISTRICT, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_REPORT, INNER, {UNAUTH, DENIED, OK, OK, OK}},
    {OP_EXPLAIN, OWN, {UNAUTH, OK, OK, OK, OK}},
    {OP_EXPLAIN, OTHER, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_EXPLAIN, DISTRICT, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_EXPLAIN, INNER, {UNAUTH, DENIED, OK, OK, OK}},
    {OP_COMPLETENESS, OWN, {UNAUTH, OK, OK, OK, OK}},
    {OP_COMPLETENESS, OTHER, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_COMPLETENESS, DISTRICT, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_COMPLETENESS, INNER, {UNAUTH, DENIED, OK, OK, OK}},
    {OP_AUDIT, OWN, {UNAUTH, OK, OK, OK, OK}},
    {OP_AUDIT, OTHER, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_AUDIT, DISTRICT, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_AUDIT, INNER, {UNAUTH, DENIED, OK, OK, OK}},
    {OP_CATALOG, ANY, {UNAUTH, OK, OK, OK, OK}},
    {OP_TARGET_LIST, ANY, {UNAUTH, OK, OK, OK, OK}},
    {OP_TARGET_SET, ANY, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_BACKUP, ANY, {UNAUTH, DENIED, DENIED, DENIED, OK}},
    {OP_VERIFY, ANY, {UNAUTH, DENIED, DENIED, DENIED, OK}},
    {OP_ACCOUNT_ADD, ANY, {UNAUTH, DENIED, DENIED, DENIED, OK}},
    {OP_ACCOUNT_LIST, ANY, {UNAUTH, DENIED, DENIED, DENIED, OK}},
    {OP_ACCOUNT_REVOKE, ANY, {UNAUTH, DENIED, DENIED, DENIED, OK}},
    {OP_ACCOUNT_ROTATE, ANY, {UNAUTH, DENIED, DENIED, DENIED, OK}},
    {OP_WHOAMI, ANY, {UNAUTH, OK, OK, OK, OK}},
    /* A reporter validates its own unit's figures. */
    {OP_VALIDATE, OWN, {UNAUTH, OK, OK, OK, OK}},
    {OP_VALIDATE, OTHER, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_VALIDATE, DISTRICT, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_VALIDATE, INNER, {UNAUTH, DENIED, OK, OK, OK}},
    /* The central office reviews (wenchang's 2022, submitted above by
     * its reporter: the analyst returns it, the admin approves it); a
     * unit's reporter sees its own status. */
    {OP_REVIEW, ANY, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_REVIEW_LIST, ANY, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_STATUS, OWN, {UNAUTH, OK, OK, OK, OK}},
    {OP_STATUS, OTHER, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_STATUS, INNER, {UNAUTH, DENIED, OK, OK, OK}},
    /* Only an admin sets a first password. */
    {OP_ACCOUNT_PASSWORD, ANY, {UNAUTH, DENIED, DENIED, DENIED, OK}},
    /* A password signs in to the web pages (POST /session) alone. */
    {OP_SIGN_IN, ANY, {UNAUTH, BAD, BAD, BAD, BAD}},
    /* Analysts and admins import any unit's figures (2021's here; the
     * analyst's and admin's, sent with the same id, answered from the
     * district's record); a district's reporter those of the units
     * within it (what it may read: an import's replies show stored
     * figures); any other reporter none, not even its own. North's own
     * report is no reporting unit's: refused to the district's reporter
     * by its access, to analysts inside the import's reply. */
    {OP_IMPORT, OWN, {UNAUTH, DENIED, OK, OK, OK}},
    {OP_IMPORT, OTHER, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_IMPORT, DISTRICT, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_IMPORT, INNER, {UNAUTH, DENIED, DENIED, OK, OK}},
    /* The server's running state is its admin's. */
    {OP_ADMIN_STATUS, ANY, {UNAUTH, DENIED, DENIED, DENIED, OK}},
    /* Lifting a lockout is an admin's. */
    {OP_GUARD_CLEAR, ANY, {UNAUTH, DENIED, DENIED, DENIED, OK}},
    /* The central office's views are read as a report is: a unit's
     * trend by its reporter too; a matrix is of the units below a
     * unit, so a town's own is no matrix (refused as such after its
     * access is checked). */
    {OP_TREND, OWN, {UNAUTH, OK, OK, OK, OK}},
    {OP_TREND, OTHER, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_TREND, DISTRICT, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_TREND, INNER, {UNAUTH, DENIED, OK, OK, OK}},
    {OP_MATRIX, OWN, {UNAUTH, BAD, BAD, BAD, BAD}},
    {OP_MATRIX, OTHER, {UNAUTH, DENIED, DENIED, BAD, BAD}},
    {OP_MATRIX, DISTRICT, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_MATRIX, INNER, {UNAUTH, DENIED, OK, OK, OK}},
    /* The annual report as a file is the central office's, as the
     * review queue is: a reporter's own unit's too is refused, and a
     * district's reporter's of its district. */
    {OP_REPORT_FILE, OWN, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_REPORT_FILE, INNER, {UNAUTH, DENIED, DENIED, OK, OK}},
    {OP_REPORT_FILE, DISTRICT, {UNAUTH, DENIED, DENIED, OK, OK}},
};

static int building_for; /* the role a request is built for */

/* One request and the messages it points to. */
struct request {
  Tally__Envelope env;
  Tally__SubmitRequest submit;
  Tally__Value value, *values[1];
  Tally__ValuesRequest values_q;
  Tally__HistoryRequest history;
  Tally__ReportRequest report;
  Tally__ExplainRequest explain;
  Tally__CompletenessRequest completeness;
  Tally__AuditRequest audit;
  Tally__CatalogRequest catalog;
  Tally__TargetListRequest target_list;
  Tally__TargetSetRequest target_set;
  Tally__Target target;
  Tally__BackupRequest backup;
  Tally__VerifyRequest verify;
  Tally__AdminStatusRequest admin_status;
  Tally__GuardClearRequest guard_clear;
  Tally__AccountAddRequest add;
  Tally__AccountSpec spec, *specs[1];
  Tally__AccountListRequest list;
  Tally__AccountRevokeRequest revoke;
  Tally__AccountRotateRequest rotate;
  Tally__WhoamiRequest whoami;
  Tally__ValidateRequest validate;
  Tally__ReviewRequest review;
  Tally__ReviewListRequest review_list;
  Tally__StatusRequest status;
  Tally__AccountPasswordRequest password;
  Tally__SignInRequest sign_in;
  Tally__ImportRequest import;
  Tally__SubmitRequest *reports[1];
  Tally__TrendRequest trend;
  Tally__MatrixRequest matrix;
  Tally__ReportFileRequest report_file;
  char secret[64];
  char name[64];
  char path[320];
};

static uint64_t revoke_victim, rotate_victim, password_victim;
static int made; /* names backups and added accounts apart */

/* The unit a scope names: submit, values and history need a unit, so
 * the district is its office's own (changqing); reads of a scope and
 * audit use none. */
static const char *unit_for(enum op op, enum scope sc) {
  switch (sc) {
  case OWN: return "wenchang";
  case OTHER: return "guide";
  case INNER: return "north";
  case DISTRICT:
    return op == OP_SUBMIT || op == OP_VALUES || op == OP_HISTORY ||
                   op == OP_IMPORT
               ? "changqing"
               : "";
  default: return "";
  }
}

static void build(struct request *q, enum op op, enum scope sc) {
  char *unit = (char *)unit_for(op, sc);
  Tally__Envelope *e = &q->env;
  memset(q, 0, sizeof *q);
  tally__envelope__init(e);
  switch (op) {
  case OP_SUBMIT:
    tally__submit_request__init(&q->submit);
    tally__value__init(&q->value);
    q->value.element = "live_births";
    q->value.value = 100;
    q->values[0] = &q->value;
    q->submit.unit = unit;
    q->submit.period = "2022";
    q->submit.values = q->values;
    q->submit.n_values = 1;
    e->body_case = TALLY__ENVELOPE__BODY_SUBMIT;
    e->submit = &q->submit;
    break;
  case OP_VALUES:
    tally__values_request__init(&q->values_q);
    q->values_q.unit = unit;
    q->values_q.period = "2022";
    e->body_case = TALLY__ENVELOPE__BODY_VALUES;
    e->values = &q->values_q;
    break;
  case OP_HISTORY:
    tally__history_request__init(&q->history);
    q->history.unit = unit;
    q->history.period = "2022";
    e->body_case = TALLY__ENVELOPE__BODY_HISTORY;
    e->history = &q->history;
    break;
  case OP_REPORT:
    tally__report_request__init(&q->report);
    q->report.unit = unit;
    q->report.period = "2022";
    e->body_case = TALLY__ENVELOPE__BODY_REPORT;
    e->report = &q->report;
    break;
  case OP_EXPLAIN:
    tally__explain_request__init(&q->explain);
    q->explain.indicator = "P14";
    q->explain.unit = unit;
    q->explain.period = "2022";
    e->body_case = TALLY__ENVELOPE__BODY_EXPLAIN;
    e->explain = &q->explain;
    break;
  case OP_COMPLETENESS:
    tally__completeness_request__init(&q->completeness);
    q->completeness.unit = unit;
    q->completeness.period = "2022";
    e->body_case = TALLY__ENVELOPE__BODY_COMPLETENESS;
    e->completeness = &q->completeness;
    break;
  case OP_AUDIT: /* a unit's trail; for the district, the whole trail */
    tally__audit_request__init(&q->audit);
    q->audit.unit = unit;
    q->audit.period = *unit ? "2022" : "";
    e->body_case = TALLY__ENVELOPE__BODY_AUDIT;
    e->audit = &q->audit;
    break;
  case OP_CATALOG:
    tally__catalog_request__init(&q->catalog);
    e->body_case = TALLY__ENVELOPE__BODY_CATALOG;
    e->catalog = &q->catalog;
    break;
  case OP_TARGET_LIST:
    tally__target_list_request__init(&q->target_list);
    e->body_case = TALLY__ENVELOPE__BODY_TARGET_LIST;
    e->target_list = &q->target_list;
    break;
  case OP_TARGET_SET:
    tally__target_set_request__init(&q->target_set);
    tally__target__init(&q->target);
    q->target.indicator = "P14";
    q->target.year = 2025;
    q->target.op = ">=";
    q->target.value = 13.5;
    q->target_set.target = &q->target;
    e->body_case = TALLY__ENVELOPE__BODY_TARGET_SET;
    e->target_set = &q->target_set;
    break;
  case OP_BACKUP:
    tally__backup_request__init(&q->backup);
    snprintf(q->path, sizeof q->path, "backup-%d", made++);
    q->backup.path = q->path;
    e->body_case = TALLY__ENVELOPE__BODY_BACKUP;
    e->backup = &q->backup;
    break;
  case OP_VERIFY:
    tally__verify_request__init(&q->verify);
    e->body_case = TALLY__ENVELOPE__BODY_VERIFY;
    e->verify = &q->verify;
    break;
  case OP_GUARD_CLEAR:
    tally__guard_clear_request__init(&q->guard_clear);
    q->guard_clear.address = "192.0.2.1";
    e->body_case = TALLY__ENVELOPE__BODY_GUARD_CLEAR;
    e->guard_clear = &q->guard_clear;
    break;
  case OP_ADMIN_STATUS:
    tally__admin_status_request__init(&q->admin_status);
    e->body_case = TALLY__ENVELOPE__BODY_ADMIN_STATUS;
    e->admin_status = &q->admin_status;
    break;
  case OP_ACCOUNT_ADD:
    tally__account_add_request__init(&q->add);
    tally__account_spec__init(&q->spec);
    snprintf(q->name, sizeof q->name, "matrix %d", made++);
    q->spec.name = q->name;
    q->spec.role = TALLY__ROLE__ROLE_ANALYST;
    q->specs[0] = &q->spec;
    q->add.accounts = q->specs;
    q->add.n_accounts = 1;
    e->body_case = TALLY__ENVELOPE__BODY_ACCOUNT_ADD;
    e->account_add = &q->add;
    break;
  case OP_ACCOUNT_LIST:
    tally__account_list_request__init(&q->list);
    e->body_case = TALLY__ENVELOPE__BODY_ACCOUNT_LIST;
    e->account_list = &q->list;
    break;
  case OP_ACCOUNT_REVOKE:
    tally__account_revoke_request__init(&q->revoke);
    q->revoke.id = revoke_victim;
    e->body_case = TALLY__ENVELOPE__BODY_ACCOUNT_REVOKE;
    e->account_revoke = &q->revoke;
    break;
  case OP_ACCOUNT_ROTATE:
    tally__account_rotate_request__init(&q->rotate);
    q->rotate.id = rotate_victim;
    e->body_case = TALLY__ENVELOPE__BODY_ACCOUNT_ROTATE;
    e->account_rotate = &q->rotate;
    break;
  case OP_WHOAMI:
    tally__whoami_request__init(&q->whoami);
    e->body_case = TALLY__ENVELOPE__BODY_WHOAMI;
    e->whoami = &q->whoami;
    break;
  case OP_REVIEW:
    tally__review_request__init(&q->review);
    q->review.unit = "wenchang";
    q->review.period = "2022";
    q->review.action = building_for == R_ADMIN ? "approve" : "return";
    q->review.reason = "请核实";
    if (building_for == R_ADMIN) { /* the revision reviewed */
      Tally__Envelope *v = values_of("wenchang");
      q->review.revision = v->values_reply->revision;
      tally_wire_free(v);
    }
    e->body_case = TALLY__ENVELOPE__BODY_REVIEW;
    e->review = &q->review;
    break;
  case OP_REVIEW_LIST:
    tally__review_list_request__init(&q->review_list);
    q->review_list.period = "2022";
    e->body_case = TALLY__ENVELOPE__BODY_REVIEW_LIST;
    e->review_list = &q->review_list;
    break;
  case OP_STATUS:
    tally__status_request__init(&q->status);
    q->status.unit = unit;
    e->body_case = TALLY__ENVELOPE__BODY_STATUS;
    e->status = &q->status;
    break;
  case OP_ACCOUNT_PASSWORD:
    tally__account_password_request__init(&q->password);
    q->password.id = password_victim;
    snprintf(q->secret, sizeof q->secret, "first-password-%d", made++);
    q->password.password = q->secret;
    e->body_case = TALLY__ENVELOPE__BODY_ACCOUNT_PASSWORD;
    e->account_password = &q->password;
    break;
  case OP_SIGN_IN:
    tally__sign_in_request__init(&q->sign_in);
    snprintf(q->secret, sizeof q->secret, "first-password-x");
    q->sign_in.name = "administrator";
    q->sign_in.password = q->secret;
    e->body_case = TALLY__ENVELOPE__BODY_SIGN_IN;
    e->sign_in = &q->sign_in;
    break;
  case OP_IMPORT: /* 2021: the matrix's 2022 state is left as it was */
    tally__import_request__init(&q->import);
    tally__submit_request__init(&q->submit);
    tally__value__init(&q->value);
    q->value.element = sc == DISTRICT ? "budget_revenue" : "live_births";
    q->value.value = 100;
    q->values[0] = &q->value;
    q->submit.unit = unit;
    q->submit.period = "2021";
    q->submit.values = q->values;
    q->submit.n_values = 1;
    snprintf(q->name, sizeof q->name, "matrix-import-%s", unit);
    q->submit.submission_id = q->name;
    q->reports[0] = &q->submit;
    q->import.reports = q->reports;
    q->import.n_reports = 1;
    e->body_case = TALLY__ENVELOPE__BODY_IMPORT_REQUEST;
    e->import_request = &q->import;
    break;
  case OP_TREND:
    tally__trend_request__init(&q->trend);
    q->trend.indicator = "H02";
    q->trend.unit = unit;
    q->trend.from_year = 2020;
    q->trend.to_year = 2022;
    q->trend.units = 1;
    e->body_case = TALLY__ENVELOPE__BODY_TREND;
    e->trend = &q->trend;
    break;
  case OP_MATRIX:
    tally__matrix_request__init(&q->matrix);
    q->matrix.unit = unit;
    q->matrix.period = "2022";
    e->body_case = TALLY__ENVELOPE__BODY_MATRIX;
    e->matrix = &q->matrix;
    break;
  case OP_REPORT_FILE:
    tally__report_request__init(&q->report);
    q->report.unit = unit;
    q->report.period = "2022";
    tally__report_file_request__init(&q->report_file);
    q->report_file.report = &q->report;
    e->body_case = TALLY__ENVELOPE__BODY_REPORT_FILE;
    e->report_file = &q->report_file;
    break;
  case OP_VALIDATE:
    tally__validate_request__init(&q->validate);
    q->validate.unit = unit;
    q->validate.period = "2022";
    e->body_case = TALLY__ENVELOPE__BODY_VALIDATE;
    e->validate = &q->validate;
    break;
  }
}

/* What the server holds, as seen by the admin: a refused request must
 * leave every part of it as it was. */
struct state {
  size_t audit;          /* entries in the whole audit trail */
  uint64_t revision[3];  /* wenchang, guide, changqing 2022 */
  size_t accounts, revoked, entered;
  int64_t rotated;       /* sum of the accounts' rotated times */
  int64_t passwords;     /* sum of their password-set times */
};

static void snapshot(struct state *s) {
  static const char *const units[] = {"wenchang", "guide", "changqing"};
  struct request q;
  Tally__Envelope *r;

  memset(s, 0, sizeof *s);
  build(&q, OP_AUDIT, DISTRICT);
  r = call_ok(srv.admin, &q.env);
  s->audit = r->audit_reply->n_entries;
  tally_wire_free(r);
  for (int i = 0; i < 3; i++) {
    r = values_of(units[i]);
    s->revision[i] = r->values_reply->revision;
    tally_wire_free(r);
  }
  r = account_list();
  s->accounts = r->account_list_reply->n_accounts;
  for (size_t i = 0; i < s->accounts; i++) {
    s->revoked += r->account_list_reply->accounts[i]->revoked_unix != 0;
    s->rotated += r->account_list_reply->accounts[i]->rotated_unix;
    s->passwords += r->account_list_reply->accounts[i]->password_set_unix;
  }
  tally_wire_free(r);
  build(&q, OP_TARGET_LIST, ANY);
  r = call_ok(srv.admin, &q.env);
  for (size_t i = 0; i < r->target_list_reply->n_targets; i++)
    s->entered += r->target_list_reply->targets[i]->entered;
  tally_wire_free(r);
}

static void expect_unchanged(const struct state *a, const struct state *b,
                             const char *what) {
  cr_expect_eq(a->audit, b->audit, "%s: the audit trail grew", what);
  for (int i = 0; i < 3; i++)
    cr_expect_eq(a->revision[i], b->revision[i], "%s: figures were stored",
                 what);
  cr_expect_eq(a->accounts, b->accounts, "%s: an account was added", what);
  cr_expect_eq(a->revoked, b->revoked, "%s: an account was revoked", what);
  cr_expect_eq(a->rotated, b->rotated, "%s: a token was replaced", what);
  cr_expect_eq(a->passwords, b->passwords, "%s: a password was set", what);
  cr_expect_eq(a->entered, b->entered, "%s: a target was entered", what);
}

Test(auth, authorisation_matrix) {
  const char *token[5] = {NULL, tally_test_token(&srv, "reporter", "wenchang"),
                          tally_test_token(&srv, "reporter", "north"),
                          tally_test_token(&srv, "analyst", NULL), srv.admin};
  revoke_victim = id_of(tally_test_token(&srv, "reporter", "pingan"));
  rotate_victim = id_of(tally_test_token(&srv, "reporter", "xiaoli"));
  password_victim = id_of(tally_test_token(&srv, "reporter", "guide"));
  struct state first;
  snapshot(&first);

  /* The admin goes last: its revoke and rotate are the allowed ones. */
  for (int role = R_NONE; role <= R_ADMIN; role++)
    for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++) {
      struct request q;
      struct state before, after;
      char what[160];
      int want = matrix[i].want[role];
      snprintf(what, sizeof what, "%s: %s%s%s", role_names[role],
               op_names[matrix[i].op], matrix[i].scope ? " of " : "",
               scope_names[matrix[i].scope]);
      building_for = role;
      build(&q, matrix[i].op, matrix[i].scope);
      if (want != OK)
        snapshot(&before);
      Tally__Envelope *r = call_as(token[role], &q.env);
      int got = code_of(r);
      cr_expect_eq(got, want, "%s: got code %d, expected %d (%s)", what, got,
                   want, message_of(r));
      if (want == DENIED)
        cr_expect(strstr(message_of(r), "permission denied"), "%s: %s", what,
                  message_of(r));
      if (want != OK) {
        snapshot(&after);
        expect_unchanged(&before, &after, what);
      }
      if (matrix[i].op == OP_BACKUP) {
        struct stat st;
        char file[sizeof backups + sizeof q.path + 1];
        snprintf(file, sizeof file, "%s/%s", backups, q.path);
        cr_expect_eq(stat(file, &st) == 0, want == OK,
                     "%s: the backup %s", what,
                     want == OK ? "is missing" : "was made");
      }
      tally_wire_free(r);
    }

  /* Only the allowed writes changed anything. */
  struct state last;
  snapshot(&last);
  cr_expect_eq(stored_count("guide"), 0, "guide's figures were stored");
  cr_expect_eq(stored_count("changqing"), 0, "the district's were stored");
  cr_expect_eq(stored_count("wenchang"), 1);
  cr_expect_eq(last.revision[0], 1, "wenchang: one submission only");
  /* The analyst's imports were stored, the admin's the same ones again. */
  static const char *const imported[] = {"wenchang", "guide", "changqing"};
  for (int i = 0; i < 3; i++) {
    Tally__ValuesRequest vq = TALLY__VALUES_REQUEST__INIT;
    Tally__Envelope vreq = TALLY__ENVELOPE__INIT;
    vq.unit = (char *)imported[i];
    vq.period = "2021";
    vreq.body_case = TALLY__ENVELOPE__BODY_VALUES;
    vreq.values = &vq;
    Tally__Envelope *v = call_ok(srv.admin, &vreq);
    cr_expect_eq(v->values_reply->revision, 1, "%s 2021: imported once",
                 imported[i]);
    cr_expect_eq(v->values_reply->n_values, 1, "%s 2021", imported[i]);
    tally_wire_free(v);
  }
  cr_expect_eq(last.entered, 1, "P14 2025, entered by analyst and admin");
  cr_expect_eq(last.accounts, first.accounts + 1, "one account added");
  cr_expect_eq(last.revoked, 1, "the victim revoked, by the admin only");
  cr_expect_neq(last.rotated, 0, "the victim's token replaced by the admin");
  cr_expect_neq(last.passwords, first.passwords,
                "the victim's first password set by the admin");
}

/* ---- 2. A reporter submitting for another unit through the CLI ---- */

Test(auth, reporter_submitting_for_another_unit_is_refused_by_the_cli) {
  char spool[320], *out = NULL, *err = NULL;
  snprintf(spool, sizeof spool, "%s/own-spool", tmp);
  const char *f = file_with("guide.csv", "live_births,640\ninfant_deaths,1\n");
  tally_test_sign_in(&srv, "reporter", "wenchang");
  int rc = RUN(&out, &err, "submit", "--unit", "guide", "--period", "2022",
               "--file", f, "--spool", spool);
  cr_assert_eq(rc, 1, "exit %d: %s%s", rc, out, err);
  cr_assert(strstr(err, "permission denied"), "%s", err);
  cr_assert(strstr(err, "guide") && strstr(err, "wenchang"),
            "the message names neither unit: %s", err);
  free(out);
  free(err);
  cr_assert_eq(stored_count("guide"), 0);
  /* Nor is there any trace of it in guide's history. */
  Tally__HistoryRequest hq = TALLY__HISTORY_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  hq.unit = "guide";
  hq.period = "2022";
  req.body_case = TALLY__ENVELOPE__BODY_HISTORY;
  req.history = &hq;
  Tally__Envelope *r = call_ok(srv.admin, &req);
  cr_assert_eq(r->history_reply->n_changes, 0);
  tally_wire_free(r);
}

/* Whether the secret part of token is anywhere in tallyd's writable
 * memory (heap, stack, anonymous maps), read through /proc/PID/mem: the
 * test process started tallyd, so it may read it. */
static int server_memory_holds(pid_t pid, const char *token) {
  const char *secret = strrchr(token, '_') + 1;
  size_t slen = strlen(secret);
  char path[64], line[512];
  snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
  FILE *maps = fopen(path, "r");
  snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
  int mem = open(path, O_RDONLY);
  cr_assert(maps && mem >= 0, "cannot read tallyd's memory: %s",
            strerror(errno));
  int found = 0, regions = 0;
  size_t chunk = 1 << 20;
  char *buf = malloc(chunk + slen);
  while (!found && fgets(line, sizeof line, maps)) {
    unsigned long lo, hi;
    char perms[8], name[256] = "";
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi, perms,
               name) < 3 ||
        perms[0] != 'r' || perms[1] != 'w' ||
        (name[0] && strcmp(name, "[heap]") != 0 &&
         strcmp(name, "[stack]") != 0) ||
        hi - lo > (1ul << 32)) /* reserved, mostly unused: ASan's shadow
                                  and heap, so under ASan this searches
                                  less; the plain build's run counts */
      continue;
    regions++;
    for (unsigned long at = lo; at < hi && !found; at += chunk) {
      size_t n = hi - at < chunk + slen ? hi - at : chunk + slen;
      ssize_t got = pread(mem, buf, n, (off_t)at);
      found = got > 0 && memmem(buf, (size_t)got, secret, slen) != NULL;
    }
  }
  free(buf);
  fclose(maps);
  close(mem);
  cr_assert_gt(regions, 0);
  return found;
}

/* The server keeps a token's hash, never the token: the copies it held
 * while reading a request (the read buffer, the frame, the decoded
 * request) are zeroed before its reply goes out, and those of a new one
 * (the reply) once sent. (Zeroed after the reply, they were found now and
 * then: 6 runs in 40 on a loaded machine.) */
Test(auth, the_server_keeps_no_copy_of_a_token) {
  const char *reporter = tally_test_token(&srv, "reporter", "xiaoli");
  tally_client *c = tally_test_connect_signed_in(&srv, reporter);
  cr_assert_not(server_memory_holds(srv.pid, reporter),
                "tallyd still holds the reporter's token");
  cr_assert_not(server_memory_holds(srv.pid, srv.admin),
                "tallyd still holds the admin's token");
  tally_client_close(c);
}

/* A frame that comes in two reads: the first piece, with the token,
 * stayed in the read buffer when the second was shorter (the buffer was
 * zeroed only as far as the read that completed the frame). */
Test(auth, a_token_split_across_reads_is_not_kept) {
  const char *reporter = tally_test_token(&srv, "reporter", "guide");
  Tally__Auth auth = TALLY__AUTH__INIT;
  Tally__WhoamiRequest q = TALLY__WHOAMI_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  auth.token = (char *)reporter;
  req.id = 1;
  req.auth = &auth;
  req.body_case = TALLY__ENVELOPE__BODY_WHOAMI;
  req.whoami = &q;
  uint8_t *frame;
  size_t len;
  char err[256];
  cr_assert_eq(tally_wire_pack(&req, 0, &frame, &len), 0);
  tally_client *c = tally_test_connect(&srv, NULL);
  cr_assert_eq(tally_client_send_raw(c, frame, len - 1), 0);
  usleep(200 * 1000); /* the server reads the first piece alone */
  cr_assert_eq(tally_client_send_raw(c, frame + len - 1, 1), 0);
  cr_assert_eq(tally_client_read(c, &reply, err, sizeof err), 0, "%s", err);
  cr_assert_eq(reply->body_case, TALLY__ENVELOPE__BODY_WHOAMI_REPLY);
  cr_assert_not(server_memory_holds(srv.pid, reporter),
                "tallyd still holds the token of a frame read in two pieces");
  tally_wire_free(reply);
  free(frame);
  tally_client_close(c);
}

/* A submission this account may not send stays in the spool without
 * failing the account's own later submissions; 'pending --drop' sets it
 * aside and 'pending --refused' lists it there. */
Test(auth, a_stuck_spool_entry_is_told_of_and_can_be_dropped) {
  char spool[320], *out = NULL, *err = NULL;
  snprintf(spool, sizeof spool, "%s/stuck-spool", tmp);
  tally_test_sign_in(&srv, "reporter", "wenchang");
  const char *g = file_with("guide.csv", "live_births,640\n");
  cr_assert_eq(RUN(NULL, NULL, "submit", "--unit", "guide", "--period", "2022",
                   "--file", g, "--spool", spool),
               1);
  const char *w = file_with("wenchang.csv", "live_births,812\n");
  int rc = RUN(&out, &err, "submit", "--unit", "wenchang", "--period", "2022",
               "--file", w, "--spool", spool);
  cr_assert_eq(rc, 0, "exit %d: %s%s", rc, out, err);
  cr_assert(strstr(out, "wenchang 2022: 1 value stored"), "%s", out);
  cr_assert(strstr(err, "1 older submission is in the spool for a unit this "
                        "account may not send"),
            "%s", err);
  free(out);
  free(err);

  /* Its id, from pending; then dropped. */
  cr_assert_eq(RUN(&out, NULL, "pending", "--spool", spool, "--format", "json"),
               0);
  json_t *doc = json_loads(out, 0, NULL);
  free(out);
  json_t *list = json_object_get(doc, "pending");
  cr_assert_eq(json_array_size(list), 1);
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0),
                                                     "unit")),
                   "guide");
  char id[64];
  snprintf(id, sizeof id, "%s",
           json_string_value(json_object_get(json_array_get(list, 0), "id")));
  json_decref(doc);
  cr_assert_eq(RUN(NULL, &err, "pending", "--spool", spool, "--drop", "nope"),
               1);
  cr_assert(strstr(err, "no pending submission nope"), "%s", err);
  free(err);
  cr_assert_eq(RUN(&out, NULL, "pending", "--spool", spool, "--drop", id), 0);
  cr_assert(strstr(out, "guide 2022") && strstr(out, "set aside"), "%s", out);
  free(out);

  cr_assert_eq(RUN(&out, NULL, "pending", "--spool", spool), 0);
  cr_assert(strstr(out, "0 submissions pending"), "%s", out);
  cr_assert(strstr(out, "1 more set aside"), "%s", out);
  free(out);
  cr_assert_eq(RUN(&out, NULL, "pending", "--spool", spool, "--refused"), 0);
  cr_assert(strstr(out, "1 submission set aside") && strstr(out, id), "%s",
            out);
  free(out);
  /* Nothing is sent any more: the next submission says nothing of it. */
  rc = RUN(&out, &err, "submit", "--unit", "wenchang", "--period", "2021",
           "--file", w, "--spool", spool);
  cr_assert_eq(rc, 0, "exit %d: %s%s", rc, out, err);
  cr_assert_null(strstr(err, "older submission"), "%s", err);
  free(out);
  free(err);
  cr_assert_eq(stored_count("guide"), 0);
}

/* ---- Sign-ins that must be refused, several at once ---- */

/* A refused sign-in is answered about a second late: several are tried
 * at once, each on its own connection, to keep the tests short. */
struct attempt {
  const char *token;
  double seconds; /* until the reply */
  int code;       /* the reply's error code; -1 = no reply */
  char message[300];
  int closed;     /* the server closed the connection after the reply */
};

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *attempt_run(void *arg) {
  struct attempt *a = arg;
  tally_client_options o = {.address = srv.address, .timeout_ms = 10000,
                            .token = a->token};
  Tally__WhoamiRequest q = TALLY__WHOAMI_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  tally_client *c;
  char err[256];

  a->code = -1;
  req.body_case = TALLY__ENVELOPE__BODY_WHOAMI;
  req.whoami = &q;
  double t0 = now_s();
  if (tally_client_open(&o, &c, err, sizeof err) != 0) {
    snprintf(a->message, sizeof a->message, "%s", err);
    return NULL;
  }
  if (tally_client_call(c, &req, &reply, err, sizeof err) != 0) {
    snprintf(a->message, sizeof a->message, "%s", err);
  } else {
    a->seconds = now_s() - t0;
    a->code = code_of(reply);
    snprintf(a->message, sizeof a->message, "%s", message_of(reply));
    tally_wire_free(reply);
    reply = NULL;
    if (a->code != 0) {
      /* After a refusal the connection is closed: no second answer. */
      a->closed = tally_client_call(c, &req, &reply, err, sizeof err) != 0;
      tally_wire_free(reply);
    }
  }
  tally_client_close(c);
  return NULL;
}

static void attempt_all(struct attempt *a, size_t n) {
  pthread_t t[16];
  cr_assert(n <= 16);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(pthread_create(&t[i], NULL, attempt_run, &a[i]), 0);
  for (size_t i = 0; i < n; i++)
    pthread_join(t[i], NULL);
}

/* A well-formed token of account id whose secret is wrong. */
static void wrong_token(char *buf, size_t n, unsigned long long id, int k) {
  int len = snprintf(buf, n, "tally_%llu_", id);
  for (int i = 0; i < 32; i++)
    len += snprintf(buf + len, n - (size_t)len, "%02x", (i * 37 + k) & 0xff);
}

/* ---- 3. Revoke and rotate ---- */

Test(auth, a_revoked_token_stops_at_once_and_a_rotated_one_is_replaced) {
  const char *victim = tally_test_token(&srv, "reporter", "guyunhu");
  unsigned long long vid = id_of(victim);
  char idtext[24], *out = NULL, *err = NULL;

  /* A connection signed in before the revoke. */
  tally_client *live = tally_test_connect(&srv, victim);
  Tally__WhoamiRequest wq = TALLY__WHOAMI_REQUEST__INIT;
  Tally__Envelope wreq = TALLY__ENVELOPE__INIT, *r = NULL;
  char cerr[256];
  wreq.body_case = TALLY__ENVELOPE__BODY_WHOAMI;
  wreq.whoami = &wq;
  cr_assert_eq(tally_client_call(live, &wreq, &r, cerr, sizeof cerr), 0, "%s",
               cerr);
  cr_assert_eq(code_of(r), 0, "%s", message_of(r));
  cr_assert_eq(r->whoami_reply->account->id, vid);
  tally_wire_free(r);

  snprintf(idtext, sizeof idtext, "%llu", vid);
  int rc = RUN(&out, &err, "account", "revoke", idtext);
  cr_assert_eq(rc, 0, "revoke: %s", err);
  cr_assert(strstr(out, "revoked"), "%s", out);
  free(out);
  free(err);

  /* Its next request is refused, on the same connection. */
  cr_assert_eq(tally_client_call(live, &wreq, &r, cerr, sizeof cerr), 0, "%s",
               cerr);
  cr_expect_eq(code_of(r), UNAUTH, "a live connection went on after the "
               "revoke: code %d %s", code_of(r), message_of(r));
  tally_wire_free(r);
  tally_client_close(live);

  /* The list shows it revoked. */
  json_t *list = RUN_JSON("account", "list", "--format", "json"), *a;
  size_t i;
  int seen = 0;
  json_array_foreach(list, i, a) {
    if ((unsigned long long)json_integer_value(json_object_get(a, "id")) != vid)
      continue;
    seen = 1;
    cr_expect(json_is_false(json_object_get(a, "active")), "still active");
    cr_expect_gt(json_integer_value(json_object_get(a, "revoked_unix")), 0);
  }
  cr_expect(seen, "account %llu is not listed", vid);
  json_decref(list);
  cr_assert_eq(RUN(&out, NULL, "account", "list"), 0);
  char *line = strstr(out, "guyunhu");
  cr_expect(line && strstr(line, "revoked"), "%s", out);
  free(out);

  /* Rotate another account: its old token stops, the new one works. */
  const char *old = tally_test_token(&srv, "reporter", "mashan");
  unsigned long long rid = id_of(old);
  char oldtoken[TALLY_TEST_TOKEN_MAX];
  snprintf(oldtoken, sizeof oldtoken, "%s", old);
  snprintf(idtext, sizeof idtext, "%llu", rid);
  rc = RUN(&out, &err, "account", "rotate", idtext);
  cr_assert_eq(rc, 0, "rotate: %s", err);
  out[strcspn(out, "\n")] = 0;
  cr_assert_eq(id_of(out), rid, "%s", out);
  cr_assert_str_neq(out, oldtoken);
  r = whoami_as(out);
  cr_expect_eq(code_of(r), 0, "the new token: %s", message_of(r));
  if (code_of(r) == 0)
    cr_expect_eq(r->whoami_reply->account->id, rid);
  tally_wire_free(r);
  free(out);
  free(err);

  /* A new connection with the revoked token, and with the replaced one. */
  struct attempt at[2] = {{.token = victim}, {.token = oldtoken}};
  attempt_all(at, 2);
  cr_expect_eq(at[0].code, UNAUTH, "revoked token: %d %s", at[0].code,
               at[0].message);
  cr_expect(strstr(at[0].message, "revoked"), "%s", at[0].message);
  cr_expect_eq(at[1].code, UNAUTH, "replaced token: %d %s", at[1].code,
               at[1].message);

  /* The last admin cannot be revoked; with a second admin it can. */
  snprintf(idtext, sizeof idtext, "%llu", id_of(srv.admin));
  rc = RUN(NULL, &err, "account", "revoke", idtext);
  cr_expect_eq(rc, 1, "the last admin was revoked");
  cr_expect(strstr(err, "last admin"), "%s", err);
  free(err);
  r = whoami_as(srv.admin);
  cr_expect_eq(code_of(r), 0, "the last admin's token: %s", message_of(r));
  tally_wire_free(r);
  const char *admin2 = tally_test_token(&srv, "admin", "");
  cr_assert_eq(RUN(NULL, &err, "account", "revoke", idtext), 0, "%s", err);
  free(err);
  /* Now admin2 is the last one, and may not revoke itself. */
  setenv("TALLY_TOKEN", admin2, 1);
  snprintf(idtext, sizeof idtext, "%llu", id_of(admin2));
  cr_expect_eq(RUN(NULL, &err, "account", "revoke", idtext), 1);
  cr_expect(strstr(err, "last admin"), "%s", err);
  free(err);
}

/* ---- 4. Tokens never in the log ---- */

static void expect_not_in(const char *text, const char *token,
                          const char *where, const char *which) {
  cr_expect_null(strstr(text, token), "%s holds the %s token", where, which);
  cr_expect_null(strstr(text, secret_of(token)),
                 "%s holds the %s token's secret", where, which);
}

Test(auth, tokens_never_appear_in_the_log) {
  char *out = NULL, *err = NULL, added[TALLY_TEST_TOKEN_MAX],
       rotated[TALLY_TEST_TOKEN_MAX], bad[TALLY_TEST_TOKEN_MAX], idtext[24];
  const char *reporter = tally_test_token(&srv, "reporter", "wenchang");

  /* Good sign-ins. */
  Tally__Envelope *r = whoami_as(reporter);
  cr_assert_eq(code_of(r), 0);
  tally_wire_free(r);
  cr_assert_eq(RUN(NULL, NULL, "whoami"), 0);

  /* Account add, then rotate its token, through the CLI. */
  cr_assert_eq(RUN(&out, &err, "account", "add", "--role", "analyst", "--name",
                   "log check"),
               0, "%s", err);
  out[strcspn(out, "\n")] = 0;
  snprintf(added, sizeof added, "%s", out);
  free(out);
  free(err);
  snprintf(idtext, sizeof idtext, "%llu", id_of(added));
  cr_assert_eq(RUN(&out, &err, "account", "rotate", idtext), 0, "%s", err);
  out[strcspn(out, "\n")] = 0;
  snprintf(rotated, sizeof rotated, "%s", out);
  free(out);
  free(err);
  r = whoami_as(rotated);
  cr_assert_eq(code_of(r), 0);
  tally_wire_free(r);

  /* Revoke the reporter; then a bad, a revoked and a replaced token. */
  snprintf(idtext, sizeof idtext, "%llu", id_of(reporter));
  cr_assert_eq(RUN(NULL, NULL, "account", "revoke", idtext), 0);
  wrong_token(bad, sizeof bad, id_of(srv.admin), 1);
  struct attempt at[3] = {{.token = bad}, {.token = reporter}, {.token = added}};
  attempt_all(at, 3);
  for (int i = 0; i < 3; i++)
    cr_assert_eq(at[i].code, UNAUTH, "attempt %d: %d %s", i, at[i].code,
                 at[i].message);

  char *log = tally_test_read_file(srv.log);
  cr_assert_not_null(log);
  /* The log did record these events (else the check below proves
   * nothing). */
  cr_assert(strstr(log, "signed in as account "), "%s", log);
  cr_assert(strstr(log, "token replaced"), "%s", log);
  /* A failed sign-in names the peer's address. */
  cr_expect(strstr(log, "sign-in refused from 127.0.0.1:"), "%s", log);
  expect_not_in(log, srv.admin, "the log", "admin's");
  expect_not_in(log, reporter, "the log", "reporter's (revoked)");
  expect_not_in(log, added, "the log", "added (replaced)");
  expect_not_in(log, rotated, "the log", "new (rotated)");
  expect_not_in(log, bad, "the log", "bad");
  free(log);
}

/* ---- 5. Guessing is slowed down, then blocked ---- */

Test(auth, failed_sign_ins_are_slowed_down_then_blocked) {
  struct attempt at[10];
  char bad[10][TALLY_TEST_TOKEN_MAX];
  /* This server's guard blocks 127.0.0.1 for 300 s: this test's server
   * is its own, stopped in teardown. */
  for (int i = 0; i < 10; i++) {
    wrong_token(bad[i], sizeof bad[i], id_of(srv.admin), i);
    at[i] = (struct attempt){.token = bad[i]};
  }
  /* A good sign-in is answered at once. */
  struct attempt good = {.token = srv.admin};
  attempt_run(&good);
  cr_assert_eq(good.code, 0, "%s", good.message);
  cr_expect_lt(good.seconds, 0.9, "a good sign-in took %.2f s", good.seconds);

  /* Nine failures: each answered late, then the connection closed. */
  attempt_all(at, 9);
  for (int i = 0; i < 9; i++) {
    cr_expect_eq(at[i].code, UNAUTH, "%d: %d %s", i, at[i].code, at[i].message);
    cr_expect(strstr(at[i].message, "the token was refused"), "%s",
              at[i].message);
    cr_expect_geq(at[i].seconds, 0.9, "a refusal came after %.2f s",
                  at[i].seconds);
    cr_expect(at[i].closed, "the connection stayed open after a refusal");
  }
  /* Under the limit, the good token still works. */
  good = (struct attempt){.token = srv.admin};
  attempt_run(&good);
  cr_expect_eq(good.code, 0, "blocked after 9 failures: %s", good.message);

  /* The tenth failure reaches the limit: now even a good token is
   * refused, late, and told to try later. */
  attempt_run(&at[9]);
  cr_expect_eq(at[9].code, UNAUTH);
  good = (struct attempt){.token = srv.admin};
  attempt_run(&good);
  cr_expect_eq(good.code, UNAUTH, "a good token after 10 failures: %d %s",
               good.code, good.message);
  cr_expect(strstr(good.message, "too many failed sign-ins") &&
                strstr(good.message, "try again"),
            "%s", good.message);
  cr_expect_geq(good.seconds, 0.9);
  /* And the CLI shows it. */
  char *err = NULL;
  cr_expect_eq(RUN(NULL, &err, "whoami"), 1);
  cr_expect(strstr(err, "try again"), "%s", err);
  free(err);
}

/* ---- 6. The audit trail ---- */

/* The entries of a JSON audit trail of kind (NULL: any), one by one. */
static json_t *entry(json_t *trail, const char *kind, size_t nth) {
  json_t *e;
  size_t i;
  json_array_foreach(trail, i, e) {
    if (kind && strcmp(json_string_value(json_object_get(e, "kind")), kind))
      continue;
    if (nth-- == 0)
      return e;
  }
  return NULL;
}

/* The change of element in a figures entry, or NULL. */
static json_t *change_of(json_t *e, const char *element) {
  json_t *c;
  size_t i;
  json_array_foreach(json_object_get(e, "changes"), i, c) {
    if (strcmp(json_string_value(json_object_get(c, "element")), element) == 0)
      return c;
  }
  return NULL;
}

static const char *str(json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : "";
}

Test(auth, the_audit_trail_says_who_changed_what_from_where) {
  char path[512], *err = NULL, idtext[24], admintext[24];
  const char *reporter = tally_test_token(&srv, "reporter", "wenchang");
  unsigned long long rid = id_of(reporter), aid = id_of(srv.admin);

  /* The sample figures (live_births 1255), then one corrected. */
  snprintf(path, sizeof path, "%s/deploy/sample/2022/wenchang.csv",
           TALLY_SOURCE_DIR);
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(NULL, &err, "submit", "--unit", "wenchang", "--period",
                   "2022", "--file", path),
               0, "%s", err);
  free(err);
  const char *fix = file_with("fix.csv", "live_births,1260\n");
  cr_assert_eq(RUN(NULL, &err, "submit", "--unit", "wenchang", "--period",
                   "2022", "--file", fix),
               0, "%s", err);
  free(err);

  json_t *trail = RUN_JSON("audit", "--unit", "wenchang", "--period", "2022",
                           "--format", "json");
  cr_assert_eq(json_array_size(trail), 2, "%s", shown(trail));
  for (size_t i = 0; i < 2; i++) {
    json_t *e = json_array_get(trail, i);
    cr_expect_eq(json_integer_value(json_object_get(e, "account")), rid);
    cr_expect(strstr(str(e, "account_name"), "wenchang"), "%s",
              str(e, "account_name"));
    cr_expect_eq(strncmp(str(e, "peer"), "127.0.0.1:", 10), 0, "peer '%s'",
                 str(e, "peer"));
    cr_expect_str_eq(str(e, "kind"), "figures");
  }
  json_t *c = change_of(json_array_get(trail, 0), "live_births");
  cr_assert_not_null(c, "no live_births in the first submission");
  cr_expect(json_is_null(json_object_get(c, "before")));
  cr_expect_eq(json_number_value(json_object_get(c, "after")), 1255);
  json_t *second = json_array_get(trail, 1);
  cr_expect_eq(json_array_size(json_object_get(second, "changes")), 1);
  c = change_of(second, "live_births");
  cr_assert_not_null(c, "no live_births in the correction");
  cr_expect_eq(json_number_value(json_object_get(c, "before")), 1255);
  cr_expect_eq(json_number_value(json_object_get(c, "after")), 1260);
  json_int_t seqs[2];
  for (size_t i = 0; i < 2; i++)
    seqs[i] = json_integer_value(json_object_get(json_array_get(trail, i), "seq"));
  cr_expect(seqs[0] > 0 && seqs[1] > seqs[0], "seq %lld, %lld",
            (long long)seqs[0], (long long)seqs[1]);
  json_decref(trail);

  /* The reporter reads its own account's trail: the two submissions. */
  snprintf(idtext, sizeof idtext, "%llu", rid);
  trail = RUN_JSON("audit", "--account", idtext, "--format", "json");
  cr_expect_eq(json_array_size(trail), 2);
  /* The same entries, under the same numbers, as by unit and period. */
  for (size_t i = 0; i < 2; i++)
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(trail, i),
                                                    "seq")),
                 seqs[i]);
  json_t *mine = entry(trail, "figures", 1);
  c = mine ? change_of(mine, "live_births") : NULL;
  cr_expect(c && json_number_value(json_object_get(c, "before")) == 1255 &&
                json_number_value(json_object_get(c, "after")) == 1260,
            "the account's trail lacks the correction's before and after: "
            "%s", shown(mine));
  json_decref(trail);

  /* But not guide's trail, nor another account's. */
  snprintf(admintext, sizeof admintext, "%llu", aid);
  cr_expect_eq(RUN(NULL, &err, "audit", "--unit", "guide", "--period", "2022"),
               1);
  cr_expect(strstr(err, "permission denied"), "%s", err);
  free(err);
  cr_expect_eq(RUN(NULL, &err, "audit", "--account", admintext), 1);
  cr_expect(strstr(err, "permission denied"), "%s", err);
  free(err);

  /* The admin enters a target twice and adds an account. */
  tally_test_sign_in(&srv, "admin", NULL);
  cr_expect_eq(RUN(NULL, &err, "audit", "--account", "999"), 1);
  cr_expect(strstr(err, "no account 999"), "%s", err);
  free(err);
  cr_assert_eq(RUN(NULL, &err, "target", "set", "P14", "--year", "2025",
                   "--value", ">=13.5"),
               0, "%s", err);
  free(err);
  cr_assert_eq(RUN(NULL, &err, "target", "set", "P14", "--year", "2025",
                   "--value", ">=14"),
               0, "%s", err);
  free(err);
  char *out = NULL;
  cr_assert_eq(RUN(&out, &err, "account", "add", "--role", "reporter", "--unit",
                   "guide", "--name", "Guide statistics office"),
               0, "%s", err);
  unsigned long long added = id_of(out);
  free(out);
  free(err);

  trail = RUN_JSON("audit", "--account", admintext, "--format", "json");
  json_t *e;
  size_t i;
  json_array_foreach(trail, i, e) {
    cr_expect_eq(json_integer_value(json_object_get(e, "account")), aid,
                 "another account's change in the admin's trail");
    cr_expect_eq(strncmp(str(e, "peer"), "127.0.0.1:", 10), 0, "peer '%s'",
                 str(e, "peer"));
  }
  json_t *t1 = entry(trail, "target", 0), *t2 = entry(trail, "target", 1);
  cr_assert(t1 && t2, "the two target changes are missing");
  cr_expect_str_eq(str(t1, "subject"), "P14 2025");
  cr_expect(strstr(str(t1, "before"), "none"), "before: %s", str(t1, "before"));
  cr_expect(strstr(str(t1, "after"), "13.5"), "after: %s", str(t1, "after"));
  cr_expect(strstr(str(t2, "before"), "13.5"), "before: %s", str(t2, "before"));
  cr_expect(strstr(str(t2, "after"), "14") && !strstr(str(t2, "after"), "13.5"),
            "after: %s", str(t2, "after"));
  char subject[40];
  snprintf(subject, sizeof subject, "account %llu", added);
  int found = 0;
  json_array_foreach(trail, i, e) {
    if (strcmp(str(e, "kind"), "account") || strcmp(str(e, "subject"), subject))
      continue;
    found = 1;
    cr_expect(strstr(str(e, "after"), "reporter for guide") &&
                  strstr(str(e, "after"), "Guide statistics office"),
              "after: %s", str(e, "after"));
  }
  cr_expect(found, "no entry for the account add (%s)", subject);
  json_decref(trail);
}

/* ---- 7. The store keeps the hash, never the token ---- */

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "%s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  buf[n] = 0;
  *len = (size_t)n;
  return buf;
}

Test(auth, the_store_holds_the_tokens_hash_only) {
  char *out = NULL, *err = NULL, path[320];
  cr_assert_eq(RUN(&out, &err, "account", "add", "--role", "analyst", "--name",
                   "hash check"),
               0, "%s", err);
  out[strcspn(out, "\n")] = 0;
  const char *hex = secret_of(out);
  uint8_t raw[32], hash[32];
  for (int i = 0; i < 32; i++) {
    unsigned b;
    sscanf(hex + 2 * i, "%2x", &b);
    raw[i] = (uint8_t)b;
  }
  unsigned int hn = 32;
  cr_assert_eq(EVP_Digest(raw, 32, hash, &hn, EVP_sha256(), NULL), 1);

  /* The token works. */
  Tally__Envelope *r = whoami_as(out);
  cr_assert_eq(code_of(r), 0, "%s", message_of(r));
  tally_wire_free(r);

  size_t len;
  snprintf(path, sizeof path, "%s/data.mdb", srv.dir);
  char *data = read_all(path, &len);
  /* The hash is there: this is the file the accounts are in. */
  cr_assert_not_null(memmem(data, len, hash, 32), "no SHA-256 in %s", path);
  cr_expect_null(memmem(data, len, hex, 64), "the hex secret is in %s", path);
  cr_expect_null(memmem(data, len, raw, 32), "the raw secret is in %s", path);
  cr_expect_null(memmem(data, len, out, strlen(out)), "the token is in %s",
                 path);
  free(data);
  free(out);
  free(err);
}

/* ---- 8. tallyd init, and a store without it ---- */

#define TALLYD(out, err, ...)                                                  \
  tally_test_exec("/usr/bin/timeout",                                          \
                  (const char *const[]){"20", TALLYD_PATH, __VA_ARGS__, NULL}, \
                  NULL, out, err)

Test(auth, tallyd_init_once_and_no_serving_without_it) {
  char data[320], empty[320], *out = NULL, *err = NULL;
  snprintf(data, sizeof data, "%s/store", tmp);
  snprintf(empty, sizeof empty, "%s/empty", tmp);
  cr_assert_eq(mkdir(empty, 0700), 0);

  cr_assert_eq(TALLYD(&out, &err, "init", "--data", data), 0, "%s", err);
  char first[TALLY_TEST_TOKEN_MAX];
  snprintf(first, sizeof first, "%s", out);
  first[strcspn(first, "\n")] = 0;
  cr_assert_eq(strncmp(first, "tally_", 6), 0, "%s", out);
  free(out);
  free(err);

  /* Again on the same store: refused, and no token printed. */
  int rc = TALLYD(&out, &err, "init", "--data", data);
  cr_expect_neq(rc, 0, "a second init succeeded");
  cr_expect(strstr(err, "already has accounts"), "%s", err);
  cr_expect_null(strstr(out, "tally_"), "a token was printed: %s", out);
  cr_expect_null(strstr(err, "tally_"), "a token was printed: %s", err);
  free(out);
  free(err);

  /* The store still has its one admin, with the first token. */
  tally_test_server other;
  char keep[400];
  snprintf(keep, sizeof keep, "%s/test-admin.token", data);
  tally_test_write_file(keep, first);
  tally_test_server_start_in(&other, data, NULL);
  tally_client *c = tally_test_connect(&other, first);
  Tally__AccountListRequest lq = TALLY__ACCOUNT_LIST_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *r = NULL;
  char cerr[256];
  req.body_case = TALLY__ENVELOPE__BODY_ACCOUNT_LIST;
  req.account_list = &lq;
  cr_assert_eq(tally_client_call(c, &req, &r, cerr, sizeof cerr), 0, "%s",
               cerr);
  tally_client_close(c);
  cr_expect_eq(code_of(r), 0, "%s", message_of(r));
  if (code_of(r) == 0)
    cr_expect_eq(r->account_list_reply->n_accounts, 1);
  tally_wire_free(r);
  tally_test_server_stop(&other);

  /* An empty directory without init is not served. */
  rc = TALLYD(&out, &err, "--data", empty, "--listen", "127.0.0.1:0");
  cr_expect_neq(rc, 124, "tallyd served a store without an admin");
  cr_expect_neq(rc, 0);
  cr_expect(strstr(err, "tallyd init"), "%s", err);
  cr_expect_null(strstr(out, "listening on"), "%s", out);
  free(out);
  free(err);
}

/* ---- 9. tally login and the config file ---- */

Test(auth, login_saves_a_private_config_that_later_commands_use) {
  char cfg[320], tokfile[320], *out = NULL, *err = NULL;
  const char *analyst = tally_test_token(&srv, "analyst", NULL);
  snprintf(cfg, sizeof cfg, "%s/conf/cfg.json", tmp);
  snprintf(tokfile, sizeof tokfile, "%s/token", tmp);
  tally_test_write_file(tokfile, analyst);
  setenv("TALLY_CONFIG", cfg, 1);

  /* TALLY_TOKEN is the admin's: --token-file wins for the login. */
  int rc = RUN(&out, &err, "login", "--server", srv.address, "--token-file",
               tokfile);
  cr_assert_eq(rc, 0, "login: %s", err);
  cr_expect(strstr(out, cfg), "%s", out);
  free(out);
  free(err);
  struct stat st;
  cr_assert_eq(stat(cfg, &st), 0, "no config file at %s", cfg);
  cr_expect_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);

  /* Later commands need neither the token nor the server. */
  unsetenv("TALLY_TOKEN");
  unsetenv("TALLY_SERVER");
  json_t *me = RUN_JSON("whoami", "--format", "json");
  json_t *a = json_is_array(me) ? json_array_get(me, 0) : me;
  cr_expect_eq(json_integer_value(json_object_get(a, "id")), id_of(analyst));
  cr_expect_str_eq(str(a, "role"), "analyst");
  json_decref(me);

  /* A malformed config file: a clear error naming it. */
  tally_test_write_file(cfg, "{\"token\": ");
  rc = RUN(NULL, &err, "whoami");
  cr_expect_eq(rc, 2, "exit %d", rc);
  cr_expect(strstr(err, cfg) && strstr(err, "Fix or remove the config file"),
            "%s", err);
  free(err);
  tally_test_write_file(cfg, "{\"token\": 5}");
  rc = RUN(NULL, &err, "whoami");
  cr_expect_eq(rc, 2, "exit %d", rc);
  cr_expect(strstr(err, "not a string") && strstr(err, "token"), "%s", err);
  free(err);
}

/* After a token is replaced, 'tally login' (as 'account rotate' says)
 * reads the new one from standard input, even though the config file
 * still holds the old one. */
Test(auth, login_reads_a_new_token_from_standard_input) {
  char cfg[320], tokfile[320], *out = NULL, *err = NULL;
  const char *analyst = tally_test_token(&srv, "analyst", NULL);
  const char *reporter = tally_test_token(&srv, "reporter", "wenchang");
  snprintf(cfg, sizeof cfg, "%s/cfg.json", tmp);
  snprintf(tokfile, sizeof tokfile, "%s/token", tmp);
  tally_test_write_file(tokfile, analyst);
  setenv("TALLY_CONFIG", cfg, 1);
  unsetenv("TALLY_TOKEN");
  cr_assert_eq(RUN(NULL, &err, "login", "--token-file", tokfile), 0, "%s",
               err);
  free(err);

  char input[TALLY_TEST_TOKEN_MAX + 2];
  snprintf(input, sizeof input, "%s\n", reporter);
  int rc = tally_test_run((const char *const[]){"login", NULL}, input, &out,
                          &err);
  cr_assert_eq(rc, 0, "login: %s", err);
  cr_expect(strstr(out, "reporter for wenchang"),
            "login signed in with the config file's old token, not the one "
            "given on standard input: %s", out);
  free(out);
  free(err);
  json_t *me = RUN_JSON("whoami", "--format", "json");
  json_t *a = json_is_array(me) ? json_array_get(me, 0) : me;
  cr_expect_eq(json_integer_value(json_object_get(a, "id")), id_of(reporter),
               "the config file kept the old token");
  json_decref(me);
}

/* ---- Review findings ---- */

/* A rotated token ends the sessions it signed in, not only new ones. */
Test(auth, a_rotated_token_ends_the_connections_it_signed_in) {
  const char *old = tally_test_token(&srv, "reporter", "mashan");
  tally_client *live = tally_test_connect(&srv, old);
  Tally__WhoamiRequest wq = TALLY__WHOAMI_REQUEST__INIT;
  Tally__Envelope wreq = TALLY__ENVELOPE__INIT, *r = NULL;
  char cerr[256], idtext[24], *out = NULL, *err = NULL;
  wreq.body_case = TALLY__ENVELOPE__BODY_WHOAMI;
  wreq.whoami = &wq;
  cr_assert_eq(tally_client_call(live, &wreq, &r, cerr, sizeof cerr), 0, "%s",
               cerr);
  cr_assert_eq(code_of(r), 0, "%s", message_of(r));
  tally_wire_free(r);

  snprintf(idtext, sizeof idtext, "%llu", id_of(old));
  cr_assert_eq(RUN(&out, &err, "account", "rotate", idtext), 0, "%s", err);
  char fresh[TALLY_TEST_TOKEN_MAX];
  snprintf(fresh, sizeof fresh, "%s", out);
  fresh[strcspn(fresh, "\n")] = 0;
  free(out);
  free(err);

  /* The open connection's next request: refused, and a submission on it
   * stores nothing. */
  cr_assert_eq(tally_client_call(live, &wreq, &r, cerr, sizeof cerr), 0, "%s",
               cerr);
  cr_assert_eq(code_of(r), UNAUTH, "code %d %s", code_of(r), message_of(r));
  cr_assert(strstr(message_of(r), "replaced"), "%s", message_of(r));
  tally_wire_free(r);
  tally_client_close(live);
  r = whoami_as(fresh);
  cr_assert_eq(code_of(r), 0, "the new token: %s", message_of(r));
  tally_wire_free(r);
}

/* The district office's reporter reads and writes its own figures, not
 * the units' below it. */
Test(auth, the_district_reporter_reads_its_own_figures_only) {
  const char *district = tally_test_token(&srv, "reporter", "changqing");
  /* A township's figures, to be kept from it. */
  tally_test_sign_in(&srv, "reporter", "guide");
  const char *f = file_with("guide.csv", "live_births,700\n");
  char spool[300];
  snprintf(spool, sizeof spool, "%s/spool-d", tmp);
  cr_assert_eq(RUN(NULL, NULL, "submit", "--spool", spool, "--unit", "guide",
                   "--period", "2022", "--file", f),
               0);
  tally_test_sign_in(&srv, "admin", NULL);

  static const Tally__Envelope__BodyCase kinds[] = {
      TALLY__ENVELOPE__BODY_REPORT, TALLY__ENVELOPE__BODY_EXPLAIN,
      TALLY__ENVELOPE__BODY_COMPLETENESS, TALLY__ENVELOPE__BODY_VALIDATE,
      TALLY__ENVELOPE__BODY_TREND, TALLY__ENVELOPE__BODY_MATRIX};
  for (int k = 0; k < 6; k++)
    for (int scoped = 0; scoped < 2; scoped++) {
      Tally__ReportRequest rq = TALLY__REPORT_REQUEST__INIT;
      Tally__ExplainRequest eq = TALLY__EXPLAIN_REQUEST__INIT;
      Tally__CompletenessRequest cq = TALLY__COMPLETENESS_REQUEST__INIT;
      Tally__ValidateRequest vq = TALLY__VALIDATE_REQUEST__INIT;
      Tally__TrendRequest tq = TALLY__TREND_REQUEST__INIT;
      Tally__MatrixRequest mq = TALLY__MATRIX_REQUEST__INIT;
      Tally__Envelope req = TALLY__ENVELOPE__INIT;
      const char *unit = scoped ? "changqing" : "";
      rq.period = eq.period = cq.period = vq.period = mq.period = "2022";
      rq.unit = eq.unit = cq.unit = vq.unit = tq.unit = mq.unit = (char *)unit;
      eq.indicator = tq.indicator = "H02";
      req.body_case = kinds[k];
      req.report = &rq; /* one of the oneof's members, set below */
      if (kinds[k] == TALLY__ENVELOPE__BODY_EXPLAIN)
        req.explain = &eq;
      else if (kinds[k] == TALLY__ENVELOPE__BODY_COMPLETENESS)
        req.completeness = &cq;
      else if (kinds[k] == TALLY__ENVELOPE__BODY_VALIDATE)
        req.validate = &vq;
      else if (kinds[k] == TALLY__ENVELOPE__BODY_TREND)
        req.trend = &tq;
      else if (kinds[k] == TALLY__ENVELOPE__BODY_MATRIX)
        req.matrix = &mq;
      Tally__Envelope *r = call_as(district, &req);
      cr_assert_eq(code_of(r), DENIED, "request %d unit '%s': %d %s", k, unit,
                   code_of(r), message_of(r));
      tally_wire_free(r);
    }

  /* Its own figures: written and read. */
  Tally__Value v = TALLY__VALUE__INIT, *pv[1] = {&v};
  Tally__SubmitRequest s = TALLY__SUBMIT_REQUEST__INIT;
  Tally__ValuesRequest q = TALLY__VALUES_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  v.element = "budget_revenue";
  v.value = 123456;
  s.unit = "changqing";
  s.period = "2022";
  s.values = pv;
  s.n_values = 1;
  req.body_case = TALLY__ENVELOPE__BODY_SUBMIT;
  req.submit = &s;
  Tally__Envelope *r = call_as(district, &req);
  cr_assert_eq(code_of(r), 0, "%s", message_of(r));
  tally_wire_free(r);
  q.unit = "changqing";
  q.period = "2022";
  req.body_case = TALLY__ENVELOPE__BODY_VALUES;
  req.values = &q;
  r = call_as(district, &req);
  cr_assert_eq(code_of(r), 0, "%s", message_of(r));
  cr_assert_eq(r->values_reply->n_values, 1);
  tally_wire_free(r);
  q.unit = "guide";
  r = call_as(district, &req);
  cr_assert_eq(code_of(r), DENIED, "%s", message_of(r));
  tally_wire_free(r);
}

/* A refusal waiting out its delay is still sent when the server stops. */
Test(auth, a_stopping_server_sends_a_waiting_refusal) {
  tally_client *c = tally_test_connect(&srv, NULL);
  Tally__WhoamiRequest w = TALLY__WHOAMI_REQUEST__INIT;
  Tally__Auth auth = TALLY__AUTH__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *r = NULL;
  uint8_t *frame;
  size_t len;
  char err[256];
  auth.token = "tally_1_00000000000000000000000000000000"
               "00000000000000000000000000000000";
  req.auth = &auth;
  req.id = 1;
  req.body_case = TALLY__ENVELOPE__BODY_WHOAMI;
  req.whoami = &w;
  cr_assert_eq(tally_wire_pack(&req, 0, &frame, &len), 0);
  cr_assert_eq(tally_client_send_raw(c, frame, len), 0);
  free(frame);
  /* The server has read it and holds the refusal. */
  char *log = tally_test_read_file_with(srv.log, "sign-in refused from");
  cr_assert(log && strstr(log, "sign-in refused from"), "%s", log);
  free(log);
  cr_assert_eq(tally_test_server_stop(&srv), 0);
  cr_assert_eq(tally_client_read(c, &r, err, sizeof err), 0, "%s", err);
  cr_assert_eq(code_of(r), UNAUTH, "%d %s", code_of(r), message_of(r));
  tally_wire_free(r);
  tally_client_close(c);
}

/* tally login writes a new file, never through one planted beside it. */
Test(auth, login_does_not_write_through_a_planted_link) {
  char cfg[320], tmpfile[330], victim[320], tokfile[320], *err = NULL;
  snprintf(cfg, sizeof cfg, "%s/cfg.json", tmp);
  snprintf(tmpfile, sizeof tmpfile, "%s.tmp", cfg);
  snprintf(victim, sizeof victim, "%s/victim.txt", tmp);
  snprintf(tokfile, sizeof tokfile, "%s/token", tmp);
  tally_test_write_file(victim, "keep me\n");
  tally_test_write_file(tokfile, srv.admin);
  cr_assert_eq(symlink(victim, tmpfile), 0);
  setenv("TALLY_CONFIG", cfg, 1);
  int rc = RUN(NULL, &err, "login", "--server", srv.address, "--token-file",
               tokfile);
  unsetenv("TALLY_CONFIG");
  cr_assert_eq(rc, 0, "%s", err);
  free(err);
  char *kept = tally_test_read_file(victim);
  cr_assert_str_eq(kept, "keep me\n");
  free(kept);
  struct stat st;
  cr_assert_eq(lstat(cfg, &st), 0);
  cr_assert(S_ISREG(st.st_mode), "the config is not a plain file");
  cr_assert_eq(st.st_mode & 0777, 0600);
}

/* One request signed in with token, from the loopback address from (not
 * 127.0.0.1: another sender to the guard). Returns the reply. */
static Tally__Envelope *call_from(const char *from, const char *token,
                                  Tally__Envelope *req) {
  struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET};
  const char *colon = strrchr(srv.address, ':');
  inet_pton(AF_INET, from, &src.sin_addr);
  inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  dst.sin_port = htons((uint16_t)atoi(colon + 1));
  int s = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert_geq(s, 0);
  cr_assert_eq(bind(s, (struct sockaddr *)&src, sizeof src), 0, "bind %s", from);
  cr_assert_eq(connect(s, (struct sockaddr *)&dst, sizeof dst), 0);
  Tally__Auth auth = TALLY__AUTH__INIT;
  auth.token = (char *)token;
  req->auth = &auth;
  req->id = 7;
  uint8_t *frame;
  size_t len;
  cr_assert_eq(tally_wire_pack(req, 1 << 20, &frame, &len), 0);
  cr_assert_eq(write(s, frame, len), (ssize_t)len);
  free(frame);
  uint8_t hdr[4];
  cr_assert_eq(read(s, hdr, 4), 4);
  size_t n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
  uint8_t *body = malloc(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(s, body + got, n - got);
    cr_assert_gt(r, 0);
    got += (size_t)r;
  }
  close(s);
  Tally__Envelope *reply;
  cr_assert_eq(tally_wire_unpack(body, n, &reply), 0);
  free(body);
  return reply;
}

/* A lockout locks the admin out too when it shares the address (one
 * NAT): the refusal says when it ends, admin status lists it, and an
 * admin from another address (here 127.0.0.2) lifts it at once. */
Test(auth, an_admin_lifts_a_lockout_from_another_address) {
  struct attempt at[10];
  char bad[10][TALLY_TEST_TOKEN_MAX];
  const char *reporter = tally_test_token(&srv, "reporter", "wenchang");
  for (int i = 0; i < 10; i++) {
    wrong_token(bad[i], sizeof bad[i], id_of(srv.admin), i);
    at[i] = (struct attempt){.token = bad[i]};
  }
  attempt_all(at, 10);
  struct attempt good = {.token = srv.admin};
  attempt_run(&good);
  cr_assert_eq(good.code, UNAUTH, "%s", good.message);
  cr_assert(strstr(good.message, "too many failed sign-ins from this address "
                                 "(127.0.0.1); try again in ") &&
                strstr(good.message, " s, at 20") &&
                strstr(good.message, "tally admin unblock 127.0.0.1"),
            "%s", good.message);

  Tally__AdminStatusRequest sq = TALLY__ADMIN_STATUS_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  req.body_case = TALLY__ENVELOPE__BODY_ADMIN_STATUS;
  req.admin_status = &sq;
  Tally__Envelope *r = call_from("127.0.0.2", srv.admin, &req);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ADMIN_STATUS_REPLY);
  cr_assert_eq(r->admin_status_reply->n_lockouts, 1);
  cr_assert_str_eq(r->admin_status_reply->lockouts[0]->address, "127.0.0.1");
  cr_assert_geq(r->admin_status_reply->lockouts[0]->failures, 10);
  cr_assert_gt(r->admin_status_reply->lockouts[0]->until_unix, time(NULL));
  tally_wire_free(r);

  /* A reporter may not lift it. */
  Tally__GuardClearRequest cq = TALLY__GUARD_CLEAR_REQUEST__INIT;
  cq.address = "127.0.0.1";
  req = (Tally__Envelope)TALLY__ENVELOPE__INIT;
  req.body_case = TALLY__ENVELOPE__BODY_GUARD_CLEAR;
  req.guard_clear = &cq;
  r = call_from("127.0.0.3", reporter, &req);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR);
  cr_assert_eq(r->error->code, DENIED);
  tally_wire_free(r);
  r = call_from("127.0.0.2", srv.admin, &req);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_GUARD_CLEAR_REPLY, "%s",
               r->body_case == TALLY__ENVELOPE__BODY_ERROR ? r->error->message
                                                           : "");
  cr_assert_str_eq(r->guard_clear_reply->address, "127.0.0.1");
  cr_assert_geq(r->guard_clear_reply->failures, 10);
  tally_wire_free(r);

  /* 127.0.0.1 signs in again at once. */
  good = (struct attempt){.token = srv.admin};
  attempt_run(&good);
  cr_assert_eq(good.code, 0, "%s", good.message);
  char *log = tally_test_read_file(srv.log);
  cr_assert(strstr(log, "sign-ins from 127.0.0.1 unblocked by account 1"),
            "%s", log);
  free(log);
}
