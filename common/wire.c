#include "wire.h"

#include "error.h"
#include "frame.h"
#include "import_packed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tally_wire_pack(const Tally__Envelope *env, size_t max, uint8_t **frame,
                    size_t *frame_len) {
  size_t n = tally__envelope__get_packed_size(env);
  uint8_t *buf;

  if (max == 0)
    max = TALLY_FRAME_DEFAULT_MAX;
  if (n > max || n > UINT32_MAX)
    return TALLY_EFRAME2BIG;
  buf = malloc(TALLY_FRAME_HEADER + (n ? n : 1));
  if (buf == NULL)
    return -ENOMEM;
  tally_frame_put_len(buf, (uint32_t)n);
  tally__envelope__pack(env, buf + TALLY_FRAME_HEADER);
  *frame = buf;
  *frame_len = TALLY_FRAME_HEADER + n;
  return 0;
}

/* Reads the varint at *p, before end, into *v. Returns 0 or -1. */
static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
  *v = 0;
  for (int shift = 0; *p < end && shift < 64; shift += 7) {
    uint8_t b = *(*p)++;
    *v |= (uint64_t)(b & 0x7f) << shift;
    if ((b & 0x80) == 0)
      return 0;
  }
  return -1;
}

/* protobuf-c unpacks a string into a C string, where a NUL would end it
 * early without a word: "wenchang\0guide" would read as "wenchang". So
 * the wire bytes of a message of type d are walked first, guided by d,
 * into every message field (oneofs and repeated ones too, which are
 * fields like any other). Returns the name of the first string field
 * that holds a NUL, FIELD_ZERO for a field numbered 0 (which protobuf-c
 * takes when its tag is written long, "85 00", but not when short, so
 * that what it took would not decode again), or NULL. Other bytes that
 * do not parse stop the walk: protobuf-c refuses them itself. */
static const char FIELD_ZERO[] = "";

static const char *nul_field(const ProtobufCMessageDescriptor *d,
                             const uint8_t *p, const uint8_t *end,
                             int depth) {
  while (p < end) {
    uint64_t tag, n;
    if (varint(&p, end, &tag) != 0)
      return NULL;
    if (tag >> 3 == 0)
      return FIELD_ZERO;
    switch (tag & 7) {
    case 0: /* a varint */
      if (varint(&p, end, &n) != 0)
        return NULL;
      continue;
    case 1: /* 8 bytes */
    case 5: /* 4 bytes */
      n = (tag & 7) == 1 ? 8 : 4;
      if ((uint64_t)(end - p) < n)
        return NULL;
      p += n;
      continue;
    case 2: /* length-delimited: a string, bytes, a message, packed */
      break;
    default:
      return NULL;
    }
    if (varint(&p, end, &n) != 0 || n > (uint64_t)(end - p))
      return NULL;
    const uint8_t *field_end = p + n;
    const ProtobufCFieldDescriptor *f =
        tag >> 3 <= UINT32_MAX
            ? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3))
            : NULL;
    if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(p, 0, n))
      return f->name;
    if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && depth < 64) {
      const char *inner = nul_field(f->descriptor, p, field_end, depth + 1);
      if (inner)
        return inner;
    }
    p = field_end;
  }
  return NULL;
}

static int decode(ProtobufCAllocator *allocator, const uint8_t *body,
                  size_t len, Tally__Envelope **env, char *why, size_t whylen) {
  Tally__Envelope *e = tally__envelope__unpack(allocator, len, body);
  const char *field;
  if (e == NULL) {
    if (whylen)
      snprintf(why, whylen, "the frame does not decode as a tally envelope");
    return TALLY_EDECODE;
  }
  if ((field = nul_field(&tally__envelope__descriptor, body, body + len,
                         0)) != NULL) {
    if (whylen && field == FIELD_ZERO)
      snprintf(why, whylen, "the frame does not decode as a tally envelope "
               "(a field numbered 0)");
    else if (whylen)
      snprintf(why, whylen, "a string holds a NUL byte: field %s", field);
    tally__envelope__free_unpacked(e, allocator);
    return TALLY_EDECODE;
  }
  *env = e;
  return 0;
}

int tally_wire_decode(const uint8_t *body, size_t len, Tally__Envelope **env,
                      char *why, size_t whylen) {
  return decode(NULL, body, len, env, why, whylen);
}

static void *arena_alloc(void *a, size_t n) { return tally_arena_alloc(a, n); }
static void arena_keep(void *a, void *p) { (void)a, (void)p; } /* freed with a */

int tally_wire_decode_in(tally_arena *a, const uint8_t *body, size_t len,
                         Tally__Envelope **env, char *why, size_t whylen) {
  ProtobufCAllocator in_arena = {arena_alloc, arena_keep, a};
  char packed[160];
  int rc = decode(&in_arena, body, len, env, why, whylen);
  if (rc == 0 && (*env)->body_case == TALLY__ENVELOPE__BODY_IMPORT_REQUEST &&
      tally_import_packed_read(a, (*env)->import_request, packed,
                               sizeof packed) != 0) {
    if (whylen)
      snprintf(why, whylen, "%s", packed);
    *env = NULL; /* in a, freed with it */
    return TALLY_EDECODE;
  }
  return rc;
}

int tally_wire_unpack(const uint8_t *body, size_t len, Tally__Envelope **env) {
  return tally_wire_decode(body, len, env, NULL, 0);
}

void tally_wire_free(Tally__Envelope *env) {
  if (env)
    tally__envelope__free_unpacked(env, NULL);
}

const char *tally_role_name(Tally__Role role) {
  switch (role) {
  case TALLY__ROLE__ROLE_REPORTER: return "reporter";
  case TALLY__ROLE__ROLE_ANALYST: return "analyst";
  case TALLY__ROLE__ROLE_ADMIN: return "admin";
  default: return "none";
  }
}

Tally__Role tally_role_parse(const char *name) {
  if (strcmp(name, "reporter") == 0)
    return TALLY__ROLE__ROLE_REPORTER;
  if (strcmp(name, "analyst") == 0)
    return TALLY__ROLE__ROLE_ANALYST;
  if (strcmp(name, "admin") == 0)
    return TALLY__ROLE__ROLE_ADMIN;
  return TALLY__ROLE__ROLE_UNSPECIFIED;
}
