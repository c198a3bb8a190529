#include "frame.h"

#include "error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void tally_frame_reader_init(tally_frame_reader *r, size_t max) {
  memset(r, 0, sizeof *r);
  r->max = max ? max : TALLY_FRAME_DEFAULT_MAX;
}

void tally_frame_reader_reset(tally_frame_reader *r) {
  if (r->body) /* half a frame may hold a token */
    explicit_bzero(r->body, r->body_have);
  free(r->body);
  tally_frame_reader_init(r, r->max);
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
    r->body = malloc(r->body_len);
    if (r->body == NULL)
      return -ENOMEM;
    r->body_have = 0;
  }

  size_t take = r->body_len - r->body_have;
  if (take > len - off)
    take = len - off;
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
  r->body_len = r->body_have = 0;
  return 1;
}
