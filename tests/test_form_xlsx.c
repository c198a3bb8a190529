/* test_form_xlsx.c: the form as a workbook (client/form_xlsx.c), through
 * the real tally and tallyd: written with last year's figures, its
 * checks and its locks; filled in and sent back with tally submit, as
 * tally wrote it and as LibreOffice (headless) opened and saved it
 * again. */
#include "error.h"
#include "file.h"
#include "fixture.h"
#include "xlsx.h"
#include "zipfile.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static tally_test_server srv;
static char files[256];

static void setup(void) { tally_test_cli_start(&srv, files, sizeof files); }
static void teardown(void) { tally_test_cli_stop(&srv, files); }

TestSuite(form_xlsx, .init = setup, .fini = teardown, .timeout = 240);

static void expect_in(const char *text, const char *want) {
  cr_expect(text && strstr(text, want), "'%s' is not in:\n%s", want, text);
}

static const char *in_files(const char *name) {
  static char paths[4][512];
  static int k;
  char *p = paths[k++ % 4];
  snprintf(p, 512, "%s/%s", files, name);
  return p;
}

/* The first sheet of the workbook at path. */
static void read_sheet(const char *path, tally_xlsx_sheet *sh) {
  char *buf, err[512];
  size_t len;
  cr_assert_eq(tally_file_read(path, &buf, &len), 0, "%s", path);
  cr_assert_eq(tally_xlsx_parse(path, buf, len, sh, err, sizeof err), 0, "%s",
               err);
  free(buf);
}

static const tally_xlsx_row *row_of(const tally_xlsx_sheet *sh, int row) {
  for (size_t i = 0; i < sh->n; i++)
    if (sh->rows[i].row == row)
      return &sh->rows[i];
  cr_assert_fail("the sheet has no row %d", row);
  return NULL;
}

static const char *text_at(const tally_xlsx_sheet *sh, int row, int col) {
  const tally_xlsx_cell *c = tally_xlsx_at(row_of(sh, row), col);
  return c ? c->text : "";
}

/* The copy of path LibreOffice saves (opened and saved again as xlsx),
 * in its own folder. */
static const char *through_libreoffice(const char *path) {
  static char out[600];
  char outdir[512], profile[600], *o = NULL, *e = NULL;
  const char *soffice = NULL;
  static const char *const where[] = {"/usr/bin/soffice",
                                      "/usr/lib/libreoffice/program/soffice",
                                      "/usr/local/bin/soffice"};
  for (size_t i = 0; i < 3 && !soffice; i++)
    if (access(where[i], X_OK) == 0)
      soffice = where[i];
  cr_assert(soffice, "LibreOffice is not installed (deploy/deps.sh --test "
            "installs libreoffice-calc-nogui)");
  snprintf(outdir, sizeof outdir, "%s/lo", files);
  snprintf(profile, sizeof profile,
           "-env:UserInstallation=file://%s/lo-profile", files);
  int rc = tally_test_exec(soffice,
                           (const char *const[]){profile, "--headless",
                                                 "--convert-to", "xlsx",
                                                 "--outdir", outdir, path,
                                                 NULL},
                           NULL, &o, &e);
  cr_assert_eq(rc, 0, "soffice failed: %s\n%s", o, e);
  const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  snprintf(out, sizeof out, "%s/%s", outdir, base);
  cr_assert_eq(access(out, R_OK), 0, "soffice made no %s: %s\n%s", out, o, e);
  free(o);
  free(e);
  return out;
}

Test(form_xlsx, written_filled_in_and_read_back) {
  char *out = NULL, *err = NULL;
  const char *last = in_files("2021.csv");
  tally_test_write_file(last, "live_births,812\ninfant_deaths,3\n");
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(&out, &err, "submit", "--unit", "wenchang", "--period",
                   "2021", "--file", last), 0, "%s", err);
  free(out);
  free(err);

  const char *form = in_files("form.xlsx");
  cr_assert_eq(RUN(&out, &err, "form", "--unit", "wenchang", "--period",
                   "2022", "--format", "xlsx", "--output", form), 0, "%s",
               err);
  free(out);
  free(err);

  /* What the office sees: the unit and period, the names, last year's. */
  tally_xlsx_sheet sh;
  read_sheet(form, &sh);
  cr_assert_str_eq(sh.name, "填报表");
  cr_assert_str_eq(text_at(&sh, 2, 0), "单位 unit");
  cr_assert_str_eq(text_at(&sh, 2, 1), "wenchang");
  cr_assert_str_eq(text_at(&sh, 2, 2), "文昌街道");
  cr_assert_str_eq(text_at(&sh, 3, 1), "2022");
  cr_assert_str_eq(text_at(&sh, 6, 4), "上年 last year (2021)");
  cr_assert_str_eq(text_at(&sh, 7, 0), "live_births");
  cr_assert_str_eq(text_at(&sh, 7, 1), "活产数");
  cr_assert_str_eq(text_at(&sh, 7, 2), "Live births");
  cr_assert_str_eq(text_at(&sh, 7, 3), "人 persons");
  const tally_xlsx_cell *was = tally_xlsx_at(row_of(&sh, 7), 4);
  cr_assert(was && was->is_number && was->number == 812);
  cr_assert_str_eq(text_at(&sh, 8, 0), "infant_deaths");
  cr_assert_eq(tally_xlsx_at(row_of(&sh, 8), 4)->number, 3);
  tally_xlsx_free(&sh);

  /* Its checks and its locks: whole numbers >= 0 in the input cells, the
   * sheet protected. */
  char *xml = tally_test_zip_read(form, "xl/worksheets/sheet1.xml");
  cr_assert(xml);
  expect_in(xml, "<sheetProtection");
  expect_in(xml, "<dataValidation type=\"whole\" operator=\"greaterThanOrEqual\""
                 " allowBlank=\"1\" showInputMessage=\"1\" showErrorMessage=\"1\""
                 " errorTitle=\"数值不对 / Not allowed\" error=\"不小于0的整数 / a "
                 "whole number, 0 or more\" sqref=\"F7\"><formula1>0</formula1>");
  expect_in(xml, "sqref=\"F8\"><formula1>0</formula1>");
  expect_in(xml, "<c r=\"F7\" s=\"6\"/>");
  free(xml);
  char *styles = tally_test_zip_read(form, "xl/styles.xml");
  expect_in(styles, "<protection locked=\"0\"/>");
  free(styles);

  /* Filled in as Excel writes a number, and as text typed with a
   * thousands separator. */
  tally_test_zip_replace(form, "xl/worksheets/sheet1.xml",
                         "<c r=\"F7\" s=\"6\"/>",
                         "<c r=\"F7\" s=\"6\"><v>1830</v></c>");
  tally_test_zip_replace(form, "xl/worksheets/sheet1.xml",
                         "<c r=\"F8\" s=\"6\"/>",
                         "<c r=\"F8\" s=\"6\" t=\"inlineStr\"><is><t>2</t></is>"
                         "</c>");
  cr_assert_eq(RUN(&out, &err, "submit", "--unit", "wenchang", "--period",
                   "2022", "--file", form), 0, "%s", err);
  expect_in(out, "wenchang 2022: 2 values stored from ");
  expect_in(out, "rows with an empty value skipped (first on row 9)");
  free(out);
  free(err);
  cr_assert_eq(RUN(&out, &err, "values", "--unit", "wenchang", "--period",
                   "2022", "--format", "csv"), 0, "%s", err);
  expect_in(out, "\"live_births\",\"1830\",\"活产数\"");
  expect_in(out, "\"infant_deaths\",\"2\",");
  free(out);
  free(err);

  /* For another period: refused, naming the cell's row. */
  cr_assert_eq(RUN(&out, &err, "submit", "--unit", "wenchang", "--period",
                   "2023", "--file", form), 1);
  expect_in(err, "form.xlsx row 2: this is the form of wenchang for 2022");
  free(out);
  free(err);

  /* As LibreOffice saves it: shared strings for the text, its own
   * styles; a correction made before it is saved goes through. */
  tally_test_zip_replace(form, "xl/worksheets/sheet1.xml", "<v>1830</v>",
                         "<v>1841</v>");
  const char *lo = through_libreoffice(form);
  char *lo_xml = tally_test_zip_read(lo, "xl/worksheets/sheet1.xml");
  cr_assert(lo_xml);
  cr_expect(strstr(lo_xml, "t=\"inlineStr\"") == NULL,
            "LibreOffice kept the inline string: the test reads nothing new");
  expect_in(lo_xml, "<c r=\"F7\" s=");
  free(lo_xml);
  cr_assert_eq(RUN(&out, &err, "submit", "--unit", "wenchang", "--period",
                   "2022", "--file", lo), 0, "%s", err);
  expect_in(out, "2 values stored from ");
  expect_in(out, "(0 new, 1 replaced, 1 unchanged)");
  free(out);
  free(err);
  cr_assert_eq(RUN(&out, &err, "values", "--unit", "wenchang", "--period",
                   "2022", "--format", "csv"), 0, "%s", err);
  expect_in(out, "\"live_births\",\"1841\",\"活产数\"");
  free(out);
  free(err);
}

Test(form_xlsx, a_bad_figure_in_a_workbook_names_its_row) {
  char *out = NULL, *err = NULL;
  const char *form = in_files("form.xlsx");
  tally_test_sign_in(&srv, "reporter", "wenchang");
  cr_assert_eq(RUN(&out, &err, "form", "--unit", "wenchang", "--period",
                   "2022", "--format", "xlsx", "-o", form), 0, "%s", err);
  free(out);
  free(err);
  tally_test_zip_replace(form, "xl/worksheets/sheet1.xml",
                         "<c r=\"F8\" s=\"6\"/>",
                         "<c r=\"F8\" s=\"6\"><v>2.5</v></c>");
  cr_assert_eq(RUN(&out, &err, "submit", "--unit", "wenchang", "--period",
                   "2022", "--file", form), 1);
  expect_in(err, "form.xlsx row 8: ");
  expect_in(err, "whole number");
  expect_in(err, "nothing is pending");
  free(out);
  free(err);
}

Test(form_xlsx, not_to_a_terminal_and_only_known_formats) {
  char *out = NULL, *err = NULL;
  cr_assert_eq(RUN(&out, &err, "form", "--unit", "wenchang", "--period",
                   "2022", "--format", "ods"), 2);
  expect_in(err, "--format is csv or xlsx, not 'ods'");
  free(out);
  free(err);
  /* To standard output (a file here), the same workbook. */
  cr_assert_eq(RUN(&out, &err, "form", "--unit", "wenchang", "--period",
                   "2022", "--format", "xlsx"), 0, "%s", err);
  cr_assert(out && strncmp(out, "PK\x03\x04", 4) == 0);
  free(out);
  free(err);
}
