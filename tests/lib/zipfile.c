/* zipfile.c: zip archives for the tests, with libzip. */
#include "zipfile.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

void tally_test_zip_write(const char *path, const tally_test_part *parts,
                          size_t n) {
  int err = 0;
  remove(path);
  zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
  cr_assert(z, "cannot make %s (libzip error %d)", path, err);
  for (size_t i = 0; i < n; i++) {
    zip_source_t *s = zip_source_buffer(z, parts[i].text,
                                        strlen(parts[i].text), 0);
    cr_assert(s && zip_file_add(z, parts[i].name, s, ZIP_FL_ENC_UTF_8) >= 0,
              "cannot add %s: %s", parts[i].name, zip_strerror(z));
  }
  cr_assert_eq(zip_close(z), 0, "cannot write %s: %s", path, zip_strerror(z));
}

char *tally_test_zip_read(const char *path, const char *name) {
  int err = 0;
  zip_t *z = zip_open(path, ZIP_RDONLY, &err);
  cr_assert(z, "cannot open %s (libzip error %d)", path, err);
  zip_stat_t st;
  if (zip_stat(z, name, 0, &st) != 0) {
    zip_discard(z);
    return NULL;
  }
  zip_file_t *f = zip_fopen(z, name, 0);
  cr_assert(f);
  char *buf = malloc(st.size + 1);
  cr_assert(buf);
  cr_assert_eq(zip_fread(f, buf, st.size), (zip_int64_t)st.size);
  buf[st.size] = 0;
  zip_fclose(f);
  zip_discard(z);
  return buf;
}

void tally_test_zip_replace(const char *path, const char *name,
                            const char *from, const char *to) {
  char *text = tally_test_zip_read(path, name);
  cr_assert(text, "%s has no part %s", path, name);
  char *at = strstr(text, from);
  cr_assert(at, "part %s of %s does not hold '%s'", name, path, from);
  size_t head = (size_t)(at - text), n = strlen(text) - strlen(from) +
                                         strlen(to);
  char *edited = malloc(n + 1);
  cr_assert(edited);
  memcpy(edited, text, head);
  strcpy(edited + head, to);
  strcat(edited, at + strlen(from));
  free(text);
  int err = 0;
  zip_t *z = zip_open(path, 0, &err);
  cr_assert(z);
  zip_int64_t i = zip_name_locate(z, name, 0);
  zip_source_t *s = zip_source_buffer(z, edited, strlen(edited), 1);
  cr_assert(s && i >= 0 && zip_file_replace(z, (zip_uint64_t)i, s, 0) == 0,
            "cannot replace %s: %s", name, zip_strerror(z));
  cr_assert_eq(zip_close(z), 0, "cannot write %s: %s", path, zip_strerror(z));
}

void tally_test_workbook(const char *path, const char *rows,
                         const char *shared) {
  static const char rels[] =
      "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas."
      "openxmlformats.org/package/2006/relationships\"><Relationship "
      "Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
      "2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/>"
      "</Relationships>";
  static const char workbook[] =
      "<?xml version=\"1.0\"?><workbook xmlns=\"http://schemas.openxmlformats"
      ".org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats"
      ".org/officeDocument/2006/relationships\"><sheets><sheet name=\"S\" "
      "sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
  static const char wb_rels[] =
      "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas."
      "openxmlformats.org/package/2006/relationships\"><Relationship "
      "Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/"
      "2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
      "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/"
      "officeDocument/2006/relationships/sharedStrings\" "
      "Target=\"sharedStrings.xml\"/></Relationships>";
  char *sheet, *sst;
  cr_assert(asprintf(&sheet, "<?xml version=\"1.0\"?><worksheet xmlns=\"http:"
                     "//schemas.openxmlformats.org/spreadsheetml/2006/main\">"
                     "<sheetData>%s</sheetData></worksheet>", rows) > 0);
  cr_assert(asprintf(&sst, "<?xml version=\"1.0\"?><sst xmlns=\"http://"
                     "schemas.openxmlformats.org/spreadsheetml/2006/main\">"
                     "%s</sst>", shared ? shared : "") > 0);
  tally_test_part parts[] = {{"_rels/.rels", rels},
                             {"xl/workbook.xml", workbook},
                             {"xl/_rels/workbook.xml.rels", wb_rels},
                             {"xl/worksheets/sheet1.xml", sheet},
                             {"xl/sharedStrings.xml", sst}};
  tally_test_zip_write(path, parts, shared ? 5 : 4);
  free(sheet);
  free(sst);
}
