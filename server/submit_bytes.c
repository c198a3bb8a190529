/* submit_bytes.c: a submission's digest and a new report's history
 * changes, their protobuf bytes written directly (submit_bytes.h). */
#include "submit_bytes.h"

#include "hash.h"

#include <stdlib.h>
#include <string.h>

/* The wire's tags: field number << 3 | wire type (2: a length and its
 * bytes, 0: a varint, 1: 8 bytes). */
#define TAG_VALUES (3 << 3 | 2)    /* SubmitRequest.values */
#define TAG_V_ELEMENT (1 << 3 | 2) /* Value.element */
#define TAG_V_VALUE (2 << 3 | 1)   /* Value.value */
#define TAG_CHANGES (5 << 3 | 2)   /* ChangeSet.changes */
#define TAG_ELEMENT (1 << 3 | 2)   /* Change.element */
#define TAG_HAS_NEW (4 << 3 | 0)   /* Change.has_new */
#define TAG_NEW_VALUE (5 << 3 | 1) /* Change.new_value */

static size_t varint_size(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7)
    n++;
  return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v) {
  for (; v >= 0x80; v >>= 7)
    *p++ = (uint8_t)(v | 0x80);
  *p++ = (uint8_t)v;
  return p;
}

/* Whether proto3 writes a double: not when it is 0 (-0 too: it
 * compares equal, as protobuf-c tests it). */
static int value_written(double v) { return v != 0; }

/* A double's 8 bytes, little-endian, at p. Returns the end. */
static uint8_t *put_double(uint8_t *p, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  for (int b = 0; b < 8; b++, bits >>= 8)
    *p++ = (uint8_t)bits;
  return p;
}

/* A string field of len bytes, its tag and length with it: none when it
 * is empty, as proto3 writes it. */
static size_t string_field_size(size_t len) {
  return len ? 1 + varint_size(len) + len : 0;
}

/* h carried on over one of s->values as protobuf-c writes it: its tag,
 * its length, its element and its value. */
static uint64_t hash_value(uint64_t h, const Tally__Value *v) {
  uint8_t head[1 + 10 + 1 + 10], tail[9], *p = head;
  size_t len = v->element ? strlen(v->element) : 0;
  int written = value_written(v->value);
  size_t inner = string_field_size(len) + (written ? 9 : 0);
  *p++ = TAG_VALUES;
  p = put_varint(p, inner);
  if (len) {
    *p++ = TAG_V_ELEMENT;
    p = put_varint(p, len);
  }
  h = tally_hash_fnv1a_more(h, head, (size_t)(p - head));
  h = tally_hash_fnv1a_more(h, v->element, len);
  if (written) {
    tail[0] = TAG_V_VALUE;
    put_double(tail + 1, v->value);
    h = tally_hash_fnv1a_more(h, tail, sizeof tail);
  }
  return h;
}

/* The digest of s, all of it packed by protobuf-c. */
static uint64_t digest_packed(const Tally__SubmitRequest *s) {
  size_t n = tally__submit_request__get_packed_size(s);
  uint8_t *buf = malloc(n + 1);
  if (buf == NULL)
    return 0;
  tally__submit_request__pack(s, buf);
  uint64_t h = tally_hash_fnv1a(buf, n);
  free(buf);
  return h;
}

uint64_t tally_submit_digest(const Tally__SubmitRequest *s) {
  for (size_t i = 0; i < s->n_values; i++)
    if (s->values[i]->base.n_unknown_fields)
      return digest_packed(s); /* fields only protobuf-c can write again */
  /* protobuf-c writes the fields in their numbers' order and the unknown
   * ones last: the unit (1) and period (2), the values (3), the rest. */
  Tally__SubmitRequest rest = *s;
  rest.n_values = 0;
  rest.values = NULL;
  uint8_t small[1024], *buf = small;
  size_t n = tally__submit_request__get_packed_size(&rest);
  if (n > sizeof small && (buf = malloc(n)) == NULL)
    return 0;
  tally__submit_request__pack(&rest, buf);
  size_t head = string_field_size(s->unit ? strlen(s->unit) : 0) +
                string_field_size(s->period ? strlen(s->period) : 0);
  uint64_t h = tally_hash_fnv1a_more(TALLY_FNV1A_BASIS, buf, head);
  for (size_t i = 0; i < s->n_values; i++)
    h = hash_value(h, s->values[i]);
  h = tally_hash_fnv1a_more(h, buf + head, n - head);
  if (buf != small)
    free(buf);
  return h;
}

/* One Change's bytes, without its tag and length. */
static size_t change_size(const tally_store_item *it, size_t element_len) {
  return string_field_size(element_len) + 2 +
         (value_written(it->value) ? 9 : 0);
}

size_t tally_first_changes_size(const tally_store_item *items, size_t n) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    size_t c = change_size(&items[i], strlen(items[i].element));
    total += 1 + varint_size(c) + c;
  }
  return total;
}

void tally_first_changes_pack(const tally_store_item *items, size_t n,
                              uint8_t *out) {
  for (size_t i = 0; i < n; i++) {
    const tally_store_item *it = &items[i];
    size_t len = strlen(it->element);
    *out++ = TAG_CHANGES;
    out = put_varint(out, change_size(it, len));
    if (len) {
      *out++ = TAG_ELEMENT;
      out = put_varint(out, len);
      memcpy(out, it->element, len);
      out += len;
    }
    *out++ = TAG_HAS_NEW;
    *out++ = 1;
    if (value_written(it->value)) {
      *out++ = TAG_NEW_VALUE;
      out = put_double(out, it->value);
    }
  }
}
