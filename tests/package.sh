#!/usr/bin/env bash
# The Debian package, as an admin meets it: tests/package.sh
#   1. deploy/package.sh builds it; lintian finds no error in it;
#   2. systemd-analyze verify accepts its units, and security scores
#      tally.service;
#   3. as root: it installs; tallyd starts from the installed files and
#      /etc/tally/tallyd.conf as the unit starts it (systemctl when
#      systemd runs the machine, else the same command as the tally
#      user), serves the installed tally, makes the nightly backup as
#      tally-backup.service would, and stops; the package is removed
#      (the store kept) and purged (the store gone, the backups kept),
#      and everything the test made is taken away.
# Prints "package: N passed, N failed" last; exits non-zero on a failure.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAILED: $*"; }
finish() { echo "package: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

out=$(mktemp -d)
deb=$("$top/deploy/package.sh" "$out" 2>&1 | tail -n 1)
if [ -f "$deb" ]; then ok "the package builds: $(basename "$deb")"; else bad "deploy/package.sh: $deb"; rm -rf "$out"; finish; fi

if command -v lintian > /dev/null; then
  lint=$(lintian --tag-display-limit 0 "$deb" 2>&1 | grep -v 'running with root privileges')
  [ -n "$lint" ] && echo "$lint"
  if echo "$lint" | grep -q '^E: '; then bad "lintian found errors"; else ok "lintian: no errors"; fi
else
  bad "lintian is not installed (deploy/deps.sh --test installs it)"
fi

# The units as packaged, checked against the files they name.
units=$(mktemp -d)
dpkg-deb -x "$deb" "$units"

if [ "$(id -u)" -ne 0 ]; then
  echo "package: not root: the install is not tried"
  rm -rf "$out" "$units"
  finish
fi
if dpkg-query -W -f='${Status}' tally 2>/dev/null | grep -q 'install ok installed'; then
  echo "package: a tally package is installed on this machine already: the install is not tried"
  rm -rf "$out" "$units"
  finish
fi

had_user=0
getent passwd tally > /dev/null && had_user=1
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2> /dev/null && wait "$pid" 2> /dev/null
  if [ -d /run/systemd/system ]; then systemctl stop tally tally-backup.timer > /dev/null 2>&1; fi
  dpkg -P tally > /dev/null 2>&1
  rm -rf /var/lib/tally /var/backups/tally /etc/tally "$out" "$units" "$work"
  if [ "$had_user" -eq 0 ] && getent passwd tally > /dev/null; then
    deluser --quiet --system tally > /dev/null 2>&1 || userdel tally 2> /dev/null
    getent group tally > /dev/null && { delgroup --quiet --system tally > /dev/null 2>&1 || groupdel tally 2> /dev/null; }
  fi
}
work=$(mktemp -d)
trap cleanup EXIT

if dpkg -i "$deb" > "$work/install.log" 2>&1; then ok "dpkg -i"; else cat "$work/install.log"; bad "dpkg -i"; finish; fi
for f in /usr/bin/tally /usr/bin/tallyd /etc/tally/tallyd.conf /usr/share/tally/web/index.html \
         /lib/systemd/system/tally.service /lib/systemd/system/tally-backup.timer \
         /usr/share/man/man8/tallyd.8.gz /usr/share/man/man5/tallyd.conf.5.gz /usr/share/man/man1/tally.1.gz; do
  [ -e "$f" ] || bad "not installed: $f"
done
getent passwd tally > /dev/null && ok "the system user tally" || bad "no user tally"
[ "$(stat -c %U:%a /var/backups/tally)" = tally:700 ] && ok "/var/backups/tally is tally's alone" ||
  bad "/var/backups/tally: $(stat -c %U:%a /var/backups/tally)"

if command -v systemd-analyze > /dev/null; then
  if v=$(systemd-analyze verify /lib/systemd/system/tally.service /lib/systemd/system/tally-backup.service \
         /lib/systemd/system/tally-backup.timer 2>&1) && [ -z "$v" ]; then
    ok "systemd-analyze verify accepts the units"
  else
    echo "$v"; bad "systemd-analyze verify"
  fi
  score=$(systemd-analyze security --offline=true /lib/systemd/system/tally.service 2>&1 | tail -n 1)
  echo "systemd-analyze security: $score"
  echo "$score" | grep -q 'Overall exposure level for tally.service: [0-9.]* [A-Z]' &&
    ok "systemd-analyze security scores it" || bad "systemd-analyze security: $score"
else
  bad "systemd-analyze is missing (the systemd package)"
fi

# The store, as the README says: as the tally user, from the config.
if runuser -u tally -- tallyd init > "$work/admin.token" 2> "$work/init.log"; then
  ok "tallyd init as tally, from /etc/tally/tallyd.conf"
else
  cat "$work/init.log"; bad "tallyd init"; finish
fi
[ "$(stat -c %U /var/lib/tally/data.mdb)" = tally ] || bad "data.mdb is not tally's"

addr=
if [ -d /run/systemd/system ]; then
  # Type=notify: start returns once tallyd has said READY.
  if systemctl start tally && [ "$(systemctl is-active tally)" = active ]; then
    addr=127.0.0.1:7300
    ok "systemctl start tally: active, in its sandbox as $(systemctl show -p User --value tally)"
  else
    systemctl status --no-pager tally; journalctl -u tally --no-pager | tail -n 20
    bad "systemctl start tally"
  fi
  # The journal has the start line at severity info (6), with no stamp
  # of tallyd's own.
  started=$(journalctl -u tally -o json --no-pager | grep '"MESSAGE":"tallyd ')
  if echo "$started" | grep -q '"PRIORITY":"6"' && ! echo "$started" | grep -q '"MESSAGE":"20[0-9][0-9]-'; then
    ok "journald: tallyd's start line at severity info, unstamped"
  else
    echo "$started"; bad "the journal's start line"
  fi
else
  # As the unit starts it: its ExecStart, as its user (the port from a
  # flag over the file's, so that a busy 7300 does not matter).
  exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/tally.service)
  # setpriv execs it: its pid is tallyd's, for the signal.
  setpriv --reuid=tally --regid=tally --init-groups -- $exec_start --listen 127.0.0.1:0 > "$work/out" 2> "$work/log" &
  pid=$!
  for _ in $(seq 100); do
    addr=$(sed -n 's/^listening on //p' "$work/out")
    [ -n "$addr" ] && break
    sleep 0.1
  done
fi
if [ -n "$addr" ]; then ok "tallyd started from the installed files ($addr)"; else cat "$work/log"; bad "tallyd did not start"; finish; fi

status=$(HOME=$work TALLY_CONFIG=$work/none.json tally --server "$addr" --token-file "$work/admin.token" admin status 2>&1)
echo "$status"
if echo "$status" | grep -q '^server: *tallyd ' && echo "$status" | grep -q 'last backup:  none in /var/backups/tally'; then
  ok "the installed tally is served (admin status)"
else
  bad "tally admin status"
fi

# The nightly backup, as tally-backup.service runs it (the service
# itself under systemd).
backup_cmd=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/tally-backup.service)
if [ -d /run/systemd/system ]; then
  backup() { systemctl start tally-backup.service 2> "$work/backup.log" ||
             { journalctl -u tally-backup --no-pager > "$work/backup.log"; false; }; }
else
  backup() { runuser -u tally -- $backup_cmd 2> "$work/backup.log"; }
fi
if backup && ls /var/backups/tally/daily/*.mdb > /dev/null 2>&1 &&
   ls /var/backups/tally/monthly/*.mdb > /dev/null 2>&1; then
  ok "tallyd backup --rotate while it serves: $(ls /var/backups/tally/daily)"
else
  cat "$work/backup.log"; bad "the nightly backup"
fi
status=$(HOME=$work TALLY_CONFIG=$work/none.json tally --server "$addr" --token-file "$work/admin.token" admin status 2>&1)
# The newest copy: the day's, or the month's on the month's first day.
echo "$status" | grep -Eq 'last backup:  /var/backups/tally/(daily|monthly)/' && ok "admin status names the backup" ||
  { echo "$status"; bad "admin status after the backup"; }

if [ -n "$pid" ]; then
  kill -TERM "$pid"; wait "$pid"; rc=$?; pid=
  [ "$rc" -eq 0 ] && ok "tallyd stops cleanly" || { cat "$work/log"; bad "tallyd exited $rc"; }
  grep -q 'connection 1 closed: 127.0.0.1:.*signed in as account 1 (administrator, admin)' "$work/log" &&
    ok "its log: one line for the connection" || { cat "$work/log"; bad "the connection's line"; }
else
  # SIGHUP through the unit's ExecReload: read again, nothing dropped.
  if systemctl reload tally && sleep 1 && journalctl -u tally --no-pager | grep -q 'reload: done (/etc/tally/tallyd.conf)' &&
     [ "$(systemctl is-active tally)" = active ]; then
    ok "systemctl reload tally: read again, still active"
  else
    journalctl -u tally --no-pager | tail -n 5; bad "systemctl reload tally"
  fi
  if systemctl stop tally && [ "$(systemctl show -p Result --value tally)" = success ]; then
    ok "systemctl stop tally: stopped cleanly"
  else
    bad "systemctl stop tally: $(systemctl show -p Result --value tally)"
  fi
  journalctl -u tally --no-pager | grep -q 'connection 1 closed: 127.0.0.1:.*signed in as account 1 (administrator, admin)' &&
    ok "the journal: one line for the connection" || { journalctl -u tally --no-pager | tail -n 20; bad "the connection's line in the journal"; }
fi

removed=$(dpkg -r tally 2>&1)
echo "$removed" | tail -n 2
if [ ! -e /usr/bin/tallyd ] && [ -e /var/lib/tally/data.mdb ] && [ -e /etc/tally/tallyd.conf ]; then
  ok "dpkg -r: the programs gone, the store and the settings kept"
else
  bad "dpkg -r"
fi
if echo "$removed" | grep -q 'purging (apt purge tally) deletes the store and the settings, and keeps the backups'; then
  ok "dpkg -r says what a purge would delete"
else
  bad "dpkg -r does not say what a purge deletes"
fi
# Before: the package's description says what a purge deletes.
description=$(dpkg-deb -f "$deb" Description)
if echo "$description" | grep -q 'Purging it (apt purge tally) deletes the store /var/lib/tally' &&
   echo "$description" | grep -q 'keeps the backups in'; then
  ok "the package's description says what a purge deletes and keeps"
else
  bad "the description does not say what a purge deletes"
fi
purged=$(apt-get purge -y tally 2>&1)
echo "$purged" | grep '^tally:'
if [ ! -e /var/lib/tally ] && [ ! -e /etc/tally ] && [ -d /var/backups/tally/daily ] &&
   echo "$purged" | grep -q 'purging removes the store /var/lib/tally' &&
   echo "$purged" | grep -q 'purging removes the settings in /etc/tally' &&
   echo "$purged" | grep -q 'the backups in /var/backups/tally are kept'; then
  ok "apt purge: the store and settings gone and said so, the backups kept"
else
  echo "$purged"
  bad "apt purge"
fi
left=$(dpkg-query -W -f='${Status}' tally 2>/dev/null)
[ -z "$left" ] || [ "$left" = "unknown ok not-installed" ] && ok "nothing of the package is left in dpkg" || bad "dpkg still knows tally: $left"
finish
