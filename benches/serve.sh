#!/usr/bin/env bash
# Load test of `kyso serve` on loopback with oha (crates.io): verifications per second and
# latency for a 50 KB signed PDF over TLS, archive puts per second, the service's CPU and
# memory, a soak run for memory growth, and in the same run the in-process validation rate of
# the same file (kyso-bench verify-threads) — the limit the service can reach on this machine.
#
#   benches/serve.sh                 # 30 s per load figure, 600 s soak
#   SECONDS_PER=10 SOAK=60 benches/serve.sh
#
# Prints the Markdown for docs/benchmarks.md. Run it when nothing else loads the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib.sh
kyso_install_missing
kyso_python_peers
kyso_oha
"$KYSO_VENV/bin/pip" install -q fpdf2 pillow >/dev/null
per="${SECONDS_PER:-30}"
soak="${SOAK:-600}"
conc="${CONCURRENCY:-32}"
cargo build --release --locked -p kyso -p kyso-benches --bins 2>&1 | tail -1 >&2
target="${CARGO_TARGET_DIR:-target}/release"
kyso="$target/kyso"
oha="$KYSO_TOOLS/bin/oha"
w="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$w"' EXIT
pid=""

"$kyso" token init-demo "$w/demo" >/dev/null
export SOFTHSM2_CONF="$w/demo/softhsm2.conf"
"$KYSO_VENV/bin/python" benches/peers/make_bench_pdfs.py "$w" >/dev/null
"$kyso" sign --key 'pkcs11:token=kyso-dev;object=signer-rsa' --pin-file "$w/demo/user.pin" \
    "$w/bench-50k.pdf" 2>/dev/null
pdf="$w/bench-50k.signed.pdf"
size=$(stat -c %s "$pdf")

# TLS and tokens for the run (thrown away with $w).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench-ca \
    -keyout "$w/ca.key" -out "$w/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -keyout "$w/server.key" -out "$w/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$w/ext"
openssl x509 -req -in "$w/server.csr" -CA "$w/ca.pem" -CAkey "$w/ca.key" -CAcreateserial \
    -days 2 -extfile "$w/ext" -out "$w/server.pem" 2>/dev/null
vtok="kyso_bench_verifier_$(openssl rand -hex 16)"
ctok="kyso_bench_clerk_$(openssl rand -hex 16)"
cat > "$w/kyso.toml" <<CONF
[server]
listen = "127.0.0.1:0"
tls_cert = "server.pem"
tls_key = "server.key"
[limits]
# oha opens all its connections from 127.0.0.1: one address, more than the default 32.
connections_per_address = 256
rate_per_second = 1000000
burst = 1000000
concurrent_per_client = 4096
verify_queue = 4096
verify_queue_per_client = 4096
inflight_bytes = 17179869184
inflight_bytes_per_client = 17179869184
[token]
pin_file = "demo/user.pin"
[archive]
db = "db"
log_key = "pkcs11:token=kyso-dev;object=log"
origin = "kyso.bench/archive"
key_name = "kyso.bench"
[trust]
anchors = ["demo/ca.pem"]
[[api_tokens]]
name = "verifier"
sha256 = "$(printf %s "$vtok" | sha256sum | cut -d' ' -f1)"
roles = ["verifier"]
[[api_tokens]]
name = "clerk"
sha256 = "$(printf %s "$ctok" | sha256sum | cut -d' ' -f1)"
roles = ["clerk"]
agency = "bench"
CONF
"$kyso" serve --config "$w/kyso.toml" > "$w/out" 2> "$w/serve.log" &
pid=$!
for _ in $(seq 100); do grep -q listening "$w/out" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$w/out")"
url="${url/127.0.0.1/localhost}"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
rss_mib() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status"; }
hz=$(getconf CLK_TCK)
load() { # METHOD PATH CT BODY TOKEN SECONDS CONC -> "rps p50_ms p99_ms ok_share cores rss"
    local t0 t1 out
    t0=$(cpu_ticks)
    out="$w/oha.json"
    "$oha" --no-tui --output-format json -o "$out" -z "${6}s" -c "$7" -m "$1" -T "$3" -D "$4" \
        -H "Authorization: Bearer $5" --cacert "$w/ca.pem" "$url$2" >/dev/null
    t1=$(cpu_ticks)
    python3 - "$out" "$(( t1 - t0 ))" "$hz" "$6" "$(rss_mib)" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
s = j["summary"]; p = j["latencyPercentiles"]
codes = j.get("statusCodeDistribution", {})
codes.update({"error: " + k: v for k, v in j.get("errorDistribution", {}).items()})
total = sum(codes.values()) or 1
ok = sum(v for k, v in codes.items() if k.startswith("2")) / total
cores = int(sys.argv[2]) / int(sys.argv[3]) / float(sys.argv[4])
print(f'{s["requestsPerSec"]:.0f} {p["p50"]*1000:.1f} {p["p99"]*1000:.1f} {ok:.4f} {cores:.2f} {sys.argv[5]} {json.dumps(codes)}')
PY
}

inproc() { "$target/kyso-bench" verify-threads "$pdf" "$w/demo/ca.pem" "$1" 5; }
echo "in-process ..." >&2
ip1=$(inproc 1); ip2=$(inproc 2)
echo "warm-up ..." >&2
load POST /v1/verify application/pdf "$pdf" "$vtok" 3 "$conc" >/dev/null
rss0=$(rss_mib)
echo "verify ..." >&2
read -r vr vp50 vp99 vok vcores vrss vcodes < <(load POST /v1/verify application/pdf "$pdf" "$vtok" "$per" "$conc")
read -r vr1 vp501 vp991 vok1 vcores1 vrss1 _ < <(load POST /v1/verify application/pdf "$pdf" "$vtok" "$per" 1)
python3 - "$pdf" > "$w/put.json" <<'PY'
import base64, json, sys
print(json.dumps({"code": "001099012345.BENCH", "content": base64.b64encode(open(sys.argv[1], "rb").read()).decode()}))
PY
echo "puts ..." >&2
read -r pr pp50 pp99 pok pcores prss pcodes < <(load POST /v1/records application/json "$w/put.json" "$ctok" "$per" 64)
ip1b=$(inproc 1); ip2b=$(inproc 2)
echo "soak ${soak}s ..." >&2
rss_series=""
"$oha" --no-tui --output-format quiet -z "${soak}s" -c "$conc" -m POST -T application/pdf -D "$pdf" \
    -H "Authorization: Bearer $vtok" --cacert "$w/ca.pem" "$url/v1/verify" >/dev/null &
opid=$!
t=0
while kill -0 "$opid" 2>/dev/null; do
    rss_series="$rss_series $(rss_mib)"
    sleep 30; t=$((t + 30))
done
wait "$opid" || true
python3 - "$rss_series" <<'PY' > "$w/soak"
import sys
v = [int(x) for x in sys.argv[1].split()]
print(f"{v[0]} {v[len(v)//2]} {v[-1]} {max(v)} {len(v)}")
PY
read -r s0 smid send smax sn < "$w/soak"
load_note="$(uptime | sed 's/.*load average/load average/')"

cat <<MD
Measured $(date -u +%F) on this $(nproc)-core VM ($load_note after the run), release build; the
service, oha and the in-process loop share the same cores. Document: a ${size}-byte PDF with
one PAdES-B-B RSA-2048 signature; every request over TLS 1.3 with a bearer token.

| what | per second | p50 | p99 | 2xx | service CPU (cores) | service RSS |
|---|---|---|---|---|---|---|
| \`POST /v1/verify\`, $conc connections, ${per} s | $vr | $vp50 ms | $vp99 ms | $vok | $vcores | $vrss MiB |
| \`POST /v1/verify\`, 1 connection, ${per} s | $vr1 | $vp501 ms | $vp991 ms | $vok1 | $vcores1 | $vrss1 MiB |
| \`POST /v1/records\` (verify + durable put), 64 connections, ${per} s | $pr | $pp50 ms | $pp99 ms | $pok | $pcores | $prss MiB |
| in-process \`Validator::verify_file\`, 1 thread (before / after) | $ip1 / $ip1b | | | | | |
| in-process \`Validator::verify_file\`, 2 threads (before / after) | $ip2 / $ip2b | | | | | |

Soak: \`POST /v1/verify\` for ${soak} s at $conc connections: service RSS $rss0 MiB after warm-up,
then $s0 → $smid → $send MiB (start, middle, end of $sn samples every 30 s), at most $smax MiB.
Status codes: verify $vcodes; puts $pcodes.
MD
