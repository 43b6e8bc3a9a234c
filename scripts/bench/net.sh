#!/usr/bin/env bash
# Memory under hostile servers and clients (issue 11), release build:
#   1. peak RSS of `manifest fetch` against a registry serving a 600 MB manifest   (goal ≤ 100 MiB)
#   2. peak RSS of `register --ts` against a service answering with a 2 GiB body   (goal ≤ 64 MiB)
#   3. RSS of `ts serve` with 100 stalled 4 MiB uploads, above idle                  (goal ≤ 64 MiB)
#      and a normal registration still succeeding while they hold their connections.
# Each case with and without Content-Length where it applies.
#
#   scripts/bench/net.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
cargo build --release --quiet --bin modelseal
BIN=$ROOT/target/release/modelseal
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# A hostile server: every manifest GET is 600 MB of spaces, every POST a 2 GiB body; the
# Content-Length header is sent unless the path contains "nolen".
cat > "$work/hostile.py" <<'EOF'
import http.server, socketserver, sys
CHUNK = b" " * (1 << 20)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def endless(self, total, status, ct):
        self.send_response(status)
        self.send_header("Content-Type", ct)
        if "nolen" not in self.path and "nolen" not in self.headers.get("Host", ""):
            self.send_header("Content-Length", str(total))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        sent = 0
        try:
            while sent < total:
                n = min(len(CHUNK), total - sent)
                self.wfile.write(CHUNK[:n]); sent += n
        except (BrokenPipeError, ConnectionResetError):
            pass
    def do_GET(self):
        if "/manifests/" in self.path:
            return self.endless(600 * 1000 * 1000, 200, "application/vnd.oci.image.manifest.v1+json")
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"{}")
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0")); self.rfile.read(n)
        return self.endless(2 << 30, 201, "application/cose")
class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True
s = S(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
python3 "$work/hostile.py" > "$work/port" &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.05; done
port=$(head -n1 "$work/port")

peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n1; }
mib() { echo "$(( $1 / 1024 )) MiB"; }

for path in big/m:v1 nolen/m:v1; do
  kib=$(peak "$BIN" -q manifest fetch "127.0.0.1:$port/$path" || true)
  echo "manifest fetch, 600 MB manifest ($path): peak RSS $(mib "$kib")  [goal ≤ 100 MiB]"
done

"$BIN" -q key generate -o "$work/pub" >/dev/null
echo '{}' > "$work/m.json"
"$BIN" -q sign "$work/m.json" --key "$work/pub.key" --issuer i --subject s -o "$work/s.cose"
kib=$(peak "$BIN" -q register "$work/s.cose" --ts "http://127.0.0.1:$port" -o "$work/o" || true)
echo "register, 2 GiB answer with Content-Length: peak RSS $(mib "$kib")  [goal ≤ 64 MiB]"
kib=$(peak "$BIN" -q register "$work/s.cose" --ts "http://127.0.0.1:$port/nolen" -o "$work/o" || true)
echo "register, 2 GiB answer without Content-Length: peak RSS $(mib "$kib")  [goal ≤ 64 MiB]"

# ts serve with 100 stalled uploads (headers for 4 MiB, 4 MiB - 1 byte sent, then silence).
"$BIN" -q ts init --dir "$work/ts" --accept-any-issuer 2>/dev/null
"$BIN" -q ts serve --dir "$work/ts" --listen 127.0.0.1:0 > "$work/url" 2>/dev/null &
server=$!; pids+=("$server")
for _ in $(seq 1 100); do [ -s "$work/url" ] && break; sleep 0.05; done
url=$(head -n1 "$work/url")
sleep 0.5
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
idle=$(rss "$server")
cat > "$work/stall.py" <<'EOF'
import socket, sys, time
host, port = sys.argv[1].split("//")[1].split(":")
socks = []
for _ in range(100):
    s = socket.create_connection((host, int(port)))
    s.sendall(b"POST /entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/cose\r\nContent-Length: %d\r\n\r\n" % (4 << 20))
    try:
        s.sendall(b"\0" * ((4 << 20) - 1))
    except OSError:
        pass
    socks.append(s)
print("stalled", flush=True)
time.sleep(float(sys.argv[2]))
EOF
python3 "$work/stall.py" "$url" 30 > "$work/stalled" &
staller=$!; pids+=("$staller")
for _ in $(seq 1 200); do [ -s "$work/stalled" ] && break; sleep 0.05; done
sleep 2
held=$(rss "$server")
start=$(date +%s.%N)
if "$BIN" -q register "$work/s.cose" --ts "$url" --ts-key "$work/ts/service.pub" -o "$work/o2.scitt"; then
  ok="succeeded in $(echo "$(date +%s.%N) - $start" | bc) s"
else
  ok="FAILED"
fi
echo "ts serve: idle $(mib "$idle"), with 100 stalled 4 MiB uploads $(mib "$held"), +$(mib $((held - idle)))  [goal ≤ +64 MiB]; a registration meanwhile $ok"
