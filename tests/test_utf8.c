/* test_utf8.c: the text checks of common/utf8.c. (The character-level
 * checks are tested with the CSV reader, in test_figfile.c.) */
#include "utf8.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test(utf8, the_valid_prefix_stops_at_the_first_bad_byte) {
  cr_assert_eq(tally_utf8_valid_prefix("abc", 3), 3);
  cr_assert_eq(tally_utf8_valid_prefix("\xe5\x8c\xba", 3), 3);
  cr_assert_eq(tally_utf8_valid_prefix("ab\xff" "c", 4), 2);
  cr_assert_eq(tally_utf8_valid_prefix("a\xe5\x8c", 3), 1, "a cut character");
  cr_assert_eq(tally_utf8_valid_prefix("", 0), 0);
}

Test(utf8, text_is_utf8_without_control_characters_within_max) {
  cr_assert(tally_utf8_is_text("明显降低", TALLY_UTF8_TEXT_MAX));
  cr_assert(tally_utf8_is_text("", 0));
  cr_assert_not(tally_utf8_is_text("abc", 2), "over max bytes");
  cr_assert_not(tally_utf8_is_text("a\tb", 10));
  cr_assert_not(tally_utf8_is_text("a\xe2\x80\xaeb", 10), "a bidi override");
  cr_assert_not(tally_utf8_is_text("a\xc0\xafb", 10), "an overlong form");
  char longest[TALLY_UTF8_TEXT_MAX + 2];
  memset(longest, 'x', sizeof longest - 1);
  longest[sizeof longest - 1] = 0;
  cr_assert_not(tally_utf8_is_text(longest, TALLY_UTF8_TEXT_MAX));
  longest[TALLY_UTF8_TEXT_MAX] = 0;
  cr_assert(tally_utf8_is_text(longest, TALLY_UTF8_TEXT_MAX));
}

Test(utf8, printable_ascii_has_no_blank_and_nothing_past_0x7e) {
  cr_assert(tally_utf8_is_printable_ascii("sub-2022_Q3.1", 64));
  cr_assert(tally_utf8_is_printable_ascii("", 64));
  cr_assert_not(tally_utf8_is_printable_ascii("a b", 64));
  cr_assert_not(tally_utf8_is_printable_ascii("区", 64));
  cr_assert_not(tally_utf8_is_printable_ascii("a\x7f", 64));
  cr_assert_not(tally_utf8_is_printable_ascii("abcd", 3));
  cr_assert(tally_utf8_is_printable_ascii("abc", 3));
}

Test(utf8, for_terminal_replaces_controls_and_keeps_text) {
  char codes[] = "a\x1b[2Jb\xc2\x9b" "c\rd\x7f", stray[] = "x\x9by",
       text[] = "活产数\t婴儿死亡数\n", empty[] = "";
  char *t = tally_utf8_for_terminal(codes);
  cr_assert_str_eq(t, "a\xef\xbf\xbd[2Jb\xef\xbf\xbd" "c\xef\xbf\xbd"
                      "d\xef\xbf\xbd");
  free(t);
  /* A stray byte that is not UTF-8 (a lone CSI, 0x9b) too. */
  t = tally_utf8_for_terminal(stray);
  cr_assert_str_eq(t, "x\xef\xbf\xbdy");
  free(t);
  /* Chinese, newlines and tabs need nothing. */
  cr_assert_null(tally_utf8_for_terminal(text));
  cr_assert_null(tally_utf8_for_terminal(empty));
}
