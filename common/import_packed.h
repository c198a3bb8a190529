/* import_packed.h: an import's packed reports read as the reports they
 * stand for.
 *
 * tally import sends a province's figures packed (ImportRequest's
 * element_codes and packed): a value is its element's index into the
 * request's codes and its figure, a third of the bytes of a Value, and
 * protobuf-c unpacks the two arrays without a message and a string for
 * each value. The server's decoder turns them into SubmitRequests after
 * the request's own reports, so that everything after it (who may
 * import which units, each report checked and stored) sees one list.
 */
#ifndef TALLY_IMPORT_PACKED_H
#define TALLY_IMPORT_PACKED_H

#include "arena.h"
#include "tally.pb-c.h"

#include <stddef.h>

/* The most reports one import request holds, packed or not. */
#define TALLY_IMPORT_MAX_REPORTS 4096

/* Appends q's packed reports to q->reports as SubmitRequests made in a
 * (their strings and values pointing into q), and empties q->packed.
 * Returns 0, or -1 with the reason in why (whylen bytes): more than
 * TALLY_IMPORT_MAX_REPORTS reports, a packed report whose elements and
 * values differ in number, or an element index past element_codes; or
 * -ENOMEM. */
int tally_import_packed_read(tally_arena *a, Tally__ImportRequest *q,
                             char *why, size_t whylen);

#endif
