/* test_settings.c: tallyd's config file and flags (server/settings.c),
 * and the real tallyd started from a config file. */
#include "fixture.h"
#include "frame.h"
#include "settings.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256], file[300];

static void setup(void) {
  tally_test_tmpdir(dir, sizeof dir);
  snprintf(file, sizeof file, "%s/tallyd.conf", dir);
}
static void teardown(void) { tally_test_rmtree(dir); }

TestSuite(settings, .init = setup, .fini = teardown, .timeout = 60);

/* Reads text as a config file over the defaults: the code, the problem
 * in err. */
static int read_text(const char *text, tally_settings *o, char *err,
                     size_t n) {
  tally_test_write_file(file, text);
  tally_settings_init(o);
  err[0] = 0;
  return tally_settings_read(o, file, err, n);
}

/* Asserts that text is refused with "FILE:LINE: problem". */
static void refused(const char *text, int line, const char *problem) {
  tally_settings o;
  char err[1024], want[1400];
  cr_assert_eq(read_text(text, &o, err, sizeof err), -EINVAL, "%s", text);
  snprintf(want, sizeof want, "%s:%d: %s", file, line, problem);
  cr_assert(strncmp(err, want, strlen(want)) == 0, "want '%s', got '%s'", want,
            err);
  tally_settings_free(&o);
}

Test(settings, a_file_sets_what_the_flags_set) {
  tally_settings o;
  char err[1024];
  int rc = read_text("# tallyd's settings\n"
                     "[store]\n"
                     "data = /var/lib/tally\n"
                     "backup-dir = /var/backups/tally\n"
                     "map-size = 64\n"
                     "\n"
                     "[server]\n"
                     "listen = 0.0.0.0:7300\n"
                     "insecure-plaintext = no\n"
                     "log-format = json\n"
                     "[tls]\n"
                     "cert = /etc/tally/server.crt ; a comment after a value\n"
                     "key = /etc/tally/server.key\n"
                     "warn-days = 45\n"
                     "[web]\n"
                     "listen = 0.0.0.0:8443\n"
                     "session-timeout = 3600\n"
                     "[limits]\n"
                     "max-connections = 500\n"
                     "memory-budget = 128\n",
                     &o, err, sizeof err);
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert_str_eq(o.data, "/var/lib/tally");
  cr_assert_str_eq(o.backup_dir, "/var/backups/tally");
  cr_assert_eq(o.map_size, 64u << 20);
  cr_assert_str_eq(o.listen.at[0], "0.0.0.0:7300");
  cr_assert_eq(o.insecure_plaintext, 0);
  cr_assert_str_eq(o.log_format, "json");
  cr_assert_str_eq(o.tls_cert, "/etc/tally/server.crt");
  cr_assert_str_eq(o.tls_key, "/etc/tally/server.key");
  cr_assert_eq(o.cert_warn_days, 45);
  cr_assert_eq(o.http.n, 1);
  cr_assert_str_eq(o.http.at[0], "0.0.0.0:8443");
  cr_assert_eq(o.session_s, 3600);
  cr_assert_eq(o.max_connections, 500);
  cr_assert_eq(o.memory_budget, 128u << 20);
  /* What the file does not set keeps its default. */
  cr_assert_eq(o.max_frame, TALLY_FRAME_DEFAULT_MAX);
  /* A flag afterwards overrides the file. */
  cr_assert_eq(tally_settings_set(&o, "max-connections", "20", err,
                                  sizeof err), 0, "%s", err);
  cr_assert_eq(o.max_connections, 20);
  cr_assert_eq(tally_settings_set(&o, "listen", "127.0.0.1:0", err,
                                  sizeof err), 0);
  cr_assert_str_eq(o.listen.at[0], "127.0.0.1:0");
  tally_settings_free(&o);
}

Test(settings, every_problem_names_its_line) {
  refused("[store]\ndata = /x\n[limits]\nmax-conections = 5\n", 4,
          "unknown key 'max-conections' in [limits]; it takes: max-frame "
          "idle-timeout max-connections");
  refused("[limits]\nmax-frame = 12\n", 2,
          "max-frame must be a whole number from 64 to 268435456, not '12'");
  refused("[limits]\nmax-frame = 1000x\n", 2, "max-frame must be a whole");
  refused("[limits]\nidle-timeout = -1\n", 2, "idle-timeout must be a whole");
  refused("[store]\nmap-size = 99999999999999999999999\n", 2,
          "map-size must be a whole number from 1 to 1048576 (MiB)");
  refused("data = /var/lib/tally\n", 1, "'data' comes before any [section]");
  refused("[stores]\ndata = /x\n", 2, "unknown section [stores]");
  refused("[server]\n# fine\n\ninsecure-plaintext = maybe\n", 4,
          "insecure-plaintext must be yes or no, not 'maybe'");
  refused("[server]\nlog-format = xml\n", 2,
          "log-format must be auto, text, json or journal, not 'xml'");
  refused("[store]\ndata = /a\ndata = /b\n", 3, "'data' in [store] is given "
                                                "twice");
  refused("[store]\ndata = /a\nthis is not ini\n", 3,
          "not '[section]', 'key = value' or a comment");
  refused("[store\n", 1, "not '[section]'");
  refused("[tls]\ncert =\n", 2, "cert needs a value");
  refused("[server]\nlisten = 127.0.0.1:7300\nlisten = nowhere\n", 3,
          "listen must be HOST:PORT (127.0.0.1:7300, [::1]:7300), not "
          "'nowhere'");
  refused("[server]\nlisten = [::1]:7300\nlisten = [::1]:7300\n", 3,
          "listen [::1]:7300 is given twice");
  refused("[server]\nlisten = 127.0.0.1:99999\n", 2,
          "listen must be HOST:PORT");
}

/* listen, given again, is an address more; the flags' replace the
 * file's, and more flags add to them. */
Test(settings, several_listen_addresses) {
  tally_settings o;
  char err[512];
  cr_assert_eq(read_text("[server]\n"
                         "listen = 127.0.0.1:7300\n"
                         "listen = [::1]:7300\n"
                         "listen = 10.0.0.5:7300\n",
                         &o, err, sizeof err), 0, "%s", err);
  cr_assert_eq(o.listen.n, 3);
  cr_assert_str_eq(o.listen.at[0], "127.0.0.1:7300");
  cr_assert_str_eq(o.listen.at[1], "[::1]:7300");
  cr_assert_str_eq(o.listen.at[2], "10.0.0.5:7300");
  cr_assert_eq(tally_settings_set(&o, "listen", "127.0.0.1:0", err,
                                  sizeof err), 0, "%s", err);
  cr_assert_eq(o.listen.n, 1);
  cr_assert_eq(tally_settings_set(&o, "listen", "[::1]:0", err, sizeof err),
               0, "%s", err);
  cr_assert_eq(o.listen.n, 2);
  cr_assert_str_eq(o.listen.at[1], "[::1]:0");
  cr_assert_eq(tally_settings_set(&o, "listen", "no-port", err, sizeof err),
               -EINVAL);
  cr_assert(strstr(err, "--listen must be HOST:PORT"), "%s", err);
  tally_settings_free(&o);
  /* Without listen: the default, alone. */
  cr_assert_eq(read_text("[store]\ndata = /x\n", &o, err, sizeof err), 0);
  cr_assert_eq(o.listen.n, 1);
  cr_assert_str_eq(o.listen.at[0], "127.0.0.1:7300");
  tally_settings_free(&o);
}

/* The web pages' listen ([web] listen, --http) likewise: an address
 * more each time, the flags' in place of the file's, at most 8; none by
 * default. */
Test(settings, several_web_addresses) {
  tally_settings o;
  char err[512];
  cr_assert_eq(read_text("[web]\n"
                         "listen = 0.0.0.0:8443\n"
                         "listen = [::]:8443\n",
                         &o, err, sizeof err), 0, "%s", err);
  cr_assert_eq(o.http.n, 2);
  cr_assert_str_eq(o.http.at[0], "0.0.0.0:8443");
  cr_assert_str_eq(o.http.at[1], "[::]:8443");
  cr_assert_eq(o.listen.n, 1, "the protocol's are apart");
  cr_assert_eq(tally_settings_set(&o, "http", "127.0.0.1:0", err, sizeof err),
               0, "%s", err);
  cr_assert_eq(o.http.n, 1);
  cr_assert_str_eq(o.http.at[0], "127.0.0.1:0");
  cr_assert_eq(tally_settings_set(&o, "http", "127.0.0.1:0", err, sizeof err),
               -EINVAL);
  cr_assert(strstr(err, "--http 127.0.0.1:0 is given twice"), "%s", err);
  cr_assert_eq(tally_settings_set(&o, "http", "nowhere", err, sizeof err),
               -EINVAL);
  cr_assert(strstr(err, "--http must be HOST:PORT"), "%s", err);
  char more[32];
  for (int i = 1; i < 8; i++) {
    snprintf(more, sizeof more, "127.0.0.1:%d", 8000 + i);
    cr_assert_eq(tally_settings_set(&o, "http", more, err, sizeof err), 0,
                 "%s", err);
  }
  cr_assert_eq(o.http.n, 8);
  cr_assert_eq(tally_settings_set(&o, "http", "127.0.0.1:9000", err,
                                  sizeof err), -EINVAL);
  cr_assert(strstr(err, "at most 8 addresses"), "%s", err);
  tally_settings_free(&o);
  cr_assert_eq(read_text("[store]\ndata = /x\n", &o, err, sizeof err), 0);
  cr_assert_eq(o.http.n, 0);
  tally_settings_free(&o);
  refused("[web]\nlisten = 127.0.0.1:8080\nlisten = nowhere\n", 3,
          "listen must be HOST:PORT");
}

/* tallyd on two loopback addresses (127.0.0.1 and ::1, else a second
 * port) answers on each, and says each on standard output and in its
 * log. */
Test(settings, tallyd_answers_on_each_listen_address) {
  tally_test_server srv;
  const char *second = tally_test_second_loopback();
  tally_test_server_start(&srv, (const char *const[]){"--listen",
                                                      "127.0.0.1:0",
                                                      "--listen", second,
                                                      NULL});
  char *log = tally_test_read_file_with(srv.log, "listening on");
  cr_assert_not_null(log);
  char first[64], other[64];
  const char *at = strstr(log, "listening on ");
  cr_assert(at && sscanf(at, "listening on %63s %63s", first, other) == 2,
            "%s", log);
  free(log);
  cr_assert_str_eq(first, srv.address);
  cr_assert_neq(strcmp(first, other), 0);
  cr_assert(strncmp(other, second, strlen(second) - 1) == 0, "%s", other);
  const char *both[] = {first, other};
  for (int i = 0; i < 2; i++) {
    char *out = NULL, *err = NULL;
    cr_assert_eq(RUN(&out, &err, "--server", both[i], "whoami"), 0, "%s: %s",
                 both[i], err);
    cr_assert(strstr(out, "admin"), "%s", out);
    free(out);
    free(err);
  }
  tally_test_server_stop(&srv);
}

Test(settings, a_long_path_is_read_whole) {
  char text[1200], path[1000];
  tally_settings o;
  char err[1024];
  memset(path, 'a', sizeof path - 1);
  path[0] = '/';
  path[sizeof path - 1] = 0;
  snprintf(text, sizeof text, "[store]\ndata = %s\n[limits]\nbogus = 1\n",
           path);
  cr_assert_eq(read_text(text, &o, err, sizeof err), -EINVAL);
  cr_assert_str_eq(o.data, path);
  /* Lines are counted right after a long one. */
  cr_assert(strstr(err, "tallyd.conf:4: unknown key 'bogus'"), "%s", err);
  tally_settings_free(&o);
}

Test(settings, a_missing_file) {
  tally_settings o;
  char err[1024];
  tally_settings_init(&o);
  cr_assert_eq(tally_settings_read(&o, "/nonexistent/tallyd.conf", err,
                                   sizeof err), -ENOENT);
  cr_assert(strstr(err, "cannot read the config file /nonexistent/tallyd.conf"),
            "%s", err);
  tally_settings_free(&o);
}

#define TALLYD(out, err, ...)                                                  \
  tally_test_exec(TALLYD_PATH, (const char *const[]){__VA_ARGS__, NULL}, NULL, \
                  out, err)

/* tallyd stops at start on a bad file, naming the line, and exits 2. */
Test(settings, tallyd_refuses_a_bad_config_file) {
  char *out, *err;
  tally_test_write_file(file, "[server]\nlisten = 127.0.0.1:0\nlisen = x\n");
  int rc = TALLYD(&out, &err, "--config", file, "--data", dir);
  cr_assert_eq(rc, 2, "%s", err);
  char want[400];
  snprintf(want, sizeof want, "tallyd: %s:3: unknown key 'lisen' in [server]",
           file);
  cr_assert(strstr(err, want), "%s", err);
  free(out);
  free(err);
  rc = TALLYD(&out, &err, "--config", "/nonexistent.conf", "--data", dir);
  cr_assert_eq(rc, 2);
  cr_assert(strstr(err, "cannot read the config file /nonexistent.conf"), "%s",
            err);
  free(out);
  free(err);
}

/* A server started from its config file: the file's settings hold, and
 * the flags override them. */
Test(settings, tallyd_runs_from_its_config_file_and_flags_override_it) {
  tally_test_server srv;
  char conf[600];
  snprintf(conf, sizeof conf,
           "[server]\n"
           "log-format = json\n"
           "[store]\n"
           "backup-dir = %s\n",
           dir);
  tally_test_write_file(file, conf);
  tally_test_server_start(&srv, (const char *const[]){"--config", file, NULL});
  char *out = NULL, *err = NULL;
  /* backup-dir from the file: a backup goes there. */
  cr_assert_eq(RUN(&out, &err, "--server", srv.address, "backup", "b1"), 0,
               "%s", err);
  cr_assert(strstr(out, dir), "%s", out);
  free(out);
  free(err);
  char *log = tally_test_read_file_with(srv.log, "\"message\":\"backup: ");
  cr_assert(log && strstr(log, "{\"time\":\"") &&
                strstr(log, "\"level\":\"info\",\"message\":\"backup: "),
            "%s", log);
  free(log);
  tally_test_server_stop(&srv);

  /* The flag wins over the file. */
  tally_test_server_start(&srv, (const char *const[]){"--config", file,
                                                      "--log-format", "text",
                                                      NULL});
  cr_assert_eq(RUN(NULL, NULL, "--server", srv.address, "whoami"), 0);
  log = tally_test_read_file_with(srv.log, "connection 1 closed");
  cr_assert(log && strstr(log, "connection 1 closed") &&
                strstr(log, "{\"time\"") == NULL,
            "%s", log);
  free(log);
  tally_test_server_stop(&srv);
}

/* SIGHUP with a file that no longer reads changes nothing: the server
 * says why and goes on serving as it was. */
Test(settings, a_reload_of_a_bad_file_changes_nothing) {
  tally_test_server srv;
  tally_test_write_file(file, "[server]\nlog-format = text\n");
  tally_test_server_start(&srv, (const char *const[]){"--config", file, NULL});
  tally_test_write_file(file, "[server]\nlog-format = text\nbogus = 1\n");
  cr_assert_eq(kill(srv.pid, SIGHUP), 0);
  char *log = tally_test_read_file_with(srv.log, "reload refused");
  char want[400];
  snprintf(want, sizeof want, "error: reload refused, nothing changed: "
           "%s:3: unknown key 'bogus' in [server]", file);
  cr_assert(log && strstr(log, want), "%s", log ? log : "");
  free(log);
  cr_assert_eq(RUN(NULL, NULL, "--server", srv.address, "whoami"), 0);
  /* Mended, it reloads. */
  tally_test_write_file(file, "[server]\nlog-format = json\n");
  cr_assert_eq(kill(srv.pid, SIGHUP), 0);
  log = tally_test_read_file_with(srv.log, "reload: done");
  cr_assert(log && strstr(log, "\"message\":\"reload: done"), "%s",
            log ? log : "");
  free(log);
  cr_assert_eq(tally_test_server_stop(&srv), 0);
}
