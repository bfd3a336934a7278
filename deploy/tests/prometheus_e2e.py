#!/usr/bin/env python3
"""End-to-end test: simulator -> exporter -> a real Prometheus with the shipped rules.

    BIN_DIR=.build/debug python3 deploy/tests/prometheus_e2e.py

Starts on loopback, on free ports: vcsa_simulator (progressing reconciliation job, restore in
progress), vcsa_exporter against it, and Prometheus (`prometheus` on PATH, or $PROMETHEUS)
scraping every second and evaluating deploy/prometheus/rules/vcsa-alerts.yml every second.
The exporter's exposition passes `promtool check metrics`. Then, through Prometheus' HTTP API:
the target is up and every rule evaluates without error; the progress ratio follows the
simulator's job; API errors are counted by type; a failed job and a failed restore fire their
alerts with the shipped labels and annotations, and the failed-job alert keeps firing once the
job is no longer FAILED (keep_firing_for); every metric that the rules and the dashboard name
exists; every dashboard query, with its variables resolved the way Grafana would, is valid and
returns data. Backups: the simulator starts without any backup job, then goes through the
nightly, last-failed, stale, disabled and running scenarios: VcsaBackupFailed fires with the
newest job's id; VcsaBackupTooOld (for: 30m) and VcsaBackupNotScheduled (for: 1h) are checked
pending, their expressions true where they should be and false for nightly backups; the
dashboard's backup panels show the nightly backups. Always stops the three processes. Stdlib only.
"""
import atexit
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import dashboard_check  # noqa: E402  (the dashboard's queries and variables)

ROOT = pathlib.Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules" / "vcsa-alerts.yml"
JOB = "vcsa-exporter"  # the job name the rules select
USERNAME = "administrator@vsphere.local"
PROGRESS_DURATION = 40  # seconds for the simulator's job to go from 0 to 100%
GRAFANA_BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h"}

results = []  # (name, ok, detail)
processes = {}  # name -> (Popen, log path)


def check(name, ok, detail=""):
    results.append((name, bool(ok), detail))
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}", flush=True)
    return ok


# --- processes ------------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(name, argv, workdir):
    log = workdir / f"{name}.log"
    print(f"     start {name}: {' '.join(argv)}", flush=True)
    processes[name] = (subprocess.Popen(argv, stdout=log.open("wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL), log)


def stop_all():
    for proc, _ in processes.values():
        if proc.poll() is None:
            proc.terminate()
    for proc, _ in processes.values():
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def show_logs():
    for name, (proc, log) in processes.items():
        lines = log.read_text(errors="replace").splitlines()
        print(f"----- {name} (exit code {proc.poll()}), last lines of {log}:")
        print("\n".join(lines[-25:]))


# --- HTTP -----------------------------------------------------------------------------------

def http(method, url, body=None, headers=None, timeout=5):
    """(status, body) of one request; HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, data=body.encode() if isinstance(body, str) else body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_until(what, probe, timeout):
    """Call probe() until it returns a true value; return that value, or None after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
            if value:
                return value
        except (OSError, ValueError, KeyError, IndexError):
            pass
        if time.monotonic() > deadline:
            print(f"     gave up waiting for {what} after {timeout}s", flush=True)
            return None
        for name, (proc, _) in processes.items():
            if proc.poll() is not None:
                print(f"     {name} exited with {proc.returncode} while waiting for {what}", flush=True)
                return None
        time.sleep(0.25)


class Prometheus:
    def __init__(self, base):
        self.base = base

    def api(self, path, **params):
        query = urllib.parse.urlencode(params, doseq=True)
        status, body = http("GET", f"{self.base}/api/v1/{path}?{query}")
        doc = json.loads(body)
        if doc.get("status") != "success":
            raise ValueError(f"{path} {params}: HTTP {status}: {doc.get('errorType')}: {doc.get('error')}")
        return doc["data"]

    def query(self, expr):
        return self.api("query", query=expr)["result"]

    def value(self, expr):
        """The single value of an instant vector query, or None."""
        result = self.query(expr)
        return float(result[0]["value"][1]) if len(result) == 1 else None

    def alerts(self, name, state="firing"):
        return [a for a in self.api("alerts")["alerts"] if a["labels"].get("alertname") == name and a["state"] == state]


class Simulator:
    def __init__(self, base, password):
        self.base, self.password = base, password

    def set(self, what, name):
        status, _ = http("PUT", f"{self.base}/simulator/{what}", name)
        return status == 204

    def progress(self):
        """The reconciliation job's progress (0..1) as the appliance API reports it."""
        auth = b64encode(f"{USERNAME}:{self.password}".encode()).decode()
        status, body = http("POST", f"{self.base}/api/session", headers={"Authorization": f"Basic {auth}"})
        if status != 201:
            raise ValueError(f"simulator login: HTTP {status}")
        session = {"vmware-api-session-id": json.loads(body)}
        try:
            status, body = http("GET", f"{self.base}/api/appliance/recovery/reconciliation/job", headers=session)
            return json.loads(body)["progress"] / 100
        finally:
            http("DELETE", f"{self.base}/api/session", headers=session)


# --- the test -------------------------------------------------------------------------------

def run(bin_dir, workdir):
    ports = {name: free_port() for name in ("simulator", "exporter", "prometheus")}
    sim_url, exporter_url, prom_url = (f"http://127.0.0.1:{ports[n]}" for n in ("simulator", "exporter", "prometheus"))
    password = secrets.token_urlsafe(12)
    password_file = workdir / "vcenter-password"
    password_file.touch(mode=0o600)
    password_file.write_text(password)
    config = workdir / "prometheus.yml"  # JSON is YAML
    config.write_text(json.dumps({
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [{"job_name": JOB, "static_configs": [{"targets": [f"127.0.0.1:{ports['exporter']}"]}]}],
    }, indent=2))

    start("simulator", [str(bin_dir / "vcsa_simulator"), "--listen-address", f"127.0.0.1:{ports['simulator']}",
                        "--scenario", "progressing", "--progress-duration", str(PROGRESS_DURATION),
                        "--restore-scenario", "in-progress", "--backup-scenario", "never",
                        "--password-file", str(password_file)], workdir)
    if not check("simulator answers", wait_until("simulator", lambda: http("GET", f"{sim_url}/simulator/stats")[0] == 200, 15)):
        return
    start("exporter", [str(bin_dir / "vcsa_exporter"), "--web.listen-address", f"127.0.0.1:{ports['exporter']}",
                       "--vcenter.url", sim_url, "--vcenter.username", USERNAME,
                       "--vcenter.password-file", str(password_file)], workdir)
    if not check("exporter ready", wait_until("exporter /-/ready", lambda: http("GET", f"{exporter_url}/-/ready")[0] == 200, 15)):
        return
    status, exposition = http("GET", f"{exporter_url}/metrics")
    lint = subprocess.run([shutil.which("promtool") or "promtool", "check", "metrics"], input=exposition, capture_output=True)
    check("exporter's /metrics passes promtool check metrics", status == 200 and lint.returncode == 0 and not lint.stdout + lint.stderr,
          f"HTTP {status}: {(lint.stdout + lint.stderr).decode(errors='replace')}")
    start("prometheus", [os.environ.get("PROMETHEUS") or shutil.which("prometheus") or "prometheus",
                         f"--config.file={config}", f"--storage.tsdb.path={workdir / 'tsdb'}",
                         f"--web.listen-address=127.0.0.1:{ports['prometheus']}"], workdir)
    if not check("prometheus ready", wait_until("prometheus /-/ready", lambda: http("GET", f"{prom_url}/-/ready")[0] == 200, 30)):
        return
    prom, sim = Prometheus(prom_url), Simulator(sim_url, password)

    # The target is up, and every shipped rule is loaded and evaluates cleanly.
    up = wait_until("up == 1", lambda: prom.value(f'up{{job="{JOB}"}}') == 1, 20)
    check("target up", up, f"targets: {prom.api('targets')['activeTargets']}")
    instance = f"127.0.0.1:{ports['exporter']}"
    rule_names = re.findall(r"^\s*- alert: (\w+)", RULES.read_text(), re.M)

    def evaluated_rules():
        rules = [r for g in prom.api("rules")["groups"] for r in g["rules"]]
        return rules if rules and all(r["health"] != "unknown" for r in rules) else None
    rules = wait_until("rules evaluated", evaluated_rules, 10) or []
    check("shipped rules loaded", sorted(r["name"] for r in rules) == sorted(rule_names), f"{[r['name'] for r in rules]} vs {rule_names}")
    bad = [f"{r['name']}: {r['health']} {r.get('lastError')}" for r in rules if r["health"] != "ok"]
    check("every rule evaluates without error", rules and not bad, "; ".join(bad))
    rule_query = {r["name"]: r["query"] for r in rules}  # each alert's expression, as Prometheus loaded it

    # The progress ratio follows the simulator's job: same value (give or take a scrape) and
    # the simulator's pace of 1/PROGRESS_DURATION per second.
    running = wait_until("RUNNING", lambda: prom.value('vcsa_reconciliation_job_status{status="RUNNING"}') == 1, 10)
    check("job RUNNING", running)
    samples = []  # (time, progress in Prometheus, progress in the simulator)
    for _ in range(10):
        samples.append((time.time(), prom.value("vcsa_reconciliation_job_progress_ratio"), sim.progress()))
        time.sleep(1)
    values = [p for _, p, _ in samples]
    detail = f"samples (time, prometheus, simulator): {samples}"
    if check("progress ratio present and within 0..1", all(v is not None and 0 <= v <= 1 for v in values), detail):
        check("progress ratio never decreases", values == sorted(values), detail)
        pace = (values[-1] - values[0]) / (samples[-1][0] - samples[0][0])
        check("progress ratio moves at the simulator's pace", 0.5 / PROGRESS_DURATION < pace < 2 / PROGRESS_DURATION,
              f"{pace:.4f}/s, expected {1 / PROGRESS_DURATION:.4f}/s; {detail}")
        # A scrape (1 s) plus an API round trip behind the simulator: well under 10 points.
        check("progress ratio matches the simulator", all(abs(p - s) <= 0.1 for _, p, s in samples), detail)

    # After the progress samples (the job finishes PROGRESS_DURATION seconds after the start).
    backups_never_then_nightly(prom, sim, rule_query)

    # API errors are counted by type (and feed the dashboard's error panel below).
    check("simulator switched to error-500", sim.set("scenario", "error-500"))
    check("appliance API failure seen (vcsa_up 0)", wait_until("vcsa_up == 0", lambda: prom.value("vcsa_up") == 0, 10))
    check("API errors counted by error_type", wait_until(
        "errors", lambda: prom.query("sum by (error_type) (increase(vcsa_api_request_errors_total[1m])) > 0"), 10))

    # A failed job and a failed restore fire their alerts at once.
    check("simulator switched to failed", sim.set("scenario", "failed") and sim.set("restore-scenario", "failed"))
    for alert, label, value in (("VcsaReconciliationJobFailed", "status", "FAILED"), ("VcsaRestoreJobFailed", "state", "FAILED")):
        firing = wait_until(f"{alert} firing", lambda: prom.alerts(alert), 15)
        if check(f"{alert} fires", firing, f"alerts: {prom.api('alerts')['alerts']}"):
            labels, annotations = firing[0]["labels"], firing[0]["annotations"]
            expected = {"alertname": alert, "severity": "critical", "job": JOB, "instance": instance, label: value}
            check(f"{alert} labels", labels == expected, f"{labels} != {expected}")
            check(f"{alert} annotations", instance in annotations.get("summary", "") and annotations.get("description")
                  and annotations.get("runbook_url", "").endswith("RUNBOOK.md#" + alert.lower()), str(annotations))

    # keep_firing_for in a live Prometheus: the job succeeds, the alert stays.
    check("simulator switched to succeeded", sim.set("scenario", "succeeded"))
    succeeded = wait_until("SUCCEEDED", lambda: prom.value('vcsa_reconciliation_job_status{status="SUCCEEDED"}') == 1, 10)
    time.sleep(3)  # three more evaluations
    check("VcsaReconciliationJobFailed keeps firing after the job succeeds", succeeded and prom.alerts("VcsaReconciliationJobFailed"))
    expected_firing = {"VcsaReconciliationJobFailed", "VcsaRestoreJobFailed"}
    firing = {a["labels"]["alertname"] for a in prom.api("alerts")["alerts"] if a["state"] == "firing"}
    check("no other alert fires", firing == expected_firing, f"firing: {sorted(firing)}")

    backup_scenarios(prom, sim, rule_query, instance)

    # Every metric named by the loaded rules and by the dashboard exists.
    dashboard = dashboard_check.load()
    exprs = [r["query"] for r in rules] + [e for _, e in dashboard_check.expressions(dashboard)]
    named = set(re.findall(r"\b(vcsa_[a-z0-9_]+)\b", "\n".join(exprs)))
    known = set(prom.api("label/__name__/values"))
    check("every vcsa_* metric in the rules and the dashboard exists", named <= known, f"unknown: {sorted(named - known)}")

    # The dashboard's variables, resolved as Grafana does (the label's values among the series
    # matching the selector, all of them selected), then each of its queries as a range query
    # over the last two minutes.
    values, selected = dict(GRAFANA_BUILTINS), {}
    for variable, selector, label in dashboard_check.variable_queries(dashboard):
        found = prom.api(f"label/{label}/values", **{"match[]": dashboard_check.substitute(selector, values)})
        selected[variable["name"]] = found
        if check(f"dashboard variable {variable['name']} has values", found, f"label_values({selector}, {label}) returned nothing"):
            values[variable["name"]] = dashboard_check.interpolate(variable, found)
    check("dashboard variables resolve to this setup", selected == {"job": [JOB], "instance": [instance]}, str(selected))
    end = time.time()
    for origin, expr in dashboard_check.expressions(dashboard):
        promql = dashboard_check.substitute(expr, values)
        try:
            result = prom.api("query_range", query=promql, start=end - 120, end=end, step=2)["result"]
            check(f"dashboard {origin} returns data", result, f"no data for: {promql}")
        except ValueError as e:
            check(f"dashboard {origin} is valid PromQL", False, f"{e}: {promql}")
    # The status panels encode the enum as a number for their value mappings: 2 is SUCCEEDED.
    status_panel = next(p for p in dashboard_check.panels(dashboard) if p["title"] == "Status")
    code = prom.value(dashboard_check.substitute(status_panel["targets"][0]["expr"], values))
    check("dashboard Status panel shows SUCCEEDED (2)", code == 2, f"got {code}")
    backup_panels(prom, dashboard, values)


# --- backups --------------------------------------------------------------------------------
# The backup alerts with a long `for` (VcsaBackupTooOld 30m, VcsaBackupNotScheduled 1h) cannot
# fire in a short run: for them the test checks that the alert is pending and evaluates its
# expression (as Prometheus loaded it) against the live data. VcsaBackupFailed fires at once.

NIGHTLY_AGE = 6 * 3600 - 1200  # the simulator's newest nightly backup starts 6 h before, runs 20 min


def backup_alerts(prom, state):
    return {a["labels"]["alertname"] for a in prom.api("alerts")["alerts"]
            if a["labels"]["alertname"].startswith("VcsaBackup") and a["state"] == state}


def backups_never_then_nightly(prom, sim, rule_query):
    """The simulator starts with no backup job (`never`), then switches to `nightly`."""
    never = wait_until("backup collector, no job", lambda: prom.value('vcsa_scrape_collector_success{collector="backup"}') == 1
                       and prom.value("vcsa_backup_jobs_listed") == 0, 10)
    check("never: backup collector works, no job listed", never)
    pending = wait_until("VcsaBackupTooOld pending", lambda: prom.alerts("VcsaBackupTooOld", "pending"), 10)
    if check("never: VcsaBackupTooOld pending (no success listed; for: 30m)", pending, f"alerts: {prom.api('alerts')['alerts']}"):
        check("never: VcsaBackupTooOld's value is +Inf and says so", float(pending[0]["value"]) == float("inf")
              and "no successful backup at all" in pending[0]["annotations"].get("description", ""), str(pending[0]))
    check("never: VcsaBackupNotScheduled's expression is false (a schedule is enabled)",
          not prom.query(rule_query["VcsaBackupNotScheduled"]))
    operations = {r["metric"]["operation"] for r in prom.query('vcsa_api_requests_total{operation=~"backup_.*"} > 0')}
    check("backup API calls counted by operation", {"backup_job_list", "backup_schedules_get"} <= operations, str(operations))

    check("simulator switched to nightly backups", sim.set("backup-scenario", "nightly"))
    nightly = wait_until("7 backup jobs", lambda: prom.value("vcsa_backup_jobs_listed") == 7
                         and prom.value('vcsa_backup_job_status{status="SUCCEEDED"}') == 1, 10)
    age = prom.value("time() - vcsa_backup_last_success_timestamp_seconds")
    check("nightly: the last success is about 5h40m old", nightly and age is not None and NIGHTLY_AGE - 60 < age < NIGHTLY_AGE + 120,
          f"age {age}")
    quiet = wait_until("VcsaBackupTooOld gone", lambda: not prom.query(rule_query["VcsaBackupTooOld"])
                       and "VcsaBackupTooOld" not in backup_alerts(prom, "pending") | backup_alerts(prom, "firing"), 10)
    check("nightly: VcsaBackupTooOld's expression is false, the alert neither pending nor firing", quiet,
          f"expression: {prom.query(rule_query['VcsaBackupTooOld'])}; alerts: {prom.api('alerts')['alerts']}")
    check("nightly: VcsaBackupRunningTooLong's expression is false", not prom.query(rule_query["VcsaBackupRunningTooLong"]))
    operations = {r["metric"]["operation"] for r in prom.query('vcsa_api_requests_total{operation=~"backup_.*"} > 0')}
    check("backup job details calls counted", "backup_job_details_get" in operations, str(operations))


def backup_scenarios(prom, sim, rule_query, instance):
    """last-failed, stale, disabled and running, then nightly again."""
    check("simulator switched to last-failed backups", sim.set("backup-scenario", "last-failed"))
    firing = wait_until("VcsaBackupFailed firing", lambda: prom.alerts("VcsaBackupFailed"), 15)
    if check("last-failed: VcsaBackupFailed fires", firing, f"alerts: {prom.api('alerts')['alerts']}"):
        info = prom.query("vcsa_backup_job_info")
        newest = info[0]["metric"].get("id") if len(info) == 1 else None
        labels, annotations = firing[0]["labels"], firing[0]["annotations"]
        expected = {"alertname": "VcsaBackupFailed", "severity": "info", "job": JOB, "instance": instance, "status": "FAILED",
                    "id": newest, "type": "SCHEDULED", "location_scheme": "sftp"}
        check("VcsaBackupFailed labels: the newest job's id, type and location scheme", labels == expected, f"{labels} != {expected}")
        check("VcsaBackupFailed annotations", newest and newest in annotations.get("summary", "") and instance in annotations.get("description", "")
              and annotations.get("runbook_url", "").endswith("RUNBOOK.md#vcsabackupfailed"), str(annotations))

    check("simulator switched to stale backups", sim.set("backup-scenario", "stale"))
    stale = wait_until("a 3-day-old success", lambda: (prom.value("time() - vcsa_backup_last_success_timestamp_seconds") or 0) > 3 * 86400, 10)
    result = prom.query(rule_query["VcsaBackupTooOld"])
    check("stale: VcsaBackupTooOld's expression is true, with the age as its value",
          stale and len(result) == 1 and result[0]["metric"].get("instance") == instance
          and 3 * 86400 + NIGHTLY_AGE - 60 < float(result[0]["value"][1]) < 3 * 86400 + NIGHTLY_AGE + 300, str(result))
    check("stale: VcsaBackupTooOld pending (for: 30m)", wait_until("VcsaBackupTooOld pending", lambda: prom.alerts("VcsaBackupTooOld", "pending"), 5))

    check("simulator switched to a disabled schedule", sim.set("backup-scenario", "disabled"))
    disabled = wait_until("schedule disabled", lambda: prom.value("vcsa_backup_schedule_enabled") == 0, 10)
    result = prom.query(rule_query["VcsaBackupNotScheduled"])
    check("disabled: VcsaBackupNotScheduled's expression is true",
          disabled and len(result) == 1 and result[0]["metric"].get("instance") == instance and float(result[0]["value"][1]) == 0, str(result))
    check("disabled: VcsaBackupNotScheduled pending (for: 1h)",
          wait_until("VcsaBackupNotScheduled pending", lambda: prom.alerts("VcsaBackupNotScheduled", "pending"), 5))
    check("disabled: VcsaBackupTooOld gone (nightly jobs again)", wait_until(
        "VcsaBackupTooOld gone", lambda: "VcsaBackupTooOld" not in backup_alerts(prom, "pending") | backup_alerts(prom, "firing"), 10))

    check("simulator switched to a running backup", sim.set("backup-scenario", "running"))
    running = wait_until("backup RUNNING", lambda: prom.value('vcsa_backup_job_status{status="RUNNING"}') == 1, 10)
    duration, progress = prom.value("vcsa_backup_job_duration_seconds"), prom.value("vcsa_backup_job_progress_ratio")
    check("running: RUNNING for about 10 minutes, 40% done", running and duration is not None and 595 < duration < 720 and progress == 0.4,
          f"duration {duration}, progress {progress}")
    check("running: VcsaBackupRunningTooLong's expression is false (10 min, under the 1 h floor)",
          not prom.query(rule_query["VcsaBackupRunningTooLong"]))

    check("simulator switched back to nightly backups", sim.set("backup-scenario", "nightly"))
    nightly = wait_until("nightly again", lambda: prom.value('vcsa_backup_job_status{status="SUCCEEDED"}') == 1
                         and prom.value("vcsa_backup_schedule_enabled") == 1
                         and not backup_alerts(prom, "pending") and backup_alerts(prom, "firing") == {"VcsaBackupFailed"}, 10)
    check("nightly again: only VcsaBackupFailed still firing (keep_firing_for), nothing pending", nightly,
          f"firing {backup_alerts(prom, 'firing')}, pending {backup_alerts(prom, 'pending')}")


def backup_panels(prom, dashboard, values):
    """The Backups row shows the nightly scenario: the age of the last success, and the newest job."""
    panel = {p["title"]: p for p in dashboard_check.panels(dashboard)}
    age = prom.value(dashboard_check.substitute(panel["Last successful backup"]["targets"][0]["expr"], values))
    check("dashboard Last successful backup shows about 5h40m", age is not None and NIGHTLY_AGE - 60 < age < NIGHTLY_AGE + 300, f"got {age}")
    rows = {t["refId"]: prom.query(dashboard_check.substitute(t["expr"], values)) for t in panel["Newest backup job"]["targets"]}
    newest = prom.query("vcsa_backup_job_info")
    check("dashboard Newest backup job: every query gives one row, for the newest job",
          all(len(r) == 1 for r in rows.values()) and len(newest) == 1
          and rows["A"][0]["metric"].get("id") == newest[0]["metric"].get("id")
          and rows["B"][0]["metric"].get("status") == "SUCCEEDED" and float(rows["F"][0]["value"][1]) == 1, str(rows))


def main():
    bin_dir = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BIN_DIR", ".build/debug")).resolve()
    missing = [b for b in ("vcsa_exporter", "vcsa_simulator") if not os.access(bin_dir / b, os.X_OK)]
    if missing:
        print(f"FAIL no executable {', '.join(missing)} in {bin_dir} (set BIN_DIR)")
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    atexit.register(stop_all)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vcsa-e2e-") as tmp:
        try:
            run(bin_dir, pathlib.Path(tmp))
        except Exception as e:  # an unexpected answer: record it, keep the logs
            check("end-to-end test ran to completion", False, f"{type(e).__name__}: {e}")
        failed = [r for r in results if not r[1]]
        if failed:
            show_logs()
        stop_all()
    print(f"e2e: {len(results) - len(failed)} of {len(results)} checks passed in {time.monotonic() - started:.0f}s")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
