#!/usr/bin/env python3
"""`make scale`: one exporter, many appliances (issue 12, "Scale, measured").

Starts, on 127.0.0.1 only, one vcsa_simulator serving SCALE_TARGETS appliances (consecutive
ports, `--appliances`) and one vcsa_exporter whose --config.file lists them all as targets.
Then, every SCALE_INTERVAL seconds for SCALE_DURATION seconds, probes every target at once
(as a Prometheus with one probe job and that many targets would at worst), and reports:
the exporter's RSS / anonymous memory / PSS and open descriptors before the first probe and
after the last, the sessions the appliances hold (from their stats: one per target expected),
logins (one per target expected), and probe latency p50/p99/max. The cost per target is the
growth from the idle exporter to the one holding every target's client and session, read one
interval after the last round (as a Prometheus on that interval leaves it); the peak is read right
after each round, while what the burst of probes used is still mapped.

Environment: BIN_DIR (vcsa_exporter, vcsa_simulator; default .build-bench/shipped),
SCALE_TARGETS (200), SCALE_DURATION (180 s), SCALE_INTERVAL (15 s),
BENCH_RESULTS_DIR (bench/results). Exits 1 if a probe fails or the sessions are not one per target.
"""
import concurrent.futures
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN_DIR = os.path.join(ROOT, os.environ.get("BIN_DIR", ".build-bench/shipped"))
TARGETS = int(os.environ.get("SCALE_TARGETS", "200"))
DURATION = float(os.environ.get("SCALE_DURATION", "180"))
INTERVAL = float(os.environ.get("SCALE_INTERVAL", "15"))
RESULTS_DIR = os.environ.get("BENCH_RESULTS_DIR", os.path.join(HERE, "results"))
PASSWORD = "scale-password"


def log(message):
    print(f"scale: {message}", file=sys.stderr, flush=True)


def free_port_range(count):
    """A base port below the ephemeral range with `count` consecutive free ports."""
    for base in range(20000, 30000 - count, count + 7):
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                sockets.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise SystemExit("scale: no free port range")


def memory(pid):
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if parts[0] in ("Rss:", "Pss:", "Anonymous:"):
                values[parts[0][:-1].lower()] = round(int(parts[1]) / 1024, 2)
    return {"rss_mib": values["rss"], "anon_mib": values["anonymous"], "pss_mib": values["pss"],
            "fds": len(os.listdir(f"/proc/{pid}/fd")),
            "threads": len(os.listdir(f"/proc/{pid}/task"))}


def wait_http(url, process, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"scale: {url}: the process exited ({process.returncode})")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"scale: {url} did not answer within {seconds}s")


def probe(port, name):
    """One probe on its own connection, as Prometheus' per-target scrape loop has: (seconds, status, up)."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", f"/probe?target={name}", headers={"X-Prometheus-Scrape-Timeout-Seconds": "10"})
        response = connection.getresponse()
        body = response.read().decode()
        up = next((line.split()[1] for line in body.splitlines() if line.startswith("vcsa_up ")), None)
        return time.monotonic() - started, response.status, up
    except OSError as error:
        return time.monotonic() - started, str(error), None
    finally:
        connection.close()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    for binary in ("vcsa_exporter", "vcsa_simulator"):
        if not os.access(os.path.join(BIN_DIR, binary), os.X_OK):
            raise SystemExit(f"scale: no {BIN_DIR}/{binary}: build it first (make scale does) or set BIN_DIR")
    tmp = tempfile.mkdtemp(prefix="vcsa-scale-")
    processes = []
    try:
        password_file = os.path.join(tmp, "password")
        with open(password_file, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(password_file, 0o600)
        base = free_port_range(TARGETS)
        simulator = subprocess.Popen(
            [os.path.join(BIN_DIR, "vcsa_simulator"), "--listen-address", f"127.0.0.1:{base}", "--appliances", str(TARGETS),
             "--scenario", "running", "--backup-scenario", "nightly", "--password-file", password_file],
            stdout=open(os.path.join(tmp, "simulator.log"), "w"), stderr=subprocess.STDOUT)
        processes.append(simulator)
        for port in (base, base + TARGETS - 1):
            wait_http(f"http://127.0.0.1:{port}/simulator/stats", simulator)
        names = [f"vc{index:04d}" for index in range(1, TARGETS + 1)]
        config = os.path.join(tmp, "vcsa_exporter.yml")
        with open(config, "w") as f:
            f.write(f"modules:\n  default:\n    username: administrator@vsphere.local\n    password_file: {password_file}\n    timeout: 10s\n")
            f.write("targets:\n")
            for index, name in enumerate(names):
                f.write(f"  {name}:\n    url: http://127.0.0.1:{base + index}\n")
        exporter_port = free_port_range(1)  # the appliances hold theirs by now
        exporter = subprocess.Popen(
            [os.path.join(BIN_DIR, "vcsa_exporter"), "--web.listen-address", f"127.0.0.1:{exporter_port}", "--config.file", config,
             # Every probe arrives at once from one address: room for all of them.
             "--web.max-requests", str(TARGETS + 16), "--web.max-connections-per-ip", str(TARGETS + 16)],
            stdout=open(os.path.join(tmp, "exporter.log"), "w"), stderr=subprocess.STDOUT)
        processes.append(exporter)
        wait_http(f"http://127.0.0.1:{exporter_port}/-/healthy", exporter)
        time.sleep(1)
        idle = memory(exporter.pid)
        log(f"{TARGETS} appliances on 127.0.0.1:{base}-{base + TARGETS - 1}; exporter on :{exporter_port}, idle {idle}")

        latencies, failures, rounds = [], [], 0
        round_wall = []
        peak = dict(idle)
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=TARGETS) as pool:
            while True:
                round_start = time.monotonic()
                results = list(pool.map(lambda name: probe(exporter_port, name), names))
                round_wall.append(time.monotonic() - round_start)
                rounds += 1
                for name, (seconds, status, up) in zip(names, results):
                    latencies.append(seconds)
                    if status != 200 or up != "1":
                        failures.append(f"{name}: status {status}, vcsa_up {up}")
                now = memory(exporter.pid)
                peak = {key: max(peak[key], now[key]) for key in peak}
                log(f"round {rounds}: {len(results)} probes in {round_wall[-1]:.2f}s, p99 {percentile([r[0] for r in results], 0.99) * 1000:.1f} ms, "
                    f"rss {now['rss_mib']} MiB, fds {now['fds']}")
                if time.monotonic() - started + INTERVAL > DURATION:
                    break
                time.sleep(max(0, INTERVAL - (time.monotonic() - round_start)))
        # What the exporter holds between rounds, as a Prometheus on that interval leaves it.
        time.sleep(INTERVAL)
        after = memory(exporter.pid)

        totals = {}
        for port in range(base, base + TARGETS):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/simulator/stats", timeout=5) as response:
                for key, value in json.load(response).items():
                    totals[key] = totals.get(key, 0) + value
        with urllib.request.urlopen(f"http://127.0.0.1:{exporter_port}/metrics", timeout=5) as response:
            own = {line.split()[0]: float(line.split()[1]) for line in response.read().decode().splitlines()
                   if line and not line.startswith("#")}

        result = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "targets": TARGETS, "rounds": rounds, "interval_s": INTERVAL, "probes": len(latencies),
            "failed_probes": len(failures),
            "exporter_idle": idle, "exporter_after": after, "exporter_peak": peak,
            "cost_per_target": {
                "rss_kib": round((after["rss_mib"] - idle["rss_mib"]) * 1024 / TARGETS, 1),
                "anon_kib": round((after["anon_mib"] - idle["anon_mib"]) * 1024 / TARGETS, 1),
                "fds": round((after["fds"] - idle["fds"]) / TARGETS, 2),
            },
            "sessions_held": totals.get("active_sessions"), "logins": totals.get("logins"),
            "failed_logins": totals.get("failed_logins"), "reconciliation_gets": totals.get("reconciliation_gets"),
            "probe_targets_active": own.get("vcsa_exporter_probe_targets_active"),
            "latency_ms": {"p50": round(percentile(latencies, 0.5) * 1000, 2), "p99": round(percentile(latencies, 0.99) * 1000, 2),
                           "max": round(max(latencies) * 1000, 2), "mean": round(statistics.mean(latencies) * 1000, 2)},
            "round_wall_s": {"median": round(statistics.median(round_wall), 3), "max": round(max(round_wall), 3)},
            "exporter_version": subprocess.run([os.path.join(BIN_DIR, "vcsa_exporter"), "--version"], capture_output=True, text=True).stdout.strip(),
            "cpus": os.cpu_count(),
        }
        os.makedirs(RESULTS_DIR, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        for name in (f"scale-{stamp}.json", "scale-latest.json"):
            with open(os.path.join(RESULTS_DIR, name), "w") as f:
                json.dump(result, f, indent=2)
                f.write("\n")

        print(f"""
vcsa_exporter with {TARGETS} targets, all probed at once every {INTERVAL:g}s, {rounds} rounds ({len(latencies)} probes, {len(failures)} failed)
  exporter           idle (config loaded)   every target active   cost per target   right after a round (peak)
  RSS                {idle['rss_mib']:>8} MiB           {after['rss_mib']:>8} MiB        {result['cost_per_target']['rss_kib']:>7} KiB       {peak['rss_mib']:>8} MiB
  anonymous          {idle['anon_mib']:>8} MiB           {after['anon_mib']:>8} MiB        {result['cost_per_target']['anon_kib']:>7} KiB       {peak['anon_mib']:>8} MiB
  PSS                {idle['pss_mib']:>8} MiB           {after['pss_mib']:>8} MiB                          {peak['pss_mib']:>8} MiB
  open fds           {idle['fds']:>8}               {after['fds']:>8}            {result['cost_per_target']['fds']:>7}           {peak['fds']:>8}
  threads            {idle['threads']:>8}               {after['threads']:>8}                              {peak['threads']:>8}
  sessions held (appliances' stats): {result['sessions_held']} (logins {result['logins']}, failed {result['failed_logins']})
  probe latency: p50 {result['latency_ms']['p50']} ms, p99 {result['latency_ms']['p99']} ms, max {result['latency_ms']['max']} ms
  a round of {TARGETS} probes took {result['round_wall_s']['median']} s (median), {result['round_wall_s']['max']} s at most
  written to {RESULTS_DIR}/scale-latest.json""")
        problems = failures[:5]
        if result["sessions_held"] != TARGETS:
            problems.append(f"sessions held {result['sessions_held']}, expected exactly {TARGETS}")
        if result["logins"] != TARGETS:
            problems.append(f"logins {result['logins']}, expected exactly {TARGETS} (one per target)")
        if problems:
            print("scale: FAIL:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        return 0
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if os.environ.get("SCALE_KEEP_TMP") == "1":
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
