/* utf8.h: checking UTF-8 text, one character at a time. */
#ifndef TALLY_UTF8_H
#define TALLY_UTF8_H

#include <stddef.h>

/* The length (1-4) of the well-formed UTF-8 character at s, of the n
 * bytes there; 0 when s does not start one (a stray byte, an overlong
 * form, a surrogate, past U+10FFFF, or cut short). */
size_t tally_utf8_char(const unsigned char *s, size_t n);

/* True when the character of len bytes at s is not for showing: a
 * control character (C0, DEL, C1), or one that is invisible or turns the
 * text's direction (the zero-width space, bidi marks, overrides and
 * isolates, line and paragraph separators, the byte order mark). The
 * zero-width joiners, which some scripts need, are shown. */
int tally_utf8_is_control(const unsigned char *s, size_t len);

/* Cuts a character that snprintf left half-written at the end of s. */
void tally_utf8_trim(char *s);

#endif
