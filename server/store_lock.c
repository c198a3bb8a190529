/* store_lock.c: one process on a store at a time.
 *
 * The happy path: DIR/tallyd.pid is opened (made if missing), locked
 * with an open file description lock (F_OFD_SETLK) and given the pid.
 * The lock lasts as long as the descriptor, which the store keeps open
 * until it closes: for tallyd, the life of the process, however it
 * ends. The file itself stays behind; only its lock counts.
 * The failure modes: another process holds the lock: -EBUSY, and the
 * pid it wrote can be read (tally__store_holder). LMDB lets several
 * processes share a store, but each tallyd keeps its own list of
 * accounts: a token revoked through one would still be taken by the
 * other.
 */
#include "store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void lock_path(const char *dir, char *buf, size_t n) {
  snprintf(buf, n, "%s/tallyd.pid", dir);
}

int tally__store_lock(const char *dir) {
  char file[4096], pid[32];
  lock_path(dir, file, sizeof file);
  int fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return -errno;
  struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  if (fcntl(fd, F_OFD_SETLK, &l) != 0) {
    int rc = errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
    close(fd);
    return rc;
  }
  int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
    int rc = -errno;
    close(fd);
    return rc ? rc : -EIO;
  }
  return fd;
}

long tally__store_holder(const char *dir) {
  char file[4096], buf[32];
  lock_path(dir, file, sizeof file);
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t got = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (got <= 0)
    return 0;
  buf[got] = 0;
  return strtol(buf, NULL, 10);
}
