#include "wire.h"

#include "error.h"
#include "frame.h"

#include <errno.h>
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

int tally_wire_unpack(const uint8_t *body, size_t len, Tally__Envelope **env) {
  Tally__Envelope *e = tally__envelope__unpack(NULL, len, body);
  if (e == NULL)
    return TALLY_EDECODE;
  *env = e;
  return 0;
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
