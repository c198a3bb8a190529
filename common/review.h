/* review.h: a report's review (proto/tally.proto's Review) in words, the
 * same for the server's messages and the client's tables. */
#ifndef TALLY_REVIEW_H
#define TALLY_REVIEW_H

#include "tally.pb-c.h"

#include <stddef.h>

/* The room a review's words take: two names and a reason, at most. */
#define TALLY_REVIEW_TEXT_MAX 640

/* "returned on 2026-12-01 by Central office: births are too low",
 * "approved on 2026-12-01 by Central office"; a report submitted again
 * also names the return it answers, "(returned on ... by ...: why)";
 * "not reviewed" for NULL (or a state this build does not know). */
void tally_review_text(const Tally__Review *rv, char *buf, size_t n);

/* The same with the days in UTC (above: the server's messages and audit
 * trail) or, here, in local time ($TZ): the client's tables. */
void tally_review_text_local(const Tally__Review *rv, char *buf, size_t n);

#endif
