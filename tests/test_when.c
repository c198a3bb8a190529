/* test_when.c: times given on the command line are local time ($TZ)
 * unless they carry an offset or Z, and shown times are local with their
 * offset (client/when.c). */
#include "when.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void in_zone(const char *tz) {
  setenv("TZ", tz, 1);
  tzset();
}

/* 2023-03-01 00:00:00 UTC. */
#define MARCH_1_UTC 1677628800

static int64_t parsed(const char *text, enum tally_when_day_is day) {
  int64_t t = -1;
  cr_assert_eq(tally_when_parse(text, day, &t), 0, "'%s' refused", text);
  return t;
}

Test(when, local_time_in_shanghai) {
  in_zone("Asia/Shanghai");
  /* 08:00 in Shanghai is midnight UTC. */
  cr_expect_eq(parsed("2023-03-01 08:00", TALLY_WHEN_DAY_START), MARCH_1_UTC);
  cr_expect_eq(parsed("2023-03-01 08:00:00", TALLY_WHEN_DAY_START),
               MARCH_1_UTC);
  cr_expect_eq(parsed("2023-03-01T08:00:30", TALLY_WHEN_DAY_START),
               MARCH_1_UTC + 30);
  /* A day: from its local start, or through its local end. */
  cr_expect_eq(parsed("2023-03-01", TALLY_WHEN_DAY_START),
               MARCH_1_UTC - 8 * 3600);
  cr_expect_eq(parsed("2023-03-01", TALLY_WHEN_DAY_END),
               MARCH_1_UTC + 16 * 3600 - 1);
  cr_expect_eq(parsed("2023-02-28", TALLY_WHEN_DAY_END),
               MARCH_1_UTC - 8 * 3600 - 1);
}

Test(when, local_time_in_utc) {
  in_zone("UTC");
  cr_expect_eq(parsed("2023-03-01 08:00", TALLY_WHEN_DAY_START),
               MARCH_1_UTC + 8 * 3600);
  cr_expect_eq(parsed("2023-03-01", TALLY_WHEN_DAY_START), MARCH_1_UTC);
  cr_expect_eq(parsed("2023-03-01", TALLY_WHEN_DAY_END),
               MARCH_1_UTC + 86400 - 1);
}

/* An offset or Z says the zone, whatever TZ says. */
Test(when, an_offset_wins_over_tz) {
  const char *zones[] = {"Asia/Shanghai", "UTC", "America/New_York"};
  for (size_t i = 0; i < 3; i++) {
    in_zone(zones[i]);
    cr_expect_eq(parsed("2023-03-01T00:00:00Z", TALLY_WHEN_DAY_START),
                 MARCH_1_UTC, "%s", zones[i]);
    cr_expect_eq(parsed("2023-03-01 00:00Z", TALLY_WHEN_DAY_START),
                 MARCH_1_UTC, "%s", zones[i]);
    cr_expect_eq(parsed("2023-03-01T08:00:00+08:00", TALLY_WHEN_DAY_START),
                 MARCH_1_UTC, "%s", zones[i]);
    cr_expect_eq(parsed("2023-03-01 08:00+0800", TALLY_WHEN_DAY_START),
                 MARCH_1_UTC, "%s", zones[i]);
    cr_expect_eq(parsed("2023-03-01T08:00:00+08", TALLY_WHEN_DAY_START),
                 MARCH_1_UTC, "%s", zones[i]);
    cr_expect_eq(parsed("2023-02-28T19:00:00-05:00", TALLY_WHEN_DAY_START),
                 MARCH_1_UTC, "%s", zones[i]);
  }
}

Test(when, not_times_are_refused) {
  in_zone("Asia/Shanghai");
  const char *bad[] = {"March", "", "2023-03", "2023-02-30", "2023-02-30 08:00",
                       "2023-03-01 8:00", "2023-03-01 08", "2023-03-01 25:00",
                       "2023-03-01T08:00:00+8", "2023-03-01T08:00:00+08:0",
                       "2023-03-01T08:00:00 UTC", "2023-03-01x",
                       "1969-12-31", "2023-03-01T08:00:00+15:00"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t t = 42;
    cr_expect_eq(tally_when_parse(bad[i], TALLY_WHEN_DAY_START, &t), -1,
                 "'%s' was taken as %lld", bad[i], (long long)t);
    cr_expect_eq(tally_when_parse(bad[i], TALLY_WHEN_DAY_END, &t), -1,
                 "'%s' (day end) was taken", bad[i]);
  }
}

/* Shown: local time with its offset. */
Test(when, shown_in_local_time_with_offset) {
  char buf[64];
  in_zone("Asia/Shanghai");
  tally_when_text(buf, sizeof buf, MARCH_1_UTC);
  cr_expect_str_eq(buf, "2023-03-01 08:00:00 +0800");
  tally_when_day(buf, sizeof buf, MARCH_1_UTC - 3600);
  cr_expect_str_eq(buf, "2023-03-01");
  in_zone("UTC");
  tally_when_text(buf, sizeof buf, MARCH_1_UTC);
  cr_expect_str_eq(buf, "2023-03-01 00:00:00 +0000");
  tally_when_day(buf, sizeof buf, MARCH_1_UTC - 3600);
  cr_expect_str_eq(buf, "2023-02-28");
}
