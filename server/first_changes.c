/* first_changes.c: a new report's history changes, packed
 * (first_changes.h). */
#include "first_changes.h"

#include <string.h>

/* The wire's tags: field number << 3 | wire type. */
#define TAG_CHANGES (5 << 3 | 2)   /* ChangeSet.changes: a message */
#define TAG_ELEMENT (1 << 3 | 2)   /* Change.element: a string */
#define TAG_HAS_NEW (4 << 3 | 0)   /* Change.has_new: a varint */
#define TAG_NEW_VALUE (5 << 3 | 1) /* Change.new_value: 8 bytes */

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

/* A double as proto3 writes it, little-endian, or not at all when it is
 * 0 (-0 too: it compares equal, as protobuf-c tests it). */
static int value_written(double v) { return v != 0; }

/* One Change's bytes, without its tag and length. */
static size_t change_size(const tally_store_item *it, size_t element_len) {
  return (element_len ? 1 + varint_size(element_len) + element_len : 0) + 2 +
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
      uint64_t bits;
      memcpy(&bits, &it->value, sizeof bits);
      *out++ = TAG_NEW_VALUE;
      for (int b = 0; b < 8; b++, bits >>= 8)
        *out++ = (uint8_t)bits;
    }
  }
}
