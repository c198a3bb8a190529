/* main.c: tallyd, the tally server, and tallyd init. */
#include "accounts.h"
#include "backup.h"
#include "catalog.h"
#include "error.h"
#include "frame.h"
#include "log.h"
#include "rollup.h"
#include "password.h"
#include "server.h"
#include "sessions.h"
#include "store.h"
#include "store_accounts.h"
#include "tls.h"
#include "settings.h"
#include "web.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#ifndef TALLYD_CONFIG_DEFAULT
#define TALLYD_CONFIG_DEFAULT "/etc/tally/tallyd.conf"
#endif

static const char usage[] =
    "usage: tallyd --data DIR [--config FILE] [options]\n"
    "       tallyd init --data DIR [--name NAME] [--recover]\n"
    "       tallyd backup [--data DIR] [DEST | --rotate]\n"
    "       tallyd restore BACKUP --data DIR\n"
    "\n"
    "Serves tally: accepts the figures that units submit, stores them in an\n"
    "LMDB store under DIR, and answers value and report requests.\n"
    "\n"
    "'tallyd init' creates the store and its first admin account, and\n"
    "prints the admin's token once; the server refuses a store without an\n"
    "admin. Every request must be signed in with a token (tally login);\n"
    "the admin adds the others' accounts with 'tally account add'.\n"
    "\n"
    "Settings come from the config file (--config FILE; by default\n"
    TALLYD_CONFIG_DEFAULT " when it exists), and the flags below\n"
    "override it; 'man tallyd.conf' has the file's sections and keys.\n"
    "\n"
    "options:\n"
    "      --config FILE     read the settings from FILE (INI: [store],\n"
    "                        [server], [tls], [web], [limits]); a key it\n"
    "                        does not know or a bad value stops tallyd with\n"
    "                        FILE:LINE\n"
    "  -d, --data DIR        the store directory, made by 'tallyd init'\n"
    "  -l, --listen ADDR     address to listen on, HOST:PORT or [HOST6]:PORT\n"
    "                        (default 127.0.0.1:7300; port 0 picks a free port);\n"
    "                        again for each address more (at most 8)\n"
    "  -c, --catalog FILE    the indicator catalog (JSON); default: the\n"
    "                        built-in Changqing catalog (catalog/changqing.json)\n"
    "      --check-catalog   load and check the catalog, print a summary, exit\n"
    "      --max-frame BYTES largest request accepted (default 1048576)\n"
    "      --map-size MIB    LMDB map size to start with, in MiB (default\n"
    "                        1024); it doubles when full, up to --max-map-size\n"
    "      --max-map-size MIB  the largest map (default: no limit); past it\n"
    "                        writes get a clear error and reads go on\n"
    "      --idle-timeout SECONDS  close a connection that completes no\n"
    "                        request within this time (default 120)\n"
    "      --max-connections N  answer connections past N with \"busy\"\n"
    "                        (default 1000); when all are taken, the one\n"
    "                        that has gone longest without signing in is\n"
    "                        closed to make room\n"
    "      --sign-in-timeout SECONDS  close a connection that has not signed\n"
    "                        in within this time of opening, whatever it\n"
    "                        sends (default 10)\n"
    "      --max-per-address N  connections not signed in yet from one\n"
    "                        address (IPv6: one /64); more are answered\n"
    "                        \"busy\" (default 32). These three hold for\n"
    "                        --http too, TCP and the web pages each counting\n"
    "                        their own:\n"
    "                        a connection there is signed in once it is\n"
    "                        a WebSocket with a session\n"
    "      --memory-budget MIB  the memory all connections may hold together\n"
    "                        in replies not yet taken and requests partly\n"
    "                        read (default 256); past it they wait, or a\n"
    "                        large request gets \"busy\"\n"
    "      --tls-cert FILE   speak TLS with this certificate (PEM: the\n"
    "                        server's certificate, then any intermediates)\n"
    "      --tls-key FILE    its private key (PEM, unencrypted); --tls-cert\n"
    "                        and --tls-key go together. deploy/make-ca.sh\n"
    "                        makes a CA, a certificate and a key\n"
    "      --backup-dir DIR  make the backups admins ask for ('tally backup\n"
    "                        NAME') in DIR, an existing directory apart from\n"
    "                        the store's; without it, backups are refused\n"
    "      --insecure-plaintext  allow plaintext on an address other than\n"
    "                        the loopback (127.0.0.0/8, ::1, localhost); only\n"
    "                        for a network that is protected otherwise\n"
    "      --http ADDR       also serve the web pages on ADDR (HOST:PORT):\n"
    "                        HTTPS with --tls-cert and --tls-key, plain HTTP\n"
    "                        on the loopback only (unless\n"
    "                        --insecure-plaintext); again for each address\n"
    "                        more (at most 8)\n"
    "      --web-dir DIR     the built web app (default: web/ beside tallyd,\n"
    "                        or ../share/tally/web)\n"
    "      --session-timeout SECONDS  how long a web sign-in lasts (default\n"
    "                        28800: eight hours)\n"
    "      --log-format auto|text|json|journal  how log lines look\n"
    "                        (default auto: journal, with syslog\n"
    "                        severities and no timestamp, when standard\n"
    "                        error is systemd's journal; text otherwise)\n"
    "      --cert-warn-days N  warn in the log this many days before the\n"
    "                        TLS certificate ends (default 30)\n"
    "  -h, --help            this help\n"
    "  -V, --version         the version\n"
    "\n"
    "On start it prints \"listening on ADDR\" on standard output, and \"web\n"
    "pages on ORIGIN\" for each --http; it logs one\n"
    "line per connection and per submission on standard error. SIGHUP\n"
    "reads the config file again: a new certificate and key (for new\n"
    "connections; open ones go on), the limits and the log format; other\n"
    "changes take a restart, and the log says so. SIGINT or\n"
    "SIGTERM stops it cleanly: it stops accepting, sends the replies it owes,\n"
    "and closes the store. If a write to the disk fails so that LMDB refuses\n"
    "the store from then on, it logs so, stops the same way and exits with\n"
    "status 3, to be restarted.\n"
    "\n"
    "Without TLS it listens only on the loopback, unless --insecure-plaintext\n"
    "is given. Clients reach a TLS server with 'tally --ca FILE', FILE being\n"
    "the CA certificate that signed the server's.\n";

struct options {
  tally_settings s;        /* from the config file, then the flags */
  char config[4096];       /* the config file read, "" = none */
  int check_catalog;
};

/* The config file the command line names (--config FILE, the last one),
 * else the default when it exists; "" for none. Returns 0, or 2 (a bad command
 * line) after saying why. */
static int config_path(int argc, char **argv, char *buf, size_t n,
                       char *err, size_t errlen) {
  struct stat st;
  buf[0] = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0)
      break;
    if (strcmp(argv[i], "--config") == 0) {
      if (i + 1 >= argc) {
        snprintf(err, errlen, "--config needs a FILE");
        return 2;
      }
      snprintf(buf, n, "%s", argv[++i]); /* the last one counts */
    } else if (strncmp(argv[i], "--config=", 9) == 0) {
      snprintf(buf, n, "%s", argv[i] + 9);
    }
  }
  if (buf[0] == 0 && stat(TALLYD_CONFIG_DEFAULT, &st) == 0)
    snprintf(buf, n, "%s", TALLYD_CONFIG_DEFAULT);
  return 0;
}

/* The settings: the config file's, then the flags over them. Returns 0,
 * 1 (help or version printed: exit 0) or 2 (a bad setting: why in err).
 * Called again on SIGHUP. */
static int parse_args(int argc, char **argv, struct options *o, char *err,
                      size_t errlen) {
  enum { OPT_CHECK = 256, OPT_CONFIG, OPT_SETTING };
  static const struct option fixed[] = {
      {"data", required_argument, NULL, 'd'},
      {"listen", required_argument, NULL, 'l'},
      {"catalog", required_argument, NULL, 'c'},
      {"check-catalog", no_argument, NULL, OPT_CHECK},
      {"config", required_argument, NULL, OPT_CONFIG},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'}};
  /* Every other long option is a setting (settings.c's table). */
  static const char *const settings[] = {
      "max-frame", "map-size", "max-map-size", "idle-timeout",
      "max-connections", "sign-in-timeout", "max-per-address",
      "memory-budget", "tls-cert", "tls-key", "insecure-plaintext",
      "backup-dir", "http", "web-dir", "session-timeout", "log-format",
      "cert-warn-days"};
  enum { N_FIXED = sizeof fixed / sizeof fixed[0],
         N_SETTINGS = sizeof settings / sizeof settings[0] };
  struct option longopts[N_FIXED + N_SETTINGS + 1];
  int ch, index, takes;

  memcpy(longopts, fixed, sizeof fixed);
  for (int i = 0; i < N_SETTINGS; i++) {
    tally_settings_known(settings[i], &takes);
    longopts[N_FIXED + i] = (struct option){
        settings[i], takes ? required_argument : no_argument, NULL,
        OPT_SETTING};
  }
  longopts[N_FIXED + N_SETTINGS] = (struct option){NULL, 0, NULL, 0};

  tally_settings_init(&o->s);
  o->check_catalog = 0;
  if (config_path(argc, argv, o->config, sizeof o->config, err, errlen) != 0)
    return 2;
  if (o->config[0] && tally_settings_read(&o->s, o->config, err, errlen) != 0)
    return 2;
  optind = 0; /* from the start, also when read again (SIGHUP) */
  while ((ch = getopt_long(argc, argv, "d:l:c:hV", longopts, &index)) != -1) {
    const char *name = NULL;
    switch (ch) {
    case 'd': name = "data"; break;
    case 'l': name = "listen"; break;
    case 'c': name = "catalog"; break;
    case OPT_SETTING: name = longopts[index].name; break;
    case OPT_CHECK: o->check_catalog = 1; continue;
    case OPT_CONFIG: continue; /* read first */
    case 'h': fputs(usage, stdout); return 1;
    case 'V': puts("tallyd " TALLY_VERSION); return 1;
    default:
      snprintf(err, errlen, "%s: not an option", argv[optind - 1]);
      return 2;
    }
    if (tally_settings_set(&o->s, name, optarg, err, errlen) != 0)
      return 2;
  }
  if (optind < argc) {
    snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
    return 2;
  }
  if ((o->s.tls_cert == NULL) != (o->s.tls_key == NULL)) {
    snprintf(err, errlen, "%s needs %s too (in the config file: cert and "
             "key of [tls])", o->s.tls_cert ? "--tls-cert" : "--tls-key",
             o->s.tls_cert ? "--tls-key" : "--tls-cert");
    return 2;
  }
  if (o->s.data == NULL && !o->check_catalog) {
    snprintf(err, errlen, "--data DIR is required (or data in the [store] "
             "section of the config file)");
    return 2;
  }
  return 0;
}

/* The built web app: DIR given, else web/ beside the tallyd binary (a
 * build tree), else ../share/tally/web from it (an install). Returns 0
 * with the directory in buf, or -1. */
static int find_web_dir(const char *given, char *buf, size_t n) {
  char exe[2048];
  struct stat st;
  if (given) {
    snprintf(buf, n, "%s", given);
    return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
  }
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n < sizeof exe + 32)
    return -1;
  if (len <= 0)
    return -1;
  exe[len] = 0;
  char *slash = strrchr(exe, '/');
  if (slash == NULL)
    return -1;
  *slash = 0;
  static const char *const where[] = {"%s/web", "%s/../share/tally/web"};
  for (size_t i = 0; i < 2; i++) {
    char index[4200];
    snprintf(buf, n, where[i], exe);
    snprintf(index, sizeof index, "%s/index.html", buf);
    if (stat(index, &st) == 0)
      return 0;
  }
  return -1;
}

struct stopper {
  uv_signal_t sigint;
  uv_signal_t sigterm;
  uv_signal_t sighup;    /* reload: the certificate, the limits */
  uv_timer_t watchdog;   /* systemd's watchdog, when it watches */
  uv_timer_t daily;      /* the certificate's end looked at */
  uv_async_t failed;     /* the store went into LMDB's panic state */
  tally_server *server;
  tally_web *web;             /* NULL without --http */
  tally_store *store;
  tally_health *health;
  tally_tls *tls;        /* the certificate in use (owned); NULL: none */
  const char *dir;
  const tally_settings *start; /* what it started with */
  int argc;              /* the command line, read again on SIGHUP */
  char **argv;
  size_t cert_warn_days;
  int stopping;
  int store_failed;      /* exit non-zero: a supervisor restarts it */
};

/* Warns when the certificate ends within the days set (30 by default),
 * and says so louder once it has. */
static void cert_check(struct stopper *st) {
  int64_t end = st->health->cert_not_after, now = (int64_t)time(NULL);
  char when[64];
  if (end == 0)
    return;
  time_t t = (time_t)end;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
  if (end <= now)
    tally_log_err("the TLS certificate expired on %s: clients refuse it; "
                  "put a new one in place and send tallyd SIGHUP "
                  "(systemctl reload tally)", when);
  else if (end - now <= (int64_t)st->cert_warn_days * 86400)
    tally_log_warn("the TLS certificate expires on %s, in %lld days: put a "
                   "new one in place and send tallyd SIGHUP (systemctl "
                   "reload tally)", when, (long long)((end - now) / 86400));
}

static void on_daily(uv_timer_t *h) { cert_check(h->data); }

static void on_watchdog(uv_timer_t *h) { sd_notify(0, "WATCHDOG=1"); }

/* A setting that takes a restart: said, not applied. */
static void restart_needed(const char *name, const char *was,
                           const char *now) {
  if ((was == NULL) != (now == NULL) || (was && strcmp(was, now) != 0))
    tally_log_warn("reload: %s changed; it takes a restart (kept as it was "
                   "until then)", name);
}

/* Adds word to the space-separated line in buf (n bytes), as much of it
 * as fits. */
static void join_add(char *buf, size_t n, const char *word) {
  size_t k = strlen(buf);
  if (k + 1 < n)
    snprintf(buf + k, n - k, "%s%s", k ? " " : "", word);
}

/* Addresses in one line, "127.0.0.1:7300 [::1]:7300" ("" for none). */
static void listen_text(const tally_settings_addresses *a, char *buf,
                        size_t n) {
  buf[0] = 0;
  for (size_t i = 0; i < a->n; i++)
    join_add(buf, n, a->at[i]);
}

/* The server's listen addresses from the settings. */
static void listen_config(const tally_settings *o, tally_server_config *cfg) {
  _Static_assert(TALLY_SETTINGS_LISTEN_MAX == TALLY_SERVER_LISTEN_MAX,
                 "as many addresses in the settings as the server takes");
  cfg->listen = o->listen.at[0];
  for (size_t i = 1; i < o->listen.n; i++)
    cfg->also_listen[i - 1] = o->listen.at[i];
}

/* The web pages' addresses from the settings. */
static void web_listen_config(const tally_settings *o, tally_web_config *cfg) {
  _Static_assert(TALLY_SETTINGS_LISTEN_MAX == TALLY_WEB_LISTEN_MAX,
                 "as many web addresses in the settings as web.c takes");
  for (size_t i = 0; i < o->http.n; i++)
    cfg->listen[i] = o->http.at[i];
  cfg->n_listen = o->http.n;
}

/* The web pages' origins in one line, "http://127.0.0.1:8080 ...". */
static void origins_text(const tally_web *web, char *buf, size_t n) {
  buf[0] = 0;
  for (size_t i = 0; i < tally_web_n_origins(web); i++)
    join_add(buf, n, tally_web_origin_at(web, i));
}

/* SIGHUP: the config file and the command line read again. The
 * certificate and key are loaded afresh (new connections get them;
 * open ones keep theirs), and the limits, the log format and the
 * warning days apply at once; the rest waits for a restart, and says
 * so. A file that does not read keeps everything as it was. */
static void on_sighup(uv_signal_t *h, int signum) {
  struct stopper *st = h->data;
  const tally_settings *was = st->start;
  struct options now;
  char err[1024];
  sd_notify(0, "RELOADING=1");
  int rc = parse_args(st->argc, st->argv, &now, err, sizeof err);
  if (rc != 0) {
    tally_log_err("reload refused, nothing changed: %s", err);
    tally_settings_free(&now.s);
    goto out;
  }
  if (now.s.tls_cert && st->tls) {
    tally_tls *fresh;
    if (tally_tls_new(now.s.tls_cert, now.s.tls_key, &fresh, err,
                      sizeof err) != 0) {
      tally_log_err("reload: the certificate is kept as it was: %s", err);
    } else {
      tally_server_set_tls(st->server, fresh);
      tally_tls_free(st->tls); /* open sessions hold their own reference */
      st->tls = fresh;
      st->health->cert_not_after = tally_tls_not_after(fresh);
      if (st->web && tally_web_reload_tls(st->web, now.s.tls_cert,
                                          now.s.tls_key, err, sizeof err) != 0)
        tally_log_warn("reload: the web pages keep their certificate until "
                       "a restart: %s", err);
      tally_log("reload: the certificate %s and key %s loaded",
                now.s.tls_cert, now.s.tls_key);
    }
  } else if ((now.s.tls_cert != NULL) != (st->tls != NULL)) {
    tally_log_warn("reload: TLS was turned %s; it takes a restart",
                   now.s.tls_cert ? "on" : "off");
  }
  tally_server_config limits = {
      .idle_timeout_ms = (unsigned)(now.s.idle_timeout_s * 1000),
      .max_connections = (unsigned)now.s.max_connections,
      .sign_in_timeout_ms = (unsigned)(now.s.sign_in_timeout_s * 1000),
      .max_per_address = (unsigned)now.s.max_per_address};
  tally_server_set_limits(st->server, &limits);
  tally_log_set_format(now.s.log_format);
  st->cert_warn_days = now.s.cert_warn_days;
  restart_needed("data", was->data, now.s.data);
  char was_listen[1024], now_listen[1024];
  listen_text(&was->listen, was_listen, sizeof was_listen);
  listen_text(&now.s.listen, now_listen, sizeof now_listen);
  restart_needed("listen", was_listen, now_listen);
  listen_text(&was->http, was_listen, sizeof was_listen);
  listen_text(&now.s.http, now_listen, sizeof now_listen);
  restart_needed("the web pages' listen (http)", was_listen, now_listen);
  restart_needed("catalog", was->catalog, now.s.catalog);
  restart_needed("backup-dir", was->backup_dir, now.s.backup_dir);
  restart_needed("web-dir", was->web_dir, now.s.web_dir);
  if (was->max_frame != now.s.max_frame || was->map_size != now.s.map_size ||
      was->max_map_size != now.s.max_map_size ||
      was->memory_budget != now.s.memory_budget ||
      was->session_s != now.s.session_s ||
      was->insecure_plaintext != now.s.insecure_plaintext)
    tally_log_warn("reload: max-frame, map-size, max-map-size, "
                   "memory-budget, session-timeout and insecure-plaintext "
                   "take a restart (kept as they were until then)");
  cert_check(st);
  tally_log("reload: done (%s)", now.config[0] ? now.config
                                               : "no config file");
  tally_settings_free(&now.s);
out:
  sd_notify(0, "READY=1");
}

/* Stops the server and closes the signal and failure handles, so that
 * the loop runs out once the connections have closed. */
static void stop(struct stopper *st) {
  if (st->stopping)
    return;
  st->stopping = 1;
  sd_notify(0, "STOPPING=1");
  tally_store_on_failure(st->store, NULL, NULL); /* before the handle goes */
  if (st->web)
    tally_web_stop(st->web);
  tally_server_stop(st->server);
  uv_close((uv_handle_t *)&st->sigint, NULL);
  uv_close((uv_handle_t *)&st->sigterm, NULL);
  uv_close((uv_handle_t *)&st->sighup, NULL);
  uv_close((uv_handle_t *)&st->watchdog, NULL);
  uv_close((uv_handle_t *)&st->daily, NULL);
  uv_close((uv_handle_t *)&st->failed, NULL);
}

/* SIGINT or SIGTERM: stop cleanly. */
static void on_signal(uv_signal_t *h, int signum) {
  tally_log("received %s: stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
  stop(h->data);
}

/* From any thread: the store failed. */
static void on_store_failure(void *arg) { uv_async_send(arg); }

/* On the loop: a commit could not write to the disk, and LMDB fails
 * every read and write from then on, until the process restarts. The
 * server stops (sending the replies it owes: errors) and exits
 * non-zero. What was acknowledged is committed on disk. */
static void on_failed(uv_async_t *h) {
  struct stopper *st = h->data;
  tally_log_err("the store in %s is in a failed state: a write to its disk "
            "failed and LMDB refuses every read and write until restarted; "
            "stopping: the server must be restarted (what was acknowledged "
            "is on disk)", st->dir);
  st->store_failed = 1;
  stop(st);
}

static const char init_usage[] =
    "usage: tallyd init [--data DIR] [--config FILE] [--name NAME] [--recover]\n"
    "\n"
    "Creates the store in DIR (and DIR and its parents, if missing; default:\n"
    "data in the config file's [store]) and its first admin account, and\n"
    "prints the admin's token on standard output. The token is shown only\n"
    "this once: the store keeps its SHA-256 alone. Keep it safe; use it with\n"
    "'tally login' to add the other accounts. A store that already has\n"
    "accounts is left as it is.\n"
    "\n"
    "options:\n"
    "  -d, --data DIR   the store directory; if init fails, what it made is\n"
    "                   taken away again\n"
    "      --config FILE  where data comes from without --data\n"
    "  -n, --name NAME  the admin's name (default \"administrator\")\n"
    "      --recover    add an admin to a store that has accounts already,\n"
    "                   when every admin token is lost: run on the server's\n"
    "                   host, by whoever may read the store; the audit trail\n"
    "                   records it. A running tallyd knows the new account\n"
    "                   once restarted.\n"
    "  -h, --help       this help\n";

static int store_settings(const char *cmd, int argc, char **argv,
                          tally_settings *s, char *err, size_t n);

/* The nearest ancestor of dir (or dir) that does not exist, into buf:
 * what a failed init must take away again; "" when dir exists. */
static void first_missing(const char *dir, char *buf, size_t n) {
  char path[4096];
  struct stat st;
  buf[0] = 0;
  snprintf(path, sizeof path, "%s", dir);
  while (path[0] && stat(path, &st) != 0 && errno == ENOENT) {
    snprintf(buf, n, "%s", path);
    char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path)
      break;
    *slash = 0;
  }
}

/* Takes away what a failed init made: the store's files, and the
 * directories from dir up to top (the first that was missing). */
static void init_unmake(const char *dir, const char *top) {
  static const char *const files[] = {"data.mdb", "lock.mdb", "tallyd.pid"};
  char path[4200];
  if (top[0] == 0)
    return; /* the directory was there: a store in it is not ours */
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    unlink(path);
  }
  snprintf(path, sizeof path, "%s", dir);
  for (;;) {
    rmdir(path);
    if (strcmp(path, top) == 0)
      break;
    char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path)
      break;
    *slash = 0;
  }
}

/* tallyd init: the store and its first admin. */
static int init_main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"config", required_argument, NULL, 'C'},
      {"data", required_argument, NULL, 'd'},
      {"name", required_argument, NULL, 'n'},
      {"recover", no_argument, NULL, 'r'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *data = NULL, *name = "administrator";
  int recover = 0;
  tally_store *store = NULL;
  tally_accounts *accounts = NULL;
  tally_settings set;
  char err[1024], token[TALLY_TOKEN_MAX], top[4096];
  int ch, rc, status = 1, made;

  /* --data, else the config file's (under the package: sudo -u tally
   * tallyd init > admin.token). */
  if (store_settings("init", argc, argv, &set, err, sizeof err) != 0)
    return 2;
  data = set.data;
  optind = 0;
  while ((ch = getopt_long(argc, argv, "d:n:h", longopts, NULL)) != -1) {
    switch (ch) {
    case 'C': break;
    case 'd': data = optarg; break;
    case 'n': name = optarg; break;
    case 'r': recover = 1; break;
    case 'h':
      fputs(init_usage, stdout);
      status = 0;
      goto done;
    default:
      fputs("Try 'tallyd init --help'.\n", stderr);
      status = 2;
      goto done;
    }
  }
  if (optind < argc || data == NULL) {
    fputs(data ? "tallyd init: unexpected argument\n"
               : "tallyd init: --data DIR is required\n", stderr);
    fputs("Try 'tallyd init --help'.\n", stderr);
    status = 2;
    goto done;
  }
  if (*name == 0 || strlen(name) > TALLY_ACCOUNT_NAME_MAX) {
    fprintf(stderr, "tallyd init: the name must be 1-%d characters\n",
            TALLY_ACCOUNT_NAME_MAX);
    status = 2;
    goto done;
  }
  char file[4096];
  struct stat fs;
  snprintf(file, sizeof file, "%s/data.mdb", data);
  if (recover && stat(file, &fs) != 0) {
    fprintf(stderr, "tallyd init --recover: there is no store in %s to "
            "recover\n", data);
    status = 1;
    goto done;
  }
  /* Its parents too; and if it fails, nothing is left behind. */
  first_missing(data, top, sizeof top);
  if (tally_backup_mkdirs(data, &made, err, sizeof err) != 0) {
    fprintf(stderr, "tallyd init: %s\n", err);
    init_unmake(data, top);
    status = 1;
    goto done;
  }
  if ((rc = tally_store_open(data, 0, 0, &store)) != 0) {
    tally_store_explain(data, rc, err, sizeof err);
    fprintf(stderr, "tallyd init: %s\n", err);
    init_unmake(data, top);
    status = 1;
    goto done;
  }
  if ((rc = tally_accounts_load(store, NULL, &accounts, err, sizeof err)) != 0) {
    fprintf(stderr, "tallyd init: %s\n", err);
    goto out;
  }
  if (tally_accounts_count(accounts) > 0 && !recover) {
    fprintf(stderr, "tallyd init: the store in %s already has accounts; "
            "an admin adds more with 'tally account add' (and if every "
            "admin token is lost: tallyd init --recover)\n", data);
    goto out;
  }

  tally_token_secret secret;
  Tally__Account a = TALLY__ACCOUNT__INIT;
  Tally__StoredAccount stored = TALLY__STORED_ACCOUNT__INIT;
  Tally__StoredAccount *list[1] = {&stored};
  tally_store_actor who = {0, recover ? "tallyd init --recover" : "tallyd init",
                           "local", (int64_t)time(NULL)};
  uint64_t id;
  if ((rc = tally_token_new(&secret)) != 0) {
    fputs("tallyd init: the system's random number generator failed\n", stderr);
    goto out;
  }
  a.name = (char *)name;
  a.role = TALLY__ROLE__ROLE_ADMIN;
  a.unit = "";
  a.created_unix = who.now;
  stored.account = &a;
  stored.secret_sha256.data = secret.sha256;
  stored.secret_sha256.len = 32;
  char words[TALLY_ACCOUNT_WORDS_MAX];
  const char *after[] = {words};
  tally_account_words(&a, words);
  if ((rc = tally_store_account_add(store, list, 1, after, &id, &who)) != 0) {
    tally_token_wipe(&secret, sizeof secret);
    fprintf(stderr, "tallyd init: the account could not be stored: %s\n",
            tally_strerror(rc));
    goto out;
  }
  tally_token_text(id, &secret, token);
  tally_token_wipe(&secret, sizeof secret);
  fprintf(stderr, "tallyd init: store %s ready; admin account %llu (\"%s\") "
          "made.\nIts token follows, shown this once; keep it safe (tally "
          "login reads it from standard input).\n",
          data, (unsigned long long)id, name);
  printf("%s\n", token);
  fflush(stdout);
  tally_token_wipe(token, sizeof token);
  status = 0;
out:
  tally_accounts_free(accounts);
  tally_store_close(store);
  if (status != 0)
    init_unmake(data, top);
done:
  tally_settings_free(&set);
  return status;
}

static const char backup_usage[] =
    "usage: tallyd backup [--config FILE] [--data DIR] DEST\n"
    "       tallyd backup [--config FILE] [--data DIR] --rotate [--backup-dir DIR]\n"
    "\n"
    "Copies the store in DIR (default: data in the config file's [store]),\n"
    "compacted, into the new file DEST: one consistent snapshot, made by\n"
    "this second process while tallyd goes on serving (no token needed: it\n"
    "reads the store's files, so it runs as the user that owns them).\n"
    "\n"
    "--rotate makes the day's copy in the backup folder (--backup-dir, or\n"
    "backup-dir in [store]) as daily/YYYY-MM-DD.mdb, keeps the month's\n"
    "first as monthly/YYYY-MM.mdb, and removes the daily copies past the\n"
    "newest 14 and the monthly past the newest 12. The package's timer\n"
    "(tally-backup.timer) runs it every day.\n"
    "\n"
    "A copy holds every figure and the accounts' token hashes: it is made\n"
    "mode 0600. 'tallyd restore' puts one back.\n";

static const char restore_usage[] =
    "usage: tallyd restore BACKUP [--config FILE] [--data DIR] [--catalog FILE]\n"
    "\n"
    "Restores the backup file BACKUP into DIR (default: data in the config\n"
    "file's [store]), which must hold no store: stop tallyd and move the\n"
    "old directory away first. DIR and its parents are made if missing.\n"
    "The backup is copied, never served itself; the copy's sums are then\n"
    "checked against its figures, as 'tally admin verify' does, and the\n"
    "restore says from when the backup is. If anything fails, what it made\n"
    "is removed. Then start tallyd, and have the offices send again what\n"
    "was acknowledged since: 'tally sync --resend-since DATE'.\n";

/* The settings a store command reads: --config, --data, --backup-dir,
 * --catalog; the rest of argv (options of its own) is left to it.
 * Returns 0, or 2 after saying why. */
static int store_settings(const char *cmd, int argc, char **argv,
                          tally_settings *s, char *err, size_t n) {
  char config[4096];
  tally_settings_init(s);
  if (config_path(argc, argv, config, sizeof config, err, n) != 0 ||
      (config[0] && tally_settings_read(s, config, err, n) != 0)) {
    fprintf(stderr, "tallyd %s: %s\n", cmd, err);
    return 2;
  }
  return 0;
}

static const char *pretty_time(char *buf, size_t n, int64_t t) {
  time_t tt = (time_t)t;
  struct tm tm;
  localtime_r(&tt, &tm);
  strftime(buf, n, "%Y-%m-%d %H:%M:%S %z", &tm);
  return buf;
}

/* tallyd backup: a copy of the live store, from the command line. */
static int backup_main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"config", required_argument, NULL, 'C'},
      {"data", required_argument, NULL, 'd'},
      {"backup-dir", required_argument, NULL, 'b'},
      {"rotate", no_argument, NULL, 'r'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  tally_settings s;
  char err[1024], made[4400];
  int ch, rotate = 0, status = 2;
  uint64_t bytes;

  if (store_settings("backup", argc, argv, &s, err, sizeof err) != 0)
    goto out;
  optind = 0;
  while ((ch = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
    switch (ch) {
    case 'C': break;
    case 'd': tally_settings_set(&s, "data", optarg, err, sizeof err); break;
    case 'b':
      tally_settings_set(&s, "backup-dir", optarg, err, sizeof err);
      break;
    case 'r': rotate = 1; break;
    case 'h': fputs(backup_usage, stdout); status = 0; goto out;
    default: fputs("Try 'tallyd backup --help'.\n", stderr); goto out;
    }
  }
  if (s.data == NULL || (rotate ? optind != argc : optind + 1 != argc) ||
      (rotate && s.backup_dir == NULL)) {
    fprintf(stderr, "tallyd backup: %s\nTry 'tallyd backup --help'.\n",
            s.data == NULL ? "--data DIR is required (or data in [store])"
            : rotate && s.backup_dir == NULL
                ? "--rotate needs --backup-dir DIR (or backup-dir in [store])"
                : rotate ? "--rotate takes no DEST"
                         : "give one DEST, the new backup file");
    goto out;
  }
  status = 1;
  if (rotate) {
    int removed;
    if (tally_backup_rotate(s.data, s.backup_dir, (int64_t)time(NULL),
                            TALLY_BACKUP_KEEP_DAILY, TALLY_BACKUP_KEEP_MONTHLY,
                            made, sizeof made, &bytes, &removed, err,
                            sizeof err) != 0) {
      tally_log_err("backup of %s failed: %s", s.data, err);
      goto out;
    }
    tally_log("backup: %s, %llu bytes; %d old copies removed (14 daily and "
              "12 monthly are kept)", made, (unsigned long long)bytes,
              removed);
  } else {
    if (tally_backup_copy(s.data, argv[optind], &bytes, err, sizeof err) != 0) {
      fprintf(stderr, "tallyd backup: %s\n", err);
      goto out;
    }
    printf("backup of %s written to %s (%llu bytes)\n", s.data, argv[optind],
           (unsigned long long)bytes);
  }
  status = 0;
out:
  tally_settings_free(&s);
  return status;
}

/* tallyd restore: a backup copied into a new data directory, checked. */
static int restore_main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"config", required_argument, NULL, 'C'},
      {"data", required_argument, NULL, 'd'},
      {"catalog", required_argument, NULL, 'c'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  tally_settings s;
  tally_catalog *cat = NULL;
  tally_backup_restored got;
  char err[1024], made[64], newest[64];
  int ch, status = 2;

  if (store_settings("restore", argc, argv, &s, err, sizeof err) != 0)
    goto out;
  optind = 0;
  while ((ch = getopt_long(argc, argv, "d:c:h", longopts, NULL)) != -1) {
    switch (ch) {
    case 'C': break;
    case 'd': tally_settings_set(&s, "data", optarg, err, sizeof err); break;
    case 'c': tally_settings_set(&s, "catalog", optarg, err, sizeof err); break;
    case 'h': fputs(restore_usage, stdout); status = 0; goto out;
    default: fputs("Try 'tallyd restore --help'.\n", stderr); goto out;
    }
  }
  if (s.data == NULL || optind + 1 != argc) {
    fprintf(stderr, "tallyd restore: %s\nTry 'tallyd restore --help'.\n",
            s.data == NULL ? "--data DIR is required (or data in [store])"
                           : "give one BACKUP file");
    goto out;
  }
  status = 1;
  int rc = s.catalog ? tally_catalog_load_file(s.catalog, &cat, err, sizeof err)
                     : tally_catalog_load_builtin(&cat, err, sizeof err);
  if (rc != 0 || tally_backup_restore(argv[optind], s.data, cat, &got, err,
                                      sizeof err) != 0) {
    fprintf(stderr, "tallyd restore: %s\n", err);
    goto out;
  }
  printf("restored %s into %s (%llu bytes): %llu unit reports, %llu sums "
         "records verified.\n", argv[optind], s.data,
         (unsigned long long)got.bytes, (unsigned long long)got.reports,
         (unsigned long long)got.records);
  pretty_time(made, sizeof made, got.backup_made);
  if (got.newest_figure)
    printf("The backup file is from %s; its newest figure was written %s.\n",
           made, pretty_time(newest, sizeof newest, got.newest_figure));
  else
    printf("The backup file is from %s; it holds no figures.\n", made);
  /* What was acknowledged after its newest figure may be missing: the
   * offices send it again (the server stores what it does not have). */
  printf("Start tallyd on %s; then have every office send again what was "
         "acknowledged since:\n  tally sync --resend-since %.10s\n", s.data,
         got.newest_figure ? newest : made);
  status = 0;
out:
  tally_catalog_free(cat);
  tally_settings_free(&s);
  return status;
}

int main(int argc, char **argv) {
  struct options o = {0};
  tally_catalog *cat = NULL;
  tally_store *store = NULL;
  tally_rollup *rollup = NULL;
  tally_server *server = NULL;
  tally_accounts *accounts = NULL;
  tally_tls *tls = NULL;
  tally_sessions *sessions = NULL;
  tally_web *web = NULL;
  tally_health health = {0};
  char web_dir[4096];
  uv_loop_t loop;
  struct stopper st;
  char err[1024];
  int rc, status = 1;

  if (argc > 1 && strcmp(argv[1], "init") == 0)
    return init_main(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "backup") == 0)
    return backup_main(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "restore") == 0)
    return restore_main(argc - 1, argv + 1);
  if ((rc = parse_args(argc, argv, &o, err, sizeof err)) != 0) {
    if (rc == 2)
      fprintf(stderr, "tallyd: %s\nTry 'tallyd --help'.\n", err);
    tally_settings_free(&o.s);
    return rc == 1 ? 0 : 2;
  }
  tally_log_set_format(o.s.log_format);
  health.started = (int64_t)time(NULL);

  rc = o.s.catalog ? tally_catalog_load_file(o.s.catalog, &cat, err, sizeof err)
                 : tally_catalog_load_builtin(&cat, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "tallyd: %s\n", err);
    tally_settings_free(&o.s);
    return 1;
  }
  if (o.check_catalog) {
    printf("%s: catalog %s is valid: %zu units, %zu data elements, "
           "%zu indicators, %zu rules\n",
           cat->origin, cat->name, cat->n_units, cat->n_elements,
           cat->n_indicators, cat->n_rules);
    tally_catalog_free(cat);
    tally_settings_free(&o.s);
    return 0;
  }
  if (o.s.tls_cert &&
      tally_tls_new(o.s.tls_cert, o.s.tls_key, &tls, err, sizeof err) != 0) {
    fprintf(stderr, "tallyd: %s\n", err);
    goto err_after_catalog;
  }
  tally_server_config early = {.tls = tls,
                               .insecure_plaintext = o.s.insecure_plaintext};
  listen_config(&o.s, &early);
  if (tally_server_check_listen(&early, err, sizeof err) != 0) {
    fprintf(stderr, "tallyd: %s\n", err);
    goto err_after_catalog;
  }
  tally_web_config wcfg = {.web_dir = web_dir,
                           .tls_cert = o.s.tls_cert, .tls_key = o.s.tls_key,
                           .insecure_plaintext = o.s.insecure_plaintext,
                           .max_frame = o.s.max_frame,
                           .max_connections = (unsigned)o.s.max_connections,
                           .max_per_address = (unsigned)o.s.max_per_address,
                           .sign_in_timeout_ms =
                               (unsigned)(o.s.sign_in_timeout_s * 1000)};
  web_listen_config(&o.s, &wcfg);
  if (o.s.http.n) {
    if (tally_web_check(&wcfg, err, sizeof err) != 0) {
      fprintf(stderr, "tallyd: %s\n", err);
      goto err_after_catalog;
    }
    if (find_web_dir(o.s.web_dir, web_dir, sizeof web_dir) != 0) {
      fprintf(stderr, "tallyd: %s: the built web app is not there (build "
              "it: cmake --build BUILD --target web, or give --web-dir)\n",
              o.s.web_dir ? o.s.web_dir : "web/ beside tallyd");
      goto err_after_catalog;
    }
  }
  if (tally_password_init() != 0) {
    fprintf(stderr, "tallyd: libsodium cannot start\n");
    goto err_after_catalog;
  }
  if ((sessions = tally_sessions_new((int64_t)o.s.session_s)) == NULL) {
    fprintf(stderr, "tallyd: out of memory\n");
    goto err_after_catalog;
  }
  /* Only 'tallyd init' makes a store: a mistyped --data must not leave
   * an empty one behind. */
  char file[4096];
  struct stat fs;
  snprintf(file, sizeof file, "%s/data.mdb", o.s.data);
  if (stat(file, &fs) != 0 && errno == ENOENT &&
      (stat(o.s.data, &fs) != 0 || S_ISDIR(fs.st_mode))) {
    fprintf(stderr, "tallyd: there is no store in %s: make one with "
            "'tallyd init --data %s'\n", o.s.data, o.s.data);
    goto err_after_catalog;
  }
  if ((rc = tally_store_open(o.s.data, o.s.map_size, o.s.max_map_size, &store)) != 0) {
    tally_store_explain(o.s.data, rc, err, sizeof err);
    fprintf(stderr, "tallyd: %s\n", err);
    goto err_after_catalog;
  }
  if (o.s.backup_dir &&
      tally_store_set_backup_dir(store, o.s.backup_dir, err, sizeof err) != 0) {
    fprintf(stderr, "tallyd: %s\n", err);
    goto err_after_store;
  }

  if ((rc = tally_accounts_load(store, cat, &accounts, err, sizeof err)) != 0) {
    fprintf(stderr, "tallyd: %s\n", err);
    goto err_after_store;
  }
  if (tally_accounts_admins(accounts) == 0) {
    fprintf(stderr, "tallyd: the store in %s has no admin account, so no one "
            "could manage it: run 'tallyd init --data %s' first\n", o.s.data,
            o.s.data);
    goto err_after_store;
  }

  /* Reports read sums kept beside the figures: make them afresh when
   * they were made for another catalog. */
  int rebuilt;
  uint64_t reports;
  uint64_t began = uv_hrtime();
  if ((rc = tally_rollup_new(cat, store, &rollup)) != 0 ||
      (rc = tally_rollup_prepare(rollup, &rebuilt, &reports)) != 0) {
    fprintf(stderr, "tallyd: cannot make the sums reports read in %s: %s\n",
            o.s.data, tally_strerror(rc));
    goto err_after_store;
  }
  if (rebuilt)
    tally_log("sums made afresh for catalog %s from %llu unit reports in "
              "%.3f s", cat->name, (unsigned long long)reports,
              (double)(uv_hrtime() - began) / 1e9);

  signal(SIGPIPE, SIG_IGN);
  uv_loop_init(&loop);
  tally_server_config cfg = {
      .max_frame = o.s.max_frame,
      .idle_timeout_ms = (unsigned)(o.s.idle_timeout_s * 1000),
      .max_connections = (unsigned)o.s.max_connections,
      .sign_in_timeout_ms = (unsigned)(o.s.sign_in_timeout_s * 1000),
      .max_per_address = (unsigned)o.s.max_per_address,
      .memory_budget = o.s.memory_budget,
      .cat = cat,
      .store = store,
      .accounts = accounts,
      .sessions = sessions,
      .tls = tls,
      .insecure_plaintext = o.s.insecure_plaintext,
      .health = &health,
  };
  listen_config(&o.s, &cfg);
  if ((rc = tally_server_start(&loop, &cfg, &server, err, sizeof err)) != 0) {
    fprintf(stderr, "tallyd: %s\n", err);
    goto err_after_loop;
  }
  if (o.s.http.n &&
      (rc = tally_web_start(&loop, &wcfg, server, &web, err, sizeof err)) != 0) {
    fprintf(stderr, "tallyd: %s\n", err);
    tally_server_stop(server);
    goto err_after_loop;
  }
  health.cert_not_after = tally_tls_not_after(tls);
  st = (struct stopper){.server = server, .web = web, .store = store,
                        .health = &health, .tls = tls, .dir = o.s.data,
                        .start = &o.s, .argc = argc, .argv = argv,
                        .cert_warn_days = o.s.cert_warn_days};
  tls = NULL; /* the stopper's now: a reload replaces it */
  uv_signal_init(&loop, &st.sigint);
  uv_signal_init(&loop, &st.sigterm);
  uv_signal_init(&loop, &st.sighup);
  uv_timer_init(&loop, &st.watchdog);
  uv_timer_init(&loop, &st.daily);
  uv_async_init(&loop, &st.failed, on_failed);
  st.sigint.data = st.sigterm.data = st.sighup.data = st.failed.data = &st;
  st.watchdog.data = st.daily.data = &st;
  uv_signal_start(&st.sigint, on_signal, SIGINT);
  uv_signal_start(&st.sigterm, on_signal, SIGTERM);
  uv_signal_start(&st.sighup, on_sighup, SIGHUP);
  /* Under systemd with WatchdogSec=: a ping at half the interval, from
   * the loop, so that a loop that hangs is restarted. */
  uint64_t watch_us;
  if (sd_watchdog_enabled(0, &watch_us) > 0 && watch_us >= 2000)
    uv_timer_start(&st.watchdog, on_watchdog, 0, watch_us / 2000);
  uv_timer_start(&st.daily, on_daily, 12 * 3600 * 1000, 12 * 3600 * 1000);
  cert_check(&st);
  tally_store_on_failure(store, on_store_failure, &st.failed);

  char bound[1024] = "";
  for (size_t i = 0; i < tally_server_n_addresses(server); i++)
    join_add(bound, sizeof bound, tally_server_address_at(server, i));
  tally_log("tallyd %s: store %s, catalog %s (%s: %zu units, %zu data "
            "elements, %zu indicators), listening on %s (%s)",
            TALLY_VERSION, o.s.data, cat->name, cat->origin, cat->n_units,
            cat->n_elements, cat->n_indicators, bound, st.tls ? "TLS" : "plaintext");
  char origins[1200] = "";
  if (web) {
    origins_text(web, origins, sizeof origins);
    tally_log("serving the web pages from %s on %s", web_dir, origins);
  }
  snprintf(health.listening, sizeof health.listening, "%s", bound);
  snprintf(health.web, sizeof health.web, "%s", origins);
  for (size_t i = 0; i < tally_server_n_addresses(server); i++)
    printf("listening on %s\n", tally_server_address_at(server, i));
  for (size_t i = 0; web && i < tally_web_n_origins(web); i++)
    printf("web pages on %s\n", tally_web_origin_at(web, i));
  fflush(stdout);
  sd_notifyf(0, "READY=1\nSTATUS=listening on %s%s%s", bound,
             web ? ", web pages on " : "", origins);

  uv_run(&loop, UV_RUN_DEFAULT);
  /* The loop has run out: a signal, or the store's failure, closed
   * every handle. */
  tally_log(st.store_failed ? "stopped: the store failed" : "stopped");
  status = st.store_failed ? 3 : 0;
  tally_web_free(web);
  web = NULL;
  tls = st.tls;

err_after_loop:
  /* After a failed start, run the close callbacks it left pending. */
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0)
    tally_log_warn("the event loop still had open handles");
  tally_web_free(web);
  if ((rc = tally_accounts_flush(accounts, store)) != 0)
    tally_log_warn("last-used times not stored: %s", tally_strerror(rc));
err_after_store:
  tally_rollup_free(rollup);
  tally_accounts_free(accounts);
  tally_store_close(store);
err_after_catalog:
  tally_tls_free(tls);
  tally_sessions_free(sessions);
  tally_catalog_free(cat);
  tally_settings_free(&o.s);
  return status;
}
