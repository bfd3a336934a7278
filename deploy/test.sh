#!/usr/bin/env bash
# Checks everything Prometheus, Grafana and on-call users install (deploy/, dashboards/) with
# the real tools, ending with a live Prometheus scraping the real exporter and simulator, and with
# `make demo` stopped by Ctrl-C.
#
#   bash deploy/test.sh        (BIN_DIR: where vcsa_exporter and vcsa_simulator are; default .build/debug)
#
# Installs what is missing first, so it runs on a fresh machine: Debian packages with apt-get
# (prometheus, systemd, python3-yaml, yamllint), and the Python tools Debian does not package
# (deploy/requirements.txt) in the project's virtual environment, made by `make venv`.
# Prints "N passed, M failed" last; exits 1 if anything failed.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN_DIR=${BIN_DIR:-.build/debug}
# Debian's interpreter and its python3-yaml for the scripts that need only PyYAML; the venv's for
# k8s_validate.py (kubernetes-validate, cloudcoil) and its hadolint.
PYTHON=${PYTHON:-/usr/bin/python3}
VENV=${VENV:-.venv}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# --- install what is missing ------------------------------------------------------------
apt_updated=false
apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $apt_updated || { $sudo apt-get update -qq; apt_updated=true; }
  echo "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
command -v promtool >/dev/null && command -v prometheus >/dev/null || apt_install prometheus
command -v systemd-analyze >/dev/null || apt_install systemd
command -v "$PYTHON" >/dev/null || apt_install python3
"$PYTHON" -c 'import yaml' 2>/dev/null || apt_install python3-yaml
command -v yamllint >/dev/null || apt_install yamllint
# The Makefile owns the venv: it makes it, or remakes it when deploy/requirements.txt has changed.
make --no-print-directory --silent VENV="$VENV" venv

# The e2e test needs the binaries; `make test` has built them, a bare run builds them here.
if [ ! -x "$BIN_DIR/vcsa_exporter" ] || [ ! -x "$BIN_DIR/vcsa_simulator" ]; then
  if [ "$BIN_DIR" = .build/debug ] && command -v swift >/dev/null && [ -f Package.swift ]; then
    echo "building vcsa_exporter and vcsa_simulator (swift build)"
    swift build --product vcsa_exporter >/dev/null && swift build --product vcsa_simulator >/dev/null
  fi
fi

# --- the checks -------------------------------------------------------------------------
passed=0
failed=0
step() {  # step NAME COMMAND...: run it, show its output on failure, count it
  local name=$1 start=$SECONDS
  shift
  if "$@" >"$TMP/out" 2>&1; then
    passed=$((passed + 1))
    printf 'ok    %-62s %3ss\n' "$name" $((SECONDS - start))
    { grep -v '^[[:space:]]*$' "$TMP/out" || true; } | tail -n 1 | sed 's/^ */      /'
  else
    failed=$((failed + 1))
    printf 'FAIL  %-62s %3ss\n' "$name" $((SECONDS - start))
    sed 's/^/      /' "$TMP/out"
  fi
}
silent() {  # succeed only if the command succeeds and prints nothing (warnings included)
  "$@" >"$TMP/silent" 2>&1
  local rc=$?
  cat "$TMP/silent"
  [ $rc = 0 ] && [ ! -s "$TMP/silent" ]
}

systemd_unit() {
  # `verify` requires ExecStart's binary to exist and be executable, and it is not installed
  # here: check a copy whose ExecStart points at a real executable, all else unchanged.
  local exe
  exe=$(command -v true)
  [ -x "$BIN_DIR/vcsa_exporter" ] && exe=$(realpath "$BIN_DIR/vcsa_exporter")
  sed "s#^ExecStart=/usr/local/bin/vcsa_exporter #ExecStart=$exe #" deploy/systemd/vcsa_exporter.service >"$TMP/vcsa_exporter.service"
  grep -q "^ExecStart=$exe " "$TMP/vcsa_exporter.service" || { echo "ExecStart not found"; return 1; }
  echo "$1: ExecStart -> $exe"
  case $1 in
    verify) silent systemd-analyze verify "$TMP/vcsa_exporter.service" ;;
    # Exposure score in tenths: 20 = "2.0 OK"; the unit scores 1.3 today.
    security) systemd-analyze security --offline=yes --threshold=20 "$TMP/vcsa_exporter.service" ;;
  esac
}

yaml_lint() {
  yamllint --strict -d '{extends: default, rules: {line-length: {max: 140}, document-start: disable}}' \
    deploy dashboards
}

step "promtool check config deploy/prometheus/prometheus.yml" promtool check config deploy/prometheus/prometheus.yml
step "promtool check rules deploy/prometheus/rules/vcsa-alerts.yml" promtool check rules deploy/prometheus/rules/vcsa-alerts.yml
step "promtool test rules (every alert, firing and not, window edges)" promtool test rules deploy/prometheus/rules/vcsa-alerts.test.yml
step "alert conventions: severity, annotations, runbook anchors, tests" "$PYTHON" deploy/tests/rules_check.py
step "prometheusrule.yaml generated from vcsa-alerts.yml is up to date" "$PYTHON" deploy/kubernetes/generate-prometheusrule.py --check
step "kubernetes manifests against Kubernetes and CRD schemas" "$VENV/bin/python" deploy/tests/k8s_validate.py
step "systemd-analyze verify vcsa_exporter.service" systemd_unit verify
step "systemd-analyze security: exposure at most 2.0" systemd_unit security
step "hadolint deploy/docker/Dockerfile" "$VENV/bin/hadolint" deploy/docker/Dockerfile
step "yamllint deploy/ dashboards/" yaml_lint
step "dashboard JSON model and provisioning" "$PYTHON" deploy/tests/dashboard_check.py
step "README metrics table vs served families: names, types, labels" "$PYTHON" deploy/tests/readme_metrics_check.py "$BIN_DIR"
step "live: simulator -> exporter -> Prometheus with the shipped rules" "$PYTHON" deploy/tests/prometheus_e2e.py "$BIN_DIR"
step "demo: Ctrl-C stops it all (logout first), ports freed" bash deploy/tests/demo_stop.sh "$BIN_DIR"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
