#!/usr/bin/env bash
# tests/package.sh under a real systemd, on a machine that systemd does
# not run (a container, as the test machine is): boots this machine's own
# root in systemd-nspawn with --volatile=overlay (the root read-only
# under a tmpfs: whatever is done in there goes when it stops), waits for
# systemd to be up, and runs tests/package.sh inside, whose systemctl
# branch then installs the package, starts tally.service as systemd does
# (its sandbox, Type=notify, the journal), reloads, backs up through
# tally-backup.service and stops. Where systemd already runs the machine
# it runs tests/package.sh as it is; where no container can be booted
# (not root, no systemd-nspawn, no privileges for it) it says so and runs
# tests/package.sh without systemd (tallyd as the unit's ExecStart).
# Needs root, systemd-nspawn (the systemd-container package) and the
# systemd package. Prints tests/package.sh's lines, its "package: N
# passed, N failed" last; exits non-zero on a failure.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -d /run/systemd/system ]; then exec "$top/tests/package.sh"; fi
say() { echo "systemd: $*"; }
without() { say "$*: tests/package.sh runs without systemd"; exec "$top/tests/package.sh"; }
[ "$(id -u)" -eq 0 ] || without "not root: no container can be booted"
command -v systemd-nspawn > /dev/null && [ -x /lib/systemd/systemd ] ||
  without "systemd-nspawn or systemd is missing (deploy/deps.sh --test installs systemd-container)"

root=$(mktemp -d)
log=$(mktemp)
nspawn=
stop() {
  if [ -n "$nspawn" ] && kill -0 "$nspawn" 2> /dev/null; then
    kill -TERM "$nspawn" # systemd halts the container
    for _ in $(seq 100); do kill -0 "$nspawn" 2> /dev/null || break; sleep 0.2; done
    kill -KILL "$nspawn" 2> /dev/null
    wait "$nspawn" 2> /dev/null
  fi
  umount "$root" 2> /dev/null
  rmdir "$root"
  rm -f "$log"
}
trap stop EXIT
# nspawn refuses / itself: the same root through a bind mount.
mount --bind / "$root" || { rmdir "$root"; trap - EXIT; without "cannot bind-mount /"; }
# The tree inside at a path of its own: the container's /tmp is a fresh
# tmpfs, which hides a tree cloned under the host's /tmp (as CI may).
src=/mnt/tally-src
systemd-nspawn --quiet --directory="$root" --volatile=overlay --boot \
  --register=no --keep-unit --link-journal=no --console=pipe \
  --bind="$top:$src" > "$log" 2>&1 &
nspawn=$!

# The container's systemd: the nspawn process's child.
init=
state=
for _ in $(seq 150); do
  [ -z "$init" ] && init=$(pgrep -P "$nspawn" -x systemd | head -n 1)
  if [ -n "$init" ]; then
    state=$(timeout 5 nsenter -t "$init" -a systemctl is-system-running 2> /dev/null)
    case "$state" in running|degraded) break ;; esac
  fi
  kill -0 "$nspawn" 2> /dev/null || break
  sleep 0.2
done
case "$state" in
running|degraded) say "systemd booted in systemd-nspawn ($state): tests/package.sh runs under it" ;;
*) cat "$log"; stop; trap - EXIT
   without "systemd did not come up in the container (${state:-no systemd})" ;;
esac

timeout 900 nsenter -t "$init" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 HOME=/root TMPDIR=/tmp "$src/tests/package.sh"
