#!/usr/bin/env python3
"""Turn the raw numbers of one bench/run.sh run into a table and JSON (standard library only).

Usage: report.py RAW_DIR RESULTS_DIR

Reads the files run.sh left in RAW_DIR (wrk_*.json, proc_*.json[l], upstream_*.json,
startup.json, sim_stats_*.json, session.json, smaps_end.json, contender_*.json[l], meta.json),
prints the tables with each target of issue 5 and PASS/MISS, the contenders' memory and a
comparison with the previous RESULTS_DIR/latest.json, and writes
RESULTS_DIR/bench-<UTC timestamp>.json and latest.json.
"""
import datetime
import json
import os
import re
import statistics
import subprocess
import sys

SCRAPE_LOADS = ("c1", "c8", "c64")
CONTENDERS = ("vcsa_exporter", "node_exporter", "blackbox_exporter", "python_exporter")
CONTENDER_WHAT = {
    "vcsa_exporter": "/metrics (4 HTTPS calls to nginx a scrape, keep-alive)",
    "node_exporter": "/metrics (default collectors, no upstream)",
    "blackbox_exporter": "/probe?module=http_2xx (1 HTTPS call to nginx, new TLS connection)",
    "python_exporter": "/metrics (1 HTTPS call to nginx, new TLS connection)",
}
# Results written before the run JSON named its collectors had these two (and a dynamically linked build).
OLD_COLLECTORS = ["reconciliation", "restore"]
MIB = 1024 * 1024

# Issue 5 targets. "Well below 1" upstream call per scrape is read as at most 0.5.
ADDED_P50_MAX_MS = 0.3
ADDED_P99_MAX_MS = 2.0
CEILING_RATIO_MIN = 0.5
UPSTREAM_PER_SCRAPE_MAX = 0.5
RSS_MAX_MIB = 20.0
STARTUP_MAX_MS = 100.0


def load(raw, name, default=None):
    path = os.path.join(raw, name)
    if not os.path.exists(path):
        return default
    with open(path) as f:
        return json.load(f)


def load_lines(raw, name):
    path = os.path.join(raw, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def wrk_summary(run):
    """Throughput and latency of one wrk run, in req/s and milliseconds."""
    w = run["wrk"]
    seconds = w["duration_us"] / 1e6
    errors = w["errors"]
    socket_errors = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
    lat = w["latency_us"]
    return {
        "connections": run["connections"],
        "threads": run["threads"],
        "duration_s": round(seconds, 3),
        "requests": w["requests"],
        "rps": round(w["requests"] / seconds, 1),
        "ok_rps": round((w["requests"] - errors["status"]) / seconds, 1),
        "non_2xx": errors["status"],
        "socket_errors": socket_errors,
        "p50_ms": lat["p50"] / 1000.0,
        "p90_ms": lat["p90"] / 1000.0,
        "p99_ms": lat["p99"] / 1000.0,
        "p999_ms": lat["p999"] / 1000.0,
        "max_ms": lat["max"] / 1000.0,
        "mean_ms": round(lat["mean"] / 1000.0, 4),
    }


def metric_values(text, name):
    """Values of one metric family in exposition text, keyed by the label string."""
    out = {}
    for m in re.finditer(r"^%s(\{[^}]*\})? (\S+)$" % re.escape(name), text, re.M):
        out[m.group(1) or ""] = float(m.group(2))
    return out


def process_numbers(raw, name, requests):
    before = load(raw, f"proc_{name}_before.json")
    after = load(raw, f"proc_{name}_after.json")
    samples = load_lines(raw, f"proc_{name}_samples.jsonl")
    if not before or not after:
        return None
    snaps = [before, after] + samples
    cpu_s = (after["cpu_ticks"] - before["cpu_ticks"]) / after["clk_tck"]
    return {
        "rss_max_mib": round(max(s["vmrss_kib"] for s in snaps) / 1024.0, 2),
        "rss_after_mib": round(after["vmrss_kib"] / 1024.0, 2),
        "rss_anon_max_mib": round(max(s.get("rssanon_kib", 0) for s in snaps) / 1024.0, 2),
        "rss_anon_after_mib": round(after.get("rssanon_kib", 0) / 1024.0, 2),
        "pss_max_mib": round(max(s.get("pss_kib", 0) for s in snaps) / 1024.0, 2),
        "pss_after_mib": round(after.get("pss_kib", 0) / 1024.0, 2),
        "threads_max": max(s["threads"] for s in snaps),
        "fds_max": max(s["fds"] for s in snaps),
        "cpu_seconds": round(cpu_s, 3),
        "cpu_seconds_per_1000_scrapes": round(cpu_s / requests * 1000.0, 4) if requests else None,
        "samples": len(samples),
    }


def cpu_others(raw, name):
    """How busy the CPUs were during one load: all of the machine, the bench's own processes, and
    other processes (percent of the whole machine, all CPUs)."""
    before, after = load(raw, f"cpu_{name}_before.json"), load(raw, f"cpu_{name}_after.json")
    if not before or not after:
        return None
    total = max(after["total_ticks"] - before["total_ticks"], 1)
    busy = after["busy_ticks"] - before["busy_ticks"]
    ours = after["ours_ticks"] - before["ours_ticks"]
    return {"machine_busy_percent": round(100.0 * busy / total, 1),
            "bench_percent": round(100.0 * ours / total, 1),
            "others_percent": round(max(0.0, 100.0 * (busy - ours) / total), 1)}


def scrape_loads(raw, wrk, names):
    scrapes = {}
    for name in names:
        if name not in wrk:
            continue
        s = dict(wrk[name])
        up = load(raw, f"upstream_{name}.json")
        if up:
            s["upstream_calls"] = up
            s["upstream_calls_per_1000_scrapes"] = round(up["all"] * 1000.0 / s["requests"], 2)
            s["reconciliation_gets_per_1000_scrapes"] = round(
                up["reconciliation_job_get"] * 1000.0 / s["requests"], 2)
            # A scrape round: reconciliation, restore, backup list and schedules (details only for
            # jobs not yet seen finished, so once): at 1 connection ~4000 calls per 1000 scrapes.
            s["rounds_per_1000_scrapes"] = s["reconciliation_gets_per_1000_scrapes"]
        s["process"] = process_numbers(raw, name, s["requests"])
        path = os.path.join(raw, f"scrape_after_{name}.txt")
        if os.path.exists(path):
            with open(path) as f:
                text = f.read()
            s["vcsa_up_after"] = metric_values(text, "vcsa_up").get("")
            errs = metric_values(text, "vcsa_api_request_errors_total")
            s["exporter_api_errors_total_after"] = sum(errs.values()) if errs else None
        scrapes[name.replace("two_", "")] = s
    return scrapes


def collect(raw):
    meta = load(raw, "meta.json", {})
    r = {"meta": meta}

    wrk = {}
    for f in sorted(os.listdir(raw)):
        if f.startswith("wrk_") and f.endswith(".json"):
            run = load(raw, f)
            wrk[run["name"]] = wrk_summary(run)
            others = cpu_others(raw, run["name"])
            if others:
                wrk[run["name"]]["cpu"] = others
    r["upstream_direct"] = {k: wrk[k] for k in ("upstream_job", "upstream_restore") if k in wrk}
    r["scrapes"] = scrape_loads(raw, wrk, SCRAPE_LOADS)
    two = scrape_loads(raw, wrk, [f"two_{n}" for n in SCRAPE_LOADS])
    if two:
        r["scrapes_two_collectors"] = two
    scrapes = r["scrapes"]
    job = r["upstream_direct"].get("upstream_job")
    restore = r["upstream_direct"].get("upstream_restore")
    c1 = scrapes.get("c1")
    if job and c1:
        r["added_latency"] = {
            "p50_ms": round(c1["p50_ms"] - job["p50_ms"], 3),
            "p99_ms": round(c1["p99_ms"] - job["p99_ms"], 3),
            "basis": "scrape at 1 connection minus GET reconciliation job directly at 1 connection",
        }
        if restore:
            # A scrape makes both calls; if it makes them one after the other, this is the overhead.
            r["added_latency"]["p50_ms_over_both_calls"] = round(
                c1["p50_ms"] - job["p50_ms"] - restore["p50_ms"], 3)

    idle = load(raw, "proc_idle.json")
    loaded = [s["process"] for s in scrapes.values() if s.get("process")]
    end = load(raw, "proc_end.json")
    if idle:
        r["process"] = {
            "rss_idle_mib": round(idle["vmrss_kib"] / 1024.0, 2),
            # VmRSS = RssAnon (heap, stacks) + RssFile (touched pages of the binary and libraries).
            "rss_idle_anon_mib": round(idle.get("rssanon_kib", 0) / 1024.0, 2),
            "rss_idle_file_mib": round(idle.get("rssfile_kib", 0) / 1024.0, 2),
            "rss_under_load_anon_max_mib": max((p["rss_anon_max_mib"] for p in loaded), default=None),
            "pss_idle_mib": round(idle.get("pss_kib", 0) / 1024.0, 2),
            "pss_under_load_max_mib": max((p["pss_max_mib"] for p in loaded), default=None),
            "threads_idle": idle["threads"],
            "fds_idle": idle["fds"],
            "rss_under_load_max_mib": max((p["rss_max_mib"] for p in loaded), default=None),
            "rss_peak_hwm_mib": round(end["vmhwm_kib"] / 1024.0, 2) if end else None,
            "threads_under_load_max": max((p["threads_max"] for p in loaded), default=None),
            "fds_under_load_max": max((p["fds_max"] for p in loaded), default=None),
        }

    if "bare_c64" in wrk:
        r["bare_mhd"] = wrk["bare_c64"]
        if "c64" in scrapes:
            r["ceiling_ratio"] = round(scrapes["c64"]["ok_rps"] / wrk["bare_c64"]["rps"], 3)
        two_c64 = r.get("scrapes_two_collectors", {}).get("c64")
        if two_c64:
            r["ceiling_ratio_two_collectors"] = round(two_c64["ok_rps"] / wrk["bare_c64"]["rps"], 3)

    startup = load(raw, "startup.json")
    if startup:
        ok = [x["ms"] for x in startup["runs"] if x["ms"] is not None]
        r["startup"] = {
            "runs_ms": [round(x, 1) if x is not None else None for x in (y["ms"] for y in startup["runs"])],
            "errors": [x["error"] for x in startup["runs"] if x["error"]],
            "median_ms": round(statistics.median(ok), 1) if ok else None,
        }

    session = load(raw, "session.json")
    if session:
        r["session"] = session

    stats = load(raw, "sim_stats_load.json")
    if stats and "sim_c64" in wrk:
        sim = dict(wrk["sim_c64"])
        n = sim["requests"]
        sim["stats_during_load"] = stats
        sim["reconciliation_gets_per_1000_scrapes"] = round(stats["reconciliation_gets"] * 1000.0 / n, 2)
        calls = (stats["logins"] + stats["reconciliation_gets"] + stats["restore_gets"]
                 + stats.get("backup_list_gets", 0) + stats.get("backup_details_gets", 0)
                 + stats.get("backup_schedule_gets", 0))
        sim["upstream_calls_per_1000_scrapes"] = round(calls * 1000.0 / n, 2)
        sim["stats_after_shutdown"] = load(raw, "sim_stats_end.json")
        r["simulator"] = sim

    smaps = load(raw, "smaps_end.json")
    if smaps:
        r["memory_breakdown_after_loads"] = breakdown(smaps, meta)
        secs = load(raw, "sections_end.json")
        if secs:
            r["memory_breakdown_after_loads"]["binary_sections"] = sections_summary(secs)

    contenders = {}
    for name in CONTENDERS:
        c = contender_numbers(raw, name, wrk.get(f"contender_{name}"), meta)
        if c:
            contenders[name] = c
    if contenders:
        r["contenders"] = {"meta": load(raw, "contenders_meta.json", {}), "results": contenders}
    return r


def mib(kib):
    return None if kib is None else round(kib / 1024.0, 2)


def breakdown(smaps, meta):
    """The resident set by what it is: the largest mapped files, and the anonymous memory."""
    exporter = os.path.realpath(os.path.join(meta.get("bin_dir", ""), "vcsa_exporter"))
    files = []
    for f in smaps["files"]:
        name = "vcsa_exporter (the binary)" if os.path.realpath(f["name"]) == exporter else f["name"]
        files.append({"name": name, "rss_mib": mib(f["rss_kib"]), "pss_mib": mib(f["pss_kib"]),
                      "anon_mib": mib(f["anon_kib"]),
                      "code_mib": mib(f["by_perms"].get("r-xp", 0)),
                      "readonly_mib": mib(f["by_perms"].get("r--p", 0)),
                      "data_mib": mib(f["by_perms"].get("rw-p", 0))})
    anon = smaps["anon"]
    return {
        "total_rss_mib": mib(smaps["total"]["rss_kib"]),
        "total_pss_mib": mib(smaps["total"]["pss_kib"]),
        "file_backed_rss_mib": mib(smaps["total"]["file_backed_rss_kib"]),
        "anon_mib": mib(smaps["total"]["anon_kib"]),
        "files": files,
        # Unnamed anonymous mappings: glibc's arenas (64 MiB reservations), thread stacks (8 MiB),
        # the Swift runtime's and BoringSSL's mmaps; [heap] is the brk heap of the main arena.
        "anon_mappings": [{"name": a["name"], "perms": a["perms"], "size_mib": mib(a["size_kib"]),
                           "rss_mib": mib(a["rss_kib"])} for a in anon if a["rss_kib"] >= 64],
        "anon_mappings_small_rss_mib": mib(sum(a["rss_kib"] for a in anon if a["rss_kib"] < 64)),
    }


def sections_summary(secs):
    """The binary's resident KiB per ELF section, largest first (small sections summed)."""
    big = sorted((s for s in secs if s["resident_kib"] >= 64), key=lambda s: -s["resident_kib"])
    small = [s for s in secs if s["resident_kib"] < 64]
    out = [{"section": s["section"], "size_mib": mib(s["size_kib"]), "resident_mib": mib(s["resident_kib"])} for s in big]
    if small:
        out.append({"section": f"{len(small)} smaller sections", "size_mib": mib(sum(s["size_kib"] for s in small)),
                    "resident_mib": mib(sum(s["resident_kib"] for s in small))})
    return out


def contender_numbers(raw, name, run, meta):
    idle = load(raw, f"contender_{name}_idle.json")
    after = load(raw, f"contender_{name}_after.json")
    if not idle or not after or not run:
        return None
    samples = load_lines(raw, f"contender_{name}_samples.jsonl")
    snaps = [after] + samples
    requests = run["requests"]
    cpu_s = (after["cpu_ticks"] - idle["cpu_ticks"]) / after["clk_tck"]
    up = load(raw, f"contender_{name}_upstream.json", {})
    c = {
        "scraped": CONTENDER_WHAT[name],
        "scrapes": requests,
        "rps": run["rps"],
        "p50_ms": run["p50_ms"],
        "p99_ms": run["p99_ms"],
        "non_2xx": run["non_2xx"],
        "socket_errors": run["socket_errors"],
        "idle": {"rss_mib": mib(idle["vmrss_kib"]), "anon_mib": mib(idle.get("rssanon_kib")),
                 "pss_mib": mib(idle.get("pss_kib")), "threads": idle["threads"]},
        "after": {"rss_mib": mib(after["vmrss_kib"]), "anon_mib": mib(after.get("rssanon_kib")),
                  "file_mib": mib(after.get("rssfile_kib")), "pss_mib": mib(after.get("pss_kib")),
                  "pss_anon_mib": mib(after.get("pss_anon_kib")), "pss_file_mib": mib(after.get("pss_file_kib")),
                  "threads": after["threads"], "fds": after["fds"]},
        "rss_max_mib": mib(max(s["vmrss_kib"] for s in snaps)),
        "anon_max_mib": mib(max(s.get("rssanon_kib", 0) for s in snaps)),
        "rss_hwm_mib": mib(after.get("vmhwm_kib")),
        "cpu_seconds_per_1000_scrapes": round(cpu_s / requests * 1000.0, 4) if requests else None,
        "upstream_calls_per_scrape": round(up["upstream_calls"] / requests, 3) if up and requests else None,
        "cpu_during": run.get("cpu"),
    }
    settled = load(raw, f"contender_{name}_settled.json")
    if settled:
        c["settled"] = {"rss_mib": mib(settled["vmrss_kib"]), "anon_mib": mib(settled.get("rssanon_kib")),
                        "file_mib": mib(settled.get("rssfile_kib")), "pss_mib": mib(settled.get("pss_kib")),
                        "threads": settled["threads"],
                        "after_s": round(settled["t"] - after["t"], 1)}
    secs = load(raw, f"contender_{name}_sections.json")
    if secs:
        c["binary_sections"] = sections_summary(secs)
    for key, file in (("memory_breakdown", f"contender_{name}_smaps.json"),
                      ("memory_breakdown_settled", f"contender_{name}_settled_smaps.json")):
        smaps = load(raw, file)
        if smaps:
            c[key] = breakdown(smaps, meta) if name == "vcsa_exporter" else {
                "file_backed_rss_mib": mib(smaps["total"]["file_backed_rss_kib"]),
                "anon_mib": mib(smaps["total"]["anon_kib"]),
                "files": [{"name": f["name"], "rss_mib": mib(f["rss_kib"]), "pss_mib": mib(f["pss_kib"])}
                          for f in smaps["files"][:8]],
            }
    return c


def previous_summary(prev):
    """What a comparison with an earlier run needs, and what that run measured."""
    if not prev:
        return None
    meta = prev.get("meta", {})
    build = meta.get("exporter_build")
    out = {
        "timestamp": prev.get("timestamp"),
        "collectors": meta.get("collectors", OLD_COLLECTORS),
        "build": ("static Swift runtime" if build and build.get("static_swift_stdlib") else
                  "Swift runtime linked dynamically") + (", stripped" if build and build.get("stripped") else ""),
        "exporter_version": meta.get("exporter_version"),
        "bin_dir": meta.get("bin_dir"),
        "scrapes": {},
    }
    for name, s in prev.get("scrapes", {}).items():
        pr = s.get("process") or {}
        out["scrapes"][name] = {k: v for k, v in {
            "connections": s.get("connections"), "rps": s.get("rps"), "p50_ms": s.get("p50_ms"),
            "p99_ms": s.get("p99_ms"), "upstream_calls_per_1000_scrapes": s.get("upstream_calls_per_1000_scrapes"),
            "rounds_per_1000_scrapes": s.get("reconciliation_gets_per_1000_scrapes"),
            "rss_max_mib": pr.get("rss_max_mib"), "rss_anon_max_mib": pr.get("rss_anon_max_mib"),
            "threads_max": pr.get("threads_max"), "cpu_seconds_per_1000_scrapes": pr.get("cpu_seconds_per_1000_scrapes"),
        }.items() if v is not None}
    for key in ("added_latency", "ceiling_ratio"):
        if key in prev:
            out[key] = prev[key]
    if "startup" in prev:
        out["startup_median_ms"] = prev["startup"].get("median_ms")
    return out


def targets(r):
    t = []

    def add(name, value, limit, unit, ok):
        t.append({"target": name, "value": value, "limit": limit, "unit": unit,
                  "result": "n/a" if value is None else ("PASS" if ok else "MISS")})

    added = r.get("added_latency", {})
    v = added.get("p50_ms")
    add("added latency p50", v, f"<= {ADDED_P50_MAX_MS}", "ms", v is not None and v <= ADDED_P50_MAX_MS)
    v = added.get("p99_ms")
    add("added latency p99", v, f"<= {ADDED_P99_MAX_MS}", "ms", v is not None and v <= ADDED_P99_MAX_MS)
    v = r.get("ceiling_ratio")
    add("64 conns: throughput / bare libmicrohttpd", v, f">= {CEILING_RATIO_MIN}", "ratio",
        v is not None and v >= CEILING_RATIO_MIN)
    c64 = r.get("scrapes", {}).get("c64", {})
    v = c64.get("upstream_calls_per_1000_scrapes")
    v = None if v is None else round(v / 1000.0, 4)
    add("64 conns: upstream calls per scrape (nginx)", v, f"<= {UPSTREAM_PER_SCRAPE_MAX}", "calls",
        v is not None and v <= UPSTREAM_PER_SCRAPE_MAX)
    sim = r.get("simulator", {})
    v = sim.get("upstream_calls_per_1000_scrapes")
    v = None if v is None else round(v / 1000.0, 4)
    add("64 conns: upstream calls per scrape (simulator)", v, f"<= {UPSTREAM_PER_SCRAPE_MAX}", "calls",
        v is not None and v <= UPSTREAM_PER_SCRAPE_MAX)
    mine = r.get("contenders", {}).get("results", {}).get("vcsa_exporter")
    v = mine["after"]["rss_mib"] if mine else None
    n = mine["scrapes"] if mine else "N"
    add(f"resident memory after {n} scrapes (fresh process)", v, f"<= {RSS_MAX_MIB}", "MiB",
        v is not None and v <= RSS_MAX_MIB)
    v = (mine.get("settled") or {}).get("rss_mib") if mine else None
    add(f"resident memory {n} scrapes later, settled", v, f"<= {RSS_MAX_MIB}", "MiB",
        v is not None and v <= RSS_MAX_MIB)
    v = r.get("process", {}).get("rss_under_load_max_mib")
    add("resident memory under load (highest, 1-64 scrapers)", v, f"<= {RSS_MAX_MIB}", "MiB",
        v is not None and v <= RSS_MAX_MIB)
    v = r.get("startup", {}).get("median_ms")
    add("start-up to first scrape (median)", v, f"<= {STARTUP_MAX_MS}", "ms",
        v is not None and v <= STARTUP_MAX_MS)
    # Sanity checks: a fast wrong answer is not a result.
    bad = sum(s["non_2xx"] + s["socket_errors"] for s in r.get("scrapes", {}).values())
    bad += sim.get("non_2xx", 0) + sim.get("socket_errors", 0)
    bad += sum(c["non_2xx"] + c["socket_errors"] for c in r.get("contenders", {}).get("results", {}).values())
    add("scrapes answered non-2xx or socket errors", bad, "== 0", "count", bad == 0)
    ups = [s.get("vcsa_up_after") for s in r.get("scrapes", {}).values()]
    add("vcsa_up after each load", min(ups) if ups and None not in ups else None, "== 1", "",
        bool(ups) and None not in ups and min(ups) == 1)
    return t


OTHERS_WARN_PERCENT = 10.0


def all_loads(r):
    """Every wrk load of a run, for the busy-machine check."""
    loads = list(r.get("scrapes", {}).values()) + list(r.get("scrapes_two_collectors", {}).values())
    loads += list(r.get("upstream_direct", {}).values())
    loads += [x for x in (r.get("bare_mhd"), r.get("simulator")) if x]
    loads += [{"cpu": c.get("cpu_during")} for c in r.get("contenders", {}).get("results", {}).values()]
    return loads


def fmt(v, digits=2):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def print_report(r, t, out=sys.stdout):
    p = lambda *a: print(*a, file=out)  # noqa: E731
    m = r.get("meta", {})
    p(f"\nvcsa_exporter bench  {r['timestamp']}  ({m.get('exporter_version', '?')}, "
      f"{m.get('cpus', '?')} CPUs, {m.get('duration_s', '?')} s per load, scrape {m.get('scrape_bytes', '?')} B)")
    b = m.get("exporter_build") or {}
    if b:
        p(f"binary: {'static Swift runtime' if b.get('static_swift_stdlib') else 'Swift runtime linked DYNAMICALLY (not the shipped build)'}, "
          f"{'stripped' if b.get('stripped') else 'not stripped'}, {b.get('bytes', 0) / 1e6:.1f} MB; "
          f"collectors: {', '.join(m.get('collectors', [])) or '?'}")
    if m.get("cpu_busy_percent_start", 0) > 20:
        p(f"WARNING: the CPUs were {m['cpu_busy_percent_start']}% busy before the bench: numbers are low")
    busy = [w["cpu"]["others_percent"] for w in all_loads(r) if w.get("cpu")]
    if busy and max(busy) > OTHERS_WARN_PERCENT:
        p(f"WARNING: other processes took up to {max(busy):.0f}% of the machine during a load (column 'others'): "
          "those numbers are low")

    def scrape_table(title, scrapes):
        p(f"\n{title}")
        p(f"  {'conns':>5} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'err':>5} {'upstream/1k':>12} {'rounds/1k':>9} "
          f"{'RSS MiB':>8} {'anon':>6} {'PSS':>6} {'threads':>7} {'fds':>5} {'CPU s/1k':>9} {'others':>7}")
        for name, s in scrapes.items():
            pr = s.get("process") or {}
            p(f"  {s['connections']:>5} {fmt(s['rps'], 0):>10} {fmt(s['p50_ms'], 3):>8} {fmt(s['p99_ms'], 3):>8} "
              f"{s['non_2xx'] + s['socket_errors']:>5} {fmt(s.get('upstream_calls_per_1000_scrapes'), 1):>12} "
              f"{fmt(s.get('rounds_per_1000_scrapes'), 1):>9} "
              f"{fmt(pr.get('rss_max_mib'), 1):>8} {fmt(pr.get('rss_anon_max_mib'), 1):>6} {fmt(pr.get('pss_max_mib'), 1):>6} "
              f"{fmt(pr.get('threads_max')):>7} {fmt(pr.get('fds_max')):>5} "
              f"{fmt(pr.get('cpu_seconds_per_1000_scrapes'), 3):>9} {fmt((s.get('cpu') or {}).get('others_percent'), 0):>6}%")

    scrape_table(f"Scrapes of the exporter (upstream: nginx over HTTPS; collectors {', '.join(m.get('collectors', [])) or '?'})",
                 r.get("scrapes", {}))
    if r.get("scrapes_two_collectors"):
        scrape_table("The same with --no-collector.backup (two collectors, as the results before the backup collector)",
                     r["scrapes_two_collectors"])
    p("  (RSS, anon and PSS: the highest of the samples during each load; others: CPU of other processes, % of the machine)")
    for name, s in r.get("upstream_direct", {}).items():
        p(f"  direct {name[len('upstream_'):]:<8} 1 conn: {fmt(s['rps'], 0)} req/s, "
          f"p50 {fmt(s['p50_ms'], 3)} ms, p99 {fmt(s['p99_ms'], 3)} ms")
    if "added_latency" in r:
        a = r["added_latency"]
        p(f"  added latency: p50 {fmt(a['p50_ms'], 3)} ms, p99 {fmt(a['p99_ms'], 3)} ms "
          f"(p50 over both calls {fmt(a.get('p50_ms_over_both_calls'), 3)} ms)")
    if "bare_mhd" in r:
        b = r["bare_mhd"]
        p(f"  bare libmicrohttpd 64 conns: {fmt(b['rps'], 0)} req/s, p50 {fmt(b['p50_ms'], 3)} ms, "
          f"p99 {fmt(b['p99_ms'], 3)} ms; exporter/bare = {fmt(r.get('ceiling_ratio'), 3)} "
          f"(two collectors: {fmt(r.get('ceiling_ratio_two_collectors'), 3)})")
    if "process" in r:
        q = r["process"]
        p(f"  process: idle RSS {fmt(q['rss_idle_mib'], 1)} MiB (anon {fmt(q['rss_idle_anon_mib'], 1)}, "
          f"file {fmt(q['rss_idle_file_mib'], 1)}), {q['threads_idle']} threads, {q['fds_idle']} fds; "
          f"under load max RSS {fmt(q['rss_under_load_max_mib'], 1)} MiB (anon {fmt(q['rss_under_load_anon_max_mib'], 1)}, "
          f"VmHWM {fmt(q['rss_peak_hwm_mib'], 1)}), {fmt(q['threads_under_load_max'])} threads, "
          f"{fmt(q['fds_under_load_max'])} fds")
    prev = r.get("previous")
    if prev and prev.get("scrapes"):
        two = r.get("scrapes_two_collectors", {})
        p(f"\nPrevious results ({prev['timestamp']}: collectors {', '.join(prev['collectors'])}; {prev['build']})"
          f" -> this run" + (" with the same collectors -> this run with all" if two else ""))
        for name, s in r.get("scrapes", {}).items():
            q = prev["scrapes"].get(name)
            if not q:
                continue
            w = two.get(name)

            def cell(key, digits, unit=""):
                parts = [fmt(q.get(key), digits)]
                if w:
                    parts.append(fmt(w.get(key) if key in w else (w.get("process") or {}).get(key), digits))
                parts.append(fmt(s.get(key) if key in s else (s.get("process") or {}).get(key), digits))
                return " -> ".join(parts) + unit
            p(f"  {s['connections']:>5} conns: req/s {cell('rps', 0)}, p50 {cell('p50_ms', 3, ' ms')}, "
              f"p99 {cell('p99_ms', 3, ' ms')}, upstream/1k {cell('upstream_calls_per_1000_scrapes', 0)}, "
              f"RSS {cell('rss_max_mib', 1, ' MiB')}, CPU s/1k {cell('cpu_seconds_per_1000_scrapes', 3)}")
    if "startup" in r:
        s = r["startup"]
        p(f"  start-up to first vcsa_up 1: median {fmt(s['median_ms'], 1)} ms, runs {s['runs_ms']}"
          + (f", errors {s['errors']}" if s["errors"] else ""))
    if "session" in r:
        s = r["session"]
        p(f"  sessions: {s['logins']} login(s) and {s.get('connections', '?')} TLS connection(s) to nginx "
          f"by the exporter in the whole nginx pass, {s['deletes_on_shutdown']} DELETE /api/session on shutdown")
    if "simulator" in r:
        s = r["simulator"]
        st = s["stats_during_load"]
        p(f"\nSimulator pass (plain HTTP, 64 conns, {fmt(s['duration_s'], 1)} s): {fmt(s['rps'], 0)} req/s, "
          f"p50 {fmt(s['p50_ms'], 3)} ms, p99 {fmt(s['p99_ms'], 3)} ms, "
          f"{s['requests']} scrapes -> {st['reconciliation_gets']} reconciliation GETs, "
          f"{st['restore_gets']} restore GETs, {st.get('backup_list_gets', 0)} backup list, "
          f"{st.get('backup_schedule_gets', 0)} schedules and {st.get('backup_details_gets', 0)} details GETs, {st['logins']} logins "
          f"({fmt(s['upstream_calls_per_1000_scrapes'], 1)} upstream calls per 1000 scrapes)")
        end = s.get("stats_after_shutdown") or {}
        if end:
            p(f"  after exporter shutdown: logouts {end.get('logouts')}, active_sessions {end.get('active_sessions')}")
    mb = r.get("memory_breakdown_after_loads")
    if mb:
        p(f"\nWhat the resident set is made of after the loads ({fmt(mb['total_rss_mib'], 1)} MiB: "
          f"{fmt(mb['file_backed_rss_mib'], 1)} file-backed, {fmt(mb['anon_mib'], 1)} anonymous; PSS {fmt(mb['total_pss_mib'], 1)})")
        for f in mb["files"][:12]:
            p(f"  {f['rss_mib']:>6.2f} MiB (PSS {f['pss_mib']:>5.2f}; code {f['code_mib']:.2f}, read-only {f['readonly_mib']:.2f}, "
              f"data {f['data_mib']:.2f})  {f['name']}")
        for a in mb["anon_mappings"][:10]:
            p(f"  {a['rss_mib']:>6.2f} MiB  anonymous {a['name']} {a['perms']} (mapping of {fmt(a['size_mib'], 1)} MiB)")
        p(f"  {mb['anon_mappings_small_rss_mib']:>6.2f} MiB  other anonymous mappings (under 64 KiB resident each)")
        secs = mb.get("binary_sections")
        if secs:
            p("  the binary, per section (resident of size, MiB): " + ", ".join(
                f"{s['section']} {s['resident_mib']:.2f} of {s['size_mib']:.2f}" for s in secs))
    cs = r.get("contenders")
    if cs:
        cm = cs["meta"]
        p(f"\nContenders: memory after {cm.get('scrapes')} scrapes each, {cm.get('connections')} at a time "
          f"(RSS = anon + file; PSS shares the file pages among the processes that map them)")
        p(f"  {'':<18} {'scrapes':>7} {'req/s':>7} {'p50 ms':>7} {'idle RSS':>8} | {'RSS':>5} {'anon':>5} {'PSS':>5} "
          f"| {'settled RSS':>11} {'anon':>5} {'PSS':>5} | {'peak':>5} {'thr':>4} {'CPU s/1k':>8} {'up/scr':>6} {'others':>6}  scraped")
        for name, c in cs["results"].items():
            a = c["after"]
            st = c.get("settled") or {}
            p(f"  {name:<18} {c['scrapes']:>7} {fmt(c['rps'], 0):>7} {fmt(c['p50_ms'], 2):>7} {fmt(c['idle']['rss_mib'], 1):>8} | "
              f"{fmt(a['rss_mib'], 1):>5} {fmt(a['anon_mib'], 1):>5} {fmt(a['pss_mib'], 1):>5} | "
              f"{fmt(st.get('rss_mib'), 1):>11} {fmt(st.get('anon_mib'), 1):>5} {fmt(st.get('pss_mib'), 1):>5} | "
              f"{fmt(c['rss_max_mib'], 1):>5} {a['threads']:>4} {fmt(c['cpu_seconds_per_1000_scrapes'], 3):>8} "
              f"{fmt(c['upstream_calls_per_scrape'], 2):>6} {fmt((c.get('cpu_during') or {}).get('others_percent'), 0):>5}%  {c['scraped']}")
        p(f"  (RSS/anon/PSS right after the last scrape, and again after {cm.get('settle_s', '?')} s of rest: 'settled')")
        mine = cs["results"].get("vcsa_exporter") or {}
        for key, when in (("memory_breakdown", "right after"), ("memory_breakdown_settled", "settled")):
            mb = mine.get(key)
            if not mb:
                continue
            binary = next((f for f in mb["files"] if f["name"].startswith("vcsa_exporter")), None)
            libs = sum(f["rss_mib"] for f in mb["files"] if f is not binary)
            arenas = sum(a["rss_mib"] for a in mb["anon_mappings"] if a["name"] == "[anon]")
            p(f"  vcsa_exporter {when}: {fmt(mb['total_rss_mib'], 1)} MiB = the binary {fmt(binary and binary['rss_mib'], 1)} "
              f"(code {fmt(binary and binary['code_mib'], 1)}, read-only {fmt(binary and binary['readonly_mib'], 1)}, "
              f"data {fmt(binary and binary['data_mib'], 1)}, of which copied on write {fmt(binary and binary['anon_mib'], 1)}) "
              f"+ shared libraries {libs:.1f} + anonymous mappings {arenas:.1f} (malloc arenas, stacks) + [heap], [stack] "
              f"and small ones {max(0.0, mb['total_rss_mib'] - (binary['rss_mib'] if binary else 0) - libs - arenas):.1f}")
        if mine.get("binary_sections"):
            p("  its binary per section (resident of size, MiB): " + ", ".join(
                f"{x['section']} {x['resident_mib']:.2f} of {x['size_mib']:.2f}" for x in mine["binary_sections"]))
        p(f"  versions: {cm.get('node_exporter')}; {cm.get('blackbox_exporter')}; {cm.get('python')} "
          f"with prometheus_client {cm.get('prometheus_client')}")
    p("\nTargets")
    for x in t:
        p(f"  {x['result']:<5} {x['target']:<48} {fmt(x['value'], 3):>10} {x['unit']:<6} (target {x['limit']})")
    p("")


def committed_latest(results_dir):
    """The results to compare with: latest.json as last committed (a run not yet committed is not
    a baseline), or the file itself outside git."""
    path = os.path.join(results_dir, "latest.json")
    try:
        top = subprocess.run(["git", "-C", results_dir, "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=True).stdout.strip()
        rel = os.path.relpath(os.path.realpath(path), os.path.realpath(top))
        shown = subprocess.run(["git", "-C", top, "show", f"HEAD:{rel}"], capture_output=True, text=True, check=True)
        return json.loads(shown.stdout)
    except (OSError, subprocess.CalledProcessError, ValueError):
        return load(results_dir, "latest.json")


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    raw, results_dir = argv[1], argv[2]
    now = datetime.datetime.now(datetime.timezone.utc)
    r = collect(raw)
    r["timestamp"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    previous = previous_summary(committed_latest(results_dir))
    if previous:
        r["previous"] = previous
    t = targets(r)
    r["targets"] = t
    print_report(r, t)
    os.makedirs(results_dir, exist_ok=True)
    text = json.dumps(r, indent=2, sort_keys=False) + "\n"
    path = os.path.join(results_dir, f"bench-{now.strftime('%Y%m%dT%H%M%SZ')}.json")
    for p in (path, os.path.join(results_dir, "latest.json")):
        with open(p, "w") as f:
            f.write(text)
    print(f"bench: wrote {path} and latest.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
