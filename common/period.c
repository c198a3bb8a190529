#include "period.h"

#include "error.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The n decimal digits at s into *out. Returns 0 or TALLY_EPERIOD. */
static int parse_digits(const char *s, size_t n, int *out) {
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return TALLY_EPERIOD;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

static int valid(const tally_period *p) {
  if (p->year < TALLY_PERIOD_MIN_YEAR || p->year > TALLY_PERIOD_MAX_YEAR)
    return 0;
  switch (p->kind) {
  case TALLY_PERIOD_YEAR: return p->index == 0;
  case TALLY_PERIOD_QUARTER: return p->index >= 1 && p->index <= 4;
  case TALLY_PERIOD_MONTH: return p->index >= 1 && p->index <= 12;
  }
  return 0;
}

int tally_period_parse(const char *s, tally_period *out) {
  tally_period p = {0};
  size_t n = s ? strlen(s) : 0;

  if (n < 4 || parse_digits(s, 4, &p.year) != 0)
    return TALLY_EPERIOD;
  if (n == 4) {
    p.kind = TALLY_PERIOD_YEAR;
  } else if (n == 6 && s[4] == 'Q') {
    p.kind = TALLY_PERIOD_QUARTER;
    if (parse_digits(s + 5, 1, &p.index) != 0)
      return TALLY_EPERIOD;
  } else if (n == 7 && s[4] == '-') {
    p.kind = TALLY_PERIOD_MONTH;
    if (parse_digits(s + 5, 2, &p.index) != 0)
      return TALLY_EPERIOD;
  } else {
    return TALLY_EPERIOD;
  }
  if (!valid(&p))
    return TALLY_EPERIOD;
  *out = p;
  return 0;
}

char *tally_period_format(const tally_period *p, char *buf) {
  switch (p->kind) {
  case TALLY_PERIOD_QUARTER:
    snprintf(buf, TALLY_PERIOD_STRLEN, "%04dQ%d", p->year, p->index);
    break;
  case TALLY_PERIOD_MONTH:
    snprintf(buf, TALLY_PERIOD_STRLEN, "%04d-%02d", p->year, p->index);
    break;
  default:
    snprintf(buf, TALLY_PERIOD_STRLEN, "%04d", p->year);
    break;
  }
  return buf;
}

uint32_t tally_period_key(const tally_period *p) {
  return (uint32_t)p->year << 16 | (uint32_t)p->kind << 8 | (uint32_t)p->index;
}

int tally_period_from_key(uint32_t key, tally_period *out) {
  tally_period p;
  p.year = (int)(key >> 16);
  p.kind = (tally_period_kind)(key >> 8 & 0xff);
  p.index = (int)(key & 0xff);
  if (!valid(&p))
    return TALLY_EPERIOD;
  *out = p;
  return 0;
}

int tally_period_prev(const tally_period *p, tally_period *out) {
  tally_period q = *p;
  int per_year = p->kind == TALLY_PERIOD_QUARTER ? 4 : 12;

  if (p->kind == TALLY_PERIOD_YEAR || q.index == 1) {
    q.year--;
    if (p->kind != TALLY_PERIOD_YEAR)
      q.index = per_year;
  } else {
    q.index--;
  }
  if (!valid(&q))
    return TALLY_EPERIOD;
  *out = q;
  return 0;
}

int tally_period_next(const tally_period *p, tally_period *out) {
  tally_period q = *p;
  int per_year = p->kind == TALLY_PERIOD_QUARTER ? 4 : 12;

  if (p->kind == TALLY_PERIOD_YEAR || q.index == per_year) {
    q.year++;
    if (p->kind != TALLY_PERIOD_YEAR)
      q.index = 1;
  } else {
    q.index++;
  }
  if (!valid(&q))
    return TALLY_EPERIOD;
  *out = q;
  return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static long days_from_civil(long y, int m, int d) {
  y -= m <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

long tally_period_due_day(const tally_period *p, int year_month, int year_day,
                          int quarter_days, int month_day) {
  tally_period next;
  if (tally_period_next(p, &next) != 0)
    return LONG_MAX;
  long after = tally_period_start_day(&next); /* the day after p ends */
  if (p->kind == TALLY_PERIOD_YEAR)
    return days_from_civil(p->year + 1, year_month, year_day);
  if (p->kind == TALLY_PERIOD_QUARTER)
    return after - 1 + quarter_days;
  return after + month_day - 1;
}

char *tally_period_day_text(long day, char *buf, size_t n) {
  time_t when = (time_t)day * 86400;
  struct tm tm;
  if (n > 0)
    buf[0] = 0;
  if (day != LONG_MAX && gmtime_r(&when, &tm))
    strftime(buf, n, "%Y-%m-%d", &tm);
  return buf;
}

long tally_period_start_day(const tally_period *p) {
  int month = 1;
  if (p->kind == TALLY_PERIOD_QUARTER)
    month = (p->index - 1) * 3 + 1;
  else if (p->kind == TALLY_PERIOD_MONTH)
    month = p->index;
  return days_from_civil(p->year, month, 1);
}
