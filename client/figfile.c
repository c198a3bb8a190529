#include "figfile.h"

#include "error.h"
#include "file.h"
#include "i18n.h"
#include "utf8.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest field: an explanation's text of 600 bytes
 * (TALLY_EXPLANATION_MAX), and room to say it is longer; other fields
 * are at most FIELD_TEXT_MAX. */
#define MAX_FIELD 640
#define FIELD_TEXT_MAX 255

struct reader {
  const char *name;
  tally_figfile *list;
  size_t cap;
  int line;          /* the line being fed to libcsv */
  int row_line;      /* the line the current row started on */
  int in_row;        /* a row has started and not yet ended */
  int nfields;       /* fields of the current row so far */
  int extra;         /* fields past the second that hold more than blanks */
  char field[2][MAX_FIELD];
  char third[8];     /* the start of the third field, for a hint */
  int too_long;      /* a field of the row was over MAX_FIELD */
  int rows;          /* rows seen, comments and header included */
  int rc;            /* first error */
  int stop;          /* a problem after which nothing more is read (the
                        CSV's own syntax, memory): rows are ignored */
  int shown;         /* problems written in err (none: err unset) */
  int hidden;        /* problems not in err for want of room */
  const char *line_word; /* "line", or "row" for a sheet */
  char *err;
  size_t errlen;
};

const char *tally_figfile_where(char *buf, size_t n, const char *name,
                                const char *line_word, int line) {
  if (strcmp(line_word, "row") == 0)
    snprintf(buf, n, _("%s row %d: "), name, line);
  else if (strcmp(line_word, "line") == 0)
    snprintf(buf, n, _("%s line %d: "), name, line);
  else
    snprintf(buf, n, "%s %s %d: ", name, line_word, line);
  tally_utf8_trim(buf); /* a long name cut inside a character */
  return buf;
}

/* Adds text to err on a line of its own, or counts it when it does not
 * fit (room is kept for more_problems). */
static void tell(struct reader *r, const char *text) {
  size_t at = r->shown ? strlen(r->err) : 0;
  if (at + 1 + strlen(text) + 80 < r->errlen) {
    snprintf(r->err + at, r->errlen - at, "%s%s", at ? "\n" : "", text);
    r->shown++;
  } else {
    r->hidden++;
  }
}

/* A problem with a row, added to err on a line of its own; the rows
 * after it are still read, for their problems (every one is told at
 * once). One that no longer fits in err is counted (more_problems). */
static void set_error(struct reader *r, int line, const char *fmt,
                      const char *arg) {
  char msg[512], where[300], text[900];
  if (r->stop)
    return;
  snprintf(msg, sizeof msg, fmt, arg);
  snprintf(text, sizeof text, "%s%s",
           tally_figfile_where(where, sizeof where, r->name, r->line_word,
                               line),
           msg);
  tell(r, text);
  if (r->rc == 0)
    r->rc = TALLY_ECSV;
}

/* Says in err how many problems did not fit in it. */
static void more_problems(struct reader *r) {
  if (r->hidden == 0)
    return;
  size_t at = r->shown ? strlen(r->err) : 0;
  snprintf(r->err + at, r->errlen - at, _("\n(and %d more problems)"),
           r->hidden);
  if (at == 0)
    memmove(r->err, r->err + 1, strlen(r->err)); /* no line before it */
}

/* A problem after which nothing more is read (text: where and what),
 * told after the rows' problems before it. */
static void stop_with(struct reader *r, int rc, const char *text) {
  tell(r, text);
  r->rc = rc;
  r->stop = 1;
}

/* s cut to at most 60 bytes between characters, into buf: what
 * '%.60s' then shows, never half a character. */
static const char *first60(char buf[61], const char *s) {
  size_t n = strnlen(s, 60);
  memcpy(buf, s, n);
  buf[n] = 0;
  tally_utf8_trim(buf);
  return buf;
}

static void trim(char *s) {
  size_t n = strlen(s), i = 0;
  while (n > 0 && isspace((unsigned char)s[n - 1]))
    s[--n] = 0;
  while (isspace((unsigned char)s[i]))
    i++;
  memmove(s, s + i, n - i + 1);
}

int tally_figfile_number(const char *s, double *out) {
  const char *p = s;
  char *end;
  int digits = 0;

  if (*p == '+' || *p == '-')
    p++;
  while (isdigit((unsigned char)*p))
    p++, digits++;
  if (*p == '.') {
    p++;
    while (isdigit((unsigned char)*p))
      p++, digits++;
  }
  if (digits == 0)
    return TALLY_EVALUE;
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-')
      p++;
    if (!isdigit((unsigned char)*p))
      return TALLY_EVALUE;
    while (isdigit((unsigned char)*p))
      p++;
  }
  if (*p != 0)
    return TALLY_EVALUE;
  errno = 0;
  *out = strtod(s, &end);
  if (errno == ERANGE || *end != 0)
    return TALLY_EVALUE;
  return 0;
}

static void on_field(void *data, size_t len, void *arg) {
  struct reader *r = arg;
  if (r->nfields == 2) {
    size_t n = len < sizeof r->third - 1 ? len : sizeof r->third - 1;
    memcpy(r->third, data ? data : "", n);
    r->third[n] = 0;
  }
  if (r->nfields >= 2) {
    const char *s = data;
    for (size_t i = 0; s && i < len; i++)
      if (!isspace((unsigned char)s[i])) {
        r->extra++;
        break;
      }
  }
  if (r->nfields < 2) {
    if (len >= MAX_FIELD) {
      r->too_long = 1;
      len = MAX_FIELD - 1; /* keep the start: it may be a comment */
    }
    memcpy(r->field[r->nfields], data ? data : "", len);
    r->field[r->nfields][len] = 0;
  }
  r->nfields++;
}

static int add_figure(struct reader *r, const char *element, double value) {
  tally_figfile *l = r->list;
  if (l->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 64;
    tally_figfile_row *grown = realloc(l->items, cap * sizeof *grown);
    if (grown == NULL)
      return -ENOMEM;
    l->items = grown;
    r->cap = cap;
  }
  char *e = strdup(element);
  if (e == NULL)
    return -ENOMEM;
  l->items[l->n].element = e;
  l->items[l->n].value = value;
  l->items[l->n].line = r->row_line;
  l->n++;
  return 0;
}

/* The rule an explanation row names ("explain:RULE", "说明:RULE",
 * "说明：RULE"), or NULL when elem is not one. */
static const char *explains(const char *elem) {
  static const char *const prefixes[] = {"explain:", "\xe8\xaf\xb4\xe6\x98\x8e:",
                                         "\xe8\xaf\xb4\xe6\x98\x8e\xef\xbc\x9a"};
  for (size_t i = 0; i < 3; i++)
    if (strncasecmp(elem, prefixes[i], strlen(prefixes[i])) == 0)
      return elem + strlen(prefixes[i]);
  return NULL;
}

static int add_explanation(struct reader *r, int line, const char *rule,
                           const char *text) {
  tally_figfile *l = r->list;
  for (size_t i = 0; i < l->n_explanations; i++)
    if (strcmp(l->explanations[i].rule, rule) == 0) {
      char msg[160];
      char rule60[61];
      snprintf(msg, sizeof msg, "rule %.60s is explained twice (also line %d)",
               first60(rule60, rule), l->explanations[i].line);
      set_error(r, line, "%s", msg);
      return 0;
    }
  tally_figfile_explanation *grown =
      realloc(l->explanations, (l->n_explanations + 1) * sizeof *grown);
  if (grown == NULL)
    return -ENOMEM;
  l->explanations = grown;
  tally_figfile_explanation *e = &l->explanations[l->n_explanations];
  if ((e->rule = strdup(rule)) == NULL)
    return -ENOMEM;
  if ((e->text = strdup(text)) == NULL) {
    free(e->rule);
    return -ENOMEM;
  }
  e->line = line;
  l->n_explanations++;
  return 0;
}

/* A header row: a first row whose fields name the columns, in English
 * or in Chinese. */
static int is_header(const char *elem, const char *val) {
  static const char *const elems[] = {
      "data_element", "element", "code",
      "\xe6\x95\xb0\xe6\x8d\xae\xe5\x85\x83\xe7\xb4\xa0", /* 数据元素 */
      "\xe6\x95\xb0\xe6\x8d\xae\xe9\xa1\xb9",             /* 数据项 */
      "\xe6\x8c\x87\xe6\xa0\x87",                         /* 指标 */
      "\xe9\xa1\xb9\xe7\x9b\xae",                         /* 项目 */
      "\xe4\xbb\xa3\xe7\xa0\x81"};                        /* 代码 */
  static const char *const vals[] = {
      "value", "\xe6\x95\xb0\xe5\x80\xbc", /* 数值 */
      "\xe5\x80\xbc",                       /* 值 */
      "\xe6\x95\xb0\xe6\x8d\xae"};         /* 数据 */
  int e = 0, v = 0;
  for (size_t i = 0; i < sizeof elems / sizeof elems[0]; i++)
    e |= strcasecmp(elem, elems[i]) == 0;
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
    v |= strcasecmp(val, vals[i]) == 0;
  return e && v;
}

/* Why a value that is not a number is not one, when a spreadsheet's
 * habits explain it: a percentage, or a unit after the number. */
static const char *not_a_number_why(const char *val) {
  size_t n = strlen(val);
  if ((n >= 1 && val[n - 1] == '%') ||
      (n >= 3 && strcmp(val + n - 3, "\xef\xbc\x85") == 0)) /* ％ */
    return _(": a percentage; figures are counts and amounts, never rates "
             "(send what the rate is made of, e.g. the women screened and "
             "the women eligible)");
  size_t digits = 0;
  while (digits < n && (isdigit((unsigned char)val[digits]) ||
                        val[digits] == '.' || val[digits] == ','))
    digits++;
  const char *rest = val + digits;
  /* A number, then words without digits: 1255人, 1255 persons; not 0x10
   * or 1e5x. */
  if (digits > 0 && *rest && strpbrk(rest, "0123456789") == NULL &&
      strchr("xXeE", *rest) == NULL)
    return _(": write the number alone, without its unit");
  return "";
}

static void on_row(int term, void *arg) {
  struct reader *r = arg;
  int nf = r->nfields, line = r->row_line;
  char *elem = r->field[0], *val = r->field[1];
  double v;
  char oom[300];

  if (nf > 2 && r->extra == 0)
    nf = 2; /* the empty columns a spreadsheet adds */
  r->nfields = 0;
  r->extra = 0;
  r->in_row = 0;
  if (r->stop || nf == 0)
    return;
  r->rows++;
  trim(elem); /* comments never get here: tally_figfile_parse skips them */
  if (r->too_long) {
    r->too_long = 0;
    if (explains(elem))
      set_error(r, line, "the explanation is longer than %s bytes (200 "
                "Chinese characters)", "600");
    else
      set_error(r, line, "a field is longer than %s characters", "255");
    return;
  }
  if (strlen(elem) > FIELD_TEXT_MAX ||
      (strlen(r->field[1]) > FIELD_TEXT_MAX && !explains(elem))) {
    set_error(r, line, "a field is longer than %s characters", "255");
    return;
  }
  if (nf == 1 && elem[0] == 0)
    return; /* a line of blanks */
  if (nf != 2) {
    /* With one field, the separator a Chinese keyboard or a spreadsheet
     * may have put in. */
    /* 1,255 unquoted: a number's thousands split it over two fields. */
    int split = nf == 3 && strlen(r->third) == 3 && *val &&
                strspn(val, "0123456789") == strlen(val) &&
                strspn(r->third, "0123456789") == 3;
    const char *hint = split ? _("; a number with a thousands separator is "
                                 "quoted: \"1,255\"")
                       : nf != 1 ? ""
                       : strstr(elem, "\xef\xbc\x8c")
                           ? _("; the full-width comma '\xef\xbc\x8c' is not a "
                               "separator: use ','")
                       : strchr(elem, '\t') ? _("; separate with a comma, not a tab")
                       : strchr(elem, ';')  ? _("; separate with a comma, not ';'")
                                            : "";
    char msg[300];
    snprintf(msg, sizeof msg, _("expected 2 fields (data_element,value), "
             "found %d%s"), nf, hint);
    set_error(r, line, "%s", msg);
    return;
  }
  trim(val);
  if (r->list->n == 0 && r->list->blank == 0 && is_header(elem, val))
    return; /* the header */
  if (elem[0] == 0) {
    set_error(r, line, _("the data element is empty%s"), "");
    return;
  }
  const char *rule = explains(elem);
  if (rule) {
    char code[MAX_FIELD];
    snprintf(code, sizeof code, "%s", rule);
    trim(code);
    if (code[0] == 0 || val[0] == 0)
      set_error(r, line, "an explanation row reads explain:RULE,TEXT: %s",
                code[0] ? "the text is empty" : "the rule is missing");
    else if (strlen(val) > TALLY_EXPLANATION_MAX)
      set_error(r, line, "the explanation is longer than %s bytes (200 "
                "Chinese characters)", "600");
    else if (add_explanation(r, line, code, val) != 0) {
      snprintf(oom, sizeof oom, "%s: out of memory", r->name);
      stop_with(r, -ENOMEM, oom);
    }
    return;
  }
  if (val[0] == 0) {
    if (r->list->blank++ == 0)
      r->list->first_blank = line;
    return;
  }
  char plain[MAX_FIELD];
  snprintf(plain, sizeof plain, "%s", val);
  char val60[61];
  first60(val60, val);
  if (tally_figfile_number(tally_figfile_plain_number(plain), &v) != 0) {
    char msg[400];
    /* A first row with words for a value: a header of other words? */
    if (r->list->n == 0 && r->list->blank == 0 &&
        strpbrk(val, "0123456789") == NULL)
      snprintf(msg, sizeof msg, _("value '%.60s' is not a number (a header "
               "row, if this is one, reads data_element,value)"), val60);
    else
      snprintf(msg, sizeof msg, _("value '%.60s' is not a number%s"), val60,
               not_a_number_why(plain));
    set_error(r, line, "%s", msg);
    return;
  }
  if (v < 0) {
    set_error(r, line, _("value '%.60s' is negative; figures are never "
              "negative"), val60);
    return;
  }
  if (add_figure(r, elem, v) != 0) {
    snprintf(oom, sizeof oom, "%s: out of memory", r->name);
    stop_with(r, -ENOMEM, oom);
  }
}

int tally_figfile_value(const char *text, double *out, char *why, size_t n) {
  char plain[MAX_FIELD];
  snprintf(plain, sizeof plain, "%s", text);
  trim(plain);
  char text60[61];
  first60(text60, text);
  if (tally_figfile_number(tally_figfile_plain_number(plain), out) != 0) {
    snprintf(why, n, _("value '%.60s' is not a number%s"), text60,
             not_a_number_why(plain));
    return TALLY_EVALUE;
  }
  if (*out < 0) {
    snprintf(why, n, _("value '%.60s' is negative; figures are never "
             "negative"), text60);
    return TALLY_EVALUE;
  }
  return 0;
}

/* A comment "#form,UNIT,PERIOD" (blanks and a trailing comma allowed):
 * whose form the file is. The first one counts. */
static void form_row(struct reader *r, const char *s, size_t n) {
  char line[160], *save = NULL, *tag, *unit, *period;
  tally_figfile *l = r->list;
  while (n > 0 && (*s == ' ' || *s == '\t'))
    s++, n--;
  if (l->form_line || n < 6 || n >= sizeof line || strncmp(s, "#form,", 6))
    return;
  memcpy(line, s, n);
  line[n] = 0;
  if ((tag = strtok_r(line, ",\r\n", &save)) == NULL ||
      (unit = strtok_r(NULL, ",\r\n", &save)) == NULL ||
      (period = strtok_r(NULL, ",\r\n", &save)) == NULL)
    return;
  trim(unit);
  trim(period);
  if (!*unit || !*period || strlen(unit) >= sizeof l->form_unit ||
      strlen(period) >= sizeof l->form_period)
    return;
  strcpy(l->form_unit, unit);
  strcpy(l->form_period, period);
  l->form_line = r->line;
}

/* True when s[0..n) holds only blanks and line ends. */
static int blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
      return 0;
  return 1;
}

/* Returns the line of the first byte that is not valid UTF-8, or 0. */
static int bad_utf8_line(const char *s, size_t n) {
  size_t bad = tally_utf8_valid_prefix(s, n);
  int line = 1;
  if (bad == n)
    return 0;
  for (size_t i = 0; i < bad; i++)
    line += s[i] == '\n';
  return line;
}

/* True when the line's first character that is not a blank is '#'. */
static int is_comment(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t'))
    i++;
  return i < n && s[i] == '#';
}

/* libcsv's error in the words of the file's author; at_end: found when
 * the file ended. */
static const char *csv_problem(int code, int at_end) {
  if (code == CSV_EPARSE && at_end)
    return "a quoted field is not closed: a '\"' is missing";
  if (code == CSV_EPARSE)
    return "a quote in the wrong place: a field with '\"' in it is quoted "
           "whole, its own quotes doubled (\"say \"\"hi\"\"\")";
  return csv_strerror(code);
}

/* True when s is [+-]d{1,3}(,ddd)+(.d*): written with thousands
 * separators. */
static int grouped(const char *s) {
  const char *p = s + (*s == '+' || *s == '-');
  int n = 0;
  if (*p == '0')
    return 0; /* 0,123 is a decimal comma, no thousands */
  while (isdigit((unsigned char)*p))
    p++, n++;
  if (n < 1 || n > 3 || *p != ',')
    return 0;
  while (*p == ',') {
    p++;
    for (int k = 0; k < 3; k++, p++)
      if (!isdigit((unsigned char)*p))
        return 0;
  }
  if (*p == '.')
    for (p++; isdigit((unsigned char)*p);)
      p++;
  return *p == 0;
}

char *tally_figfile_plain_number(char *s) {
  char *w = s;
  for (const char *p = s; *p;) {
    const unsigned char *u = (const unsigned char *)p;
    /* Full-width forms: U+FF10-FF19 digits, U+FF0B '+', U+FF0D '-',
     * U+FF0E '.', U+FF0C ',' (EF BC xx in UTF-8). */
    if (u[0] == 0xef && u[1] == 0xbc && u[2] >= 0x90 && u[2] <= 0x99) {
      *w++ = (char)('0' + (u[2] - 0x90));
      p += 3;
    } else if (u[0] == 0xef && u[1] == 0xbc &&
               (u[2] == 0x8b || u[2] == 0x8c || u[2] == 0x8d ||
                u[2] == 0x8e)) {
      *w++ = "+,-."[u[2] - 0x8b];
      p += 3;
    } else {
      *w++ = *p++;
    }
  }
  *w = 0;
  if (grouped(s)) {
    w = s;
    for (const char *p = s; *p; p++)
      if (*p != ',')
        *w++ = *p;
    *w = 0;
  }
  return s;
}

/* True when text is UTF-8 with a few stray bytes rather than GB18030:
 * at least twice as many well-formed multi-byte UTF-8 characters as
 * bytes that are none. In GBK Chinese text most characters are no
 * UTF-8 (a lead byte 0xB0-0xBF, or a trail byte that is no continuation
 * byte) and a few are by chance: the seed documents in GBK hold 0.27
 * well-formed ones a stray byte, the catalog's element names 0.20. */
static int mostly_utf8(const char *text, size_t len) {
  const unsigned char *s = (const unsigned char *)text;
  size_t valid = 0, stray = 0;
  for (size_t i = 0; i < len;) {
    if (s[i] < 0x80) {
      i++;
      continue;
    }
    size_t k = tally_utf8_char(s + i, len - i);
    if (k == 0) {
      stray++;
      i++;
    } else {
      valid++;
      i += k;
    }
  }
  return valid >= 2 * stray;
}

int tally_figfile_to_utf8(const char *name, const char *text, size_t len,
                          const char *encoding, const char **utf8,
                          size_t *ulen, char **copy, char *err,
                          size_t errlen) {
  int bad;
  *copy = NULL;
  *utf8 = text;
  *ulen = len;
  int utf = encoding == NULL || strcasecmp(encoding, "utf-8") == 0 ||
            strcasecmp(encoding, "utf8") == 0;
  if (encoding && !utf && strcasecmp(encoding, "gb18030") != 0 &&
      strcasecmp(encoding, "gbk") != 0) {
    snprintf(err, errlen, "%s: unknown encoding '%s' (utf-8, gb18030 or "
             "gbk)", name, encoding);
    return TALLY_EUSAGE;
  }
  if (utf && (bad = bad_utf8_line(text, len)) == 0)
    return 0;
  if (utf && encoding) {
    snprintf(err, errlen, _("%s line %d: not valid UTF-8 (save the file as "
             "UTF-8, or give --encoding gb18030)"), name, bad);
    return TALLY_ECSV;
  }
  if (utf && mostly_utf8(text, len)) {
    snprintf(err, errlen, _("%s line %d: not valid UTF-8, though the rest "
             "of the file is: mend that line (or, if the file is GBK, give "
             "--encoding gb18030)"), name, bad);
    return TALLY_ECSV;
  }
  /* GB18030, a superset of GBK: at most four bytes become four. */
  iconv_t cd = iconv_open("UTF-8", "GB18030");
  if (cd == (iconv_t)-1) {
    snprintf(err, errlen, "%s: this system cannot read GB18030 (iconv)",
             name);
    return TALLY_ECSV;
  }
  size_t cap = len * 2 + 4, left = cap, in_left = len;
  char *out = malloc(cap), *w = out, *in = (char *)text;
  if (out == NULL) {
    iconv_close(cd);
    return -ENOMEM;
  }
  if (iconv(cd, &in, &in_left, &w, &left) == (size_t)-1 ||
      iconv(cd, NULL, NULL, &w, &left) == (size_t)-1) {
    int line = 1;
    for (const char *q = text; q < in; q++)
      line += *q == '\n';
    snprintf(err, errlen, _("%s line %d: neither UTF-8 nor GB18030 (GBK): "
             "save the file as UTF-8, or as Excel's CSV"), name, line);
    free(out);
    iconv_close(cd);
    return TALLY_ECSV;
  }
  iconv_close(cd);
  *copy = out;
  *utf8 = out;
  *ulen = cap - left;
  return 0;
}

int tally_figfile_parse(const char *name, const char *text, size_t len,
                        tally_figfile *out, char *err, size_t errlen) {
  return tally_figfile_parse_as(name, text, len, NULL, out, err, errlen);
}

int tally_figfile_not_text(const char *name, const char *data, size_t len,
                           char *err, size_t errlen) {
  if (tally_xlsx_looks_legacy(data, len)) {
    snprintf(err, errlen, _("%s: an Excel 97-2003 workbook (.xls) or a "
             "workbook with a password, which tally cannot read: save it "
             "as an Excel workbook (.xlsx) without a password, or as CSV"),
             name);
    return TALLY_ECSV;
  }
  const char *nul = memchr(data, 0, len);
  if (nul == NULL)
    return 0;
  int line = 1;
  for (const char *q = data; q < nul; q++)
    line += *q == '\n';
  snprintf(err, errlen, _("%s line %d: holds a NUL byte: not a text file"),
           name, line);
  return TALLY_ECSV;
}

int tally_figfile_parse_as(const char *name, const char *text, size_t len,
                           const char *encoding, tally_figfile *out,
                           char *err, size_t errlen) {
  struct csv_parser p;
  struct reader r;
  char *decoded;
  int rc;

  memset(out, 0, sizeof *out);
  memset(&r, 0, sizeof r);
  r.name = name;
  r.list = out;
  r.err = err;
  r.errlen = errlen;
  r.line_word = out->line_word = "line";

  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
    text += 3;
    len -= 3;
  }
  if ((rc = tally_figfile_not_text(name, text, len, err, errlen)) != 0)
    return rc;
  if ((rc = tally_figfile_to_utf8(name, text, len, encoding, &text, &len,
                                  &decoded, err, errlen)) != 0)
    return rc;
  /* Lines end in LF or CRLF; a file from an old Mac ends them in CR
   * alone: read as LF, so that comments are found line by line. */
  char *lf = NULL;
  for (size_t i = 0; i < len; i++)
    if (text[i] == '\r' && (i + 1 == len || text[i + 1] != '\n')) {
      if ((lf = malloc(len)) == NULL) {
        free(decoded);
        return -ENOMEM;
      }
      memcpy(lf, text, len);
      for (size_t j = i; j < len; j++)
        if (lf[j] == '\r' && (j + 1 == len || lf[j + 1] != '\n'))
          lf[j] = '\n';
      text = lf;
      break;
    }
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
    free(lf);
    free(decoded);
    return -ENOMEM;
  }

  /* Feed one line at a time, so the callbacks know the line number. A
   * row starts on the first line, outside a row, that holds more than
   * the blanks and line ends libcsv skips; a quoted field may carry it
   * over several lines. */
  size_t off = 0;
  r.line = 1;
  while (off < len && !r.stop) {
    const char *nl = memchr(text + off, '\n', len - off);
    size_t n = nl ? (size_t)(nl - (text + off)) + 1 : len - off;
    if (!r.in_row && is_comment(text + off, n)) {
      /* Not given to libcsv: a comment may hold quotes, which strict
       * CSV refuses inside an unquoted field. */
      form_row(&r, text + off, n);
      off += n;
      if (nl)
        r.line++;
      continue;
    }
    if (!r.in_row && !blank(text + off, n)) {
      r.row_line = r.line;
      r.in_row = 1;
    }
    if (csv_parse(&p, text + off, n, on_field, on_row, &r) != n) {
      char where[300], what[600];
      snprintf(what, sizeof what, "%s%s",
               tally_figfile_where(where, sizeof where, name, "line", r.line),
               csv_problem(csv_error(&p), 0));
      stop_with(&r, TALLY_ECSV, what);
    }
    off += n;
    if (nl)
      r.line++;
  }
  if (!r.stop && csv_fini(&p, on_field, on_row, &r) != 0) {
    char where[300], what[600];
    snprintf(what, sizeof what, "%s%s",
             tally_figfile_where(where, sizeof where, name, "line",
                                 r.in_row ? r.row_line : r.line),
             csv_problem(csv_error(&p), 1));
    stop_with(&r, TALLY_ECSV, what);
  }
  csv_free(&p);
  free(lf);
  free(decoded);
  if (r.rc == 0 && out->n == 0) {
    snprintf(err, errlen, _("%s: no figures in the file%s"), name,
             out->blank ? _(" (every value is empty)") : "");
    r.rc = TALLY_ECSV;
  }
  more_problems(&r);
  if (r.rc != 0)
    tally_figfile_release(out);
  return r.rc;
}

/* The first word of a cell's text (up to a blank), lower-cased ASCII,
 * into buf. */
static const char *first_word(const char *s, char *buf, size_t n) {
  size_t i = 0;
  while (*s == ' ')
    s++;
  while (s[i] && s[i] != ' ' && s[i] != '(' && i + 1 < n) {
    buf[i] = (char)tolower((unsigned char)s[i]);
    i++;
  }
  buf[i] = 0;
  return buf;
}

/* What a label cell of a sheet names: 'u' the unit, 'p' the period, or
 * 0. */
static int label_of(const char *text) {
  static const char *const units[] = {
      "unit", "\xe5\x8d\x95\xe4\xbd\x8d", /* 单位 */
      "\xe5\xa1\xab\xe6\x8a\xa5\xe5\x8d\x95\xe4\xbd\x8d"}; /* 填报单位 */
  static const char *const periods[] = {
      "period", "\xe6\x9c\x9f\xe9\x97\xb4", /* 期间 */
      "\xe6\x8a\xa5\xe5\x91\x8a\xe6\x9c\x9f"}; /* 报告期 */
  char w[64];
  first_word(text, w, sizeof w);
  for (size_t i = 0; i < 3; i++) {
    if (strcmp(w, units[i]) == 0)
      return 'u';
    if (strcmp(w, periods[i]) == 0)
      return 'p';
  }
  return 0;
}

/* The header row of a sheet among its first rows: the columns whose
 * first words name the elements and the values (is_header's words).
 * Returns the index of the row, or -1. */
static long sheet_header(const tally_xlsx_sheet *sh, int *ecol, int *vcol) {
  for (size_t i = 0; i < sh->n && i < 64; i++) {
    int e = -1, v = -1;
    for (size_t k = 0; k < sh->rows[i].n; k++) {
      const tally_xlsx_cell *c = &sh->rows[i].cells[k];
      char w[64];
      first_word(c->text, w, sizeof w);
      if (e < 0 && is_header(w, "value"))
        e = c->col;
      else if (v < 0 && is_header("code", w))
        v = c->col;
    }
    if (e >= 0 && v >= 0) {
      *ecol = e;
      *vcol = v;
      return (long)i;
    }
  }
  return -1;
}

/* A number cell's value as text that reads back as the same double. */
static void number_cell_text(const tally_xlsx_cell *c, char *buf, size_t n) {
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(buf, n, "%.*g", digits, c->number);
    if (strtod(buf, NULL) == c->number)
      return;
  }
}

int tally_figfile_from_sheet(const char *name, const tally_xlsx_sheet *sh,
                             tally_figfile *out, char *err, size_t errlen) {
  struct reader r;
  int ecol = 0, vcol = 1;

  memset(out, 0, sizeof *out);
  memset(&r, 0, sizeof r);
  r.name = name;
  r.list = out;
  r.err = err;
  r.errlen = errlen;
  r.line_word = out->line_word = "row";
  long header = sheet_header(sh, &ecol, &vcol);

  for (size_t i = 0; i < sh->n && !r.stop; i++) {
    const tally_xlsx_row *row = &sh->rows[i];
    const tally_xlsx_cell *e = tally_xlsx_at(row, ecol),
                          *v = tally_xlsx_at(row, vcol);
    if ((long)i <= header) {
      /* Labels left of the header: whose form, for which period. */
      const tally_xlsx_cell *label = row->n ? &row->cells[0] : NULL;
      const tally_xlsx_cell *what = label ? tally_xlsx_at(row, label->col + 1)
                                          : NULL;
      int kind = label ? label_of(label->text) : 0;
      char text[64];
      if (what && what->is_number)
        number_cell_text(what, text, sizeof text);
      else
        snprintf(text, sizeof text, "%s", what ? what->text : "");
      trim(text);
      if (kind == 'u' && *text && strlen(text) < sizeof out->form_unit) {
        strcpy(out->form_unit, text);
        out->form_line = row->row;
      } else if (kind == 'p' && *text &&
                 strlen(text) < sizeof out->form_period) {
        strcpy(out->form_period, text);
        out->form_line = out->form_line ? out->form_line : row->row;
      }
      continue;
    }
    /* The two columns, as a CSV row of two fields. */
    const char *etext = e ? e->text : "";
    char vtext[64];
    if (v && v->is_number)
      number_cell_text(v, vtext, sizeof vtext);
    size_t elen = strlen(etext), vlen = v ? strlen(v->text) : 0;
    const char *vt = v && v->is_number ? vtext : v ? v->text : "";
    if (v && v->is_number)
      vlen = strlen(vtext);
    {
      const char *p = etext;
      while (*p == ' ')
        p++;
      if (*p == '#')
        continue; /* a comment */
    }
    if (elen == 0 && vlen == 0)
      continue;
    r.row_line = row->row;
    r.nfields = 0;
    on_field((char *)etext, elen, &r);
    on_field((char *)vt, vlen, &r);
    on_row(0, &r);
  }
  if (r.rc == 0 && out->form_unit[0] && !out->form_period[0])
    out->form_unit[0] = 0, out->form_line = 0; /* half a form: none */
  if (r.rc == 0 && out->n == 0) {
    snprintf(err, errlen, "%s: no figures in the sheet%s%s%s", name,
             sh->name && *sh->name ? " '" : "",
             sh->name ? sh->name : "", sh->name && *sh->name ? "'" : "");
    if (out->blank)
      snprintf(err + strlen(err), errlen - strlen(err),
               " (every value is empty)");
    r.rc = TALLY_ECSV;
  }
  more_problems(&r);
  if (r.rc != 0)
    tally_figfile_release(out);
  return r.rc;
}

int tally_figfile_read(const char *path, const char *encoding,
                       tally_figfile *out, char *err, size_t errlen) {
  char *buf;
  size_t len;
  int rc = strcmp(path, "-") == 0 ? tally_file_read_stream(stdin, &buf, &len)
                                  : tally_file_read(path, &buf, &len);

  if (rc != 0) {
    snprintf(err, errlen, "%s: %s", path, tally_file_strerror(rc));
    return rc;
  }
  if (tally_xlsx_looks_like(buf, len)) {
    tally_xlsx_sheet sheet;
    memset(out, 0, sizeof *out);
    rc = tally_xlsx_parse(path, buf, len, &sheet, err, errlen);
    free(buf);
    if (rc != 0)
      return rc;
    rc = tally_figfile_from_sheet(path, &sheet, out, err, errlen);
    tally_xlsx_free(&sheet);
    return rc;
  }
  rc = tally_figfile_parse_as(path, buf, len, encoding, out, err, errlen);
  free(buf);
  return rc;
}

void tally_figfile_release(tally_figfile *list) {
  for (size_t i = 0; i < list->n; i++)
    free(list->items[i].element);
  free(list->items);
  for (size_t i = 0; i < list->n_explanations; i++) {
    free(list->explanations[i].rule);
    free(list->explanations[i].text);
  }
  free(list->explanations);
  memset(list, 0, sizeof *list);
}
