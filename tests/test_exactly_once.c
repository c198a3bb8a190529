/* test_exactly_once.c: a figure reaches the server exactly once: ids,
 * revisions, replace, the spool, sync, and a reply lost on the way. */
#include "client.h"
#include "fixture.h"
#include "wire.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static tally_test_server srv;
static char files[256];
static char spool[300];

static void setup(void) {
  tally_test_cli_start(&srv, files, sizeof files);
  snprintf(spool, sizeof spool, "%s", getenv("TALLY_SPOOL"));
}

static void teardown(void) { tally_test_cli_stop(&srv, files); }

TestSuite(exactly_once, .init = setup, .fini = teardown, .timeout = 120);

/* Sends req on a new connection signed in with token. */
static Tally__Envelope *call_as(const char *token, Tally__Envelope *req) {
  tally_client *c = tally_test_connect(&srv, token);
  Tally__Envelope *reply;
  char err[256];
  cr_assert_eq(tally_client_call(c, req, &reply, err, sizeof err), 0, "%s",
               err);
  tally_client_close(c);
  return reply;
}

typedef struct {
  const char *id;
  int check;
  uint64_t base;
  int replace;
} opts;

static Tally__Envelope *submit(const char *unit, const char *period,
                               const char *const *el, const double *v,
                               size_t n, opts o) {
  Tally__Value val[16], *pv[16];
  Tally__SubmitRequest s = TALLY__SUBMIT_REQUEST__INIT;
  Tally__Envelope req = TALLY__ENVELOPE__INIT;
  for (size_t i = 0; i < n; i++) {
    tally__value__init(&val[i]);
    val[i].element = (char *)el[i];
    val[i].value = v[i];
    pv[i] = &val[i];
  }
  s.unit = (char *)unit;
  s.period = (char *)period;
  s.values = pv;
  s.n_values = n;
  s.submission_id = (char *)(o.id ? o.id : "");
  s.check_revision = o.check;
  s.base_revision = o.base;
  s.replace = o.replace;
  req.body_case = TALLY__ENVELOPE__BODY_SUBMIT;
  req.submit = &s;
  /* As the unit's own reporter, as an office would. */
  return call_as(tally_test_token(&srv, "reporter", unit), &req);
}

/* Runs of tally sign in as the unit's reporter from now on (the
 * fixture's default is the admin, who may read but not submit). */
static void office_of(const char *unit) {
  tally_test_sign_in(&srv, "reporter", unit);
}

/* The unit's stored values as JSON, through the real client (signed in
 * as whoever TALLY_TOKEN names: the admin, or the unit's reporter). */
static json_t *stored(const char *unit, const char *period) {
  char *out, *err;
  int rc = RUN(&out, &err, "values", "--unit", unit, "--period", period,
               "--format", "json");
  cr_assert_eq(rc, 0, "%s", err);
  json_error_t e;
  json_t *doc = json_loads(out, 0, &e);
  cr_assert_not_null(doc, "%s", out);
  free(out);
  free(err);
  return doc;
}

static double stored_value(json_t *doc, const char *element) {
  json_t *v;
  size_t i;
  json_array_foreach(json_object_get(doc, "values"), i, v) {
    if (strcmp(json_string_value(json_object_get(v, "element")), element) == 0)
      return json_number_value(json_object_get(v, "value"));
  }
  return -1;
}

static json_int_t revision(const char *unit, const char *period) {
  json_t *doc = stored(unit, period);
  json_int_t r = json_integer_value(json_object_get(doc, "revision"));
  json_decref(doc);
  return r;
}

/* Number of change sets in the report's history. */
static size_t history_len(const char *unit, const char *period) {
  char *out;
  cr_assert_eq(RUN(&out, NULL, "history", "--unit", unit, "--period", period,
                   "--format", "json"),
               0);
  json_t *doc = json_loads(out, 0, NULL);
  cr_assert_not_null(doc, "%s", out);
  size_t n = json_array_size(json_object_get(doc, "history"));
  json_decref(doc);
  free(out);
  return n;
}

static const char *const EL[] = {"live_births", "infant_deaths"};

Test(exactly_once, same_id_twice_is_stored_once) {
  double v[] = {700, 3};
  opts o = {.id = "7d3f6a1e-0000-4000-8000-000000000001"};
  Tally__Envelope *r1 = submit("pingan", "2022", EL, v, 2, o);
  cr_assert_eq(r1->body_case, TALLY__ENVELOPE__BODY_SUBMIT_REPLY);
  cr_assert_not(r1->submit_reply->duplicate);
  cr_assert_eq(r1->submit_reply->revision, 1);

  Tally__Envelope *r2 = submit("pingan", "2022", EL, v, 2, o);
  cr_assert_eq(r2->body_case, TALLY__ENVELOPE__BODY_SUBMIT_REPLY);
  cr_assert(r2->submit_reply->duplicate);
  /* The first acknowledgement, as it was. */
  cr_assert_eq(r2->submit_reply->accepted, r1->submit_reply->accepted);
  cr_assert_eq(r2->submit_reply->revision, 1);
  tally_wire_free(r1);
  tally_wire_free(r2);

  cr_assert_eq(revision("pingan", "2022"), 1);
  cr_assert_eq(history_len("pingan", "2022"), 1);
}

Test(exactly_once, an_id_cannot_be_reused_for_other_figures) {
  double v[] = {700, 3};
  opts o = {.id = "reused-id"};
  tally_wire_free(submit("pingan", "2022", EL, v, 2, o));
  Tally__Envelope *r = submit("guide", "2022", EL, v, 2, o);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR);
  cr_assert(strstr(r->error->message, "already used for other figures"), "%s",
            r->error->message);
  tally_wire_free(r);
  json_t *doc = stored("guide", "2022");
  cr_assert_eq(json_array_size(json_object_get(doc, "values")), 0);
  json_decref(doc);
}

Test(exactly_once, an_id_cannot_be_reused_for_the_same_report_either) {
  double v1[] = {700, 3}, v2[] = {999, 5};
  opts o = {.id = "same-report-other-figures"};
  tally_wire_free(submit("mashan", "2022", EL, v1, 2, o));
  Tally__Envelope *r = submit("mashan", "2022", EL, v2, 2, o);
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR);
  cr_assert(strstr(r->error->message, "already used for other figures"), "%s",
            r->error->message);
  tally_wire_free(r);
  json_t *doc = stored("mashan", "2022");
  cr_assert_eq(stored_value(doc, "live_births"), 700);
  json_decref(doc);
}

/* H27 divides hypertension_standard by hypertension_managed: the first
 * may not exceed the second, even when they come in two submissions. */
Test(exactly_once, a_numerator_may_not_pass_its_denominator_later) {
  const char *const el[] = {"hypertension_managed", "hypertension_standard"};
  double ok[] = {100, 50};
  tally_wire_free(submit("guide", "2022", el, ok, 2, (opts){0}));
  double more[] = {500};
  Tally__Envelope *r = submit("guide", "2022", el + 1, more, 1, (opts){0});
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR);
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_BAD_VALUE);
  cr_assert(strstr(r->error->message, "break 1 of the catalog's rules"),
            "%s", r->error->message);
  cr_assert_eq(r->error->n_details, 1);
  cr_assert_str_eq(r->error->details[0]->rule, "H27_bounded");
  cr_assert_not(r->error->details[0]->warning);
  cr_assert(strstr(r->error->details[0]->text,
                   "hypertension_standard = 500, hypertension_managed = 100"),
            "%s", r->error->details[0]->text);
  tally_wire_free(r);
  /* Lowering the denominator under it later is refused too. */
  double less[] = {40};
  r = submit("guide", "2022", el, less, 1, (opts){0});
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR);
  tally_wire_free(r);
  json_t *doc = stored("guide", "2022");
  cr_assert_eq(stored_value(doc, "hypertension_standard"), 50);
  cr_assert_eq(stored_value(doc, "hypertension_managed"), 100);
  json_decref(doc);
}

Test(exactly_once, a_stale_correction_is_a_conflict) {
  double v1[] = {700, 3}, v2[] = {705, 3}, v3[] = {690, 2};
  tally_wire_free(submit("wande", "2022", EL, v1, 2, (opts){0}));
  /* Someone else corrects it: revision 2. */
  tally_wire_free(submit("wande", "2022", EL, v2, 2, (opts){0}));

  /* A correction based on revision 1 is refused, showing both. */
  Tally__Envelope *r =
      submit("wande", "2022", EL, v3, 2, (opts){.check = 1, .base = 1});
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_ERROR);
  cr_assert_eq(r->error->code, TALLY__ERROR_CODE__ERROR_CONFLICT);
  cr_assert(strstr(r->error->message, "at revision 2, but the submission is "
                                      "based on revision 1"),
            "%s", r->error->message);
  cr_assert_eq(r->error->n_details, 2);
  cr_assert_str_eq(r->error->details[0]->text,
                   "infant_deaths: stored 3, submitted 2");
  cr_assert_str_eq(r->error->details[1]->text,
                   "live_births: stored 705, submitted 690");
  tally_wire_free(r);
  json_t *doc = stored("wande", "2022");
  cr_assert_eq(stored_value(doc, "live_births"), 705);
  json_decref(doc);

  /* Based on the current revision it goes through. */
  r = submit("wande", "2022", EL, v3, 2, (opts){.check = 1, .base = 2});
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_SUBMIT_REPLY);
  cr_assert_eq(r->submit_reply->revision, 3);
  tally_wire_free(r);
}

Test(exactly_once, an_unchanged_resubmission_does_not_move_the_revision) {
  double v[] = {700, 3};
  tally_wire_free(submit("wande", "2021", EL, v, 2, (opts){0}));
  Tally__Envelope *r = submit("wande", "2021", EL, v, 2, (opts){0});
  cr_assert_eq(r->submit_reply->unchanged, 2);
  cr_assert_eq(r->submit_reply->revision, 1);
  tally_wire_free(r);
  cr_assert_eq(history_len("wande", "2021"), 1);
}

Test(exactly_once, replace_removes_what_is_left_out_and_records_it) {
  const char *three[] = {"live_births", "infant_deaths", "physicians"};
  double v[] = {700, 3, 90};
  tally_wire_free(submit("xiaoli", "2022", three, v, 3, (opts){0}));

  /* The whole report is now just live_births: the others are removed. */
  Tally__Envelope *r =
      submit("xiaoli", "2022", three, v, 1, (opts){.replace = 1});
  cr_assert_eq(r->body_case, TALLY__ENVELOPE__BODY_SUBMIT_REPLY);
  cr_assert_eq(r->submit_reply->removed, 2);
  cr_assert_eq(r->submit_reply->revision, 2);
  tally_wire_free(r);

  json_t *doc = stored("xiaoli", "2022");
  cr_assert_eq(json_array_size(json_object_get(doc, "values")), 1);
  json_decref(doc);

  /* Recorded as removed, not forgotten. */
  char *out;
  cr_assert_eq(RUN(&out, NULL, "history", "--unit", "xiaoli", "--period",
                   "2022", "--format", "json"),
               0);
  json_t *h = json_loads(out, 0, NULL);
  json_t *second = json_array_get(json_object_get(h, "history"), 1);
  json_t *changes = json_object_get(second, "changes");
  cr_assert_eq(json_array_size(changes), 2);
  json_t *c0 = json_array_get(changes, 0);
  cr_assert_str_eq(json_string_value(json_object_get(c0, "element")),
                   "infant_deaths");
  cr_assert_eq(json_number_value(json_object_get(c0, "before")), 3);
  cr_assert(json_is_null(json_object_get(c0, "after")));
  json_decref(h);
  free(out);
}

static const char *write_figures(const char *name) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", files, name);
  tally_test_write_file(path, "live_births,640\ninfant_deaths,1\n");
  return path;
}

static int pending_count(void) {
  char *out;
  cr_assert_eq(RUN(&out, NULL, "pending", "--format", "json"), 0);
  json_t *doc = json_loads(out, 0, NULL);
  cr_assert_not_null(doc, "%s", out);
  int n = (int)json_array_size(json_object_get(doc, "pending"));
  json_decref(doc);
  free(out);
  return n;
}

Test(exactly_once, server_down_then_sync) {
  const char *f = write_figures("f.csv");
  char *out, *err, token[TALLY_TEST_TOKEN_MAX];

  /* The office's token, made while the server is up; it stays good
   * across the restart. */
  office_of("mashan");
  snprintf(token, sizeof token, "%s", getenv("TALLY_TOKEN"));

  /* Stop the server, keeping its store. */
  char dir[256];
  snprintf(dir, sizeof dir, "%s", srv.dir);
  srv.own_dir = 0;
  tally_test_server_stop(&srv);

  int rc = RUN(&out, &err, "submit", "--unit", "mashan", "--period", "2022",
               "--file", f);
  cr_assert_eq(rc, 3, "%s%s", out, err);
  cr_assert(strstr(err, "cannot reach the server"), "%s", err);
  cr_assert(strstr(err, "kept in the spool"), "%s", err);
  free(out);
  free(err);
  cr_assert_eq(pending_count(), 1);

  /* A second submission waits behind the first. */
  rc = RUN(NULL, NULL, "submit", "--unit", "mashan", "--period", "2021",
           "--file", f);
  cr_assert_eq(rc, 3);
  cr_assert_eq(pending_count(), 2);

  tally_test_server_start_in(&srv, dir, NULL);
  srv.own_dir = 1;
  setenv("TALLY_SERVER", srv.address, 1);
  setenv("TALLY_TOKEN", token, 1); /* the restart signed runs in as admin */
  rc = RUN(&out, &err, "sync");
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert(strstr(out, "mashan 2022: 2 values stored"), "%s", out);
  cr_assert(strstr(out, "mashan 2021: 2 values stored"), "%s", out);
  /* In the order they were submitted. */
  cr_assert(strstr(out, "mashan 2022") < strstr(out, "mashan 2021"), "%s", out);
  free(out);
  free(err);
  cr_assert_eq(pending_count(), 0);

  json_t *doc = stored("mashan", "2022");
  cr_assert_eq(stored_value(doc, "live_births"), 640);
  json_decref(doc);
  cr_assert_eq(revision("mashan", "2022"), 1);
  cr_assert_eq(history_len("mashan", "2022"), 1);

  /* Nothing left: sync again is a no-op. */
  cr_assert_eq(RUN(NULL, NULL, "sync"), 0);
  cr_assert_eq(history_len("mashan", "2022"), 1);
}

/* A proxy that passes one connection's request to the server and drops
 * the reply: the server stores and acknowledges, the client never hears
 * it, as when the client is killed between sending and the reply. */
static pid_t start_proxy(char *address, size_t n, int notify);

static pid_t start_reply_dropping_proxy(char *address, size_t n) {
  return start_proxy(address, n, -1);
}

/* The proxy: with notify >= 0, it holds the server's reply instead of
 * dropping it, says so with a byte on notify, and waits to be killed. */
static pid_t start_proxy(char *address, size_t n, int notify) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t len = sizeof a;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(listen(ls, 1), 0);
  getsockname(ls, (struct sockaddr *)&a, &len);
  snprintf(address, n, "127.0.0.1:%d", ntohs(a.sin_port));

  int port;
  cr_assert_eq(sscanf(strrchr(srv.address, ':') + 1, "%d", &port), 1);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid > 0) {
    close(ls);
    return pid;
  }
  int cl = accept(ls, NULL, NULL);
  int up = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};
  s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (cl < 0 || connect(up, (struct sockaddr *)&s, sizeof s) != 0)
    _exit(1);
  struct pollfd p[2] = {{cl, POLLIN, 0}, {up, POLLIN, 0}};
  char buf[65536];
  while (poll(p, 2, 10000) > 0) {
    if (p[1].revents) { /* the server answered: drop it and hang up */
      if (notify >= 0) {
        if (write(notify, "!", 1) != 1)
          _exit(1);
        pause(); /* hold the connection until killed */
      }
      _exit(0);
    }
    ssize_t r = read(cl, buf, sizeof buf);
    if (r <= 0 || write(up, buf, (size_t)r) != r)
      _exit(1);
  }
  _exit(2);
}

Test(exactly_once, lost_acknowledgement_then_sync) {
  const char *f = write_figures("g.csv");
  char proxy[64], *out, *err;
  office_of("zhangxia");
  pid_t pid = start_reply_dropping_proxy(proxy, sizeof proxy);

  int rc = RUN(&out, &err, "--server", proxy, "submit", "--unit", "zhangxia",
               "--period", "2022", "--file", f);
  int status;
  waitpid(pid, &status, 0);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
            "the proxy did not see the server's reply");
  cr_assert_eq(rc, 3, "%s%s", out, err);
  cr_assert(strstr(err, "closed the connection without a reply"), "%s", err);
  free(out);
  free(err);

  /* The server stored it; the client does not know, and keeps it. */
  cr_assert_eq(revision("zhangxia", "2022"), 1);
  cr_assert_eq(pending_count(), 1);

  rc = RUN(&out, &err, "sync");
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert(strstr(out, "answered from the server's record"), "%s", out);
  free(out);
  free(err);
  cr_assert_eq(pending_count(), 0);
  /* Exactly once: still one change, revision 1. */
  cr_assert_eq(revision("zhangxia", "2022"), 1);
  cr_assert_eq(history_len("zhangxia", "2022"), 1);
}

Test(exactly_once, a_refused_submission_is_set_aside_not_lost) {
  char path[512], *err;
  snprintf(path, sizeof path, "%s/bad.csv", files);
  tally_test_write_file(path, "live_births,640\nbogus,1\n");
  office_of("guide");
  cr_assert_eq(RUN(NULL, &err, "submit", "--unit", "guide", "--period", "2022",
                   "--file", path),
               1);
  /* Refused for what it holds (not for who sent it), and set aside. */
  cr_assert(strstr(err, "bogus"), "%s", err);
  cr_assert_not(strstr(err, "permission denied"), "%s", err);
  cr_assert(strstr(err, "moved to"), "%s", err);
  free(err);
  cr_assert_eq(pending_count(), 0);
  snprintf(path, sizeof path, "%s/refused", spool);
  char *cmd;
  cr_assert(asprintf(&cmd, "test $(ls %s | wc -l) -eq 1", path) > 0);
  cr_assert_eq(system(cmd), 0);
  free(cmd);
}

Test(exactly_once, sync_retries_until_the_server_is_back) {
  const char *f = write_figures("h.csv");
  char dir[256];
  snprintf(dir, sizeof dir, "%s", srv.dir);
  char port[16];
  snprintf(port, sizeof port, "%s", strrchr(srv.address, ':') + 1);
  office_of("guide"); /* the background sync keeps this token */
  srv.own_dir = 0;
  tally_test_server_stop(&srv);
  cr_assert_eq(RUN(NULL, NULL, "submit", "--unit", "guide", "--period", "2022",
                   "--file", f),
               3);

  /* Sync in the background; bring the server back on the same port. */
  pid_t pid = fork();
  if (pid == 0) {
    int rc = RUN(NULL, NULL, "sync", "--tries", "8");
    _exit(rc);
  }
  usleep(700000);
  char listen[64];
  snprintf(listen, sizeof listen, "127.0.0.1:%s", port);
  tally_test_server_start_in(&srv, dir,
                             (const char *const[]){"--listen", listen, NULL});
  srv.own_dir = 1;
  int status;
  waitpid(pid, &status, 0);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
            "sync exited %d", WEXITSTATUS(status));
  cr_assert_eq(pending_count(), 0);
  cr_assert_eq(revision("guide", "2022"), 1);
}

/* The client killed (SIGKILL) after it sent its submission and before
 * the acknowledgement reached it: the server stored it, the spool still
 * holds it, and sync stores it no second time. */
Test(exactly_once, client_killed_before_the_acknowledgement) {
  const char *f = write_figures("k.csv");
  char proxy[64], *out, *err;
  int notify[2];
  office_of("wufengshan");
  cr_assert_eq(pipe(notify), 0);
  pid_t px = start_proxy(proxy, sizeof proxy, notify[1]);
  close(notify[1]);

  pid_t client = fork();
  cr_assert_neq(client, -1);
  if (client == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl(TALLY_PATH, TALLY_PATH, "--server", proxy, "submit", "--unit",
          "wufengshan", "--period", "2022", "--file", f, (char *)NULL);
    _exit(127);
  }
  char c;
  cr_assert_eq(read(notify[0], &c, 1), 1, "the server never answered");
  close(notify[0]);
  kill(client, SIGKILL);
  int status;
  waitpid(client, &status, 0);
  cr_assert(WIFSIGNALED(status), "the client finished before it was killed");
  kill(px, SIGKILL);
  waitpid(px, NULL, 0);

  /* Stored once by the server; still pending for the client. */
  cr_assert_eq(revision("wufengshan", "2022"), 1);
  cr_assert_eq(pending_count(), 1);
  int rc = RUN(&out, &err, "sync");
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert(strstr(out, "answered from the server's record"), "%s", out);
  free(out);
  free(err);
  cr_assert_eq(pending_count(), 0);
  cr_assert_eq(revision("wufengshan", "2022"), 1);
  cr_assert_eq(history_len("wufengshan", "2022"), 1);
}
