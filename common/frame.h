/* frame.h: length-prefixed frames.
 *
 * On the wire a frame is a 4-byte big-endian length n followed by n
 * bytes of body. The reader checks the length before it allocates: a
 * zero length or one over the limit is an error. The body buffer grows
 * as the bytes arrive (a length prefix alone makes it hold nothing),
 * within the room the caller gives, and is exactly n bytes when whole.
 */
#ifndef TALLY_FRAME_H
#define TALLY_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define TALLY_FRAME_HEADER 4
#define TALLY_FRAME_DEFAULT_MAX (1u << 20) /* 1 MiB */
/* The largest frame a connection may send before it has signed in: a
 * stranger does not get to make the server buffer and decode megabytes.
 * A client with a larger first request signs in with a small one first. */
#define TALLY_FRAME_PREAUTH_MAX (64u << 10)

typedef struct {
  size_t max;          /* largest body accepted */
  uint8_t hdr[TALLY_FRAME_HEADER];
  size_t hdr_have;     /* header bytes read so far */
  uint8_t *body;       /* NULL until body bytes arrive */
  size_t body_len;     /* announced body length */
  size_t body_have;    /* body bytes read so far */
  size_t cap;          /* bytes allocated for the body */
  size_t room;         /* the most cap may grow to (SIZE_MAX after init) */
} tally_frame_reader;

void tally_frame_reader_init(tally_frame_reader *r, size_t max);

/* Frees a partly read body. The reader can be reused after this. */
void tally_frame_reader_reset(tally_frame_reader *r);

/* Takes bytes from data[0..len) until one frame is complete or the bytes
 * run out, and sets *used to how many it took.
 * Returns 1 when a frame is complete: *body (malloc'd, the caller frees)
 * and *body_len describe it. Returns 0 when more bytes are needed.
 * Returns TALLY_EFRAME for a zero length, TALLY_EFRAME2BIG for a length
 * over the limit (*body_len is then the announced length), -ENOBUFS
 * when the body would need more than r->room bytes (the bytes it did
 * take are kept; more may be fed once there is room), -ENOMEM.
 * After an error the stream is out of step; the caller drops it. */
int tally_frame_reader_feed(tally_frame_reader *r, const uint8_t *data,
                            size_t len, size_t *used, uint8_t **body,
                            size_t *body_len);

/* True when the reader holds part of a frame. */
int tally_frame_reader_partial(const tally_frame_reader *r);

void tally_frame_put_len(uint8_t hdr[TALLY_FRAME_HEADER], uint32_t n);
uint32_t tally_frame_get_len(const uint8_t hdr[TALLY_FRAME_HEADER]);

#endif
