/* review.c: a report's review in words. */
#include "review.h"

#include <stdio.h>
#include <time.h>

/* A time's day: in UTC, or local time when local is set. */
static void day_of(int64_t unix_s, int local, char *buf, size_t n) {
  time_t when = (time_t)unix_s;
  struct tm tm;
  buf[0] = 0;
  if (local ? localtime_r(&when, &tm) != NULL : gmtime_r(&when, &tm) != NULL)
    strftime(buf, n, "%Y-%m-%d", &tm);
}

static void review_text(const Tally__Review *rv, int local, char *buf,
                        size_t n) {
  static const char *const words[] = {"not reviewed", "returned",
                                      "submitted again after a return",
                                      "approved", "reopened"};
  char day[16] = "";
  if (rv == NULL || (unsigned)rv->state > TALLY__REVIEW_STATE__REVIEW_REOPENED) {
    snprintf(buf, n, "not reviewed");
    return;
  }
  day_of(rv->time_unix, local, day, sizeof day);
  int len = snprintf(buf, n, "%s on %s by %s%s%s", words[rv->state], day,
                     rv->account_name, *rv->reason ? ": " : "", rv->reason);
  const Tally__Return *was = rv->answers;
  if (was && rv->state == TALLY__REVIEW_STATE__REVIEW_RESUBMITTED && len >= 0 &&
      (size_t)len < n) {
    char then[16] = "";
    day_of(was->time_unix, local, then, sizeof then);
    snprintf(buf + len, n - (size_t)len, " (returned on %s by %s: %s)", then,
             was->account_name, was->reason);
  }
}

void tally_review_text(const Tally__Review *rv, char *buf, size_t n) {
  review_text(rv, 0, buf, n);
}

void tally_review_text_local(const Tally__Review *rv, char *buf, size_t n) {
  review_text(rv, 1, buf, n);
}
