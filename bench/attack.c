/* attack.c: the memory attacks of issue 18, for bench/attack.sh.
 *
 *   tally-attack history --server ADDR --unit U --period P --count N
 *     makes a long history: N corrections of live_births to U's report
 *     for P, sent 256 at a time on one connection (the token, a
 *     reporter's for U, in $TALLY_TOKEN).
 *   tally-attack replies --server ADDR --unit U --period P
 *                        --connections C --requests R --seconds S
 *     the reply attack: C connections sign in, each sends R requests for
 *     U's history (no page asked for: a server that pages answers with
 *     the first; one that does not, with all of it) and never reads.
 *   tally-attack frames --server ADDR --connections C --bytes B --seconds S
 *     the partial-frame attack: C connections sign in, each sends the
 *     header of a B-byte frame and all of it but its last byte.
 * Either attack holds its connections S seconds, then closes them and
 * prints "attack done: C connections". The connections sign in one after
 * another, so that a server's limit on connections not signed in from
 * one address does not stop them.
 */
#include "client.h"
#include "wire.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  const char *mode, *server, *unit, *period, *token;
  int count, connections, requests, seconds;
  long bytes;
} options;

static tally_client *open_signed_in(const options *o) {
  tally_client_options co = {.address = o->server, .timeout_ms = 30000,
                             .token = o->token};
  tally_client *c;
  char err[512];
  Tally__WhoamiRequest w = TALLY__WHOAMI_REQUEST__INIT;
  Tally__Envelope q = TALLY__ENVELOPE__INIT, *r;
  q.body_case = TALLY__ENVELOPE__BODY_WHOAMI;
  q.whoami = &w;
  if (tally_client_open(&co, &c, err, sizeof err) != 0 ||
      tally_client_call(c, &q, &r, err, sizeof err) != 0) {
    fprintf(stderr, "tally-attack: %s\n", err);
    exit(1);
  }
  if (r->body_case != TALLY__ENVELOPE__BODY_WHOAMI_REPLY) {
    fprintf(stderr, "tally-attack: sign-in refused: %s\n",
            r->body_case == TALLY__ENVELOPE__BODY_ERROR ? r->error->message
                                                        : "?");
    exit(1);
  }
  tally_wire_free(r);
  return c;
}

/* Appends env, packed, to buf at *len. */
static void append(uint8_t **buf, size_t *len, const Tally__Envelope *env) {
  uint8_t *frame;
  size_t n;
  if (tally_wire_pack(env, UINT32_MAX, &frame, &n) != 0 ||
      (*buf = realloc(*buf, *len + n)) == NULL) {
    fputs("tally-attack: out of memory\n", stderr);
    exit(1);
  }
  memcpy(*buf + *len, frame, n);
  *len += n;
  free(frame);
}

static int make_history(const options *o) {
  tally_client *c = open_signed_in(o);
  enum { BATCH = 256 };
  for (int done = 0; done < o->count;) {
    int m = o->count - done < BATCH ? o->count - done : BATCH;
    uint8_t *buf = NULL;
    size_t len = 0;
    for (int k = 0; k < m; k++) {
      Tally__Value v = TALLY__VALUE__INIT, *vp = &v;
      Tally__SubmitRequest s = TALLY__SUBMIT_REQUEST__INIT;
      Tally__Envelope e = TALLY__ENVELOPE__INIT;
      v.element = "live_births";
      v.value = done + k + 1; /* each a correction of the one before */
      s.unit = (char *)o->unit;
      s.period = (char *)o->period;
      s.values = &vp;
      s.n_values = 1;
      e.id = (uint64_t)(done + k + 1);
      e.body_case = TALLY__ENVELOPE__BODY_SUBMIT;
      e.submit = &s;
      append(&buf, &len, &e);
    }
    if (tally_client_send_raw(c, buf, len) != 0) {
      fputs("tally-attack: the server closed the connection\n", stderr);
      return 1;
    }
    free(buf);
    for (int k = 0; k < m; k++) {
      Tally__Envelope *r;
      char err[512];
      if (tally_client_read(c, &r, err, sizeof err) != 0) {
        fprintf(stderr, "tally-attack: %s\n", err);
        return 1;
      }
      if (r->body_case != TALLY__ENVELOPE__BODY_SUBMIT_REPLY) {
        fprintf(stderr, "tally-attack: a correction was refused: %s\n",
                r->body_case == TALLY__ENVELOPE__BODY_ERROR
                    ? r->error->message
                    : "?");
        return 1;
      }
      tally_wire_free(r);
    }
    done += m;
  }
  tally_client_close(c);
  printf("history done: %d corrections\n", o->count);
  return 0;
}

/* What each attacking connection sends once signed in. */
static void attack_bytes(const options *o, uint8_t **buf, size_t *len) {
  *buf = NULL;
  *len = 0;
  if (strcmp(o->mode, "frames") == 0) {
    *len = 4 + (size_t)o->bytes - 1;
    if ((*buf = calloc(1, *len)) == NULL)
      exit(1);
    (*buf)[0] = (uint8_t)(o->bytes >> 24);
    (*buf)[1] = (uint8_t)(o->bytes >> 16);
    (*buf)[2] = (uint8_t)(o->bytes >> 8);
    (*buf)[3] = (uint8_t)o->bytes;
    return;
  }
  for (int k = 0; k < o->requests; k++) {
    Tally__HistoryRequest h = TALLY__HISTORY_REQUEST__INIT;
    Tally__Envelope e = TALLY__ENVELOPE__INIT;
    h.unit = (char *)o->unit;
    h.period = (char *)o->period;
    e.id = (uint64_t)k + 100;
    e.body_case = TALLY__ENVELOPE__BODY_HISTORY;
    e.history = &h;
    append(buf, len, &e);
  }
}

static int attack(const options *o) {
  tally_client **c = calloc((size_t)o->connections, sizeof *c);
  uint8_t *buf;
  size_t len;
  attack_bytes(o, &buf, &len);
  for (int i = 0; i < o->connections; i++) {
    c[i] = open_signed_in(o);
    /* Refused or closed by the server: the attack goes on with the rest. */
    tally_client_send_raw(c[i], buf, len);
  }
  printf("attacking: %d connections\n", o->connections);
  fflush(stdout);
  sleep((unsigned)o->seconds);
  for (int i = 0; i < o->connections; i++)
    tally_client_close(c[i]);
  free(buf);
  free(c);
  printf("attack done: %d connections\n", o->connections);
  return 0;
}

static const char usage[] =
    "usage: tally-attack history --server ADDR --unit U --period P --count N\n"
    "       tally-attack replies --server ADDR --unit U --period P\n"
    "                    --connections C --requests R --seconds S\n"
    "       tally-attack frames --server ADDR --connections C --bytes B\n"
    "                    --seconds S\n"
    "The token is read from $TALLY_TOKEN. See bench/attack.sh.\n";

int main(int argc, char **argv) {
  options o = {.unit = "wenchang", .period = "2022", .count = 60000,
               .connections = 400, .requests = 16, .seconds = 10,
               .bytes = 1 << 20};
  static const struct option longopts[] = {
      {"server", required_argument, NULL, 's'},
      {"unit", required_argument, NULL, 'u'},
      {"period", required_argument, NULL, 'p'},
      {"count", required_argument, NULL, 'n'},
      {"connections", required_argument, NULL, 'c'},
      {"requests", required_argument, NULL, 'r'},
      {"seconds", required_argument, NULL, 't'},
      {"bytes", required_argument, NULL, 'b'},
      {NULL, 0, NULL, 0}};
  int ch;
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    fputs(usage, stderr);
    return 2;
  }
  o.mode = argv[1];
  optind = 2;
  while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (ch) {
    case 's': o.server = optarg; break;
    case 'u': o.unit = optarg; break;
    case 'p': o.period = optarg; break;
    case 'n': o.count = atoi(optarg); break;
    case 'c': o.connections = atoi(optarg); break;
    case 'r': o.requests = atoi(optarg); break;
    case 't': o.seconds = atoi(optarg); break;
    case 'b': o.bytes = atol(optarg); break;
    default: fputs(usage, stderr); return 2;
    }
  }
  o.token = getenv("TALLY_TOKEN");
  if (o.server == NULL || o.token == NULL || o.count < 1 ||
      o.connections < 1 || o.requests < 1 || o.seconds < 0 ||
      o.bytes < 2 || o.bytes > (1L << 30)) {
    fputs(usage, stderr);
    return 2;
  }
  if (strcmp(o.mode, "history") == 0)
    return make_history(&o);
  if (strcmp(o.mode, "replies") == 0 || strcmp(o.mode, "frames") == 0)
    return attack(&o);
  fputs(usage, stderr);
  return 2;
}
