# Shared by deploy/run and deploy/test: install what is missing on a Debian machine.
# shellcheck shell=bash

# apt packages kyso needs, keyed by the command that proves they are there.
#   softhsm2-util → softhsm2 (the PKCS#11 token used in development and tests)
#   pkcs11-tool   → opensc   (a second, independent PKCS#11 client for checks by hand)
#   openssl       → openssl  (interop peer: verifies what kyso signs)
#   cc, c++       → build-essential (linker for cargo; RocksDB's C++)
#   libssl-dev    → OpenSSL's libcrypto for SHA-512 of archived documents (openssl crate)
#   fonts-liberation2, mupdf-tools, poppler-utils → visible stamps and their checks
#   faketime       → faketime (libfaketime: long-term validation years ahead, in tests)
#   gs             → ghostscript (an honest writer's documents, in tests)
kyso_install_missing() {
    kyso_install_packages
    kyso_rocksdb
}

# The Debian packages and the Rust toolchain alone (deploy/test builds RocksDB beside the
# peers' downloads).
kyso_install_packages() {
    local missing=()
    command -v softhsm2-util >/dev/null 2>&1 || missing+=(softhsm2)
    [ -e /usr/lib/softhsm/libsofthsm2.so ] || missing+=(softhsm2)
    command -v pkcs11-tool >/dev/null 2>&1 || missing+=(opensc)
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    command -v cc >/dev/null 2>&1 || missing+=(build-essential)
    command -v c++ >/dev/null 2>&1 || missing+=(build-essential)
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
    # RocksDB for the archive is compiled from the rocksdb crate's bundled source
    # (.cargo/config.toml, docs/build.md); its bindgen needs clang
    command -v clang >/dev/null 2>&1 || missing+=(clang)
    [ -n "$(ls /usr/lib/llvm-*/lib/libclang*.so* 2>/dev/null | head -1)" ] || missing+=(libclang-dev)
    # the Times-metric face for visible stamps, with the Vietnamese letters
    [ -e /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf ] || missing+=(fonts-liberation2)
    # pdftoppm and mutool: tools we did not write that render and read stamped PDFs in tests
    command -v mutool >/dev/null 2>&1 || missing+=(mupdf-tools)
    command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
    # Ghostscript's pdfwrite: one of the honest writers whose documents must sign
    # (tests/peers/honest_writers.py)
    command -v gs >/dev/null 2>&1 || missing+=(ghostscript)
    # Apache PDFBox Preflight on a Java runtime: a PDF/A-1b validator (ISO 19005-1) we did not
    # write, which must find a signed PDF/A document still PDF/A (tests/sign_cli.rs)
    command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
    [ -e /usr/share/java/preflight.jar ] || missing+=(libpdfbox2-java)
    [ -e /usr/share/java/javax.activation.jar ] || missing+=(libactivation-java)
    [ -e /usr/share/java/jaxb-api.jar ] || missing+=(libjaxb-api-java)
    # libfaketime: the long-term signature tests move the clock years ahead (tests/ltv_cli.rs)
    command -v faketime >/dev/null 2>&1 || missing+=(faketime)
    # Info-ZIP's unzip: a zip reader we did not write, for the E-ARK zip (unzip -t; tests)
    command -v unzip >/dev/null 2>&1 || missing+=(unzip)
    if [ ${#missing[@]} -gt 0 ]; then
        local sudo=""
        if [ "$(id -u)" -ne 0 ]; then
            if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
                echo "kyso: need root or sudo to install: ${missing[*]}" >&2; return 1
            fi
        fi
        echo "kyso: installing ${missing[*]}" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        for c in "$HOME/.cargo/bin/cargo" /usr/local/cargo/bin/cargo; do
            if [ -x "$c" ]; then PATH="$(dirname "$c"):$PATH"; export PATH; break; fi
        done
    fi
    command -v cargo >/dev/null 2>&1 || {
        echo "kyso: cargo not found: install the Rust toolchain (rustup) first" >&2
        return 1
    }
}

# RocksDB 7.9.2 from librocksdb-sys's bundled source, with hardware CRC32C, built once per
# machine (about ten minutes on two cores) and linked statically by every later build, whatever
# the profile or tool (clippy included). Without these variables cargo compiles the same source
# with the same flags itself (.cargo/config.toml), once per profile. docs/build.md.
kyso_rocksdb() {
    local root dir out
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    dir="${KYSO_ROCKSDB_DIR:-$HOME/.cache/kyso/rocksdb-0.10.0+7.9.2-sse42}"
    if [ ! -e "$dir/librocksdb.a" ]; then
        echo "kyso: building RocksDB 7.9.2 for this machine into $dir (once; ~10 min on 2 cores)" >&2
        mkdir -p "$dir"
        (cd "$root" && CARGO_TARGET_DIR="$dir/build" ROCKSDB_COMPILE=1 \
            CXXFLAGS_x86_64_unknown_linux_gnu="-msse4.2 -mpclmul -DHAVE_SSE42 -DHAVE_PCLMUL" \
            cargo build --release --locked --manifest-path deploy/rocksdb/Cargo.toml) >&2
        out="$(ls -t "$dir"/build/release/build/librocksdb-sys-*/out/librocksdb.a | head -1)"
        # RocksDB falls back to table-driven CRC32C silently when the macros are missing.
        # (grep reads everything: with -q, nm could die of SIGPIPE and fail the pipeline)
        if ! nm -C "$out" 2>/dev/null | grep 'crc32c::crc32c_3way' >/dev/null; then
            echo "kyso: RocksDB was built without hardware CRC32C (crc32c_3way missing)" >&2
            return 1
        fi
        cp "$out" "$dir/librocksdb.a.part.$$"
        mv "$dir/librocksdb.a.part.$$" "$dir/librocksdb.a"
        rm -rf "$dir/build"
    fi
    export ROCKSDB_LIB_DIR="$dir" ROCKSDB_STATIC=1
}

# Peers for interop tests, in a venv of our own (never the system's site-packages):
# pyHanko judges the PDFs kyso signs.
KYSO_VENV="${KYSO_VENV:-$HOME/.cache/kyso/venv}"
kyso_python_peers() {
    if [ -x "$KYSO_VENV/bin/pyhanko" ]; then return 0; fi
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -m venv --help >/dev/null 2>&1; then
        local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip >/dev/null
    fi
    echo "kyso: installing pyHanko into $KYSO_VENV" >&2
    rm -rf "$KYSO_VENV"
    python3 -m venv "$KYSO_VENV"
    "$KYSO_VENV/bin/pip" install -q --upgrade pip >/dev/null
    "$KYSO_VENV/bin/pip" install -q 'pyhanko[pkcs11]==0.38.0' 'pyhanko-cli==0.6.0'
}

# The OpenAPI validator that judges /v1/openapi.json in the service's tests (a tool we did not
# write), in the same venv.
kyso_api_peers() {
    kyso_python_peers
    if [ -x "$KYSO_VENV/bin/openapi-spec-validator" ]; then return 0; fi
    echo "kyso: installing openapi-spec-validator into $KYSO_VENV" >&2
    "$KYSO_VENV/bin/pip" install -q 'openapi-spec-validator==0.9.0'
}

# The Library of Congress's BagIt validator (PyPI `bagit`: bagit.py --validate), which judges
# the packages `kyso export` writes, in the same venv.
kyso_bagit_peers() {
    kyso_python_peers
    if [ -x "$KYSO_VENV/bin/bagit.py" ]; then return 0; fi
    echo "kyso: installing bagit into $KYSO_VENV" >&2
    "$KYSO_VENV/bin/pip" install -q 'bagit==1.9.0'
}

# PyMuPDF (MuPDF's Python binding, PyPI `pymupdf`), in the same venv: it makes the form
# documents and the incremental saves other tools make after kyso signs (tests/sign_cli.rs,
# tests/hostile/later_writers.py).
kyso_mupdf_peers() {
    kyso_python_peers
    if "$KYSO_VENV/bin/python" -c 'import pymupdf' 2>/dev/null; then return 0; fi
    echo "kyso: installing PyMuPDF into $KYSO_VENV" >&2
    "$KYSO_VENV/bin/pip" install -q 'pymupdf==2.0'
}

# pikepdf (qpdf's Python binding, PyPI `pikepdf`), in the same venv: qpdf writes the linearized
# and rebuilt documents of tests/hostile/signing_inputs.py; with fpdf2 and img2pdf (a scan)
# the honest writers' documents of tests/peers/honest_writers.py. Found missing 2026-12-04: a
# fresh venv had no pikepdf, and the signing tests that use it only passed where an earlier
# bench run had installed it.
kyso_pdf_peers() {
    kyso_python_peers
    if "$KYSO_VENV/bin/python" -c 'import pikepdf, fpdf, img2pdf' 2>/dev/null; then return 0; fi
    echo "kyso: installing pikepdf, fpdf2 and img2pdf into $KYSO_VENV" >&2
    "$KYSO_VENV/bin/pip" install -q 'pikepdf==10.18.0' 'fpdf2==2.8.9' 'img2pdf==0.6.3'
}

# The E-ARK validator (PyPI eark-validator, by the DILCIS Board) that judges `kyso export
# --format eark`, in a venv of its own: it pins an lxml that pyHanko refuses.
KYSO_EARK_VENV="${KYSO_EARK_VENV:-$HOME/.cache/kyso/venv-eark}"
kyso_eark_peers() {
    kyso_python_peers
    if [ -x "$KYSO_EARK_VENV/bin/eark-validator" ]; then return 0; fi
    echo "kyso: installing eark-validator into $KYSO_EARK_VENV" >&2
    rm -rf "$KYSO_EARK_VENV"
    python3 -m venv "$KYSO_EARK_VENV"
    "$KYSO_EARK_VENV/bin/pip" install -q --upgrade pip >/dev/null
    "$KYSO_EARK_VENV/bin/pip" install -q 'eark-validator==1.1.3'
}

# oha (crates.io), the HTTP load generator of benches/serve.sh, built once per machine into
# ~/.cache/kyso/tools (a few minutes on two cores).
KYSO_TOOLS="${KYSO_TOOLS:-$HOME/.cache/kyso/tools}"
kyso_oha() {
    if [ -x "$KYSO_TOOLS/bin/oha" ]; then return 0; fi
    echo "kyso: building oha into $KYSO_TOOLS (once)" >&2
    cargo install --locked --root "$KYSO_TOOLS" --target-dir "$KYSO_TOOLS/target" oha >&2
    rm -rf "$KYSO_TOOLS/target"
}

# The browser test of the verification page (tests/web_page.rs): Debian's chromium, driven by
# playwright-core, with axe-core judging accessibility — exactly the versions of
# tests/web/package-lock.json, installed into ~/.cache/kyso/web (again only when the lock
# changes). No browser build is downloaded: playwright-core drives /usr/bin/chromium.
# (Not KYSO_WEB_…: `kyso serve` reads KYSO_<SECTION>_<KEY> as its config, and web is one.)
KYSO_BROWSER_TOOLS="${KYSO_BROWSER_TOOLS:-$HOME/.cache/kyso/web}"
kyso_web_peers() {
    local root missing=()
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    if [ ${#missing[@]} -gt 0 ]; then
        local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
        echo "kyso: installing ${missing[*]}" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    if [ -d "$KYSO_BROWSER_TOOLS/node_modules/playwright-core" ] && [ -d "$KYSO_BROWSER_TOOLS/node_modules/axe-core" ] \
        && cmp -s "$root/tests/web/package-lock.json" "$KYSO_BROWSER_TOOLS/package-lock.json"; then
        export KYSO_NODE_MODULES="$KYSO_BROWSER_TOOLS/node_modules"
        return 0
    fi
    echo "kyso: installing playwright-core and axe-core into $KYSO_BROWSER_TOOLS" >&2
    mkdir -p "$KYSO_BROWSER_TOOLS"
    cp "$root/tests/web/package.json" "$root/tests/web/package-lock.json" "$KYSO_BROWSER_TOOLS/"
    (cd "$KYSO_BROWSER_TOOLS" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
    export KYSO_NODE_MODULES="$KYSO_BROWSER_TOOLS/node_modules"
}
