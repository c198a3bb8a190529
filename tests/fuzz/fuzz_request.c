/* fuzz_request.c: a request from decoding to the packed reply.
 *
 * The input is a frame body. When it decodes as an Envelope it is
 * dispatched as the server would dispatch it: against the built-in
 * catalog and a real LMDB store, both opened once for the whole run (in
 * a temporary directory removed at exit), with the reply built in an
 * arena. The reply must carry the request's id, be of a reply type, and
 * encode within a frame the client accepts.
 *
 * The store keeps what earlier inputs submitted, so an input may behave
 * differently after others; a crash found that way is replayed from an
 * empty store and may need the inputs before it.
 */
#include "arena.h"
#include "catalog.h"
#include "dispatch.h"
#include "frame.h"
#include "store.h"
#include "wire.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAP_SIZE (64ul << 20)

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "fuzz_request: %s:%d: check failed: %s\n", __FILE__,    \
              __LINE__, #cond);                                               \
      abort();                                                                \
    }                                                                         \
  } while (0)

static tally_catalog *cat;
static tally_store *store;
static char dir[256];

/* Closes the store and removes its directory. */
static void cleanup(void) {
  char path[300];
  tally_store_close(store);
  store = NULL;
  tally_catalog_free(cat);
  cat = NULL;
  snprintf(path, sizeof path, "%s/data.mdb", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/lock.mdb", dir);
  unlink(path);
  rmdir(dir);
}

/* Loads the catalog and opens the store on the first input. A store on
 * tmpfs (/dev/shm) makes LMDB's sync on every commit cheap. */
static void setup(void) {
  char err[512];
  const char *base = getenv("TMPDIR");

  if (access("/dev/shm", W_OK) == 0)
    base = "/dev/shm";
  else if (base == NULL || *base == 0)
    base = "/tmp";
  snprintf(dir, sizeof dir, "%s/tally-fuzz-request-XXXXXX", base);
  if (mkdtemp(dir) == NULL) {
    perror(dir);
    abort();
  }
  if (tally_catalog_load_builtin(&cat, err, sizeof err) != 0) {
    fprintf(stderr, "fuzz_request: %s\n", err);
    abort();
  }
  if (tally_store_open(dir, MAP_SIZE, 0, &store) != 0) {
    fprintf(stderr, "fuzz_request: cannot open a store in %s\n", dir);
    abort();
  }
  atexit(cleanup);
}

static int is_reply(Tally__Envelope__BodyCase c) {
  return c == TALLY__ENVELOPE__BODY_ERROR ||
         c == TALLY__ENVELOPE__BODY_SUBMIT_REPLY ||
         c == TALLY__ENVELOPE__BODY_VALUES_REPLY ||
         c == TALLY__ENVELOPE__BODY_REPORT_REPLY ||
         c == TALLY__ENVELOPE__BODY_HISTORY_REPLY ||
         c == TALLY__ENVELOPE__BODY_BACKUP_REPLY ||
         c == TALLY__ENVELOPE__BODY_EXPLAIN_REPLY ||
         c == TALLY__ENVELOPE__BODY_COMPLETENESS_REPLY ||
         c == TALLY__ENVELOPE__BODY_CATALOG_REPLY ||
         c == TALLY__ENVELOPE__BODY_TARGET_SET_REPLY ||
         c == TALLY__ENVELOPE__BODY_TARGET_LIST_REPLY;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Tally__Envelope *req = NULL;

  if (store == NULL)
    setup();
  if (tally_wire_unpack(data, size, &req) != 0)
    return 0;

  tally_arena arena = TALLY_ARENA_INIT;
  tally_request r = {.cat = cat, .store = store, .peer = "fuzz",
                     .arena = &arena};
  Tally__Envelope *reply = tally_dispatch(&r, req);
  if (reply == NULL && r.async) {
    /* Work for a worker thread (a backup to a path the input names).
     * Its run step is skipped, as it would write anywhere on the disk;
     * its reply is built as if the copy had succeeded. */
    reply = r.async->finish(r.async, &arena);
    r.async->free(r.async);
  }
  CHECK(reply != NULL);
  CHECK(reply->id == req->id);
  CHECK(is_reply(reply->body_case));
  if (reply->body_case == TALLY__ENVELOPE__BODY_ERROR)
    CHECK(reply->error != NULL && reply->error->message != NULL);

  uint8_t *frame = NULL;
  size_t frame_len = 0;
  CHECK(tally_wire_pack(reply, UINT32_MAX, &frame, &frame_len) == 0);
  CHECK(frame_len - TALLY_FRAME_HEADER <= TALLY_FRAME_DEFAULT_MAX);
  CHECK(tally_frame_get_len(frame) == frame_len - TALLY_FRAME_HEADER);

  /* What was sent must decode as the client would decode it. */
  Tally__Envelope *back = NULL;
  CHECK(tally_wire_unpack(frame + TALLY_FRAME_HEADER,
                          frame_len - TALLY_FRAME_HEADER, &back) == 0);
  CHECK(back->id == reply->id && back->body_case == reply->body_case);
  tally_wire_free(back);

  free(frame);
  tally_arena_free(&arena);
  tally_wire_free(req);
  return 0;
}
