#!/usr/bin/env bash
# Ctrl-C stops `make demo` (issue 16, item 15): deploy/demo.sh runs in its own process group, the
# whole group gets SIGINT as from a terminal, and within 20 s nothing of the demo may be left (its
# group, the appliance in its own session, its work directory), both ports must be free, and the
# exporter must have logged out of the appliance before that was stopped.
#
#   bash deploy/tests/demo_stop.sh [BIN_DIR]   (where vcsa_exporter and vcsa_simulator are; default .build/debug)
#
# Three ways: SIGINT as a terminal leaves it (the shell traps it); SIGINT ignored, as a non-interactive
# shell leaves it for a background job like `make demo &` (only the exporter hears Ctrl-C); Ctrl-C twice.
set -euo pipefail

cd "$(dirname "$0")/../.."
export BIN_DIR=${1:-${BIN_DIR:-.build/debug}}
for bin in vcsa_exporter vcsa_simulator; do
  [ -x "$BIN_DIR/$bin" ] || { echo "$BIN_DIR/$bin: not found (build it first)"; exit 1; }
done
TMP=$(mktemp -d)
pgid="" sim=""
kill_left() {  # whatever a failed or interrupted run left: the demo, its group, the appliance (its own session)
  if [ -n "$pgid" ]; then
    sim=${sim:-$(pgrep -P "$pgid" -x vcsa_simulator || true)}
    kill -KILL -- "-$pgid" 2>/dev/null || true
    kill -KILL "$pgid" 2>/dev/null || true  # not yet in its own group
  fi
  if [ -n "$sim" ]; then kill -KILL "$sim" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  pgid="" sim=""
}
trap 'kill_left; rm -rf "$TMP"' EXIT

listening() {  # listening PORT: something accepts connections on 127.0.0.1:PORT
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}
free_port() {  # below the ephemeral range, not one the other port took, nothing listening
  local port
  while :; do
    port=$((20000 + RANDOM % 10000))
    [ "$port" != "${1:-}" ] && ! listening "$port" && { echo "$port"; return; }
  done
}
running() {  # running PID...: those still running (a zombie has ended)
  local pid
  for pid in "$@"; do
    case $(ps -o stat= -p "$pid" 2>/dev/null || true) in "" | Z*) ;; *) echo "$pid" ;; esac
  done
}

# run NAME SIGINT MODE: start the demo, Ctrl-C it (MODE once or twice), check what is left.
run() {
  local name=$1 sigint=$2 mode=$3 out="$TMP/$1.out" work="$TMP/$1.tmp" sim_port exporter_port status="" i
  sim_port=$(free_port)
  exporter_port=$(free_port "$sim_port")
  mkdir "$work"
  # Its own process group (and session), as a terminal runs a command; the demo's `mktemp -d` goes
  # under $work, so that what it leaves can be seen. A background job of this shell would start with
  # SIGINT ignored anyway: say which, explicitly.
  TMPDIR=$work SIM_PORT=$sim_port EXPORTER_PORT=$exporter_port env "--$sigint-signal=INT" setsid bash deploy/demo.sh >"$out" 2>&1 &
  pgid=$!  # setsid does not fork here (a background job is no group leader), so this is the demo's shell
  for i in $(seq 50); do
    [ "$(ps -o pgid= -p "$pgid" | tr -d ' ')" = "$pgid" ] && break
    [ "$i" = 50 ] && { echo "$name: the demo did not get its own process group"; return 1; }
    sleep 0.1
  done

  # Healthy, and the demo's own first scrape shown: the exporter holds a session to log out of.
  for i in $(seq 600); do
    curl -fs "http://127.0.0.1:$exporter_port/-/healthy" >/dev/null && grep -q '^vcsa_up 1' "$out" && break
    [ "$i" = 600 ] && { echo "$name: the demo did not come up within 60 s"; cat "$out"; return 1; }
    sleep 0.1
  done
  sim=$(pgrep -P "$pgid" -x vcsa_simulator) || { echo "$name: no vcsa_simulator under the demo"; return 1; }

  kill -INT -- "-$pgid"
  if [ "$mode" = twice ]; then
    # Again while the exporter shuts down and the demo cleans up, as an impatient user does.
    for _ in $(seq 100); do grep -q 'msg="Shutting down"' "$out" && break; sleep 0.05; done
    kill -INT -- "-$pgid" 2>/dev/null || true
  fi

  # Bounded: 20 s for the demo to end, its group to empty, the appliance to stop and both ports to close.
  local deadline=$((SECONDS + 20)) left=""
  while :; do
    if [ -z "$status" ] && [ -z "$(running "$pgid")" ]; then
      wait "$pgid" && status=0 || status=$?
    fi
    # shellcheck disable=SC2046 # pids, one word each
    left=$(running $(pgrep -g "$pgid" || true) "$sim" | tr '\n' ' ')
    if [ -n "$status" ] && [ -z "$left" ] && ! listening "$sim_port" && ! listening "$exporter_port"; then break; fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "FAIL $name: 20 s after Ctrl-C the demo has $([ -n "$status" ] && echo "exited $status" || echo "not exited")"
      echo "  still running: ${left:-nothing}"
      listening "$sim_port" && echo "  appliance port $sim_port still open"
      listening "$exporter_port" && echo "  exporter port $exporter_port still open"
      ps -o pid,pgid,sid,stat,args -p "$(pgrep -g "$pgid" | paste -sd, -),$sim" 2>/dev/null | cut -c1-160 | sed 's/^/  /' || true
      sed 's/^/  | /' "$out"
      return 1
    fi
    sleep 0.2
  done
  pgid="" sim=""

  local problems=""
  grep -q 'msg=Stopped' "$out" || problems+=" exporter did not log Stopped;"
  if [ "$mode" = once ]; then
    grep -q 'msg="Logged out of the appliance session"' "$out" || problems+=" exporter did not log out;"
  fi
  if [ "$sigint" = default ] && [ "$status" != 130 ]; then problems+=" exit status $status, not 130;"; fi
  [ -z "$(ls -A "$work")" ] || problems+=" work directory left: $(ls -A "$work");"
  if [ -n "$problems" ]; then
    echo "FAIL $name:$problems"
    sed 's/^/  | /' "$out"
    return 1
  fi
  echo "ok   $name: exit $status, group gone, appliance stopped, ports $sim_port and $exporter_port free$([ "$mode" = once ] && echo ', logged out first')"
}

failed=0
run terminal default once || { failed=1; kill_left; }
run sigint-ignored ignore once || { failed=1; kill_left; }
run twice default twice || { failed=1; kill_left; }
[ "$failed" = 0 ] && echo "demo: Ctrl-C stops it cleanly, 3 ways"
exit "$failed"
