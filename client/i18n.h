/* i18n.h: the command line's messages in the user's language, through
 * gettext (po/zh_CN.po, compiled into tally.mo at build time); English
 * where a message has no translation, or the locale is not Chinese. */
#ifndef TALLY_I18N_H
#define TALLY_I18N_H

#include <libintl.h>

#define _(text) gettext(text)
/* A message marked for xgettext where it is defined (a usage text);
 * _() translates it where it is printed. */
#define N_(text) text

/* Takes the messages' language from the locale (LANG, LC_MESSAGES,
 * LC_ALL) and finds tally.mo: beside the tally binary in locale/ (a
 * build tree), else in ../share/locale from it (an install). */
void tally_i18n_init(void);

#endif
