#!/usr/bin/env bash
# Writes packaging/vcsa_exporter.order: the functions the shipped binary runs when it starts and
# serves scrapes, one symbol a line, which the release link (SHIPPED_FLAGS in the Makefile) lays out
# first and together in .text (lld --symbol-ordering-file).
#
# Why: the kernel maps a binary's code 64 KiB at a time around each page the process touches
# (fault-around). Laid out as the linker found them, the ~1.6 MiB of functions the exporter runs are
# spread over 15 MiB of .text, and most of that 15 MiB ends up resident. Laid out together, they
# need a few MiB. The list changes nothing else: a symbol it names that no longer exists is skipped,
# a function it does not name is laid out as before. A stale list only maps more pages; regenerate
# it (`make symbol-order`) when the dependencies, the Swift version or the serving path change.
#
#   bash packaging/symbol-order.sh BINARY SIMULATOR [OUT]
#
# BINARY: vcsa_exporter linked with SHIPPED_FLAGS and not stripped (its symbol table names the
# functions); SIMULATOR: vcsa_simulator. Runs BINARY under valgrind's callgrind against the
# simulator over HTTPS, as the bench's nginx is reached: start-up, plain and gzip scrapes, the
# landing page, the health endpoints, SIGTERM (logout). Needs valgrind and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$1 simulator=$2 out=${3:-packaging/vcsa_exporter.order}
command -v valgrind >/dev/null || { echo "symbol-order: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# valgrind 3.19 (Debian 12) cannot read the DWARF 5 of Swift 6's debug info: the symbol table is enough.
strip --strip-debug -o "$work/vcsa_exporter" "$binary"

sim_port=$(port)
"$simulator" --listen-address "127.0.0.1:$sim_port" --tls --tls.cert-out "$work/ca.pem" >"$work/simulator.log" 2>&1 &
pids+=($!)
# Listening before the exporter starts: a first login that fails backs off for 30 s.
for _ in $(seq 100); do curl -fsk -o /dev/null "https://127.0.0.1:$sim_port/simulator/stats" && break; sleep 0.1; done
printf 'vmware\n' >"$work/password"

exporter_port=$(port)
url=http://127.0.0.1:$exporter_port
valgrind --tool=callgrind --dump-instr=no --demangle=no --compress-strings=no --compress-pos=no \
  --callgrind-out-file="$work/callgrind.out" "$work/vcsa_exporter" \
  --web.listen-address "127.0.0.1:$exporter_port" --vcenter.url "https://127.0.0.1:$sim_port" \
  --vcenter.tls.ca-file "$work/ca.pem" --vcenter.username administrator@vsphere.local \
  --vcenter.password-file "$work/password" --vcenter.timeout 60s >"$work/exporter.log" 2>&1 &
exporter=$!
pids+=("$exporter")
for _ in $(seq 600); do curl -fs -o /dev/null "$url/-/ready" && break; sleep 0.1; done
for _ in $(seq 20); do
  curl -fsS -H 'X-Prometheus-Scrape-Timeout-Seconds: 60' "$url/metrics" >"$work/scrape"
  if ! grep -q '^vcsa_up 1$' "$work/scrape"; then
    grep '^vcsa_' "$work/scrape" | head -n 20 >&2
    tail -n 20 "$work/exporter.log" >&2
    echo "symbol-order: a scrape did not have vcsa_up 1" >&2
    exit 1
  fi
  curl -fsS -o /dev/null --compressed "$url/metrics"
  for path in / /-/healthy /-/ready; do curl -fsS -o /dev/null "$url$path"; done
done
kill -TERM "$exporter"
wait "$exporter" || true

# The functions of the binary itself (ob=), in the order callgrind lists them; "'2" marks a
# recursion level, not another function.
awk -v ob="$work/vcsa_exporter" '
  /^ob=/ { inside = (substr($0, 4) == ob) }
  /^fn=/ && inside {
    name = substr($0, 4); sub(/'"'"'[0-9]+$/, "", name)
    if (name !~ /^0x/ && name != "(below main)" && !seen[name]++) print name
  }' "$work/callgrind.out" >"$work/order"
[ "$(wc -l <"$work/order")" -gt 1000 ] || { echo "symbol-order: too few functions, see $work" >&2; exit 1; }
mv "$work/order" "$out"
echo "symbol-order: $(wc -l <"$out") functions in $out"
