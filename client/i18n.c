/* i18n.c: where tally's translations are; see i18n.h. */
#include "i18n.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void tally_i18n_init(void) {
  char exe[2048], dir[2100];
  struct stat st;
  setlocale(LC_MESSAGES, "");
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0)
    return;
  exe[len] = 0;
  char *slash = strrchr(exe, '/');
  if (slash == NULL)
    return;
  *slash = 0;
  snprintf(dir, sizeof dir, "%s/locale", exe);
  if (stat(dir, &st) != 0)
    snprintf(dir, sizeof dir, "%s/../share/locale", exe);
  bindtextdomain("tally", dir);
  bind_textdomain_codeset("tally", "UTF-8");
  textdomain("tally");
}
