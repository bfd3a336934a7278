#!/usr/bin/env python3
"""The README's metrics table against the families the real binary serves.

    BIN_DIR=.build/debug python3 deploy/tests/readme_metrics_check.py

Starts vcsa_simulator and vcsa_exporter from BIN_DIR on free loopback ports, set up so that every
family the exporter can serve appears: a reconciliation job running (progress, start time), then
succeeded (end time); a restore in progress; nightly backups; the admin API on (with a token file);
a web config file; a --config.file with one target, probed through /probe; process metrics.
It scrapes /metrics in both states and /probe?target=..., and reads each family's `# TYPE` and
the label names of its samples. The README's table under "## Metrics" (columns Metric, Type,
Labels) must then list every served family once, with the same type and label names, and no
family that is never served. A family served with different types or labels on /metrics and
/probe is a problem too.

Prints one FAIL line per problem, naming the family, and "N passed, M failed" last (one per
family); exits 1 if any failed or the binaries could not be set up. Every wait has a timeout, the
whole run is bounded by DEADLINE seconds, and the processes and the temporary directory are
removed on every path. Stdlib only.
"""
import atexit
from http.client import HTTPException
import os
import pathlib
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

# The live e2e test's way of finding a free loopback port (this folder is on sys.path when run as a script).
from prometheus_e2e import free_port

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
USERNAME = "administrator@vsphere.local"
TARGET = "vc01"
DEADLINE = 90  # seconds for the whole run; it takes about 5
# Families the exporter serves only in a state this check cannot bring about: family -> why.
# (Empty: the set-up above reaches every family. A row listed here may be absent from the scrapes.)
UNREACHABLE = {}

processes = []  # (name, Popen, log path), in start order


# --- processes ------------------------------------------------------------------------------

def start(name, argv, workdir):
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    processes.append((name, proc, log))
    return proc


def stop_all():
    """SIGTERM in reverse start order (the exporter logs out while the appliance still runs), then kill."""
    for name, proc, _ in reversed(processes):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def show_logs():
    for name, proc, log in processes:
        try:
            lines = log.read_text(errors="replace").splitlines()
        except OSError:
            continue
        print(f"----- {name} (exit code {proc.poll()}), last lines:")
        print("\n".join(lines[-15:]))


# --- HTTP -----------------------------------------------------------------------------------

def http(method, url, body=None, timeout=5):
    """(status, body as text); HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, data=body.encode() if body is not None else None, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def wait_until(what, probe, timeout=15):
    """Call probe() until it returns a true value; that value, or an error after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
            if value:
                return value
        except (OSError, HTTPException):  # not listening yet, reset, timed out
            pass
        for name, proc, _ in processes:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} while waiting for {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what} after {timeout} s")
        time.sleep(0.2)


# --- exposition and README ------------------------------------------------------------------

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+(?:\s+\S+)?$")
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


def families(text):
    """{family: (type, {label names}, {label: {values}})} of one exposition."""
    found = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            found[name] = (kind.strip(), set(), {})
        elif line and not line.startswith("#"):
            m = SAMPLE.match(line)
            if not m:
                raise ValueError(f"unparsable sample line: {line!r}")
            name = m.group(1)
            family = name if name in found else re.sub(r"_(bucket|sum|count|created)$", "", name)
            if family not in found:
                raise ValueError(f"sample {name} has no # TYPE")
            for label, value in LABEL.findall(m.group(2) or ""):
                found[family][1].add(label)
                found[family][2].setdefault(label, set()).add(value)
    return found


def readme_table():
    """{family: (type, {label names})} from the table under "## Metrics", and the problems found reading it."""
    section = re.search(r"(?ms)^## Metrics\n(.*?)(?=^## )", README.read_text(encoding="utf-8"))
    if not section:
        return {}, ["README.md has no \"## Metrics\" section"]
    rows = [line for line in section.group(1).splitlines() if line.startswith("|")]
    if not rows:
        return {}, ["README.md's Metrics section has no table"]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    if header[:3] != ["Metric", "Type", "Labels"]:
        return {}, [f"README.md's metrics table should start with the columns Metric, Type, Labels (has {header})"]
    table, problems = {}, []
    for line in rows[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name = cells[0].strip("`")
        if len(cells) != len(header) or not re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", name):
            problems.append(f"README.md: a metrics table row is not `name` | type | labels | ...: {line}")
            continue
        labels = {label.strip().strip("`") for label in cells[2].split(",")} - {""}
        if name in table:
            problems.append(f"{name}: README.md's metrics table lists it twice")
        table[name] = (cells[1], labels)
    return table, problems


def describe(kind, labels):
    return f"{kind or 'no type'} with labels {{{', '.join(sorted(labels))}}}" if labels else f"{kind or 'no type'} without labels"


# --- the run --------------------------------------------------------------------------------

def scrape(bin_dir, workdir):
    """The families served: {path: families()} for /metrics (job running, then succeeded) and /probe."""
    password = secrets.token_urlsafe(12)
    files = {"password": password, "admin-token": secrets.token_urlsafe(24)}
    for name, content in files.items():
        (workdir / name).touch(mode=0o600)
        (workdir / name).write_text(content)
    # Response headers only: enough for the web config's reload families, no TLS to set up.
    (workdir / "web-config.yml").write_text("http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n")

    for attempt in range(3):  # another process may take a free port before the simulator binds it
        sim_port = free_port()
        sim = f"http://127.0.0.1:{sim_port}"
        start("simulator", [str(bin_dir / "vcsa_simulator"), "--listen-address", f"127.0.0.1:{sim_port}",
                            "--scenario", "progressing", "--progress-duration", "600",
                            "--restore-scenario", "in-progress", "--backup-scenario", "nightly",
                            "--username", USERNAME, "--password-file", str(workdir / "password")], workdir)
        try:
            wait_until("the simulator", lambda: http("GET", f"{sim}/simulator/stats")[0] == 200)
            break
        except RuntimeError:
            if attempt == 2:
                raise
            stop_all()
            processes.clear()
    (workdir / "config.yml").write_text(
        f"modules:\n  default:\n    username: {USERNAME}\n    password_file: {workdir / 'password'}\n"
        f"targets:\n  {TARGET}:\n    url: {sim}\n")
    exporter = f"http://127.0.0.1:{free_port()}"
    start("exporter", [str(bin_dir / "vcsa_exporter"), "--web.listen-address", exporter.removeprefix("http://"),
                       "--vcenter.url", sim, "--vcenter.username", USERNAME,
                       "--vcenter.password-file", str(workdir / "password"),
                       "--web.enable-admin-api", f"--web.admin-token-file={workdir / 'admin-token'}",
                       f"--web.config.file={workdir / 'web-config.yml'}", f"--config.file={workdir / 'config.yml'}"], workdir)
    wait_until("the exporter's /-/ready", lambda: http("GET", f"{exporter}/-/ready")[0] == 200)

    def served(path, status):
        """families() of `path` once it answers 200 with vcsa_up 1 and the reconciliation job in `status`."""
        wanted = ("vcsa_up 1", f'vcsa_reconciliation_job_status{{status="{status}"}} 1')

        def probe():
            code, text = http("GET", f"{exporter}{path}")
            return families(text) if code == 200 and all(line in text.splitlines() for line in wanted) else None
        return wait_until(f"{path} with {' and '.join(wanted)}", probe)

    result = {"/metrics (job running)": served("/metrics", "RUNNING")}
    code, body = http("PUT", f"{sim}/simulator/scenario", "succeeded")
    if code != 204:
        raise RuntimeError(f"the simulator refused the scenario succeeded: HTTP {code} {body}")
    result["/metrics (job succeeded)"] = served("/metrics", "SUCCEEDED")
    result[f"/probe?target={TARGET}"] = served(f"/probe?target={urllib.parse.quote(TARGET)}", "SUCCEEDED")
    return result


def compare(scrapes, table, problems):
    """Problems, one or more per family; returns the families checked."""
    served = {}  # family -> (type, label names, where first seen), over the /metrics scrapes
    for where, found in scrapes.items():
        for family, (kind, labels, _) in found.items():
            if where.startswith("/probe") and family in served:  # the same family, told the same way
                if (kind, labels) != served[family][:2]:
                    problems.append(f"{family}: {describe(kind, labels)} on {where} but {describe(*served[family][:2])} on /metrics")
                continue
            first = served.setdefault(family, (kind, set(), where))
            if kind != first[0]:
                problems.append(f"{family}: served as {first[0]} on {first[2]} but as {kind} on {where}")
            first[1].update(labels)
    for family, (kind, labels, where) in sorted(served.items()):
        if family not in table:
            problems.append(f"{family}: served ({describe(kind, labels)}, on {where}) but README.md's metrics table has no row for it")
            continue
        row_kind, row_labels = table[family]
        if row_kind != kind:
            problems.append(f"{family}: README.md says type {row_kind or '(none)'}, the exporter serves {kind}")
        if row_labels != labels:
            problems.append(f"{family}: README.md says labels {sorted(row_labels)}, the exporter serves {sorted(labels)}")
    for family in sorted(table.keys() - served.keys()):
        if family in UNREACHABLE:
            continue
        problems.append(f"{family}: README.md's metrics table lists it but the exporter never served it"
                        f" (in {', '.join(scrapes)})")
    return served.keys() | table.keys()


def out_of_time(*_):
    raise TimeoutError(f"the check took over {DEADLINE} s")


def main():
    bin_dir = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BIN_DIR", ".build/debug")).resolve()
    missing = [b for b in ("vcsa_exporter", "vcsa_simulator") if not os.access(bin_dir / b, os.X_OK)]
    if missing:
        print(f"FAIL no executable {', '.join(missing)} in {bin_dir} (set BIN_DIR)")
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # SystemExit: the clean-up below still runs
    signal.signal(signal.SIGALRM, out_of_time)
    atexit.register(stop_all)
    table, problems = readme_table()
    scrapes, error = None, None
    with tempfile.TemporaryDirectory(prefix="vcsa-readme-metrics-") as tmp:
        signal.alarm(DEADLINE)
        try:
            scrapes = scrape(bin_dir, pathlib.Path(tmp))
        except (RuntimeError, TimeoutError, OSError, ValueError) as e:
            error = e
        finally:
            signal.alarm(0)
            stop_all()  # before the directory holding their logs goes
            if scrapes is None:
                print(f"FAIL could not scrape the exporter: {error or 'interrupted'}")
                show_logs()
    if scrapes is None:
        return 1
    checked = compare(scrapes, table, problems)
    for problem in problems:
        print("FAIL", problem)
    failed = {p.split(":")[0] for p in problems} & checked
    other = [p for p in problems if p.split(":")[0] not in checked]
    print(f"README metrics table vs {len(checked)} families served: {len(checked) - len(failed)} passed,"
          f" {len(failed) + len(other)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
