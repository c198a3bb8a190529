/* test_file.c: reading a whole file (common/file.c). */
#include "file.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

Test(file, a_file_is_read_whole_and_ends_in_a_nul) {
  char path[] = "/tmp/tally-test-file-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  /* More than the first buffer, so that it has to grow. */
  size_t n = 200000;
  char *want = malloc(n);
  for (size_t i = 0; i < n; i++)
    want[i] = (char)('a' + i % 26);
  cr_assert_eq(write(fd, want, n), (ssize_t)n);
  close(fd);

  char *got;
  size_t len;
  cr_assert_eq(tally_file_read(path, &got, &len), 0);
  cr_assert_eq(len, n);
  cr_assert_eq(memcmp(got, want, n), 0);
  cr_assert_eq(got[len], 0);
  cr_assert_eq(tally_file_readable(path), 0);
  free(got);
  free(want);
  unlink(path);
}

Test(file, a_missing_file_is_minus_enoent) {
  char *got = (char *)"untouched";
  size_t len = 1;
  cr_assert_eq(tally_file_read("/nonexistent/tally", &got, &len), -ENOENT);
  cr_assert_null(got);
  cr_assert_eq(len, 0);
  cr_assert_eq(tally_file_readable("/nonexistent/tally"), -ENOENT);
}
