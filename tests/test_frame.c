/* test_frame.c: the length-prefixed frame reader, and envelopes packed
 * into frames and unpacked from them. */
#include "error.h"
#include "frame.h"

#include <errno.h>
#include <stdint.h>
#include "tally.pb-c.h"
#include "wire.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* Writes a frame of body into out; returns its length. */
static size_t make_frame(uint8_t *out, const char *body, uint32_t n) {
  tally_frame_put_len(out, n);
  memcpy(out + TALLY_FRAME_HEADER, body, n);
  return TALLY_FRAME_HEADER + n;
}

Test(frame, length_is_big_endian) {
  uint8_t hdr[4];
  tally_frame_put_len(hdr, 0x01020304u);
  cr_assert_eq(hdr[0], 1);
  cr_assert_eq(hdr[1], 2);
  cr_assert_eq(hdr[2], 3);
  cr_assert_eq(hdr[3], 4);
  cr_assert_eq(tally_frame_get_len(hdr), 0x01020304u);
  tally_frame_put_len(hdr, 0xfffffffeu);
  cr_assert_eq(tally_frame_get_len(hdr), 0xfffffffeu);
}

Test(frame, whole_frame_in_one_feed) {
  tally_frame_reader r;
  uint8_t buf[64], *body = NULL;
  size_t used = 99, body_len = 0;
  size_t n = make_frame(buf, "hello", 5);

  tally_frame_reader_init(&r, 0);
  cr_assert_eq(r.max, TALLY_FRAME_DEFAULT_MAX);
  cr_assert_eq(tally_frame_reader_feed(&r, buf, n, &used, &body, &body_len), 1);
  cr_assert_eq(used, 9);
  cr_assert_eq(body_len, 5);
  cr_assert_arr_eq(body, "hello", 5);
  cr_assert_not(tally_frame_reader_partial(&r));
  free(body);
}

Test(frame, byte_at_a_time) {
  tally_frame_reader r;
  uint8_t buf[64], *body = NULL;
  size_t used, body_len = 0;
  size_t n = make_frame(buf, "abcdef", 6);

  tally_frame_reader_init(&r, 0);
  cr_assert_not(tally_frame_reader_partial(&r));
  for (size_t i = 0; i + 1 < n; i++) {
    cr_assert_eq(tally_frame_reader_feed(&r, buf + i, 1, &used, &body,
                                         &body_len), 0, "byte %zu", i);
    cr_assert_eq(used, 1);
    cr_assert(tally_frame_reader_partial(&r), "byte %zu", i);
  }
  cr_assert_eq(tally_frame_reader_feed(&r, buf + n - 1, 1, &used, &body,
                                       &body_len), 1);
  cr_assert_eq(used, 1);
  cr_assert_eq(body_len, 6);
  cr_assert_arr_eq(body, "abcdef", 6);
  cr_assert_not(tally_frame_reader_partial(&r));
  free(body);
}

Test(frame, two_frames_in_one_buffer) {
  tally_frame_reader r;
  uint8_t buf[64], *body = NULL;
  size_t used, body_len;
  size_t n1 = make_frame(buf, "one", 3);
  size_t n2 = make_frame(buf + n1, "second", 6);

  tally_frame_reader_init(&r, 0);
  /* The first call takes the first frame only: 4 + 3 bytes. */
  cr_assert_eq(tally_frame_reader_feed(&r, buf, n1 + n2, &used, &body,
                                       &body_len), 1);
  cr_assert_eq(used, 7);
  cr_assert_eq(body_len, 3);
  cr_assert_arr_eq(body, "one", 3);
  free(body);
  body = NULL;
  /* The second the rest: 4 + 6 bytes. */
  cr_assert_eq(tally_frame_reader_feed(&r, buf + used, n1 + n2 - 7, &used,
                                       &body, &body_len), 1);
  cr_assert_eq(used, 10);
  cr_assert_eq(body_len, 6);
  cr_assert_arr_eq(body, "second", 6);
  cr_assert_not(tally_frame_reader_partial(&r));
  free(body);
}

Test(frame, frame_split_inside_the_header) {
  tally_frame_reader r;
  uint8_t buf[64], *body = NULL;
  size_t used, body_len;
  size_t n = make_frame(buf, "xyz", 3);

  tally_frame_reader_init(&r, 0);
  cr_assert_eq(tally_frame_reader_feed(&r, buf, 2, &used, &body, &body_len), 0);
  cr_assert_eq(used, 2);
  cr_assert(tally_frame_reader_partial(&r));
  cr_assert_eq(tally_frame_reader_feed(&r, buf + 2, n - 2, &used, &body,
                                       &body_len), 1);
  cr_assert_eq(used, 5);
  cr_assert_arr_eq(body, "xyz", 3);
  free(body);
}

Test(frame, header_alone_is_partial) {
  tally_frame_reader r;
  uint8_t hdr[4], *body = NULL;
  size_t used, body_len;

  tally_frame_reader_init(&r, 0);
  tally_frame_put_len(hdr, 10);
  cr_assert_eq(tally_frame_reader_feed(&r, hdr, 4, &used, &body, &body_len), 0);
  cr_assert_eq(used, 4);
  cr_assert_null(body);
  cr_assert(tally_frame_reader_partial(&r));
  /* A length alone makes the reader hold nothing. */
  cr_assert_null(r.body);
  cr_assert_eq(r.cap, 0);
  cr_assert_eq(r.body_len, 10);
  tally_frame_reader_reset(&r);
  cr_assert_not(tally_frame_reader_partial(&r));
  cr_assert_null(r.body);
}

Test(frame, zero_length_is_malformed) {
  tally_frame_reader r;
  uint8_t hdr[8] = {0, 0, 0, 0, 'x'}, *body = NULL;
  size_t used, body_len;

  tally_frame_reader_init(&r, 0);
  cr_assert_eq(tally_frame_reader_feed(&r, hdr, 5, &used, &body, &body_len),
               TALLY_EFRAME);
  cr_assert_null(body);
  cr_assert_null(r.body);
  tally_frame_reader_reset(&r);
}

Test(frame, over_the_limit_is_refused_before_allocating) {
  tally_frame_reader r;
  uint8_t buf[16], *body = NULL;
  size_t used, body_len = 0;

  tally_frame_reader_init(&r, 100);
  tally_frame_put_len(buf, 101);
  memset(buf + 4, 'a', 12);
  cr_assert_eq(tally_frame_reader_feed(&r, buf, 16, &used, &body, &body_len),
               TALLY_EFRAME2BIG);
  cr_assert_eq(body_len, 101);
  cr_assert_null(body);
  cr_assert_null(r.body, "nothing may be allocated for a refused frame");
  tally_frame_reader_reset(&r);
}

Test(frame, huge_announced_length_is_refused_before_allocating) {
  tally_frame_reader r;
  uint8_t hdr[4] = {0xff, 0xff, 0xff, 0xff}, *body = NULL;
  size_t used, body_len = 0;

  tally_frame_reader_init(&r, 0);
  cr_assert_eq(tally_frame_reader_feed(&r, hdr, 4, &used, &body, &body_len),
               TALLY_EFRAME2BIG);
  cr_assert_eq(body_len, 0xffffffffu);
  cr_assert_null(r.body);
  tally_frame_reader_reset(&r);
}

Test(frame, exactly_at_the_limit_is_accepted) {
  tally_frame_reader r;
  uint8_t buf[4 + 100], *body = NULL;
  size_t used, body_len = 0;

  tally_frame_reader_init(&r, 100);
  tally_frame_put_len(buf, 100);
  memset(buf + 4, 'z', 100);
  cr_assert_eq(tally_frame_reader_feed(&r, buf, sizeof buf, &used, &body,
                                       &body_len), 1);
  cr_assert_eq(used, 104);
  cr_assert_eq(body_len, 100);
  cr_assert_eq(body[0], 'z');
  cr_assert_eq(body[99], 'z');
  free(body);
}

Test(frame, reader_is_reusable_after_reset) {
  tally_frame_reader r;
  uint8_t buf[32], *body = NULL;
  size_t used, body_len;

  tally_frame_reader_init(&r, 0);
  make_frame(buf, "partial", 7);
  cr_assert_eq(tally_frame_reader_feed(&r, buf, 6, &used, &body, &body_len), 0);
  tally_frame_reader_reset(&r);
  cr_assert_eq(r.max, TALLY_FRAME_DEFAULT_MAX);
  size_t n = make_frame(buf, "ok", 2);
  cr_assert_eq(tally_frame_reader_feed(&r, buf, n, &used, &body, &body_len), 1);
  cr_assert_arr_eq(body, "ok", 2);
  free(body);
}

Test(frame, envelope_round_trip) {
  Tally__Envelope env = TALLY__ENVELOPE__INIT;
  Tally__SubmitRequest sub = TALLY__SUBMIT_REQUEST__INIT;
  Tally__Value v1 = TALLY__VALUE__INIT, v2 = TALLY__VALUE__INIT;
  Tally__Value *vals[] = {&v1, &v2};
  Tally__Envelope *got = NULL;
  uint8_t *frame = NULL;
  size_t frame_len = 0;

  v1.element = "live_births";
  v1.value = 412;
  v2.element = "infant_deaths";
  v2.value = 0.5;
  sub.unit = "wenchang";
  sub.period = "2022Q3";
  sub.n_values = 2;
  sub.values = vals;
  env.id = 77;
  env.body_case = TALLY__ENVELOPE__BODY_SUBMIT;
  env.submit = &sub;

  cr_assert_eq(tally_wire_pack(&env, 0, &frame, &frame_len), 0);
  size_t n = tally__envelope__get_packed_size(&env);
  cr_assert_gt(n, 0);
  cr_assert_eq(frame_len, TALLY_FRAME_HEADER + n);
  cr_assert_eq(tally_frame_get_len(frame), n);

  /* Through the reader, as a peer would read it. */
  tally_frame_reader r;
  uint8_t *body = NULL;
  size_t used, body_len;
  tally_frame_reader_init(&r, 0);
  cr_assert_eq(tally_frame_reader_feed(&r, frame, frame_len, &used, &body,
                                       &body_len), 1);
  cr_assert_eq(used, frame_len);

  cr_assert_eq(tally_wire_unpack(body, body_len, &got), 0);
  cr_assert_eq(got->id, 77);
  cr_assert_eq(got->body_case, TALLY__ENVELOPE__BODY_SUBMIT);
  cr_assert_str_eq(got->submit->unit, "wenchang");
  cr_assert_str_eq(got->submit->period, "2022Q3");
  cr_assert_eq(got->submit->n_values, 2);
  cr_assert_str_eq(got->submit->values[0]->element, "live_births");
  cr_assert_eq(got->submit->values[0]->value, 412.0);
  cr_assert_str_eq(got->submit->values[1]->element, "infant_deaths");
  cr_assert_eq(got->submit->values[1]->value, 0.5);
  tally_wire_free(got);
  free(body);
  free(frame);
}

Test(frame, pack_over_the_limit) {
  Tally__Envelope env = TALLY__ENVELOPE__INIT;
  Tally__ValuesRequest req = TALLY__VALUES_REQUEST__INIT;
  uint8_t *frame = NULL;
  size_t frame_len = 0;

  req.unit = "wenchang";
  req.period = "2022";
  env.id = 1;
  env.body_case = TALLY__ENVELOPE__BODY_VALUES;
  env.values = &req;
  size_t n = tally__envelope__get_packed_size(&env);
  cr_assert_eq(tally_wire_pack(&env, n - 1, &frame, &frame_len),
               TALLY_EFRAME2BIG);
  cr_assert_null(frame);
  cr_assert_eq(tally_wire_pack(&env, n, &frame, &frame_len), 0);
  cr_assert_eq(frame_len, 4 + n);
  free(frame);
}

Test(frame, garbage_does_not_decode) {
  /* Field 10 (submit), length-delimited, announcing 100 bytes: only 2
   * follow. */
  static const uint8_t truncated[] = {0x52, 0x64, 0x01, 0x02};
  /* Field 1 with wire type 7, which does not exist. */
  static const uint8_t bad_wire_type[] = {0x0f, 0x01};
  /* A varint that never ends. */
  static const uint8_t endless[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  Tally__Envelope sentinel, *env = &sentinel;

  cr_assert_eq(tally_wire_unpack(truncated, sizeof truncated, &env),
               TALLY_EDECODE);
  cr_assert_eq(tally_wire_unpack(bad_wire_type, sizeof bad_wire_type, &env),
               TALLY_EDECODE);
  cr_assert_eq(tally_wire_unpack(endless, sizeof endless, &env),
               TALLY_EDECODE);
  /* *env is left alone on failure. */
  cr_assert_eq(env, &sentinel);
}

/* A body's buffer grows as its bytes arrive, never past the room the
 * caller gives (-ENOBUFS, the bytes taken kept), and is exactly the
 * announced size once whole. */
Test(frame, the_body_grows_as_bytes_arrive_within_the_room) {
  enum { N = 1 << 20 };
  tally_frame_reader r;
  uint8_t hdr[4], *chunk = malloc(N), *body = NULL;
  size_t used, body_len = 0;
  for (size_t i = 0; i < N; i++)
    chunk[i] = (uint8_t)(i * 7);
  tally_frame_reader_init(&r, N);
  tally_frame_put_len(hdr, N);
  cr_assert_eq(tally_frame_reader_feed(&r, hdr, 4, &used, &body, &body_len), 0);
  cr_assert_eq(tally_frame_reader_feed(&r, chunk, 100, &used, &body,
                                       &body_len), 0);
  cr_assert_eq(used, 100);
  cr_assert_leq(r.cap, 65536, "100 bytes hold %zu", r.cap);
  /* 80,000 bytes more would need more than a room of 70,000. */
  r.room = 70000;
  cr_assert_eq(tally_frame_reader_feed(&r, chunk + 100, 80000, &used, &body,
                                       &body_len), -ENOBUFS);
  cr_assert_leq(r.cap, 70000);
  cr_assert_eq(r.body_have, 100);
  r.room = SIZE_MAX;
  size_t off = 100;
  while (off < N) {
    size_t n = N - off < 65536 ? N - off : 65536;
    int rc = tally_frame_reader_feed(&r, chunk + off, n, &used, &body,
                                     &body_len);
    off += used;
    cr_assert_eq(rc, off == N ? 1 : 0, "at %zu", off);
    if (off < N)
      cr_assert_leq(r.cap, 2 * off + 65536, "%zu bytes hold %zu", off, r.cap);
  }
  cr_assert_eq(body_len, N);
  cr_assert_eq(memcmp(body, chunk, N), 0);
  cr_assert_eq(r.cap, 0);
  free(body);
  free(chunk);
}

/* Near the room, a body that trickles in a byte at a time grows by
 * 64 KiB at a time: it was copied whole once for every byte. */
Test(frame, a_trickle_near_the_room_is_not_copied_for_every_byte) {
  enum { N = 1 << 20, ROOM = 300000 };
  tally_frame_reader r;
  uint8_t hdr[4], byte = 7, *body = NULL;
  size_t used, body_len = 0, have = 0;
  int grew = 0;
  tally_frame_reader_init(&r, N);
  r.room = ROOM;
  tally_frame_put_len(hdr, N);
  cr_assert_eq(tally_frame_reader_feed(&r, hdr, 4, &used, &body, &body_len), 0);
  for (size_t cap = r.cap; have < ROOM; have++) {
    cr_assert_eq(tally_frame_reader_feed(&r, &byte, 1, &used, &body,
                                         &body_len), 0, "at %zu", have);
    if (r.cap != cap) {
      grew++;
      cap = r.cap;
    }
  }
  /* 64 KiB, 128 KiB, 256 KiB, then the room: four buffers at most. */
  cr_expect_leq(grew, 4, "the buffer was made %d times", grew);
  cr_expect_eq(tally_frame_reader_feed(&r, &byte, 1, &used, &body, &body_len),
               -ENOBUFS);
  tally_frame_reader_reset(&r);
}
