/* file.c: reading a whole file into memory, or mapping it. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* The file mapped now: what to say should it be cut short (SIGBUS), and
 * the handler that was there before. */
static char cut_short[600];
static size_t cut_short_len;
static struct sigaction bus_before;

static void on_bus(int sig) {
  (void)sig;
  ssize_t w = write(STDERR_FILENO, cut_short, cut_short_len);
  (void)w;
  _exit(1);
}

int tally_file_map(const char *path, const char **data, size_t *len) {
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC), e;
  *data = NULL;
  *len = 0;
  if (fd < 0)
    return -errno;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
      (uint64_t)st.st_size > SIZE_MAX) {
    close(fd);
    return -ENODEV;
  }
  void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  e = errno;
  close(fd); /* the mapping keeps the file */
  if (m == MAP_FAILED)
    return e == ENOMEM ? -ENOMEM : -ENODEV;
  int n = snprintf(cut_short, sizeof cut_short,
                   "%s was cut short while it was read: nothing was stored\n",
                   path);
  cut_short_len = n > 0 && (size_t)n < sizeof cut_short ? (size_t)n
                                                        : strlen(cut_short);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_bus;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, &bus_before);
  madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
  *data = m;
  *len = (size_t)st.st_size;
  return 0;
}

void tally_file_unmap(const char *data, size_t len) {
  if (data == NULL)
    return;
  munmap((void *)data, len);
  sigaction(SIGBUS, &bus_before, NULL);
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
