/* review.c: a report's review in words. */
#include "review.h"

#include <stdio.h>
#include <time.h>

void tally_review_text(const Tally__Review *rv, char *buf, size_t n) {
  static const char *const words[] = {"not reviewed", "returned",
                                      "submitted again after a return",
                                      "approved", "reopened"};
  char day[16] = "";
  if (rv == NULL || (unsigned)rv->state > TALLY__REVIEW_STATE__REVIEW_REOPENED) {
    snprintf(buf, n, "not reviewed");
    return;
  }
  time_t when = (time_t)rv->time_unix;
  struct tm tm;
  if (gmtime_r(&when, &tm))
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
  int len = snprintf(buf, n, "%s on %s by %s%s%s", words[rv->state], day,
                     rv->account_name, *rv->reason ? ": " : "", rv->reason);
  const Tally__Return *was = rv->answers;
  if (was && rv->state == TALLY__REVIEW_STATE__REVIEW_RESUBMITTED && len >= 0 &&
      (size_t)len < n) {
    char then[16] = "";
    when = (time_t)was->time_unix;
    if (gmtime_r(&when, &tm))
      strftime(then, sizeof then, "%Y-%m-%d", &tm);
    snprintf(buf + len, n - (size_t)len, " (returned on %s by %s: %s)", then,
             was->account_name, was->reason);
  }
}
