/* report_pdf.c: headless Chromium prints the report's HTML to PDF. The
 * happy path: chromium --headless --print-to-pdf=PDF file://HTML, with a
 * profile of its own in a temporary directory, exits 0 and leaves a PDF.
 * The failure modes: no browser on the path (the caller says how to
 * install one), a browser that cannot start, exits non-zero, leaves no
 * PDF or takes longer than the timeout (it is killed): each is an error
 * with the end of what the browser wrote on stderr. The page is our
 * own file, with no script and nothing it fetches; Chromium's sandbox
 * is off (--no-sandbox) because it cannot run as root, or in many
 * containers, with it. */
#include "report_pdf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* name found in $PATH (or name itself, when it holds a slash). */
static int on_path(const char *name, char *buf, size_t n) {
  if (strchr(name, '/')) {
    snprintf(buf, n, "%s", name);
    return access(buf, X_OK) == 0 ? 0 : -1;
  }
  const char *path = getenv("PATH");
  if (path == NULL || *path == 0)
    path = "/usr/local/bin:/usr/bin:/bin";
  while (*path) {
    size_t len = strcspn(path, ":");
    snprintf(buf, n, "%.*s/%s", (int)len, path, name);
    if (len && access(buf, X_OK) == 0)
      return 0;
    path += len + (path[len] == ':');
  }
  return -1;
}

int tally_report_pdf_browser(char *buf, size_t n) {
  static const char *const names[] = {"chromium", "chromium-browser",
                                      "google-chrome"};
  const char *own = getenv("TALLY_CHROMIUM");
  if (own && *own)
    return on_path(own, buf, n);
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (on_path(names[i], buf, n) == 0)
      return 0;
  return -1;
}

/* The last line or two of the file at path (what the browser said). */
static void tail_of(const char *path, char *out, size_t n) {
  char buf[4096];
  out[0] = 0;
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return;
  if (fseek(f, 0, SEEK_END) == 0) {
    long end = ftell(f);
    fseek(f, end > (long)sizeof buf - 1 ? end - (long)sizeof buf + 1 : 0,
          SEEK_SET);
  }
  size_t len = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[len] = 0;
  while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
    buf[--len] = 0;
  char *start = buf + len;
  for (int lines = 0; start > buf && lines < 2; start--)
    if (start[-1] == '\n' && ++lines == 2)
      break;
  size_t keep = strlen(start) < n ? strlen(start) : n - 1;
  memcpy(out, start, keep);
  out[keep] = 0;
}

/* Removes a directory holding files and directories (the browser's
 * profile): best effort, through rm, which knows the trees it makes. */
static void remove_tree(const char *dir) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
    }
    execlp("rm", "rm", "-rf", "--", dir, (char *)NULL);
    _exit(127);
  }
  if (pid > 0)
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
}

int tally_report_pdf_print(const char *browser, const char *html,
                           const char *pdf, int timeout_s, char *err,
                           size_t n) {
  const char *tmp = getenv("TMPDIR");
  char dir[4096], profile[4200], log[4200], print[4200], url[4200], said[512];
  int rc = -1;

  snprintf(dir, sizeof dir, "%s/tally-chromium-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) {
    snprintf(err, n, "cannot make a directory for Chromium: %s",
             strerror(errno));
    return -1;
  }
  snprintf(profile, sizeof profile, "--user-data-dir=%s/profile", dir);
  snprintf(log, sizeof log, "%s/stderr", dir);
  snprintf(print, sizeof print, "--print-to-pdf=%s", pdf);
  snprintf(url, sizeof url, "file://%s", html);
  unlink(pdf);

  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, n, "cannot start %s: %s", browser, strerror(errno));
    goto out;
  }
  if (pid == 0) {
    int out = open("/dev/null", O_WRONLY);
    int e = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out >= 0)
      dup2(out, STDOUT_FILENO);
    if (e >= 0)
      dup2(e, STDERR_FILENO);
    setpgid(0, 0); /* its helpers too, for a kill on timeout */
    execl(browser, browser, "--headless", "--no-sandbox", "--disable-gpu",
          "--no-first-run", "--disable-extensions", "--disable-sync",
          "--no-pdf-header-footer", "--disable-background-networking",
          profile, print, url, (char *)NULL);
    _exit(127);
  }
  int status = 0;
  struct timespec nap = {0, 50 * 1000 * 1000};
  for (long waited = 0;; waited += 50) {
    pid_t got = waitpid(pid, &status, WNOHANG);
    if (got == pid)
      break;
    if (got < 0 && errno != EINTR) {
      snprintf(err, n, "lost %s: %s", browser, strerror(errno));
      goto out;
    }
    if (waited >= (long)timeout_s * 1000) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
      snprintf(err, n, "%s did not print the PDF within %d s", browser,
               timeout_s);
      goto out;
    }
    nanosleep(&nap, NULL);
  }
  struct stat st;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && stat(pdf, &st) == 0 &&
      st.st_size > 0) {
    rc = 0;
    goto out;
  }
  tail_of(log, said, sizeof said);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !*said)
    snprintf(said, sizeof said, "it could not be run");
  snprintf(err, n, "%s made no PDF (%s %d)%s%s", browser,
           WIFEXITED(status) ? "exit" : "signal",
           WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
           *said ? ": " : "", said);
out:
  remove_tree(dir);
  return rc;
}
