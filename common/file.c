/* file.c: reading a whole file into memory. */
#include "file.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

#define FIRST_SIZE 65536

/* tally_file_read_stream, the buffer first of size bytes (0: of
 * FIRST_SIZE), doubled while more comes. */
static int read_sized(FILE *f, size_t size, char **buf, size_t *len) {
  char *b = NULL;
  size_t n = 0, cap = 0, got;

  *buf = NULL;
  *len = 0;
  do {
    if (cap - n < 2) { /* room for a byte more and the NUL */
      char *grown = realloc(b, cap = cap ? cap * 2 : size ? size : FIRST_SIZE);
      if (grown == NULL) {
        free(b);
        return -ENOMEM;
      }
      b = grown;
    }
    got = fread(b + n, 1, cap - n - 1, f);
    n += got;
  } while (got > 0);
  if (ferror(f)) {
    free(b);
    return -EIO;
  }
  b[n] = 0;
  *buf = b;
  *len = n;
  return 0;
}

int tally_file_read_stream(FILE *f, char **buf, size_t *len) {
  return read_sized(f, 0, buf, len);
}

int tally_file_read(const char *path, char **buf, size_t *len) {
  FILE *f = fopen(path, "rb");
  struct stat st;
  int rc;
  if (f == NULL) {
    *buf = NULL;
    *len = 0;
    return -errno;
  }
  /* A file's buffer of its size at once, with room for the NUL and a
   * byte more to see its end: not grown and copied through every
   * power of two (a province's import file is 135 MB). */
  size_t size = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
                        st.st_size > 0 && (uint64_t)st.st_size < SIZE_MAX - 2
                    ? (size_t)st.st_size + 2
                    : 0;
  rc = read_sized(f, size, buf, len);
  fclose(f);
  return rc;
}

int tally_file_readable(const char *path) {
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return -errno;
  fclose(f);
  return 0;
}

const char *tally_file_strerror(int rc) {
  return rc == -ENOMEM ? "out of memory"
         : rc == -EIO  ? "read error"
                       : strerror(-rc);
}

int tally_file_copy(const char *path, FILE *out) {
  FILE *in = fopen(path, "rb");
  char buf[65536];
  size_t n;
  if (in == NULL)
    return -1;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, out) != n)
      break;
  int bad = ferror(in) || ferror(out) || fflush(out) != 0;
  int e = errno;
  fclose(in);
  errno = e;
  return bad ? -2 : 0;
}
