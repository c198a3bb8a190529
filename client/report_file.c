/* report_file.c: where a report file goes. HTML is written straight to
 * its output; a PDF and a workbook are made in a temporary directory
 * (Chromium and libxlsxwriter write files, not streams) and then copied
 * there. The failure modes: no Chromium for a PDF (said before anything
 * is asked of the server, with how to install it), a terminal for a
 * binary file, a write that fails (the output file is removed, not left
 * half written). */
#include "report_file.h"
#include "i18n.h"

#include "catalog_cache.h"
#include "client.h"
#include "file.h"
#include "report_doc.h"
#include "report_html.h"
#include "report_pdf.h"
#include "report_xlsx.h"
#include "wire.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long Chromium may take to print the report. */
#define PDF_TIMEOUT_S 120

/* The doc's requests on one connection; the replies kept until the
 * file is written. */
struct asker {
  tally_client *cl;
  Tally__Envelope **kept;
  size_t n;
};

static int ask(void *ctx, const Tally__Envelope *req,
               const Tally__Envelope **reply, char *err, size_t n) {
  struct asker *a = ctx;
  Tally__Envelope *got = NULL;
  Tally__Envelope **grown = realloc(a->kept, (a->n + 1) * sizeof *grown);
  if (grown == NULL) {
    snprintf(err, n, "out of memory");
    return -1;
  }
  a->kept = grown;
  Tally__Envelope sent = *req; /* the call sets its id */
  if (tally_client_call(a->cl, &sent, &got, err, n) != 0)
    return -1;
  a->kept[a->n++] = got;
  *reply = got;
  return 0;
}

static void asker_end(struct asker *a) {
  for (size_t i = 0; i < a->n; i++)
    tally_wire_free(a->kept[i]);
  free(a->kept);
  if (a->cl)
    tally_client_close(a->cl);
}

/* Fetches d over a connection of c's, with the catalog cat. Returns 0,
 * or the exit status after saying why. */
static int fetch(const tally_cli *c, const Tally__ReportRequest *q,
                 struct asker *a, const tally_catalog *cat,
                 tally_report_doc *d) {
  tally_report_doc_error e;
  int rc = tally_cli_connect(c, &a->cl);
  if (rc != 0)
    return rc;
  switch (tally_report_doc_fetch(ask, a, cat, q, d, &e)) {
  case 0:
    return EXIT_OK;
  case TALLY_REPORT_DOC_BAD_PERIOD:
    fprintf(stderr, "tally: %s\n", e.message);
    return EXIT_USAGE;
  case TALLY_REPORT_DOC_UNREACHABLE:
    fprintf(stderr, "tally: %s\n", e.message);
    return EXIT_UNREACHABLE;
  default:
    fprintf(stderr, "tally: %s\n", e.message);
    if (e.code == TALLY__ERROR_CODE__ERROR_UNAUTHENTICATED && c->token == NULL)
      fputs("tally: no token given: see 'tally help login'\n", stderr);
    return EXIT_REFUSED;
  }
}

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
  tally_catalog *cat = NULL;
  struct asker a = {0};
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
  if ((rc = tally_catalog_cache_fetch(c, 0, &cat)) == 0 &&
      (rc = fetch(c, q, &a, cat, &d)) != 0)
    asker_end(&a);
  if (rc != 0) {
    tally_catalog_free(cat);
    return rc;
  }
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
    asker_end(&a);
    tally_catalog_free(cat);
    return rc;
  }

  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/tally-report-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) {
    fprintf(stderr, _("tally: cannot make a temporary directory: %s\n"),
            strerror(errno));
    tally_report_doc_free(&d);
    asker_end(&a);
    tally_catalog_free(cat);
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
  asker_end(&a);
  tally_catalog_free(cat);
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
