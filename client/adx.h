/* adx.h: IHE ADX (Aggregate Data Exchange) XML, written and read with
 * libxml2.
 *
 *   <adx xmlns="urn:ihe:qrph:adx:2015" exported="...">
 *     <group orgUnit="wenchang" period="2022-01-01/P1Y" dataSet="changqing">
 *       <dataValue dataElement="live_births" value="812"/>
 *       <dataValue dataElement="deaths" AGE_GROUP="1-4" value="2"/>
 *     </group>
 *   </adx>
 *
 * One group per unit and period; a period is its first day and its
 * length (P1Y a year, P3M a quarter, P1M a month); an element reported
 * by age group carries the group as the disaggregation AGE_GROUP (the
 * element deaths.1-4 is dataElement deaths, AGE_GROUP 1-4).
 */
#ifndef TALLY_ADX_H
#define TALLY_ADX_H

#include "importfile.h"
#include "tally.pb-c.h"

#include <stddef.h>
#include <stdio.h>

#define TALLY_ADX_NAMESPACE "urn:ihe:qrph:adx:2015"

/* Writes reports (each a unit's figures of a period, as the server's
 * values reply gives them) as one ADX document to f; data_set names
 * the catalog. Returns 0, or -1 when f cannot be written. */
int tally_adx_write(FILE *f, const char *data_set,
                    Tally__ValuesReply *const *reports, size_t n);

/* ADX's period of a tally period ("2022" -> "2022-01-01/P1Y"), into buf
 * (>= 32 bytes). Returns 0, or -1 when text is not a period. */
int tally_adx_period(const char *text, char *buf, size_t n);

/* Reads the ADX document in text (len bytes; name for messages) into
 * out: each dataValue a figure, its line the XML's line. Returns 0 (the
 * figures that read, and an error for each that did not, in out), or
 * TALLY_ECSV with a message in err when it is not ADX, or -ENOMEM. */
int tally_adx_parse(const char *name, const char *text, size_t len,
                    tally_importfile *out, char *err, size_t errlen);

#endif
