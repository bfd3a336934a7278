#!/usr/bin/env python3
"""End-to-end test: simulator -> exporter -> a real Prometheus with the shipped rules.

    BIN_DIR=.build/debug python3 deploy/tests/prometheus_e2e.py

Two phases, each on loopback and free ports, with Prometheus (`prometheus` on PATH, or
$PROMETHEUS) scraping every second and evaluating deploy/prometheus/rules/vcsa-alerts.yml every
second. Its configuration is the shipped deploy/prometheus/prometheus.yml with the addresses,
paths and intervals substituted (the jobs, file_sd and relabelling as shipped).

One exporter per appliance (job vcsa-exporter): vcsa_simulator (progressing reconciliation job,
restore in progress) and vcsa_exporter --vcenter.url against it. The exporter's exposition passes
`promtool check metrics`. Then, through Prometheus' HTTP API: the target is up and every rule
evaluates without error; the progress ratio follows the simulator's job; API errors are counted
by type; a failed job and a failed restore fire their alerts with the shipped labels and
annotations, and the failed-job alert keeps firing once the job is no longer FAILED
(keep_firing_for); every dashboard query, with its variables resolved the way Grafana would, is
valid and returns data. Backups: the simulator starts without any backup job, then goes through
the nightly, last-failed, stale, disabled and running scenarios: VcsaBackupFailed fires with the
newest job's id; VcsaBackupTooOld (for: 30m) and VcsaBackupNotScheduled (for: 1h) are checked
pending, their expressions true where they should be and false for nightly backups; the
dashboard's backup panels show the nightly backups.

Many appliances through one exporter (jobs vcsa_probe and vcsa-exporter): one
`vcsa_simulator --appliances 3`, and one vcsa_exporter whose --config.file is the shipped
deploy/vcsa_exporter.yml with the simulators' URLs and the test's password (it passes
--config.check), probed through the shipped file_sd targets (deploy/prometheus/targets/). Checks:
the two files name the same appliances; each appliance is a target of its own, probed with its
module label as ?module=; three vcsa_up{job="vcsa_probe", instance=NAME} are 1; the exporter's
own /metrics (job vcsa-exporter) has vcsa_exporter_probe_targets 3 and no appliance series;
each simulator holds exactly one session, made by one login; each instance's series come from
its own appliance (a restore in progress on one appliance shows on its instance only; a module
without the backup collector leaves out that instance's backup series, and its simulator sees no
backup call); a failed reconciliation job on one appliance fires VcsaReconciliationJobFailed for
that instance only, and nothing else fires; the dashboard's variables list the three appliances
and every query returns data, for all of them and for one; a file_sd target the exporter does
not list is `up 0`, with VcsaExporterDown pending for it alone; an appliance added to the
exporter's file (SIGHUP) but not to the targets makes VcsaTargetsNotProbed pending, and the reload
keeps every session; on SIGTERM the exporter logs out of every appliance.

Every metric the rules and the dashboard name must exist in one phase or the other. Always stops
the processes. Stdlib, and PyYAML (Debian's python3-yaml) to read the shipped files.
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

import yaml

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import dashboard_check  # noqa: E402  (the dashboard's queries and variables)

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
RULES = ROOT / "deploy" / "prometheus" / "rules" / "vcsa-alerts.yml"
TARGETS_DIR = ROOT / "deploy" / "prometheus" / "targets"
EXPORTER_CONFIG = ROOT / "deploy" / "vcsa_exporter.yml"
JOB = "vcsa-exporter"  # the job name the rules select
PROBE_JOB = "vcsa_probe"  # the probe job's name the rules select
COLLECTORS = {"reconciliation", "restore", "backup"}
USERNAME = "administrator@vsphere.local"
PROGRESS_DURATION = 40  # seconds for the simulator's job to go from 0 to 100%
GRAFANA_BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h"}

results = []  # (name, ok, detail)
processes = {}  # name -> (Popen, log path), running
finished = {}  # name -> (Popen, log path), stopped at the end of their phase
known_metrics = set()  # every metric name Prometheus saw, in either phase


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


def stop_all(names=None):
    """SIGTERM the named processes (default: all), wait up to 5 s, then kill; they move to `finished`."""
    names = [n for n in (names or list(processes)) if n in processes]
    for name in names:
        if processes[name][0].poll() is None:
            processes[name][0].terminate()
    for name in names:
        proc = processes[name][0]
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        finished[name] = processes.pop(name)


def show_logs():
    for name, (proc, log) in {**finished, **processes}.items():
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

    def stats(self):
        """Logins, logouts, active sessions and calls, as the simulated appliance counted them."""
        status, body = http("GET", f"{self.base}/simulator/stats")
        if status != 200:
            raise ValueError(f"{self.base}/simulator/stats: HTTP {status}")
        return json.loads(body)

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

def promtool_metrics(name, url):
    """The exposition at `url` passes `promtool check metrics`."""
    status, exposition = http("GET", url)
    lint = subprocess.run([shutil.which("promtool") or "promtool", "check", "metrics"], input=exposition, capture_output=True)
    check(f"{name} passes promtool check metrics", status == 200 and lint.returncode == 0 and not lint.stdout + lint.stderr,
          f"HTTP {status}: {(lint.stdout + lint.stderr).decode(errors='replace')}")
    return exposition


def prometheus_config(workdir, exporter, jobs, targets_dir=None):
    """The shipped prometheus.yml with only `jobs`, scraping every second: the exporter's address
    in place of the shipped one (as the static target and as the probe job's __address__
    replacement), the rule file and the file_sd files by absolute path. Written as JSON (YAML)."""
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    check("shipped prometheus.yml loads deploy/prometheus/rules/vcsa-alerts.yml",
          [PROMETHEUS_CONFIG.parent / f for f in config.get("rule_files", [])] == [RULES], str(config.get("rule_files")))
    config["rule_files"] = [str(RULES)]
    shipped = {job["job_name"]: job for job in config["scrape_configs"]}
    if PROBE_JOB in jobs and JOB in shipped and PROBE_JOB in shipped:
        check_probe_job(shipped[PROBE_JOB], [t for c in shipped[JOB].get("static_configs", []) for t in c["targets"]])
    config["scrape_configs"] = []
    for name in jobs:
        job = shipped.get(name)
        if not check(f"shipped prometheus.yml has the job {name}", job, f"jobs: {sorted(shipped)}"):
            continue
        job.update(scrape_interval="1s", scrape_timeout="1s")
        for rc in job.get("relabel_configs", []):
            if rc.get("target_label") == "__address__":
                rc["replacement"] = exporter
        for static in job.get("static_configs", []):
            static["targets"] = [exporter]
        for sd in job.get("file_sd_configs", []):
            sd["files"] = [str(targets_dir / pathlib.Path(f).name) for f in sd["files"]]
        config["scrape_configs"].append(job)
    path = workdir / "prometheus.yml"
    path.write_text(json.dumps(config, indent=2))  # JSON is YAML
    return path


def check_probe_job(job, exporter_targets):
    """The shipped probe job relabels as blackbox_exporter users know it, and probes through the
    exporter that the vcsa-exporter job scrapes."""
    relabels = [(rc.get("source_labels"), rc.get("target_label"), rc.get("replacement")) for rc in job.get("relabel_configs", [])]
    pairs = [(source, target) for source, target, _ in relabels]
    check("shipped probe job: metrics_path /probe, file_sd targets", job.get("metrics_path") == "/probe" and job.get("file_sd_configs"),
          json.dumps(job))
    check("shipped probe job: __address__ -> __param_target -> instance, module -> __param_module, then __address__ = the exporter",
          pairs[:2] == [(["__address__"], "__param_target"), (["__param_target"], "instance")]
          and (["module"], "__param_module") in pairs and pairs[-1] == (None, "__address__")
          and [pair[1] for pair in pairs].count("__address__") == 1, str(relabels))
    check("shipped probe job reaches the exporter the vcsa-exporter job scrapes", [relabels[-1][2]] == exporter_targets,
          f"{relabels[-1][2] if relabels else None} vs {exporter_targets}")


def start_prometheus(workdir, config, port):
    start("prometheus", [os.environ.get("PROMETHEUS") or shutil.which("prometheus") or "prometheus",
                         f"--config.file={config}", f"--storage.tsdb.path={workdir / 'tsdb'}",
                         f"--web.listen-address=127.0.0.1:{port}"], workdir)
    url = f"http://127.0.0.1:{port}"
    if check("prometheus ready", wait_until("prometheus /-/ready", lambda: http("GET", f"{url}/-/ready")[0] == 200, 30)):
        return Prometheus(url)
    return None


def loaded_rules(prom):
    """Every shipped rule is loaded and evaluates cleanly; returns each alert's expression as loaded."""
    rule_names = re.findall(r"^\s*- alert: (\w+)", RULES.read_text(), re.M)

    def evaluated_rules():
        rules = [r for g in prom.api("rules")["groups"] for r in g["rules"]]
        return rules if rules and all(r["health"] != "unknown" for r in rules) else None
    rules = wait_until("rules evaluated", evaluated_rules, 10) or []
    check("shipped rules loaded", sorted(r["name"] for r in rules) == sorted(rule_names), f"{[r['name'] for r in rules]} vs {rule_names}")
    bad = [f"{r['name']}: {r['health']} {r.get('lastError')}" for r in rules if r["health"] != "ok"]
    check("every rule evaluates without error", rules and not bad, "; ".join(bad))
    return {r["name"]: r["query"] for r in rules}


def dashboard_queries(prom, dashboard, expected, phase):
    """The dashboard's variables, resolved as Grafana does (the label's values among the series
    matching the selector, all of them selected), must be `expected`; then each of its queries,
    as a range query over the last two minutes, must return data. Returns the variables' values."""
    values, selected = dict(GRAFANA_BUILTINS), {}
    for variable, selector, label in dashboard_check.variable_queries(dashboard):
        found = prom.api(f"label/{label}/values", **{"match[]": dashboard_check.substitute(selector, values)})
        selected[variable["name"]] = found
        if check(f"{phase}: dashboard variable {variable['name']} has values", found, f"label_values({selector}, {label}) returned nothing"):
            values[variable["name"]] = dashboard_check.interpolate(variable, found)
    if not check(f"{phase}: dashboard variables resolve to this setup", selected == expected, f"{selected} != {expected}"):
        return None
    end = time.time()
    for origin, expr in dashboard_check.expressions(dashboard):
        promql = dashboard_check.substitute(expr, values)
        try:
            result = prom.api("query_range", query=promql, start=end - 120, end=end, step=2)["result"]
            check(f"{phase}: dashboard {origin} returns data", result, f"no data for: {promql}")
        except ValueError as e:
            check(f"{phase}: dashboard {origin} is valid PromQL", False, f"{e}: {promql}")
    return values


def run(bin_dir, workdir):
    for phase in ("single", "probe"):
        (workdir / phase).mkdir()
    single_target(bin_dir, workdir / "single")
    stop_all()  # the next phase has the machine to itself
    probe_fleet(bin_dir, workdir / "probe")
    # Every metric named by the rules and by the dashboard exists: the exporter's own probe
    # metrics only in the probe phase, the rest in both.
    dashboard = dashboard_check.load()
    rule_exprs = [r.get("expr", "") for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    exprs = rule_exprs + [e for _, e in dashboard_check.expressions(dashboard)]
    named = set(re.findall(r"\b(vcsa_[a-z0-9_]+)\b", re.sub(r'"[^"]*"', '""', "\n".join(exprs))))  # names, not label values
    check("every vcsa_* metric in the rules and the dashboard exists", named <= known_metrics, f"unknown: {sorted(named - known_metrics)}")


# --- one exporter per appliance -------------------------------------------------------------

def single_target(bin_dir, workdir):
    ports = {name: free_port() for name in ("simulator", "exporter", "prometheus")}
    sim_url, exporter_url = (f"http://127.0.0.1:{ports[n]}" for n in ("simulator", "exporter"))
    password = secrets.token_urlsafe(12)
    password_file = workdir / "vcenter-password"
    password_file.touch(mode=0o600)
    password_file.write_text(password)
    instance = f"127.0.0.1:{ports['exporter']}"
    config = prometheus_config(workdir, instance, [JOB])

    start("simulator", [str(bin_dir / "vcsa_simulator"), "--listen-address", f"127.0.0.1:{ports['simulator']}",
                        "--scenario", "progressing", "--progress-duration", str(PROGRESS_DURATION),
                        "--restore-scenario", "in-progress", "--backup-scenario", "never",
                        "--password-file", str(password_file)], workdir)
    if not check("simulator answers", wait_until("simulator", lambda: http("GET", f"{sim_url}/simulator/stats")[0] == 200, 15)):
        return
    start("exporter", [str(bin_dir / "vcsa_exporter"), "--web.listen-address", instance,
                       "--vcenter.url", sim_url, "--vcenter.username", USERNAME,
                       "--vcenter.password-file", str(password_file)], workdir)
    if not check("exporter ready", wait_until("exporter /-/ready", lambda: http("GET", f"{exporter_url}/-/ready")[0] == 200, 15)):
        return
    promtool_metrics("exporter's /metrics", f"{exporter_url}/metrics")
    prom = start_prometheus(workdir, config, ports["prometheus"])
    if not prom:
        return
    sim = Simulator(sim_url, password)

    # The target is up, and every shipped rule is loaded and evaluates cleanly.
    up = wait_until("up == 1", lambda: prom.value(f'up{{job="{JOB}"}}') == 1, 20)
    check("target up", up, f"targets: {prom.api('targets')['activeTargets']}")
    rule_query = loaded_rules(prom)

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

    known_metrics.update(prom.api("label/__name__/values"))
    dashboard = dashboard_check.load()
    values = dashboard_queries(prom, dashboard, {"job": [JOB], "instance": [instance]}, "one exporter per appliance")
    if values is None:
        return
    # The status panels encode the enum as a number for their value mappings: 2 is SUCCEEDED.
    status_panel = next(p for p in dashboard_check.panels(dashboard) if p["title"] == "Status")
    code = prom.value(dashboard_check.substitute(status_panel["targets"][0]["expr"], values))
    check("dashboard Status panel shows SUCCEEDED (2)", code == 2, f"got {code}")
    backup_panels(prom, dashboard, values)


# --- many appliances through one exporter -----------------------------------------------------

def free_ports(count):
    """A base port with `count` consecutive ports free on 127.0.0.1 (when asked)."""
    for _ in range(50):
        base = free_port()
        if base + count - 1 > 65535:
            continue
        sockets = []
        try:
            for port in range(base, base + count):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports on 127.0.0.1")


def shipped_targets():
    """The shipped file_sd targets: name -> labels, and the files."""
    files = sorted(TARGETS_DIR.glob("*.yml"))
    targets = {}
    for path in files:
        for group in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            for target in group["targets"]:
                targets[target] = group.get("labels", {})
    return targets, files


def exporter_config(path, password_file, urls):
    """The shipped deploy/vcsa_exporter.yml with the simulators' URLs (in the order of its
    targets), the test's user and password, and no CA file (the simulators speak plain HTTP)."""
    config = yaml.safe_load(EXPORTER_CONFIG.read_text(encoding="utf-8"))
    for module in config["modules"].values():
        module.update(username=USERNAME, password_file=str(password_file))
        module.pop("ca_file", None)
    for name, url in zip(config["targets"], urls):
        config["targets"][name]["url"] = url
    path.write_text(json.dumps(config, indent=2))
    return config


def probe_fleet(bin_dir, workdir):
    phase = "many appliances through one exporter"
    print(f"     --- {phase}", flush=True)
    sd_targets, sd_files = shipped_targets()
    shipped = yaml.safe_load(EXPORTER_CONFIG.read_text(encoding="utf-8"))
    names = list(shipped.get("targets", {}))
    if not check("deploy/vcsa_exporter.yml and deploy/prometheus/targets/ name the same three appliances",
                 sorted(names) == sorted(sd_targets) and len(names) == 3, f"{names} vs {sorted(sd_targets)}"):
        return
    password = secrets.token_urlsafe(12)
    password_file = workdir / "vcenter-password"
    password_file.touch(mode=0o600)
    password_file.write_text(password)

    # One simulator process, three appliances on consecutive ports (a race for the ports is retried).
    for attempt in range(3):
        base = free_ports(len(names))
        urls = [f"http://127.0.0.1:{base + i}" for i in range(len(names))]
        start("simulators", [str(bin_dir / "vcsa_simulator"), "--listen-address", f"127.0.0.1:{base}", "--appliances", str(len(names)),
                             "--scenario", "succeeded", "--restore-scenario", "none", "--backup-scenario", "nightly",
                             "--password-file", str(password_file)], workdir)
        if wait_until("simulators", lambda: all(http("GET", f"{u}/simulator/stats")[0] == 200 for u in urls), 15):
            break
        stop_all(["simulators"])
    if not check("three simulated appliances answer", "simulators" in processes, f"after {attempt + 1} attempts"):
        return
    appliance = {name: Simulator(url, password) for name, url in zip(names, urls)}

    config_path = workdir / "vcsa_exporter.yml"
    config = exporter_config(config_path, password_file, urls)
    checked = subprocess.run([str(bin_dir / "vcsa_exporter"), f"--config.file={config_path}", "--config.check"], capture_output=True, timeout=30)
    check("the exporter's --config.check accepts the shipped config (addresses substituted)", checked.returncode == 0,
          (checked.stdout + checked.stderr).decode(errors="replace"))
    ports = {name: free_port() for name in ("exporter", "prometheus")}
    exporter = f"127.0.0.1:{ports['exporter']}"
    # A web config too (response headers only), so that its reload metrics exist for the rules that use them.
    web_config = workdir / "web-config.yml"
    web_config.write_text("http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n")
    start("exporter", [str(bin_dir / "vcsa_exporter"), "--web.listen-address", exporter, f"--config.file={config_path}",
                       f"--web.config.file={web_config}"], workdir)
    if not check("exporter ready", wait_until("exporter /-/ready", lambda: http("GET", f"http://{exporter}/-/ready")[0] == 200, 15)):
        return
    promtool_metrics("a probe's answer", f"http://{exporter}/probe?target={urllib.parse.quote(names[0])}")

    targets_dir = workdir / "targets"
    targets_dir.mkdir()
    for path in sd_files:
        shutil.copy(path, targets_dir / path.name)
    prom = start_prometheus(workdir, prometheus_config(workdir, exporter, [JOB, PROBE_JOB], targets_dir), ports["prometheus"])
    if not prom:
        return
    rule_query = loaded_rules(prom)

    def by_instance(expr):
        return {r["metric"].get("instance"): float(r["value"][1]) for r in prom.query(expr)}

    # Each appliance is a target of its own, reached through the exporter's /probe.
    up = wait_until("three probes and the exporter up", lambda: by_instance(f'up{{job="{PROBE_JOB}"}}') == dict.fromkeys(names, 1.0)
                    and by_instance(f'up{{job="{JOB}"}}') == {exporter: 1.0}, 20)
    check(f"up: job {JOB} (the exporter's own /metrics) and job {PROBE_JOB} (one instance per appliance)", up,
          f"targets: {prom.api('targets')['activeTargets']}")
    probes = {t["labels"].get("instance"): t for t in prom.api("targets")["activeTargets"] if t["labels"].get("job") == PROBE_JOB}
    for name in names:
        url = urllib.parse.urlsplit(probes.get(name, {}).get("scrapeUrl", ""))
        params = urllib.parse.parse_qs(url.query)
        wanted = {"target": [name], **({"module": [sd_targets[name]["module"]]} if "module" in sd_targets[name] else {})}
        check(f"{name} is probed as {url.netloc}{url.path}?{urllib.parse.urlencode(wanted, doseq=True)}",
              url.netloc == exporter and url.path == "/probe" and params == wanted, str(probes.get(name)))
    vcsa_up = wait_until("vcsa_up 1 x3", lambda: by_instance(f'vcsa_up{{job="{PROBE_JOB}"}}') == dict.fromkeys(names, 1.0), 15)
    check(f"three vcsa_up{{job=\"{PROBE_JOB}\", instance=NAME}} are 1", vcsa_up, str(by_instance("vcsa_up")))

    # The exporter's own /metrics: its targets, and nothing of an appliance.
    own = wait_until("probe targets metrics", lambda: by_instance(f'vcsa_exporter_probe_targets{{job="{JOB}"}}') == {exporter: 3.0}
                     and by_instance(f'vcsa_exporter_probe_targets_active{{job="{JOB}"}}') == {exporter: 3.0}, 10)
    check("the exporter's own metrics: vcsa_exporter_probe_targets 3, 3 active", own,
          f"{prom.query('vcsa_exporter_probe_targets')} {prom.query('vcsa_exporter_probe_targets_active')}")
    check(f"the exporter's own /metrics (job {JOB}) has no appliance series",
          not prom.query(f'{{job="{JOB}", __name__=~"vcsa_.*", __name__!~"vcsa_exporter_.*"}}'),
          str(prom.query(f'count by (__name__) ({{job="{JOB}", __name__=~"vcsa_.*", __name__!~"vcsa_exporter_.*"}})')))
    check("build info only on the exporter's own job", by_instance("vcsa_exporter_build_info") == {exporter: 1.0},
          str(prom.query("vcsa_exporter_build_info")))

    # One vCenter session per appliance, from a single login, however many probes.
    time.sleep(2)  # a probe or two more of each
    stats = {name: sim.stats() for name, sim in appliance.items()}
    check("each appliance: exactly one active session, one login, no failed login",
          all(s["active_sessions"] == 1 and s["logins"] == 1 and s["failed_logins"] == 0 for s in stats.values()), str(stats))
    check("each appliance answered its own probes (a reconciliation job call per probe)",
          all(s["reconciliation_gets"] >= 2 for s in stats.values()), str(stats))
    logins = by_instance(f'vcsa_api_requests_total{{job="{PROBE_JOB}", operation="session_create"}}')
    check("each instance counts its own single login (vcsa_api_requests_total)", logins == dict.fromkeys(names, 1.0), str(logins))

    # Isolation: each instance's series come from its own appliance, and its own module.
    modules = {name: sd_targets[name].get("module") or shipped["targets"][name].get("module", "default") for name in names}
    backups = {name for name in names if "backup" in set(config["modules"][modules[name]].get("collectors", COLLECTORS))}
    collected = set(by_instance(f'vcsa_backup_jobs_listed{{job="{PROBE_JOB}"}}'))
    check(f"backup series only where the module collects backups ({sorted(backups)})", collected == backups and backups != set(names),
          f"vcsa_backup_jobs_listed on {sorted(collected)}; modules {modules}")
    quiet = {name: stats[name]["backup_list_gets"] for name in names if name not in backups}
    check("appliances probed without the backup collector saw no backup call", quiet and not any(quiet.values()), str(stats))
    restoring = names[1]
    check(f"{restoring}'s appliance switched to a restore in progress", appliance[restoring].set("restore-scenario", "in-progress"))
    state = 'vcsa_restore_job_state{job="%s", state="%s"} == 1'
    isolated = wait_until("restore INPROGRESS", lambda: set(by_instance(state % (PROBE_JOB, "INPROGRESS"))) == {restoring}, 10)
    check(f"a restore in progress on {restoring} shows on {restoring} only", isolated
          and set(by_instance(state % (PROBE_JOB, "NONE"))) == set(names) - {restoring},
          f"INPROGRESS {by_instance(state % (PROBE_JOB, 'INPROGRESS'))}, NONE {by_instance(state % (PROBE_JOB, 'NONE'))}")

    # A failed job on one appliance fires for that instance only.
    failing = names[0]
    check(f"{failing}'s appliance switched to a failed reconciliation job", appliance[failing].set("scenario", "failed"))
    firing = wait_until("VcsaReconciliationJobFailed firing", lambda: prom.alerts("VcsaReconciliationJobFailed"), 15)
    time.sleep(3)  # three more evaluations: no other instance joins
    firing = prom.alerts("VcsaReconciliationJobFailed")
    expected = {"alertname": "VcsaReconciliationJobFailed", "severity": "critical", "job": PROBE_JOB, "instance": failing, "status": "FAILED"}
    check(f"VcsaReconciliationJobFailed fires for {failing} only, with its labels",
          [a["labels"] for a in firing] == [expected], f"firing: {[a['labels'] for a in firing]}")
    check(f"VcsaReconciliationJobFailed's summary names {failing}", firing and failing in firing[0]["annotations"].get("summary", ""),
          str(firing))
    status = 'vcsa_reconciliation_job_status{job="%s", status="SUCCEEDED"} == 1' % PROBE_JOB
    check("the other appliances' jobs are still SUCCEEDED", set(by_instance(status)) == set(names) - {failing}, str(by_instance(status)))
    alerts = {(a["labels"]["alertname"], a["labels"].get("instance")) for a in prom.api("alerts")["alerts"] if a["state"] == "firing"}
    check("no other alert fires", alerts == {("VcsaReconciliationJobFailed", failing)}, f"firing: {sorted(alerts)}")
    check("VcsaTargetsNotProbed's expression is false (every listed appliance is probed)", not prom.query(rule_query["VcsaTargetsNotProbed"]))

    # API errors on one appliance count on its instance only (and feed the dashboard's error panel).
    erring = names[2]
    check(f"{erring}'s appliance switched to error-500", appliance[erring].set("scenario", "error-500"))
    errors = "sum by (instance) (increase(vcsa_api_request_errors_total{job=\"%s\"}[1m])) > 0" % PROBE_JOB
    counted = wait_until("errors counted", lambda: set(by_instance(errors)) == {erring}
                         and by_instance(f'vcsa_up{{job="{PROBE_JOB}"}}') == {**dict.fromkeys(names, 1.0), erring: 0.0}, 10)
    check(f"API errors on {erring}'s appliance: vcsa_up 0 and errors counted on {erring} only", counted,
          f"errors {by_instance(errors)}, vcsa_up {by_instance('vcsa_up')}")
    check(f"{erring}'s appliance switched back to succeeded", appliance[erring].set("scenario", "succeeded"))
    check(f"{erring} back to vcsa_up 1", wait_until("vcsa_up 1", lambda: by_instance(f'vcsa_up{{job="{PROBE_JOB}", instance="{erring}"}}')
                                                     == {erring: 1.0}, 10))

    # The dashboard: the appliances are its instances, for all of them and for one.
    known_metrics.update(prom.api("label/__name__/values"))
    dashboard = dashboard_check.load()
    dashboard_queries(prom, dashboard, {"job": [PROBE_JOB], "instance": sorted(names)}, "all probed appliances")
    panel = {p["title"]: p for p in dashboard_check.panels(dashboard)}
    variables = {v["name"]: v for v, _, _ in dashboard_check.variable_queries(dashboard)}
    one = {**GRAFANA_BUILTINS, "job": dashboard_check.interpolate(variables["job"], [PROBE_JOB]),
           "instance": dashboard_check.interpolate(variables["instance"], [restoring])}
    restore = prom.query(dashboard_check.substitute(panel["Restore state"]["targets"][0]["expr"], one))
    check(f"dashboard Restore state for {restoring} alone: one row, INPROGRESS (1)",
          [(r["metric"].get("instance"), float(r["value"][1])) for r in restore] == [(restoring, 1.0)], str(restore))
    version = prom.query(dashboard_check.substitute(panel["Exporter version"]["targets"][0]["expr"], one))
    check(f"dashboard Exporter version for {restoring} alone: the probing exporter's build info",
          [r["metric"].get("instance") for r in version] == [exporter], str(version))

    # A file_sd target the exporter does not list: 400, up 0, VcsaExporterDown pending for it alone.
    ghost = "vc-ghost"
    (targets_dir / "ghost.tmp").write_text(json.dumps([{"targets": [ghost]}]))
    (targets_dir / "ghost.tmp").rename(targets_dir / "ghost.yml")  # whole, as file_sd reads it
    refused = wait_until(f"{ghost} up 0", lambda: by_instance(f'up{{job="{PROBE_JOB}", instance="{ghost}"}}') == {ghost: 0.0}, 20)
    check(f"a file_sd target missing from the exporter's config ({ghost}) is up 0", refused,
          str([t for t in prom.api("targets")["activeTargets"] if t["labels"].get("instance") == ghost]))
    pending = wait_until("VcsaExporterDown pending", lambda: prom.alerts("VcsaExporterDown", "pending"), 5) or []
    check(f"VcsaExporterDown pending for {ghost} alone (for: 5m)",
          [(a["labels"].get("job"), a["labels"].get("instance")) for a in pending] == [(PROBE_JOB, ghost)],
          f"pending: {[a['labels'] for a in pending]}")

    # An appliance added to the exporter's config but not to the targets: VcsaTargetsNotProbed.
    config["targets"]["vc-spare"] = {"url": "http://127.0.0.1:9"}  # never probed, so never called
    config_path.write_text(json.dumps(config, indent=2))
    processes["exporter"][0].send_signal(signal.SIGHUP)
    reloaded = wait_until("4 targets", lambda: by_instance(f'vcsa_exporter_probe_targets{{job="{JOB}"}}') == {exporter: 4.0}
                          and by_instance("vcsa_exporter_config_last_reload_successful") == {exporter: 1.0}, 10)
    check("SIGHUP reloads the exporter's config: vcsa_exporter_probe_targets 4", reloaded, str(prom.query("vcsa_exporter_probe_targets")))
    unprobed = wait_until("VcsaTargetsNotProbed pending", lambda: prom.alerts("VcsaTargetsNotProbed", "pending"), 10) or []
    check("VcsaTargetsNotProbed pending for the exporter, value 1 (for: 15m)",
          [(a["labels"].get("instance"), float(a["value"])) for a in unprobed] == [(exporter, 1.0)], f"pending: {unprobed}")
    stats = {name: sim.stats() for name, sim in appliance.items()}
    check("the reload kept every session (one login per appliance, none logged out)",
          all(s["active_sessions"] == 1 and s["logins"] == 1 and s["logouts"] == 0 for s in stats.values()), str(stats))

    # On SIGTERM the exporter logs out of every appliance.
    stop_all(["exporter"])
    check("the exporter exits 0 on SIGTERM", finished["exporter"][0].returncode == 0, f"exit code {finished['exporter'][0].returncode}")
    stats = {name: sim.stats() for name, sim in appliance.items()}
    check("after the exporter's exit no appliance holds a session", all(s["active_sessions"] == 0 and s["logouts"] == 1
                                                                       for s in stats.values()), str(stats))


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
