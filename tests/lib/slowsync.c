/* slowsync.c: a slow disk for tests, loaded into tallyd with LD_PRELOAD.
 *
 * fdatasync, fsync and msync sleep TALLY_TEST_SYNC_DELAY_MS milliseconds
 * (default 200), then do what they would have done: every commit of the
 * store then takes at least that long, as on a slow or busy disk.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static void delay(void) {
  const char *ms = getenv("TALLY_TEST_SYNC_DELAY_MS");
  long n = ms ? atol(ms) : 200;
  struct timespec t = {n / 1000, (n % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0)
    ;
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (real == NULL)
    real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  delay();
  return real(fd);
}

int fsync(int fd) {
  static int (*real)(int);
  if (real == NULL)
    real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  delay();
  return real(fd);
}

int msync(void *addr, size_t len, int flags) {
  static int (*real)(void *, size_t, int);
  if (real == NULL)
    real = (int (*)(void *, size_t, int))dlsym(RTLD_NEXT, "msync");
  if (flags & MS_SYNC)
    delay();
  return real(addr, len, flags);
}
