/* test_period.c: reporting periods: parsing, text, keys, the period
 * before, and the first day. */
#include "error.h"
#include "period.h"

#include <criterion/criterion.h>

static tally_period parse_ok(const char *s) {
  tally_period p;
  int rc = tally_period_parse(s, &p);
  cr_assert_eq(rc, 0, "'%s' should parse, got %d", s, rc);
  return p;
}

static uint32_t key_of(const char *s) {
  tally_period p = parse_ok(s);
  return tally_period_key(&p);
}

Test(period, parses_a_year) {
  tally_period p = parse_ok("2022");
  cr_assert_eq(p.year, 2022);
  cr_assert_eq(p.kind, TALLY_PERIOD_YEAR);
  cr_assert_eq(p.index, 0);
}

Test(period, parses_a_quarter) {
  tally_period p = parse_ok("2022Q3");
  cr_assert_eq(p.year, 2022);
  cr_assert_eq(p.kind, TALLY_PERIOD_QUARTER);
  cr_assert_eq(p.index, 3);
}

Test(period, parses_a_month) {
  tally_period p = parse_ok("2022-07");
  cr_assert_eq(p.year, 2022);
  cr_assert_eq(p.kind, TALLY_PERIOD_MONTH);
  cr_assert_eq(p.index, 7);
}

Test(period, parses_the_edges_of_the_ranges) {
  cr_assert_eq(parse_ok("1900").year, 1900);
  cr_assert_eq(parse_ok("2999").year, 2999);
  cr_assert_eq(parse_ok("2022Q1").index, 1);
  cr_assert_eq(parse_ok("2022Q4").index, 4);
  cr_assert_eq(parse_ok("2022-01").index, 1);
  cr_assert_eq(parse_ok("2022-12").index, 12);
}

Test(period, rejects_malformed_text) {
  static const char *const bad[] = {
      "2022Q0", "2022Q5", "2022Q9", "2022-00", "2022-13", "2022-99",
      "22", "202", "20221", "202207", " 2022", "2022 ", "2022\n",
      "2022q3", "2022-7", "2022-007", "2022Q", "2022Q03", "2022-",
      "2022/07", "2022M07", "2022-1a", "2022Qx", "+022", "-022",
      "2022-Q3", "Q3", "abcd", "",
      "1899", "3000", "0000", "9999", "1899-12", "3000Q1",
      "\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x92", /* "２０２２" */
      "\xd9\xa2\xd9\xa0\xd9\xa2\xd9\xa2",                 /* Arabic-Indic 2022 */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    /* A failed parse leaves *out as it was. */
    tally_period p = {1234, TALLY_PERIOD_MONTH, 5};
    cr_expect_eq(tally_period_parse(bad[i], &p), TALLY_EPERIOD,
                 "'%s' should be rejected", bad[i]);
    cr_expect_eq(p.year, 1234, "'%s' changed *out", bad[i]);
    cr_expect_eq(p.index, 5, "'%s' changed *out", bad[i]);
  }
}

Test(period, rejects_null) {
  tally_period p;
  cr_assert_eq(tally_period_parse(NULL, &p), TALLY_EPERIOD);
}

Test(period, formats_canonically) {
  char buf[TALLY_PERIOD_STRLEN];
  tally_period y = {2022, TALLY_PERIOD_YEAR, 0};
  tally_period q = {2022, TALLY_PERIOD_QUARTER, 3};
  tally_period m = {2022, TALLY_PERIOD_MONTH, 7};
  tally_period first = {1900, TALLY_PERIOD_MONTH, 1};

  cr_assert_str_eq(tally_period_format(&y, buf), "2022");
  cr_assert_str_eq(tally_period_format(&q, buf), "2022Q3");
  cr_assert_str_eq(tally_period_format(&m, buf), "2022-07");
  cr_assert_str_eq(tally_period_format(&first, buf), "1900-01");
  cr_assert_eq(tally_period_format(&y, buf), buf);
}

Test(period, format_and_parse_round_trip) {
  static const char *const texts[] = {"1900", "2999", "2022Q1", "2022Q4",
                                      "2022-01", "2022-10", "2022-12"};
  char buf[TALLY_PERIOD_STRLEN];
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    tally_period p = parse_ok(texts[i]);
    cr_expect_str_eq(tally_period_format(&p, buf), texts[i]);
  }
}

Test(period, key_layout) {
  /* year << 16 | kind << 8 | index:
   * 2022 << 16 = 132513792; 2022Q3 adds 1 << 8 | 3 = 259;
   * 2022-07 adds 2 << 8 | 7 = 519. */
  cr_assert_eq(key_of("2022"), 132513792u);
  cr_assert_eq(key_of("2022Q3"), 132514051u);
  cr_assert_eq(key_of("2022-07"), 132514311u);
}

Test(period, keys_order_year_then_quarters_then_months_then_next_year) {
  static const char *const ordered[] = {
      "2021-12", "2022",    "2022Q1",  "2022Q2",  "2022Q3",  "2022Q4",
      "2022-01", "2022-02", "2022-03", "2022-04", "2022-05", "2022-06",
      "2022-07", "2022-08", "2022-09", "2022-10", "2022-11", "2022-12",
      "2023"};
  for (size_t i = 1; i < sizeof ordered / sizeof ordered[0]; i++)
    cr_expect_lt(key_of(ordered[i - 1]), key_of(ordered[i]), "%s < %s",
                 ordered[i - 1], ordered[i]);
}

Test(period, from_key_round_trips) {
  static const char *const texts[] = {"1900", "2022", "2022Q1", "2022Q4",
                                      "2022-01", "2022-12", "2999-12"};
  char buf[TALLY_PERIOD_STRLEN];
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    tally_period p;
    cr_assert_eq(tally_period_from_key(key_of(texts[i]), &p), 0);
    cr_expect_str_eq(tally_period_format(&p, buf), texts[i]);
  }
}

Test(period, from_key_rejects_invalid_keys) {
  static const uint32_t bad[] = {
      0,                          /* year 0 */
      1899u << 16,                /* before the first year */
      3000u << 16,                /* after the last year */
      2022u << 16 | 1,            /* a year with an index */
      2022u << 16 | 1u << 8 | 0,  /* quarter 0 */
      2022u << 16 | 1u << 8 | 5,  /* quarter 5 */
      2022u << 16 | 2u << 8 | 0,  /* month 0 */
      2022u << 16 | 2u << 8 | 13, /* month 13 */
      2022u << 16 | 3u << 8 | 1,  /* no kind 3 */
      0xffffffffu,
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tally_period p = {1234, TALLY_PERIOD_YEAR, 0};
    cr_expect_eq(tally_period_from_key(bad[i], &p), TALLY_EPERIOD,
                 "key %#x should be rejected", bad[i]);
    cr_expect_eq(p.year, 1234);
  }
}

static long day_of(const char *s) {
  tally_period p = parse_ok(s);
  return tally_period_start_day(&p);
}

static void expect_prev(const char *from, const char *want) {
  char buf[TALLY_PERIOD_STRLEN];
  tally_period p = parse_ok(from), q;
  cr_assert_eq(tally_period_prev(&p, &q), 0, "prev of %s", from);
  cr_expect_str_eq(tally_period_format(&q, buf), want, "prev of %s", from);
}

Test(period, prev_within_a_year) {
  expect_prev("2022Q3", "2022Q2");
  expect_prev("2022Q2", "2022Q1");
  expect_prev("2022-07", "2022-06");
  expect_prev("2022-02", "2022-01");
}

Test(period, prev_across_the_year_boundary) {
  expect_prev("2022", "2021");
  expect_prev("2022Q1", "2021Q4");
  expect_prev("2022-01", "2021-12");
  expect_prev("1901", "1900");
  expect_prev("1901Q1", "1900Q4");
  expect_prev("1901-01", "1900-12");
}

Test(period, prev_before_the_first_year_is_an_error) {
  static const char *const first[] = {"1900", "1900Q1", "1900-01"};
  for (size_t i = 0; i < 3; i++) {
    tally_period p = parse_ok(first[i]), q = {1234, TALLY_PERIOD_YEAR, 0};
    cr_expect_eq(tally_period_prev(&p, &q), TALLY_EPERIOD, "%s", first[i]);
    cr_expect_eq(q.year, 1234);
  }
  expect_prev("1900Q2", "1900Q1");
  expect_prev("1900-02", "1900-01");
}

Test(period, start_day_of_known_dates) {
  /* 2022-01-01: 52 years after 1970 with 13 leap days (1972..2020):
   * 52 * 365 + 13 = 18993. 2022-07-01: + 31+28+31+30+31+30 = 181 ->
   * 19174. 2000-03-01: 30 * 365 + 7 (1972..1996) = 10957, + 31 + 29 =
   * 11017. 1900-01-01: 70 * 365 + 17 (1904..1968) = 25567 days before. */
  cr_assert_eq(day_of("1970"), 0);
  cr_assert_eq(day_of("1970-01"), 0);
  cr_assert_eq(day_of("1970-02"), 31);
  cr_assert_eq(day_of("2022"), 18993);
  cr_assert_eq(day_of("2022-07"), 19174);
  cr_assert_eq(day_of("2022Q3"), 19174);
  cr_assert_eq(day_of("2022Q1"), 18993);
  /* 2022Q4 starts on 2022-10-01: 19174 + 31 + 31 + 30 = 19266. */
  cr_assert_eq(day_of("2022Q4"), 19266);
  cr_assert_eq(day_of("2000-03"), 11017);
  cr_assert_eq(day_of("1900"), -25567);
}

/* The due dates of the national health statistics reporting system: 20
 * January of the next year, the 10th day after a quarter, the 20th of
 * the next month (days since 1970-01-01). */
Test(period, due_days) {
  static const struct {
    const char *period;
    long due;
  } cases[] = {
      {"2022", 19377},    /* 2023-01-20 */
      {"2022Q3", 19275},  /* 2022-10-10 */
      {"2022Q4", 19367},  /* 2023-01-10 */
      {"2022-07", 19224}, /* 2022-08-20 */
      {"2022-12", 19377}, /* 2023-01-20 */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tally_period p;
    cr_assert_eq(tally_period_parse(cases[i].period, &p), 0);
    cr_expect_eq(tally_period_due_day(&p, 1, 20, 10, 20), cases[i].due, "%s",
                 cases[i].period);
  }
}
