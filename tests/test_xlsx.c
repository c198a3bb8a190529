/* test_xlsx.c: the cells of a workbook's first sheet (client/xlsx.h), as
 * Excel, WPS and LibreOffice write them, and what is refused: not a zip,
 * a sheet or shared string missing, a DTD, a reference off the sheet. */
#include "error.h"
#include "figfile.h"
#include "file.h"
#include "fixture.h"
#include "xlsx.h"
#include "zipfile.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256];
static char path[300];

static void setup(void) {
  tally_test_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/book.xlsx", dir);
}
static void teardown(void) { tally_test_rmtree(dir); }

TestSuite(xlsx, .init = setup, .fini = teardown);

/* The workbook at path, parsed; rc returned, err filled. */
static int parse(tally_xlsx_sheet *sh, char *err, size_t n) {
  char *buf;
  size_t len;
  cr_assert_eq(tally_file_read(path, &buf, &len), 0);
  int rc = tally_xlsx_parse("book.xlsx", buf, len, sh, err, n);
  free(buf);
  return rc;
}

Test(xlsx, shared_inline_and_number_cells) {
  tally_test_workbook(
      path,
      "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\"><v>1255</v></c>"
      "</row><row r=\"3\"><c r=\"A3\" t=\"inlineStr\"><is><t>in</t></is></c>"
      "<c r=\"C3\"><v>0.1</v></c><c r=\"D3\" t=\"str\"><f>A1</f><v>f</v></c>"
      "<c r=\"E3\" t=\"s\"><v>1</v></c></row>",
      "<si><t>活产数</t></si><si><r><t>rich </t></r><r><rPr><b/></rPr><t>"
      "text</t></r><rPh><t>ignored</t></rPh></si>");
  tally_xlsx_sheet sh;
  char err[512];
  cr_assert_eq(parse(&sh, err, sizeof err), 0, "%s", err);
  cr_assert_str_eq(sh.name, "S");
  cr_assert_eq(sh.n, 2);
  cr_assert_eq(sh.rows[0].row, 1);
  cr_assert_str_eq(tally_xlsx_at(&sh.rows[0], 0)->text, "活产数");
  const tally_xlsx_cell *b1 = tally_xlsx_at(&sh.rows[0], 1);
  cr_assert(b1->is_number);
  cr_assert_eq(b1->number, 1255);
  cr_assert_eq(sh.rows[1].row, 3);
  cr_assert_str_eq(tally_xlsx_at(&sh.rows[1], 0)->text, "in");
  cr_assert_null(tally_xlsx_at(&sh.rows[1], 1));
  cr_assert_eq(tally_xlsx_at(&sh.rows[1], 2)->number, 0.1);
  cr_assert_str_eq(tally_xlsx_at(&sh.rows[1], 3)->text, "f");
  cr_assert_not(tally_xlsx_at(&sh.rows[1], 3)->is_number);
  cr_assert_str_eq(tally_xlsx_at(&sh.rows[1], 4)->text, "rich text");
  tally_xlsx_free(&sh);
}

Test(xlsx, cells_without_references_follow_one_another) {
  tally_test_workbook(path,
                      "<row><c t=\"inlineStr\"><is><t>a</t></is></c><c><v>2</v>"
                      "</c></row><row><c r=\"C2\"><v>3</v></c><c><v>4</v></c>"
                      "</row>",
                      NULL);
  tally_xlsx_sheet sh;
  char err[512];
  cr_assert_eq(parse(&sh, err, sizeof err), 0, "%s", err);
  cr_assert_eq(sh.n, 2);
  cr_assert_eq(sh.rows[0].row, 1);
  cr_assert_eq(tally_xlsx_at(&sh.rows[0], 1)->number, 2);
  cr_assert_eq(sh.rows[1].row, 2);
  cr_assert_eq(tally_xlsx_at(&sh.rows[1], 3)->number, 4);
  tally_xlsx_free(&sh);
}

Test(xlsx, numbers_keep_every_digit) {
  tally_test_workbook(path,
                      "<row r=\"1\"><c r=\"A1\"><v>12.300000000000001</v></c>"
                      "<c r=\"B1\"><v>1E+20</v></c><c r=\"C1\"><v>-0</v></c>"
                      "</row>", NULL);
  tally_xlsx_sheet sh;
  char err[512];
  cr_assert_eq(parse(&sh, err, sizeof err), 0, "%s", err);
  cr_assert_eq(tally_xlsx_at(&sh.rows[0], 0)->number, 12.300000000000001);
  cr_assert_eq(tally_xlsx_at(&sh.rows[0], 1)->number, 1e20);
  tally_xlsx_free(&sh);
}

static void expect_refused(const char *want) {
  tally_xlsx_sheet sh;
  char err[512] = "";
  cr_assert_eq(parse(&sh, err, sizeof err), TALLY_ECSV, "%s", err);
  cr_expect(strstr(err, "book.xlsx: ") == err, "%s", err);
  cr_expect(strstr(err, want), "'%s' is not in: %s", want, err);
  cr_assert_null(sh.rows);
}

Test(xlsx, a_shared_string_it_does_not_have) {
  tally_test_workbook(path, "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>7</v></c>"
                      "</row>", "<si><t>x</t></si>");
  expect_refused("cell A1 names shared string '7'");
}

/* A few bytes of XML a string: a small file asking for millions of
 * them is refused, not read into memory. */
Test(xlsx, too_many_shared_strings) {
  size_t n = TALLY_XLSX_STRINGS_MAX + 1;
  char *many = malloc(n * 5 + 1), *p = many;
  cr_assert_not_null(many);
  for (size_t i = 0; i < n; i++, p += 5)
    memcpy(p, "<si/>", 5);
  *p = 0;
  tally_test_workbook(path, "<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>",
                      many);
  free(many);
  expect_refused("shared strings are over 1048576");
}

Test(xlsx, a_reference_off_the_sheet) {
  tally_test_workbook(path, "<row r=\"1\"><c r=\"XFE1\"><v>1</v></c></row>",
                      NULL);
  expect_refused("reference 'XFE1'");
}

Test(xlsx, a_dtd_is_refused) {
  tally_test_workbook(path, "<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>",
                      NULL);
  tally_test_zip_replace(path, "xl/worksheets/sheet1.xml",
                         "<?xml version=\"1.0\"?>",
                         "<?xml version=\"1.0\"?><!DOCTYPE worksheet [<!ENTITY"
                         " a \"aaaaaaaa\">]>");
  expect_refused("declares a DTD");
}

Test(xlsx, xml_that_does_not_parse) {
  tally_test_workbook(path, "<row r=\"1\"><c r=\"A1\"><v>1</v></row>", NULL);
  expect_refused("not well-formed XML");
}

Test(xlsx, a_number_cell_of_words) {
  tally_test_workbook(path, "<row r=\"1\"><c r=\"A1\"><v>12abc</v></c></row>",
                      NULL);
  expect_refused("cell A1 is a number cell holding '12abc'");
}

Test(xlsx, not_a_zip) {
  tally_test_write_file(path, "PK\x03\x04 but nothing more");
  expect_refused("zip archive");
}

Test(xlsx, no_workbook_in_the_zip) {
  tally_test_part parts[] = {{"hello.txt", "hi"}};
  tally_test_zip_write(path, parts, 1);
  expect_refused("not a workbook: xl/workbook.xml is missing");
}

Test(xlsx, the_sheet_is_missing) {
  tally_test_workbook(path, "", NULL);
  tally_test_zip_replace(path, "xl/_rels/workbook.xml.rels",
                         "worksheets/sheet1.xml", "worksheets/gone.xml");
  expect_refused("first sheet (xl/worksheets/gone.xml) is missing");
}

Test(xlsx, a_target_from_the_root) {
  tally_test_workbook(path, "<row r=\"2\"><c r=\"B2\"><v>5</v></c></row>",
                      NULL);
  tally_test_zip_replace(path, "xl/_rels/workbook.xml.rels",
                         "Target=\"worksheets/sheet1.xml\"",
                         "Target=\"/xl/worksheets/sheet1.xml\"");
  tally_xlsx_sheet sh;
  char err[512];
  cr_assert_eq(parse(&sh, err, sizeof err), 0, "%s", err);
  cr_assert_eq(tally_xlsx_at(&sh.rows[0], 1)->number, 5);
  tally_xlsx_free(&sh);
}

Test(xlsx, refs) {
  char b[16];
  cr_assert_str_eq(tally_xlsx_ref(1, 0, b, sizeof b), "A1");
  cr_assert_str_eq(tally_xlsx_ref(7, 25, b, sizeof b), "Z7");
  cr_assert_str_eq(tally_xlsx_ref(7, 26, b, sizeof b), "AA7");
  cr_assert_str_eq(tally_xlsx_ref(9, 16383, b, sizeof b), "XFD9");
}

/* The figures of a sheet, as tally submit reads them. */
Test(xlsx, figures_of_a_sheet) {
  tally_test_workbook(
      path,
      "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1"
      "</v></c></row><row r=\"2\"><c r=\"A2\" t=\"s\"><v>2</v></c><c r=\"B2\">"
      "<v>2022</v></c></row><row r=\"4\"><c r=\"A4\" t=\"s\"><v>3</v></c>"
      "<c r=\"B4\" t=\"s\"><v>4</v></c><c r=\"C4\" t=\"s\"><v>5</v></c></row>"
      "<row r=\"5\"><c r=\"A5\" t=\"s\"><v>6</v></c><c r=\"B5\">x</c><c r=\"C5\">"
      "<v>1255</v></c></row><row r=\"6\"><c r=\"A6\" t=\"s\"><v>7</v></c><c "
      "r=\"C6\" t=\"inlineStr\"><is><t>1,204</t></is></c></row><row r=\"7\"><c "
      "r=\"A7\" t=\"s\"><v>8</v></c></row>",
      "<si><t>单位 unit</t></si><si><t>wenchang</t></si><si><t>期间</t></si>"
      "<si><t>代码 code</t></si><si><t>名称</t></si><si><t>数值 value (2022)"
      "</t></si><si><t>live_births</t></si><si><t>deaths</t></si>"
      "<si><t>population</t></si>");
  char *buf = NULL, err[512];
  size_t len;
  cr_assert_eq(tally_file_read(path, &buf, &len), 0);
  tally_xlsx_sheet sh;
  cr_assert_eq(tally_xlsx_parse(path, buf, len, &sh, err, sizeof err), 0, "%s",
               err);
  free(buf);
  tally_figfile figs;
  cr_assert_eq(tally_figfile_from_sheet("book.xlsx", &sh, &figs, err,
                                        sizeof err), 0, "%s", err);
  tally_xlsx_free(&sh);
  cr_assert_str_eq(figs.form_unit, "wenchang");
  cr_assert_str_eq(figs.form_period, "2022");
  cr_assert_eq(figs.n, 2);
  cr_assert_str_eq(figs.items[0].element, "live_births");
  cr_assert_eq(figs.items[0].value, 1255);
  cr_assert_eq(figs.items[0].line, 5);
  cr_assert_eq(figs.items[1].value, 1204);
  cr_assert_eq(figs.items[1].line, 6);
  cr_assert_eq(figs.blank, 1);
  cr_assert_eq(figs.first_blank, 7);
  cr_assert_str_eq(figs.line_word, "row");
  tally_figfile_release(&figs);
}

Test(xlsx, a_sheet_value_refused_names_its_row) {
  tally_test_workbook(path,
                      "<row r=\"3\"><c r=\"A3\" t=\"inlineStr\"><is><t>"
                      "live_births</t></is></c><c r=\"B3\" t=\"inlineStr\"><is>"
                      "<t>12%</t></is></c></row>", NULL);
  char *buf = NULL, err[512];
  size_t len;
  cr_assert_eq(tally_file_read(path, &buf, &len), 0);
  tally_xlsx_sheet sh;
  cr_assert_eq(tally_xlsx_parse(path, buf, len, &sh, err, sizeof err), 0, "%s",
               err);
  free(buf);
  tally_figfile figs;
  cr_assert_eq(tally_figfile_from_sheet("book.xlsx", &sh, &figs, err,
                                        sizeof err), TALLY_ECSV);
  tally_xlsx_free(&sh);
  cr_expect(strstr(err, "book.xlsx row 3: value '12%' is not a number: a "
                        "percentage"), "%s", err);
}
