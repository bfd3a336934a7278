#!/usr/bin/env bash
# The demo: a simulated appliance (HTTPS, self-signed) running a reconciliation job that progresses
# from 0 to 100% over five minutes, and vcsa_exporter scraping it with certificate verification on.
set -euo pipefail
BIN_DIR=${BIN_DIR:-.build/debug}
SIM_PORT=${SIM_PORT:-8443}
EXPORTER_PORT=${EXPORTER_PORT:-28272}
work=$(mktemp -d)
# Stop the exporter first, so that it can log out of the appliance, then the appliance. After Ctrl-C
# the exporter has the signal already: it gets time for its own shutdown (drain, logout) before
# another, which it would take as "stop now, skip the logout".
stop() {
    trap '' INT  # a second Ctrl-C reaches the exporter itself; here it must not end the clean-up half done
    if [ -n "${exporter:-}" ]; then
        if [ -n "${interrupted:-}" ]; then
            for _ in $(seq 150); do kill -0 "$exporter" 2>/dev/null || break; sleep 0.1; done
        fi
        kill "$exporter" 2>/dev/null || true  # (set -e: a process already gone must not end the clean-up)
        wait "$exporter" 2>/dev/null || true
    fi
    # By its PID, waited for at most 10 s: in its own session it never hears Ctrl-C, and nothing else stops it.
    if [ -n "${appliance:-}" ]; then
        kill "$appliance" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$appliance" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$appliance" 2>/dev/null || true
        wait "$appliance" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap 'trap "" INT; interrupted=1; exit 130' INT
trap stop EXIT
umask 077
head -c 18 /dev/urandom | base64 > "$work/password"

# Its own session: Ctrl-C reaches the exporter, which logs out before the appliance is stopped.
setsid "$BIN_DIR/vcsa_simulator" --listen-address "127.0.0.1:$SIM_PORT" --scenario progressing --progress-duration 300 \
    --restore-scenario succeeded --tls --tls.cert-out "$work/appliance-ca.pem" --password-file "$work/password" &
appliance=$!
for _ in $(seq 100); do [ -s "$work/appliance-ca.pem" ] && break; sleep 0.1; done

"$BIN_DIR/vcsa_exporter" --web.listen-address "127.0.0.1:$EXPORTER_PORT" --vcenter.url "https://127.0.0.1:$SIM_PORT" \
    --vcenter.username administrator@vsphere.local --vcenter.password-file "$work/password" \
    --vcenter.tls.ca-file "$work/appliance-ca.pem" &
exporter=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$EXPORTER_PORT/-/healthy" >/dev/null && break; sleep 0.1; done

cat <<MSG

vcsa_exporter is up. Scrape it:
  curl -s http://127.0.0.1:$EXPORTER_PORT/metrics | grep ^vcsa_reconciliation
  landing page: http://127.0.0.1:$EXPORTER_PORT/
Change the simulated job (none, running, stalled, failed, ...):
  curl -X PUT --cacert $work/appliance-ca.pem --data failed https://127.0.0.1:$SIM_PORT/simulator/scenario
Ctrl-C stops both.

MSG
curl -s "http://127.0.0.1:$EXPORTER_PORT/metrics" | grep -E '^vcsa_(up|reconciliation_job_(status\{status="RUNNING"\}|progress_ratio))'
# The exporter, not every job: started in the background by a script, this shell ignores SIGINT and
# never sees Ctrl-C, but the exporter does and stops; then the EXIT trap stops the appliance.
wait "$exporter"
