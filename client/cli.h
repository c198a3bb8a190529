/* cli.h: what the tally commands share: options, exit statuses, calls
 * to the server, and output. Each command lives in a cmd_*.c file. */
#ifndef TALLY_CLI_H
#define TALLY_CLI_H

#include "client.h"
#include "tally.pb-c.h"
#include "when.h"

#include <getopt.h>

/* Exit statuses. */
enum {
  EXIT_OK = 0,
  EXIT_REFUSED = 1,     /* the input or the server said no */
  EXIT_USAGE = 2,       /* the command line is wrong */
  EXIT_UNREACHABLE = 3  /* no answer from the server (a submission is kept) */
};

/* The files come last: only tally report writes them. */
enum tally_format { FORMAT_TABLE, FORMAT_JSON, FORMAT_CSV, FORMAT_HTML,
                    FORMAT_PDF, FORMAT_XLSX };

/* Options every command takes. Each comes from the command line, else
 * the environment, else the config file (client/config.h). */
typedef struct {
  const char *server;         /* HOST:PORT */
  int timeout_s;
  enum tally_format format;
  const char *spool;          /* the spool directory */
  const char *token;          /* signs requests in; NULL = none */
  int token_given;            /* the token came from --token-file */
  int token_stdin;            /* ... and that was standard input */
  const char *ca;             /* TLS: the CA file; NULL = plaintext */
  const char *server_name;    /* the name on the server's certificate */
  int insecure_plaintext;     /* a token in plaintext off the loopback */
  const char *plaintext_hint; /* how to do without it (tally_client_options) */
  int64_t keep_acknowledged_s; /* acknowledged submissions kept this long
                                  in the spool, to be sent again after a
                                  restore; 0 = none kept */
} tally_cli;

/* The default of --keep-acknowledged: 30 days. */
#define TALLY_CLI_KEEP_ACKNOWLEDGED_S (30 * 86400)

/* getopt codes of the options every command takes, beside 's'. */
enum { OPT_TIMEOUT = 256, OPT_FORMAT, OPT_SPOOL, OPT_TOKEN_FILE, OPT_CA,
       OPT_SERVER_NAME, OPT_INSECURE, OPT_NO_BOM, OPT_KEEP_ACK, OPT_WIDE,
       OPT_FIRST_OWN = 300 };

/* The getopt_long rows of those options, to include in a command's. */
#define TALLY_CLI_COMMON_OPTIONS                                               \
  {"server", required_argument, NULL, 's'},                                    \
      {"timeout", required_argument, NULL, OPT_TIMEOUT},                       \
      {"spool", required_argument, NULL, OPT_SPOOL},                           \
      {"token-file", required_argument, NULL, OPT_TOKEN_FILE},                 \
      {"ca", required_argument, NULL, OPT_CA},                                 \
      {"server-name", required_argument, NULL, OPT_SERVER_NAME},               \
      {"insecure-plaintext", no_argument, NULL, OPT_INSECURE},                 \
      {"no-bom", no_argument, NULL, OPT_NO_BOM},                               \
      {"keep-acknowledged", required_argument, NULL, OPT_KEEP_ACK},            \
      {"wide", no_argument, NULL, OPT_WIDE},                                   \
      {"help", no_argument, NULL, 'h'}

/* Applies one of the common options. Returns 0 or EXIT_USAGE. */
int tally_cli_option(tally_cli *c, int ch, const char *arg);

#define TALLY_CLI_LIST_MAX 64

/* The arguments of an option that may be given again and again. */
typedef struct {
  const char *values[TALLY_CLI_LIST_MAX];
  size_t n;
} tally_cli_list;

/* An option a command takes beside the common ones. */
typedef struct {
  const char *name;    /* the long name, "unit"; NULL ends a list */
  char letter;         /* the short one, 'u'; 0 = none */
  const char **value;  /* where its argument goes; NULL: it takes none */
  int *flag;           /* set to 1 when it is given (value NULL) */
  tally_cli_list *list; /* or: each argument, in order (value NULL) */
} tally_cli_opt;

/* tally_cli_parse's with_format for a command that also writes files
 * (html, pdf, xlsx); 1 takes table, json and csv only. */
#define TALLY_CLI_FORMAT_FILES 2

/* Parses a command's options: own (up to 16) and the common ones, and
 * --format when with_format is set. Returns 0 to go on, -1 after
 * printing usage for --help, or EXIT_USAGE (after saying why). */
int tally_cli_parse(int argc, char **argv, tally_cli *c, const char *command,
                    const char *usage, const tally_cli_opt *own,
                    int with_format);

/* Copies into out (room for all's entries and the end) the options of
 * all whose names the space-separated list names holds: for files whose
 * commands share one table but not every option. Returns whether names
 * holds "format" (tally_cli_parse's with_format): TALLY_CLI_FORMAT_FILES
 * when it also holds "files". */
int tally_cli_pick(const tally_cli_opt *all, const char *names,
                   tally_cli_opt *out);

/* For commands that take no operands: says so of the first one left
 * after tally_cli_parse and returns EXIT_USAGE; 0 when there is none. */
int tally_cli_no_operands(int argc, char **argv, const char *command);

/* Says that option is required by command; returns EXIT_USAGE (0 when
 * value is there). */
int tally_cli_need(const char *value, const char *option, const char *command);

/* tally_cli_need for --period, which must also parse as a period: says
 * why and returns EXIT_USAGE, or 0. */
int tally_cli_need_period(const char *period, const char *command);

/* Reads a token from a file ("-" = standard input): its first line, into
 * buf (n bytes), read unbuffered so that no stdio buffer keeps a copy.
 * Returns 0, or -1 after saying why. */
int tally_cli_read_token_into(const char *file, char *buf, size_t n);

/* tally_cli_read_token_into a static buffer: returns it, or NULL. */
const char *tally_cli_read_token(const char *file);

/* Connects with c's settings. Returns 0, or as tally_client_open with a
 * message in why. */
int tally_cli_open(const tally_cli *c, tally_client **out, char *why,
                   size_t n);

/* Connects, or says why not and returns the exit status. */
int tally_cli_connect(const tally_cli *c, tally_client **out);

/* Sends req on a new connection. On success *reply is a reply of type
 * want. Otherwise says why (the server's message on stderr) and returns
 * the exit status; *reply is then an error reply or NULL, and the
 * caller frees it. */
int tally_cli_call(const tally_cli *c, Tally__Envelope *req,
                   Tally__Envelope__BodyCase want, Tally__Envelope **reply);

/* The same on a connection already open (cl stays open): for commands
 * that make many requests. */
int tally_cli_call_on(const tally_cli *c, tally_client *cl,
                      Tally__Envelope *req, Tally__Envelope__BodyCase want,
                      Tally__Envelope **reply);

/* Reads reply, a page of a long answer (a history, an audit trail):
 * sets req's cursor for the next page and returns 1 when one follows,
 * 0 after the last, -1 when the cursor did not move on. */
typedef int (*tally_cli_turn_fn)(Tally__Envelope *req,
                                 const Tally__Envelope *reply);

/* Sends req on one connection and asks for page after page while turn
 * says one follows. On success *pages holds the *n replies, each of
 * type want, in order (the caller frees each with tally_wire_free, and
 * the array with free). Otherwise says why and returns the exit status,
 * as tally_cli_call. */
int tally_cli_pages(const tally_cli *c, Tally__Envelope *req,
                    Tally__Envelope__BodyCase want, tally_cli_turn_fn turn,
                    Tally__Envelope ***pages, size_t *n);

/* %.15g: whole numbers print without decimals. */
void tally_cli_number(char *buf, size_t n, double v);

/* The change from previous to value: "+35.2%", "-100%", "+900%", or
 * "from 0". */
void tally_cli_change(char *buf, size_t n, double previous, double value);

/* "2026-11-27 17:08:17 +0800": local time ($TZ, else the system's)
 * with its offset. JSON outputs keep Unix times (UTC) instead. */
void tally_cli_time(char *buf, size_t n, int64_t unix_s);

/* A time given on the command line (client/when.h: local time unless it
 * carries an offset or Z; a day alone is its start or its end, as day
 * says) into *out. Returns 0, or -1 after saying on stderr what option
 * took it and what it wants. */
int tally_cli_parse_time(const char *option, const char *text,
                         enum tally_when_day_is day, int64_t *out);

/* The commands. */
int tally_cmd_submit(int argc, char **argv, tally_cli *c);
int tally_cmd_withdraw(int argc, char **argv, tally_cli *c);
int tally_cmd_sync(int argc, char **argv, tally_cli *c);
int tally_cmd_pending(int argc, char **argv, tally_cli *c);
int tally_cmd_values(int argc, char **argv, tally_cli *c);
int tally_cmd_report(int argc, char **argv, tally_cli *c);
int tally_cmd_history(int argc, char **argv, tally_cli *c);
int tally_cmd_backup(int argc, char **argv, tally_cli *c);
int tally_cmd_admin(int argc, char **argv, tally_cli *c);
int tally_cmd_explain(int argc, char **argv, tally_cli *c);
int tally_cmd_completeness(int argc, char **argv, tally_cli *c);
int tally_cmd_catalog(int argc, char **argv, tally_cli *c);
int tally_cmd_form(int argc, char **argv, tally_cli *c);
int tally_cmd_target(int argc, char **argv, tally_cli *c);
int tally_cmd_account(int argc, char **argv, tally_cli *c);
int tally_cmd_audit(int argc, char **argv, tally_cli *c);
int tally_cmd_login(int argc, char **argv, tally_cli *c);
int tally_cmd_whoami(int argc, char **argv, tally_cli *c);
/* A reporter reads its own unit: without --unit (*unit NULL), asks the
 * server which account this is, and sets *unit to a reporter's unit
 * (its text lives in *who, to free after). Returns 0 or an exit status. */
int tally_cli_own_unit(tally_cli *c, const char **unit, Tally__Envelope **who);

int tally_cmd_check(int argc, char **argv, tally_cli *c);
int tally_cmd_validate(int argc, char **argv, tally_cli *c);
int tally_cmd_review(int argc, char **argv, tally_cli *c);
int tally_cmd_status(int argc, char **argv, tally_cli *c);
int tally_cmd_period(int argc, char **argv, tally_cli *c);
int tally_cmd_import(int argc, char **argv, tally_cli *c);
int tally_cmd_export(int argc, char **argv, tally_cli *c);
int tally_cmd_forward(int argc, char **argv, tally_cli *c);
int tally_cmd_units(int argc, char **argv, tally_cli *c);

extern const char tally_usage_submit[], tally_usage_withdraw[], tally_usage_sync[],
    tally_usage_pending[], tally_usage_values[], tally_usage_report[],
    tally_usage_history[], tally_usage_backup[], tally_usage_admin[],
    tally_usage_explain[],
    tally_usage_completeness[], tally_usage_catalog[], tally_usage_form[],
    tally_usage_target[], tally_usage_account[], tally_usage_audit[],
    tally_usage_login[], tally_usage_whoami[], tally_usage_check[],
    tally_usage_period[], tally_usage_validate[], tally_usage_review[],
    tally_usage_status[], tally_usage_import[], tally_usage_export[],
    tally_usage_forward[],
    tally_usage_units[];

#endif
