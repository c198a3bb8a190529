/* period.h: reporting periods, "2022", "2022Q3" and "2022-07".
 *
 * A period is a year, a quarter of a year or a month. Its 32-bit key
 * (year << 16 | kind << 8 | index) sorts years, then within a year the
 * whole year, its quarters and its months; stored big-endian it keeps
 * that order in LMDB.
 */
#ifndef TALLY_PERIOD_H
#define TALLY_PERIOD_H

#include <stddef.h>
#include <stdint.h>

#define TALLY_PERIOD_MIN_YEAR 1900
#define TALLY_PERIOD_MAX_YEAR 2999
#define TALLY_PERIOD_STRLEN 16 /* enough for any formatted period + NUL */

typedef enum {
  TALLY_PERIOD_YEAR = 0,
  TALLY_PERIOD_QUARTER = 1,
  TALLY_PERIOD_MONTH = 2
} tally_period_kind;

typedef struct {
  int year;
  tally_period_kind kind;
  int index; /* 0 for a year, 1-4 for a quarter, 1-12 for a month */
} tally_period;

/* Parses s exactly (no surrounding blanks). Returns 0 or TALLY_EPERIOD. */
int tally_period_parse(const char *s, tally_period *out);

/* Writes the canonical text of p into buf (at least TALLY_PERIOD_STRLEN
 * bytes). Returns buf. */
char *tally_period_format(const tally_period *p, char *buf);

uint32_t tally_period_key(const tally_period *p);

/* Returns 0, or TALLY_EPERIOD if key does not name a valid period. */
int tally_period_from_key(uint32_t key, tally_period *out);

/* The period of the same kind just before p. Returns 0 or TALLY_EPERIOD
 * when that would fall before TALLY_PERIOD_MIN_YEAR. */
int tally_period_prev(const tally_period *p, tally_period *out);

/* The period of the same kind just after p. Returns 0 or TALLY_EPERIOD
 * when that would fall after TALLY_PERIOD_MAX_YEAR. */
int tally_period_next(const tally_period *p, tally_period *out);

/* The first day of p as days since 1970-01-01 (UTC). */
long tally_period_start_day(const tally_period *p);

/* The day (since 1970-01-01) a report for p is due: for a year, the
 * year_month-year_day of the next year; for a quarter, quarter_days
 * after its last day; for a month, day month_day of the next month.
 * LONG_MAX for the last period there is. */
long tally_period_due_day(const tally_period *p, int year_month, int year_day,
                          int quarter_days, int month_day);

/* A day since 1970-01-01 as "YYYY-MM-DD" into buf (11 bytes at least);
 * "" for LONG_MAX (no day). Returns buf. */
char *tally_period_day_text(long day, char *buf, size_t n);

#endif
