/* when.h: times on the command line. Given times are read in local time
 * ($TZ, else the system's: Asia/Shanghai on a district's machines) unless
 * they carry an offset or Z; shown times are local with their offset.
 * JSON outputs keep Unix times (UTC) instead. */
#ifndef TALLY_WHEN_H
#define TALLY_WHEN_H

#include <stddef.h>
#include <stdint.h>

/* "2026-11-27 17:08:17 +0800" into buf. */
void tally_when_text(char *buf, size_t n, int64_t unix_s);

/* "2026-11-27": the local day of a time. */
void tally_when_day(char *buf, size_t n, int64_t unix_s);

/* What a day alone means to tally_when_parse. */
enum tally_when_day_is { TALLY_WHEN_DAY_START, TALLY_WHEN_DAY_END };

/* Reads text into *out (Unix seconds): "2023-03-01" (local midnight, or
 * the day's last second with TALLY_WHEN_DAY_END), "2023-03-01 08:30",
 * "2023-03-01 08:30:00" (also with T for the space) in local time, or
 * any of those times followed by Z (UTC) or an offset: +08:00, +0800,
 * +08, -05:00. Returns 0, or -1 when text is none of them or names no
 * day of the calendar (2023-02-30). */
int tally_when_parse(const char *text, enum tally_when_day_is day,
                     int64_t *out);

/* The forms tally_when_parse takes, for a message saying what it wants. */
#define TALLY_WHEN_FORMS                                                       \
  "a day (2023-03-01) or a time (2023-03-01 08:30, 2023-03-01 08:30:00) in "   \
  "local time, or a time with its offset (2023-03-01T08:30:00+08:00; Z: UTC)"

#endif
