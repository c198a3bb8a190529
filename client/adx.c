/* adx.c: IHE ADX XML with libxml2: written with its text writer, read
 * with its streaming reader.
 *
 * The happy path of a read: the root is adx in ADX's namespace; each
 * group names its unit and period, each dataValue inside it an element
 * (with its age group) and a value, which become figures.
 * The failure modes: not XML, a DTD, another root: the whole file is
 * refused; a group or a value that lacks what it needs, a period ADX
 * does not write, a disaggregation tally does not know: that figure is
 * an error of the list, and reading goes on.
 */
#include "adx.h"

#include "error.h"
#include "period.h"

#include <ctype.h>
#include <errno.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlwriter.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int tally_adx_period(const char *text, char *buf, size_t n) {
  tally_period p;
  if (tally_period_parse(text, &p) != 0)
    return -1;
  switch (p.kind) {
  case TALLY_PERIOD_YEAR:
    snprintf(buf, n, "%04d-01-01/P1Y", p.year);
    break;
  case TALLY_PERIOD_QUARTER:
    snprintf(buf, n, "%04d-%02d-01/P3M", p.year, (p.index - 1) * 3 + 1);
    break;
  default:
    snprintf(buf, n, "%04d-%02d-01/P1M", p.year, p.index);
  }
  return 0;
}

/* Tally's period of an ADX one, into buf; -1 when it is none of the
 * three tally keeps. */
static int from_adx_period(const char *text, char *buf, size_t n) {
  int y, m, d;
  char len[8], end;
  if (sscanf(text, "%4d-%2d-%2d/%7[PYM0-9]%c", &y, &m, &d, len, &end) != 4 ||
      d != 1 || m < 1 || m > 12)
    return -1;
  tally_period p = {y, TALLY_PERIOD_YEAR, 0};
  if (strcmp(len, "P1Y") == 0 && m == 1)
    p.kind = TALLY_PERIOD_YEAR;
  else if (strcmp(len, "P3M") == 0 && (m - 1) % 3 == 0)
    p = (tally_period){y, TALLY_PERIOD_QUARTER, (m - 1) / 3 + 1};
  else if (strcmp(len, "P1M") == 0)
    p = (tally_period){y, TALLY_PERIOD_MONTH, m};
  else
    return -1;
  char check[TALLY_PERIOD_STRLEN];
  tally_period_format(&p, check);
  tally_period q;
  if (tally_period_parse(check, &q) != 0 || n < TALLY_PERIOD_STRLEN)
    return -1;
  snprintf(buf, n, "%s", check);
  return 0;
}

/* Where an element's age group begins (the '.' of deaths.1-4), or
 * NULL: a group is digits, then -digits or + or nothing. */
static const char *group_dot(const char *code) {
  const char *dot = strrchr(code, '.');
  if (dot == NULL || !isdigit((unsigned char)dot[1]))
    return NULL;
  const char *p = dot + 1;
  while (isdigit((unsigned char)*p))
    p++;
  if (*p == '-') {
    p++;
    if (!isdigit((unsigned char)*p))
      return NULL;
    while (isdigit((unsigned char)*p))
      p++;
  } else if (*p == '+') {
    p++;
  }
  return *p == 0 ? dot : NULL;
}

int tally_adx_write(FILE *f, const char *data_set,
                    Tally__ValuesReply *const *reports, size_t n) {
  xmlBufferPtr buf = xmlBufferCreate();
  xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
  int bad = w == NULL;
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);

  if (!bad) {
    xmlTextWriterSetIndent(w, 1);
    xmlTextWriterSetIndentString(w, BAD_CAST "  ");
    bad |= xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL) < 0;
    bad |= xmlTextWriterStartElementNS(w, NULL, BAD_CAST "adx",
                                       BAD_CAST TALLY_ADX_NAMESPACE) < 0;
    bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "exported",
                                       BAD_CAST stamp) < 0;
  }
  for (size_t i = 0; !bad && i < n; i++) {
    const Tally__ValuesReply *r = reports[i];
    char period[32];
    if (r->n_values == 0 || tally_adx_period(r->period, period, sizeof period))
      continue;
    bad |= xmlTextWriterStartElement(w, BAD_CAST "group") < 0;
    bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "orgUnit",
                                       BAD_CAST r->unit) < 0;
    bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "period",
                                       BAD_CAST period) < 0;
    bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "dataSet",
                                       BAD_CAST data_set) < 0;
    for (size_t k = 0; !bad && k < r->n_values; k++) {
      const Tally__StoredValue *v = r->values[k];
      const char *dot = group_dot(v->element);
      char element[256], value[40];
      snprintf(element, sizeof element, "%.*s",
               dot ? (int)(dot - v->element) : (int)strlen(v->element),
               v->element);
      for (int digits = 15; digits <= 17; digits++) {
        snprintf(value, sizeof value, "%.*g", digits, v->value);
        if (strtod(value, NULL) == v->value)
          break;
      }
      bad |= xmlTextWriterStartElement(w, BAD_CAST "dataValue") < 0;
      bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "dataElement",
                                         BAD_CAST element) < 0;
      if (dot)
        bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "AGE_GROUP",
                                           BAD_CAST(dot + 1)) < 0;
      bad |= xmlTextWriterWriteAttribute(w, BAD_CAST "value",
                                         BAD_CAST value) < 0;
      bad |= xmlTextWriterEndElement(w) < 0;
    }
    bad |= xmlTextWriterEndElement(w) < 0;
  }
  if (!bad)
    bad |= xmlTextWriterEndDocument(w) < 0;
  if (w)
    xmlFreeTextWriter(w); /* flushes into buf */
  if (!bad)
    bad = fwrite(xmlBufferContent(buf), 1, (size_t)xmlBufferLength(buf), f) !=
              (size_t)xmlBufferLength(buf) ||
          fflush(f) != 0;
  if (buf)
    xmlBufferFree(buf);
  return bad ? -1 : 0;
}

static char *get(xmlTextReaderPtr r, const char *name) {
  xmlChar *v = xmlTextReaderGetAttribute(r, BAD_CAST name);
  char *out = v ? strdup((const char *)v) : NULL;
  xmlFree(v);
  return out;
}

static void on_error(void *arg, xmlErrorPtr e) {
  char *first = arg;
  if (*first == 0 && e && e->message) {
    snprintf(first, 200, "line %d: %s", e->line, e->message);
    first[strcspn(first, "\n")] = 0;
  }
}

/* A dataValue's disaggregation: AGE_GROUP's value, NULL when none; an
 * attribute tally does not know is told in *unknown (its name). */
static char *disaggregation(xmlTextReaderPtr r, char *unknown, size_t n) {
  char *group = NULL;
  *unknown = 0;
  if (xmlTextReaderMoveToFirstAttribute(r) != 1)
    return NULL;
  do {
    const char *a = (const char *)xmlTextReaderConstLocalName(r);
    const xmlChar *ns = xmlTextReaderConstNamespaceUri(r);
    if (ns || strcmp(a, "dataElement") == 0 || strcmp(a, "value") == 0 ||
        strcmp(a, "annotation") == 0)
      continue; /* another namespace's, or ADX's own */
    if (strcmp(a, "AGE_GROUP") == 0) {
      free(group);
      group = strdup((const char *)xmlTextReaderConstValue(r));
    } else if (*unknown == 0) {
      snprintf(unknown, n, "%s", a);
    }
  } while (xmlTextReaderMoveToNextAttribute(r) == 1);
  xmlTextReaderMoveToElement(r);
  return group;
}

int tally_adx_parse(const char *name, const char *text, size_t len,
                    tally_importfile *out, char *err, size_t errlen) {
  char first_error[200] = "";
  out->format = "ADX";
  out->line_word = "line";
  if (len > (size_t)INT32_MAX) {
    snprintf(err, errlen, "%s: too large to read", name);
    return TALLY_ECSV;
  }
  xmlTextReaderPtr r = xmlReaderForMemory(
      text, (int)len, NULL, NULL,
      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (r == NULL)
    return -ENOMEM;
  xmlTextReaderSetStructuredErrorHandler(r, on_error, first_error);
  int rc = 0, got = 1, seen_root = 0, group_line = 0;
  char *unit = NULL, *period = NULL;
  char adx_to[TALLY_PERIOD_STRLEN] = "";
  int period_ok = 0;

  while (rc == 0 && (got = xmlTextReaderRead(r)) == 1) {
    int type = xmlTextReaderNodeType(r);
    if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
      snprintf(err, errlen, "%s: declares a DTD: refused", name);
      rc = TALLY_ECSV;
      break;
    }
    if (type == XML_READER_TYPE_END_ELEMENT &&
        strcmp((const char *)xmlTextReaderConstLocalName(r), "group") == 0) {
      free(unit);
      free(period);
      unit = period = NULL;
      continue;
    }
    if (type != XML_READER_TYPE_ELEMENT)
      continue;
    const char *el = (const char *)xmlTextReaderConstLocalName(r);
    const xmlChar *ns = xmlTextReaderConstNamespaceUri(r);
    xmlNodePtr node = xmlTextReaderCurrentNode(r);
    int line = node ? (int)xmlGetLineNo(node) : 0;
    if (!seen_root) {
      seen_root = 1;
      if (strcmp(el, "adx") != 0 || !ns ||
          strcmp((const char *)ns, TALLY_ADX_NAMESPACE) != 0) {
        snprintf(err, errlen, "%s: not ADX: its root is <%s>%s%s, not <adx> "
                 "in namespace " TALLY_ADX_NAMESPACE, name, el,
                 ns ? " in namespace " : " without a namespace",
                 ns ? (const char *)ns : "");
        rc = TALLY_ECSV;
      }
      continue;
    }
    if (!ns || strcmp((const char *)ns, TALLY_ADX_NAMESPACE) != 0)
      continue; /* another vocabulary's element: not ours to read */
    if (strcmp(el, "group") == 0) {
      free(unit);
      free(period);
      unit = get(r, "orgUnit");
      period = get(r, "period");
      group_line = line;
      period_ok = period && from_adx_period(period, adx_to,
                                            sizeof adx_to) == 0;
      if (!unit || !period)
        rc = tally_importfile_error(out, line, "a group without %s",
                                    !unit ? "orgUnit" : "period");
      else if (!period_ok)
        rc = tally_importfile_error(out, line, "period '%.40s' is not a year "
                                    "(2022-01-01/P1Y), a quarter "
                                    "(2022-07-01/P3M) or a month "
                                    "(2022-07-01/P1M)", period);
      continue;
    }
    if (strcmp(el, "dataValue") != 0)
      continue;
    if (!unit || !period_ok)
      continue; /* its group's problem is told already */
    char *element = get(r, "dataElement"), *value = get(r, "value");
    char unknown[64], code[300];
    char *group = disaggregation(r, unknown, sizeof unknown);
    if (!element || !value)
      rc = tally_importfile_error(out, line, "a dataValue without %s",
                                  !element ? "dataElement" : "value");
    else if (*unknown)
      rc = tally_importfile_error(out, line, "a dataValue disaggregated by "
                                  "%.40s: tally knows AGE_GROUP only", unknown);
    else {
      snprintf(code, sizeof code, "%s%s%s", element, group ? "." : "",
               group ? group : "");
      rc = tally_importfile_add(out, unit, adx_to, code, value, 0, line);
    }
    free(element);
    free(value);
    free(group);
  }
  (void)group_line;
  if (rc == 0 && got < 0) {
    snprintf(err, errlen, "%s: not well-formed XML%s%s", name,
             *first_error ? ": " : "", first_error);
    rc = TALLY_ECSV;
  }
  if (rc == 0 && !seen_root) {
    snprintf(err, errlen, "%s: not ADX: no root element", name);
    rc = TALLY_ECSV;
  }
  free(unit);
  free(period);
  xmlFreeTextReader(r);
  return rc;
}
