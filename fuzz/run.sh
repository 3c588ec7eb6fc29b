#!/usr/bin/env bash
# Fuzz every parser that takes outside bytes, SECONDS each (default 180).
#   fuzz/run.sh [SECONDS] [TARGET...]
# cargo-fuzz needs nightly features; with the stable toolchain RUSTC_BOOTSTRAP=1 enables them.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-180}"; shift || true
targets=("${@:-pdf_document cms_signed_data certificate verify_pdf prepare_pdf bag_package xmp checkpoint_note revocation tsa_request tsa_response}")
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# The archive links RocksDB: the machine's prebuilt library (deploy/lib.sh), as every build.
. ../deploy/lib.sh
kyso_rocksdb
# Seeds: the project's own fixtures and verification corpus.
mkdir -p corpus/{pdf_document,verify_pdf,prepare_pdf,cms_signed_data,certificate}
cp ../tests/fixtures/*.pdf corpus/pdf_document/
cp ../tests/fixtures/*.pdf corpus/prepare_pdf/
for d in ../tests/corpus/*/; do
    n=$(basename "$d")
    [ -f "$d/doc.pdf" ] && cp "$d/doc.pdf" "corpus/verify_pdf/$n.pdf"
    [ -f "$d/doc.p7m" ] && cp "$d/doc.p7m" "corpus/cms_signed_data/$n.p7m"
    [ -f "$d/sig.p7s" ] && cp "$d/sig.p7s" "corpus/cms_signed_data/$n.p7s"
done
cp ../tests/corpus/pki/*.pem corpus/certificate/
# xmp: the PDF/A declaration in both of its forms.
mkdir -p corpus/xmp
printf '%s' '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"><pdfaid:part>1</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>' > corpus/xmp/element.xmp
printf '%s' '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" pdfaid:part="2" pdfaid:conformance="U"/></rdf:RDF></x:xmpmeta>' > corpus/xmp/attribute.xmp
# checkpoint_note: a note signed by two keys, as a rotation co-signs it.
mkdir -p corpus/checkpoint_note
printf 'kyso.demo/archive\n4\n1x0GOqAxiEq329BHtzLoYIv86UQJLeNe1JiZk70cR44=\n\n\xe2\x80\x94 kyso.demo/archive vagtqTBGAiEA4kL0AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\xe2\x80\x94 kyso.demo/archive-2 TfG1HTBFAiB2jZan5QcvLoPMWwXQaAd1TBkvhCXfchob\n' > corpus/checkpoint_note/cosigned.note
# bag_package: a real export (SoftHSM2 keys, RocksDB) of two records, a tar bag and an E-ARK
# zip, and the key that signs their checkpoint (so mutants reach the proofs and signatures).
if [[ " ${targets[*]} " == *" bag_package "* ]]; then
    (cd .. && kyso_install_missing >&2 &&
        CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kyso/target-$(pwd -P | sha256sum | cut -c1-12)}" \
        KYSO_FUZZ_SEEDS="$PWD/fuzz/corpus/bag_package" cargo test --locked --test bag_hostile \
            write_fuzz_seeds -- --ignored --exact >&2)
    export KYSO_FUZZ_LOG_KEY="$PWD/corpus/bag_package.log.pem"
fi
# revocation: a CA, a signer and a delegated OCSP responder, a CRL revoking a second signer, and
# OCSP responses signed by the CA and by the responder (OpenSSL's, signatures that hold).
if [[ " ${targets[*]} " == *" revocation "* ]]; then
    mkdir -p corpus/revocation
    (
        set -e
        out="$PWD/corpus/revocation"
        w=$(mktemp -d); trap 'rm -rf "$w"' EXIT; cd "$w"
        touch index.txt; echo 1000 > crlnumber
        cat > ca.cnf <<'CNF'
[ca]
default_ca = d
[d]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 3650
[ee]
keyUsage = critical, digitalSignature, nonRepudiation
authorityInfoAccess = OCSP;URI:http://127.0.0.1:9/ocsp
crlDistributionPoints = URI:http://127.0.0.1:9/ca.crl
[responder]
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
noCheck = ignored
[crl]
issuingDistributionPoint = critical, @idp
[idp]
fullname = URI:http://127.0.0.1:9/ca.crl
onlysomereasons = keyCompromise
CNF
        key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
        key ca.key; key ee.key; key ee2.key; key r.key
        openssl req -x509 -new -key ca.key -out ca.pem -subj "/C=VN/CN=Fuzz CA" -days 3650 \
            -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
        issue() { # KEY CN SERIAL SECTION OUT
            openssl req -new -key "$1" -subj "/C=VN/CN=$2" -out "$5.csr"
            openssl x509 -req -in "$5.csr" -CA ca.pem -CAkey ca.key -set_serial "$3" -days 3650 \
                -extfile ca.cnf -extensions "$4" -out "$5" 2>/dev/null
        }
        issue ee.key "Fuzz signer" 2 ee ee.pem
        issue ee2.key "Fuzz signer revoked" 3 ee ee2.pem
        issue r.key "Fuzz responder" 4 responder r.pem
        printf 'R\t351231235959Z\t250101000000Z,keyCompromise\t03\tunknown\t/C=VN/CN=Fuzz signer revoked\n' > index.txt
        printf 'V\t351231235959Z\t\t02\tunknown\t/C=VN/CN=Fuzz signer\n' >> index.txt
        openssl ca -config ca.cnf -gencrl -keyfile ca.key -cert ca.pem -out full.crl 2>/dev/null
        openssl ca -config ca.cnf -gencrl -keyfile ca.key -cert ca.pem -crlexts crl -out idp.crl 2>/dev/null
        for c in ee ee2; do
            openssl ocsp -issuer ca.pem -cert "$c.pem" -no_nonce -reqout "$c.req" 2>/dev/null
            openssl ocsp -index index.txt -CA ca.pem -rsigner ca.pem -rkey ca.key -reqin "$c.req" \
                -respout "$c.ca.ocsp" -ndays 3650 2>/dev/null
            openssl ocsp -index index.txt -CA ca.pem -rsigner r.pem -rkey r.key -reqin "$c.req" \
                -resp_key_id -respout "$c.r.ocsp" -ndays 3650 2>/dev/null
        done
        der() { openssl x509 -in "$1" -outform DER; }
        { der ca.pem; printf KYSO; der ee.pem; printf KYSO; cat ee.ca.ocsp; printf KYSO; openssl crl -in full.crl -outform DER; } > "$out/ca-answers"
        { der ca.pem; printf KYSO; der ee2.pem; printf KYSO; der r.pem; printf KYSO; cat ee2.r.ocsp; printf KYSO; cat ee.r.ocsp; printf KYSO; openssl crl -in idp.crl -outform DER; } > "$out/delegated"
        { cat ca.pem ee2.pem; printf KYSO; cat full.crl; printf KYSO; cat ee2.ca.ocsp; } > "$out/pem"
    )
fi
# tsa_request: OpenSSL's requests, with and without a nonce, the certificate and a policy.
if [[ " ${targets[*]} " == *" tsa_request "* ]]; then
    mkdir -p corpus/tsa_request
    printf 'kyso' > corpus/tsa_request.data
    openssl ts -query -data corpus/tsa_request.data -sha256 -cert -out corpus/tsa_request/cert.tsq
    openssl ts -query -data corpus/tsa_request.data -sha512 -no_nonce -out corpus/tsa_request/plain.tsq
    openssl ts -query -data corpus/tsa_request.data -sha384 -cert -tspolicy 1.3.6.1.4.1.32473.1.1 \
        -out corpus/tsa_request/policy.tsq
fi
# tsa_response: OpenSSL's TSA granting the target's request (SHA-256 of 00…07, no nonce), with
# and without its certificate, and refusing a request for another policy.
if [[ " ${targets[*]} " == *" tsa_response "* ]]; then
    mkdir -p corpus/tsa_response
    (
        t=$(mktemp -d); trap 'rm -rf "$t"' EXIT; cd "$t"
        printf '[tsa]\ndefault_tsa = t\n[t]\nserial = ./serial\nsigner_digest = sha256\ndefault_policy = 1.3.6.1.4.1.32473.1.1\nother_policies = 1.3.6.1.4.1.32473.1.2\ndigests = sha256\naccuracy = secs:1\ness_cert_id_alg = sha256\n' > ts.cnf
        echo 01 > serial
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out tsa.key 2>/dev/null
        openssl req -x509 -new -key tsa.key -out tsa.pem -subj "/C=VN/CN=Fuzz TSA" -days 3650 \
            -addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature" \
            -addext "extendedKeyUsage=critical,timeStamping" 2>/dev/null
        d=$(printf '%064d' 7)
        openssl ts -query -digest "$d" -sha256 -no_nonce -cert -out cert.tsq
        openssl ts -query -digest "$d" -sha256 -no_nonce -out plain.tsq
        openssl ts -query -digest "$d" -sha256 -no_nonce -tspolicy 1.3.6.1.4.1.32473.1.9 -out other.tsq
        for q in cert plain other; do
            openssl ts -reply -config ts.cnf -queryfile "$q.tsq" -inkey tsa.key -signer tsa.pem \
                -out "$OLDPWD/corpus/tsa_response/$q.tsr" 2>/dev/null
        done
    )
fi
export LSAN_OPTIONS="suppressions=$PWD/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
found=0
for t in ${targets[@]}; do
    echo "== $t for ${secs}s"
    # The whole output (a finding's stack) is kept in artifacts/<target>.log; the summary shown.
    mkdir -p artifacts
    # -timeout: an input that takes more than 30 s (AddressSanitizer and coverage included) is
    # a finding — a hostile file that holds a validation thread is a denial of service, and
    # libFuzzer's default (1200 s) would never call one in a 600 s run.
    RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$t" "corpus/$t" -- -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 -max_len=1048576 >"artifacts/$t.log" 2>&1 || found=1
    grep -E "Done [0-9]+ runs|ERROR|panicked|SUMMARY|deadly|crash-|leak-" "artifacts/$t.log" | tail -6
done
exit "$found"
