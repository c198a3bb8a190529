#include "frame.h"

#include "error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>

/* The first buffer of a body; later ones double, up to its length. */
#define FIRST_CAP 65536

void tally_frame_reader_init(tally_frame_reader *r, size_t max) {
  memset(r, 0, sizeof *r);
  r->max = max ? max : TALLY_FRAME_DEFAULT_MAX;
  r->room = SIZE_MAX;
}

/* Makes room for need body bytes: doubling, up to the body's length,
 * within r->room; where doubling would pass the room, by FIRST_CAP at a
 * time (so that a body trickling in near the room is copied a bounded
 * number of times, not once a read). Not realloc: it may leave a copy
 * (of a token) behind. Returns 0, -ENOBUFS or -ENOMEM. */
static int grow(tally_frame_reader *r, size_t need) {
  size_t cap = r->cap ? r->cap * 2 : FIRST_CAP;
  if (cap > r->room) {
    cap = r->cap + FIRST_CAP;
    if (cap > r->room)
      cap = r->room;
  }
  if (cap < need)
    cap = need;
  if (cap > r->body_len)
    cap = r->body_len;
  if (cap > r->room)
    return -ENOBUFS;
  uint8_t *body = malloc(cap);
  if (body == NULL)
    return -ENOMEM;
  if (r->body_have) {
    memcpy(body, r->body, r->body_have);
    explicit_bzero(r->body, r->body_have);
  }
  free(r->body);
  r->body = body;
  r->cap = cap;
  return 0;
}

void tally_frame_reader_reset(tally_frame_reader *r) {
  size_t room = r->room;
  if (r->body) /* half a frame may hold a token */
    explicit_bzero(r->body, r->body_have);
  free(r->body);
  tally_frame_reader_init(r, r->max);
  r->room = room;
}

int tally_frame_reader_partial(const tally_frame_reader *r) {
  return r->hdr_have > 0;
}

void tally_frame_put_len(uint8_t hdr[TALLY_FRAME_HEADER], uint32_t n) {
  hdr[0] = (uint8_t)(n >> 24);
  hdr[1] = (uint8_t)(n >> 16);
  hdr[2] = (uint8_t)(n >> 8);
  hdr[3] = (uint8_t)n;
}

uint32_t tally_frame_get_len(const uint8_t hdr[TALLY_FRAME_HEADER]) {
  return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
         (uint32_t)hdr[2] << 8 | (uint32_t)hdr[3];
}

int tally_frame_reader_feed(tally_frame_reader *r, const uint8_t *data,
                            size_t len, size_t *used, uint8_t **body,
                            size_t *body_len) {
  size_t off = 0;

  *used = 0;
  if (r->hdr_have < TALLY_FRAME_HEADER) {
    size_t take = TALLY_FRAME_HEADER - r->hdr_have;
    if (take > len)
      take = len;
    memcpy(r->hdr + r->hdr_have, data, take);
    r->hdr_have += take;
    off += take;
    *used = off;
    if (r->hdr_have < TALLY_FRAME_HEADER)
      return 0;
    r->body_len = tally_frame_get_len(r->hdr);
    if (r->body_len == 0)
      return TALLY_EFRAME;
    if (r->body_len > r->max) {
      *body_len = r->body_len;
      return TALLY_EFRAME2BIG;
    }
    r->body_have = 0;
  }

  size_t take = r->body_len - r->body_have;
  if (take > len - off)
    take = len - off;
  if (r->body_have + take > r->cap) {
    int rc = grow(r, r->body_have + take);
    if (rc != 0)
      return rc;
  }
  if (take > 0)
    memcpy(r->body + r->body_have, data + off, take);
  r->body_have += take;
  off += take;
  *used = off;
  if (r->body_have < r->body_len)
    return 0;

  *body = r->body;
  *body_len = r->body_len;
  r->body = NULL;
  r->hdr_have = 0;
  r->body_len = r->body_have = r->cap = 0;
  return 1;
}
