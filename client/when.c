/* when.c: times given and shown on the command line; see when.h. */
#include "when.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

void tally_when_text(char *buf, size_t n, int64_t unix_s) {
  time_t t = (time_t)unix_s;
  struct tm tm;
  if (n > 0)
    buf[0] = 0;
  if (localtime_r(&t, &tm))
    strftime(buf, n, "%Y-%m-%d %H:%M:%S %z", &tm);
}

void tally_when_day(char *buf, size_t n, int64_t unix_s) {
  time_t t = (time_t)unix_s;
  struct tm tm;
  if (n > 0)
    buf[0] = 0;
  if (localtime_r(&t, &tm))
    strftime(buf, n, "%Y-%m-%d", &tm);
}

/* An offset east of UTC, in seconds, from "Z", "+08:00", "+0800" or
 * "+08". Returns 0, or -1 when text is none of them. */
static int parse_offset(const char *text, long *east) {
  if (strcmp(text, "Z") == 0) {
    *east = 0;
    return 0;
  }
  if (text[0] != '+' && text[0] != '-')
    return -1;
  const char *p = text + 1;
  int digits[4], k = 0;
  for (; *p && k < 4; p++) {
    if (*p == ':' && k == 2)
      continue;
    if (!isdigit((unsigned char)*p))
      return -1;
    digits[k++] = *p - '0';
  }
  if (*p != 0 || (k != 2 && k != 4) || (p[-1] == ':'))
    return -1;
  long hours = digits[0] * 10 + digits[1];
  long minutes = k == 4 ? digits[2] * 10 + digits[3] : 0;
  if (hours > 14 || minutes > 59)
    return -1;
  *east = (hours * 3600 + minutes * 60) * (text[0] == '-' ? -1 : 1);
  return 0;
}

int tally_when_parse(const char *text, enum tally_when_day_is day,
                     int64_t *out) {
  struct tm tm, given;
  memset(&tm, 0, sizeof tm);
  const char *rest = strptime(text, "%Y-%m-%d", &tm);
  if (rest == NULL || tm.tm_year < 70)
    return -1;
  int whole_day = *rest == 0;
  long east = 0;
  int local = 1;
  if (!whole_day) {
    if (*rest != ' ' && *rest != 'T')
      return -1;
    rest++;
    if (!isdigit((unsigned char)rest[0]) || !isdigit((unsigned char)rest[1]))
      return -1; /* strptime would take " 8:30" and "8:30" alike */
    const char *end = strptime(rest, "%H:%M:%S", &tm);
    if (end == NULL)
      end = strptime(rest, "%H:%M", &tm);
    if (end == NULL)
      return -1;
    if (*end != 0) {
      if (parse_offset(end, &east) != 0)
        return -1;
      local = 0;
    }
  }
  if (whole_day && day == TALLY_WHEN_DAY_END)
    tm.tm_mday++; /* the next day's start, less a second (below) */
  given = tm;
  time_t t;
  if (local) {
    tm.tm_isdst = -1;
    t = mktime(&tm);
  } else {
    t = timegm(&tm);
  }
  if (t == (time_t)-1)
    return -1;
  /* mktime and timegm roll 2023-02-30 on into March: refuse it. */
  if (!(whole_day && day == TALLY_WHEN_DAY_END) &&
      (tm.tm_mday != given.tm_mday || tm.tm_mon != given.tm_mon))
    return -1;
  if (whole_day && day == TALLY_WHEN_DAY_END) {
    struct tm back = given;
    back.tm_mday--;
    back.tm_isdst = -1;
    time_t check = mktime(&back);
    if (check == (time_t)-1 || back.tm_mday != given.tm_mday - 1)
      return -1;
    t -= 1;
  }
  *out = (int64_t)t - east;
  return 0;
}
