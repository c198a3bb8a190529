/* utf8.c: checking UTF-8 text, one character at a time (eight bytes of
 * ASCII at a time where they are). */
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t tally_utf8_char(const unsigned char *s, size_t n) {
  size_t k;
  if (n == 0)
    return 0;
  if (s[0] < 0x80)
    return 1;
  if (s[0] >= 0xc2 && s[0] <= 0xdf)
    k = 1;
  else if (s[0] >= 0xe0 && s[0] <= 0xef)
    k = 2;
  else if (s[0] >= 0xf0 && s[0] <= 0xf4)
    k = 3;
  else
    return 0;
  if (n <= k)
    return 0;
  for (size_t j = 1; j <= k; j++)
    if ((s[j] & 0xc0) != 0x80)
      return 0;
  /* Overlong three- and four-byte forms, surrogates, > U+10FFFF. */
  if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
      (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
    return 0;
  return k + 1;
}

int tally_utf8_is_control(const unsigned char *s, size_t len) {
  if (len == 1)
    return s[0] < 0x20 || s[0] == 0x7f;
  if (len == 2)
    return (s[0] == 0xc2 && s[1] < 0xa0) ||  /* U+0080-U+009F */
           (s[0] == 0xd8 && s[1] == 0x9c);   /* U+061C, Arabic letter mark */
  if (len == 3 && s[0] == 0xe2 && s[1] == 0x80) /* U+2000-U+203F */
    return s[2] == 0x8b ||                    /* U+200B; not the joiners */
           (s[2] >= 0x8e && s[2] <= 0x8f) ||  /* U+200E-U+200F */
           (s[2] >= 0xa8 && s[2] <= 0xae);    /* U+2028-U+202E */
  if (len == 3 && s[0] == 0xe2 && s[1] == 0x81) /* U+2060-U+206F */
    return s[2] >= 0xa0 && s[2] <= 0xaf;
  return len == 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf; /* BOM */
}

size_t tally_utf8_valid_prefix(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, k;
  for (;;) {
    /* Eight bytes at a time while they are ASCII (no high bit set), as
     * most of an import file is; memcpy: p + i need not be aligned. */
    while (n - i >= 8) {
      uint64_t w;
      memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080u)
        break;
      i += 8;
    }
    if (i >= n || (k = tally_utf8_char(p + i, n - i)) == 0)
      return i;
    i += k;
  }
}

int tally_utf8_is_text(const char *s, size_t max) {
  const unsigned char *p = (const unsigned char *)s;
  size_t len = strlen(s), k;
  if (len > max)
    return 0;
  for (size_t i = 0; i < len; i += k)
    if ((k = tally_utf8_char(p + i, len - i)) == 0 ||
        tally_utf8_is_control(p + i, k))
      return 0;
  return 1;
}

int tally_utf8_is_printable_ascii(const char *s, size_t max) {
  for (size_t n = 0; s[n]; n++)
    if (n >= max || s[n] < 0x21 || s[n] > 0x7e)
      return 0;
  return 1;
}

void tally_utf8_trim(char *s) {
  size_t n = strlen(s), i = tally_utf8_valid_prefix(s, n);
  if (i < n && n - i < 4 && ((unsigned char)s[i] & 0xc0) == 0xc0)
    s[i] = 0; /* a lead byte whose continuation was cut off */
}

/* Whether the character of k bytes at p (k = 0: a byte that is not
 * UTF-8) is replaced. */
static int unsafe(const unsigned char *p, size_t k) {
  return k == 0 || (tally_utf8_is_control(p, k) && p[0] != '\n' &&
                    p[0] != '\t');
}

char *tally_utf8_for_terminal(char *s) {
  unsigned char *p = (unsigned char *)s;
  size_t len = strlen(s), i, k, out = 0;
  for (i = 0; i < len; i += k) {
    k = tally_utf8_char(p + i, len - i);
    if (unsafe(p + i, k))
      break;
  }
  if (i == len)
    return NULL; /* nothing to replace */
  char *t = malloc(3 * len + 1); /* each byte at most one U+FFFD */
  if (t == NULL) {
    for (i = 0; i < len; i += k) {
      k = tally_utf8_char(p + i, len - i);
      if (unsafe(p + i, k))
        memset(p + i, '?', k ? k : (k = 1));
    }
    return NULL;
  }
  for (i = 0; i < len; i += k) {
    k = tally_utf8_char(p + i, len - i);
    if (unsafe(p + i, k)) {
      memcpy(t + out, "\xef\xbf\xbd", 3); /* U+FFFD */
      out += 3;
      k = k ? k : 1; /* a stray byte: one replacement each */
    } else {
      memcpy(t + out, p + i, k);
      out += k;
    }
  }
  t[out] = 0;
  return t;
}
