#!/usr/bin/env bash
# A renewal dated before the time-stamp it renews, for tests/bag_hostile.rs — made with OpenSSL
# (`openssl ts`, a TSA of its own) under libfaketime, nothing of kyso's:
#
#     backdated_renewal.sh BAG WORKDIR SECONDS
#
# Over what a first renewal of the folder bag BAG covers (data/log/checkpoint.txt ‖
# manifest-sha512.txt ‖ data/log/checkpoint.tsr, as docs/export.md says), a TSA made in WORKDIR
# (its root: WORKDIR/tsa-root.pem) issues a token with the clock SECONDS back; it is put in as
# kyso-renewal-1.tsr and listed in the tag manifest, as any BagIt tool would. Every byte is
# then right: only the renewal's date is wrong.
set -euo pipefail
bag=$1 work=$2 back=$3
mkdir -p "$work"
cd "$work"

# A root and a TSA certificate under it (critical EKU timeStamping, RFC 3161 §2.3).
cat > ext.cnf <<'EOF'
[root]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[tsa]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
# Both valid from well before the clock is moved back.
faketime -f '-2d' openssl req -x509 -newkey rsa:2048 -nodes -keyout tsa-root.key -out tsa-root.pem \
    -days 30 -subj "/C=VN/O=Forger/CN=Forger TSA Root" -extensions root \
    -config <(cat /etc/ssl/openssl.cnf ext.cnf) 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout tsa.key -out tsa.csr -subj "/C=VN/O=Forger/CN=Forger TSA" 2>/dev/null
faketime -f '-1d' openssl x509 -req -in tsa.csr -CA tsa-root.pem -CAkey tsa-root.key -set_serial 2 -days 30 \
    -extfile ext.cnf -extensions tsa -out tsa.pem 2>/dev/null

cat > ts.cnf <<EOF
[tsa]
default_tsa = tsa_config
[tsa_config]
serial = $work/serial
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256
ess_cert_id_alg = sha256
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
EOF
echo 01 > serial

# What a first renewal covers, digested.
digest=$(cat "$bag/data/log/checkpoint.txt" "$bag/manifest-sha512.txt" "$bag/data/log/checkpoint.tsr" \
    | openssl dgst -sha256 -r | cut -d' ' -f1)
openssl ts -query -digest "$digest" -sha256 -cert -no_nonce -out q.tsq
faketime -f "-${back}s" openssl ts -reply -config ts.cnf -section tsa_config -queryfile q.tsq \
    -signer tsa.pem -inkey tsa.key -chain tsa-root.pem -token_out -out "$bag/kyso-renewal-1.tsr" 2>/dev/null

# The tag manifest lists the renewal, as rebag.py (and kyso) list them.
sum=$(sha256sum "$bag/kyso-renewal-1.tsr" | cut -d' ' -f1)
grep -v ' kyso-renewal-1.tsr$' "$bag/tagmanifest-sha256.txt" > tm.txt || true
echo "$sum  kyso-renewal-1.tsr" >> tm.txt
cp tm.txt "$bag/tagmanifest-sha256.txt"
