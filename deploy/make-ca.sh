#!/usr/bin/env bash
# Makes a private CA and a server certificate for tallyd, for a district
# that has no PKI of its own. See --help.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: deploy/make-ca.sh DIR [--name HOST]... [--days N] [--force]

Makes, with the openssl command, in DIR (created if missing):
  ca.crt       the private CA's certificate: give it to every client
               (tally --ca DIR/ca.crt, or TALLY_CA=DIR/ca.crt)
  ca.key       the CA's private key (mode 0600): keep it off the server,
               offline if you can; it signs server certificates
  server.crt   the server's certificate, signed by the CA
  server.key   the server's private key (mode 0600)
Start the server with
  tallyd --tls-cert DIR/server.crt --tls-key DIR/server.key ...

options:
  --name HOST  a host name or IP address clients use to reach the server;
               repeat for each. Default: localhost and 127.0.0.1
  --days N     how long the server certificate is valid (default 825);
               the CA is valid for 10 years
  --force      replace an existing server certificate and key
  -h, --help   this help

If DIR already holds ca.crt and ca.key, that CA is kept and signs the new
server certificate: clients need not be given a new ca.crt.
EOF
}

die() { echo "make-ca: $*" >&2; exit 1; }

dir= days=825 force=0 names=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --name) [ $# -ge 2 ] && [ -n "$2" ] || die "--name needs a host name or IP address"
            names+=("$2"); shift 2 ;;
    --name=*) names+=("${1#--name=}"); shift ;;
    --days) [ $# -ge 2 ] || die "--days needs a number"; days=$2; shift 2 ;;
    --force) force=1; shift ;;
    -*) die "unknown option '$1'; try --help" ;;
    *) [ -z "$dir" ] || die "one DIR only ('$dir', then '$1'); try --help"
       dir=$1; shift ;;
  esac
done
[ -n "$dir" ] || { usage >&2; exit 2; }
[[ "$days" =~ ^[1-9][0-9]*$ ]] || die "--days must be a whole number of days, not '$days'"
command -v openssl >/dev/null || die "the openssl command is missing (deploy/deps.sh installs it)"
[ ${#names[@]} -gt 0 ] || names=(localhost 127.0.0.1)

# The subjectAltName list: IP: for addresses, DNS: for names.
san=
for n in "${names[@]}"; do
  if [[ "$n" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ || "$n" == *:* ]]; then
    san+="${san:+,}IP:$n"
  elif [[ "$n" =~ ^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
    san+="${san:+,}DNS:$n"
  else
    die "'$n' is neither a host name nor an IP address"
  fi
done

mkdir -p "$dir"
umask 077 # keys are never readable by others, not even for a moment
if [ -e "$dir/server.key" ] || [ -e "$dir/server.crt" ]; then
  [ "$force" = 1 ] || die "$dir already has a server certificate; --force replaces it"
fi

if [ -e "$dir/ca.key" ] && [ -e "$dir/ca.crt" ]; then
  echo "make-ca: keeping the CA in $dir/ca.crt" >&2
else
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$dir/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 \
    -subj "/CN=tally private CA ($(hostname 2>/dev/null || echo tally))" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.crt"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
  -out "$tmp/server.key" 2>/dev/null
openssl req -new -key "$tmp/server.key" -subj "/CN=${names[0]}" \
  -out "$tmp/server.csr"
cat >"$tmp/ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san
EOF
openssl x509 -req -in "$tmp/server.csr" -CA "$dir/ca.crt" \
  -CAkey "$dir/ca.key" -set_serial "0x$(openssl rand -hex 16)" -sha256 \
  -days "$days" -extfile "$tmp/ext" -out "$tmp/server.crt" 2>/dev/null
mv -f "$tmp/server.key" "$dir/server.key"
mv -f "$tmp/server.crt" "$dir/server.crt"
chmod 0600 "$dir/ca.key" "$dir/server.key"
chmod 0644 "$dir/ca.crt" "$dir/server.crt"

echo "make-ca: server certificate for ${san//,/, } in $dir/server.crt"
echo "  server:  tallyd --tls-cert $dir/server.crt --tls-key $dir/server.key ..."
echo "  clients: tally --ca $dir/ca.crt ...   (copy ca.crt to each office)"
