/* secretscan.c: whether secrets outlive their use, loaded into tally with
 * LD_PRELOAD.
 *
 * At exit, after main has returned and freed what it frees (a library
 * preloaded ends last), it reads the secrets, one a line of
 * TALLY_TEST_SECRET_FILE, and looks for each 16 bytes running of each in
 * the process's writable memory: heap (freed blocks too), stack, data and
 * anonymous maps. It writes to TALLY_TEST_SECRET_REPORT one line a
 * secret, in order: how many places hold some of it. Its own copy of the
 * secrets is left out; nothing it reads with goes through stdio.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WINDOW 16
#define MAX_SECRETS 8

static char secrets[4096];
static char maps[1 << 20];

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_ASAN __attribute__((no_sanitize_address))
#endif
#endif
#if !defined(NO_ASAN) && defined(__SANITIZE_ADDRESS__)
#define NO_ASAN __attribute__((no_sanitize_address))
#endif
#ifndef NO_ASAN
#define NO_ASAN
#endif

/* Reads fd whole into buf (n bytes, NUL-ended). Returns the length. */
static size_t read_all(int fd, char *buf, size_t n) {
  size_t len = 0;
  ssize_t r;
  while (len + 1 < n && (r = read(fd, buf + len, n - len - 1)) > 0)
    len += (size_t)r;
  buf[len] = 0;
  return len;
}

/* How many places of [from, to) hold some WINDOW bytes of s (len); starts
 * marks the bytes a window of s begins with. Not instrumented: freed
 * memory is what it reads. */
NO_ASAN static unsigned places(const unsigned char *from,
                               const unsigned char *to, const char *s,
                               size_t len, const unsigned char *starts) {
  unsigned n = 0;
  for (const unsigned char *p = from; p + WINDOW <= to; p++) {
    if (!starts[*p] || (p >= (const unsigned char *)secrets &&
                        p < (const unsigned char *)secrets + sizeof secrets))
      continue;
    for (size_t k = 0; k + WINDOW <= len; k++) {
      size_t i = 0;
      while (i < WINDOW && p[i] == (unsigned char)s[k + i])
        i++;
      if (i == WINDOW) {
        n++;
        p += WINDOW - 1;
        break;
      }
    }
  }
  return n;
}

__attribute__((destructor)) static void scan(void) {
  const char *file = getenv("TALLY_TEST_SECRET_FILE"),
             *report = getenv("TALLY_TEST_SECRET_REPORT");
  if (file == NULL || report == NULL)
    return;
  int fd = open(file, O_RDONLY);
  if (fd < 0)
    return;
  read_all(fd, secrets, sizeof secrets);
  close(fd);
  if ((fd = open("/proc/self/maps", O_RDONLY)) < 0)
    return;
  read_all(fd, maps, sizeof maps);
  close(fd);

  const char *secret[MAX_SECRETS];
  size_t len[MAX_SECRETS], n = 0;
  unsigned found[MAX_SECRETS] = {0};
  for (char *line = secrets; *line && n < MAX_SECRETS;) {
    char *end = line + strcspn(line, "\n");
    secret[n] = line;
    len[n++] = (size_t)(end - line);
    if (*end == 0)
      break;
    line = end + 1;
  }
  static unsigned char starts[MAX_SECRETS][256];
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k + WINDOW <= len[i]; k++)
      starts[i][(unsigned char)secret[i][k]] = 1;
  for (char *line = maps; *line;) {
    char *end = line + strcspn(line, "\n"), was = *end;
    unsigned long from, to;
    char perms[8];
    *end = 0;
    if (sscanf(line, "%lx-%lx %7s", &from, &to, perms) == 3 &&
        perms[0] == 'r' && perms[1] == 'w' && !strstr(line, "[vvar") &&
        !strstr(line, "[vsyscall]") && to - from <= (256ul << 20))
      for (size_t i = 0; i < n; i++)
        found[i] += places((const unsigned char *)from,
                           (const unsigned char *)to, secret[i], len[i],
                           starts[i]);
    if (was == 0)
      break;
    line = end + 1;
  }
  if ((fd = open(report, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
    return;
  for (size_t i = 0; i < n; i++) {
    char text[32];
    int m = snprintf(text, sizeof text, "%u\n", found[i]);
    if (write(fd, text, (size_t)m) != m)
      break;
  }
  close(fd);
}
