# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark (not a test): simulator throughput with keep-alive, and memory for a 1,000,000-assignment location.

Each measurement runs the simulator in its own process (``python -m tests.simulator``) so client and server do not
share one interpreter lock, exactly as an MDM would see it:

1. throughput: one ``requests.Session`` sends small ``GET /client/config`` requests (rate limit off);
2. scale: a generated location with 1,000,000 assignments (100,000 users, 2,000 assets) is loaded; the benchmark
   reads the first, a middle and the last ``/assignments`` page and records the server's peak RSS (``VmHWM``).

Results are written to ``docs/benchmarks/simulator.md``.

    .venv/bin/python tests/bench/bench_simulator.py
    .venv/bin/python tests/bench/bench_simulator.py --requests 1000 --assignments 100000 --no-write
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time

import requests
import yaml
from benchlib import ROOT, ServerProcess, write_report

REPORT = os.path.join(ROOT, "docs", "benchmarks", "simulator.md")
PAGE_SIZE = 1000


def write_scenario(directory, scenario):
    path = os.path.join(directory, "scenario.yml")
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(scenario, handle)
    return path


def measure_throughput(directory, count):
    scenario = {
        "settings": {"enforce_rate_limit": False},
        "locations": [{"key": "bench", "assets": [{"adamId": "1", "total": 1}]}],
    }
    server = ServerProcess(write_scenario(directory, scenario), os.path.join(directory, "tokens-small"))
    try:
        session = requests.Session()
        session.headers["Authorization"] = "Bearer " + server.token("bench")
        for _round in range(100):  # warm up the connection and the interpreter
            session.get(server.url + "/client/config", timeout=10).raise_for_status()
        started = time.perf_counter()
        for _round in range(count):
            session.get(server.url + "/client/config", timeout=10).raise_for_status()
        elapsed = time.perf_counter() - started
    finally:
        server.stop()
    return {"requests": count, "seconds": elapsed, "per_second": count / elapsed}


def timed_get(session, url, **params):
    started = time.perf_counter()
    response = session.get(url, params=params, timeout=120)
    response.raise_for_status()
    return response.json(), time.perf_counter() - started


def measure_scale(directory, assignments, users, assets):
    scenario = {
        "settings": {"enforce_rate_limit": False, "page_size": PAGE_SIZE},
        "locations": [
            {"key": "big", "generate": {"assets": assets, "assignments": assignments, "users": users, "seed": 1}}
        ],
    }
    server = ServerProcess(write_scenario(directory, scenario), os.path.join(directory, "tokens-big"))
    try:
        session = requests.Session()
        session.headers["Authorization"] = "Bearer " + server.token("big")
        url = server.url + "/assignments"
        first, first_seconds = timed_get(session, url)
        pages = first["totalPages"]
        _page, middle_seconds = timed_get(session, url, pageIndex=pages // 2)
        last, last_seconds = timed_get(session, url, pageIndex=pages - 1)
        _page, asset_seconds = timed_get(session, url, adamId="6000000005")
        return {
            "assignments": assignments,
            "users": users,
            "assets": assets,
            "startup_seconds": server.startup_seconds,
            "pages": pages,
            "last_page_size": last["size"],
            "first_page_seconds": first_seconds,
            "middle_page_seconds": middle_seconds,
            "last_page_seconds": last_seconds,
            "asset_filter_seconds": asset_seconds,
            "peak_rss_mb": server.memory_mb("VmHWM"),
            "rss_mb": server.memory_mb("VmRSS"),
        }
    finally:
        server.stop()


def report(args, throughput, scale):
    return "\n".join(
        [
            "# Simulator benchmark",
            "",
            "Command: `.venv/bin/python tests/bench/bench_simulator.py --requests %d --assignments %d --users %d "
            "--assets %d`" % (args.requests, args.assignments, args.users, args.assets),
            "",
            "Machine: %d CPUs (`nproc`), Python %s on %s."
            % (len(os.sched_getaffinity(0)), platform.python_version(), platform.system()),
            "The simulator runs in its own process (the CLI); the client is one `requests.Session` (keep-alive).",
            "",
            "## Throughput (small requests, keep-alive, rate limit off)",
            "",
            "| requests | seconds | requests/s |",
            "| ---: | ---: | ---: |",
            "| %d | %.2f | **%.0f** |" % (throughput["requests"], throughput["seconds"], throughput["per_second"]),
            "",
            "## Scale (one generated location, page size %d)" % PAGE_SIZE,
            "",
            "| figure | value |",
            "| --- | ---: |",
            "| assignments / users / assets | %d / %d / %d |" % (scale["assignments"], scale["users"], scale["assets"]),
            "| start-up (generate in memory, bind, print URL) | %.1f s |" % scale["startup_seconds"],
            "| pages of `/assignments` | %d |" % scale["pages"],
            "| page 0, first request (builds the snapshot for this version) | %.3f s |" % scale["first_page_seconds"],
            "| middle page (from the cached snapshot) | %.3f s |" % scale["middle_page_seconds"],
            "| last page (size %d) | %.3f s |" % (scale["last_page_size"], scale["last_page_seconds"]),
            "| `adamId` filter (asset index) | %.3f s |" % scale["asset_filter_seconds"],
            "| server peak RSS (`VmHWM`) | **%.0f MB** |" % scale["peak_rss_mb"],
            "| server RSS after the reads (`VmRSS`) | %.0f MB |" % scale["rss_mb"],
            "",
            "Targets from the brief: at least 1,000 requests/s; under 2 GB for 1,000,000 assignments; any page in",
            "O(page size) once the snapshot of the current version exists.",
            "",
        ]
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--assignments", type=int, default=1000000)
    parser.add_argument("--users", type=int, default=100000)
    parser.add_argument("--assets", type=int, default=2000)
    parser.add_argument("--no-write", action="store_true", help="print the report instead of writing it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vpp-sim-bench-") as directory:
        throughput = measure_throughput(directory, args.requests)
        scale = measure_scale(directory, args.assignments, args.users, args.assets)
    text = report(args, throughput, scale)
    if not args.no_write:
        write_report(REPORT, text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
