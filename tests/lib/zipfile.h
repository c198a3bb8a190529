/* zipfile.h: zip archives for the tests of workbooks: made from parts
 * given as text, or one part of an existing archive edited. Failures
 * abort the test. */
#ifndef TALLY_TEST_ZIPFILE_H
#define TALLY_TEST_ZIPFILE_H

#include <stddef.h>

/* A part of an archive: its name and text. */
typedef struct {
  const char *name;
  const char *text;
} tally_test_part;

/* Writes an archive of n parts (deflated) to path. */
void tally_test_zip_write(const char *path, const tally_test_part *parts,
                          size_t n);

/* The text of part name in the archive at path (malloc'd), or NULL. */
char *tally_test_zip_read(const char *path, const char *name);

/* Replaces, in part name of the archive at path, the first occurrence
 * of from with to. Fails the test when from is not there. */
void tally_test_zip_replace(const char *path, const char *name,
                            const char *from, const char *to);

/* A minimal workbook of one sheet: the sheet's <sheetData> contents
 * (rows) and the shared strings' <si> elements (may be NULL), to path. */
void tally_test_workbook(const char *path, const char *rows,
                         const char *shared);

#endif
