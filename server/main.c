/* main.c: tallyd, the tally server, and tallyd init. */
#include "accounts.h"
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
#include <uv.h>

static const char usage[] =
    "usage: tallyd --data DIR [options]\n"
    "       tallyd init --data DIR [--name NAME] [--recover]\n"
    "\n"
    "Serves tally: accepts the figures that units submit, stores them in an\n"
    "LMDB store under DIR, and answers value and report requests.\n"
    "\n"
    "'tallyd init' creates the store and its first admin account, and\n"
    "prints the admin's token once; the server refuses a store without an\n"
    "admin. Every request must be signed in with a token (tally login);\n"
    "the admin adds the others' accounts with 'tally account add'.\n"
    "\n"
    "options:\n"
    "  -d, --data DIR        the store directory, made by 'tallyd init'\n"
    "  -l, --listen ADDR     address to listen on, HOST:PORT or [HOST6]:PORT\n"
    "                        (default 127.0.0.1:7300; port 0 picks a free port)\n"
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
    "                        --http too, each listener counting its own:\n"
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
    "                        --insecure-plaintext)\n"
    "      --web-dir DIR     the built web app (default: web/ beside tallyd,\n"
    "                        or ../share/tally/web)\n"
    "      --session-timeout SECONDS  how long a web sign-in lasts (default\n"
    "                        28800: eight hours)\n"
    "  -h, --help            this help\n"
    "  -V, --version         the version\n"
    "\n"
    "On start it prints \"listening on ADDR\" on standard output; it logs one\n"
    "line per connection and per submission on standard error. SIGINT or\n"
    "SIGTERM stops it cleanly: it stops accepting, sends the replies it owes,\n"
    "and closes the store. If a write to the disk fails so that LMDB refuses\n"
    "the store from then on, it logs so, stops the same way and exits with\n"
    "status 3, to be restarted.\n"
    "\n"
    "Without TLS it listens only on the loopback, unless --insecure-plaintext\n"
    "is given. Clients reach a TLS server with 'tally --ca FILE', FILE being\n"
    "the CA certificate that signed the server's.\n";

struct options {
  const char *data;
  const char *listen;
  const char *catalog;
  int check_catalog;
  size_t max_frame;
  size_t map_size;
  size_t max_map_size;
  size_t idle_timeout_s;
  size_t max_connections;
  size_t sign_in_timeout_s;
  size_t max_per_address;
  size_t memory_budget;
  const char *tls_cert;
  const char *tls_key;
  int insecure_plaintext;
  const char *backup_dir;
  const char *http;
  const char *web_dir;
  size_t session_s;
};

static int parse_size(const char *arg, const char *name, size_t min,
                      size_t max, size_t *out) {
  char *end;
  unsigned long long v = strtoull(arg, &end, 10);
  if (*arg == 0 || *end != 0 || arg[0] == '-' || v < min || v > max) {
    fprintf(stderr, "tallyd: %s must be a whole number from %zu to %zu, not "
            "'%s'\n", name, min, max, arg);
    return -1;
  }
  *out = (size_t)v;
  return 0;
}

static int parse_args(int argc, char **argv, struct options *o) {
  enum { OPT_MAX_FRAME = 256, OPT_MAP_SIZE, OPT_MAX_MAP_SIZE, OPT_CHECK,
         OPT_IDLE, OPT_MAX_CONN, OPT_SIGN_IN, OPT_PER_ADDRESS, OPT_TLS_CERT,
         OPT_TLS_KEY, OPT_INSECURE, OPT_BACKUP_DIR, OPT_MEMORY,
         OPT_HTTP, OPT_WEB_DIR, OPT_SESSION };
  static const struct option longopts[] = {
      {"data", required_argument, NULL, 'd'},
      {"listen", required_argument, NULL, 'l'},
      {"catalog", required_argument, NULL, 'c'},
      {"check-catalog", no_argument, NULL, OPT_CHECK},
      {"max-frame", required_argument, NULL, OPT_MAX_FRAME},
      {"map-size", required_argument, NULL, OPT_MAP_SIZE},
      {"max-map-size", required_argument, NULL, OPT_MAX_MAP_SIZE},
      {"idle-timeout", required_argument, NULL, OPT_IDLE},
      {"max-connections", required_argument, NULL, OPT_MAX_CONN},
      {"sign-in-timeout", required_argument, NULL, OPT_SIGN_IN},
      {"max-per-address", required_argument, NULL, OPT_PER_ADDRESS},
      {"memory-budget", required_argument, NULL, OPT_MEMORY},
      {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
      {"tls-key", required_argument, NULL, OPT_TLS_KEY},
      {"insecure-plaintext", no_argument, NULL, OPT_INSECURE},
      {"backup-dir", required_argument, NULL, OPT_BACKUP_DIR},
      {"http", required_argument, NULL, OPT_HTTP},
      {"web-dir", required_argument, NULL, OPT_WEB_DIR},
      {"session-timeout", required_argument, NULL, OPT_SESSION},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0}};
  int ch;
  size_t mib;

  o->listen = "127.0.0.1:7300";
  o->max_frame = TALLY_FRAME_DEFAULT_MAX;
  while ((ch = getopt_long(argc, argv, "d:l:c:hV", longopts, NULL)) != -1) {
    switch (ch) {
    case 'd': o->data = optarg; break;
    case 'l': o->listen = optarg; break;
    case 'c': o->catalog = optarg; break;
    case OPT_CHECK: o->check_catalog = 1; break;
    case OPT_MAX_FRAME:
      if (parse_size(optarg, "--max-frame", 64, 256u << 20, &o->max_frame))
        return 2;
      break;
    case OPT_MAP_SIZE:
      if (parse_size(optarg, "--map-size", 1, 1u << 20, &mib))
        return 2;
      o->map_size = mib << 20;
      break;
    case OPT_MAX_MAP_SIZE:
      if (parse_size(optarg, "--max-map-size", 1, 1u << 24, &mib))
        return 2;
      o->max_map_size = mib << 20;
      break;
    case OPT_IDLE:
      if (parse_size(optarg, "--idle-timeout", 1, 86400, &o->idle_timeout_s))
        return 2;
      break;
    case OPT_MAX_CONN:
      if (parse_size(optarg, "--max-connections", 1, 1000000,
                     &o->max_connections))
        return 2;
      break;
    case OPT_SIGN_IN:
      if (parse_size(optarg, "--sign-in-timeout", 1, 3600, &o->sign_in_timeout_s))
        return 2;
      break;
    case OPT_PER_ADDRESS:
      if (parse_size(optarg, "--max-per-address", 1, 1000000,
                     &o->max_per_address))
        return 2;
      break;
    case OPT_MEMORY:
      if (parse_size(optarg, "--memory-budget", 1, 1u << 20, &mib))
        return 2;
      o->memory_budget = mib << 20;
      break;
    case OPT_TLS_CERT: o->tls_cert = optarg; break;
    case OPT_TLS_KEY: o->tls_key = optarg; break;
    case OPT_INSECURE: o->insecure_plaintext = 1; break;
    case OPT_BACKUP_DIR: o->backup_dir = optarg; break;
    case OPT_HTTP: o->http = optarg; break;
    case OPT_WEB_DIR: o->web_dir = optarg; break;
    case OPT_SESSION:
      if (parse_size(optarg, "--session-timeout", 1, 7 * 86400, &o->session_s))
        return 2;
      break;
    case 'h': fputs(usage, stdout); return 1;
    case 'V': puts("tallyd " TALLY_VERSION); return 1;
    default:
      fputs("Try 'tallyd --help'.\n", stderr);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "tallyd: unexpected argument '%s'\nTry 'tallyd --help'.\n",
            argv[optind]);
    return 2;
  }
  if ((o->tls_cert == NULL) != (o->tls_key == NULL)) {
    fprintf(stderr, "tallyd: %s needs %s too\nTry 'tallyd --help'.\n",
            o->tls_cert ? "--tls-cert" : "--tls-key",
            o->tls_cert ? "--tls-key" : "--tls-cert");
    return 2;
  }
  if (o->data == NULL && !o->check_catalog) {
    fputs("tallyd: --data DIR is required\nTry 'tallyd --help'.\n", stderr);
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
  uv_async_t failed;     /* the store went into LMDB's panic state */
  tally_server *server;
  tally_web *web;             /* NULL without --http */
  tally_store *store;
  const char *dir;
  int stopping;
  int store_failed;      /* exit non-zero: a supervisor restarts it */
};

/* Stops the server and closes the signal and failure handles, so that
 * the loop runs out once the connections have closed. */
static void stop(struct stopper *st) {
  if (st->stopping)
    return;
  st->stopping = 1;
  tally_store_on_failure(st->store, NULL, NULL); /* before the handle goes */
  if (st->web)
    tally_web_stop(st->web);
  tally_server_stop(st->server);
  uv_close((uv_handle_t *)&st->sigint, NULL);
  uv_close((uv_handle_t *)&st->sigterm, NULL);
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
  tally_log("the store in %s is in a failed state: a write to its disk "
            "failed and LMDB refuses every read and write until restarted; "
            "stopping: the server must be restarted (what was acknowledged "
            "is on disk)", st->dir);
  st->store_failed = 1;
  stop(st);
}

static const char init_usage[] =
    "usage: tallyd init --data DIR [--name NAME] [--recover]\n"
    "\n"
    "Creates the store in DIR (if missing) and its first admin account, and\n"
    "prints the admin's token on standard output. The token is shown only\n"
    "this once: the store keeps its SHA-256 alone. Keep it safe; use it with\n"
    "'tally login' to add the other accounts. A store that already has\n"
    "accounts is left as it is.\n"
    "\n"
    "options:\n"
    "  -d, --data DIR   the store directory\n"
    "  -n, --name NAME  the admin's name (default \"administrator\")\n"
    "      --recover    add an admin to a store that has accounts already,\n"
    "                   when every admin token is lost: run on the server's\n"
    "                   host, by whoever may read the store; the audit trail\n"
    "                   records it. A running tallyd knows the new account\n"
    "                   once restarted.\n"
    "  -h, --help       this help\n";

/* tallyd init: the store and its first admin. */
static int init_main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"data", required_argument, NULL, 'd'},
      {"name", required_argument, NULL, 'n'},
      {"recover", no_argument, NULL, 'r'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *data = NULL, *name = "administrator";
  int recover = 0;
  tally_store *store = NULL;
  tally_accounts *accounts = NULL;
  char err[1024], token[TALLY_TOKEN_MAX];
  int ch, rc, status = 1;

  while ((ch = getopt_long(argc, argv, "d:n:h", longopts, NULL)) != -1) {
    switch (ch) {
    case 'd': data = optarg; break;
    case 'n': name = optarg; break;
    case 'r': recover = 1; break;
    case 'h': fputs(init_usage, stdout); return 0;
    default: fputs("Try 'tallyd init --help'.\n", stderr); return 2;
    }
  }
  if (optind < argc || data == NULL) {
    fputs(data ? "tallyd init: unexpected argument\n"
               : "tallyd init: --data DIR is required\n", stderr);
    fputs("Try 'tallyd init --help'.\n", stderr);
    return 2;
  }
  if (*name == 0 || strlen(name) > TALLY_ACCOUNT_NAME_MAX) {
    fprintf(stderr, "tallyd init: the name must be 1-%d characters\n",
            TALLY_ACCOUNT_NAME_MAX);
    return 2;
  }
  char file[4096];
  struct stat fs;
  snprintf(file, sizeof file, "%s/data.mdb", data);
  if (recover && stat(file, &fs) != 0) {
    fprintf(stderr, "tallyd init --recover: there is no store in %s to "
            "recover\n", data);
    return 1;
  }
  if ((rc = tally_store_open(data, 0, 0, &store)) != 0) {
    tally_store_explain(data, rc, err, sizeof err);
    fprintf(stderr, "tallyd init: %s\n", err);
    return 1;
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
  char web_dir[4096];
  uv_loop_t loop;
  struct stopper st;
  char err[1024];
  int rc, status = 1;

  if (argc > 1 && strcmp(argv[1], "init") == 0)
    return init_main(argc - 1, argv + 1);
  if ((rc = parse_args(argc, argv, &o)) != 0)
    return rc == 1 ? 0 : 2;

  rc = o.catalog ? tally_catalog_load_file(o.catalog, &cat, err, sizeof err)
                 : tally_catalog_load_builtin(&cat, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "tallyd: %s\n", err);
    return 1;
  }
  if (o.check_catalog) {
    printf("%s: catalog %s is valid: %zu units, %zu data elements, "
           "%zu indicators, %zu rules\n",
           cat->origin, cat->name, cat->n_units, cat->n_elements,
           cat->n_indicators, cat->n_rules);
    tally_catalog_free(cat);
    return 0;
  }
  if (o.tls_cert &&
      tally_tls_new(o.tls_cert, o.tls_key, &tls, err, sizeof err) != 0) {
    fprintf(stderr, "tallyd: %s\n", err);
    goto err_after_catalog;
  }
  tally_server_config early = {.listen = o.listen, .tls = tls,
                               .insecure_plaintext = o.insecure_plaintext};
  if (tally_server_check_listen(&early, err, sizeof err) != 0) {
    fprintf(stderr, "tallyd: %s\n", err);
    goto err_after_catalog;
  }
  tally_web_config wcfg = {.listen = o.http, .web_dir = web_dir,
                           .tls_cert = o.tls_cert, .tls_key = o.tls_key,
                           .insecure_plaintext = o.insecure_plaintext,
                           .max_frame = o.max_frame,
                           .max_connections = (unsigned)o.max_connections,
                           .max_per_address = (unsigned)o.max_per_address,
                           .sign_in_timeout_ms =
                               (unsigned)(o.sign_in_timeout_s * 1000)};
  if (o.http) {
    if (tally_web_check(&wcfg, err, sizeof err) != 0) {
      fprintf(stderr, "tallyd: %s\n", err);
      goto err_after_catalog;
    }
    if (find_web_dir(o.web_dir, web_dir, sizeof web_dir) != 0) {
      fprintf(stderr, "tallyd: %s: the built web app is not there (build "
              "it: cmake --build BUILD --target web, or give --web-dir)\n",
              o.web_dir ? o.web_dir : "web/ beside tallyd");
      goto err_after_catalog;
    }
  }
  if (tally_password_init() != 0) {
    fprintf(stderr, "tallyd: libsodium cannot start\n");
    goto err_after_catalog;
  }
  if ((sessions = tally_sessions_new((int64_t)o.session_s)) == NULL) {
    fprintf(stderr, "tallyd: out of memory\n");
    goto err_after_catalog;
  }
  /* Only 'tallyd init' makes a store: a mistyped --data must not leave
   * an empty one behind. */
  char file[4096];
  struct stat fs;
  snprintf(file, sizeof file, "%s/data.mdb", o.data);
  if (stat(file, &fs) != 0 && errno == ENOENT &&
      (stat(o.data, &fs) != 0 || S_ISDIR(fs.st_mode))) {
    fprintf(stderr, "tallyd: there is no store in %s: make one with "
            "'tallyd init --data %s'\n", o.data, o.data);
    goto err_after_catalog;
  }
  if ((rc = tally_store_open(o.data, o.map_size, o.max_map_size, &store)) != 0) {
    tally_store_explain(o.data, rc, err, sizeof err);
    fprintf(stderr, "tallyd: %s\n", err);
    goto err_after_catalog;
  }
  if (o.backup_dir &&
      tally_store_set_backup_dir(store, o.backup_dir, err, sizeof err) != 0) {
    fprintf(stderr, "tallyd: %s\n", err);
    goto err_after_store;
  }

  if ((rc = tally_accounts_load(store, cat, &accounts, err, sizeof err)) != 0) {
    fprintf(stderr, "tallyd: %s\n", err);
    goto err_after_store;
  }
  if (tally_accounts_admins(accounts) == 0) {
    fprintf(stderr, "tallyd: the store in %s has no admin account, so no one "
            "could manage it: run 'tallyd init --data %s' first\n", o.data,
            o.data);
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
            o.data, tally_strerror(rc));
    goto err_after_store;
  }
  if (rebuilt)
    tally_log("sums made afresh for catalog %s from %llu unit reports in "
              "%.3f s", cat->name, (unsigned long long)reports,
              (double)(uv_hrtime() - began) / 1e9);

  signal(SIGPIPE, SIG_IGN);
  uv_loop_init(&loop);
  tally_server_config cfg = {
      .listen = o.listen,
      .max_frame = o.max_frame,
      .idle_timeout_ms = (unsigned)(o.idle_timeout_s * 1000),
      .max_connections = (unsigned)o.max_connections,
      .sign_in_timeout_ms = (unsigned)(o.sign_in_timeout_s * 1000),
      .max_per_address = (unsigned)o.max_per_address,
      .memory_budget = o.memory_budget,
      .cat = cat,
      .store = store,
      .accounts = accounts,
      .sessions = sessions,
      .tls = tls,
      .insecure_plaintext = o.insecure_plaintext,
  };
  if ((rc = tally_server_start(&loop, &cfg, &server, err, sizeof err)) != 0) {
    fprintf(stderr, "tallyd: %s\n", err);
    goto err_after_loop;
  }
  if (o.http &&
      (rc = tally_web_start(&loop, &wcfg, server, &web, err, sizeof err)) != 0) {
    fprintf(stderr, "tallyd: %s\n", err);
    tally_server_stop(server);
    goto err_after_loop;
  }
  st = (struct stopper){.server = server, .web = web, .store = store,
                        .dir = o.data};
  uv_signal_init(&loop, &st.sigint);
  uv_signal_init(&loop, &st.sigterm);
  uv_async_init(&loop, &st.failed, on_failed);
  st.sigint.data = st.sigterm.data = st.failed.data = &st;
  uv_signal_start(&st.sigint, on_signal, SIGINT);
  uv_signal_start(&st.sigterm, on_signal, SIGTERM);
  tally_store_on_failure(store, on_store_failure, &st.failed);

  tally_log("tallyd %s: store %s, catalog %s (%s: %zu units, %zu data "
            "elements, %zu indicators), listening on %s (%s)",
            TALLY_VERSION, o.data, cat->name, cat->origin, cat->n_units,
            cat->n_elements, cat->n_indicators, tally_server_address(server),
            tls ? "TLS" : "plaintext");
  if (web)
    tally_log("serving the web pages from %s on %s", web_dir,
              tally_web_origin(web));
  printf("listening on %s\n", tally_server_address(server));
  if (web)
    printf("web pages on %s\n", tally_web_origin(web));
  fflush(stdout);

  uv_run(&loop, UV_RUN_DEFAULT);
  /* The loop has run out: a signal, or the store's failure, closed
   * every handle. */
  tally_log(st.store_failed ? "stopped: the store failed" : "stopped");
  status = st.store_failed ? 3 : 0;
  tally_web_free(web);
  web = NULL;

err_after_loop:
  /* After a failed start, run the close callbacks it left pending. */
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0)
    tally_log("warning: the event loop still had open handles");
  tally_web_free(web);
  if ((rc = tally_accounts_flush(accounts, store)) != 0)
    tally_log("warning: last-used times not stored: %s", tally_strerror(rc));
err_after_store:
  tally_rollup_free(rollup);
  tally_accounts_free(accounts);
  tally_store_close(store);
err_after_catalog:
  tally_tls_free(tls);
  tally_sessions_free(sessions);
  tally_catalog_free(cat);
  return status;
}
