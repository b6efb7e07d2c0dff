#!/usr/bin/env bash
# Makes the throwaway TLS fixtures the tests use (Tests/Fixtures/tls/): a CA, a server
# certificate for 127.0.0.1, ::1 and localhost, a device client certificate whose CN and SAN
# name the device "pibook-tls", and a certificate from another CA. Test-only keys: never use
# them for anything else. Valid for 100 years so the committed files do not expire.
set -euo pipefail
cd "$(dirname "$0")/.."
out=Tests/Fixtures/tls
mkdir -p "$out"
cd "$out"
days=36500
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ec ca.key
openssl req -x509 -new -key ca.key -days $days -subj "/CN=PiSync test CA" -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

sign() { # name subject extensions
  ec "$1.key"
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "${4:-ca}.pem" -CAkey "${4:-ca}.key" -CAcreateserial -days $days \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
sign server "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth"
sign device "/CN=pibook-tls" "subjectAltName=DNS:pibook-tls
extendedKeyUsage=clientAuth"

ec other-ca.key
openssl req -x509 -new -key other-ca.key -days $days -subj "/CN=Another CA" -out other-ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
sign stranger "/CN=pibook-tls" "subjectAltName=DNS:pibook-tls
extendedKeyUsage=clientAuth" other-ca
rm -f ./*.srl other-ca.key
chmod 600 ./*.key
echo "made $(ls | tr '\n' ' ')in $out"
