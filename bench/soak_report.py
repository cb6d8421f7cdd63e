#!/usr/bin/env python3
"""soak_report.py - the host side of bench/soak.sh (stdlib only).

  soak_report.py sample PID API_SOCK NETNS INTERVAL T0 DIR
      every INTERVAL s from T0 (an epoch time; the series' t = 0) until DIR/stop exists or PID is gone: vgate's VmRSS,
      open fds (/proc/PID/fd), CPU % of one core over the interval
      (utime + stime from /proc/PID/stat), a few /stats counters and how
      long GET /stats took, whether a DNS query over UDP and one over TCP
      (dig static.test in NETNS) were answered, and the load phase named in
      DIR/phase; one CSV row each to DIR/series.csv, and the forwarder's
      active TCP and UDP flows to DIR/active ("T TCP UDP", T of the sample)
  soak_report.py report DIR OUT_MD CSV_COPY
      the verdict over DIR/series.csv (see verdict()), the markdown section
      of bench/hostile_results.md (between the soak markers of OUT_MD, the
      rest of the file kept) and a copy of the series; exit 0 if flat, 1 if
      not. DIR/meta holds KEY=VALUE lines from soak.sh, DIR/*.json the load
      components' counts.
"""
import glob
import json
import os
import socket
import statistics
import subprocess
import sys
import time

from soak_guest import read_body

COLS = ("t_s", "phase", "rss_kb", "fds", "cpu_pct", "tcp_active", "tcp_max", "udp_active", "tcp_total",
        "udp_total", "tcp_over_limit", "udp_over_limit", "udp_evicted", "dns_queries", "dns_hits", "dns_entries", "stats_ms",
        "dns_udp_ok", "dns_tcp_ok")
BEGIN, END = "<!-- soak.sh: begin -->", "<!-- soak.sh: end -->"


def get_stats(path):
    """GET /stats over the API's unix socket: (JSON or None, milliseconds)"""
    t0 = time.monotonic()
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(2)
        s.connect(path)
        s.sendall(b"GET /stats HTTP/1.0\r\nHost: vgate\r\n\r\n")
        return json.loads(read_body(s)), (time.monotonic() - t0) * 1000
    except (OSError, ValueError, IndexError):
        return None, (time.monotonic() - t0) * 1000


def dig_ok(netns, tcp):
    cmd = ["ip", "netns", "exec", netns, "dig", "+short", "+time=2", "+tries=1", "@192.168.127.1",
           "static.test"] + (["+tcp"] if tcp else [])
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=5).stdout
    except subprocess.TimeoutExpired:
        return 0
    return int(out.strip() == "10.1.2.3")


def proc(pid):
    """(VmRSS kB, open fds, utime + stime ticks)"""
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    fds = len(os.listdir("/proc/%d/fd" % pid))
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return rss, fds, int(fields[11]) + int(fields[12])


def sample(pid, sock, netns, interval, t0, d):
    tick = os.sysconf("SC_CLK_TCK")
    _, _, cpu0 = proc(pid)
    last = time.time()
    with open(os.path.join(d, "series.csv"), "w") as out:
        out.write(",".join(COLS) + "\n")
        k = 0
        while not os.path.exists(os.path.join(d, "stop")):
            k += 1
            time.sleep(max(0.0, t0 + k * interval - time.time()))  # the sampling period
            try:
                rss, fds, cpu = proc(pid)
            except (OSError, StopIteration):
                break
            now = time.time()
            if now - last < interval / 2:
                continue  # started late: a 10 ms tick over a few ms is no CPU figure
            pct = 100.0 * (cpu - cpu0) / tick / (now - last)
            cpu0, last = cpu, now
            st, ms = get_stats(sock)
            f = (st or {}).get("forwarder", {})
            dn = (st or {}).get("dns", {})
            try:
                phase = open(os.path.join(d, "phase")).read().strip() or "-"
            except OSError:
                phase = "-"
            row = (round(now - t0), phase, rss, fds, "%.1f" % pct, f.get("tcp_active", ""),
                   f.get("tcp_max", ""), f.get("udp_active", ""), f.get("tcp_total", ""), f.get("udp_total", ""),
                   f.get("tcp_over_limit", ""), f.get("udp_over_limit", ""), f.get("udp_evicted", ""),
                   dn.get("queries", ""),
                   dn.get("hits", ""), dn.get("entries", ""), "%.0f" % ms if st else "fail", dig_ok(netns, False),
                   dig_ok(netns, True))
            out.write(",".join(str(v) for v in row) + "\n")
            out.flush()
            if st:  # for soak.sh's wait for a burst's flows to be gone
                with open(os.path.join(d, "active.tmp"), "w") as fa:
                    fa.write("%d %d %d\n" % (row[0], f.get("tcp_active", 0), f.get("udp_active", 0)))
                os.replace(os.path.join(d, "active.tmp"), os.path.join(d, "active"))


def slope_per_min(pts):
    """least-squares slope of [(t_s, y)] in y per minute"""
    if len(pts) < 3:
        return 0.0
    mt = statistics.fmean(t for t, _ in pts)
    my = statistics.fmean(y for _, y in pts)
    den = sum((t - mt) ** 2 for t, _ in pts)
    return 60.0 * sum((t - mt) * (y - my) for t, y in pts) / den if den else 0.0


def verdict(rows, m):
    """flat or not, with the reasons. The load runs from 0 to DURATION s;
    the first WARMUP s are warm-up (malloc arenas, lwIP pools and the DNS
    cache fill; each burst kind has run once). Of the rest, RSS in the last
    third may exceed the first third (medians) by at most max(10 %, 2 MiB),
    and so may its trend over the whole window (least-squares slope x span);
    and it may rise in at most half of the last third's samples (a leak
    touches new pages all the time, while malloc's high-water steps come
    with bursts and bulk runs only).
    fds: the fewest open in each quiet gap between bursts (once the burst's
    flows are gone) must not creep up (last third at most the first third's
    median + 4), and once the load has stopped they must come back to
    the count before the load + FD_SLACK. vgate must be alive at the end."""
    dur, warm = float(m["DURATION"]), float(m["WARMUP"])
    slack = int(m.get("FD_SLACK", 8))  # after the load, as soak.sh waited for
    gap_slack = 4  # the fewest in a gap: 14 in every gap of the runs so far
    win = [r for r in rows if warm <= r["t_s"] <= dur]
    reasons, facts = [], {}
    if len(win) < 6:
        return False, ["too few samples after warm-up (%d)" % len(win)], facts
    span = win[-1]["t_s"] - win[0]["t_s"]
    third = span / 3
    first = [r for r in win if r["t_s"] <= win[0]["t_s"] + third]
    last = [r for r in win if r["t_s"] >= win[-1]["t_s"] - third]
    r1 = statistics.median(r["rss_kb"] for r in first)
    r3 = statistics.median(r["rss_kb"] for r in last)
    bound = max(0.10 * r1, 2048)
    sl = slope_per_min([(r["t_s"], r["rss_kb"]) for r in win])
    facts.update(rss_first=r1, rss_last=r3, rss_bound=bound, rss_slope=sl, rss_span=span,
                 rss_max=max(r["rss_kb"] for r in rows))
    if r3 - r1 > bound:
        reasons.append("RSS grew %.0f kB (first third %.0f, last %.0f; bound %.0f)" % (r3 - r1, r1, r3, bound))
    rising = sum(1 for a, b in zip(last, last[1:]) if b["rss_kb"] > a["rss_kb"])
    facts.update(rss_rising=rising, rss_last_n=len(last))
    if rising * 2 > len(last):
        reasons.append("RSS rose in %d of the last third's %d samples: monotonic growth" % (rising, len(last)))
    if sl * span / 60 > bound:
        reasons.append("RSS trend +%.0f kB/min (%.0f kB over the window; bound %.0f)" % (sl, sl * span / 60, bound))
    # quiet gaps: phase "quiet" rows (soak.sh names them once the forwarder
    # holds no more flows than the continuous load); the minimum of each gap
    gaps, cur = [], None
    for r in win:
        if r["phase"] == "quiet":
            if cur is None:
                cur = [r["t_s"], r["fds"]]
                gaps.append(cur)
            cur[1] = min(cur[1], r["fds"])
        else:
            cur = None
    facts["gaps"] = gaps
    if len(gaps) >= 2:
        g1 = [f for t, f in gaps if t <= win[0]["t_s"] + third] or [gaps[0][1]]
        g3 = [f for t, f in gaps if t >= win[-1]["t_s"] - third] or [gaps[-1][1]]
        base = statistics.median(g1)
        facts.update(fd_gap_first=base, fd_gap_last_max=max(g3))
        if max(g3) > base + gap_slack:
            reasons.append("fds between bursts crept from %d to %d" % (base, max(g3)))
    elif dur >= 300:
        reasons.append("fewer than two quiet gaps between bursts to compare fds")
    before = int(m["FDS_BEFORE"])
    after = rows[-1]["fds"]
    facts.update(fds_before=before, fds_after=after, fds_max=max(r["fds"] for r in rows))
    if m.get("FDS_AFTER_OK") != "1":
        reasons.append("fds did not come back to %d+%d after the load (%s)" % (before, slack, m.get("FDS_AFTER", after)))
    if m.get("ALIVE") != "1":
        reasons.append("vgate died")
    fails = sum(1 for r in rows if r["stats_ms"] == "fail" or float(r["stats_ms"]) > 1000)
    dns_fail = sum(1 for r in rows if not (r["dns_udp_ok"] and r["dns_tcp_ok"]))
    facts.update(stats_slow=fails, dns_probe_fail=dns_fail, samples=len(rows))
    return not reasons, reasons, facts


def read_rows(path):
    rows = []
    with open(path) as f:
        head = f.readline().strip().split(",")
        for line in f:
            r = dict(zip(head, line.strip().split(",")))
            for k in ("t_s", "rss_kb", "fds", "dns_udp_ok", "dns_tcp_ok"):
                r[k] = int(r[k])
            r["cpu_pct"] = float(r["cpu_pct"])
            rows.append(r)
    return rows


def components(d, rows):
    """one line per load component from the counts files, and vgate's own
    counters at the end (the last sample)"""
    def load(name):
        try:
            return json.load(open(os.path.join(d, name)))
        except (OSError, ValueError):
            return {}
    fl, sl, dn = load("flows.json"), load("slow.json"), load("dnsperf.json")
    bursts = [json.loads(l) for p in sorted(glob.glob(os.path.join(d, "burst-*.out")))
              for l in open(p) if l.startswith("{")]
    bulk = [json.loads(l) for l in open(os.path.join(d, "bulk.out"))] if os.path.exists(
        os.path.join(d, "bulk.out")) else []
    udp = [b for b in bursts if b["kind"] == "udp"]
    tcp = [b for b in bursts if b["kind"] == "tcp"]
    syn = [b for b in bursts if b["kind"] == "syn"]
    out = [
        "- TCP flows (short HTTP downloads of 1 KiB-256 KiB, %s clients): %d opened, %d complete, "
        "%d failed, %.0f MB" % (m_get("FLOW_CLIENTS"), fl.get("opened", 0), fl.get("ok", 0),
                                fl.get("failed", 0), fl.get("bytes", 0) / 1e6),
        "- DNS (dnsperf at %s qps max through the gateway; hot names, misses, NXDOMAIN): %s sent, "
        "%s answered, %s lost" % (m_get("DNS_QPS"), dn.get("sent", "?"), dn.get("completed", "?"),
                                   dn.get("lost", "?")),
        "- slow readers (%s, ~400 KB/s each from a host sender, new connection every %s s): %d "
        "sessions, %.0f MB read, %d failed" % (m_get("SLOW_READERS"), m_get("SLOW_SESSION"),
                                               sl.get("sessions", 0), sl.get("bytes", 0) / 1e6,
                                               sl.get("failed", 0)),
        "- flood bursts every %s s or more, in turn: %d UDP bursts (%s sockets each; %d echoed, %d errors), %d TCP "
        "bursts (%s connections each, half RST; %d connected, %d refused, %d timed out)" % (
            m_get("BURST_EVERY"), len(udp), m_get("BURST_UDP"), sum(b["echoed"] for b in udp),
            sum(b["errors"] for b in udp), len(tcp), m_get("BURST_TCP"),
            sum(b["connected"] for b in tcp), sum(b["refused"] for b in tcp),
            sum(b["timed_out"] for b in tcp)),
        "- SYN bursts (hand-made SYNs never completed, %s from the guest's address and %s spoofed "
        "from unused guest-subnet addresses, at once): %d bursts; of the guest's own %d answered "
        "with SYN-ACK, %d with RST, %d unanswered in 3 s" % (
            m_get("BURST_SYN"), m_get("BURST_SPOOF"), len(syn), sum(b["synack"] for b in syn),
            sum(b["rst"] for b in syn), sum(b["unanswered"] for b in syn)),
        "- bulk iperf3 (%s s every %s s, alternating directions): %d runs, Gbit/s %s" % (
            m_get("BULK_SECS"), m_get("BULK_EVERY"), len(bulk),
            ", ".join("%s %s" % (b["dir"], b["gbps"]) for b in bulk) or "-"),
    ]
    last = rows[-1]
    busy = [r for r in rows if r["phase"] not in ("tcp", "bulk") and r["tcp_active"] and r["tcp_max"]
            and int(r["tcp_active"]) >= 0.9 * int(r["tcp_max"])]
    out.append(
        "- vgate's counters at the end: %s TCP flows and %s UDP mappings in all, %s SYNs refused at the "
        "TCP budget (%d samples outside the TCP bursts saw the budget %d%%+ full), %s datagrams "
        "refused and %s mappings evicted at the UDP budget; DNS %s queries, %s cache hits, %s entries"
        % (last["tcp_total"], last["udp_total"], last["tcp_over_limit"], len(busy), 90,
           last["udp_over_limit"], last["udp_evicted"], last["dns_queries"], last["dns_hits"],
           last["dns_entries"]))
    return out


META = {}


def m_get(k):
    return META.get(k, "?")


def table(rows, every):
    """markdown rows, one per EVERY seconds of the series: the values at the
    window's end, fds and CPU over the window, the phases it saw"""
    out = ["| t (s) | phases | RSS (kB) | fds (min-max) | CPU % (mean, max) | TCP flows (max) | "
           "UDP flows (max) | TCP flows opened | DNS queries | /stats ms (max) |",
           "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    win = []
    for r in rows:
        win.append(r)
        if r["t_s"] % every and r is not rows[-1]:
            continue
        phases = []
        for w in win:
            if w["phase"] not in phases:
                phases.append(w["phase"])
        num = lambda k: [int(w[k]) for w in win if w[k] not in ("", "fail")]
        ms = "fail" if any(w["stats_ms"] == "fail" for w in win) else max(num("stats_ms"))
        out.append("| %d | %s | %d | %d-%d | %.0f, %.0f | %s | %s | %s | %s | %s |" % (
            r["t_s"], " ".join(phases), r["rss_kb"], min(w["fds"] for w in win),
            max(w["fds"] for w in win), statistics.fmean(w["cpu_pct"] for w in win),
            max(w["cpu_pct"] for w in win), max(num("tcp_active") or [0]),
            max(num("udp_active") or [0]), r["tcp_total"], r["dns_queries"], ms))
        win = []
    return out


def report(d, out_md, csv_copy):
    for line in open(os.path.join(d, "meta")):
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            META[k] = v
    rows = read_rows(os.path.join(d, "series.csv"))
    ok, reasons, f = verdict(rows, META)
    cpu_load = [r["cpu_pct"] for r in rows if r["t_s"] <= float(META["DURATION"])]
    cpu_idle = [r["cpu_pct"] for r in rows if r["t_s"] > float(META["DURATION"]) + 10]
    text = [BEGIN, "## Soak (`bench/soak.sh`)", "",
            "Run on %s, commit %s, `%s` (%s s of load, samples every %s s, table every %s s)." % (
                META["DATE"], META["COMMIT"], META["COMMAND"], META["DURATION"], META["INTERVAL"],
                META["TABLE_EVERY"]),
            "Machine: %s CPUs shared with other builds, load average %s at the start and %s at the "
            "end; figures are from a loaded machine." % (META["NPROC"], META["LOAD0"], META["LOAD1"]),
            "vgate: `ulimit -n 1024`, `%s` (budgets it derived: %s)." % (META["VGATE_ARGS"], META["BUDGETS"]),
            "", "### Verdict: **%s**" % ("flat" if ok else "NOT flat"), ""]
    text += ["- " + r for r in reasons]
    text += [
        "- RSS (medians after %s s of warm-up): first third %.0f kB, last third %.0f kB (bound +%.0f "
        "kB); trend %+.0f kB/min; rose in %d of the last third's %d samples; highest %d kB" % (
            META["WARMUP"], f.get("rss_first", 0), f.get("rss_last", 0), f.get("rss_bound", 0),
            f.get("rss_slope", 0), f.get("rss_rising", 0), f.get("rss_last_n", 0), f.get("rss_max", 0)),
        "- fds: %d before the load, highest %d, fewest in the quiet gaps between bursts %s, %d after "
        "the load (%s s after it stopped)" % (f.get("fds_before", 0), f.get("fds_max", 0),
                                              " ".join(str(g[1]) for g in f.get("gaps", [])) or "-",
                                              f.get("fds_after", 0), META.get("SETTLE_S", "?")),
        "- CPU: %.0f %% of a core on average under load (highest sample %.0f %%), %.1f %% once "
        "idle" % (statistics.fmean(cpu_load) if cpu_load else 0, max(cpu_load or [0]),
                  statistics.fmean(cpu_idle) if cpu_idle else 0),
        "- probes each sample: GET /stats slower than 1 s or failed %d times, DNS over UDP or TCP "
        "unanswered %d times (of %d samples)" % (f.get("stats_slow", 0), f.get("dns_probe_fail", 0),
                                                f.get("samples", 0)),
        "", "### Load", ""]
    text += components(d, rows)
    text += ["", "### Series", "",
             "Full series: `bench/%s`. Phases (of each sample): `load` continuous load only, "
             "`udp`/`tcp`/`syn` a flood burst running, `bulk` an iperf3 run, `quiet` continuous load "
             "only, once the last burst's flows were gone, `idle` after the load." % os.path.basename(csv_copy), ""]
    text += table(rows, int(META["TABLE_EVERY"]))
    text.append(END)
    try:
        old = open(out_md).read()
    except OSError:
        old = "# Hostile-guest benchmarks\n\nWhat vgate does under an untrusted guest's load (issue 10).\n\n"
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN)] + "\n".join(text) + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + "\n\n" + "\n".join(text) + "\n"
    with open(out_md, "w") as fo:
        fo.write(new)
    with open(os.path.join(d, "series.csv")) as fi, open(csv_copy, "w") as fo:
        fo.write(fi.read())
    print("\n".join(text))
    return 0 if ok else 1


def main():
    if sys.argv[1] == "sample":
        sample(int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5]), float(sys.argv[6]),
               sys.argv[7])
        return 0
    return report(sys.argv[2], sys.argv[3], sys.argv[4])


if __name__ == "__main__":
    sys.exit(main())
