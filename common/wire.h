/* wire.h: envelopes in and out of frames (protobuf-c).
 *
 * The generated protobuf-c code lives in the build tree (tally.pb-c.h);
 * this module is the one place that encodes and decodes an Envelope.
 */
#ifndef TALLY_WIRE_H
#define TALLY_WIRE_H

#include "arena.h"
#include "tally.pb-c.h"

#include <stddef.h>
#include <stdint.h>

/* Encodes env as a complete frame (length + body) into a malloc'd
 * buffer that the caller frees. Returns 0, -ENOMEM, or TALLY_EFRAME2BIG
 * when the body would exceed max (0 = TALLY_FRAME_DEFAULT_MAX). */
int tally_wire_pack(const Tally__Envelope *env, size_t max, uint8_t **frame,
                    size_t *frame_len);

/* Decodes one frame body. Returns 0 and *env (free it with
 * tally_wire_free), or TALLY_EDECODE with the reason in why (whylen
 * bytes; 0 = none wanted): the body does not decode, or one of its
 * strings holds a NUL byte, which a C string would cut short (the
 * reason names the field). A body that decodes but carries no known
 * body case is returned as is: the caller checks body_case. */
int tally_wire_decode(const uint8_t *body, size_t len, Tally__Envelope **env,
                      char *why, size_t whylen);

/* The same, with the envelope's messages and strings allocated in a
 * (many small allocations in one go: an import of 4,000,000 figures
 * made 8 million mallocs and frees). The envelope lives until a is
 * freed; it is not passed to tally_wire_free. An import's packed
 * reports come out as reports (import_packed.h); one that does not fit
 * its codes is TALLY_EDECODE too. This is the server's decoder. */
int tally_wire_decode_in(tally_arena *a, const uint8_t *body, size_t len,
                         Tally__Envelope **env, char *why, size_t whylen);

/* tally_wire_decode without the reason. */
int tally_wire_unpack(const uint8_t *body, size_t len, Tally__Envelope **env);

void tally_wire_free(Tally__Envelope *env);

/* "reporter", "analyst", "admin"; parse returns ROLE_UNSPECIFIED for
 * anything else. */
const char *tally_role_name(Tally__Role role);
Tally__Role tally_role_parse(const char *name);

#endif
