/* utf8.c: checking UTF-8 text, one character at a time. */
#include "utf8.h"

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
  return len == 2 && s[0] == 0xc2 && s[1] < 0xa0; /* U+0080-U+009F */
}
