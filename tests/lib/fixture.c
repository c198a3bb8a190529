#include "fixture.h"

#include "catalog.h"
#include "client.h"
#include "wire.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <lmdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long tally_test_fsize_limit;

void tally_test_tmpdir(char *buf, size_t n) {
  const char *base = getenv("TMPDIR");
  snprintf(buf, n, "%s/tally-test-XXXXXX", base && *base ? base : "/tmp");
  cr_assert_not_null(mkdtemp(buf), "mkdtemp: %s", strerror(errno));
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw) {
  return remove(path);
}

void tally_test_rmtree(const char *path) {
  nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The data directory's admin token: made by tallyd init the first time,
 * read from DIR/test-admin.token after. */
static void init_store(tally_test_server *s) {
  char path[320], *out = NULL, *err = NULL;
  snprintf(path, sizeof path, "%s/test-admin.token", s->dir);
  char *kept = tally_test_read_file(path);
  if (kept == NULL) {
    const char *args[] = {"init", "--data", s->dir, "--name", "test admin",
                          NULL};
    int rc = tally_test_exec(TALLYD_PATH, args, NULL, &out, &err);
    cr_assert_eq(rc, 0, "tallyd init failed (%d): %s", rc, err);
    tally_test_write_file(path, out);
    kept = out;
    out = NULL;
  }
  kept[strcspn(kept, "\n")] = 0;
  cr_assert(strncmp(kept, "tally_", 6) == 0, "not a token: '%s'", kept);
  snprintf(s->admin, sizeof s->admin, "%s", kept);
  free(kept);
  free(out);
  free(err);
  setenv("TALLY_TOKEN", s->admin, 1);
  setenv("TALLY_CONFIG", "/nonexistent/tally-test-config.json", 1);
}

/* One line of what fd sends (without its newline) into buf, waiting
 * 10 s at most for each byte: "" when none comes. */
static void read_line(int fd, char *buf, size_t n) {
  size_t len = 0;
  struct pollfd p = {fd, POLLIN, 0};
  while (len < n - 1 && poll(&p, 1, 10000) > 0 &&
         read(fd, buf + len, 1) == 1 && buf[len] != '\n')
    len++;
  buf[len] = 0;
}

static void start(tally_test_server *s, const char *const *extra) {
  const char *argv[32];
  int out[2], n = 0;

  init_store(s);

  argv[n++] = TALLYD_PATH;
  /* Not the machine's /etc/tally/tallyd.conf: a test's own settings (a
   * --config in extra comes later and counts). */
  argv[n++] = "--config";
  argv[n++] = "/dev/null";
  argv[n++] = "--data";
  argv[n++] = s->dir;
  /* An ephemeral loopback port, unless extra says where to listen
   * (each --listen there is an address of its own). */
  int own_listen = 0;
  for (const char *const *e = extra; e && *e; e++)
    own_listen |= strcmp(*e, "--listen") == 0 || strcmp(*e, "-l") == 0;
  if (!own_listen) {
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
  }
  for (; extra && *extra && n < 30; extra++)
    argv[n++] = *extra;
  argv[n] = NULL;
  snprintf(s->log, sizeof s->log, "%s.log", s->dir);

  cr_assert_eq(pipe(out), 0);
  pid_t parent = getpid();
  s->pid = fork();
  cr_assert_neq(s->pid, -1);
  if (s->pid == 0) {
    /* The server must not outlive the test, even if the test crashes. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(127);
    if (tally_test_fsize_limit > 0) {
      /* A disk that fills up: writes past the limit fail with EFBIG. */
      struct rlimit rl = {(rlim_t)tally_test_fsize_limit,
                          (rlim_t)tally_test_fsize_limit};
      signal(SIGXFSZ, SIG_IGN);
      setrlimit(RLIMIT_FSIZE, &rl);
    }
    int log = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out[1], 1);
    if (log >= 0)
      dup2(log, 2);
    close(out[0]);
    close(out[1]);
    unsetenv("TALLY_TOKEN"); /* the clients', not the server's */
    execv(TALLYD_PATH, (char *const *)argv);
    _exit(127);
  }
  close(out[1]);

  /* Wait for "listening on ADDR\n", one line per --listen, then "web
   * pages on ORIGIN\n", one per --http. */
  char line[128], more[128];
  int n_listen = 0, n_http = 0;
  for (int i = 0; argv[i]; i++) {
    n_listen += strcmp(argv[i], "--listen") == 0 || strcmp(argv[i], "-l") == 0;
    n_http += strcmp(argv[i], "--http") == 0;
  }
  read_line(out[0], line, sizeof line);
  for (int i = 1; i < n_listen; i++)
    read_line(out[0], more, sizeof more);
  for (int i = 0; i < n_http && i < 8; i++) {
    char *web = i == 0 ? s->web : s->web_also[i - 1];
    read_line(out[0], more, sizeof more);
    if (sscanf(more, "web pages on %95s", web) != 1)
      web[0] = 0;
  }
  close(out[0]);
  if (sscanf(line, "listening on %63s", s->address) != 1) {
    char *log = tally_test_read_file(s->log);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    cr_assert_fail("tallyd did not start: '%s'; its log:\n%s", line,
             log ? log : "(none)");
  }
}

void tally_test_server_start(tally_test_server *s, const char *const *extra) {
  memset(s, 0, sizeof *s);
  tally_test_tmpdir(s->dir, sizeof s->dir);
  s->own_dir = 1;
  start(s, extra);
}

void tally_test_server_start_in(tally_test_server *s, const char *dir,
                                const char *const *extra) {
  memset(s, 0, sizeof *s);
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  start(s, extra);
}

int tally_test_server_stop(tally_test_server *s) {
  int status = 0, rc = -1;
  if (s->pid <= 0)
    return -1;
  kill(s->pid, SIGTERM);
  for (int i = 0; i < 1000; i++) {
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
      rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    usleep(10000);
  }
  if (rc == -1 && waitpid(s->pid, &status, WNOHANG) == 0) {
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
  }
  s->pid = 0;
  if (rc != 0) { /* crashed, or a sanitizer's report: show why */
    char *log = tally_test_read_file(s->log);
    fprintf(stderr, "tallyd ended with status %d; its log:\n%s\n", rc,
            log ? log : "(none)");
    free(log);
  }
  if (s->own_dir)
    tally_test_rmtree(s->dir);
  remove(s->log);
  return rc;
}

void tally_test_lmdb_put(const char *dir, const char *db, const void *key,
                         size_t klen, const void *value, size_t vlen) {
  MDB_env *env;
  MDB_txn *txn;
  MDB_dbi dbi;
  MDB_val k = {klen, (void *)key}, v = {vlen, (void *)value};
  cr_assert_eq(mdb_env_create(&env), 0);
  cr_assert_eq(mdb_env_set_maxdbs(env, 16), 0);
  cr_assert_eq(mdb_env_open(env, dir, 0, 0600), 0);
  cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
  cr_assert_eq(mdb_dbi_open(txn, db, 0, &dbi), 0, "no database %s", db);
  cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
  cr_assert_eq(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

void tally_test_cli_start(tally_test_server *s, char *dir, size_t n) {
  char spool[512];
  tally_test_server_start(s, NULL);
  tally_test_tmpdir(dir, n);
  snprintf(spool, sizeof spool, "%s/spool", dir);
  setenv("TALLY_SERVER", s->address, 1);
  setenv("TALLY_SPOOL", spool, 1);
  unsetenv("COLUMNS"); /* tables as wide as they are, unless a test says */
}

void tally_test_cli_stop(tally_test_server *s, const char *dir) {
  tally_test_server_stop(s);
  tally_test_rmtree(dir);
}

struct tally_client *tally_test_connect(tally_test_server *s,
                                        const char *token) {
  tally_client *c;
  char err[256];
  tally_client_options o = {.address = s->address, .timeout_ms = 10000,
                            .token = token, .ca_file = s->ca};
  cr_assert_eq(tally_client_open(&o, &c, err, sizeof err), 0, "%s", err);
  return c;
}

struct tally_client *tally_test_connect_signed_in(tally_test_server *s,
                                                  const char *token) {
  tally_client *c = tally_test_connect(s, token);
  Tally__WhoamiRequest q = TALLY__WHOAMI_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *r;
  char err[256];
  req.body_case = TALLY__ENVELOPE__BODY_WHOAMI;
  req.whoami = &q;
  cr_assert_eq(tally_client_call(c, &req, &r, err, sizeof err), 0, "%s", err);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_WHOAMI_REPLY);
  tally_wire_free(r);
  return c;
}

int tally_test_listen(char *address, size_t n) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t alen = sizeof a;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_geq(fd, 0);
  cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(listen(fd, 4), 0);
  cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
  snprintf(address, n, "127.0.0.1:%d", ntohs(a.sin_port));
  return fd;
}

const char *tally_test_second_loopback(void) {
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 sa = {.sin6_family = AF_INET6,
                            .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  if (fd >= 0)
    close(fd);
  return ok ? "[::1]:0" : "127.0.0.2:0"; /* 127.0.0.0/8 is all loopback */
}

const char *tally_test_token(tally_test_server *s, const char *role,
                             const char *unit) {
  if (strcmp(role, "admin") == 0 && unit == NULL)
    return s->admin;
  for (int i = 0; i < s->n_accounts; i++)
    if (strcmp(s->accounts[i].role, role) == 0 &&
        strcmp(s->accounts[i].unit, unit ? unit : "") == 0)
      return s->accounts[i].token;
  cr_assert_lt(s->n_accounts, 24, "too many test accounts");

  Tally__AccountSpec spec = TALLY__ACCOUNT_SPEC__INIT, *specs[1] = {&spec};
  Tally__AccountAddRequest q = TALLY__ACCOUNT_ADD_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT, *reply = NULL;
  char name[128], err[256];
  snprintf(name, sizeof name, "test %s%s%s", role, unit ? " for " : "",
           unit ? unit : "");
  spec.name = name;
  spec.role = strcmp(role, "reporter") == 0  ? TALLY__ROLE__ROLE_REPORTER
              : strcmp(role, "analyst") == 0 ? TALLY__ROLE__ROLE_ANALYST
                                             : TALLY__ROLE__ROLE_ADMIN;
  spec.unit = (char *)(unit ? unit : "");
  q.accounts = specs;
  q.n_accounts = 1;
  req.body_case = TALLY__ENVELOPE__BODY_ACCOUNT_ADD;
  req.account_add = &q;
  tally_client *c = tally_test_connect(s, s->admin);
  cr_assert_eq(tally_client_call(c, &req, &reply, err, sizeof err), 0, "%s",
               err);
  tally_client_close(c);
  cr_assert_eq(reply->body_case, TALLY__ENVELOPE__BODY_ACCOUNT_ADD_REPLY,
               "account add refused: %s",
               reply->body_case == TALLY__ENVELOPE__BODY_ERROR
                   ? reply->error->message
                   : "?");
  tally_test_account *a = &s->accounts[s->n_accounts++];
  snprintf(a->role, sizeof a->role, "%s", role);
  snprintf(a->unit, sizeof a->unit, "%s", unit ? unit : "");
  snprintf(a->token, sizeof a->token, "%s",
           reply->account_add_reply->accounts[0]->token);
  a->id = reply->account_add_reply->accounts[0]->account->id;
  tally_wire_free(reply);
  return a->token;
}

void tally_test_sign_in(tally_test_server *s, const char *role,
                        const char *unit) {
  setenv("TALLY_TOKEN", tally_test_token(s, role, unit), 1);
}

/* Reads fd to EOF into a malloc'd string. */
static char *slurp(int fd) {
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap);
  for (;;) {
    if (len + 1 >= cap)
      buf = realloc(buf, cap *= 2);
    ssize_t r = read(fd, buf + len, cap - len - 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    len += (size_t)r;
  }
  buf[len] = 0;
  return buf;
}

int tally_test_run(const char *const *args, const char *input, char **out,
                   char **err) {
  return tally_test_exec(TALLY_PATH, args, input, out, err);
}

int tally_test_exec(const char *prog, const char *const *args,
                    const char *input, char **out, char **err) {
  char outpath[] = "/tmp/tally-out-XXXXXX", errpath[] = "/tmp/tally-err-XXXXXX";
  const char *argv[64];
  int n = 0, status;
  int fo = mkstemp(outpath), fe = mkstemp(errpath), in[2];

  cr_assert(fo >= 0 && fe >= 0);
  argv[n++] = prog;
  for (; *args && n < 62; args++)
    argv[n++] = *args;
  argv[n] = NULL;
  cr_assert_eq(pipe(in), 0);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(fo, 1);
    dup2(fe, 2);
    close(in[1]);
    execv(prog, (char *const *)argv);
    _exit(127);
  }
  close(in[0]);
  if (input) {
    size_t len = strlen(input), off = 0;
    signal(SIGPIPE, SIG_IGN);
    while (off < len) {
      ssize_t w = write(in[1], input + off, len - off);
      if (w <= 0)
        break;
      off += (size_t)w;
    }
  }
  close(in[1]);
  waitpid(pid, &status, 0);
  lseek(fo, 0, SEEK_SET);
  lseek(fe, 0, SEEK_SET);
  char *o = slurp(fo), *e = slurp(fe);
  close(fo);
  close(fe);
  unlink(outpath);
  unlink(errpath);
  if (out)
    *out = o;
  else
    free(o);
  if (err)
    *err = e;
  else
    free(e);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void tally_test_write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "%s: %s", path, strerror(errno));
  fputs(text, f);
  fclose(f);
}

char *tally_test_read_file(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return NULL;
  char *s = slurp(fd);
  close(fd);
  return s;
}

char *tally_test_read_file_with(const char *path, const char *text) {
  char *s = NULL;
  for (int tries = 0; tries < 800; tries++) {
    free(s);
    if ((s = tally_test_read_file(path)) != NULL && strstr(s, text))
      break;
    usleep(10000);
  }
  return s;
}

long tally_test_rss_kib(pid_t pid) {
  char path[64], *status;
  long kib = -1;
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  if ((status = tally_test_read_file(path)) == NULL)
    return -1;
  char *at = strstr(status, "VmRSS:");
  if (at)
    kib = strtol(at + 6, NULL, 10);
  free(status);
  return kib;
}

unsigned char *tally_test_catalog_requests(const tally_test_server *s, int n,
                                           unsigned long long id, size_t *len) {
  Tally__CatalogRequest q = TALLY__CATALOG_REQUEST__INIT;
  Tally__Auth auth = TALLY__AUTH__INIT;
  Tally__Envelope env = TALLY__ENVELOPE__INIT;
  uint8_t *first, *one;
  size_t first_len, one_len;
  env.id = id;
  env.body_case = TALLY__ENVELOPE__BODY_CATALOG;
  env.catalog = &q;
  cr_assert_eq(tally_wire_pack(&env, 0, &one, &one_len), 0);
  auth.token = (char *)s->admin;
  env.auth = &auth;
  cr_assert_eq(tally_wire_pack(&env, 0, &first, &first_len), 0);
  uint8_t *all = malloc(first_len + one_len * (size_t)(n - 1));
  cr_assert_not_null(all);
  memcpy(all, first, first_len);
  for (int i = 1; i < n; i++)
    memcpy(all + first_len + one_len * (size_t)(i - 1), one, one_len);
  free(first);
  free(one);
  *len = first_len + one_len * (size_t)(n - 1);
  return all;
}

int tally_test_catalog_load(const char *origin, const char *json,
                            tally_catalog **cat, char *err, size_t n) {
  char *s = strdup(json);
  cr_assert_not_null(s);
  for (char *p = s; *p; p++)
    if (*p == '\'')
      *p = '"';
  *cat = NULL;
  if (n)
    err[0] = 0;
  int rc = tally_catalog_load_buffer(origin, s, strlen(s), cat, err, n);
  free(s);
  return rc;
}

tally_catalog *tally_test_catalog(const char *json) {
  char err[512];
  tally_catalog *cat;
  int rc = tally_test_catalog_load("test.json", json, &cat, err, sizeof err);
  cr_assert_eq(rc, 0, "%s", err);
  return cat;
}

/* A unit of the built-in catalog by its code, or NULL. */
static json_t *town_of(json_t *units, const char *code) {
  size_t i;
  json_t *u;
  json_array_foreach(units, i, u) {
    if (strcmp(json_string_value(json_object_get(u, "code")), code) == 0)
      return u;
  }
  return NULL;
}

static json_t *new_unit(const char *code, const char *parent,
                        const char *level) {
  json_t *u = json_pack("{s:s, s:s, s:s, s:s}", "code", code, "level", level,
                        "name_zh", code, "name_en", code);
  if (parent)
    json_object_set_new(u, "parent", json_string(parent));
  return u;
}

void tally_test_catalog_tree(const char *path, const char *root,
                             const char *const *groups) {
  char file[600];
  json_error_t je;
  snprintf(file, sizeof file, "%s/catalog/changqing.json", TALLY_SOURCE_DIR);
  json_t *cat = json_load_file(file, 0, &je);
  cr_assert_not_null(cat, "%s: %s", file, je.text);
  json_t *old = json_object_get(cat, "units"), *units = json_array();
  int city = 0;
  for (const char *const *g = groups; *g; g++)
    city |= **g != '=';
  json_array_append_new(units, new_unit(root, NULL, city ? "city" : "district"));
  for (; *groups; groups++) {
    char text[1024];
    snprintf(text, sizeof text, "%s", *groups);
    char *towns = strchr(text, '=');
    cr_assert(towns, "a group is INNER=town,...: %s", *groups);
    *towns++ = 0;
    const char *parent = *text ? text : root;
    if (*text)
      json_array_append_new(units, new_unit(text, root, "district"));
    for (char *t = strtok(towns, ","); t; t = strtok(NULL, ",")) {
      json_t *u = town_of(old, t);
      cr_assert_not_null(u, "no town %s in %s", t, file);
      u = json_deep_copy(u);
      json_object_set_new(u, "parent", json_string(parent));
      json_array_append_new(units, u);
    }
  }
  json_object_set_new(cat, "units", units);
  cr_assert_eq(json_dump_file(cat, path, JSON_INDENT(1)), 0, "%s", path);
  json_decref(cat);
}

/* This machine's first IPv4 address that is not a loopback one, or 0. */
int tally_test_own_address(char *buf, size_t n) {
  struct ifaddrs *list, *i;
  int found = 0;
  if (getifaddrs(&list) != 0)
    return 0;
  for (i = list; i && !found; i = i->ifa_next) {
    if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
      continue;
    struct in_addr a = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
    if ((ntohl(a.s_addr) >> 24) == 127)
      continue;
    found = inet_ntop(AF_INET, &a, buf, (socklen_t)n) != NULL;
  }
  freeifaddrs(list);
  return found;
}
