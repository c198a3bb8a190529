/* test_client.c: the real tally binary against a server that is not a
 * good tallyd: a loopback listener in this process, on a thread, that
 * reads each request and answers it badly (another id, another
 * submission's acknowledgement, a reply of another kind, an empty one,
 * escape codes in its message) or one byte every 2 s. */
#include "fixture.h"
#include "frame.h"
#include "wire.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum answer {
  GOOD,         /* the acknowledgement a tallyd gives */
  ID_ZERO,      /* that acknowledgement, with id 0 */
  OTHER_SUB,    /* the acknowledgement of another submission */
  WRONG_KIND,   /* a values reply */
  EMPTY,        /* a submit reply with nothing in it: revision 0, no id */
  ESCAPES,      /* a refusal whose message holds terminal escape codes */
  TRICKLE       /* a good acknowledgement, one byte every 2 s */
};

static char dir[256], address[64];

static struct {
  int listen_fd;
  enum answer answer;
  pthread_t thread;
  int requests; /* the requests read */
} fake;

/* The message ESCAPES sends: a clear screen (ESC [ 2 J), a C1 control
 * (U+009B, CSI) and Chinese, which must come through. */
#define ESCAPE_TEXT "拒绝\x1b[2J文件\xc2\x9b" "2J完"

static int read_full(int fd, void *buf, size_t n) {
  for (size_t got = 0; got < n;) {
    ssize_t r = recv(fd, (char *)buf + got, n - got, 0);
    if (r <= 0)
      return -1;
    got += (size_t)r;
  }
  return 0;
}

/* Reads one request from fd; NULL when the client has closed. */
static Tally__Envelope *read_request(int fd) {
  uint8_t hdr[TALLY_FRAME_HEADER], *body;
  Tally__Envelope *env = NULL;
  if (read_full(fd, hdr, sizeof hdr) != 0)
    return NULL;
  uint32_t n = tally_frame_get_len(hdr);
  if ((body = malloc(n ? n : 1)) == NULL || read_full(fd, body, n) != 0 ||
      tally_wire_unpack(body, n, &env) != 0)
    env = NULL;
  free(body);
  return env;
}

/* The answer to req, packed into a frame. */
static uint8_t *answer_to(const Tally__Envelope *req, size_t *len) {
  Tally__Envelope env = TALLY__ENVELOPE__INIT;
  Tally__SubmitReply ok = TALLY__SUBMIT_REPLY__INIT;
  Tally__ValuesReply values = TALLY__VALUES_REPLY__INIT;
  Tally__ErrorReply no = TALLY__ERROR_REPLY__INIT;
  uint8_t *frame = NULL;

  env.id = req->id;
  ok.accepted = 1;
  ok.revision = 1;
  ok.submission_id = req->body_case == TALLY__ENVELOPE__BODY_SUBMIT
                         ? req->submit->submission_id
                         : "";
  env.body_case = TALLY__ENVELOPE__BODY_SUBMIT_REPLY;
  env.submit_reply = &ok;
  switch (fake.answer) {
  case GOOD:
  case TRICKLE:
    break;
  case ID_ZERO:
    env.id = 0;
    break;
  case OTHER_SUB:
    ok.submission_id = "00000000-0000-4000-8000-000000000000";
    break;
  case WRONG_KIND:
    env.body_case = TALLY__ENVELOPE__BODY_VALUES_REPLY;
    env.values_reply = &values;
    break;
  case EMPTY:
    tally__submit_reply__init(&ok);
    break;
  case ESCAPES:
    no.code = TALLY__ERROR_CODE__ERROR_BAD_VALUE;
    no.message = ESCAPE_TEXT;
    env.body_case = TALLY__ENVELOPE__BODY_ERROR;
    env.error = &no;
    break;
  }
  if (tally_wire_pack(&env, 0, &frame, len) != 0)
    return NULL;
  return frame;
}

/* Sends frame one byte every 2 s, until the client goes. */
static void trickle(int fd, const uint8_t *frame, size_t len) {
  for (size_t i = 0; i < len; i++) {
    struct pollfd p = {fd, POLLIN, 0};
    if (send(fd, frame + i, 1, MSG_NOSIGNAL) != 1 || poll(&p, 1, 2000) != 0)
      return; /* the client closed (or sent more): it has given up */
  }
}

/* Answers every request of one connection as fake.answer says. */
static void *serve(void *arg) {
  (void)arg;
  int fd = accept(fake.listen_fd, NULL, NULL);
  Tally__Envelope *req;
  if (fd < 0)
    return NULL;
  while ((req = read_request(fd)) != NULL) {
    size_t len;
    uint8_t *frame = answer_to(req, &len);
    fake.requests++;
    tally_wire_free(req);
    if (frame == NULL)
      break;
    if (fake.answer == TRICKLE)
      trickle(fd, frame, len);
    else if (send(fd, frame, len, MSG_NOSIGNAL) != (ssize_t)len)
      fake.requests = -1000;
    free(frame);
  }
  close(fd);
  return NULL;
}

static void setup(void) {
  char path[512];
  tally_test_tmpdir(dir, sizeof dir);
  fake.listen_fd = tally_test_listen(address, sizeof address);
  fake.requests = 0;
  setenv("TALLY_SERVER", address, 1);
  snprintf(path, sizeof path, "%s/spool", dir);
  setenv("TALLY_SPOOL", path, 1);
  snprintf(path, sizeof path, "%s/no-config.json", dir);
  setenv("TALLY_CONFIG", path, 1);
  unsetenv("TALLY_TOKEN");
  unsetenv("TALLY_CA");
  snprintf(path, sizeof path, "%s/f.csv", dir);
  tally_test_write_file(path, "live_births,500\n");
}

static void teardown(void) {
  close(fake.listen_fd);
  tally_test_rmtree(dir);
}

TestSuite(client, .init = setup, .fini = teardown, .timeout = 60);

/* Starts the fake server, answering as a says, for one connection. */
static void fake_start(enum answer a) {
  fake.answer = a;
  cr_assert_eq(pthread_create(&fake.thread, NULL, serve, NULL), 0);
}

static void fake_join(void) { pthread_join(fake.thread, NULL); }

/* The ids of the submissions pending in the spool, space-separated. */
static char *pending(void) {
  char *out;
  cr_assert_eq(RUN(&out, NULL, "pending", "--format", "json"), 0);
  json_t *doc = json_loads(out, 0, NULL);
  cr_assert_not_null(doc, "%s", out);
  static char ids[1024];
  ids[0] = 0;
  json_t *list = json_object_get(doc, "pending"), *e;
  size_t i;
  json_array_foreach(list, i, e) {
    strcat(ids, json_string_value(json_object_get(e, "id")));
    strcat(ids, " ");
  }
  json_decref(doc);
  free(out);
  return ids;
}

/* Runs tally submit against the fake server answering as a; returns
 * the exit status and its standard error in *err. */
static int submit(enum answer a, char **err, const char *timeout) {
  char file[512];
  snprintf(file, sizeof file, "%s/f.csv", dir);
  fake_start(a);
  int rc = RUN(NULL, err, "submit", "--unit", "wenchang", "--period", "2022",
               "--file", file, "--timeout", timeout);
  fake_join();
  return rc;
}

/* The fake server's good answer is taken: the test of a bad one below
 * is not a test of a fake that no client would take. */
Test(client, a_good_acknowledgement_empties_the_spool) {
  char *err;
  int rc = submit(GOOD, &err, "10");
  cr_assert_eq(rc, 0, "%s", err);
  cr_assert_str_eq(pending(), "");
  free(err);
}

/* Anything that is not the acknowledgement of this request and this
 * submission keeps the entry, and says the answer made no sense. */
static void answer_is_not_taken(enum answer a, const char *what) {
  char *err;
  int rc = submit(a, &err, "10");
  cr_assert_eq(rc, 3, "exit %d: %s", rc, err);
  cr_assert(strstr(err, what) && strstr(err, "makes no sense") &&
                strstr(err, "kept in the spool"),
            "%s", err);
  const char *ids = pending();
  cr_assert_eq(strlen(ids), 37, "one entry pending, not '%s'", ids);
  char id[37];
  memcpy(id, ids, 36);
  id[36] = 0;
  cr_assert(strstr(err, id), "the entry's id %s is named: %s", id, err);
  free(err);
}

Test(client, an_acknowledgement_with_id_0_is_not_taken) {
  answer_is_not_taken(ID_ZERO, "a reply to another request");
}

Test(client, another_submissions_acknowledgement_is_not_taken) {
  answer_is_not_taken(OTHER_SUB, "the acknowledgement of another submission");
}

Test(client, a_reply_of_another_kind_is_not_taken) {
  answer_is_not_taken(WRONG_KIND, "a reply of another kind");
}

Test(client, an_empty_submit_reply_is_not_taken) {
  answer_is_not_taken(EMPTY, "the acknowledgement of another submission");
}

static double seconds_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A server sending a byte every 2 s does not stretch --timeout 3: the
 * whole call has 3 s, not each byte. (A generous margin: the machine is
 * shared.) */
Test(client, a_trickling_server_does_not_stretch_the_timeout) {
  struct timespec t0;
  char *err;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int rc = submit(TRICKLE, &err, "3");
  double took = seconds_since(&t0);
  cr_assert_eq(rc, 3, "exit %d: %s", rc, err);
  cr_assert_lt(took, 6.0, "submit --timeout 3 took %.1f s", took);
  cr_assert(strstr(err, "no reply from the server") &&
                strstr(err, "within 3 s"),
            "%s", err);
  cr_assert_eq(strlen(pending()), 37);
  free(err);
}

/* The same for a command that reads (every command's call goes through
 * one deadline). */
Test(client, a_trickling_server_does_not_stretch_a_read) {
  struct timespec t0;
  char *err;
  fake_start(TRICKLE);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int rc = RUN(NULL, &err, "values", "--unit", "wenchang", "--period",
               "2022", "--timeout", "3");
  double took = seconds_since(&t0);
  fake_join();
  cr_assert_eq(rc, 3, "exit %d: %s", rc, err);
  cr_assert_lt(took, 6.0, "values --timeout 3 took %.1f s", took);
  cr_assert(strstr(err, "within 3 s"), "%s", err);
  free(err);
}

/* The server's text reaches the terminal without its escape codes: ESC
 * and the C1 CSI become U+FFFD; the Chinese around them is intact. */
Test(client, escape_codes_from_the_server_are_not_printed) {
  char *err;
  int rc = submit(ESCAPES, &err, "10");
  cr_assert_eq(rc, 1, "exit %d: %s", rc, err);
  cr_assert_null(strchr(err, '\x1b'), "%s", err);
  cr_assert_null(strstr(err, "\xc2\x9b"), "%s", err);
  cr_assert(strstr(err, "拒绝\xef\xbf\xbd[2J文件\xef\xbf\xbd" "2J完"), "%s",
            err);
  free(err);
}
