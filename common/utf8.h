/* utf8.h: checking UTF-8 text, one character at a time. */
#ifndef TALLY_UTF8_H
#define TALLY_UTF8_H

#include <stddef.h>

/* The longest text for people a request may carry (a target's wording,
 * the reason given for a lock), in bytes. */
#define TALLY_UTF8_TEXT_MAX 200
/* The longest explanation of figures an office may give (200 Chinese
 * characters), in bytes. */
#define TALLY_EXPLANATION_MAX 600

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

/* The length of the longest well-formed UTF-8 start of the n bytes at
 * s: n when they are all UTF-8. */
size_t tally_utf8_valid_prefix(const char *s, size_t n);

/* True when s may be kept and shown to people: at most max bytes of
 * well-formed UTF-8 with no character tally_utf8_is_control refuses. */
int tally_utf8_is_text(const char *s, size_t max);

/* True when s is at most max bytes of printable ASCII other than the
 * space (0x21-0x7e), as a code or an id that is echoed back must be. */
int tally_utf8_is_printable_ascii(const char *s, size_t max);

/* s made safe to print on a terminal: each control character
 * (tally_utf8_is_control's, but for newline and tab: escape codes, C1,
 * bidi overrides) and each byte that is not UTF-8 replaced by U+FFFD.
 * Returns a malloc'd copy for the caller to free, or NULL when s needs
 * no change, or when memory ran out: then each such byte of s itself is
 * replaced by '?', so that nothing unsafe is left either way. */
char *tally_utf8_for_terminal(char *s);

/* Cuts a character that snprintf left half-written at the end of s. */
void tally_utf8_trim(char *s);

#endif
