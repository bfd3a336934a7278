#!/usr/bin/env bash
# Benchmark of vcsa_exporter (issue 5, and "a lean binary"): `make bench` runs this.
#
# Starts on 127.0.0.1 only: a fixed-response HTTPS upstream (nginx), the shipped build of the
# exporter (`make bench` builds it as `make dist` does: static Swift runtime, stripped), wrk as
# the load generator, a bare libmicrohttpd server (the HTTP-layer ceiling), vcsa_simulator, and
# the contenders for memory (Debian's node_exporter and blackbox_exporter, and a Python exporter
# on python3-prometheus-client), each given the same fixed number of scrapes; then
# bench/report.py prints the tables and writes bench/results/*.json.
#
# Environment (all optional):
#   BIN_DIR             holds vcsa_exporter and vcsa_simulator      (default .build-bench/shipped,
#                       what `make bench` fills)
#   BENCH_DURATION      seconds of each measured wrk load           (default 5)
#   BENCH_WARMUP        seconds of unmeasured load before each one  (default 1)
#   BENCH_SIM_DURATION  seconds of the load in the simulator pass   (default 3)
#   BENCH_STARTUP_RUNS  launches timed for start-up                 (default 5)
#   BENCH_MAX_REQUESTS  exporter --web.max-requests (above 64 so that 64 scrapers get no 503);
#                       --web.max-connections-per-ip is raised too, since every load comes from 127.0.0.1
#                                                                   (default 128)
#   BENCH_RESULTS_DIR   where the JSON goes                         (default bench/results)
#   BENCH_CONTENDERS=0  skip the contenders pass (memory after a fixed number of scrapes)
#   BENCH_TWO_COLLECTORS=0  skip the like-for-like loads with --no-collector.backup
#   BENCH_CONTENDER_SCRAPES      scrapes each contender is given     (default 10000)
#   BENCH_CONTENDER_CONNECTIONS  scrapers at a time in that pass      (default 1, as Prometheus)
#   BENCH_CONTENDER_SETTLE       seconds of rest before the second, "settled" reading (default 15:
#                                longer than the exporter's 10 s --vcenter.timeout)
#   BENCH_KEEP_TMP=1    keep the temp dir (configs, logs, raw numbers) for inspection
#   BENCH_WAIT_QUIET=S  first wait up to S seconds for the CPUs to be under 20 % busy
#   BENCH_PROFILE=1     also `perf record -g` the exporter during each scrape load (skews the
#                       numbers a little; keeps the temp dir; prints the hottest symbols)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
cd "$ROOT"

BIN_DIR="${BIN_DIR:-.build-bench/shipped}"
case "$BIN_DIR" in /*) ;; *) BIN_DIR="$ROOT/$BIN_DIR" ;; esac
DURATION="${BENCH_DURATION:-5}"
WARMUP="${BENCH_WARMUP:-1}"
SIM_DURATION="${BENCH_SIM_DURATION:-3}"
STARTUP_RUNS="${BENCH_STARTUP_RUNS:-5}"
MAX_REQUESTS="${BENCH_MAX_REQUESTS:-128}"
RESULTS_DIR="${BENCH_RESULTS_DIR:-$HERE/results}"
CONTENDERS="${BENCH_CONTENDERS:-1}"
CONTENDER_SCRAPES="${BENCH_CONTENDER_SCRAPES:-10000}"
CONTENDER_CONNECTIONS="${BENCH_CONTENDER_CONNECTIONS:-1}"
CONTENDER_SETTLE="${BENCH_CONTENDER_SETTLE:-15}"
CONTENDER_MAX_S=1800 # a contender that has not had its scrapes by then fails the bench
# Debian's interpreter, with python3-prometheus-client (not another python3 first in PATH).
DEBIAN_PYTHON=/usr/bin/python3
CONNECTIONS=(1 8 64)
JOB_PATH=/api/appliance/recovery/reconciliation/job
RESTORE_PATH=/api/appliance/recovery/restore/job
BACKUP_LIST_PATH=/api/appliance/recovery/backup/job
BACKUP_SCHEDULES_PATH=/api/appliance/recovery/backup/schedules
BACKUP_DETAILS_PATH=/api/appliance/recovery/backup/job/details
NODE_EXPORTER=/usr/bin/prometheus-node-exporter
BLACKBOX_EXPORTER=/usr/bin/prometheus-blackbox-exporter

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- tools
ensure_tools() {
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
    command -v curl >/dev/null || missing+=(curl)
    command -v gcc >/dev/null || missing+=(gcc libc6-dev)
    command -v pkg-config >/dev/null || missing+=(pkg-config)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v file >/dev/null || missing+=(file)
    command -v python3 >/dev/null || missing+=(python3)
    pkg-config --exists libmicrohttpd 2>/dev/null || missing+=(libmicrohttpd-dev)
    if [ "$CONTENDERS" != 0 ]; then
        [ -x "$NODE_EXPORTER" ] || missing+=(prometheus-node-exporter)
        [ -x "$BLACKBOX_EXPORTER" ] || missing+=(prometheus-blackbox-exporter)
        [ -x "$DEBIAN_PYTHON" ] && "$DEBIAN_PYTHON" -c 'import prometheus_client' 2>/dev/null ||
            missing+=(python3 python3-prometheus-client)
    fi
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "missing ${missing[*]} and not root: install them first"
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}
ensure_tools
if [ "$CONTENDERS" != 0 ]; then
    # Their packages' postinst start them through invoke-rc.d (systemd is absent here, and
    # policy-rc.d may forbid it): one left running would hold its port and take CPU from the bench.
    for daemon in "$NODE_EXPORTER" "$BLACKBOX_EXPORTER"; do
        for pid in $(pidof "$daemon" 2>/dev/null || true); do
            log "warning: $daemon already runs as pid $pid (started by its package?): it takes CPU from the bench; stop it"
        done
    done
fi
if [ "${BENCH_PROFILE:-0}" = 1 ] && ! command -v perf >/dev/null; then
    log "BENCH_PROFILE=1: installing perf (linux-perf)"
    env DEBIAN_FRONTEND=noninteractive apt-get install -y -q linux-perf >/dev/null || die "no perf"
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

EXPORTER="$BIN_DIR/vcsa_exporter"
SIMULATOR="$BIN_DIR/vcsa_simulator"
[ -x "$EXPORTER" ] || die "no $EXPORTER: build it first (make bench does) or set BIN_DIR"
# Is it the shipped build? Swift runtime and Foundation linked in (ldd cannot see them then), stripped.
EXPORTER_SWIFT_LIBS="$(ldd "$EXPORTER" | awk '/libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime/ {print $1}' | tr '\n' ' ')"
EXPORTER_STRIPPED=false
file -L "$EXPORTER" 2>/dev/null | grep -q ', stripped' && EXPORTER_STRIPPED=true
if [ -n "$EXPORTER_SWIFT_LIBS" ]; then
    log "warning: $EXPORTER loads Swift libraries dynamically ($EXPORTER_SWIFT_LIBS): not the shipped build (make bench builds that)"
fi

# BENCH_WAIT_QUIET=SECONDS: first wait (at most that long) for the CPUs to be under 20 % busy.
if [ "${BENCH_WAIT_QUIET:-0}" -gt 0 ]; then
    quiet_deadline=$((SECONDS + BENCH_WAIT_QUIET))
    until python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 20 else 1)' "$(python3 "$HERE/probe.py" cpu-busy 2)"; do
        if [ "$SECONDS" -ge "$quiet_deadline" ]; then
            log "warning: the CPUs stayed busy for ${BENCH_WAIT_QUIET}s: measuring anyway"
            break
        fi
        sleep 10
    done
fi
CPU_BUSY_START="$(python3 "$HERE/probe.py" cpu-busy 1)"
if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 20 else 1)' "$CPU_BUSY_START"; then
    log "warning: the CPUs are ${CPU_BUSY_START}% busy before the bench: numbers will be low"
fi

# ---------------------------------------------------------------- processes and cleanup
TMP="$(mktemp -d -t vcsa-bench.XXXXXX)"
RAW="$TMP/raw"
mkdir -p "$RAW"
STARTED_PIDS=()

stop_pid() { # PID: SIGTERM, up to 5 s grace, then SIGKILL
    local pid="$1"
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do stop_pid "$pid"; done
    if [ "${BENCH_KEEP_TMP:-0}" = 1 ] || [ "${BENCH_PROFILE:-0}" = 1 ]; then log "temp dir kept: $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 "$HERE/probe.py" free-port; }

wait_http() { # URL [curl args...]: until it answers 2xx, at most 10 s
    local url="$1"
    shift
    for _ in $(seq 200); do
        curl -fsS -o /dev/null --max-time 1 "$@" "$url" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# ---------------------------------------------------------------- bare libmicrohttpd server
log "building bench/bare_mhd.c"
# shellcheck disable=SC2046  # pkg-config output is meant to split
gcc -O2 -Wall -o "$TMP/bare_mhd" "$HERE/bare_mhd.c" $(pkg-config --cflags --libs libmicrohttpd)

# ---------------------------------------------------------------- TLS: a throwaway CA and server cert
log "making a throwaway CA and server certificate"
TLS="$TMP/tls"
mkdir -p "$TLS"
{
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=vcsa-bench CA" -keyout "$TLS/ca.key" -out "$TLS/ca.pem"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj "/CN=127.0.0.1" -keyout "$TLS/server.key" -out "$TLS/server.csr"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
        >"$TLS/server.ext"
    openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" \
        -CAcreateserial -days 2 -extfile "$TLS/server.ext" -out "$TLS/server.pem"
} >"$TLS/openssl.log" 2>&1 || { cat "$TLS/openssl.log" >&2; die "openssl failed"; }

# ---------------------------------------------------------------- nginx upstream
NGINX_PORT="$(free_port)"
DIRECT_PORT="$(free_port)"
NG="$TMP/nginx"
mkdir -p "$NG"
USER_DIRECTIVE=""
[ "$(id -u)" -eq 0 ] && USER_DIRECTIVE="user root;" # workers must reach the 0700 temp dir
sed -e "s|@TMP@|$NG|g" -e "s|@PORT@|$NGINX_PORT|g" -e "s|@DIRECT_PORT@|$DIRECT_PORT|g" -e "s|@CERT@|$TLS/server.pem|g" \
    -e "s|@KEY@|$TLS/server.key|g" -e "s|@USER@|$USER_DIRECTIVE|g" \
    "$HERE/nginx.conf.in" >"$NG/nginx.conf"
log "starting nginx on https://127.0.0.1:$NGINX_PORT"
"$NGINX" -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" >"$NG/stdout.log" 2>&1 &
NGINX_PID=$!
STARTED_PIDS+=("$NGINX_PID")
UPSTREAM="https://127.0.0.1:$NGINX_PORT"
wait_http "$UPSTREAM$RESTORE_PATH" --cacert "$TLS/ca.pem" ||
    { cat "$NG/error.log" "$NG/stdout.log" >&2 || true; die "nginx did not come up"; }
# The fixed responses must be what the exporter expects from an appliance.
[ "$(curl -sS --cacert "$TLS/ca.pem" -X POST -u bench:x -o /dev/null -w '%{http_code} %{content_type}' "$UPSTREAM/api/session")" = "201 application/json" ] ||
    die "nginx: POST /api/session is not 201 application/json"
curl -fsS --cacert "$TLS/ca.pem" "$UPSTREAM$JOB_PATH" | python3 -c \
    'import json,sys; d=json.load(sys.stdin); assert d["status"]=="RUNNING" and d["progress"]==42' ||
    die "nginx: bad reconciliation job body"
BACKUP_ID=20261124-020000-24322831
curl -fsS --cacert "$TLS/ca.pem" "$UPSTREAM$BACKUP_LIST_PATH" | python3 -c \
    'import json,sys; assert json.load(sys.stdin) == [sys.argv[1]]' "$BACKUP_ID" || die "nginx: bad backup job list"
curl -fsS --cacert "$TLS/ca.pem" "$UPSTREAM$BACKUP_SCHEDULES_PATH" | python3 -c \
    'import json,sys; assert json.load(sys.stdin)["default"]["enable"] is True' || die "nginx: bad backup schedules"
curl -fsS --cacert "$TLS/ca.pem" "$UPSTREAM$BACKUP_DETAILS_PATH?jobs=$BACKUP_ID" | python3 -c \
    'import json,sys; assert json.load(sys.stdin)[sys.argv[1]]["status"] == "SUCCEEDED"' "$BACKUP_ID" ||
    die "nginx: bad backup job details"

upstream_calls() { # count of the exporter's calls in nginx's access log matching a regex (default: all)
    grep -E "${1:-.}" "$NG/access.log" 2>/dev/null | grep -c " $NGINX_PORT\$" || true
}

# ---------------------------------------------------------------- exporter against nginx
printf 'bench-password\n' >"$TMP/password"
EXPORTER_PORT="$(free_port)"
EXPORTER_URL="http://127.0.0.1:$EXPORTER_PORT/metrics"
EXPORTER_ARGS=(--vcenter.url "$UPSTREAM" --vcenter.tls.ca-file "$TLS/ca.pem"
    --vcenter.username bench --vcenter.password-file "$TMP/password"
    --web.max-requests "$MAX_REQUESTS" --web.max-connections-per-ip 256)
log "starting $EXPORTER on 127.0.0.1:$EXPORTER_PORT"
LOGINS0="$(upstream_calls '^POST /api/session ')" # the checks above logged in once
LINES0="$(wc -l <"$NG/access.log")"
# The binary read as at a first start after boot, not as `make bench` just wrote it (probe.py evict).
python3 "$HERE/probe.py" evict "$EXPORTER"
"$EXPORTER" --web.listen-address "127.0.0.1:$EXPORTER_PORT" "${EXPORTER_ARGS[@]}" \
    >"$TMP/exporter.log" 2>&1 &
EXPORTER_PID=$!
STARTED_PIDS+=("$EXPORTER_PID")
python3 "$HERE/probe.py" wait-up "$EXPORTER_URL" 15 ||
    { tail -n 30 "$TMP/exporter.log" >&2; die "the exporter never answered vcsa_up 1 (log above)"; }

curl -sS -D "$RAW/scrape.headers" -o "$RAW/scrape.txt" "$EXPORTER_URL"
SCRAPE_BYTES="$(wc -c <"$RAW/scrape.txt")"
log "a scrape is $SCRAPE_BYTES bytes"
# Every collector must succeed on the fixed answers, or the bench measures an error path.
for collector in reconciliation restore backup; do
    grep -Eq "^vcsa_scrape_collector_success\{collector=\"$collector\"\} 1$" "$RAW/scrape.txt" ||
        { grep '^vcsa_scrape_collector_success' "$RAW/scrape.txt" >&2 || true; die "the $collector collector did not succeed"; }
done
grep -Eq '^vcsa_backup_jobs_listed 1$' "$RAW/scrape.txt" || die "the backup collector did not list the bench's one job"
COLLECTORS="$(sed -n 's/^vcsa_scrape_collector_success{collector="\([a-z]*\)"} .*/\1/p' "$RAW/scrape.txt" | tr '\n' ' ')"
log "collectors: $COLLECTORS(all succeeded)"

# cpu_mark NAME before|after: the machine's CPU ticks and the bench's own (this script and every
# process under it): report.py tells from two marks how busy other processes kept the CPUs.
cpu_mark() {
    python3 "$HERE/probe.py" cpu-mark "$BENCH_PID" >"$RAW/cpu_$1_$2.json"
}
BENCH_PID=$$

# wrk_run NAME CONNECTIONS DURATION URL: one measured load, its JSON line saved as RAW/wrk_NAME.json
wrk_run() {
    local name="$1" conns="$2" dur="$3" url="$4" threads=2
    [ "$conns" -lt 2 ] && threads=1
    cpu_mark "$name" before
    wrk -t"$threads" -c"$conns" -d"${dur}s" --timeout 5s --latency -s "$HERE/wrk_report.lua" \
        "$url" >"$RAW/wrk_$name.txt" 2>&1 || { cat "$RAW/wrk_$name.txt" >&2; die "wrk $name failed"; }
    cpu_mark "$name" after
    local line
    line="$(sed -n 's/^WRK_JSON //p' "$RAW/wrk_$name.txt")"
    [ -n "$line" ] || { cat "$RAW/wrk_$name.txt" >&2; die "wrk $name printed no numbers"; }
    printf '{"name":"%s","connections":%d,"threads":%d,"url":"%s","wrk":%s}\n' \
        "$name" "$conns" "$threads" "$url" "$line" >"$RAW/wrk_$name.json"
}

warm() { # CONNECTIONS URL: unmeasured load
    [ "$WARMUP" = 0 ] && return 0
    wrk -t1 -c"$1" -d"${WARMUP}s" "$2" >/dev/null 2>&1 || true
}

# measured_scrapes NAME CONNECTIONS DURATION [PID URL]: load the exporter (default: the main one),
# with /proc and upstream counts
measured_scrapes() {
    local name="$1" conns="$2" dur="$3" sampler
    local EXPORTER_PID="${4:-$EXPORTER_PID}" EXPORTER_URL="${5:-$EXPORTER_URL}"
    warm "$conns" "$EXPORTER_URL"
    local calls0 jobs0 restores0 lists0 schedules0 details0
    calls0="$(upstream_calls)"
    jobs0="$(upstream_calls "^GET $JOB_PATH ")"
    restores0="$(upstream_calls "^GET $RESTORE_PATH ")"
    lists0="$(upstream_calls "^GET $BACKUP_LIST_PATH ")"
    schedules0="$(upstream_calls "^GET $BACKUP_SCHEDULES_PATH ")"
    details0="$(upstream_calls "^GET $BACKUP_DETAILS_PATH ")"
    python3 "$HERE/probe.py" snap "$EXPORTER_PID" >"$RAW/proc_${name}_before.json"
    python3 "$HERE/probe.py" sample "$EXPORTER_PID" "$RAW/proc_${name}_samples.jsonl" 0.1 \
        "$((dur + 30))" &
    sampler=$!
    local perf_pid=""
    if [ "${BENCH_PROFILE:-0}" = 1 ]; then
        perf record -q -F 499 -g -p "$EXPORTER_PID" -o "$RAW/perf_$name.data" -- sleep "$dur" \
            >"$RAW/perf_$name.log" 2>&1 &
        perf_pid=$!
    fi
    wrk_run "$name" "$conns" "$dur" "$EXPORTER_URL"
    stop_pid "$sampler"
    if [ -n "$perf_pid" ]; then
        wait "$perf_pid" || true
        perf report -i "$RAW/perf_$name.data" --no-children --sort dso,sym --percent-limit 1 \
            --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' >"$RAW/perf_$name.txt" || true
        log "hottest symbols in the exporter at $conns connection(s) (perf, self time):"
        head -n 15 "$RAW/perf_$name.txt" >&2 || true
    fi
    python3 "$HERE/probe.py" snap "$EXPORTER_PID" >"$RAW/proc_${name}_after.json"
    printf '{"all":%d,"reconciliation_job_get":%d,"restore_job_get":%d,"backup_list_get":%d,"backup_schedules_get":%d,"backup_details_get":%d}\n' \
        "$(($(upstream_calls) - calls0))" \
        "$(($(upstream_calls "^GET $JOB_PATH ") - jobs0))" \
        "$(($(upstream_calls "^GET $RESTORE_PATH ") - restores0))" \
        "$(($(upstream_calls "^GET $BACKUP_LIST_PATH ") - lists0))" \
        "$(($(upstream_calls "^GET $BACKUP_SCHEDULES_PATH ") - schedules0))" \
        "$(($(upstream_calls "^GET $BACKUP_DETAILS_PATH ") - details0))" >"$RAW/upstream_$name.json"
    curl -sS -o "$RAW/scrape_after_$name.txt" "$EXPORTER_URL" || true
}

sleep 1
python3 "$HERE/probe.py" snap "$EXPORTER_PID" >"$RAW/proc_idle.json"

log "direct upstream calls (HTTPS to nginx, 1 connection, ${DURATION}s each)"
export WRK_HEADER="vmware-api-session-id: bench-session-id"
DIRECT="https://127.0.0.1:$DIRECT_PORT"
warm 1 "$DIRECT$JOB_PATH"
wrk_run upstream_job 1 "$DURATION" "$DIRECT$JOB_PATH"
wrk_run upstream_restore 1 "$DURATION" "$DIRECT$RESTORE_PATH"
unset WRK_HEADER

for c in "${CONNECTIONS[@]}"; do
    log "exporter scrapes, $c connection(s), ${DURATION}s"
    measured_scrapes "c$c" "$c" "$DURATION"
done
python3 "$HERE/probe.py" snap "$EXPORTER_PID" >"$RAW/proc_end.json"
python3 "$HERE/probe.py" smaps "$EXPORTER_PID" >"$RAW/smaps_end.json"
python3 "$HERE/probe.py" sections "$EXPORTER_PID" "$EXPORTER" >"$RAW/sections_end.json" || true

log "bare libmicrohttpd ceiling, $SCRAPE_BYTES-byte body, 64 connections, ${DURATION}s"
BARE_PORT="$(free_port)"
"$TMP/bare_mhd" "$BARE_PORT" "$SCRAPE_BYTES" >"$TMP/bare.log" 2>&1 &
BARE_PID=$!
STARTED_PIDS+=("$BARE_PID")
wait_http "http://127.0.0.1:$BARE_PORT/metrics" || die "bare_mhd did not come up"
warm 64 "http://127.0.0.1:$BARE_PORT/metrics"
wrk_run bare_c64 64 "$DURATION" "http://127.0.0.1:$BARE_PORT/metrics"
stop_pid "$BARE_PID"

log "stopping the exporter (it should log out: DELETE /api/session)"
DELETES0="$(upstream_calls '^DELETE /api/session ')"
stop_pid "$EXPORTER_PID"
printf '{"deletes_on_shutdown":%d,"connections":%d,"logins":%d}\n' \
    "$(($(upstream_calls '^DELETE /api/session ') - DELETES0))" \
    "$(tail -n +"$((LINES0 + 1))" "$NG/access.log" | awk -v p="$NGINX_PORT" '$5 == p {print $4}' | sort -u | wc -l)" \
    "$(($(upstream_calls '^POST /api/session ') - LOGINS0))" >"$RAW/session.json"

# ---------------------------------------------------------------- like for like: two collectors
# Results before the backup collector had two collectors (two calls a scrape round): the same loads
# on the same binary with --no-collector.backup compare with those.
if [ "${BENCH_TWO_COLLECTORS:-1}" != 0 ]; then
    TWO_PORT="$(free_port)"
    TWO_URL="http://127.0.0.1:$TWO_PORT/metrics"
    log "two collectors (--no-collector.backup), like the results before the backup collector, on 127.0.0.1:$TWO_PORT"
    "$EXPORTER" --web.listen-address "127.0.0.1:$TWO_PORT" "${EXPORTER_ARGS[@]}" --no-collector.backup \
        >"$TMP/exporter_two.log" 2>&1 &
    TWO_PID=$!
    STARTED_PIDS+=("$TWO_PID")
    python3 "$HERE/probe.py" wait-up "$TWO_URL" 15 ||
        { tail -n 30 "$TMP/exporter_two.log" >&2; die "the two-collector exporter never answered vcsa_up 1"; }
    curl -fsS "$TWO_URL" | grep -q 'collector="backup"' && die "--no-collector.backup still collects backups"
    for c in "${CONNECTIONS[@]}"; do
        log "two collectors: exporter scrapes, $c connection(s), ${DURATION}s"
        measured_scrapes "two_c$c" "$c" "$DURATION" "$TWO_PID" "$TWO_URL"
    done
    stop_pid "$TWO_PID"
fi

log "start-up to the first scrape with vcsa_up 1 (median of $STARTUP_RUNS launches)"
python3 "$HERE/probe.py" startup "$STARTUP_RUNS" "$RAW/startup.json" -- \
    "$EXPORTER" --web.listen-address "127.0.0.1:{port}" "${EXPORTER_ARGS[@]}" ||
    log "warning: some launches did not reach vcsa_up 1 (see the report)"

# ---------------------------------------------------------------- contenders: memory after N scrapes
# wrk_count NAME CONNECTIONS REQUESTS URL: exactly REQUESTS responses (plus at most CONNECTIONS-1
# already in flight), saved like wrk_run's. wrk has no request count: wrk_report.lua stops its
# thread at the count and touches a file, on which wrk gets SIGINT and prints its numbers.
wrk_count() {
    local name="$1" conns="$2" requests="$3" url="$4" done_file="$RAW/wrk_$name.done" pid line
    rm -f "$done_file"
    cpu_mark "$name" before
    WRK_REQUESTS="$requests" WRK_DONE_FILE="$done_file" wrk -t1 -c"$conns" -d"${CONTENDER_MAX_S}s" --timeout 10s \
        --latency -s "$HERE/wrk_report.lua" "$url" >"$RAW/wrk_$name.txt" 2>&1 &
    pid=$!
    STARTED_PIDS+=("$pid")
    while [ ! -e "$done_file" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    kill -INT "$pid" 2>/dev/null || true
    wait "$pid" || { cat "$RAW/wrk_$name.txt" >&2; die "wrk $name failed"; }
    cpu_mark "$name" after
    [ -e "$done_file" ] || log "warning: wrk $name stopped before $requests responses (after ${CONTENDER_MAX_S}s)"
    line="$(sed -n 's/^WRK_JSON //p' "$RAW/wrk_$name.txt")"
    [ -n "$line" ] || { cat "$RAW/wrk_$name.txt" >&2; die "wrk $name printed no numbers"; }
    printf '{"name":"%s","connections":%d,"threads":1,"url":"%s","requested":%d,"wrk":%s}\n' \
        "$name" "$conns" "$url" "$requests" "$line" >"$RAW/wrk_$name.json"
}

# contender NAME SCRAPE_URL CHECK_REGEX -- CMD...: drop CMD's executable from the page cache, start
# CMD (it listens on 127.0.0.1 only), wait until SCRAPE_URL answers with a line matching CHECK_REGEX
# (its upstream call worked), /proc after a second of rest ("idle"), CONTENDER_SCRAPES scrapes of
# SCRAPE_URL sampled every 0.5 s, /proc and the smaps breakdown right after the last one and again
# after CONTENDER_SETTLE seconds of rest ("settled": what is left once timers have fired and
# garbage collectors have run), its nginx calls, then SIGTERM.
contender() {
    local name="$1" url="$2" check="$3" pid sampler lines0
    shift 4
    # Every contender's executable read as at a first start after boot (probe.py evict), whether it
    # was just written (ours, by `make bench`) or installed long ago (Debian's).
    python3 "$HERE/probe.py" evict "$1"
    "$@" >"$TMP/contender_$name.log" 2>&1 &
    pid=$!
    STARTED_PIDS+=("$pid")
    wait_http "$url" || { tail -n 20 "$TMP/contender_$name.log" >&2; die "contender $name did not come up"; }
    for _ in $(seq 100); do
        curl -fsS --max-time 10 "$url" 2>/dev/null | grep -Eq "$check" && break
        sleep 0.1
    done
    curl -fsS --max-time 10 -o "$RAW/contender_${name}_scrape.txt" "$url"
    grep -Eq "$check" "$RAW/contender_${name}_scrape.txt" ||
        { tail -n 20 "$TMP/contender_$name.log" >&2; die "contender $name: no line matching $check in its scrape"; }
    sleep 1
    python3 "$HERE/probe.py" snap "$pid" >"$RAW/contender_${name}_idle.json"
    lines0="$(wc -l <"$NG/access.log")"
    python3 "$HERE/probe.py" sample "$pid" "$RAW/contender_${name}_samples.jsonl" 0.5 "$CONTENDER_MAX_S" &
    sampler=$!
    STARTED_PIDS+=("$sampler")
    wrk_count "contender_$name" "$CONTENDER_CONNECTIONS" "$CONTENDER_SCRAPES" "$url"
    stop_pid "$sampler"
    python3 "$HERE/probe.py" snap "$pid" >"$RAW/contender_${name}_after.json"
    python3 "$HERE/probe.py" smaps "$pid" >"$RAW/contender_${name}_smaps.json"
    if [ "$name" = vcsa_exporter ]; then
        python3 "$HERE/probe.py" sections "$pid" "$EXPORTER" >"$RAW/contender_${name}_sections.json" || true
    fi
    printf '{"upstream_calls":%d}\n' "$(($(wc -l <"$NG/access.log") - lines0))" >"$RAW/contender_${name}_upstream.json"
    sleep "$CONTENDER_SETTLE"
    python3 "$HERE/probe.py" snap "$pid" >"$RAW/contender_${name}_settled.json"
    python3 "$HERE/probe.py" smaps "$pid" >"$RAW/contender_${name}_settled_smaps.json"
    curl -fsS --max-time 10 -o "$RAW/contender_${name}_scrape_after.txt" "$url" || true
    stop_pid "$pid"
}

if [ "$CONTENDERS" != 0 ]; then
    log "contenders: $CONTENDER_SCRAPES scrapes each, $CONTENDER_CONNECTIONS at a time, then their memory"
    TARGET_URL="$UPSTREAM$RESTORE_PATH" # blackbox_exporter's probe and the Python exporter's one call
    port="$(free_port)"
    log "contender vcsa_exporter (a fresh process) on 127.0.0.1:$port"
    contender vcsa_exporter "http://127.0.0.1:$port/metrics" '^vcsa_up 1$' -- \
        "$EXPORTER" --web.listen-address "127.0.0.1:$port" "${EXPORTER_ARGS[@]}"
    port="$(free_port)"
    log "contender node_exporter ($("$NODE_EXPORTER" --version 2>&1 | head -n 1)) on 127.0.0.1:$port"
    contender node_exporter "http://127.0.0.1:$port/metrics" '^node_exporter_build_info' -- \
        "$NODE_EXPORTER" --web.listen-address="127.0.0.1:$port"
    sed -e "s|@CA@|$TLS/ca.pem|g" "$HERE/blackbox.yml.in" >"$TMP/blackbox.yml"
    port="$(free_port)"
    log "contender blackbox_exporter ($("$BLACKBOX_EXPORTER" --version 2>&1 | head -n 1)) on 127.0.0.1:$port, probing $TARGET_URL"
    contender blackbox_exporter "http://127.0.0.1:$port/probe?target=$TARGET_URL&module=http_2xx" '^probe_success 1$' -- \
        "$BLACKBOX_EXPORTER" --config.file="$TMP/blackbox.yml" --web.listen-address="127.0.0.1:$port"
    port="$(free_port)"
    log "contender python_exporter (python3-prometheus-client $("$DEBIAN_PYTHON" -c 'import importlib.metadata as m; print(m.version("prometheus-client"))' 2>/dev/null || echo '?')) on 127.0.0.1:$port"
    contender python_exporter "http://127.0.0.1:$port/metrics" '^bench_up 1\.0$' -- \
        "$DEBIAN_PYTHON" "$HERE/python_exporter.py" "$port" "$TARGET_URL" "$TLS/ca.pem"
    {
        printf '{"scrapes":%d,"connections":%d,"settle_s":%s,' "$CONTENDER_SCRAPES" "$CONTENDER_CONNECTIONS" "$CONTENDER_SETTLE"
        printf '"node_exporter":%s,' "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$("$NODE_EXPORTER" --version 2>&1 | head -n 1)")"
        printf '"blackbox_exporter":%s,' "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$("$BLACKBOX_EXPORTER" --version 2>&1 | head -n 1)")"
        printf '"python":%s,' "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$("$DEBIAN_PYTHON" --version 2>&1)")"
        printf '"prometheus_client":"%s"}\n' "$("$DEBIAN_PYTHON" -c 'import importlib.metadata as m; print(m.version("prometheus-client"))' 2>/dev/null || echo '?')"
    } >"$RAW/contenders_meta.json"
fi
stop_pid "$NGINX_PID"

# ---------------------------------------------------------------- simulator pass
if [ -x "$SIMULATOR" ]; then
    SIM_PORT="$(free_port)"
    SIM="http://127.0.0.1:$SIM_PORT"
    log "simulator pass: vcsa_simulator on $SIM, 64 connections, ${SIM_DURATION}s"
    "$SIMULATOR" --listen-address "127.0.0.1:$SIM_PORT" --scenario running \
        --restore-scenario in-progress >"$TMP/simulator.log" 2>&1 &
    SIM_PID=$!
    STARTED_PIDS+=("$SIM_PID")
    wait_http "$SIM/simulator/stats" || { tail "$TMP/simulator.log" >&2; die "simulator did not come up"; }
    printf 'vmware\n' >"$TMP/sim_password"
    SIM_EXPORTER_PORT="$(free_port)"
    SIM_EXPORTER_URL="http://127.0.0.1:$SIM_EXPORTER_PORT/metrics"
    "$EXPORTER" --web.listen-address "127.0.0.1:$SIM_EXPORTER_PORT" --vcenter.url "$SIM" \
        --vcenter.username administrator@vsphere.local --vcenter.password-file "$TMP/sim_password" \
        --web.max-requests "$MAX_REQUESTS" --web.max-connections-per-ip 256 >"$TMP/exporter_sim.log" 2>&1 &
    SIM_EXPORTER_PID=$!
    STARTED_PIDS+=("$SIM_EXPORTER_PID")
    python3 "$HERE/probe.py" wait-up "$SIM_EXPORTER_URL" 15 ||
        { tail -n 30 "$TMP/exporter_sim.log" >&2; die "exporter against the simulator never answered vcsa_up 1"; }
    warm 64 "$SIM_EXPORTER_URL"
    curl -fsS -X POST -o /dev/null "$SIM/simulator/reset"
    wrk_run sim_c64 64 "$SIM_DURATION" "$SIM_EXPORTER_URL"
    curl -fsS "$SIM/simulator/stats" >"$RAW/sim_stats_load.json"
    stop_pid "$SIM_EXPORTER_PID"
    curl -fsS "$SIM/simulator/stats" >"$RAW/sim_stats_end.json"
    stop_pid "$SIM_PID"
else
    log "no $SIMULATOR: skipping the simulator pass"
fi

# ---------------------------------------------------------------- report
cat >"$RAW/meta.json" <<EOF
{"bin_dir":"$BIN_DIR","duration_s":$DURATION,"warmup_s":$WARMUP,"sim_duration_s":$SIM_DURATION,
 "max_requests":$MAX_REQUESTS,"scrape_bytes":$SCRAPE_BYTES,"cpus":$(nproc),
 "exporter_version":$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$("$EXPORTER" --version 2>&1 | head -n 1 || true)"),
 "exporter_build":{"static_swift_stdlib":$([ -z "$EXPORTER_SWIFT_LIBS" ] && echo true || echo false),"stripped":$EXPORTER_STRIPPED,
  "bytes":$(stat -c %s "$(readlink -f "$EXPORTER")"),"shared_libraries":$(ldd "$EXPORTER" | awk '$1 ~ /^lib|^\/lib/ {printf "%s\"%s\"", (n++ ? "," : "["), $1} END {if (!n) printf "["; print "]"}')},
 "collectors":$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1].split()))' "$COLLECTORS"),
 "cpu_busy_percent_start":$CPU_BUSY_START,"kernel":"$(uname -r)","wrk":"$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f2)",
 "nginx":"$("$NGINX" -v 2>&1 | sed 's|.*/||')","libmicrohttpd":"$(pkg-config --modversion libmicrohttpd)"}
EOF
python3 "$HERE/report.py" "$RAW" "$RESULTS_DIR"
