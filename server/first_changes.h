/* first_changes.h: the changes of a report's first history entry, when
 * it held no figures before (every item new), packed.
 *
 * The bytes are those protobuf-c writes for a ChangeSet that holds only
 * them (field 5, a Change per item: its element, has_new and new_value,
 * the zero fields left out as proto3 leaves them), which the store
 * appends to the entry's other fields. Written here directly: through
 * protobuf-c's descriptors they took a fifth of the loop thread's
 * instructions in a province's import. tests/test_first_changes.c
 * checks that they are protobuf-c's, byte for byte.
 */
#ifndef TALLY_FIRST_CHANGES_H
#define TALLY_FIRST_CHANGES_H

#include "store_figures.h"

#include <stddef.h>
#include <stdint.h>

/* How many bytes the n items' changes take. */
size_t tally_first_changes_size(const tally_store_item *items, size_t n);

/* Writes them into out (tally_first_changes_size bytes). */
void tally_first_changes_pack(const tally_store_item *items, size_t n,
                              uint8_t *out);

#endif
