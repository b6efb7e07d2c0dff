#!/bin/sh
# tls_certs.sh DIR - throwaway certificates for the TLS tests (make test TLS=1), made with
# the openssl command line tool; they are valid for two days.
#
#   ca.pem, ca.key          the test CA
#   server.pem, server.key  CN localhost, SAN DNS:localhost, IP:127.0.0.1, signed by the CA
#   client.pem, client.key  CN/SAN c-tls-device (a device's certificate for mutual TLS)
#   other-ca.pem            a CA that signed none of them
set -eu

DIR=${1:?usage: tls_certs.sh DIR}
mkdir -p "$DIR"
cd "$DIR"
umask 077

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# ca NAME CN: a self-signed CA.
ca() {
    key "$1.key"
    openssl req -new -x509 -key "$1.key" -out "$1.pem" -days 2 -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign"
}

# leaf NAME CN USAGE SAN: a certificate signed by the test CA.
leaf() {
    key "$1.key"
    openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$2"
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
        "$3" "$4" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
        -days 2 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

ca ca "pisync test CA"
ca other-ca "another test CA"
leaf server localhost serverAuth "DNS:localhost,IP:127.0.0.1"
leaf client c-tls-device clientAuth "DNS:c-tls-device"
