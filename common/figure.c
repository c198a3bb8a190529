/* figure.c: figures as text, with the precision they have. */
#include "figure.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SCALE_DIGITS 6 /* TALLY_AMOUNT_SCALE is 1e6 */
#define COMPUTED_DIGITS 12

/* Drops trailing zeros after a decimal point, and the point. */
static void trim(char *buf) {
  char *dot = strchr(buf, '.');
  if (dot == NULL)
    return;
  char *end = buf + strlen(buf);
  while (end > dot + 1 && end[-1] == '0')
    *--end = 0;
  if (end == dot + 1)
    *dot = 0;
  if (strcmp(buf, "-0") == 0)
    strcpy(buf, "0");
}

void tally_figure_amount(char *buf, size_t n, tally_amount a) {
  char digits[48];
  int len = 0, neg = a < 0;
  unsigned __int128 u = neg ? -(unsigned __int128)a : (unsigned __int128)a;
  do { /* least significant first */
    digits[len++] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u > 0 || len <= SCALE_DIGITS);
  char text[56];
  size_t at = 0;
  if (neg)
    text[at++] = '-';
  for (int i = len - 1; i >= 0; i--) {
    text[at++] = digits[i];
    if (i == SCALE_DIGITS)
      text[at++] = '.';
  }
  text[at] = 0;
  trim(text);
  snprintf(buf, n, "%s", text);
}

/* The significant digits of a's exact text: its digits less leading
 * zeros (and at least one). */
static int significant(tally_amount a) {
  char text[TALLY_FIGURE_STRLEN];
  int count = 0, leading = 1;
  tally_figure_amount(text, sizeof text, a);
  for (const char *p = text; *p; p++) {
    if (*p < '0' || *p > '9')
      continue;
    if (leading && *p == '0')
      continue;
    leading = 0;
    count++;
  }
  return count ? count : 1;
}

/* v to digits significant digits of scale, in plain decimals. */
static void rounded(char *buf, size_t n, double v, double scale, int digits) {
  if (!isfinite(v)) {
    snprintf(buf, n, "%g", v);
    return;
  }
  scale = fabs(scale);
  if (scale == 0 || !isfinite(scale))
    scale = fabs(v);
  if (scale == 0) {
    snprintf(buf, n, "0");
    return;
  }
  int decimals = digits - 1 - (int)floor(log10(scale));
  if (decimals < 0) {
    double unit = pow(10, -decimals);
    v = nearbyint(v / unit) * unit;
    decimals = 0;
  }
  if (decimals > 30)
    decimals = 30;
  char text[TALLY_FIGURE_STRLEN + 32];
  snprintf(text, sizeof text, "%.*f", decimals, v);
  trim(text);
  snprintf(buf, n, "%s", text);
}

void tally_figure_quotient(char *buf, size_t n, tally_amount a,
                           tally_amount b) {
  if (b == 0) {
    snprintf(buf, n, "%s", "");
    return;
  }
  int da = significant(a), db = significant(b);
  int digits = da < db ? da : db;
  if (digits > 15)
    digits = 15; /* what a double holds */
  rounded(buf, n, (double)a / (double)b, 0, digits);
}

void tally_figure_computed(char *buf, size_t n, double v, double scale) {
  rounded(buf, n, v, scale, COMPUTED_DIGITS);
}
