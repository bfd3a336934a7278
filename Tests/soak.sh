#!/usr/bin/env bash
# Soak of vcsa_exporter: `make soak` runs this.
#
# On 127.0.0.1 only: vcsa_simulator and vcsa_exporter, then at least SOAK_SCRAPES scrapes and
# SOAK_CYCLES scenario cycles from SOAK_WORKERS concurrent curl workers (keep-alive batches of
# 50; one worker asks for gzip, one opens a connection per scrape). Each cycle crashes and
# restarts the appliance (every session gone, pooled connections dead) in the 'expiring'
# scenario, so that the exporter logs in again and again, then switches it through every other
# reconciliation scenario, each paired with a restore scenario. The scenario lists come from the
# simulator's own control API, so that a new scenario is never skipped.
#
# It prints the exporter's resident memory and open descriptors after a warm-up (one cycle) and
# at the end, and the appliance's active sessions at the end. It fails when descriptors grew by
# more than SOAK_FD_SLACK, memory by more than SOAK_RSS_GROWTH_PERCENT, the exporter holds more
# than one vCenter session, or any scrape was not answered 200.
#
# Environment (all optional):
#   BIN_DIR                   holds vcsa_exporter and vcsa_simulator  (default: swift build --show-bin-path)
#   SOAK_SCRAPES              scrapes after the warm-up, at least     (default 10000)
#   SOAK_CYCLES               cycles after the warm-up, at least      (default 4: every pairing of scenarios)
#   SOAK_WORKERS              concurrent scrapers                     (default 4)
#   SOAK_DWELL                seconds each scenario is held           (default 0.5; 'slow' one round only)
#   SOAK_FD_SLACK             descriptors the exporter may gain       (default 8)
#   SOAK_RSS_GROWTH_PERCENT   resident memory growth allowed          (default 20)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN_DIR="${BIN_DIR:-$(swift build --show-bin-path)}"
SCRAPES="${SOAK_SCRAPES:-10000}"
CYCLES="${SOAK_CYCLES:-4}"
WORKERS="${SOAK_WORKERS:-4}"
DWELL="${SOAK_DWELL:-0.5}"
FD_SLACK="${SOAK_FD_SLACK:-8}"
RSS_GROWTH="${SOAK_RSS_GROWTH_PERCENT:-20}"
BATCH=50  # scrapes per curl process, on one keep-alive connection

log() { printf 'soak: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

work="$(mktemp -d)"
simulator_pid=""
exporter_pid=""
cleanup() {
    touch "$work/stop"
    for pid in $simulator_pid $exporter_pid $(jobs -p); do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# The first line of $1 matching the sed expression $2 (printed), waiting up to 15 s for it.
wait_for() {
    local file="$1" expression="$2" found=""
    for _ in $(seq 150); do
        found="$(sed -n "$expression" "$file" | head -n 1)"
        [ -n "$found" ] && { printf '%s\n' "$found"; return 0; }
        sleep 0.1
    done
    cat "$file" >&2
    return 1
}

# Sends signal $2 to our child $1 and reaps it; sets $stopped to its exit status, or says it had
# to be killed.
stop_process() {
    local pid="$1"
    stopped=0
    kill "-$2" "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -KILL "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null || true
        stopped="none (killed 15 s after SIG$2)"
    else
        wait "$pid" 2>/dev/null || stopped=$?
    fi
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
open_fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }
json_field() { sed -n "s/.*\"$1\" *: *\([0-9]*\).*/\1/p"; }

# ---------------------------------------------------------------- the appliance
password="soak-$(date +%s%N)"
printf '%s\n' "$password" >"$work/password"
chmod 600 "$work/password"

# What earlier instances of the appliance saw (a restart starts its counters at 0).
total_logins=0
total_reconciliation_gets=0
total_restore_gets=0

# Starts the simulator in scenario $1, on port $2 (0 the first time: any free port).
start_simulator() {
    : >"$work/simulator.log"
    VCSA_PASSWORD="$password" "$BIN_DIR/vcsa_simulator" --listen-address "127.0.0.1:$2" --scenario "$1" \
        --progress-duration 30 >>"$work/simulator.log" 2>&1 &
    simulator_pid=$!
    simulator="$(wait_for "$work/simulator.log" 's|.*listening on \(http://127\.0\.0\.1:[0-9]*\).*|\1|p')" || die "the simulator did not start"
}

# An appliance crash and reboot: counters saved, SIGKILL, the same port again, in scenario $1.
restart_simulator() {
    local stats
    stats="$(curl -sf "$simulator/simulator/stats")" || die "no stats from the simulator"
    total_logins=$((total_logins + $(json_field logins <<<"$stats")))
    total_reconciliation_gets=$((total_reconciliation_gets + $(json_field reconciliation_gets <<<"$stats")))
    total_restore_gets=$((total_restore_gets + $(json_field restore_gets <<<"$stats")))
    stop_process "$simulator_pid" KILL 2>/dev/null  # without bash's "Killed" notice
    start_simulator "$1" "${simulator##*:}"
}

set_scenario() { curl -sf -X PUT --data "$2" "$simulator/simulator/$1" >/dev/null || die "PUT $1 $2"; }

start_simulator running 0

"$BIN_DIR/vcsa_exporter" --web.listen-address 127.0.0.1:0 --vcenter.url "$simulator" \
    --vcenter.username administrator@vsphere.local --vcenter.password-file "$work/password" \
    --vcenter.timeout 2s >"$work/exporter.log" 2>&1 &
exporter_pid=$!
port="$(wait_for "$work/exporter.log" 's|.*msg=Listening address=127\.0\.0\.1:\([0-9]*\).*|\1|p')" || die "the exporter did not start"
metrics="http://127.0.0.1:$port/metrics"
log "simulator $simulator, exporter http://127.0.0.1:$port (pid $exporter_pid)"

# Every scenario the simulator knows: it lists them when refusing an unknown one.
scenarios_of() {
    curl -s -X PUT --data '?' "$simulator/simulator/$1" | sed -n 's/.*expected one of: //p' | tr -d ','
}
read -r -a reconciliation <<<"$(scenarios_of scenario)"
read -r -a restore_all <<<"$(scenarios_of restore-scenario)"
read -r -a backup_all <<<"$(scenarios_of backup-scenario)"
# 'unsupported' makes the exporter stop asking for the restore job for 10 minutes (as designed):
# it comes once, at the end, and the cycles pair the others.
restore=()
for name in "${restore_all[@]}"; do [ "$name" = unsupported ] || restore+=("$name"); done
backup=()
for name in "${backup_all[@]}"; do [ "$name" = unsupported ] || backup+=("$name"); done
[ "${#reconciliation[@]}" -ge 10 ] && [ "${#restore[@]}" -ge 3 ] || die "cannot list the simulator's scenarios"
log "reconciliation scenarios: ${reconciliation[*]}"
log "restore scenarios: ${restore_all[*]}"
log "backup scenarios: ${backup_all[*]}"

# ---------------------------------------------------------------- load
# One cycle. 'expiring' comes first, on a rebooted appliance: the exporter's session is gone, and
# the sessions it makes now expire every 3 requests. Then 'running' for a moment, so that the
# session is one that lasts before 'bad-credentials' (a refused login would make the exporter back
# off for 30 s and call the appliance no more). Then every other scenario for $DWELL seconds, each
# with the next restore scenario: 17 and 4 scenarios meet in every pairing within 4 cycles.
# 'slow' (5 s a call, cut at the exporter's 2 s deadline) is held for one round only.
pairing=0
cycle() {
    local name
    restart_simulator expiring
    sleep "$DWELL"
    set_scenario scenario running
    sleep 0.3
    for name in bad-credentials "${reconciliation[@]}"; do
        case "$name" in expiring) continue ;; esac
        set_scenario restore-scenario "${restore[$((pairing % ${#restore[@]}))]}"
        set_scenario backup-scenario "${backup[$((pairing % ${#backup[@]}))]}"
        set_scenario scenario "$name"
        if [ "$name" = slow ]; then sleep 0.1; else sleep "$DWELL"; fi
        pairing=$((pairing + 1))
    done
    set_scenario scenario running
}

# A scraper: batches of $BATCH scrapes on one connection each (curl options $2), until
# $work/stop exists; one status code a line to $1.
scraper() {
    local out="$1" options="$2" urls=()
    for _ in $(seq "$BATCH"); do urls+=(-o /dev/null "$metrics"); done
    while [ ! -e "$work/stop" ]; do
        # shellcheck disable=SC2086 # $options is zero or more words
        curl -s $options --max-time 15 -w '%{http_code}\n' "${urls[@]}" >>"$out" || true
    done
}

# At least $1 scrapes and $2 cycles, from $WORKERS scrapers; status codes in $work/$3.*.
load() {
    local scrapes="$1" cycles="$2" tag="$3" worker options scraper_pids=() done=0 made=0
    rm -f "$work/stop"
    for worker in $(seq "$WORKERS"); do
        options=""
        [ "$worker" = 1 ] && options="--compressed"
        [ "$worker" = 2 ] && options="--header Connection:close"
        : >"$work/$tag.$worker"
        scraper "$work/$tag.$worker" "$options" &
        scraper_pids+=($!)
    done
    while [ "$done" -lt "$cycles" ] || [ "$made" -lt "$scrapes" ]; do
        cycle
        done=$((done + 1))
        made=$(cat "$work/$tag".* | wc -l)
    done
    touch "$work/stop"
    wait "${scraper_pids[@]}" || true
    log "$tag: $(cat "$work/$tag".* | wc -l) scrapes over $done cycles"
}

# ---------------------------------------------------------------- warm-up, then the soak
started=$(date +%s)
curl -sf -o /dev/null "$metrics" || die "the first scrape failed"
load 0 1 warmup
sleep 1
rss_start=$(rss_kib "$exporter_pid")
fds_start=$(open_fds "$exporter_pid")
log "after warm-up: RSS ${rss_start} KiB, ${fds_start} open fds"

soak_started=$(date +%s)
load "$SCRAPES" "$CYCLES" soak
soak_seconds=$(( $(date +%s) - soak_started ))
if printf '%s\n' "${restore_all[@]}" | grep -qx unsupported; then
    set_scenario restore-scenario unsupported
    set_scenario backup-scenario unsupported
    scraper "$work/soak.unsupported" "" &
    sleep "$DWELL"
    touch "$work/stop"
    wait $! || true
    set_scenario restore-scenario none
    set_scenario backup-scenario nightly
fi
sleep 1
kill -0 "$exporter_pid" 2>/dev/null || die "the exporter died: $(tail -n 20 "$work/exporter.log")"
rss_end=$(rss_kib "$exporter_pid")
fds_end=$(open_fds "$exporter_pid")
stats="$(curl -sf "$simulator/simulator/stats")"
sessions=$(json_field active_sessions <<<"$stats")
total_logins=$((total_logins + $(json_field logins <<<"$stats")))
total_reconciliation_gets=$((total_reconciliation_gets + $(json_field reconciliation_gets <<<"$stats")))
total_restore_gets=$((total_restore_gets + $(json_field restore_gets <<<"$stats")))
scrapes=$(cat "$work"/soak.* | wc -l)
failed=$(cat "$work"/soak.* | grep -vc '^200$' || true)
# Then SIGTERM: the exporter logs out and exits (reported here; the tests judge it).
stop_process "$exporter_pid" TERM
exit_status="$stopped"
exporter_pid=""
sessions_after_exit=$(curl -sf "$simulator/simulator/stats" | json_field active_sessions)

# ---------------------------------------------------------------- report
rss_growth=$(( (rss_end - rss_start) * 100 / rss_start ))
printf '\nsoak: %d scrapes in %d s after a warm-up of %d s; %d workers; %d reconciliation x %d restore x %d backup scenarios\n' \
    "$scrapes" "$soak_seconds" "$((soak_started - started))" "$WORKERS" "${#reconciliation[@]}" "${#restore_all[@]}" "${#backup_all[@]}"
printf 'soak: the appliance (restarted every cycle) saw %d logins, %d reconciliation and %d restore calls\n' \
    "$total_logins" "$total_reconciliation_gets" "$total_restore_gets"
printf '%-22s %14s %10s\n' "" "after warm-up" "end"
printf '%-22s %14s %10s   (%+d%%, limit +%d%%)\n' "RSS KiB" "$rss_start" "$rss_end" "$rss_growth" "$RSS_GROWTH"
printf '%-22s %14s %10s   (%+d, limit +%d)\n' "open fds" "$fds_start" "$fds_end" "$((fds_end - fds_start))" "$FD_SLACK"
printf '%-22s %14s %10s   (limit 1)\n' "active sessions" "" "$sessions"
printf '%-22s %14s %10s   (limit 0)\n' "scrapes not 200" "" "$failed"
printf '%-22s %14s %10s   (exporter exit status after SIGTERM: %s)\n' "sessions after exit" "" "${sessions_after_exit:-?}" "$exit_status"

status=0
[ "$scrapes" -ge "$SCRAPES" ] || { log "FAIL: only $scrapes scrapes were made"; status=1; }
[ $((fds_end - fds_start)) -le "$FD_SLACK" ] || { log "FAIL: open fds grew from $fds_start to $fds_end"; status=1; }
[ "$rss_growth" -le "$RSS_GROWTH" ] || { log "FAIL: RSS grew by ${rss_growth}%"; status=1; }
{ [ -n "$sessions" ] && [ "$sessions" -le 1 ]; } || { log "FAIL: the appliance holds ${sessions:-?} sessions of the exporter"; status=1; }
[ "$failed" -eq 0 ] || { log "FAIL: $failed scrapes were not answered 200 ($(cat "$work"/soak.* | sort | uniq -c | tr '\n' ' '))"; status=1; }
if [ "$status" -eq 0 ]; then log "PASS"; else tail -n 20 "$work/exporter.log" >&2; fi
exit "$status"
