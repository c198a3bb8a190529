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

#endif
