/* xlsx.c: the cells of a workbook's first sheet, with libzip and
 * libxml2's streaming reader.
 *
 * The happy path: _rels/.rels names the workbook part (xl/workbook.xml),
 * the workbook names its sheets in order, its relationships name the
 * first sheet's part and the shared strings; the strings are read into
 * a table, then the sheet's cells row by row.
 * The failure modes: not a zip, a part missing or over
 * TALLY_XLSX_PART_MAX, XML that does not parse or holds a DTD (no
 * entity is ever expanded), a cell reference or shared-string index
 * out of range: each a TALLY_ECSV with a message naming the file and,
 * where there is one, the cell.
 */
#include "xlsx.h"

#include "error.h"

#include <errno.h>
#include <libxml/xmlreader.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

int tally_xlsx_looks_like(const void *data, size_t len) {
  return len >= 4 && memcmp(data, "PK\x03\x04", 4) == 0;
}

int tally_xlsx_looks_legacy(const void *data, size_t len) {
  return len >= 8 && memcmp(data, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0;
}

/* What one read shares: the file's name and the first error. */
struct xlsx {
  const char *name;
  zip_t *zip;
  char *err;
  size_t errlen;
  int rc;
  char **strings;      /* the shared strings */
  size_t n_strings, cap_strings;
};

__attribute__((format(printf, 2, 3))) static int fail(struct xlsx *x,
                                                      const char *fmt, ...) {
  if (x->rc)
    return x->rc;
  char msg[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(x->err, x->errlen, "%s: %s", x->name, msg);
  x->rc = TALLY_ECSV;
  return x->rc;
}

static int no_memory(struct xlsx *x) {
  if (x->rc == 0) {
    snprintf(x->err, x->errlen, "%s: out of memory", x->name);
    x->rc = -ENOMEM;
  }
  return x->rc;
}

/* A growing string. */
typedef struct {
  char *s;
  size_t n, cap;
} text_buf;

static int text_add(text_buf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + n + 1)
      cap *= 2;
    char *grown = realloc(b->s, cap);
    if (grown == NULL)
      return -ENOMEM;
    b->s = grown;
    b->cap = cap;
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = 0;
  return 0;
}

/* The part named path, read whole into *buf (*len bytes, a NUL after).
 * Returns 0, TALLY_ENOTFOUND when there is no such part (no message),
 * or an error with its message. */
static int part(struct xlsx *x, const char *path, char **buf, size_t *len) {
  zip_stat_t st;
  zip_int64_t i = zip_name_locate(x->zip, path, ZIP_FL_NOCASE);
  *buf = NULL;
  if (i < 0)
    return TALLY_ENOTFOUND;
  zip_stat_init(&st);
  if (zip_stat_index(x->zip, (zip_uint64_t)i, 0, &st) != 0 ||
      !(st.valid & ZIP_STAT_SIZE))
    return fail(x, "cannot read %s in the workbook", path);
  if (st.size > TALLY_XLSX_PART_MAX)
    return fail(x, "%s is over %u MiB uncompressed: too large to read", path,
                TALLY_XLSX_PART_MAX >> 20);
  zip_file_t *f = zip_fopen_index(x->zip, (zip_uint64_t)i, 0);
  if (f == NULL)
    return fail(x, "cannot open %s in the workbook: %s", path,
                zip_strerror(x->zip));
  char *b = malloc(st.size + 1);
  if (b == NULL) {
    zip_fclose(f);
    return no_memory(x);
  }
  zip_int64_t got = zip_fread(f, b, st.size);
  int bad = got < 0 || (zip_uint64_t)got != st.size;
  if (!bad) { /* the data must end where the directory says */
    char extra;
    bad = zip_fread(f, &extra, 1) != 0;
  }
  zip_fclose(f);
  if (bad) {
    free(b);
    return fail(x, "%s in the workbook is damaged (it does not decompress "
                "to its size)", path);
  }
  b[st.size] = 0;
  *buf = b;
  *len = st.size;
  return 0;
}

/* libxml2's first error of a part, kept for the message. */
static void on_xml_error(void *arg, xmlErrorPtr e) {
  char *first = arg;
  if (*first == 0 && e && e->message) {
    snprintf(first, 160, "line %d: %s", e->line, e->message);
    first[strcspn(first, "\n")] = 0;
  }
}

/* A reader over a part's text; no network, no entities, no DTD loaded. */
static xmlTextReaderPtr reader_for(const char *buf, size_t len,
                                   char *first_error) {
  if (len > (size_t)INT32_MAX)
    return NULL;
  xmlTextReaderPtr r =
      xmlReaderForMemory(buf, (int)len, NULL, NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR |
                             XML_PARSE_NOWARNING | XML_PARSE_COMPACT);
  if (r)
    xmlTextReaderSetStructuredErrorHandler(r, on_xml_error, first_error);
  return r;
}

/* The next node of r: 1, 0 at the end, or an error (said) for bad XML
 * and for a DTD, which a workbook never needs. */
static int next_node(struct xlsx *x, xmlTextReaderPtr r, const char *path,
                     const char *xml_error) {
  int got = xmlTextReaderRead(r);
  if (got < 0)
    return fail(x, "%s in the workbook is not well-formed XML%s%s", path,
                *xml_error ? ": " : "", xml_error);
  if (got == 1 && xmlTextReaderNodeType(r) == XML_READER_TYPE_DOCUMENT_TYPE)
    return fail(x, "%s in the workbook declares a DTD: refused", path);
  return got;
}

static const char *local(xmlTextReaderPtr r) {
  const xmlChar *n = xmlTextReaderConstLocalName(r);
  return n ? (const char *)n : "";
}

/* Whether the node is text inside an element (text, CDATA, blanks). */
static int is_text(xmlTextReaderPtr r) {
  int t = xmlTextReaderNodeType(r);
  return t == XML_READER_TYPE_TEXT || t == XML_READER_TYPE_CDATA ||
         t == XML_READER_TYPE_SIGNIFICANT_WHITESPACE ||
         t == XML_READER_TYPE_WHITESPACE;
}

/* An attribute by local name (any namespace), copied; NULL if absent. */
static char *attr(xmlTextReaderPtr r, const char *name, int with_prefix) {
  char *out = NULL;
  if (xmlTextReaderMoveToFirstAttribute(r) != 1)
    return NULL;
  do {
    const xmlChar *prefix = xmlTextReaderConstPrefix(r);
    if (strcmp(local(r), name) == 0 && (!with_prefix || prefix)) {
      const xmlChar *v = xmlTextReaderConstValue(r);
      out = strdup(v ? (const char *)v : "");
      break;
    }
  } while (xmlTextReaderMoveToNextAttribute(r) == 1);
  xmlTextReaderMoveToElement(r);
  return out;
}

/* The parts a relationships part names: Target of the first
 * Relationship whose Type ends in type_tail, or whose Id is id. */
static int relationship(struct xlsx *x, const char *rels_path,
                        const char *type_tail, const char *id,
                        char **target) {
  char *buf, xml_error[160] = "";
  size_t len;
  int rc = part(x, rels_path, &buf, &len);
  *target = NULL;
  if (rc != 0)
    return rc;
  xmlTextReaderPtr r = reader_for(buf, len, xml_error);
  if (r == NULL) {
    free(buf);
    return no_memory(x);
  }
  while ((rc = next_node(x, r, rels_path, xml_error)) == 1) {
    if (xmlTextReaderNodeType(r) != XML_READER_TYPE_ELEMENT ||
        strcmp(local(r), "Relationship") != 0)
      continue;
    char *type = attr(r, "Type", 0), *rid = attr(r, "Id", 0);
    size_t tl = type ? strlen(type) : 0, want = type_tail ? strlen(type_tail) : 0;
    int match = id ? rid && strcmp(rid, id) == 0
                   : type && tl >= want && strcmp(type + tl - want, type_tail) == 0;
    free(type);
    free(rid);
    if (match) {
      *target = attr(r, "Target", 0);
      break;
    }
  }
  xmlFreeTextReader(r);
  free(buf);
  if (rc < 0)
    return rc;
  return *target ? 0 : TALLY_ENOTFOUND;
}

/* A relationship's target as a part name: from the archive's root when
 * it begins with '/', else from base (a directory ending in '/', or "").
 * "../" steps up. NULL when out of memory or above the root. */
static char *resolve(const char *base, const char *target) {
  char path[1024];
  if (target[0] == '/')
    snprintf(path, sizeof path, "%s", target + 1);
  else
    snprintf(path, sizeof path, "%s%s", base, target);
  /* Drop "./" and fold "dir/../". */
  char out[1024];
  size_t n = 0;
  for (const char *p = path; *p;) {
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    if (len == 1 && p[0] == '.') {
    } else if (len == 2 && p[0] == '.' && p[1] == '.') {
      if (n == 0)
        return NULL;
      n--; /* the '/' ending the last segment */
      while (n > 0 && out[n - 1] != '/')
        n--;
    } else if (len > 0) {
      memcpy(out + n, p, len);
      n += len;
      if (slash)
        out[n++] = '/';
    }
    p += len + (slash != NULL);
  }
  out[n] = 0;
  return strdup(out);
}

/* The directory part of a part name, with its '/', into buf. */
static void dir_of(const char *path, char *buf, size_t n) {
  const char *slash = strrchr(path, '/');
  size_t len = slash ? (size_t)(slash - path) + 1 : 0;
  snprintf(buf, n, "%.*s", (int)len, path);
}

/* The rels part of a part: xl/workbook.xml -> xl/_rels/workbook.xml.rels. */
static void rels_of(const char *path, char *buf, size_t n) {
  const char *slash = strrchr(path, '/');
  const char *file = slash ? slash + 1 : path;
  size_t len = slash ? (size_t)(slash - path) + 1 : 0;
  snprintf(buf, n, "%.*s_rels/%s.rels", (int)len, path, file);
}

/* The first sheet of the workbook: its name and relationship id. */
static int first_sheet(struct xlsx *x, const char *workbook, char **name,
                       char **rid) {
  char *buf, xml_error[160] = "";
  size_t len;
  int rc = part(x, workbook, &buf, &len);
  *name = *rid = NULL;
  if (rc == TALLY_ENOTFOUND)
    return fail(x, "not a workbook: %s is missing", workbook);
  if (rc != 0)
    return rc;
  xmlTextReaderPtr r = reader_for(buf, len, xml_error);
  if (r == NULL) {
    free(buf);
    return no_memory(x);
  }
  while ((rc = next_node(x, r, workbook, xml_error)) == 1)
    if (xmlTextReaderNodeType(r) == XML_READER_TYPE_ELEMENT &&
        strcmp(local(r), "sheet") == 0) {
      *name = attr(r, "name", 0);
      *rid = attr(r, "id", 1);
      break;
    }
  xmlFreeTextReader(r);
  free(buf);
  if (rc < 0)
    return rc;
  if (*rid == NULL) {
    free(*name);
    *name = NULL;
    return fail(x, "the workbook has no sheet");
  }
  if (*name == NULL && (*name = strdup("")) == NULL)
    return no_memory(x);
  return 0;
}

static int add_string(struct xlsx *x, text_buf *b) {
  /* A few bytes of XML each: a small file could ask for millions. */
  if (x->n_strings == TALLY_XLSX_STRINGS_MAX)
    return fail(x, "the workbook's shared strings are over %u: too many to "
                "read", TALLY_XLSX_STRINGS_MAX);
  if (x->n_strings == x->cap_strings) {
    size_t cap = x->cap_strings ? x->cap_strings * 2 : 256;
    char **grown = realloc(x->strings, cap * sizeof *grown);
    if (grown == NULL)
      return no_memory(x);
    x->strings = grown;
    x->cap_strings = cap;
  }
  x->strings[x->n_strings] = b->s ? b->s : strdup("");
  if (x->strings[x->n_strings] == NULL)
    return no_memory(x);
  x->n_strings++;
  *b = (text_buf){0};
  return 0;
}

/* The shared strings: each <si>'s <t> texts joined, those of phonetic
 * runs (<rPh>) left out. */
static int shared_strings(struct xlsx *x, const char *path) {
  char *buf, xml_error[160] = "";
  size_t len;
  int rc = part(x, path, &buf, &len), in_si = 0, in_t = 0, in_rph = 0;
  text_buf b = {0};
  if (rc == TALLY_ENOTFOUND)
    return 0; /* a workbook of numbers alone has none */
  if (rc != 0)
    return rc;
  xmlTextReaderPtr r = reader_for(buf, len, xml_error);
  if (r == NULL) {
    free(buf);
    return no_memory(x);
  }
  while ((rc = next_node(x, r, path, xml_error)) == 1) {
    int type = xmlTextReaderNodeType(r);
    const char *n = local(r);
    if (type == XML_READER_TYPE_ELEMENT) {
      int empty = xmlTextReaderIsEmptyElement(r);
      if (strcmp(n, "si") == 0) {
        in_si = 1;
        b.n = 0;
        if (empty && (rc = add_string(x, &b)) != 0)
          break;
        in_si = !empty;
      } else if (strcmp(n, "rPh") == 0 && !empty) {
        in_rph = 1;
      } else if (strcmp(n, "t") == 0 && in_si && !in_rph && !empty) {
        in_t = 1;
      }
    } else if (type == XML_READER_TYPE_END_ELEMENT) {
      if (strcmp(n, "t") == 0)
        in_t = 0;
      else if (strcmp(n, "rPh") == 0)
        in_rph = 0;
      else if (strcmp(n, "si") == 0 && in_si) {
        in_si = 0;
        if ((rc = add_string(x, &b)) != 0)
          break;
      }
    } else if (in_t && is_text(r)) {
      const char *v = (const char *)xmlTextReaderConstValue(r);
      if (v && text_add(&b, v, strlen(v)) != 0) {
        rc = no_memory(x);
        break;
      }
    }
  }
  free(b.s);
  xmlFreeTextReader(r);
  free(buf);
  return rc < 0 ? rc : 0;
}

/* A cell reference "AB12" into its row and 0-based column. Returns 0,
 * or -1 when it is not one within Excel's limits. */
static int parse_ref(const char *ref, int *row, int *col) {
  const char *p = ref;
  long c = 0, r = 0;
  int letters = 0, digits = 0;
  while (*p >= 'A' && *p <= 'Z' && letters < 4)
    c = c * 26 + (*p++ - 'A' + 1), letters++;
  while (*p >= '0' && *p <= '9' && digits < 8)
    r = r * 10 + (*p++ - '0'), digits++;
  if (*p || letters == 0 || digits == 0 || c > TALLY_XLSX_MAX_COL || r < 1 ||
      r > TALLY_XLSX_MAX_ROW)
    return -1;
  *row = (int)r;
  *col = (int)c - 1;
  return 0;
}

char *tally_xlsx_ref(int row, int col, char *buf, size_t n) {
  char letters[8];
  int k = 0;
  for (int c = col + 1; c > 0 && k < 7; c = (c - 1) / 26)
    letters[k++] = (char)('A' + (c - 1) % 26);
  char rev[8];
  for (int i = 0; i < k; i++)
    rev[i] = letters[k - 1 - i];
  rev[k] = 0;
  snprintf(buf, n, "%s%d", rev, row);
  return buf;
}

/* The sheet being read. */
struct sheet_reader {
  tally_xlsx_sheet *out;
  size_t cap_rows, cap_cells;
  int row;            /* the current row's number */
  int next_col;       /* where a cell without a reference goes */
  int in_cell;
  int cell_row, cell_col;
  char type[16];      /* the cell's t attribute */
  int in_v, in_is_t, in_rph;
  text_buf v;         /* <v>'s text, or an inline string's */
};

static int start_row(struct xlsx *x, struct sheet_reader *s, int row) {
  tally_xlsx_sheet *o = s->out;
  if (o->n > 0 && o->rows[o->n - 1].row == row)
    return 0; /* cells of the same row again */
  if (o->n == s->cap_rows) {
    size_t cap = s->cap_rows ? s->cap_rows * 2 : 64;
    tally_xlsx_row *grown = realloc(o->rows, cap * sizeof *grown);
    if (grown == NULL)
      return no_memory(x);
    o->rows = grown;
    s->cap_rows = cap;
  }
  o->rows[o->n++] = (tally_xlsx_row){row, NULL, 0};
  s->cap_cells = 0;
  return 0;
}

/* Whether text is a number as a cell holds one: finite, all of it. */
static int number_text(const char *text, double *out) {
  char *end;
  if (*text == 0)
    return 0;
  errno = 0;
  double v = strtod(text, &end);
  if (*end || errno == ERANGE || !isfinite(v))
    return 0;
  /* strtod also reads hex and "inf": a sheet writes neither. */
  for (const char *p = text; *p; p++)
    if (!strchr("0123456789+-.eE", *p))
      return 0;
  *out = v;
  return 1;
}

/* The cell just read, into the current row. */
static int end_cell(struct xlsx *x, struct sheet_reader *s) {
  char ref[16];
  const char *t = s->type, *v = s->v.s ? s->v.s : "";
  char *text = NULL;
  int is_number = 0;
  double number = 0;

  tally_xlsx_ref(s->cell_row, s->cell_col, ref, sizeof ref);
  if (strcmp(t, "s") == 0) {
    char *end;
    errno = 0;
    unsigned long i = strtoul(v, &end, 10);
    if (*v == 0 || *end || errno || i >= x->n_strings)
      return fail(x, "cell %s names shared string '%.20s', which the workbook "
                  "does not have", ref, v);
    text = strdup(x->strings[i]);
  } else if (strcmp(t, "b") == 0) {
    text = strdup(strcmp(v, "1") == 0 ? "TRUE" : "FALSE");
  } else if (*t == 0 || strcmp(t, "n") == 0) {
    is_number = number_text(v, &number);
    if (!is_number && *v)
      return fail(x, "cell %s is a number cell holding '%.20s'", ref, v);
    text = strdup(v);
  } else { /* inlineStr, str (a formula's text), e (an error), d (a date) */
    text = strdup(v);
  }
  if (text == NULL)
    return no_memory(x);
  if (*text == 0 && !is_number) {
    free(text); /* a cell with a style and no value */
    return 0;
  }
  if (s->out->n == 0 || s->out->rows[s->out->n - 1].row != s->cell_row) {
    int rc = start_row(x, s, s->cell_row);
    if (rc != 0) {
      free(text);
      return rc;
    }
  }
  tally_xlsx_row *row = &s->out->rows[s->out->n - 1];
  if (row->n == s->cap_cells) {
    size_t cap = s->cap_cells ? s->cap_cells * 2 : 8;
    tally_xlsx_cell *grown = realloc(row->cells, cap * sizeof *grown);
    if (grown == NULL) {
      free(text);
      return no_memory(x);
    }
    row->cells = grown;
    s->cap_cells = cap;
  }
  row->cells[row->n++] = (tally_xlsx_cell){s->cell_col, text, is_number, number};
  return 0;
}

static int sheet_element(struct xlsx *x, struct sheet_reader *s,
                         xmlTextReaderPtr r) {
  const char *n = local(r);
  int empty = xmlTextReaderIsEmptyElement(r);
  char ref[16];

  if (strcmp(n, "row") == 0) {
    char *rn = attr(r, "r", 0), *end;
    long row = rn ? strtol(rn, &end, 10) : s->row + 1;
    int bad = rn && (*rn == 0 || *end);
    free(rn);
    if (bad || row < 1 || row > TALLY_XLSX_MAX_ROW)
      return fail(x, "a row after row %d has no valid number", s->row);
    s->row = (int)row;
    s->next_col = 0;
    return 0;
  }
  if (strcmp(n, "c") == 0) {
    char *cr = attr(r, "r", 0), *ct = attr(r, "t", 0);
    int row = s->row ? s->row : 1, col = s->next_col;
    int bad = cr && parse_ref(cr, &row, &col) != 0;
    if (bad) {
      fail(x, "a cell of row %d has reference '%.16s', which is not a cell",
           s->row, cr);
      free(cr);
      free(ct);
      return x->rc;
    }
    free(cr);
    if (col >= TALLY_XLSX_MAX_COL) {
      free(ct);
      return fail(x, "row %d has a cell past column XFD", row);
    }
    s->cell_row = row;
    s->cell_col = col;
    s->next_col = col + 1;
    snprintf(s->type, sizeof s->type, "%s", ct ? ct : "");
    free(ct);
    s->v.n = 0;
    if (s->v.s)
      s->v.s[0] = 0;
    s->in_cell = !empty;
    return 0;
  }
  if (!s->in_cell || empty)
    return 0;
  if (strcmp(n, "v") == 0)
    s->in_v = 1;
  else if (strcmp(n, "rPh") == 0)
    s->in_rph = 1;
  else if (strcmp(n, "t") == 0 && !s->in_rph &&
           strcmp(s->type, "inlineStr") == 0)
    s->in_is_t = 1;
  (void)ref;
  return 0;
}

static int read_sheet(struct xlsx *x, const char *path, tally_xlsx_sheet *out) {
  char *buf, xml_error[160] = "";
  size_t len;
  int rc = part(x, path, &buf, &len);
  struct sheet_reader s = {.out = out};
  if (rc == TALLY_ENOTFOUND)
    return fail(x, "the workbook's first sheet (%s) is missing", path);
  if (rc != 0)
    return rc;
  xmlTextReaderPtr r = reader_for(buf, len, xml_error);
  if (r == NULL) {
    free(buf);
    return no_memory(x);
  }
  while ((rc = next_node(x, r, path, xml_error)) == 1) {
    int type = xmlTextReaderNodeType(r);
    if (type == XML_READER_TYPE_ELEMENT) {
      if ((rc = sheet_element(x, &s, r)) != 0)
        break;
    } else if (type == XML_READER_TYPE_END_ELEMENT) {
      const char *n = local(r);
      if (strcmp(n, "v") == 0)
        s.in_v = 0;
      else if (strcmp(n, "t") == 0)
        s.in_is_t = 0;
      else if (strcmp(n, "rPh") == 0)
        s.in_rph = 0;
      else if (strcmp(n, "c") == 0 && s.in_cell) {
        s.in_cell = 0;
        if ((rc = end_cell(x, &s)) != 0)
          break;
      }
    } else if ((s.in_v || s.in_is_t) && is_text(r)) {
      const char *v = (const char *)xmlTextReaderConstValue(r);
      if (v && text_add(&s.v, v, strlen(v)) != 0) {
        rc = no_memory(x);
        break;
      }
    }
  }
  free(s.v.s);
  xmlFreeTextReader(r);
  free(buf);
  return rc < 0 ? rc : 0;
}

/* The libzip error of opening data, in words. */
static const char *zip_words(int code) {
  switch (code) {
  case ZIP_ER_NOZIP: return "not a zip archive, as an xlsx file is";
  case ZIP_ER_INCONS: return "a damaged zip archive";
  case ZIP_ER_MEMORY: return "out of memory";
  default: return "a zip archive that cannot be read";
  }
}

int tally_xlsx_parse(const char *name, const void *data, size_t len,
                     tally_xlsx_sheet *out, char *err, size_t errlen) {
  struct xlsx x = {.name = name, .err = err, .errlen = errlen};
  zip_error_t ze;
  char *workbook = NULL, *target = NULL, *sheet_name = NULL, *rid = NULL,
       *sheet_path = NULL, *strings_path = NULL;
  char base[1024], rels[1100];

  memset(out, 0, sizeof *out);
  zip_error_init(&ze);
  zip_source_t *src = zip_source_buffer_create(len ? data : "", len, 0, &ze);
  if (src == NULL) {
    zip_error_fini(&ze);
    return no_memory(&x);
  }
  x.zip = zip_open_from_source(src, ZIP_RDONLY, &ze);
  if (x.zip == NULL) {
    fail(&x, "%s", zip_words(zip_error_code_zip(&ze)));
    zip_source_free(src);
    zip_error_fini(&ze);
    return x.rc;
  }
  zip_error_fini(&ze);

  /* The workbook part, by the package's relationships (else its usual
   * name). */
  int rc = relationship(&x, "_rels/.rels", "/officeDocument", NULL, &target);
  if (rc < 0 && rc != TALLY_ENOTFOUND)
    goto out;
  workbook = target ? resolve("", target) : strdup("xl/workbook.xml");
  free(target);
  target = NULL;
  if (workbook == NULL) {
    rc = fail(&x, "the package names its workbook outside the archive");
    goto out;
  }
  if ((rc = first_sheet(&x, workbook, &sheet_name, &rid)) != 0)
    goto out;
  dir_of(workbook, base, sizeof base);
  rels_of(workbook, rels, sizeof rels);
  if ((rc = relationship(&x, rels, NULL, rid, &target)) != 0) {
    if (rc == TALLY_ENOTFOUND)
      rc = fail(&x, "the workbook does not say where its first sheet is "
                "(%s has no %s)", rels, rid);
    goto out;
  }
  if ((sheet_path = resolve(base, target)) == NULL) {
    rc = fail(&x, "the workbook names its first sheet outside the archive");
    goto out;
  }
  free(target);
  target = NULL;
  rc = relationship(&x, rels, "/sharedStrings", NULL, &target);
  if (rc < 0 && rc != TALLY_ENOTFOUND)
    goto out;
  strings_path = target ? resolve(base, target) : NULL;
  if (strings_path && (rc = shared_strings(&x, strings_path)) != 0)
    goto out;
  out->name = sheet_name;
  sheet_name = NULL;
  rc = read_sheet(&x, sheet_path, out);

out:
  if (x.rc)
    rc = x.rc;
  for (size_t i = 0; i < x.n_strings; i++)
    free(x.strings[i]);
  free(x.strings);
  free(workbook);
  free(target);
  free(sheet_name);
  free(rid);
  free(sheet_path);
  free(strings_path);
  zip_discard(x.zip);
  if (rc != 0)
    tally_xlsx_free(out);
  return rc;
}

void tally_xlsx_free(tally_xlsx_sheet *s) {
  for (size_t i = 0; i < s->n; i++) {
    for (size_t k = 0; k < s->rows[i].n; k++)
      free(s->rows[i].cells[k].text);
    free(s->rows[i].cells);
  }
  free(s->rows);
  free(s->name);
  memset(s, 0, sizeof *s);
}

const tally_xlsx_cell *tally_xlsx_at(const tally_xlsx_row *row, int col) {
  for (size_t i = 0; i < row->n; i++)
    if (row->cells[i].col == col)
      return &row->cells[i];
  return NULL;
}
