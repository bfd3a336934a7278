#!/usr/bin/env python3
"""Small measurement helpers for bench/run.sh (standard library only).

  probe.py free-port                         print a free TCP port on 127.0.0.1
  probe.py snap PID                          print one JSON snapshot of /proc/PID
  probe.py smaps PID                         print what the resident set is made of, per mapped
                                             file and per anonymous mapping (/proc/PID/smaps)
  probe.py sample PID OUT [INTERVAL] [MAX_S] append snapshots to OUT (JSON lines) until killed
                                             or MAX_S seconds have passed
  probe.py wait-up URL [TIMEOUT_S]           poll URL until the body has `vcsa_up 1`
  probe.py sections PID BINARY               print, per ELF section of BINARY, how much of it is
                                             resident in PID (/proc/PID/pagemap present bits)
  probe.py cpu-busy [SECONDS]                print the machine's CPU use in percent over SECONDS
  probe.py cpu-mark ROOT_PID                 print the machine's CPU ticks (busy, all) and those of
                                             ROOT_PID and its descendants: two marks tell how much
                                             CPU other processes took in between
  probe.py startup RUNS OUT -- CMD...        launch CMD (with {port} replaced) RUNS times and
                                             time each launch to the first scrape with vcsa_up 1
  probe.py evict FILE...                     drop the files' clean, unmapped pages from the page
                                             cache, so that a process started next reads them from
                                             disk as at a first start after boot
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
UP_RE = re.compile(rb"^vcsa_up 1(\.0+)?$", re.M)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def snapshot(pid):
    """RSS/HWM (KiB), threads, open fds and CPU ticks of one process."""
    snap = {"t": time.time()}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "VmSize", "RssAnon", "RssFile"):
                snap[key.lower() + "_kib"] = int(value.split()[0])
            elif key == "Threads":
                snap["threads"] = int(value)
    # PSS: the resident set with every shared page divided among the processes that map it.
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("Pss", "Pss_Anon", "Pss_File", "Pss_Shmem"):
                    snap[key.lower() + "_kib"] = int(value.split()[0])
    except OSError:
        pass
    snap["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/stat") as f:
        # Fields after the command name, which may hold spaces: utime and stime are 14 and 15.
        rest = f.read().rsplit(")", 1)[1].split()
    snap["cpu_ticks"] = int(rest[11]) + int(rest[12])
    snap["clk_tck"] = CLK_TCK
    return snap


SMAPS_HEADER = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$")


def smaps(pid):
    """The resident set per mapping: for each mapped file its resident, proportional and
    anonymous (copy-on-write) KiB, split by permissions (r-xp is code, r--p read-only data and
    relocations, rw-p writable data); every anonymous mapping on its own with its size (glibc's
    heap and arenas, thread stacks, the Swift runtime's and NIO's own allocations)."""
    files, anon = {}, []
    current = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = SMAPS_HEADER.match(line)
            if m:
                start, end, perms, name = int(m.group(1), 16), int(m.group(2), 16), m.group(3), m.group(4)
                current = {"perms": perms, "size_kib": (end - start) // 1024, "name": name}
                if name.startswith("/"):
                    entry = files.setdefault(name, {"name": name, "rss_kib": 0, "pss_kib": 0, "anon_kib": 0,
                                                    "by_perms": {}})
                    current["file"] = entry
                else:
                    current["name"] = name or "[anon]"
                    current.update(rss_kib=0, pss_kib=0, anon_kib=0)
                    anon.append(current)
                continue
            key, _, value = line.partition(":")
            if current is None or key not in ("Rss", "Pss", "Anonymous"):
                continue
            kib = int(value.split()[0])
            field = {"Rss": "rss_kib", "Pss": "pss_kib", "Anonymous": "anon_kib"}[key]
            if "file" in current:
                entry = current["file"]
                entry[field] += kib
                if field == "rss_kib":
                    entry["by_perms"][current["perms"]] = entry["by_perms"].get(current["perms"], 0) + kib
            else:
                current[field] += kib
    files = sorted(files.values(), key=lambda e: -e["rss_kib"])
    anon = sorted((a for a in anon if a["rss_kib"] or a["size_kib"] >= 1024), key=lambda a: -a["rss_kib"])
    return {
        "files": [f for f in files if f["rss_kib"]],
        "anon": [{k: a[k] for k in ("name", "perms", "size_kib", "rss_kib", "pss_kib", "anon_kib")} for a in anon],
        "total": {
            "rss_kib": sum(f["rss_kib"] for f in files) + sum(a["rss_kib"] for a in anon),
            "pss_kib": sum(f["pss_kib"] for f in files) + sum(a["pss_kib"] for a in anon),
            "file_backed_rss_kib": sum(f["rss_kib"] - f["anon_kib"] for f in files),
            "anon_kib": sum(f["anon_kib"] for f in files) + sum(a["anon_kib"] for a in anon),
        },
    }


SECTION_RE = re.compile(r"^\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)")


def sections(pid, binary):
    """Resident KiB of each allocated section of `binary` in process `pid`: which parts of the
    file the process has mapped (code touched, and the kernel's fault-around neighbours of it)."""
    binary = os.path.realpath(binary)
    found = []
    out = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = SECTION_RE.match(line)
        if m and int(m.group(2), 16):  # allocated: has an address
            found.append((m.group(1), int(m.group(3), 16), int(m.group(4), 16)))
    page = os.sysconf("SC_PAGE_SIZE")
    present = set()  # file page numbers mapped in the process
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for line in maps:
            parts = line.split()
            if len(parts) < 6 or os.path.realpath(parts[5]) != binary:
                continue
            start, end = (int(x, 16) for x in parts[0].split("-"))
            offset = int(parts[2], 16)
            pagemap.seek(start // page * 8)
            entries = pagemap.read((end - start) // page * 8)
            for i in range(len(entries) // 8):
                if int.from_bytes(entries[i * 8:i * 8 + 8], "little") >> 63:
                    present.add(offset // page + i)
    result = []
    for name, offset, size in found:
        if name.startswith(".tbss") or name == ".bss":
            continue  # no file pages
        pages = range(offset // page, (offset + size + page - 1) // page)
        resident = sum(1 for p in pages if p in present)
        result.append({"section": name, "size_kib": size // 1024, "resident_kib": resident * page // 1024})
    return result


def evict(paths):
    """Drops each file's pages from the page cache (fsync, then POSIX_FADV_DONTNEED), as far as
    the kernel lets: pages that a running process maps stay. A file just written (by the linker,
    strip, cp or dpkg) sits in the page cache in large folios, and Linux (6.18 here) maps a whole
    large folio at the first fault in it: a process started from such a file has many pages
    resident that it never touches, how many depending on how the file was written. Started after
    this, it reads the file as after a reboot (readahead, then fault-around of 64 KiB), which is
    what a long-running service meets and does not depend on how the file came to be."""
    for path in paths:
        fd = os.open(os.path.realpath(path), os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def cpu_busy(seconds=1.0):
    """Percent of all CPUs busy over `seconds` (from /proc/stat): is the machine quiet?"""
    def read():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields), idle
    total0, idle0 = read()
    time.sleep(seconds)
    total1, idle1 = read()
    return 100.0 * (1.0 - (idle1 - idle0) / max(total1 - total0, 1))


def cpu_mark(root):
    """CPU ticks of the machine (busy and all, from /proc/stat) and of the process tree under
    `root`. A process's own ticks are in its stat while it lives and in its parent's cutime/cstime
    once reaped, so summing utime+stime+cutime+cstime over the live tree counts each tree
    process once, the ones that ended in between (wrk, curl) included."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest is in user)
    busy = total - fields[3] - fields[4]
    stats = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the name: state ppid ... utime(14) stime(15) cutime(16) cstime(17), 1-based fields.
        stats[int(entry)] = (int(rest[1]), sum(int(x) for x in rest[11:15]))
    children = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    ours, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            ours += stats[pid][1]
        todo.extend(children.get(pid, []))
    return {"t": time.time(), "busy_ticks": busy, "total_ticks": total, "ours_ticks": ours}


def sample(pid, out, interval=0.1, max_s=120.0):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    deadline = time.monotonic() + max_s
    with open(out, "a") as f:
        while not stop and time.monotonic() < deadline:
            try:
                f.write(json.dumps(snapshot(pid)) + "\n")
                f.flush()
            except (FileNotFoundError, ProcessLookupError):
                break
            time.sleep(interval)


def scrape_is_up(port, timeout=2.0):
    """One GET /metrics on a fresh connection; True when it says vcsa_up 1."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            chunks = []
            while True:
                data = s.recv(65536)
                if not data:
                    break
                chunks.append(data)
        return UP_RE.search(b"".join(chunks)) is not None
    except OSError:
        return False


def wait_up(url, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                body = r.read()
            if UP_RE.search(body):
                return 0
            last = "no `vcsa_up 1` in the scrape"
        except OSError as e:
            last = str(e)
        time.sleep(0.02)
    print(f"probe: {url} not up after {timeout_s}s: {last}", file=sys.stderr)
    return 1


def stop_process(proc, grace_s=5.0):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def startup(runs, out, cmd, timeout_s=10.0):
    results = []
    for i in range(runs):
        port = free_port()
        argv = [a.replace("{port}", str(port)) for a in cmd]
        log = open(f"{out}.launch{i}.log", "wb")
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, stdout=log, stderr=log)
        ms, error = None, None
        try:
            while True:
                if scrape_is_up(port):
                    ms = (time.monotonic() - t0) * 1000.0
                    break
                if proc.poll() is not None:
                    error = f"exited with {proc.returncode} before the first scrape"
                    break
                if time.monotonic() - t0 > timeout_s:
                    error = f"no `vcsa_up 1` within {timeout_s}s"
                    break
                time.sleep(0.0005)
        finally:
            stop_process(proc)
            log.close()
        results.append({"ms": ms, "error": error})
    with open(out, "w") as f:
        json.dump({"runs": results}, f)
    return 0 if all(r["ms"] is not None for r in results) else 1


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "free-port":
        print(free_port())
    elif cmd == "snap":
        print(json.dumps(snapshot(int(argv[2]))))
    elif cmd == "smaps":
        print(json.dumps(smaps(int(argv[2]))))
    elif cmd == "sample":
        sample(int(argv[2]), argv[3],
               float(argv[4]) if len(argv) > 4 else 0.1,
               float(argv[5]) if len(argv) > 5 else 120.0)
    elif cmd == "sections":
        print(json.dumps(sections(int(argv[2]), argv[3])))
    elif cmd == "cpu-mark":
        print(json.dumps(cpu_mark(int(argv[2]))))
    elif cmd == "cpu-busy":
        print(f"{cpu_busy(float(argv[2]) if len(argv) > 2 else 1.0):.1f}")
    elif cmd == "wait-up":
        return wait_up(argv[2], float(argv[3]) if len(argv) > 3 else 10.0)
    elif cmd == "evict":
        evict(argv[2:])
    elif cmd == "startup":
        sep = argv.index("--")
        return startup(int(argv[2]), argv[3], argv[sep + 1:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
