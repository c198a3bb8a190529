/* failmeta.c: a disk that fails one write, loaded into tallyd with
 * LD_PRELOAD.
 *
 * Once the file named by TALLY_TEST_FAIL_META exists, the next pwrite
 * of a meta page (a small write within the first two pages of a file,
 * which is how LMDB ends each commit) fails with EIO; every write before
 * and after it goes through, as on a disk with one bad moment.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off) {
  static ssize_t (*real)(int, const void *, size_t, off_t);
  static int failed;
  if (real == NULL)
    real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT,
                                                                "pwrite");
  const char *trigger = getenv("TALLY_TEST_FAIL_META");
  if (!failed && trigger && off < 8192 && len < 1024 &&
      access(trigger, F_OK) == 0) {
    failed = 1;
    errno = EIO;
    return -1;
  }
  return real(fd, buf, len, off);
}
