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

/* A file of n bytes of letters at a new temporary path (into path). */
static void letters(char *path, size_t n) {
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  char *want = malloc(n);
  for (size_t i = 0; i < n; i++)
    want[i] = (char)('a' + i % 26);
  cr_assert_eq(write(fd, want, n), (ssize_t)n);
  close(fd);
  free(want);
}

Test(file, a_file_is_mapped_whole) {
  char path[] = "/tmp/tally-test-file-XXXXXX";
  size_t n = 3 * 4096; /* ends at a page's end: nothing after it to read */
  letters(path, n);
  const char *got;
  size_t len;
  cr_assert_eq(tally_file_map(path, &got, &len), 0);
  cr_assert_eq(len, n);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(got[i], (char)('a' + i % 26));
  tally_file_unmap(got, len);
  unlink(path);
}

Test(file, what_is_not_a_regular_file_with_bytes_is_not_mapped) {
  const char *got = "untouched";
  size_t len = 1;
  cr_assert_eq(tally_file_map("/nonexistent/tally", &got, &len), -ENOENT);
  cr_assert_eq(tally_file_map("/dev/null", &got, &len), -ENODEV);
  cr_assert_eq(tally_file_map("/tmp", &got, &len), -ENODEV);
  char path[] = "/tmp/tally-test-file-XXXXXX";
  letters(path, 0);
  cr_assert_eq(tally_file_map(path, &got, &len), -ENODEV);
  cr_assert_null(got);
  cr_assert_eq(len, 0);
  unlink(path);
}

/* Cut short under the mapping by another program: the process says so
 * and exits 1, where it would die of SIGBUS. */
Test(file, a_mapped_file_cut_short_ends_the_process_with_words,
     .exit_code = 1) {
  char path[] = "/tmp/tally-test-file-XXXXXX";
  letters(path, 4 * 4096);
  const char *got;
  size_t len;
  cr_assert_eq(tally_file_map(path, &got, &len), 0);
  cr_assert_eq(truncate(path, 10), 0);
  unlink(path);
  volatile char last = got[len - 1]; /* past the end now */
  (void)last;
  cr_assert_fail("read past the end of a file cut short");
}
