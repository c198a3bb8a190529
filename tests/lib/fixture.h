/* fixture.h: shared test fixtures: temporary directories, a real tallyd
 * on an ephemeral loopback port, and runs of the real tally binary. */
#ifndef TALLY_FIXTURE_H
#define TALLY_FIXTURE_H

#include "catalog.h"

#include <stddef.h>
#include <sys/types.h>

/* Makes a fresh directory under $TMPDIR (or /tmp) into buf (>= 256
 * bytes). Aborts the test on failure. */
void tally_test_tmpdir(char *buf, size_t n);

/* Removes a directory tree (rm -rf). */
void tally_test_rmtree(const char *path);

#define TALLY_TEST_TOKEN_MAX 128

/* An account made for a test, and its token. */
typedef struct {
  char role[16];
  char unit[65];
  char token[TALLY_TEST_TOKEN_MAX];
  unsigned long long id;
} tally_test_account;

typedef struct {
  pid_t pid;
  char dir[256];       /* the server's temporary data directory */
  char address[64];    /* "127.0.0.1:PORT" */
  char web[96];        /* with --http: "http://127.0.0.1:PORT" (the
                          first --http's) */
  char web_also[7][96]; /* those of the second --http and on, if given */
  char log[300];       /* the server's standard error, in dir/../ */
  int own_dir;         /* remove dir when stopped */
  char admin[TALLY_TEST_TOKEN_MAX]; /* the token tallyd init printed */
  tally_test_account accounts[24];  /* made by tally_test_token */
  int n_accounts;
  const char *ca;      /* set for a TLS server: the fixture's own
                          connections then speak TLS */
} tally_test_server;

/* When > 0, servers started afterwards may write files of at most this
 * many bytes (RLIMIT_FSIZE), as on a disk that is full. */
extern long tally_test_fsize_limit;

/* Starts tallyd with a fresh data directory on 127.0.0.1:0 (unless extra
 * gives --listen: then on those addresses, s->address the first) and
 * waits for its "listening on" line. extra: further arguments, NULL-terminated
 * (may be NULL). The server dies with the test process. A new data
 * directory is first made with 'tallyd init', whose admin token is kept
 * in s->admin (and in DIR/test-admin.token, for a restart on the same
 * directory). TALLY_TOKEN is then set to the admin's token, and
 * TALLY_CONFIG to a file that does not exist, for runs of tally. */
void tally_test_server_start(tally_test_server *s, const char *const *extra);

/* The same, on an existing data directory (kept when stopped). */
void tally_test_server_start_in(tally_test_server *s, const char *dir,
                                const char *const *extra);

/* SIGTERM, then waits (SIGKILL after 10 s). Returns the exit status, or
 * -1 when it had to be killed. Removes the data directory it made. */
int tally_test_server_stop(tally_test_server *s);

/* Writes one record into database db of the LMDB store in dir (no
 * tallyd running on it) with plain LMDB calls: for stores as another
 * version, or damage, would leave them. */
void tally_test_lmdb_put(const char *dir, const char *db, const void *key,
                         size_t klen, const void *value, size_t vlen);

/* For a suite of the real client against one server: starts s, makes a
 * temporary folder for input files in dir (n bytes), and points the
 * client at the server ($TALLY_SERVER) and at dir/spool ($TALLY_SPOOL).
 * tally_test_cli_stop stops s and removes dir. */
void tally_test_cli_start(tally_test_server *s, char *dir, size_t n);
void tally_test_cli_stop(tally_test_server *s, const char *dir);

/* The token of an account with this role ("reporter", "analyst",
 * "admin") and unit (a reporter's; else NULL), made through the real
 * protocol by the admin on first use and kept in s. */
const char *tally_test_token(tally_test_server *s, const char *role,
                             const char *unit);

/* Sets TALLY_TOKEN, so that later runs of tally sign in as that account
 * (tally_test_token's). */
void tally_test_sign_in(tally_test_server *s, const char *role,
                        const char *unit);

struct tally_client;
/* A connection to s signed in with token (NULL = none): its first
 * request carries it. Aborts the test on failure. */
struct tally_client *tally_test_connect(tally_test_server *s,
                                        const char *token);

/* The same, signed in already: a whoami has gone first. */
struct tally_client *tally_test_connect_signed_in(tally_test_server *s,
                                                  const char *token);

/* A socket listening on 127.0.0.1 at a free port, written into address
 * ("127.0.0.1:PORT"): a server that is not tallyd. */
int tally_test_listen(char *address, size_t n);

/* A loopback address other than 127.0.0.1, at any port: "[::1]:0" when
 * this machine has the IPv6 loopback, else "127.0.0.2:0". */
const char *tally_test_second_loopback(void);

/* Runs the tally binary with args (NULL-terminated, without argv[0]) and
 * input on standard input (may be NULL). Captures standard output and
 * standard error into malloc'd strings (the caller frees them; either
 * pointer may be NULL to discard). Returns the exit status, or -1 if it
 * died of a signal. */
int tally_test_run(const char *const *args, const char *input, char **out,
                   char **err);

/* Runs tally with the arguments given (a NULL is added): the exit
 * status, as tally_test_run. */
#define RUN(out, err, ...)                                                     \
  tally_test_run((const char *const[]){__VA_ARGS__, NULL}, NULL, out, err)

/* The same for any program (argv[0] = prog). */
int tally_test_exec(const char *prog, const char *const *args,
                    const char *input, char **out, char **err);

/* Loads a catalog from JSON written with ' for " (easier in C strings);
 * fails the test if the catalog is refused. Free with tally_catalog_free. */
tally_catalog *tally_test_catalog(const char *json);

/* The same without failing the test: loads json (' for ") as origin.
 * Returns what tally_catalog_load_buffer returns, with *cat and err. */
int tally_test_catalog_load(const char *origin, const char *json,
                            tally_catalog **cat, char *err, size_t n);

/* Writes to path the built-in catalog (catalog/changqing.json) with its
 * unit tree made again: root (its code) at the top and, for each entry
 * of groups (NULL-terminated), "INNER=town,town,...": an inner unit
 * INNER under the root with those towns under it, or "=town,..." for
 * towns right under the root. Towns keep their names; a new unit is
 * named by its code. For a city of districts, and each district's own
 * server. */
void tally_test_catalog_tree(const char *path, const char *root,
                             const char *const *groups);

/* Writes text to path. */
void tally_test_write_file(const char *path, const char *text);

/* A whole file read into a malloc'd string, or NULL. */
char *tally_test_read_file(const char *path);

/* The file at path once it holds text: read again every 10 ms, for 8 s
 * at most. Returns it as tally_test_read_file does, whether or not the
 * text came; the caller asserts on it. */
char *tally_test_read_file_with(const char *path, const char *text);

/* The resident memory of a process, in KiB (VmRSS), or -1. */
long tally_test_rss_kib(pid_t pid);

/* n catalog requests with this id (each answered with the whole
 * catalog, ~70 KB) in one malloc'd buffer of *len bytes. The first
 * carries s's admin token and signs the connection in, so that every
 * one is answered. */
unsigned char *tally_test_catalog_requests(const tally_test_server *s, int n,
                                           unsigned long long id, size_t *len);

/* This machine's first IPv4 address that is not a loopback one, into buf
 * (n bytes): 1, or 0 when it has none. A server listening on 0.0.0.0 is
 * reached there off the loopback, nothing leaving the machine. */
int tally_test_own_address(char *buf, size_t n);

#endif
