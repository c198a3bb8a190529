/* fuzz_settings.c: tallyd's config file reader (server/settings.h).
 *
 * The input is the file's text, read through libinih. Whatever it is,
 * the reading either succeeds, or fails with "FILE:LINE: problem" whose
 * line is within the input; and a setting set is within its bounds.
 */
#include "settings.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "fuzz_settings: %s:%d: check failed: %s\n", __FILE__,   \
              __LINE__, #cond);                                               \
      abort();                                                                \
    }                                                                         \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[] = "/tmp/fuzz-settings-XXXXXX", err[1024];
  int fd = mkstemp(path);
  if (fd < 0)
    return 0;
  if (write(fd, data, size) != (ssize_t)size) {
    close(fd);
    unlink(path);
    return 0;
  }
  close(fd);
  tally_settings o;
  tally_settings_init(&o);
  int rc = tally_settings_read(&o, path, err, sizeof err);
  unlink(path);
  if (rc != 0) {
    CHECK(rc == -EINVAL || rc == -ENOMEM);
    size_t n = strlen(path);
    CHECK(strncmp(err, path, n) == 0 && err[n] == ':');
    long line = strtol(err + n + 1, NULL, 10);
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
      lines += data[i] == '\n';
    CHECK(line >= 1 && (size_t)line <= lines);
  }
  CHECK(o.max_frame >= 64 && o.max_frame <= (256u << 20));
  CHECK(o.cert_warn_days >= 1 && o.cert_warn_days <= 3650);
  CHECK(o.insecure_plaintext == 0 || o.insecure_plaintext == 1);
  CHECK(o.listen.n >= 1 && o.listen.n <= TALLY_SETTINGS_LISTEN_MAX &&
        o.http.n <= TALLY_SETTINGS_LISTEN_MAX && o.log_format != NULL);
  for (size_t i = 0; i < o.listen.n; i++)
    CHECK(o.listen.at[i] != NULL);
  for (size_t i = 0; i < o.http.n; i++)
    CHECK(o.http.at[i] != NULL);
  tally_settings_free(&o);
  return 0;
}
