/* cmd_account.c: login, whoami, account and audit: who may do what, and
 * who did what. */
#include "cli.h"
#include "i18n.h"
#include "config.h"
#include "output.h"
#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

const char tally_usage_login[] =
    N_("usage: tally login [--server HOST:PORT] [--ca FILE] [--token-file FILE]\n"
    "\n"
    "Checks a token with the server and saves the server's address, the\n"
    "token and the CA file in the config file (mode 0600), so that later\n"
    "commands need none of them and the token stays out of shell history.\n"
    "The token is read from --token-file, else from standard input (typed\n"
    "without echo at a terminal). Tokens come from 'tallyd init' (the first\n"
    "admin) or from an admin's 'tally account add'.\n"
    "\n"
    "options:\n"
    "  -s, --server, --ca, --server-name, --token-file, --timeout\n"
    "                       as for every command (tally --help)\n");

const char tally_usage_whoami[] =
    N_("usage: tally whoami [--format FMT]\n"
    "\n"
    "Shows the account the client signs in as: id, name, role and unit.\n"
    "\n"
    "options:\n"
    "      --format FMT     table (default), json or csv\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n");

const char tally_usage_account[] =
    N_("usage: tally account add --role ROLE [--unit UNIT] --name NAME\n"
    "       tally account add --like ID\n"
    "       tally account list [--format FMT]\n"
    "       tally account revoke ID\n"
    "       tally account rotate [ID]\n"
    "       tally account password ID\n"
    "\n"
    "Accounts and their tokens (admins; anyone may rotate their own).\n"
    "  add     makes an account and prints its token on standard output,\n"
    "          once: the server keeps only its hash. Roles: reporter (needs\n"
    "          --unit: submits and reads that unit's figures), analyst\n"
    "          (reads everything, sets targets, locks periods), admin (an\n"
    "          analyst who also manages accounts).\n"
    "  list    every account: id, name, role, unit, created, last used, and\n"
    "          whether it is revoked.\n"
    "  revoke  the account's token stops working at once, for good: a revoked\n"
    "          account cannot be restored. It stays in the list and the\n"
    "          audit trail. To give its office a new one, 'add --like ID'.\n"
    "  rotate  replaces the token of account ID (default: your own) and\n"
    "          prints the new one; the old one stops working at once.\n"
    "  password  sets a first password for account ID, read from standard\n"
    "          input (typed twice without echo at a terminal; 8-128 bytes),\n"
    "          for the web pages: its owner signs in there with the\n"
    "          account's name and this password, and must choose a new one\n"
    "          at once. The account's open web pages close; its token is\n"
    "          not changed. Never on the command line.\n"
    "\n"
    "options:\n"
    "  -r, --role ROLE      reporter, analyst or admin\n"
    "  -u, --unit UNIT      a reporter's org unit code\n"
    "  -n, --name NAME      who holds the token, e.g. \"Wenchang statistics\n"
    "                       office\"\n"
    "      --like ID        add: the role, unit and name of account ID (a\n"
    "                       revoked one, usually); --role, --unit or --name\n"
    "                       given as well replace its\n"
    "      --format FMT     table (default), json or csv\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n");

const char tally_usage_audit[] =
    N_("usage: tally audit --unit UNIT --period PERIOD [--format FMT]\n"
    "       tally audit --account ID [--format FMT]\n"
    "       tally audit [--format FMT]\n"
    "\n"
    "The audit trail: every change to stored figures, targets and accounts,\n"
    "with who made it, when, from which address, and what it was before and\n"
    "what it became. It is written in the same transaction as the change and\n"
    "no command edits it. Without options: the whole trail (analysts and\n"
    "admins). A reporter reads its own unit's and its own account's trail.\n"
    "\n"
    "options:\n"
    "  -u, --unit UNIT      the org unit code\n"
    "  -p, --period PERIOD  2022, 2022Q3 or 2022-07\n"
    "  -a, --account ID     the changes made by this account\n"
    "      --format FMT     table (default), json or csv\n"
    "  -s, --server, --timeout  as for every command (tally --help)\n");

/* Parses the options of these commands: those takes names and the
 * common ones. Returns 0 to go on, -1 after printing the help, or the
 * exit status. */
struct account_opts {
  const char *role, *unit, *name, *period, *account, *like;
};

static int parse(int argc, char **argv, tally_cli *c, const char *command,
                 const char *usage, const char *takes,
                 struct account_opts *o) {
  const tally_cli_opt every[] = {{"role", 'r', &o->role, NULL, NULL},
                               {"unit", 'u', &o->unit, NULL, NULL},
                               {"name", 'n', &o->name, NULL, NULL},
                               {"period", 'p', &o->period, NULL, NULL},
                               {"account", 'a', &o->account, NULL, NULL},
                               {"like", 0, &o->like, NULL, NULL},
                               {NULL, 0, NULL, NULL, NULL}};
  tally_cli_opt own[sizeof every / sizeof every[0]];
  int with_format = tally_cli_pick(every, takes, own);
  return tally_cli_parse(argc, argv, c, command, usage, own, with_format);
}

/* An account id from text; 0 after saying why. */
static uint64_t parse_id(const char *text, const char *command) {
  char *end;
  unsigned long long v = strtoull(text, &end, 10);
  if (*text == 0 || *text == '-' || *end != 0 || v == 0) {
    fprintf(stderr, _("tally %s: an account id is a whole number from 1, not "
            "'%s'\n"), command, text);
    return 0;
  }
  return (uint64_t)v;
}

/* "2026-11-27 17:08:17", or "never" for 0. */
static void when(char *buf, size_t n, int64_t t) {
  if (t == 0)
    snprintf(buf, n, "never");
  else
    tally_cli_time(buf, n, t);
}

static json_t *account_json(const Tally__Account *a) {
  return json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b}", "id",
                   (json_int_t)a->id, "name", a->name, "role",
                   tally_role_name(a->role), "unit", a->unit, "created_unix",
                   (json_int_t)a->created_unix, "last_used_unix",
                   (json_int_t)a->last_used_unix, "revoked_unix",
                   (json_int_t)a->revoked_unix, "created_by",
                   (json_int_t)a->created_by, "active", a->revoked_unix == 0);
}

static void print_json(json_t *j) {
  char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (text)
    puts(text);
  free(text);
  json_decref(j);
}

/* Prints accounts as a table, CSV or JSON. */
static void print_accounts(const tally_cli *c, Tally__Account *const *accs,
                           size_t n) {
  static const char *const head[] = {"id",      "name",      "role", "unit",
                                     "created", "last used", "status"};
  static const int right[] = {1, 0, 0, 0, 0, 0, 0};
  if (c->format == FORMAT_JSON) {
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
      json_array_append_new(arr, account_json(accs[i]));
    print_json(arr);
    return;
  }
  tally_table *t = tally_table_new(7, head, right);
  for (size_t i = 0; t && i < n; i++) {
    const Tally__Account *a = accs[i];
    char id[24], created[32], used[32], status[48];
    snprintf(id, sizeof id, "%" PRIu64, a->id);
    when(created, sizeof created, a->created_unix);
    when(used, sizeof used, a->last_used_unix);
    if (a->revoked_unix) {
      char at[32];
      when(at, sizeof at, a->revoked_unix);
      snprintf(status, sizeof status, "revoked %s", at);
    } else {
      snprintf(status, sizeof status, "active");
    }
    const char *row[] = {id, a->name, tally_role_name(a->role), a->unit, created,
                         used, status};
    tally_table_add(t, row);
  }
  tally_table_print_as(t, c->format == FORMAT_CSV, stdout);
  tally_table_free(t);
}

/* Prints a new token: alone on standard output (for scripts), or in
 * JSON with its account; what it is goes to standard error. */
static void print_new(const tally_cli *c, const Tally__NewAccount *na,
                      const char *what) {
  const Tally__Account *a = na->account;
  if (c->format == FORMAT_JSON) {
    json_t *j = account_json(a);
    json_object_set_new(j, "token", json_string(na->token));
    print_json(j);
  } else {
    printf("%s\n", na->token);
  }
  fprintf(stderr, "account %" PRIu64 " %s: %s%s%s, \"%s\"; its token is "
          "shown this once\n",
          a->id, what, tally_role_name(a->role), *a->unit ? " for " : "", a->unit,
          a->name);
}

static int account_add_spec(tally_cli *c, const struct account_opts *o);

/* --like ID: the role, unit and name of account ID where o has none;
 * their strings live in *list (the caller frees it). Returns 0 or the
 * exit status after saying why. */
static int like(tally_cli *c, struct account_opts *o, Tally__Envelope **list) {
  uint64_t id = parse_id(o->like, "account add --like");
  if (id == 0)
    return EXIT_USAGE;
  Tally__AccountListRequest q = TALLY__ACCOUNT_LIST_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  req.body_case = TALLY__ENVELOPE__BODY_ACCOUNT_LIST;
  req.account_list = &q;
  int rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_ACCOUNT_LIST_REPLY,
                          list);
  if (rc != 0)
    return rc;
  const Tally__AccountListReply *l = (*list)->account_list_reply;
  for (size_t i = 0; i < l->n_accounts; i++) {
    const Tally__Account *a = l->accounts[i];
    if (a->id != id)
      continue;
    if (o->role == NULL)
      o->role = tally_role_name(a->role);
    if (o->unit == NULL && *a->unit)
      o->unit = a->unit;
    if (o->name == NULL)
      o->name = a->name;
    if (a->revoked_unix == 0)
      fprintf(stderr, _("tally account add: account %llu is not revoked; while "
              "both are active, the web pages refuse a sign-in by their "
              "name (tally account revoke %llu)\n"), (unsigned long long)id,
              (unsigned long long)id);
    return 0;
  }
  fprintf(stderr, _("tally account add: there is no account %llu (tally account "
          "list)\n"), (unsigned long long)id);
  return EXIT_REFUSED;
}

static int account_add(tally_cli *c, struct account_opts *o) {
  Tally__Envelope *list = NULL;
  int rc;
  if (o->like && (rc = like(c, o, &list)) != 0) {
    tally_wire_free(list);
    return rc;
  }
  rc = account_add_spec(c, o);
  tally_wire_free(list);
  return rc;
}

static int account_add_spec(tally_cli *c, const struct account_opts *o) {
  int rc;
  if ((rc = tally_cli_need(o->role, "--role", "account")) ||
      (rc = tally_cli_need(o->name, "--name", "account")))
    return rc;
  Tally__AccountSpec spec = TALLY__ACCOUNT_SPEC__INIT, *specs[1] = {&spec};
  spec.role = tally_role_parse(o->role);
  if (spec.role == TALLY__ROLE__ROLE_UNSPECIFIED) {
    fprintf(stderr, _("tally account: --role is reporter, analyst or admin, not "
            "'%s'\n"), o->role);
    return EXIT_USAGE;
  }
  if (spec.role == TALLY__ROLE__ROLE_REPORTER &&
      (rc = tally_cli_need(o->unit, "--unit (a reporter's unit)", "account")))
    return rc;
  spec.name = (char *)o->name;
  spec.unit = (char *)(o->unit ? o->unit : "");
  Tally__AccountAddRequest q = TALLY__ACCOUNT_ADD_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  q.accounts = specs;
  q.n_accounts = 1;
  req.body_case = TALLY__ENVELOPE__BODY_ACCOUNT_ADD;
  req.account_add = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_ACCOUNT_ADD_REPLY,
                           &reply)) == 0) {
    for (size_t i = 0; i < reply->account_add_reply->n_accounts; i++)
      print_new(c, reply->account_add_reply->accounts[i], "added");
  }
  tally_wire_free(reply);
  return rc;
}

static int account_list(tally_cli *c) {
  Tally__AccountListRequest q = TALLY__ACCOUNT_LIST_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  int rc;
  req.body_case = TALLY__ENVELOPE__BODY_ACCOUNT_LIST;
  req.account_list = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_ACCOUNT_LIST_REPLY,
                           &reply)) == 0)
    print_accounts(c, reply->account_list_reply->accounts,
                   reply->account_list_reply->n_accounts);
  tally_wire_free(reply);
  return rc;
}

static int account_revoke(tally_cli *c, uint64_t id) {
  Tally__AccountRevokeRequest q = TALLY__ACCOUNT_REVOKE_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  int rc;
  q.id = id;
  req.body_case = TALLY__ENVELOPE__BODY_ACCOUNT_REVOKE;
  req.account_revoke = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_ACCOUNT_REVOKE_REPLY,
                           &reply)) == 0) {
    const Tally__Account *a = reply->account_revoke_reply->account;
    printf("account %" PRIu64 " (\"%s\") revoked: its token no longer "
           "works\n", a->id, a->name);
  }
  tally_wire_free(reply);
  return rc;
}

static int account_rotate(tally_cli *c, uint64_t id) {
  Tally__AccountRotateRequest q = TALLY__ACCOUNT_ROTATE_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  int rc;
  q.id = id;
  req.body_case = TALLY__ENVELOPE__BODY_ACCOUNT_ROTATE;
  req.account_rotate = &q;
  if ((rc = tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_ACCOUNT_ROTATE_REPLY,
                           &reply)) == 0) {
    print_new(c, reply->account_rotate_reply->account,
              "has a new token (the old one no longer works)");
    if (id == 0)
      fputs(_("tally: sign in with it: tally login (reads it from standard "
            "input)\n"), stderr);
  }
  tally_wire_free(reply);
  return rc;
}

/* Reads one line from standard input into buf, without echo at a
 * terminal (asking prompt). Returns its length, or -1. */
static int read_quietly(const char *prompt, char *buf, size_t n) {
  struct termios old, quiet;
  int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    fputs(prompt, stderr);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  int ok = fgets(buf, (int)n, stdin) != NULL;
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
  }
  buf[ok ? strcspn(buf, "\r\n") : 0] = 0;
  return ok ? (int)strlen(buf) : -1;
}

static int account_password(tally_cli *c, uint64_t id) {
  Tally__AccountPasswordRequest q = TALLY__ACCOUNT_PASSWORD_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  char pw[256], again[256] = "";
  int rc = EXIT_USAGE;
  if (read_quietly("first password: ", pw, sizeof pw) <= 0) {
    fputs(_("tally account password: no password on standard input\n"), stderr);
    goto out;
  }
  if (isatty(STDIN_FILENO) &&
      (read_quietly("again: ", again, sizeof again) < 0 ||
       strcmp(pw, again) != 0)) {
    fputs(_("tally account password: the two differ; nothing was changed\n"),
          stderr);
    goto out;
  }
  q.id = id;
  q.password = pw;
  req.body_case = TALLY__ENVELOPE__BODY_ACCOUNT_PASSWORD;
  req.account_password = &q;
  if ((rc = tally_cli_call(c, &req,
                           TALLY__ENVELOPE__BODY_ACCOUNT_PASSWORD_REPLY,
                           &reply)) == 0) {
    const Tally__Account *a = reply->account_password_reply->account;
    printf("account %" PRIu64 " (\"%s\") has a first password: it signs in "
           "to the web pages with its name and must choose a new one there\n",
           a->id, a->name);
  }
out:
  explicit_bzero(pw, sizeof pw);
  explicit_bzero(again, sizeof again);
  tally_wire_free(reply);
  return rc;
}

int tally_cmd_account(int argc, char **argv, tally_cli *c) {
  struct account_opts o = {0};
  int rc = parse(argc, argv, c, "account", tally_usage_account,
                 "role unit name like format", &o);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  const char *sub = optind < argc ? argv[optind] : NULL;
  int args = argc - optind - 1; /* operands after the subcommand */
  const char *add_only = o.role ? "--role" : o.unit ? "--unit"
                         : o.name ? "--name" : o.like ? "--like" : NULL;
  if (sub && strcmp(sub, "add") != 0 && add_only) {
    fprintf(stderr, _("tally account %s: %s is for 'tally account add'\n"
            "Try 'tally help account'.\n"), sub, add_only);
    return EXIT_USAGE;
  }
  if (sub && strcmp(sub, "add") == 0 && args == 0)
    return account_add(c, &o);
  if (sub && strcmp(sub, "list") == 0 && args == 0)
    return account_list(c);
  if (sub && strcmp(sub, "revoke") == 0 && args == 1) {
    uint64_t id = parse_id(argv[optind + 1], "account revoke");
    return id ? account_revoke(c, id) : EXIT_USAGE;
  }
  if (sub && strcmp(sub, "rotate") == 0 && args <= 1) {
    uint64_t id = args ? parse_id(argv[optind + 1], "account rotate") : 0;
    return id || !args ? account_rotate(c, id) : EXIT_USAGE;
  }
  if (sub && strcmp(sub, "password") == 0 && args == 1) {
    uint64_t id = parse_id(argv[optind + 1], "account password");
    return id ? account_password(c, id) : EXIT_USAGE;
  }
  fputs(_("tally account: give add, list, revoke ID, rotate [ID] or "
        "password ID\n"
        "Try 'tally help account'.\n"), stderr);
  return EXIT_USAGE;
}

/* Asks the server who the token is. Returns the exit status. */
static int whoami(const tally_cli *c, Tally__Envelope **reply) {
  Tally__WhoamiRequest q = TALLY__WHOAMI_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  req.body_case = TALLY__ENVELOPE__BODY_WHOAMI;
  req.whoami = &q;
  return tally_cli_call(c, &req, TALLY__ENVELOPE__BODY_WHOAMI_REPLY, reply);
}

int tally_cmd_whoami(int argc, char **argv, tally_cli *c) {
  struct account_opts o = {0};
  Tally__Envelope *reply = NULL;
  int rc = parse(argc, argv, c, "whoami", tally_usage_whoami, "format", &o);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if ((rc = tally_cli_no_operands(argc, argv, "whoami")) != 0)
    return rc;
  if ((rc = whoami(c, &reply)) == 0)
    print_accounts(c, &reply->whoami_reply->account, 1);
  tally_wire_free(reply);
  return rc;
}

/* Reads a token from standard input, without echo at a terminal. */
static const char *prompt_token(void) {
  struct termios old, quiet;
  int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    fputs(_("token: "), stderr);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  const char *token = tally_cli_read_token("-");
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
  }
  return token;
}

int tally_cmd_login(int argc, char **argv, tally_cli *c) {
  struct account_opts o = {0};
  char path[4096], err[512];
  Tally__Envelope *reply = NULL;
  int rc = parse(argc, argv, c, "login", tally_usage_login, "", &o);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if (optind < argc) {
    fputs(_("tally login: the token is read from standard input or "
          "--token-file, not from the command line\n"), stderr);
    return EXIT_USAGE;
  }
  /* A token from --token-file; else one read now, never the one the
   * environment or the config file already holds. */
  if (!c->token_given && (c->token = prompt_token()) == NULL)
    return EXIT_USAGE;
  if ((rc = whoami(c, &reply)) != 0) {
    fputs(_("tally login: nothing was saved\n"), stderr);
    tally_wire_free(reply);
    return rc;
  }
  if (tally_config_path(path, sizeof path) != 0) {
    fputs(_("tally login: no home directory: set TALLY_CONFIG\n"), stderr);
    tally_wire_free(reply);
    return EXIT_USAGE;
  }
  /* The CA as an absolute path: the commands run from elsewhere later. */
  char ca[4096];
  if (c->ca && c->ca[0] != '/' && realpath(c->ca, ca) == NULL) {
    fprintf(stderr, _("tally login: %s: %s; nothing was saved\n"), c->ca,
            strerror(errno));
    tally_wire_free(reply);
    return EXIT_USAGE;
  }
  tally_config cfg = {(char *)c->server, (char *)c->token,
                      c->ca && c->ca[0] != '/' ? ca : (char *)c->ca,
                      (char *)c->server_name};
  if (tally_config_save(path, &cfg, err, sizeof err) != 0) {
    fprintf(stderr, _("tally login: %s\n"), err);
    tally_wire_free(reply);
    return EXIT_REFUSED;
  }
  const Tally__Account *a = reply->whoami_reply->account;
  printf("signed in to %s as account %" PRIu64 " (\"%s\", %s%s%s); saved in "
         "%s\n",
         c->server, a->id, a->name, tally_role_name(a->role), *a->unit ? " for " : "",
         a->unit, path);
  tally_wire_free(reply);
  return EXIT_OK;
}

/* One line per change: figures give a line per value. */
static void audit_rows(tally_table *t, json_t *arr,
                       const Tally__AuditEntry *e) {
  char time[32], who[160], seq[24];
  tally_cli_time(time, sizeof time, e->time_unix);
  snprintf(who, sizeof who, "%" PRIu64 " %s", e->account_id, e->account_name);
  if (e->seq)
    snprintf(seq, sizeof seq, "%" PRIu64, e->seq);
  else /* from a unit's history, which counts revisions */
    snprintf(seq, sizeof seq, "r%" PRIu64, e->revision);
  if (arr) {
    json_t *j = json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:s}", "seq",
                          (json_int_t)e->seq, "time_unix",
                          (json_int_t)e->time_unix, "account",
                          (json_int_t)e->account_id, "account_name",
                          e->account_name, "peer", e->peer, "kind", e->kind,
                          "subject", e->subject);
    if (strcmp(e->kind, "figures") == 0) {
      json_t *ch = json_array();
      for (size_t i = 0; i < e->n_changes; i++) {
        const Tally__Change *c = e->changes[i];
        json_array_append_new(
            ch, json_pack("{s:s, s:o, s:o}", "element", c->element, "before",
                          c->had_old ? json_real(c->old_value) : json_null(),
                          "after",
                          c->has_new ? json_real(c->new_value) : json_null()));
      }
      json_object_set_new(j, "revision", json_integer((json_int_t)e->revision));
      json_object_set_new(j, "submission_id", json_string(e->submission_id));
      json_object_set_new(j, "changes", ch);
      json_t *ex = json_object();
      for (size_t i = 0; i < e->n_explanations; i++)
        json_object_set_new(ex, e->explanations[i]->rule,
                            json_string(e->explanations[i]->text));
      json_object_set_new(j, "explanations", ex);
      json_object_set_new(j, "how", json_string(e->how));
    } else {
      json_object_set_new(j, "before", json_string(e->before));
      json_object_set_new(j, "after", json_string(e->after));
    }
    json_array_append_new(arr, j);
    return;
  }
  if (strcmp(e->kind, "figures") != 0 || e->n_changes == 0) {
    const char *row[] = {seq, time, who, e->peer, e->subject, "", e->before,
                         e->after};
    tally_table_add(t, row);
    return;
  }
  for (size_t i = 0; i < e->n_changes; i++) {
    const Tally__Change *c = e->changes[i];
    char before[32] = "", after[32] = "";
    if (c->had_old)
      tally_cli_number(before, sizeof before, c->old_value);
    if (c->has_new)
      tally_cli_number(after, sizeof after, c->new_value);
    else
      snprintf(after, sizeof after, "(removed)");
    const char *row[] = {i ? "" : seq, i ? "" : time, i ? "" : who,
                         i ? "" : e->peer, i ? "" : e->subject, c->element,
                         before, after};
    tally_table_add(t, row);
  }
  /* Imported or forwarded, not submitted by the unit: a row of its own. */
  if (*e->how) {
    const char *row[] = {"", "", "", "", "", e->how, "", ""};
    tally_table_add(t, row);
  }
  /* An explanation given with the figures: a row of its own. */
  for (size_t i = 0; i < e->n_explanations; i++) {
    char what[64];
    snprintf(what, sizeof what, "explained %.40s", e->explanations[i]->rule);
    const char *row[] = {"", "", "", "", "", what, "",
                         e->explanations[i]->text};
    tally_table_add(t, row);
  }
}

/* The next page of a trail: after the last entry of this one. */
static int audit_turn(Tally__Envelope *req, const Tally__Envelope *reply) {
  const Tally__AuditReply *rep = reply->audit_reply;
  Tally__AuditRequest *q = req->audit;
  if (!rep->more)
    return 0;
  if (rep->next_account < q->after_account ||
      (rep->next_account == q->after_account && rep->next <= q->after))
    return -1;
  q->after = rep->next;
  q->after_account = rep->next_account;
  return 1;
}

static int by_seq(const void *a, const void *b) {
  const Tally__AuditEntry *x = *(Tally__AuditEntry *const *)a;
  const Tally__AuditEntry *y = *(Tally__AuditEntry *const *)b;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int tally_cmd_audit(int argc, char **argv, tally_cli *c) {
  struct account_opts o = {0};
  int rc = parse(argc, argv, c, "audit", tally_usage_audit,
                 "unit period account format", &o);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if (optind < argc) {
    fprintf(stderr, _("tally audit: unexpected argument '%s'\n"), argv[optind]);
    return EXIT_USAGE;
  }
  Tally__AuditRequest q = TALLY__AUDIT_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, **pages = NULL;
  size_t n_pages = 0, n = 0;
  if ((o.unit || o.period) &&
      ((rc = tally_cli_need(o.unit, "--unit", "audit")) ||
       (rc = tally_cli_need_period(o.period, "audit"))))
    return rc;
  if (o.account && (q.account = parse_id(o.account, "audit")) == 0)
    return EXIT_USAGE;
  q.unit = (char *)(o.unit ? o.unit : "");
  q.period = (char *)(o.period ? o.period : "");
  req.body_case = TALLY__ENVELOPE__BODY_AUDIT;
  req.audit = &q;
  if ((rc = tally_cli_pages(c, &req, TALLY__ENVELOPE__BODY_AUDIT_REPLY,
                            audit_turn, &pages, &n_pages)) != 0)
    return rc;
  /* The pages, as one trail; everyone's comes by account: put in order. */
  for (size_t i = 0; i < n_pages; i++)
    n += pages[i]->audit_reply->n_entries;
  Tally__AuditEntry **entries = malloc((n ? n : 1) * sizeof *entries);
  if (entries == NULL) {
    fputs(_("tally: out of memory\n"), stderr);
    rc = EXIT_REFUSED;
    goto out;
  }
  n = 0;
  for (size_t i = 0; i < n_pages; i++)
    for (size_t k = 0; k < pages[i]->audit_reply->n_entries; k++)
      entries[n++] = pages[i]->audit_reply->entries[k];
  if (!*q.unit && !q.account && n > 1)
    qsort(entries, n, sizeof *entries, by_seq);
  static const char *const head[] = {"seq",     "time", "account",
                                     "from",    "subject",    "element",
                                     "before",  "after"};
  static const int right[] = {1, 0, 0, 0, 0, 0, 0, 0};
  json_t *arr = c->format == FORMAT_JSON ? json_array() : NULL;
  tally_table *t = arr ? NULL : tally_table_new(8, head, right);
  for (size_t i = 0; i < n; i++)
    audit_rows(t, arr, entries[i]);
  if (arr)
    print_json(arr);
  else if (t && c->format == FORMAT_CSV)
    tally_table_print_csv(t, stdout);
  else if (t && n == 0)
    puts("no changes recorded");
  else if (t)
    tally_table_print(t, stdout);
  tally_table_free(t);
  free(entries);
out:
  for (size_t i = 0; i < n_pages; i++)
    tally_wire_free(pages[i]);
  free(pages);
  return rc;
}
