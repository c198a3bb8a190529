/* report_file.c: where a report file goes. HTML is written straight to
 * its output; a PDF and a workbook are made in a temporary directory
 * (Chromium and libxlsxwriter write files, not streams) and then copied
 * there. The failure modes: no Chromium for a PDF (said before anything
 * is asked of the server, with how to install it), a terminal for a
 * binary file, a write that fails (the output file is removed, not left
 * half written). */
#include "report_file.h"
#include "i18n.h"

#include "file.h"
#include "report_doc.h"
#include "report_html.h"
#include "report_pdf.h"
#include "report_xlsx.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long Chromium may take to print the report. */
#define PDF_TIMEOUT_S 120

/* Copies the file at path to out. Returns 0 or -1 after saying why. */
static int copy(const char *path, FILE *out, const char *what) {
  int rc = tally_file_copy(path, out);
  if (rc == -1)
    fprintf(stderr, _("tally: cannot read %s: %s\n"), path, strerror(errno));
  else if (rc != 0)
    fprintf(stderr, _("tally: cannot write the %s: %s\n"), what, strerror(errno));
  return rc ? -1 : 0;
}

/* Opens output (NULL: standard output). */
static FILE *open_output(const char *output) {
  if (output == NULL)
    return stdout;
  FILE *f = fopen(output, "wb");
  if (f == NULL)
    fprintf(stderr, _("tally: cannot write %s: %s\n"), output, strerror(errno));
  return f;
}

/* Closes what open_output opened; removes it when the write failed.
 * Returns 0, or -1 after saying why. */
static int close_output(FILE *f, const char *output, int failed) {
  if (output == NULL)
    return failed || fflush(f) != 0 ? -1 : 0;
  if (fclose(f) != 0 && !failed) {
    fprintf(stderr, _("tally: cannot write %s: %s\n"), output, strerror(errno));
    failed = 1;
  }
  if (failed)
    unlink(output);
  return failed ? -1 : 0;
}

/* Removes the temporary directory dir and the files named in it. */
static void clean(const char *dir, const char *const *names, size_t n) {
  char path[PATH_MAX + 64];
  for (size_t i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    unlink(path);
  }
  rmdir(dir);
}

int tally_report_file(const tally_cli *c, const Tally__ReportRequest *q,
                      const char *output) {
  static const char *const names[] = {"report.html", "report.pdf",
                                      "report.xlsx"};
  char browser[PATH_MAX], dir[PATH_MAX], html[PATH_MAX + 64],
      file[PATH_MAX + 64], err[PATH_MAX + 1024];
  tally_report_doc d;
  int rc = EXIT_REFUSED;

  if (c->format != FORMAT_HTML && output == NULL && isatty(STDOUT_FILENO)) {
    fprintf(stderr, _("tally report: a %s file is not for a terminal: give "
            "--output FILE, or redirect standard output into a file\n"),
            c->format == FORMAT_PDF ? "PDF" : "workbook");
    return EXIT_USAGE;
  }
  if (c->format == FORMAT_PDF &&
      tally_report_pdf_browser(browser, sizeof browser) != 0) {
    fputs(_("tally report: --format pdf prints the HTML report with headless "
          "Chromium, which is not installed (none of chromium, "
          "chromium-browser or google-chrome is on the PATH, or "
          "$TALLY_CHROMIUM names none).\n未安装 Chromium：在 Debian 上安装："
          "sudo apt-get install chromium fonts-noto-cjk\n(or make the HTML "
          "with --format html and print it from a browser)\n"), stderr);
    return EXIT_REFUSED;
  }
  if ((rc = tally_report_doc_fetch(c, q, &d)) != 0)
    return rc;
  rc = EXIT_REFUSED;

  if (c->format == FORMAT_HTML) {
    FILE *f = open_output(output);
    if (f) {
      int failed = tally_report_html_write(&d, f) != 0;
      if (failed && output == NULL)
        fprintf(stderr, _("tally: cannot write the report: %s\n"),
                strerror(errno));
      if (close_output(f, output, failed) == 0)
        rc = EXIT_OK;
    }
    tally_report_doc_free(&d);
    return rc;
  }

  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/tally-report-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) {
    fprintf(stderr, _("tally: cannot make a temporary directory: %s\n"),
            strerror(errno));
    tally_report_doc_free(&d);
    return EXIT_REFUSED;
  }
  if (dir[0] != '/') { /* Chromium is given a file:// URL */
    char cwd[PATH_MAX], rel[PATH_MAX];
    snprintf(rel, sizeof rel, "%s", dir);
    if (getcwd(cwd, sizeof cwd))
      snprintf(dir, sizeof dir, "%.2000s/%.2000s", cwd, rel);
  }
  snprintf(html, sizeof html, "%s/report.html", dir);
  int made = -1;
  if (c->format == FORMAT_PDF) {
    snprintf(file, sizeof file, "%s/report.pdf", dir);
    FILE *f = fopen(html, "wb");
    if (f == NULL) {
      snprintf(err, sizeof err, "cannot write %s: %s", html, strerror(errno));
    } else {
      int bad = tally_report_html_write(&d, f) != 0;
      bad |= fclose(f) != 0;
      if (bad)
        snprintf(err, sizeof err, "cannot write %s", html);
      else
        made = tally_report_pdf_print(browser, html, file, PDF_TIMEOUT_S, err,
                                      sizeof err);
    }
  } else {
    snprintf(file, sizeof file, "%s/report.xlsx", dir);
    made = tally_report_xlsx_write(&d, file, err, sizeof err);
  }
  tally_report_doc_free(&d);
  if (made != 0) {
    fprintf(stderr, "tally: %s\n", err);
  } else {
    FILE *f = open_output(output);
    if (f) {
      int failed = copy(file, f, c->format == FORMAT_PDF ? "PDF" : "workbook");
      if (close_output(f, output, failed) == 0)
        rc = EXIT_OK;
    }
  }
  clean(dir, names, sizeof names / sizeof names[0]);
  return rc;
}
