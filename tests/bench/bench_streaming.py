# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark (not a test): stream a huge assignment listing from the simulator into the store.

For each size, a generated one-location scenario is served by the simulator in its own process
(``python -m tests.simulator``; page size 1000, rate limit off). A fresh child process then reads every
assignment through ``VPPClient.assignments()`` and writes it into the store's snapshot path
(``begin_assignment_snapshot`` -> ``add_rows`` -> ``finish``). The child reports its peak RSS (``VmHWM``),
wall time and request count; the figures go to ``docs/benchmarks/streaming.md``.

    .venv/bin/python tests/bench/bench_streaming.py                     # 100,000 and 1,000,000
    .venv/bin/python tests/bench/bench_streaming.py --sizes 20000 --no-write
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

from benchlib import (
    ROOT,
    cpu_model,
    figures_from_child,
    importable_collection,
    peak_rss_mb,
    print_figures,
    write_report,
)

LOCATION = "loc-00000"
PAGE_SIZE = 1000
ROWS_PER_WRITE = 1000
RSS_TARGET_MB = 300


# --- child: the measured process ------------------------------------------------------------------------------------


def run_child(url, token_file, store_dir):
    importable_collection()
    from ansible_collections.mdm.vpp.plugins.module_utils.client import VPPClient
    from ansible_collections.mdm.vpp.plugins.module_utils.stoken import parse_content_token
    from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store
    from ansible_collections.mdm.vpp.plugins.module_utils.sync import assignment_key

    with open(token_file, encoding="ascii") as handle:
        token_text = handle.read().strip()
    rss_before = peak_rss_mb()
    started = time.monotonic()
    store = open_store(os.path.join(store_dir, "vpp.db"), "bench-store-key")
    store.upsert_token("bench", content_token=parse_content_token(token_text))
    client = VPPClient(url, token_text, timeout=60)
    listing = client.assignments()
    records = 0
    with store.token_lock("bench"):
        snapshot = store.begin_assignment_snapshot("bench")
        keys = map(assignment_key, listing)
        while True:
            chunk = list(itertools.islice(keys, ROWS_PER_WRITE))
            if not chunk:
                break
            snapshot.add_keys(chunk)
            records += len(chunk)
        snapshot.finish(version_id=listing.version_id)
    seconds = time.monotonic() - started
    stored = store.count_assignments("bench")
    store.close()
    client.close()
    print_figures({
        "records": records,
        "stored": stored,
        "seconds": round(seconds, 2),
        "requests": client.request_count,
        "pages": listing.pages_fetched,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_before_mb": round(rss_before, 1),
    })  # fmt: skip


# --- parent: scenario, simulator, report ----------------------------------------------------------------------------


def start_simulator(size, workdir, rate):
    sys.path.insert(0, ROOT)
    from tests.simulator.scenario import generated_scenario, write_scenario

    scenario = generated_scenario(1, assets=50, assignments=size)
    scenario["settings"].update({"page_size": PAGE_SIZE, "enforce_rate_limit": False, "event_delay": 0.01})
    scenario["limits"] = {"maxRequestPerSecond": rate}
    scenario_path = os.path.join(workdir, "scenario-%d.json" % size)
    write_scenario(scenario, scenario_path)
    tokens_dir = os.path.join(workdir, "tokens-%d" % size)
    log_path = os.path.join(workdir, "simulator-%d.log" % size)
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - stays open for the simulator's lifetime
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.simulator",
            "--scenario",
            scenario_path,
            "--port",
            "0",
            "--tokens-dir",
            tokens_dir,
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        with open(log_path, encoding="utf-8") as handle:
            urls = [line[4:].strip() for line in handle if line.startswith("URL=")]
        if urls:
            return process, urls[0], token_path(tokens_dir)
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    with open(log_path, encoding="utf-8") as handle:
        raise RuntimeError("the simulator did not start:\n" + handle.read())


def token_path(tokens_dir):
    names = sorted(name for name in os.listdir(tokens_dir) if name.startswith(LOCATION))
    if not names:
        raise RuntimeError("no token file for %s in %s" % (LOCATION, tokens_dir))
    return os.path.join(tokens_dir, names[0])


def measure(size, rate):
    with tempfile.TemporaryDirectory(prefix="mdm-vpp-bench-") as workdir:
        setup_started = time.monotonic()
        process, url, token_file = start_simulator(size, workdir, rate)
        setup = time.monotonic() - setup_started
        try:
            result = figures_from_child(os.path.abspath(__file__), "--child", url, token_file, workdir)
        finally:
            process.terminate()
            process.wait(timeout=30)
        result.update(size=size, simulator_start_seconds=round(setup, 1))
        return result


def machine():
    """The ``Machine:`` line of this report: RAM and kernel instead of SQLite (see ``benchlib.machine``)."""
    with open("/proc/meminfo", encoding="ascii") as info:
        memory_gb = int(info.readline().split()[1]) / 1024.0 / 1024.0
    model = cpu_model() or "unknown CPU"
    return "%s, %d cores, %.1f GB RAM, Linux %s, Python %s" % (
        model, os.cpu_count(), memory_gb, platform.release(), platform.python_version())  # fmt: skip


def report(results, rate, command):
    lines = [
        "# Benchmark: streaming assignments into the store",
        "",
        "What it shows: a full assignment sync reads Apple's pages through `VPPClient.assignments()` (page 0, then",
        "up to 5 pages in flight, yielded in order) and streams them into the store's snapshot path",
        "(`begin_assignment_snapshot` -> `add_rows` per %d rows -> `finish`). Memory must stay flat: peak RSS"
        % ROWS_PER_WRITE,
        "below %d MB and not growing with the listing's size." % RSS_TARGET_MB,
        "",
        "- Command: `%s`" % command,
        "- Machine: %s" % machine(),
        "- Simulator: `python -m tests.simulator` in its own process, generated scenario (1 location, 50 assets),",
        "  page size %d, server rate limit off; advertised `maxRequestPerSecond` = %d so the client's pacing"
        % (PAGE_SIZE, rate),
        "  (which follows the advertised rate) does not dominate the figures. At Apple's real 15 requests/s a",
        "  1,000,000-assignment listing (1,000 pages) needs at least ~74 s of pacing alone.",
        "- Store: SQLite file in a temporary directory (`open_store`), one token registered.",
        "- Peak RSS = `VmHWM` of the measuring process (client + store; the simulator is not counted).",
        "",
        "| assignments | pages | requests | stored rows | wall time (s) | records/s | peak RSS (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        throughput = int(result["records"] / max(result["seconds"], 0.001))
        row = "| {size:,} | {pages:,} | {requests:,} | {stored:,} | {seconds} | {throughput:,} | {peak_rss_mb} |"
        lines.append(row.format(throughput=throughput, **result))
    peaks = [result["peak_rss_mb"] for result in results]
    verdict = "met" if max(peaks) < RSS_TARGET_MB else "NOT met"
    lines += [
        "",
        "Target (peak RSS < %d MB, flat across sizes): **%s** — peaks %s MB (%+.1f MB from the smallest to the "
        "largest run)." % (RSS_TARGET_MB, verdict, " / ".join("%.1f" % peak for peak in peaks), peaks[-1] - peaks[0]),
        "",
        "Wall time is measured in the child from opening the store to `finish()` (simulator start-up excluded).",
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--rate", type=int, default=1000, help="maxRequestPerSecond the simulator advertises")
    parser.add_argument("--output", default=os.path.join(ROOT, "docs", "benchmarks", "streaming.md"))
    parser.add_argument("--no-write", action="store_true", help="print the report instead of writing it")
    parser.add_argument("--child", nargs=3, metavar=("URL", "TOKEN_FILE", "STORE_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(*args.child)
        return 0
    results = []
    for size in args.sizes:
        result = measure(size, args.rate)
        print(json.dumps(result), flush=True)
        results.append(result)
    command = "python tests/bench/bench_streaming.py" + (" " + " ".join(argv) if argv else "")
    text = report(results, args.rate, command)
    if args.no_write:
        print(text)
    else:
        write_report(args.output, text)
        print("wrote %s" % args.output)
    return 0 if max(result["peak_rss_mb"] for result in results) < RSS_TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
