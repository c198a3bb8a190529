/* main.c: tally, the command-line client: the command table and what
 * the commands share. */
#include "cli.h"
#include "config.h"
#include "error.h"
#include "i18n.h"
#include "output.h"
#include "period.h"
#include "spool.h"
#include "when.h"
#include "wire.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char usage[] = N_(
    "usage: tally [--server HOST:PORT] COMMAND [options]\n"
    "\n"
    "The tally client: units submit their figures; the central office reads\n"
    "values and indicator reports.\n"
    "\n"
    "commands:\n"
    "  submit   send one unit's figures for one period from a CSV file\n"
    "  withdraw remove every figure of one unit for one period\n"
    "  sync     send the submissions still waiting in the spool\n"
    "  pending  list the submissions waiting in the spool\n"
    "  import   store many units' and periods' figures from one file\n"
    "  export   every unit's figures of a period: ADX, DHIS2 JSON or CSV\n"
    "  forward  send the district's approved figures on to the city\n"
    "  values   show the figures the server holds for a unit and period\n"
    "  form     the blank CSV form a unit fills in\n"
    "  report   the indicator report of a period, for the district or a unit\n"
    "  explain  where an indicator's value comes from, unit by unit\n"
    "  completeness  which units have reported which figures for a period\n"
    "  check    figures that moved sharply against a year before\n"
    "  validate the catalog's rules over the figures stored for a period\n"
    "  review   the central office's review: list, approve, return, reopen\n"
    "  status   a unit's periods and how the central office reviewed them\n"
    "  catalog  the indicators and data elements the server knows\n"
    "  units    the units: codes, names, levels, the unit each is within\n"
    "  target   list the targets; enter one the city assigns\n"
    "  period   list, lock and unlock periods the central office approved\n"
    "  history  every change to a unit's figures for a period\n"
    "  login    save the server, token and CA in the config file\n"
    "  whoami   the account this client signs in as\n"
    "  account  add, list, revoke accounts; replace a token (admins)\n"
    "  audit    who changed which figures, targets and accounts, and when\n"
    "  backup   copy the live store into the server's backup folder\n"
    "  admin    verify: check the sums reports read against the figures;\n"
    "           status: how the server is doing\n"
    "  help     help on a command: tally help submit\n"
    "\n"
    "options (before or after the command):\n"
    "  -s, --server HOST:PORT  the tallyd to talk to (tallyd's default is\n"
    "                          127.0.0.1:7300); default\n"
    "                          $TALLY_SERVER, else the config file's\n"
    "      --token-file FILE   read the token from FILE ('-': standard input);\n"
    "                          default $TALLY_TOKEN, else the config file's\n"
    "      --ca FILE           speak TLS, trusting the server's certificate\n"
    "                          only if this CA signed it; default $TALLY_CA,\n"
    "                          else the config file's; none = plaintext\n"
    "      --server-name NAME  the name the certificate must carry (default:\n"
    "                          the host of --server)\n"
    "      --insecure-plaintext  send the token without TLS to a server off\n"
    "                          this machine (only on a network protected\n"
    "                          otherwise); refused without it\n"
    "      --timeout SECONDS   how long one request may take, its whole reply\n"
    "                          read (default 30)\n"
    "      --no-bom            CSV without the UTF-8 byte-order mark that tally\n"
    "                          writes first for Excel (for programs)\n"
    "      --spool DIR         where submissions wait for the server's\n"
    "                          acknowledgement (tally help submit)\n"
    "      --wide              tables as wide as their cells (by default they\n"
    "                          fit the terminal, $COLUMNS, cutting text)\n"
    "      --keep-acknowledged DAYS  keep acknowledged submissions in the\n"
    "                          spool this long (default 30d; 0: none), to\n"
    "                          send again after the server restores a backup\n"
    "                          (tally help sync)\n"
    "  -h, --help              help\n"
    "  -V, --version           the version\n"
    "\n"
    "The config file is $TALLY_CONFIG, else $XDG_CONFIG_HOME/tally/config.json,\n"
    "else ~/.config/tally/config.json; 'tally login' writes it (mode 0600).\n"
    "\n"
    "exit status: 0 done; 1 refused (bad input, or the server said no);\n"
    "2 bad command line; 3 the server could not be reached or did not answer\n"
    "(a submission is then kept in the spool: run 'tally sync' later).\n");

static const struct {
  const char *name;
  int (*run)(int argc, char **argv, tally_cli *c);
  const char *usage;
} commands[] = {
    {"submit", tally_cmd_submit, tally_usage_submit},
    {"withdraw", tally_cmd_withdraw, tally_usage_withdraw},
    {"sync", tally_cmd_sync, tally_usage_sync},
    {"pending", tally_cmd_pending, tally_usage_pending},
    {"import", tally_cmd_import, tally_usage_import},
    {"export", tally_cmd_export, tally_usage_export},
    {"forward", tally_cmd_forward, tally_usage_forward},
    {"values", tally_cmd_values, tally_usage_values},
    {"report", tally_cmd_report, tally_usage_report},
    {"explain", tally_cmd_explain, tally_usage_explain},
    {"completeness", tally_cmd_completeness, tally_usage_completeness},
    {"check", tally_cmd_check, tally_usage_check},
    {"validate", tally_cmd_validate, tally_usage_validate},
    {"review", tally_cmd_review, tally_usage_review},
    {"status", tally_cmd_status, tally_usage_status},
    {"catalog", tally_cmd_catalog, tally_usage_catalog},
    {"units", tally_cmd_units, tally_usage_units},
    {"form", tally_cmd_form, tally_usage_form},
    {"target", tally_cmd_target, tally_usage_target},
    {"period", tally_cmd_period, tally_usage_period},
    {"history", tally_cmd_history, tally_usage_history},
    {"backup", tally_cmd_backup, tally_usage_backup},
    {"admin", tally_cmd_admin, tally_usage_admin},
    {"login", tally_cmd_login, tally_usage_login},
    {"whoami", tally_cmd_whoami, tally_usage_whoami},
    {"account", tally_cmd_account, tally_usage_account},
    {"audit", tally_cmd_audit, tally_usage_audit},
};

int tally_cli_read_token_into(const char *file, char *token, size_t n) {
  FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
  if (f == NULL) {
    fprintf(stderr, _("tally: cannot read the token from %s: %s\n"), file,
            strerror(errno));
    return -1;
  }
  setvbuf(f, NULL, _IONBF, 0);
  int ok = fgets(token, (int)n, f) != NULL;
  if (f != stdin)
    fclose(f);
  if (!ok)
    *token = 0;
  token[strcspn(token, "\r\n")] = 0;
  if (*token == 0) {
    fprintf(stderr, _("tally: %s holds no token\n"),
            strcmp(file, "-") == 0 ? "standard input" : file);
    return -1;
  }
  return 0;
}

const char *tally_cli_read_token(const char *file) {
  static char token[256];
  return tally_cli_read_token_into(file, token, sizeof token) == 0 ? token
                                                                   : NULL;
}

int tally_cli_option(tally_cli *c, int ch, const char *arg) {
  char *end;
  switch (ch) {
  case 's':
    c->server = arg;
    return 0;
  case OPT_SPOOL:
    c->spool = arg;
    return 0;
  case OPT_TOKEN_FILE:
    c->token_given = 1;
    c->token_stdin = strcmp(arg, "-") == 0;
    return (c->token = tally_cli_read_token(arg)) ? 0 : EXIT_USAGE;
  case OPT_CA:
    c->ca = *arg ? arg : NULL;
    return 0;
  case OPT_SERVER_NAME:
    c->server_name = arg;
    return 0;
  case OPT_INSECURE:
    c->insecure_plaintext = 1;
    return 0;
  case OPT_TIMEOUT:
    c->timeout_s = (int)strtol(arg, &end, 10);
    if (*arg == 0 || *end != 0 || c->timeout_s < 1 || c->timeout_s > 3600) {
      fprintf(stderr, _("tally: --timeout takes seconds from 1 to 3600, not "
              "'%s'\n"), arg);
      return EXIT_USAGE;
    }
    return 0;
  case OPT_NO_BOM:
    tally_output_bom(0);
    return 0;
  case OPT_WIDE:
    tally_output_fit(0);
    return 0;
  case OPT_KEEP_ACK: {
    /* 30d, 12h, 0: days by default. */
    long long v = strtoll(arg, &end, 10);
    long long unit = *end == 0 || strcmp(end, "d") == 0 ? 86400
                     : strcmp(end, "h") == 0            ? 3600
                                                        : -1;
    if (*arg == 0 || *arg == '-' || unit < 0 || v > 3650) {
      fprintf(stderr, _("tally: --keep-acknowledged takes days (30d) or hours "
              "(12h), up to 3650 days, not '%s'\n"), arg);
      return EXIT_USAGE;
    }
    c->keep_acknowledged_s = (int64_t)(v * unit);
    return 0;
  }
  case OPT_FORMAT:
    if (strcmp(arg, "table") == 0)
      c->format = FORMAT_TABLE;
    else if (strcmp(arg, "json") == 0)
      c->format = FORMAT_JSON;
    else if (strcmp(arg, "csv") == 0)
      c->format = FORMAT_CSV;
    else if (strcmp(arg, "html") == 0)
      c->format = FORMAT_HTML;
    else if (strcmp(arg, "pdf") == 0)
      c->format = FORMAT_PDF;
    else if (strcmp(arg, "xlsx") == 0)
      c->format = FORMAT_XLSX;
    else {
      fprintf(stderr, _("tally: --format is table, json or csv (tally report: "
              "also html, pdf or xlsx), not '%s'\n"), arg);
      return EXIT_USAGE;
    }
    return 0;
  }
  return EXIT_USAGE;
}

#define MAX_OWN 16

int tally_cli_parse(int argc, char **argv, tally_cli *c, const char *command,
                    const char *help, const tally_cli_opt *own,
                    int with_format) {
  static const struct option common[] = {TALLY_CLI_COMMON_OPTIONS};
  struct option all[MAX_OWN + 16];
  char letters[2 * MAX_OWN + 8] = "s:h";
  size_t n = 0, nl = strlen(letters), n_own = 0;
  int ch, rc;

  for (; own && own[n_own].name; n_own++) {
    const tally_cli_opt *o = &own[n_own];
    if (n_own == MAX_OWN)
      abort(); /* a command with too many options: a programming error */
    all[n++] = (struct option){o->name, o->value || o->list
                                                 ? required_argument
                                                 : no_argument,
                               NULL, o->letter ? o->letter
                                               : OPT_FIRST_OWN + (int)n_own};
    if (o->letter) {
      letters[nl++] = o->letter;
      if (o->value || o->list)
        letters[nl++] = ':';
    }
  }
  letters[nl] = 0;
  if (with_format)
    all[n++] = (struct option){"format", required_argument, NULL, OPT_FORMAT};
  for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
    all[n++] = common[i];
  all[n] = (struct option){NULL, 0, NULL, 0};

  while ((ch = getopt_long(argc, argv, letters, all, NULL)) != -1) {
    if (ch == 'h') {
      fputs(_(help), stdout);
      return -1;
    }
    if (ch == '?') {
      fprintf(stderr, _("Try 'tally help %s'.\n"), command);
      return EXIT_USAGE;
    }
    size_t i = 0;
    while (i < n_own &&
           ch != (own[i].letter ? own[i].letter : OPT_FIRST_OWN + (int)i))
      i++;
    if (i == n_own) {
      if ((rc = tally_cli_option(c, ch, optarg)) != 0)
        return rc;
    } else if (own[i].value) {
      *own[i].value = optarg;
    } else if (own[i].list) {
      if (own[i].list->n == TALLY_CLI_LIST_MAX) {
        fprintf(stderr, _("tally %s: --%s may be given at most %d times\n"),
                command, own[i].name, TALLY_CLI_LIST_MAX);
        return EXIT_USAGE;
      }
      own[i].list->values[own[i].list->n++] = optarg;
    } else {
      *own[i].flag = 1;
    }
  }
  if (c->format >= FORMAT_HTML && with_format < TALLY_CLI_FORMAT_FILES) {
    fprintf(stderr, _("tally %s: --format html, pdf and xlsx are for tally "
            "report; here it is table, json or csv\n"), command);
    return EXIT_USAGE;
  }
  return 0;
}

/* Whether word is one of the space-separated words of list. */
static int has_word(const char *list, const char *word) {
  size_t n = strlen(word);
  for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
      return 1;
  return 0;
}

int tally_cli_pick(const tally_cli_opt *all, const char *names,
                   tally_cli_opt *out) {
  size_t n = 0;
  for (; all->name; all++)
    if (has_word(names, all->name))
      out[n++] = *all;
  out[n] = (tally_cli_opt){NULL, 0, NULL, NULL, NULL};
  if (!has_word(names, "format"))
    return 0;
  return has_word(names, "files") ? TALLY_CLI_FORMAT_FILES : 1;
}

int tally_cli_no_operands(int argc, char **argv, const char *command) {
  if (optind >= argc)
    return 0;
  fprintf(stderr, _("tally %s: unexpected argument '%s'\nTry 'tally help %s'.\n"),
          command, argv[optind], command);
  return EXIT_USAGE;
}

int tally_cli_need(const char *value, const char *option, const char *command) {
  if (value && *value)
    return 0;
  fprintf(stderr, _("tally %s: %s is required\nTry 'tally help %s'.\n"), command,
          option, command);
  return EXIT_USAGE;
}

int tally_cli_need_period(const char *period, const char *command) {
  tally_period p;
  int rc = tally_cli_need(period, "--period", command);
  if (rc != 0 || tally_period_parse(period, &p) == 0)
    return rc;
  fprintf(stderr, _("tally %s: malformed period '%s': use 2022, 2022Q3 or "
          "2022-07 (years %d-%d)\n"), command, period, TALLY_PERIOD_MIN_YEAR,
          TALLY_PERIOD_MAX_YEAR);
  return EXIT_USAGE;
}

int tally_cli_open(const tally_cli *c, tally_client **out, char *why,
                   size_t n) {
  *out = NULL;
  if (c->server == NULL || *c->server == 0) {
    snprintf(why, n, "%s", _("no server set: tally login --server HOST:PORT "
                             "(or --server, or $TALLY_SERVER)"));
    return TALLY_EUSAGE;
  }
  if (strstr(c->server, "://")) {
    snprintf(why, n, _("--server takes HOST:PORT, not a URL ('%s'): for "
                       "TLS give the CA with --ca FILE"), c->server);
    return TALLY_EUSAGE;
  }
  tally_client_options o = {.address = c->server,
                            .timeout_ms = c->timeout_s * 1000,
                            .token = c->token,
                            .ca_file = c->ca,
                            .server_name = c->server_name,
                            .insecure_plaintext = c->insecure_plaintext,
                            .plaintext_hint = c->plaintext_hint};
  return tally_client_open(&o, out, why, n);
}

int tally_cli_connect(const tally_cli *c, tally_client **out) {
  char err[512];
  int rc = tally_cli_open(c, out, err, sizeof err);
  if (rc == 0)
    return 0;
  fprintf(stderr, "tally: %s\n", err);
  return rc == TALLY_EUSAGE ? EXIT_USAGE
         : rc == TALLY_ETLS ? EXIT_REFUSED
                            : EXIT_UNREACHABLE;
}

int tally_cli_call_on(const tally_cli *c, tally_client *cl,
                      Tally__Envelope *req, Tally__Envelope__BodyCase want,
                      Tally__Envelope **reply) {
  char err[256];
  int rc = tally_client_call(cl, req, reply, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "tally: %s\n", err);
    return EXIT_UNREACHABLE;
  }
  if ((*reply)->body_case == TALLY__ENVELOPE__BODY_ERROR) {
    fprintf(stderr, "tally: %s\n", (*reply)->error->message);
    if ((*reply)->error->code == TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED &&
        c->token == NULL)
      fputs(_("tally: no token given: see 'tally help login'\n"), stderr);
    return EXIT_REFUSED;
  }
  if ((*reply)->body_case != want) {
    fputs(_("tally: the server sent an unexpected reply\n"), stderr);
    return EXIT_REFUSED;
  }
  return 0;
}

int tally_cli_call(const tally_cli *c, Tally__Envelope *req,
                   Tally__Envelope__BodyCase want, Tally__Envelope **reply) {
  tally_client *cl;
  int rc;

  *reply = NULL;
  if ((rc = tally_cli_connect(c, &cl)) != 0)
    return rc;
  rc = tally_cli_call_on(c, cl, req, want, reply);
  tally_client_close(cl);
  return rc;
}

/* Frees n pages and their array. */
static void pages_free(Tally__Envelope **pages, size_t n) {
  for (size_t i = 0; i < n; i++)
    tally_wire_free(pages[i]);
  free(pages);
}

int tally_cli_pages(const tally_cli *c, Tally__Envelope *req,
                    Tally__Envelope__BodyCase want, tally_cli_turn_fn turn,
                    Tally__Envelope ***pages, size_t *n) {
  tally_client *cl;
  Tally__Envelope **got = NULL, *reply = NULL;
  size_t have = 0;
  int rc, more = 1;

  *pages = NULL;
  *n = 0;
  if ((rc = tally_cli_connect(c, &cl)) != 0)
    return rc;
  while (rc == 0 && more) {
    Tally__Envelope **grown = realloc(got, (have + 1) * sizeof *got);
    if (grown == NULL) {
      fputs(_("tally: out of memory\n"), stderr);
      rc = EXIT_REFUSED;
      break;
    }
    got = grown;
    reply = NULL;
    if ((rc = tally_cli_call_on(c, cl, req, want, &reply)) != 0) {
      tally_wire_free(reply);
      break;
    }
    got[have++] = reply;
    if ((more = turn(req, reply)) < 0) {
      fputs(_("tally: the server sent a page that does not move on\n"), stderr);
      rc = EXIT_REFUSED;
    }
  }
  tally_client_close(cl);
  if (rc != 0) {
    pages_free(got, have);
    return rc;
  }
  *pages = got;
  *n = have;
  return 0;
}

void tally_cli_number(char *buf, size_t n, double v) {
  snprintf(buf, n, "%.15g", v);
}

void tally_cli_change(char *buf, size_t n, double previous, double value) {
  double pct = previous ? (value / previous - 1) * 100 : 0;
  if (previous == 0)
    snprintf(buf, n, "from 0");
  else if (fabs(pct) < 99.95) /* +30.3% must not read +30% */
    snprintf(buf, n, "%+.1f%%", pct);
  else
    snprintf(buf, n, "%+.0f%%", pct);
}

/* A reporter reads its own unit: without --unit (*unit NULL), asks the
 * server which account this is, and sets *unit to a reporter's unit
 * (its text lives in *who, to free after). Returns 0 or an exit status. */
int tally_cli_own_unit(tally_cli *c, const char **unit,
                       Tally__Envelope **who) {
  Tally__WhoamiRequest w = TALLY__WHOAMI_REQUEST__INIT;
  Tally__Envelope wreq = TALLY__ENVELOPE__INIT;
  int rc;
  *who = NULL;
  if (*unit)
    return 0;
  wreq.body_case = TALLY__ENVELOPE__BODY_WHOAMI;
  wreq.whoami = &w;
  if ((rc = tally_cli_call(c, &wreq, TALLY__ENVELOPE__BODY_WHOAMI_REPLY,
                           who)) != 0) {
    tally_wire_free(*who); /* an error reply */
    *who = NULL;
    return rc;
  }
  const Tally__Account *a = (*who)->whoami_reply->account;
  if (a && a->role == TALLY__ROLE__ROLE_REPORTER)
    *unit = a->unit;
  return 0;
}

void tally_cli_time(char *buf, size_t n, int64_t unix_s) {
  tally_when_text(buf, n, unix_s);
}

int tally_cli_parse_time(const char *option, const char *text,
                         enum tally_when_day_is day, int64_t *out) {
  if (tally_when_parse(text, day, out) == 0)
    return 0;
  fprintf(stderr, _("tally: --%s '%s' is not a time: give %s\n"), option, text,
          _(TALLY_WHEN_FORMS));
  return -1;
}

static int find_command(const char *name) {
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(commands[i].name, name) == 0)
      return (int)i;
  return -1;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      TALLY_CLI_COMMON_OPTIONS,
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  static char spool[4096];
  static tally_config cfg;
  tally_cli c = {.timeout_s = 30, .format = FORMAT_TABLE,
                .keep_acknowledged_s = TALLY_CLI_KEEP_ACKNOWLEDGED_S};
  char path[4096], err[512];
  int ch, rc;

  /* Tables fit the terminal ($COLUMNS, else its width) unless --wide. */
  const char *columns = getenv("COLUMNS");
  struct winsize ws;
  if (columns && atoi(columns) > 0)
    tally_output_fit((size_t)atoi(columns));
  else if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
           ws.ws_col > 0)
    tally_output_fit(ws.ws_col);
  /* Display widths of Chinese text need a UTF-8 locale. */
  if (setlocale(LC_CTYPE, "") == NULL || MB_CUR_MAX == 1)
    setlocale(LC_CTYPE, "C.UTF-8");
  tally_i18n_init();
  if (tally_config_path(path, sizeof path) == 0 &&
      tally_config_load(path, &cfg, err, sizeof err) != 0) {
    fprintf(stderr, _("tally: %s\nFix or remove the config file.\n"), err);
    return EXIT_USAGE;
  }
  c.server = getenv("TALLY_SERVER");
  if (c.server == NULL || *c.server == 0)
    c.server = cfg.server; /* NULL: none set, and tally says so */
  c.token = getenv("TALLY_TOKEN");
  if (c.token == NULL || *c.token == 0)
    c.token = cfg.token;
  c.ca = getenv("TALLY_CA");
  if (c.ca == NULL || *c.ca == 0)
    c.ca = cfg.ca;
  c.server_name = cfg.server_name;
  if (tally_spool_default_dir(spool, sizeof spool) == 0)
    c.spool = spool;
  else
    c.spool = "./tally-spool";

  /* getopt's own messages begin with argv[0]: "tally", not its path;
   * a command's, with "tally COMMAND" (below). */
  argv[0] = "tally";
  /* "+": stop at the command; its options are parsed by the command. */
  while ((ch = getopt_long(argc, argv, "+s:hV", opts, NULL)) != -1) {
    switch (ch) {
    case 'h': fputs(_(usage), stdout); return EXIT_OK;
    case 'V': puts("tally " TALLY_VERSION); return EXIT_OK;
    case '?': fputs(_("Try 'tally --help'.\n"), stderr); return EXIT_USAGE;
    default:
      if ((rc = tally_cli_option(&c, ch, optarg)) != 0)
        return rc;
    }
  }
  if (optind >= argc) {
    fputs(_(usage), stderr);
    return EXIT_USAGE;
  }
  const char *name = argv[optind];
  if (strcmp(name, "help") == 0) {
    int i = optind + 1 < argc ? find_command(argv[optind + 1]) : -1;
    if (optind + 1 < argc && i < 0 && argv[optind + 1][0] != '-') {
      fprintf(stderr, _("tally: no command '%s'\n"), argv[optind + 1]);
      return EXIT_USAGE;
    }
    fputs(_(i >= 0 ? commands[i].usage : usage), stdout);
    return EXIT_OK;
  }
  int i = find_command(name);
  if (i < 0) {
    fprintf(stderr, _("tally: no command '%s'\nTry 'tally --help'.\n"), name);
    return EXIT_USAGE;
  }
  argc -= optind;
  argv += optind;
  static char who[64];
  snprintf(who, sizeof who, "tally %s", commands[i].name);
  argv[0] = who;
  /* 0, not 1: glibc then starts afresh, in its usual order that lets
   * options follow operands ("explain H02 --period 2022"). */
  optind = 0;
  return commands[i].run(argc, argv, &c);
}
