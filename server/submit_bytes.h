/* submit_bytes.h: the protobuf bytes the loop thread makes of each
 * submission, written directly where protobuf-c's are slow.
 *
 * protobuf-c packs a message by walking its descriptor field by field,
 * and works out each inner message's size once for every message around
 * it. For the hundred values of a province's report that took two
 * fifths of the loop thread's instructions in a bulk import: the digest
 * of each submission (FNV-1a over the submission as protobuf-c packs
 * it, which the store keeps with its id) and the changes of a new
 * report's first history entry. The bytes here are protobuf-c's, byte
 * for byte: tests/test_submit_bytes.c checks both against it.
 */
#ifndef TALLY_SUBMIT_BYTES_H
#define TALLY_SUBMIT_BYTES_H

#include "store_figures.h"
#include "tally.pb-c.h"

#include <stddef.h>
#include <stdint.h>

/* FNV-1a over s as tally__submit_request__pack writes it. Its values are
 * written here; the rest of s, and values with fields this build does
 * not know, by protobuf-c. Returns 0 when there is no memory for it. */
uint64_t tally_submit_digest(const Tally__SubmitRequest *s);

/* A report's first history changes, when it held no figures before:
 * the bytes protobuf-c writes for a ChangeSet that holds only them
 * (field 5, a Change per item with its element, has_new and new_value),
 * which the store appends to the entry's other fields. */
size_t tally_first_changes_size(const tally_store_item *items, size_t n);

/* Writes them into out (tally_first_changes_size bytes). */
void tally_first_changes_pack(const tally_store_item *items, size_t n,
                              uint8_t *out);

#endif
