#!/bin/sh
# po/check.sh SOURCE_DIR BUILD_DIR: the translations against the code.
# Extracts the client's messages (xgettext: _() and N_()) into
# BUILD_DIR/tally.pot, then fails when a message the client prints has no
# entry in po/zh_CN.po (msgcmp), or when zh_CN.po holds a msgid the
# client no longer prints (an English text that changed: msgmerge makes
# it obsolete). It says how many entries have no Chinese yet. To update after changing messages:
#   po/check.sh . build/dev; msgmerge -U po/zh_CN.po build/dev/tally.pot
# then translate what msgmerge added (and drop the obsolete #~ entries).
set -eu
src=$1
out=$2
cd "$src"
xgettext --language=C --from-code=UTF-8 --keyword=_ --keyword=N_ \
  --package-name=tally --msgid-bugs-address=tally@example.org \
  --sort-by-file -o "$out/tally.pot" client/*.c 2> "$out/xgettext.log" ||
  { cat "$out/xgettext.log"; exit 1; }
status=0
# Each message the client prints has its entry in zh_CN.po (an entry
# still without Chinese prints in English, and is counted below).
if ! msgcmp --use-untranslated po/zh_CN.po "$out/tally.pot" 2> "$out/msgcmp.log"; then
  sed -n 's/^[^:]*\.pot:\([0-9]*\): .*/\1/p' "$out/msgcmp.log" | head -n 20 | while read -r line; do
    sed -n "$((line - 1)),$((line + 1))p" "$out/tally.pot"
  done
  echo "po/check.sh: $(grep -c 'not defined' "$out/msgcmp.log") messages the client prints are not in po/zh_CN.po: msgmerge -U po/zh_CN.po $out/tally.pot"
  status=1
fi
msgmerge -q --no-fuzzy-matching -o "$out/zh_CN.merged.po" po/zh_CN.po "$out/tally.pot"
stale=$(msgattrib --only-obsolete "$out/zh_CN.merged.po" | grep -c '^#~ msgid' || true)
if [ "$stale" -ne 0 ]; then
  msgattrib --only-obsolete "$out/zh_CN.merged.po" | grep -A3 '^#~ msgid' | head -n 40
  echo "po/check.sh: po/zh_CN.po has $stale msgids the client no longer prints"
  status=1
fi
untranslated=$(msgattrib --untranslated --no-obsolete po/zh_CN.po | grep -c '^msgid "..*"$\|^msgid ""$' || true)
untranslated=$((untranslated > 0 ? untranslated - 1 : 0)) # the header
msgfmt --statistics -o /dev/null po/zh_CN.po 2>&1 | sed 's/^/po\/check.sh: zh_CN: /'
[ "$status" -eq 0 ] && echo "po/check.sh: every message of the client is in po/zh_CN.po, none stale ($untranslated still in English)"
exit "$status"
