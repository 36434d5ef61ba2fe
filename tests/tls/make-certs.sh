#!/bin/sh
# Makes the throw-away certificates of the TLS tests, with the openssl CLI,
# in DIR (created if missing). Used by tests/check (elements_redistls),
# tests/cluster, tests/docs and tests/bench/transport. EC P-256 keys: quick
# to make, and what a modern deployment would use.
#
#   ca.crt ca.key                 the test CA (Redis's tls-ca-cert-file,
#                                 the elements' tls-ca-file)
#   server.crt server.key         for localhost and 127.0.0.1, signed by the CA
#   wrong-name.crt wrong-name.key for redis.wrong.example only
#   expired.crt expired.key       localhost and 127.0.0.1, valid in January 2020
#   untrusted.crt untrusted.key   localhost and 127.0.0.1, signed by another CA
#   other-ca.crt                  that other CA
#   client.crt client.key         a client certificate (CN gst-redis-client)
#                                 for tls-auth-clients yes
#
# Usage: make-certs.sh DIR
set -eu
dir=${1:?usage: make-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

# openssl ca sets any validity period (an expired certificate too, which
# openssl x509 -req cannot make on OpenSSL 3.0) and copies the requests'
# subjectAltName and extendedKeyUsage.
cat > ca.cnf <<'CNF'
[ca]
default_ca = testca
[testca]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
CNF

newkey="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

make_ca() { # name subject
  openssl req -x509 $newkey -keyout "$1.key" -out "$1.crt" -days 3650 \
    -subj "/CN=$2" 2>/dev/null
}

# name ca cn san usage [openssl ca validity options...]
make_cert() {
  name=$1 ca=$2 cn=$3 san=$4 usage=$5
  shift 5
  openssl req $newkey -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn" \
    -addext "subjectAltName=$san" -addext "extendedKeyUsage=$usage" \
    2>/dev/null
  : > index.txt
  echo 01 > serial
  openssl ca -batch -notext -config ca.cnf -cert "$ca.crt" -keyfile "$ca.key" \
    -in "$name.csr" -out "$name.crt" "$@" 2>/dev/null
  rm -f "$name.csr"
}

make_ca ca "gst-redis-streams test CA"
make_ca other-ca "another test CA"
local_names="DNS:localhost,IP:127.0.0.1"
make_cert server ca localhost "$local_names" serverAuth -days 3650
make_cert wrong-name ca redis.wrong.example DNS:redis.wrong.example serverAuth \
  -days 3650
make_cert expired ca localhost "$local_names" serverAuth \
  -startdate 20200101000000Z -enddate 20200201000000Z
make_cert untrusted other-ca localhost "$local_names" serverAuth -days 3650
make_cert client ca gst-redis-client DNS:gst-redis-client clientAuth -days 3650
rm -f ca.cnf index.txt* serial* ./*.pem other-ca.key
chmod 600 ./*.key
