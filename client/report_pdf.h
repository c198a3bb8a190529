/* report_pdf.h: an HTML file printed to PDF by headless Chromium, when
 * it is installed (tally report --format pdf). */
#ifndef TALLY_REPORT_PDF_H
#define TALLY_REPORT_PDF_H

#include <stddef.h>

/* The Chromium to run: $TALLY_CHROMIUM, else chromium, chromium-browser
 * or google-chrome on $PATH, into buf (n bytes). Returns 0, or -1 when
 * there is none. */
int tally_report_pdf_browser(char *buf, size_t n);

/* Prints the HTML file html (an absolute path) to the PDF file pdf with
 * browser, on A4 as the file's print stylesheet says, within timeout_s
 * seconds. Returns 0, or -1 with the reason in err (the end of what
 * Chromium said, when it failed). */
int tally_report_pdf_print(const char *browser, const char *html,
                           const char *pdf, int timeout_s, char *err,
                           size_t n);

#endif
