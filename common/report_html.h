/* report_html.h: the annual monitoring report as one HTML file (tally
 * report --format html): self-contained (its CSS and its SVG charts
 * inline, no script, nothing fetched), in Chinese with English beside,
 * for the screen and for A4 paper. */
#ifndef TALLY_REPORT_HTML_H
#define TALLY_REPORT_HTML_H

#include "report_doc.h"

#include <stdio.h>

/* Writes d as HTML to f. Every text that comes from the server (names,
 * targets, notes, explanations, reasons) is escaped. Returns 0, or -1
 * when f could not be written. */
int tally_report_html_write(const tally_report_doc *d, FILE *f);

/* The text of the file's one <style> element, exactly: no element of
 * the file has a style attribute, so that a CSP allowing this text by
 * its hash shows the file as it is meant (server/web.c). */
const char *tally_report_html_stylesheet(void);

#endif
