/* durable.c: making a directory's entries survive a crash. */
#include "durable.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int tally_sync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = fsync(fd) == 0 ? 0 : -errno;
  close(fd);
  return rc;
}
