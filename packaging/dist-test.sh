#!/usr/bin/env bash
# Checks the release artifacts as a user meets them: the tarball's layout and checksums, lintian
# on the Debian package, then installs the package on THIS machine with apt-get, runs the installed
# binary against the simulator as the package's user, reinstalls, removes and purges it.
# Needs root. systemd need not run: the binary is started directly, not through the unit.
#
#   SIMULATOR=.build/debug/vcsa_simulator bash packaging/dist-test.sh dist/vcsa-exporter_VERSION_amd64.deb
#
# Prints PASS or FAIL per step and "N passed, M failed" last; exits 1 if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(realpath "$1")
dist=$(dirname "$deb")
SIMULATOR=$(realpath "${SIMULATOR:-.build/debug/vcsa_simulator}")
package=vcsa-exporter
version=$(dpkg-deb -f "$deb" Version)
upstream=${version%-*}
tarball=$dist/vcsa_exporter-$upstream.linux-amd64.tar.gz
revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
work=$(mktemp -d)
chmod 0755 "$work"
# Background processes (simulator, exporters), one pid a line: steps run in subshells.
stop_all() {
  [ -f "$work/pids" ] && while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$work/pids"
  rm -f "$work/pids"
}
trap 'stop_all; rm -rf "$work"' EXIT

passed=0
failed=0
step() {  # step NAME COMMAND...: run it with set -e in a subshell; PASS, or FAIL with its output
  local name=$1 rc
  shift
  set +e
  (set -e; "$@") >"$work/out" 2>&1
  rc=$?
  set -e
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1))
    printf 'PASS  %s\n' "$name"
  else
    failed=$((failed + 1))
    printf 'FAIL  %s\n' "$name"
    sed 's/^/      /' "$work/out"
  fi
}
free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_healthy() {  # wait_healthy URL [curl options]: up to 10 s
  local url=$1
  shift
  for _ in $(seq 100); do curl -fsS "$@" "$url/-/healthy" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$url/-/healthy did not answer"
  return 1
}
absent() {  # absent PATH...: none of them exists
  local left=0
  for path in "$@"; do
    if [ -e "$path" ] || [ -L "$path" ]; then echo "still there: $path"; left=1; fi
  done
  return $left
}

# --- the artifacts ----------------------------------------------------------------------
tarball_layout() {
  local top=vcsa_exporter-$upstream.linux-amd64
  tar -tzvf "$tarball"
  diff <(tar -tzf "$tarball" | sort) <(printf '%s\n' "$top/" "$top/LICENSE" "$top/NOTICE" "$top/README.md" \
    "$top/vcsa_exporter" "$top/vcsa_exporter.env.example" "$top/vcsa_exporter.example.yml" "$top/vcsa_exporter.service" \
    "$top/web-config.example.yml" | sort)
}
lintian_clean() {
  # As nobody: lintian advises against root. Every tag is shown, overridden ones (O:) with their
  # reason (packaging/deb/lintian-overrides); an error (E:) fails the step.
  setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$work" \
    lintian --display-info --pedantic --show-overrides --fail-on none "$deb" >"$work/lintian"
  cat "$work/lintian"
  ! grep -q '^E: ' "$work/lintian"
}
step "tarball: one top directory with the binary, LICENSE, NOTICE, README, unit, examples" tarball_layout
step "sha256sums.txt matches the artifacts" bash -c "cd '$dist' && sha256sum -c sha256sums.txt"
step "lintian $(basename "$deb"): no errors" lintian_clean
# The tags, one line each (the reasons are in packaging/deb/lintian-overrides).
{ grep -E '^[EWIPXO]: ' "$work/out" || echo "(no tags)"; } | sed 's/^/      /'

# --- install ----------------------------------------------------------------------------
# From a machine without the package, as a user's first install.
if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q installed; then
  echo "note: $package was installed; purging it first"
  dpkg -P "$package" >/dev/null
fi
step "apt-get install ./$(basename "$deb")" env DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb"

version_and_revision() {
  /usr/bin/vcsa_exporter --version
  /usr/bin/vcsa_exporter --version | grep -E "^vcsa_exporter $upstream \(revision $revision(-dirty)?, swift "
}
user_created() {
  getent passwd vcsa_exporter
  # A system user (uid below 1000), no login shell, no home directory.
  getent passwd vcsa_exporter | awk -F: '$3 < 1000 && $6 == "/nonexistent" && $7 == "/usr/sbin/nologin" { ok = 1 } END { exit !ok }'
  getent group vcsa_exporter
  [ ! -e /nonexistent ]
}
unit_installed() {
  ls -l /lib/systemd/system/vcsa_exporter.service /etc/systemd/system/multi-user.target.wants/vcsa_exporter.service
  # Enabled by deb-systemd-helper, so that it starts at boot once configured.
  [ "$(readlink /etc/systemd/system/multi-user.target.wants/vcsa_exporter.service)" = /lib/systemd/system/vcsa_exporter.service ]
}
unit_verify() {
  systemd-analyze verify /lib/systemd/system/vcsa_exporter.service >"$work/verify" 2>&1 || true
  cat "$work/verify"
  [ ! -s "$work/verify" ]
}
settings_file() {
  dpkg-query -W -f='${Conffiles}\n' "$package" >"$work/conffiles"
  grep '^ /etc/default/vcsa_exporter ' "$work/conffiles"
  # As systemd reads it: variables the unit's ExecStart uses are set.
  # shellcheck source=/dev/null
  (set -a && . /etc/default/vcsa_exporter && echo "VCSA_PASSWORD_FILE=$VCSA_PASSWORD_FILE" \
    && [ -n "$VCSA_USERNAME" ] && [ -n "$VCSA_PASSWORD_FILE" ] && [ -n "$VCSA_EXPORTER_ARGS" ])
  stat -c '%A %U:%G %n' /etc/vcsa_exporter
  [ "$(stat -c '%a %U:%G' /etc/vcsa_exporter)" = "750 root:vcsa_exporter" ]
}
man_page() {
  # man --warnings prints groff's complaints; the page must render without any.
  MANWIDTH=80 man --warnings -l /usr/share/man/man1/vcsa_exporter.1.gz 2>"$work/man-warnings" | head -n 12
  cat "$work/man-warnings"
  [ ! -s "$work/man-warnings" ]
}
step "vcsa_exporter --version: $upstream, revision $revision" version_and_revision
step "system user and group vcsa_exporter" user_created
step "unit installed in /lib/systemd/system and enabled" unit_installed
step "systemd-analyze verify vcsa_exporter.service" unit_verify
step "systemd-analyze security: exposure at most 2.0" systemd-analyze security --offline=yes --threshold=20 /lib/systemd/system/vcsa_exporter.service
step "/etc/default/vcsa_exporter: a conffile, sets what the unit uses" settings_file
step "man vcsa_exporter renders without warnings" man_page

# --- run it -----------------------------------------------------------------------------
# The simulated appliance, plain HTTP on loopback, with a random password.
secrets=$work/etc
install -d -m 0750 -g vcsa_exporter "$secrets"
head -c 18 /dev/urandom | base64 >"$secrets/vcenter-password"
chown root:vcsa_exporter "$secrets/vcenter-password"
chmod 0640 "$secrets/vcenter-password"
sim_port=$(free_port)
VCSA_PASSWORD=$(cat "$secrets/vcenter-password") "$SIMULATOR" --listen-address "127.0.0.1:$sim_port" \
  --scenario running >"$work/simulator.log" 2>&1 &
echo $! >>"$work/pids"
# Listening before an exporter starts: a first scrape that finds no appliance answers vcsa_up 0.
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$sim_port/simulator/stats" && break; sleep 0.1; done

run_exporter() {  # run_exporter PORT FLAGS...: the installed binary as the package's user, as the unit runs it
  local port=$1
  shift
  setpriv --reuid=vcsa_exporter --regid=vcsa_exporter --init-groups env VCSA_USERNAME=administrator@vsphere.local \
    /usr/bin/vcsa_exporter --web.listen-address="127.0.0.1:$port" --vcenter.url="http://127.0.0.1:$sim_port" \
    --vcenter.password-file="$secrets/vcenter-password" "$@" >>"$work/exporter.log" 2>&1 &
  echo $! >>"$work/pids"
}
scrape() {
  local port
  port=$(free_port)
  run_exporter "$port"
  wait_healthy "http://127.0.0.1:$port" || { cat "$work/exporter.log"; return 1; }
  curl -fsS "http://127.0.0.1:$port/metrics" >"$work/metrics"
  grep -E '^(vcsa_up|vcsa_exporter_build_info)' "$work/metrics"
  grep -qx 'vcsa_up 1' "$work/metrics"
  grep -qE "^vcsa_exporter_build_info\{.*revision=\"$revision(-dirty)?\"" "$work/metrics"
}
# The shipped example web config, with a throw-away certificate where it names /etc/vcsa_exporter/tls.*.
web_config() {
  local port
  port=$(free_port)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$secrets/tls.key" -out "$secrets/tls.crt" 2>/dev/null
  chgrp vcsa_exporter "$secrets/tls.key" "$secrets/tls.crt"
  chmod 0640 "$secrets/tls.key" "$secrets/tls.crt"
  sed "s#/etc/vcsa_exporter/#$secrets/#" /usr/share/doc/$package/examples/web-config.example.yml >"$secrets/web-config.yml"
  chgrp vcsa_exporter "$secrets/web-config.yml"
  chmod 0640 "$secrets/web-config.yml"
  setpriv --reuid=vcsa_exporter --regid=vcsa_exporter --init-groups \
    /usr/bin/vcsa_exporter --web.config.file="$secrets/web-config.yml" --web.config.check
  run_exporter "$port" --web.config.file="$secrets/web-config.yml"
  wait_healthy "https://127.0.0.1:$port" --cacert "$secrets/tls.crt" -u prometheus:change-me || { cat "$work/exporter.log"; return 1; }
  # Without credentials: 401. With the example's user and password: the metrics.
  [ "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$secrets/tls.crt" "https://127.0.0.1:$port/metrics")" = 401 ]
  curl -fsS --cacert "$secrets/tls.crt" -u prometheus:change-me "https://127.0.0.1:$port/metrics" | grep -x 'vcsa_up 1'
}
step "installed binary as user vcsa_exporter, password from a file: scrape has vcsa_up 1" scrape
step "example web config (TLS, basic auth): checked, 401 without credentials, vcsa_up 1 with" web_config
# Nothing of the package runs while it is removed.
stop_all

# --- reinstall, remove, purge -----------------------------------------------------------
reinstall() {
  local uid
  uid=$(id -u vcsa_exporter)
  DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall "$deb"
  [ "$(id -u vcsa_exporter)" = "$uid" ]
}
remove() {
  dpkg -r "$package"
  absent /usr/bin/vcsa_exporter /lib/systemd/system/vcsa_exporter.service /usr/share/man/man1/vcsa_exporter.1.gz
  # Policy: a removed package's configuration stays until purge.
  ls -l /etc/default/vcsa_exporter
}
purge() {
  dpkg -P "$package"
  if dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q 'ok installed\|config-files'; then
    echo "dpkg still knows $package"; return 1
  fi
  absent /usr/bin/vcsa_exporter /lib/systemd/system/vcsa_exporter.service /etc/default/vcsa_exporter \
    /etc/systemd/system/multi-user.target.wants/vcsa_exporter.service /etc/vcsa_exporter \
    /var/lib/systemd/deb-systemd-helper-enabled/vcsa_exporter.service.dsh-also \
    /var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/vcsa_exporter.service \
    /usr/share/doc/$package /usr/share/man/man1/vcsa_exporter.1.gz /usr/share/lintian/overrides/$package
  # Debian practice: the user stays (its files may remain, its id must not be reused).
  echo "kept, as Debian practice wants: $(getent passwd vcsa_exporter)"
}
step "apt-get install --reinstall: maintainer scripts rerun cleanly, same user" reinstall
step "dpkg -r: program and unit gone, /etc/default/vcsa_exporter kept" remove
step "dpkg -P: nothing left but the user vcsa_exporter" purge
{ grep '^kept' "$work/out" || true; } | sed 's/^/      /'

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
