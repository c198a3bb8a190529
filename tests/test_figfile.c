/* test_figfile.c: a unit's figures read from CSV text. */
#include "error.h"
#include "figfile.h"
#include "utf8.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tally_figfile list;
static char err[512];

static int parse(const char *text) {
  err[0] = 0;
  return tally_figfile_parse("f.csv", text, strlen(text), &list, err,
                             sizeof err);
}

static void parse_ok(const char *text) {
  int rc = parse(text);
  cr_assert_eq(rc, 0, "%s", err);
}

/* The parse failed with exactly this message and left an empty list. */
static void expect_error(const char *text, const char *message) {
  int rc = parse(text);
  cr_assert_eq(rc, TALLY_ECSV, "rc %d for text '%s'", rc, text);
  cr_assert_str_eq(err, message);
  cr_assert_eq(list.n, 0);
  cr_assert_null(list.items);
}

/* The same, with a message that begins so. */
static void expect_error_start(const char *text, const char *start) {
  int rc = parse(text);
  cr_assert_eq(rc, TALLY_ECSV, "rc %d for text '%s'", rc, text);
  cr_assert(strncmp(err, start, strlen(start)) == 0, "'%s' does not begin "
            "'%s'", err, start);
  cr_assert_eq(list.n, 0);
}

static void expect_figure(size_t i, const char *element, double value,
                          int line) {
  cr_assert_gt(list.n, i);
  cr_expect_str_eq(list.items[i].element, element, "figure %zu", i);
  cr_expect_eq(list.items[i].value, value, "figure %zu", i);
  cr_expect_eq(list.items[i].line, line, "figure %zu", i);
}

static void fini(void) { tally_figfile_release(&list); }

TestSuite(figfile, .fini = fini);

Test(figfile, plain_rows) {
  parse_ok("live_births,412\ninfant_deaths,1\nphysicians,2.5\n");
  cr_assert_eq(list.n, 3);
  expect_figure(0, "live_births", 412, 1);
  expect_figure(1, "infant_deaths", 1, 2);
  expect_figure(2, "physicians", 2.5, 3);
  cr_assert_eq(list.blank, 0);
  cr_assert_eq(list.first_blank, 0);
}

Test(figfile, last_row_without_newline) {
  parse_ok("live_births,412\ninfant_deaths,1");
  cr_assert_eq(list.n, 2);
  expect_figure(1, "infant_deaths", 1, 2);
}

Test(figfile, header_row) {
  parse_ok("data_element,value\nlive_births,412\n");
  cr_assert_eq(list.n, 1);
  expect_figure(0, "live_births", 412, 2);
}

Test(figfile, header_in_any_case) {
  parse_ok("Data_Element,VALUE\nlive_births,412\n");
  cr_assert_eq(list.n, 1);
  expect_figure(0, "live_births", 412, 2);
}

Test(figfile, header_after_the_first_figure_is_an_error) {
  expect_error("live_births,412\ndata_element,value\n",
               "f.csv line 2: value 'value' is not a number");
}

Test(figfile, byte_order_mark) {
  parse_ok("\xef\xbb\xbf" "data_element,value\nlive_births,412\n");
  cr_assert_eq(list.n, 1);
  expect_figure(0, "live_births", 412, 2);
}

Test(figfile, byte_order_mark_before_a_figure) {
  parse_ok("\xef\xbb\xbflive_births,412\n");
  expect_figure(0, "live_births", 412, 1);
}

Test(figfile, crlf_line_endings) {
  parse_ok("data_element,value\r\nlive_births,412\r\ninfant_deaths,1\r\n");
  cr_assert_eq(list.n, 2);
  expect_figure(0, "live_births", 412, 2);
  expect_figure(1, "infant_deaths", 1, 3);
}

/* Lines that end in CR alone (an old Mac's), comments among them. */
Test(figfile, cr_line_endings_with_comments) {
  parse_ok("data_element,value\r# a \"quoted\" note\rlive_births,412\r"
           "infant_deaths,1\r");
  cr_assert_eq(list.n, 2);
  expect_figure(0, "live_births", 412, 3);
  expect_figure(1, "infant_deaths", 1, 4);
}

Test(figfile, comments) {
  parse_ok("# Wenchang, 2022\nlive_births,412\n#infant_deaths,1\n"
           "  # indented, with, commas\ninfant_deaths,2\n");
  cr_assert_eq(list.n, 2);
  expect_figure(0, "live_births", 412, 2);
  expect_figure(1, "infant_deaths", 2, 5);
}

Test(figfile, blank_lines) {
  parse_ok("\nlive_births,412\n\n   \n\r\ninfant_deaths,1\n\n");
  cr_assert_eq(list.n, 2);
  expect_figure(0, "live_births", 412, 2);
  expect_figure(1, "infant_deaths", 1, 6);
}

Test(figfile, blanks_around_fields_are_trimmed) {
  parse_ok(" live_births , 412 \n");
  expect_figure(0, "live_births", 412, 1);
}

Test(figfile, empty_values_are_skipped_and_counted) {
  parse_ok("data_element,value\n"
           "live_births,412\n"
           "infant_deaths,\n"
           "under5_deaths,  \n"
           "maternal_deaths,0\n"
           "physicians,\"\"\n");
  cr_assert_eq(list.n, 2);
  expect_figure(0, "live_births", 412, 2);
  expect_figure(1, "maternal_deaths", 0, 5);
  cr_assert_eq(list.blank, 3);
  cr_assert_eq(list.first_blank, 3);
}

Test(figfile, quoted_fields) {
  parse_ok("\"live_births\",\"412\"\n\"odd, \"\"name\"\"\",\"1.5\"\n");
  cr_assert_eq(list.n, 2);
  expect_figure(0, "live_births", 412, 1);
  expect_figure(1, "odd, \"name\"", 1.5, 2);
}

Test(figfile, wrong_number_of_fields) {
  expect_error("live_births,412,1\n",
               "f.csv line 1: expected 2 fields (data_element,value), "
               "found 3");
}

Test(figfile, one_field_only) {
  expect_error("live_births,412\nlive_births\n",
               "f.csv line 2: expected 2 fields (data_element,value), "
               "found 1");
}

Test(figfile, line_number_after_comments_and_blank_lines) {
  /* Lines: 1 header, 2 comment, 3 blank, 4 figure, 5 blank, 6 the bad
   * row. */
  expect_error("data_element,value\n# note\n\nlive_births,412\n\n"
               "infant_deaths,1,2\n",
               "f.csv line 6: expected 2 fields (data_element,value), "
               "found 3");
}

Test(figfile, line_number_after_crlf_lines) {
  expect_error("live_births,412\r\n\r\n# c\r\ninfant_deaths,1,2\r\n",
               "f.csv line 4: expected 2 fields (data_element,value), "
               "found 3");
}

Test(figfile, line_number_after_a_quoted_field_on_two_lines) {
  /* The first row spans lines 1 and 2; the bad row is line 3. */
  expect_error("\"live\nbirths\",412\ninfant_deaths,1,2\n",
               "f.csv line 3: expected 2 fields (data_element,value), "
               "found 3");
}

Test(figfile, figure_on_two_lines_is_on_its_first_line) {
  /* A quoted element holding a line break: the row starts on line 2. */
  expect_error("live_births,412\n\"bad\nname\",1,2\n",
               "f.csv line 2: expected 2 fields (data_element,value), "
               "found 3");
}

Test(figfile, figure_line_of_a_row_on_two_lines) {
  parse_ok("live_births,412\n\"two\nlines\",7\nphysicians,3\n");
  cr_assert_eq(list.n, 3);
  expect_figure(1, "two\nlines", 7, 2);
  expect_figure(2, "physicians", 3, 4);
}

Test(figfile, value_not_a_number) {
  static const char *const bad[] = {"0x10", "inf", "nan", "-inf", "1e",
                                    "1.2.3", "--1", "abc", "12 3"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[64], want[128];
    snprintf(text, sizeof text, "live_births,1\nx,%s\n", bad[i]);
    snprintf(want, sizeof want, "f.csv line 2: value '%s' is not a number",
             bad[i]);
    expect_error(text, want);
  }
}

/* As Excel writes a number with its thousands separators (quoted, so
 * that the comma stays in the field); a comma that does not group three
 * digits is no separator. Unquoted, 1,000 is three fields. */
Test(figfile, value_with_a_thousands_separator) {
  parse_ok("x,\"1,000\"\ny,\"12,345,678.5\"\nz,\"+1,255\"\n");
  expect_figure(0, "x", 1000, 1);
  expect_figure(1, "y", 12345678.5, 2);
  expect_figure(2, "z", 1255, 3);
  static const char *const bad[] = {"1,00",  "1000,000", ",100",  "1,000.5,5",
                                    "1,,000", "1,000,",   "0,123", "00,123"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[64], want[128];
    snprintf(text, sizeof text, "x,\"%s\"\n", bad[i]);
    snprintf(want, sizeof want, "f.csv line 1: value '%s' is not a number",
             bad[i]);
    expect_error(text, want);
  }
  expect_error("x,1,000\n", "f.csv line 1: expected 2 fields "
                            "(data_element,value), found 3; a number with a "
                            "thousands separator is quoted: \"1,255\"");
}

/* Full-width digits, as a Chinese input method types them. */
Test(figfile, full_width_digits) {
  parse_ok("x,\xef\xbc\x91\xef\xbc\x92\xef\xbc\x95\xef\xbc\x95\n"
           "y,\xef\xbc\x91\xef\xbc\x8e\xef\xbc\x95\n");
  expect_figure(0, "x", 1255, 1);
  expect_figure(1, "y", 1.5, 2);
}

/* A percentage or a unit after the number: refused, saying why. */
Test(figfile, a_rate_or_a_unit_is_refused_in_words) {
  expect_error_start("x,12.5%\n", "f.csv line 1: value '12.5%' is not a number: a "
                            "percentage; figures are counts and amounts, "
                            "never rates");
  expect_error_start("x,12\xef\xbc\x85\n", "f.csv line 1: value '12\xef\xbc\x85' is "
                                     "not a number: a percentage");
  expect_error_start("x,1255\xe4\xba\xba\n", "f.csv line 1: value '1255\xe4\xba\xba' "
                                       "is not a number: write the number "
                                       "alone, without its unit");
  expect_error_start("x,1255 persons\n", "f.csv line 1: value '1255 "
                     "persons' is not a number: write the number alone");
  expect_error("x,12 3\n", "f.csv line 1: value '12 3' is not a number");
}

/* Excel adds empty columns after the last one that holds something. */
Test(figfile, empty_trailing_columns_are_ignored) {
  parse_ok("data_element,value,,\nlive_births,1255,,\ninfant_deaths,3, ,\n");
  expect_figure(0, "live_births", 1255, 2);
  expect_figure(1, "infant_deaths", 3, 3);
  expect_error("live_births,1255,x\n", "f.csv line 1: expected 2 fields "
                                       "(data_element,value), found 3");
}

/* A header in Chinese, as an office writes one. */
Test(figfile, a_chinese_header_row) {
  parse_ok("\xe6\x95\xb0\xe6\x8d\xae\xe5\x85\x83\xe7\xb4\xa0,"
           "\xe6\x95\xb0\xe5\x80\xbc\nlive_births,412\n");
  expect_figure(0, "live_births", 412, 2);
  parse_ok("\xe6\x8c\x87\xe6\xa0\x87,\xe6\x95\xb0\xe5\x80\xbc\nx,1\n");
  expect_figure(0, "x", 1, 2);
}

Test(figfile, empty_value_alone_is_no_figures) {
  expect_error("x,\n", "f.csv: no figures in the file (every value is empty)");
}

Test(figfile, empty_element) {
  expect_error("live_births,1\n,5\n", "f.csv line 2: the data element is empty");
}

/* 长清 and 活产数 in GBK, as Excel saves a CSV on Chinese Windows: read
 * as GB18030, the element's name comes out in UTF-8. Told it is UTF-8,
 * the same file is refused at its line. */
Test(figfile, gbk_as_excel_saves_it) {
  static const char gbk[] = "live_births,1\n# \xb3\xa4\xc7\xe5\n"
                            "\xbb\xee\xb2\xfa\xca\xfd,2\n";
  parse_ok(gbk);
  expect_figure(0, "live_births", 1, 1);
  expect_figure(1, "\xe6\xb4\xbb\xe4\xba\xa7\xe6\x95\xb0", 2, 3);
  tally_figfile_release(&list);
  cr_assert_eq(tally_figfile_parse_as("f.csv", gbk, strlen(gbk), "utf-8",
                                      &list, err, sizeof err),
               TALLY_ECSV);
  cr_expect_str_eq(err, "f.csv line 2: not valid UTF-8 (save the file as "
                        "UTF-8, or give --encoding gb18030)");
  cr_assert_eq(tally_figfile_parse_as("f.csv", gbk, strlen(gbk), "gbk", &list,
                                      err, sizeof err), 0, "%s", err);
  tally_figfile_release(&list);
  cr_assert_eq(tally_figfile_parse_as("f.csv", gbk, strlen(gbk), "latin1",
                                      &list, err, sizeof err), TALLY_EUSAGE);
  cr_expect(strstr(err, "unknown encoding 'latin1'"), "%s", err);
}

/* A UTF-8 file with one stray byte is not GBK: read as GB18030, its
 * Chinese would be stored garbled. 第七次人口普查 in UTF-8 and a Latin-1
 * é on line 1. */
Test(figfile, utf8_with_a_stray_byte_is_not_gbk) {
  expect_error("# caf\xe9\nexplain:infant_deaths,\xe7\xac\xac\xe4\xb8\x83"
               "\xe6\xac\xa1\xe4\xba\xba\xe5\x8f\xa3\xe6\x99\xae\xe6\x9f\xa5\n"
               "live_births,1\n",
               "f.csv line 1: not valid UTF-8, though the rest of the file "
               "is: mend that line (or, if the file is GBK, give --encoding "
               "gb18030)");
}

/* Each form of bad UTF-8 is found, at its line, when the file is said
 * to be UTF-8; bytes that are no GB18030 either are refused as such. */
Test(figfile, invalid_utf8_forms) {
  static const char *const bad[] = {
      "\xc0\xaf",         /* overlong '/' */
      "\xe0\x80\xaf",     /* overlong, three bytes */
      "\xed\xa0\x80",     /* a surrogate */
      "\xf4\x90\x80\x80", /* over U+10FFFF */
      "\xe9\x95",         /* cut short */
      "\xff",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[64];
    snprintf(text, sizeof text, "a,1\nb,2\nc%s,3\n", bad[i]);
    cr_assert_eq(tally_figfile_parse_as("f.csv", text, strlen(text), "utf-8",
                                        &list, err, sizeof err),
                 TALLY_ECSV);
    cr_expect_str_eq(err, "f.csv line 3: not valid UTF-8 (save the file as "
                          "UTF-8, or give --encoding gb18030)");
  }
  expect_error("a,1\nb,2\nc\xff,3\n", "f.csv line 3: neither UTF-8 nor "
               "GB18030 (GBK): save the file as UTF-8, or as Excel's CSV");
}

/* The UTF-8 helpers the server's messages use: a character cut by
 * snprintf is dropped whole; invisible and bidi characters are not for
 * showing. */
Test(figfile, utf8_trim_and_invisible_characters) {
  char cut[16] = "ab\xe5\xa9"; /* 婴 is e5 a9 b4: its last byte cut off */
  tally_utf8_trim(cut);
  cr_assert_str_eq(cut, "ab");
  strcpy(cut, "ab\xe5\xa9\xb4");
  tally_utf8_trim(cut);
  cr_assert_str_eq(cut, "ab\xe5\xa9\xb4");
  static const char *const hidden[] = {"\xe2\x80\x8b", "\xe2\x80\x8f",
                                       "\xe2\x80\xae", "\xe2\x80\xa8",
                                       "\xe2\x81\xa6", "\xef\xbb\xbf",
                                       "\xc2\x85", "\x1b"};
  for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
    const unsigned char *h = (const unsigned char *)hidden[i];
    size_t k = tally_utf8_char(h, strlen(hidden[i]));
    cr_assert(k > 0 && tally_utf8_is_control(h, k), "character %zu", i);
  }
  const unsigned char *ok = (const unsigned char *)"\xe5\xa9\xb4";
  cr_assert_not(tally_utf8_is_control(ok, 3));
  const unsigned char *zwj = (const unsigned char *)"\xe2\x80\x8d";
  cr_assert_not(tally_utf8_is_control(zwj, 3));
  const unsigned char *alm = (const unsigned char *)"\xd8\x9c";
  cr_assert(tally_utf8_is_control(alm, 2));
}

Test(figfile, valid_utf8_is_accepted) {
  parse_ok("# 长清区 2022\nlive_births,412\n");
  expect_figure(0, "live_births", 412, 2);
}

Test(figfile, unterminated_quote) {
  expect_error("live_births,412\ninfant_deaths,\"1\n",
               "f.csv line 2: a quoted field is not closed: a '\"' is "
               "missing");
}

Test(figfile, unterminated_quote_in_the_first_field) {
  expect_error("live_births,412\n\"infant_deaths,1\nx,2\n",
               "f.csv line 2: a quoted field is not closed: a '\"' is "
               "missing");
}

Test(figfile, stray_quote) {
  expect_error("live_births,412\ninfant\"deaths,1\n",
               "f.csv line 2: a quote in the wrong place: a field with '\"' "
               "in it is quoted whole, its own quotes doubled "
               "(\"say \"\"hi\"\"\")");
}

/* Only a line that starts with '#' is a comment; a quoted field that
 * does is data (the server then says it is no data element). */
Test(figfile, a_quoted_hash_is_not_a_comment) {
  parse_ok("\"#live_births\",7\n");
  expect_figure(0, "#live_births", 7, 1);
}

Test(figfile, negative_value) {
  expect_error("live_births,412\ninfant_deaths,-1\n",
               "f.csv line 2: value '-1' is negative; figures are never "
               "negative");
}

Test(figfile, a_first_row_that_is_not_the_header) {
  expect_error("item,amount\nlive_births,412\n",
               "f.csv line 1: value 'amount' is not a number (a header row, "
               "if this is one, reads data_element,value)");
  /* 名称,金额: words, but not the header's. */
  expect_error("\xe5\x90\x8d\xe7\xa7\xb0,"
               "\xe9\x87\x91\xe9\xa2\x9d\nlive_births,412\n",
               "f.csv line 1: value '\xe9\x87\x91\xe9\xa2\x9d' is not a "
               "number (a header row, if this is one, reads "
               "data_element,value)");
}

Test(figfile, separators_that_are_not_commas) {
  expect_error("live_births\xef\xbc\x8c" "412\n",
               "f.csv line 1: expected 2 fields (data_element,value), found "
               "1; the full-width comma '\xef\xbc\x8c' is not a separator: "
               "use ','");
  expect_error("live_births\t412\n",
               "f.csv line 1: expected 2 fields (data_element,value), found "
               "1; separate with a comma, not a tab");
  expect_error("live_births;412\n",
               "f.csv line 1: expected 2 fields (data_element,value), found "
               "1; separate with a comma, not ';'");
  expect_error("live_births 412\n",
               "f.csv line 1: expected 2 fields (data_element,value), found "
               "1");
}

Test(figfile, empty_file) {
  expect_error("", "f.csv: no figures in the file");
}

Test(figfile, only_comments_and_header) {
  expect_error("\xef\xbb\xbf" "data_element,value\n# nothing yet\n\n",
               "f.csv: no figures in the file");
}

static char *repeat(char c, size_t n) {
  char *s = malloc(n + 1);
  memset(s, c, n);
  s[n] = 0;
  return s;
}

Test(figfile, field_of_255_characters) {
  char *name = repeat('e', 255), text[300];
  snprintf(text, sizeof text, "%s,1\n", name);
  parse_ok(text);
  cr_assert_eq(list.n, 1);
  cr_assert_str_eq(list.items[0].element, name);
  free(name);
}

Test(figfile, field_over_255_characters) {
  char *name = repeat('e', 256), text[300];
  snprintf(text, sizeof text, "live_births,1\n%s,1\n", name);
  expect_error(text, "f.csv line 2: a field is longer than 255 characters");
  free(name);
}

Test(figfile, long_comment_is_still_a_comment) {
  char *words = repeat('w', 300), text[400];
  snprintf(text, sizeof text, "# %s\nlive_births,1\n", words);
  parse_ok(text);
  expect_figure(0, "live_births", 1, 2);
  free(words);
}

Test(figfile, number_accepts) {
  static const struct { const char *s; double v; } ok[] = {
      {"0", 0},   {"412", 412}, {"-3", -3},     {"+4.5", 4.5}, {"1e3", 1000},
      {"1E3", 1000}, {"2.5e-1", 0.25}, {"1e+2", 100}, {".5", 0.5},
      {"5.", 5},  {"-.25", -0.25}, {"007", 7}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    double v = -99;
    cr_expect_eq(tally_figfile_number(ok[i].s, &v), 0, "'%s'", ok[i].s);
    cr_expect_eq(v, ok[i].v, "'%s'", ok[i].s);
  }
}

Test(figfile, number_rejects) {
  static const char *const bad[] = {
      "", "+", "-", ".", "+.", "e3", ".e3", "1e", "1e+", "1.2.3", "0x10",
      "0X1A", "inf", "INF", "nan", "NaN", "infinity", "1,000", "1 000",
      " 1", "1 ", "12abc", "1e3x", "--1", "+-1", "1e999",
      "\xef\xbc\x91\xef\xbc\x92", /* "１２" */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    double v = -99;
    cr_expect_eq(tally_figfile_number(bad[i], &v), TALLY_EVALUE, "'%s'", bad[i]);
  }
}

/* A comment may hold quotes (the form writes English names such as
 * "Four new" into them): it never reaches the CSV parser. */
Test(figfile, comments_with_quotes) {
  parse_ok("# “四新” / \"Four new\" economy\nfour_new,3\n"
           "  # an \"indented\" one\nx,4\n");
  cr_assert_eq(list.n, 2);
  cr_assert_eq(list.items[0].line, 2);
  cr_assert_eq(list.items[1].line, 4);
}

/* A NUL byte would cut the figure short where C strings end. */
Test(figfile, a_nul_byte_is_refused) {
  static const char text[] = "live_births,100\ninfant_deaths,12\0003\n";
  cr_assert_eq(tally_figfile_parse("f.csv", text, sizeof text - 1, &list, err,
                                   sizeof err),
               TALLY_ECSV);
  cr_assert_str_eq(err, "f.csv line 2: holds a NUL byte: not a text file");
}

/* tally form's first row: whose form the file is, for which period; a
 * comment to other readers. Only the first counts. */
Test(figfile, a_form_row_names_its_unit_and_period) {
  parse_ok("#form, wenchang ,2022\nlive_births,412\n#form,guide,2021\n");
  cr_assert_str_eq(list.form_unit, "wenchang");
  cr_assert_str_eq(list.form_period, "2022");
  cr_assert_eq(list.form_line, 1);
  cr_assert_eq(list.n, 1);
  tally_figfile_release(&list);
  parse_ok("# tally form: a comment\nlive_births,412\n");
  cr_assert_eq(list.form_line, 0);
  cr_assert_str_eq(list.form_unit, "");
  tally_figfile_release(&list);
}

/* An explanation row: explain:RULE,TEXT, or 说明:RULE (either colon). */
Test(figfile, explanation_rows) {
  parse_ok("live_births,412\nexplain:midyear_population,普查后调整\n"
           "说明：physicians_population,\"医师多, 人口少\"\n");
  cr_assert_eq(list.n, 1);
  cr_assert_eq(list.n_explanations, 2);
  cr_assert_str_eq(list.explanations[0].rule, "midyear_population");
  cr_assert_str_eq(list.explanations[0].text, "普查后调整");
  cr_assert_eq(list.explanations[0].line, 2);
  cr_assert_str_eq(list.explanations[1].rule, "physicians_population");
  cr_assert_str_eq(list.explanations[1].text, "医师多, 人口少");
  tally_figfile_release(&list);
  expect_error("live_births,1\nexplain:r,a\nexplain:r,b\n",
               "f.csv line 3: rule r is explained twice (also line 2)");
  expect_error("live_births,1\nexplain:,a\n", "f.csv line 2: an explanation "
               "row reads explain:RULE,TEXT: the rule is missing");
}

/* Every problem of a file is told at once, each on its own line, in the
 * file's order; a syntax error, after which nothing can be read, last. */
Test(figfile, every_problem_is_told_at_once) {
  expect_error("live_births,x\n"
               "infant_deaths,2\n"
               ",5\n"
               "under5_deaths,-1\n",
               "f.csv line 1: value 'x' is not a number (a header row, if "
               "this is one, reads data_element,value)\n"
               "f.csv line 3: the data element is empty\n"
               "f.csv line 4: value '-1' is negative; figures are never "
               "negative");
  expect_error("live_births,x\n"
               "infant_deaths,\"2\n",
               "f.csv line 1: value 'x' is not a number (a header row, if "
               "this is one, reads data_element,value)\n"
               "f.csv line 2: a quoted field is not closed: a '\"' is missing");
}

/* More problems than the message holds: those it holds, and how many
 * more there are. */
Test(figfile, problems_past_the_message_are_counted) {
  char text[40 * 300] = "", small[300];
  for (int i = 1; i <= 300; i++)
    snprintf(text + strlen(text), sizeof text - strlen(text), "e%d,x%d\n",
             i, i);
  int rc = tally_figfile_parse("f.csv", text, strlen(text), &list, small,
                               sizeof small);
  cr_assert_eq(rc, TALLY_ECSV);
  cr_assert(strstr(small, "f.csv line 2: value 'x2' is not a number"), "%s",
            small);
  const char *more = strstr(small, "\n(and ");
  int hidden = 0;
  cr_assert(more && sscanf(more, "\n(and %d more problems)", &hidden) == 1,
            "%s", small);
  int shown = 0;
  for (const char *p = small; (p = strstr(p, "f.csv line ")); p++)
    shown++;
  cr_assert_eq(shown + hidden, 300, "%d shown, %d more: %s", shown, hidden,
               small);
  cr_assert_lt(strlen(small), sizeof small);
}

/* A message's text is whole UTF-8: a value or a file name cut to its
 * room is cut between characters, never inside one. */
Test(figfile, a_cut_value_or_name_is_cut_between_characters) {
  char text[256] = "infant_deaths,a", name[400] = "";
  for (int i = 0; i < 30; i++)
    strcat(text, "\xe5\xa9\xb4"); /* 婴: '%.60s' would cut the 20th */
  strcat(text, "\n");
  cr_assert_eq(parse(text), TALLY_ECSV);
  cr_assert_eq(tally_utf8_valid_prefix(err, strlen(err)), strlen(err),
               "%s", err);
  cr_assert(strstr(err, "f.csv line 1: value 'a\xe5\xa9\xb4"), "%s", err);
  cr_assert(strstr(err, "' is not a number"), "%s", err);
  for (int i = 0; i < 120; i++)
    strcat(name, "\xe5\xa9\xb4"); /* a name longer than its room */
  err[0] = 0;
  cr_assert_eq(tally_figfile_parse(name, "live_births,x\n", 14, &list, err,
                                   sizeof err), TALLY_ECSV);
  cr_assert_eq(tally_utf8_valid_prefix(err, strlen(err)), strlen(err),
               "%s", err);
  cr_assert(strstr(err, "value 'x' is not a number"), "%s", err);
}

/* Problems past the message, then a CSV error that ends the reading:
 * for every size of message, the count of those left out is there
 * whole, and with those shown it makes every problem. */
Test(figfile, the_count_of_problems_left_out_is_never_cut) {
  char text[2000] = "";
  int problems = 0;
  for (int i = 1; i <= 20; i++, problems++)
    snprintf(text + strlen(text), sizeof text - strlen(text), "e%d,x%d\n",
             i, i);
  strcat(text, "infant_deaths,\"2\n"); /* a quote not closed */
  problems++;
  for (size_t size = 100; size < 1200; size++) {
    char *small = malloc(size);
    cr_assert_not_null(small);
    cr_assert_eq(tally_figfile_parse("f.csv", text, strlen(text), &list,
                                     small, size), TALLY_ECSV);
    cr_assert_lt(strlen(small), size);
    int shown = 0, hidden = 0;
    for (const char *p = small; (p = strstr(p, "f.csv line ")); p++)
      shown++;
    const char *more = strstr(small, "(and ");
    if (more) {
      char end[32] = "";
      cr_assert(sscanf(more, "(and %d more problem%31s", &hidden, end) == 2 &&
                strcmp(end, "s)") == 0, "size %zu: %s", size, small);
    }
    cr_assert_eq(shown + hidden, problems, "size %zu: %d shown, %d more: %s",
                 size, shown, hidden, small);
    free(small);
  }
}
