/* report_file.h: tally report --format html, pdf or xlsx: the annual
 * monitoring report as a file, to --output or standard output. */
#ifndef TALLY_REPORT_FILE_H
#define TALLY_REPORT_FILE_H

#include "cli.h"
#include "tally.pb-c.h"

/* Fetches what q's report file shows and writes it in c->format
 * (FORMAT_HTML, FORMAT_PDF or FORMAT_XLSX) to output (NULL: standard
 * output, which must not be a terminal for pdf and xlsx). Returns the
 * exit status, after saying why when it is not 0. */
int tally_report_file(const tally_cli *c, const Tally__ReportRequest *q,
                      const char *output);

#endif
