/* fuzz_frame.c: the frame reader and the envelope decoder.
 *
 * The input is a byte stream cut into chunks at points the input itself
 * chooses: byte 0 says how many of the next bytes are chunk sizes, and
 * the stream is what follows them. Every chunk is fed to one reader, as
 * a connection would receive it; every complete frame is decoded as an
 * Envelope and, when it decodes, encoded again. A second, obvious
 * reading of the whole stream at once checks that the reader returns
 * exactly the frames and errors it should, whatever the chunking.
 */
#include "error.h"
#include "frame.h"
#include "import_packed.h"
#include "wire.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY 4096
#define MAX_CUTS 16

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "fuzz_frame: %s:%d: check failed: %s\n", __FILE__,      \
              __LINE__, #cond);                                               \
      abort();                                                                \
    }                                                                         \
  } while (0)

/* Whether the import q (as the decoder that mallocs gave it) has packed
 * reports that all fit its codes, within the most reports. */
static int packed_fit(const Tally__ImportRequest *q) {
  if (q->n_reports + q->n_packed > TALLY_IMPORT_MAX_REPORTS)
    return 0;
  for (size_t i = 0; i < q->n_packed; i++) {
    const Tally__PackedReport *p = q->packed[i];
    if (p->n_elements != p->n_values)
      return 0;
    for (size_t k = 0; k < p->n_elements; k++)
      if (p->elements[k] >= q->n_element_codes)
        return 0;
  }
  return 1;
}

/* The server's import q read from raw's packed reports: raw's reports,
 * then one for each packed report, with its unit, period, id and each
 * value's code and figure. */
static void check_read(const Tally__ImportRequest *raw,
                       const Tally__ImportRequest *q) {
  CHECK(q->n_packed == 0);
  CHECK(q->n_reports == raw->n_reports + raw->n_packed);
  for (size_t i = 0; i < raw->n_reports; i++)
    CHECK(strcmp(q->reports[i]->unit, raw->reports[i]->unit) == 0 &&
          q->reports[i]->n_values == raw->reports[i]->n_values);
  for (size_t i = 0; i < raw->n_packed; i++) {
    const Tally__PackedReport *p = raw->packed[i];
    const Tally__SubmitRequest *s = q->reports[raw->n_reports + i];
    CHECK(strcmp(s->unit, p->unit) == 0 && strcmp(s->period, p->period) == 0 &&
          strcmp(s->submission_id, p->submission_id) == 0);
    CHECK(s->n_values == p->n_values && !s->replace && !s->check_revision);
    for (size_t k = 0; k < p->n_values; k++)
      CHECK(strcmp(s->values[k]->element,
                   raw->element_codes[p->elements[k]]) == 0 &&
            memcmp(&s->values[k]->value, &p->values[k], sizeof(double)) == 0);
  }
}

/* Decodes a body into an arena, as the server does, and checks that it
 * agrees with the decoder that mallocs (raw: its envelope, or NULL):
 * both refuse it, or both give the envelope that packs into
 * packed[0..n); but for an import's packed reports, which the server
 * reads as reports (refusing those that do not fit). */
static void decode_in_arena(const uint8_t *body, size_t len,
                            const Tally__Envelope *raw,
                            const uint8_t *packed, size_t n) {
  tally_arena a = TALLY_ARENA_INIT;
  Tally__Envelope *env = NULL;
  char why[128];
  int rc = tally_wire_decode_in(&a, body, len, &env, why, sizeof why);
  int decoded = raw != NULL;
  if (raw && raw->body_case == TALLY__ENVELOPE__BODY_IMPORT_REQUEST &&
      raw->import_request->n_packed > 0) {
    CHECK((rc == 0) == packed_fit(raw->import_request));
    if (rc == 0)
      check_read(raw->import_request, env->import_request);
    tally_arena_free(&a);
    return;
  }
  CHECK((rc == 0) == decoded);
  if (rc == 0 && packed) {
    uint8_t *frame = NULL;
    size_t frame_len = 0;
    CHECK(tally_wire_pack(env, 0, &frame, &frame_len) == 0);
    CHECK(frame_len == n && memcmp(frame, packed, n) == 0);
    free(frame);
  }
  tally_arena_free(&a);
}

/* Decodes a body and, when it decodes, encodes it again. */
static void decode(const uint8_t *body, size_t len) {
  Tally__Envelope *env = NULL;
  if (tally_wire_unpack(body, len, &env) != 0) {
    CHECK(env == NULL);
    decode_in_arena(body, len, NULL, NULL, 0);
    return;
  }
  CHECK(env != NULL);
  uint8_t *frame = NULL;
  size_t frame_len = 0;
  int rc = tally_wire_pack(env, 0, &frame, &frame_len);
  decode_in_arena(body, len, env, rc == 0 ? frame : NULL, frame_len);
  if (rc == 0) {
    CHECK(frame_len >= TALLY_FRAME_HEADER);
    CHECK(tally_frame_get_len(frame) == frame_len - TALLY_FRAME_HEADER);
    /* What was accepted holds no NUL in a string, so its encoding
     * decodes again (the decoder refuses a NUL it finds). */
    Tally__Envelope *again = NULL;
    CHECK(tally_wire_unpack(frame + TALLY_FRAME_HEADER,
                            frame_len - TALLY_FRAME_HEADER, &again) == 0);
    tally_wire_free(again);
    free(frame);
  } else {
    CHECK(rc == TALLY_EFRAME2BIG || rc == -ENOMEM);
  }
  tally_wire_free(env);
}

/* The expected outcome of the next frame of stream[off..len), read in
 * one go: 1 and the body's place, 0 when the stream ends inside it, or
 * the error the reader must give. */
static int expect_next(const uint8_t *s, size_t len, size_t off,
                       size_t *body_off, size_t *body_len) {
  if (len - off < TALLY_FRAME_HEADER)
    return 0;
  uint32_t n = tally_frame_get_len(s + off);
  if (n == 0)
    return TALLY_EFRAME;
  if (n > MAX_BODY) {
    *body_len = n;
    return TALLY_EFRAME2BIG;
  }
  if (len - off - TALLY_FRAME_HEADER < n)
    return 0;
  *body_off = off + TALLY_FRAME_HEADER;
  *body_len = n;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t cuts[MAX_CUTS], n_cuts = 0;

  if (size == 0)
    return 0;
  n_cuts = data[0] % (MAX_CUTS + 1);
  if (n_cuts > size - 1)
    n_cuts = size - 1;
  size_t sum = 0;
  for (size_t i = 0; i < n_cuts; i++)
    sum += cuts[i] = data[1 + i]; /* chunk sizes 0-255; 0 feeds nothing */
  const uint8_t *stream = data + 1 + n_cuts;
  size_t len = size - 1 - n_cuts;
  size_t ncycle = sum ? n_cuts : 0; /* cuts that are all 0 make no progress */

  tally_frame_reader r;
  tally_frame_reader_init(&r, MAX_BODY);
  CHECK(r.max == MAX_BODY);
  CHECK(!tally_frame_reader_partial(&r));

  size_t off = 0;     /* stream bytes fed so far */
  size_t expect = 0;  /* where the next expected frame starts */
  size_t chunk = 0;   /* which cut applies next */
  int done = 0;
  while (!done && off < len) {
    size_t want = ncycle ? cuts[chunk++ % ncycle] : len - off;
    if (want > len - off)
      want = len - off;
    const uint8_t *p = stream + off;
    size_t left = want;
    do {
      size_t used = (size_t)-1, body_len = 0;
      uint8_t *body = NULL;
      int rc = tally_frame_reader_feed(&r, p, left, &used, &body, &body_len);
      CHECK(used <= left);
      p += used;
      left -= used;
      off += used;

      size_t e_off = 0, e_len = 0;
      int e = expect_next(stream, len, expect, &e_off, &e_len);
      if (rc == 0) {
        CHECK(left == 0);
        CHECK(body == NULL);
        /* The expected frame must lie beyond what was fed so far. */
        CHECK(e == 0 || (e == 1 && e_off + e_len > off) ||
              (e < 0 && expect + TALLY_FRAME_HEADER > off));
      } else if (rc == 1) {
        CHECK(used > 0);
        CHECK(body != NULL);
        CHECK(body_len > 0 && body_len <= MAX_BODY);
        CHECK(e == 1 && e_len == body_len && e_off + e_len == off);
        CHECK(memcmp(body, stream + e_off, body_len) == 0);
        CHECK(!tally_frame_reader_partial(&r));
        decode(body, body_len);
        free(body);
        expect = off;
      } else {
        /* After an error the stream is out of step: stop reading it. */
        CHECK(body == NULL);
        CHECK(rc == e);
        CHECK(off == expect + TALLY_FRAME_HEADER);
        if (rc == TALLY_EFRAME2BIG)
          CHECK(body_len == e_len && body_len > MAX_BODY);
        else
          CHECK(rc == TALLY_EFRAME);
        done = 1;
        break;
      }
    } while (left > 0);
  }
  if (!done) {
    /* Everything was fed: what is left is an unfinished frame. */
    CHECK(off == len);
    CHECK(tally_frame_reader_partial(&r) == (expect < len));
  }
  tally_frame_reader_reset(&r);
  CHECK(!tally_frame_reader_partial(&r));

  /* The whole input as one body too: the decoder on its own. */
  if (size <= TALLY_FRAME_DEFAULT_MAX)
    decode(data, size);
  return 0;
}
