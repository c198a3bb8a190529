/* test_output.c: display widths, aligned tables with Chinese text, and
 * CSV output. */
#include "output.h"

#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void utf8_locale(void) {
  cr_assert_not_null(setlocale(LC_CTYPE, "C.UTF-8"));
}

TestSuite(output, .init = utf8_locale);

Test(output, width_of_ascii) {
  cr_assert_eq(tally_display_width(""), 0);
  cr_assert_eq(tally_display_width("abc"), 3);
  cr_assert_eq(tally_display_width("H02 <= 3.3 (2022)"), 17);
}

Test(output, width_of_chinese) {
  cr_assert_eq(tally_display_width("婴儿死亡率"), 10);
  cr_assert_eq(tally_display_width("长清区"), 6);
  /* Full-width parentheses take two columns as well. */
  cr_assert_eq(tally_display_width("（助理）"), 8);
}

Test(output, width_of_mixed_text) {
  cr_assert_eq(tally_display_width("H02 婴儿死亡率"), 14);
  cr_assert_eq(tally_display_width("5岁以下儿童死亡率"), 17);
  cr_assert_eq(tally_display_width("文昌街道 wenchang"), 17);
  /* e and a combining acute accent: one column. */
  cr_assert_eq(tally_display_width("e\xcc\x81"), 1);
  /* A byte that is not UTF-8 counts one column. */
  cr_assert_eq(tally_display_width("a\xff" "b"), 3);
}

/* Prints t with fn into a string (the caller frees it). */
static char *print(const tally_table *t, void (*fn)(const tally_table *, FILE *)) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  cr_assert_not_null(f);
  fn(t, f);
  cr_assert_eq(fclose(f), 0);
  return buf;
}

Test(output, table_aligns_chinese_text) {
  static const char *const headers[] = {"code", "name", "value"};
  static const int right[] = {0, 0, 1};
  static const char *const rows[][3] = {{"H02", "婴儿死亡率", "3.30"},
                                        {"P01", "常住人口", "59.55"},
                                        {"H03", "5岁以下儿童死亡率", "4.00"}};
  tally_table *t = tally_table_new(3, headers, right);
  cr_assert_not_null(t);
  for (size_t i = 0; i < 3; i++)
    cr_assert_eq(tally_table_add(t, rows[i]), 0);
  char *out = print(t, tally_table_print);

  /* Columns 4, 17 and 5 wide, two spaces apart: 4 + 2 + 17 + 2 + 5 = 30
   * columns on every line; the value column is right-aligned. */
  cr_assert_str_eq(out, "code  name               value\n"
                        "H02   婴儿死亡率          3.30\n"
                        "P01   常住人口           59.55\n"
                        "H03   5岁以下儿童死亡率   4.00\n");
  int lines = 0;
  for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
    cr_expect_eq(tally_display_width(line), 30, "line '%s'", line);
    lines++;
  }
  cr_assert_eq(lines, 4);
  free(out);
  tally_table_free(t);
}

Test(output, table_last_left_column_is_not_padded) {
  static const char *const headers[] = {"code", "name"};
  static const char *const r1[] = {"H02", "婴儿死亡率"};
  static const char *const r2[] = {"P01", NULL};
  tally_table *t = tally_table_new(2, headers, NULL);
  cr_assert_eq(tally_table_add(t, r1), 0);
  cr_assert_eq(tally_table_add(t, r2), 0);
  char *out = print(t, tally_table_print);
  cr_assert_str_eq(out, "code  name\n"
                        "H02   婴儿死亡率\n"
                        "P01   \n");
  free(out);
  tally_table_free(t);
}

Test(output, table_of_many_rows) {
  /* More rows than the first allocation (16) holds. */
  static const char *const headers[] = {"n"};
  static const int right[] = {1};
  tally_table *t = tally_table_new(1, headers, right);
  char cell[8];
  for (int i = 1; i <= 40; i++) {
    const char *row[] = {cell};
    snprintf(cell, sizeof cell, "%d", i);
    cr_assert_eq(tally_table_add(t, row), 0);
  }
  char *out = print(t, tally_table_print);
  /* Width 2: " n", " 1" ... " 9", "10" ... "40". */
  cr_assert_eq(strncmp(out, " n\n 1\n 2\n", 9), 0);
  cr_assert_eq(strcmp(out + strlen(out) - 6, "39\n40\n"), 0);
  cr_assert_eq(strlen(out), 41 * 3);
  free(out);
  tally_table_free(t);
}

Test(output, csv_quotes_commas_and_doubles_quotes) {
  static const char *const headers[] = {"code", "note"};
  static const char *const r1[] = {"a,b", "say \"hi\""};
  static const char *const r2[] = {"婴儿死亡率", NULL};
  tally_table *t = tally_table_new(2, headers, NULL);
  cr_assert_eq(tally_table_add(t, r1), 0);
  cr_assert_eq(tally_table_add(t, r2), 0);
  char *out = print(t, tally_table_print_csv);
  /* After the UTF-8 mark Excel needs, libcsv quotes every field; RFC
   * 4180 ends lines with CRLF. */
  cr_assert_str_eq(out, "\xef\xbb\xbf\"code\",\"note\"\r\n"
                        "\"a,b\",\"say \"\"hi\"\"\"\r\n"
                        "\"婴儿死亡率\",\"\"\r\n");
  free(out);
  tally_table_free(t);
}

Test(output, csv_keeps_line_breaks_inside_quotes) {
  static const char *const headers[] = {"note"};
  static const char *const r1[] = {"two\nlines"};
  tally_table *t = tally_table_new(1, headers, NULL);
  cr_assert_eq(tally_table_add(t, r1), 0);
  char *out = print(t, tally_table_print_csv);
  cr_assert_str_eq(out, "\xef\xbb\xbf\"note\"\r\n\"two\nlines\"\r\n");
  free(out);
  /* For programs, without the mark (tally --no-bom). */
  tally_output_bom(0);
  out = print(t, tally_table_print_csv);
  tally_output_bom(1);
  cr_assert_str_eq(out, "\"note\"\r\n\"two\nlines\"\r\n");
  free(out);
  tally_table_free(t);
}
