# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark (not a test): B7, ``vpp_deployment`` installing one app on 100,000 devices through NanoMDM, then the
uninstall; written to ``docs/benchmarks/mdm.md``, which ``docs/BENCHMARKS.md`` includes.

Each run is a real ``ansible-playbook`` with one ``mdm.vpp.vpp_deployment`` task whose members come from a
``members_file`` (``serial,enrollment_id``), against the Apple simulator (``python -m tests.simulator``, Apple's
15 requests/s enforced, ``maxSerialNumbers`` 1,000) and, with ``install_via: command``, the MDM stand-in
(``python -m tests.mdm_simulator --flavor nanomdm``, a generated scenario where every member's device is enrolled;
no licence oracle, so devices need no Apple look-up). The devices do not connect: the benchmark measures what the
collection sends, not what the devices answer.

- ``license``: the same deployment without an MDM (``install_via: license``, what B5 measures), the baseline;
- ``command``: install with ``mdm_type: nanomdm``, ``install_via: command``; then the uninstall with
  ``reclaim_when: sent`` (RemoveApplication batches, then the licenses back).

Measured per play: wall time, Apple requests (the simulator's count) vs the minimum, MDM requests (the stand-in's
count) vs the minimum (one enqueue per ``max_ids_per_enqueue`` enrollment ids), wall time vs the Apple side's
rate-limit floor (its minimum requests at 15/s), the time the MDM part adds (command minus license), the span of
the MDM requests in the stand-in's log, and the peak RSS of the ``ansible-playbook`` process tree (sampled).

    .venv/bin/python tests/bench/bench_mdm.py                       # 100,000 devices, writes the report
    .venv/bin/python tests/bench/bench_mdm.py --devices 2000 --no-write   # a quick check, prints the figures
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

from bench_district import (
    APPLE_RATE,
    LOCATION,
    PAGE_SIZE,
    STORE_KEY,
    api_requests,
    register_tokens,
    run_play,
    sim_hook,
)
from bench_district import start_simulator as start_apple
from benchlib import ROOT, MDMServerProcess, importable_collection, load_average, machine, write_report

REPORT = os.path.join(ROOT, "docs", "benchmarks", "mdm.md")
FIGURES = os.path.join(ROOT, "docs", "benchmarks", "mdm.json")  # the last run's raw figures (--render)
ADAM_ID, BUNDLE_ID = "7000000001", "com.example.bench"
MDM_API_KEY = "benchmark mdm key"
MAX_SERIAL_NUMBERS = 1000  # what the simulator advertises (Apple's value): devices per associate/disassociate
MODES = ("license", "command")
ENQUEUE = "PUT /v1/enqueue"


def serial(number):
    return "BNCH%08d" % number


def udid(number):
    return "00008101-%016X" % number


def write_inputs(workdir, devices):
    """The members file (``serial,enrollment_id``) and the MDM stand-in's scenario: every member enrolled."""
    members = os.path.join(workdir, "devices.csv")
    with open(members, "w", encoding="ascii") as handle:
        handle.write("serial,enrollment_id\n")
        handle.write("".join("%s,%s\n" % (serial(number), udid(number)) for number in range(devices)))
    scenario = os.path.join(workdir, "mdm-scenario.json")
    with open(scenario, "w", encoding="ascii") as handle:
        json.dump({"apps": {ADAM_ID: {"bundle_id": BUNDLE_ID, "name": "Bench App", "version": "1.0"}},
                   "devices": [{"udid": udid(number), "serial": serial(number), "platform": "ios",
                                "os_version": "17.4"} for number in range(devices)]}, handle)  # fmt: skip
    return members, scenario


def apple_scenario(devices):
    return {"settings": {"page_size": PAGE_SIZE, "event_delay": 0.01},
            "limits": {"maxRequestPerSecond": APPLE_RATE},
            "locations": [{"key": LOCATION, "assets": [{"adamId": ADAM_ID, "name": "Bench App", "bundleId": BUNDLE_ID,
                                                        "platforms": ["iOS"], "total": devices + 1000}]}]}  # fmt: skip


def ids_per_enqueue():
    """The NanoMDM driver's batch size (enrollment ids in one ``PUT /v1/enqueue``)."""
    from ansible_collections.mdm.vpp.plugins.module_utils.mdm_nanomdm import NanoMDMClient

    return NanoMDMClient.max_ids_per_enqueue


def deployment_task(mode, action, members, mdm):
    options = {"name": "bench %s %s" % (mode, action), "token": LOCATION, "adam_id": ADAM_ID, "action": action,
               "purpose": "required", "collection": {"name": "all devices", "type": "device",
                                                     "members_file": members}}  # fmt: skip
    if mode == "command":
        options.update(mdm_type="nanomdm", mdm_url=mdm.url, mdm_api_key=MDM_API_KEY, install_via="command")
        if action == "uninstall":
            options["reclaim_when"] = "sent"
    else:
        options["install_via"] = "license"
    return {"mdm.vpp.vpp_deployment": options, "register": "measured"}


def timeline(apple, mdm, started, ended):
    """Seconds from the play's start to its first and last Apple request, first and last MDM enqueue, and end: where
    the wall time goes (before the first request: Ansible's and the module's start-up, the members file, the plan;
    after the last: the members' states, the result and Ansible's handling of it)."""
    apple_times = [entry["time"] for entry in sim_hook(apple, "GET", "request_log?location=" + LOCATION)]
    points = {"apple_first": min(apple_times), "apple_last": max(apple_times), "end": ended}
    if mdm is not None:
        mdm_times = [entry["time"] for entry in mdm.hook("GET", "request_log") if entry["path"].startswith("/v1/")]
        points.update(mdm_first=min(mdm_times), mdm_last=max(mdm_times))
        # the MDM step: from the Apple request before the first enqueue to the Apple request after the last one
        # (install: the last status read, then the enqueues; uninstall: the asset read, then the enqueues, then the
        # first disassociate), or to the last enqueue when Apple is not asked after it
        before = max(t for t in apple_times if t <= points["mdm_first"])
        after = min([t for t in apple_times if t >= points["mdm_last"]] or [points["mdm_last"]])
        points.update(mdm_step_from=before, mdm_step_to=after)
    figures = {name: round(value - started, 1) for name, value in points.items()}
    if mdm is not None:
        figures["mdm_step"] = round(points["mdm_step_to"] - points["mdm_step_from"], 1)
    return figures


def mdm_span(log):
    """Seconds from the first to the last MDM enqueue the stand-in received (arrival times)."""
    times = [entry["time"] for entry in log if entry["method"] == "PUT" and entry["path"].startswith("/v1/enqueue")]
    return round(max(times) - min(times), 2) if times else 0.0


def queued_types(mdm, numbers):
    """The request types queued for the devices ``numbers`` (a spot check that the commands reached them)."""
    return {udid(number): [item["request_type"] for item in mdm.hook("GET", "queue?id=" + udid(number))]
            for number in numbers}  # fmt: skip


def run_mode(workdir, mode, devices, members, mdm_scenario):
    """Install then uninstall ``devices`` with one mode, each in its own ansible-playbook; the figures."""
    apple = start_apple(workdir, "apple-" + mode, apple_scenario(devices))
    mdm = MDMServerProcess(mdm_scenario, "nanomdm", MDM_API_KEY) if mode == "command" else None
    base = importable_collection(os.path.join(workdir, mode + "-ansible"))
    env = {"VPP_STORE": os.path.join(workdir, mode, "vpp.db"), "VPP_STORE_KEY": STORE_KEY, "VPP_API_URL": apple.url}
    figures = {"mdm_start_seconds": round(mdm.startup_seconds, 1) if mdm else None}
    try:
        register_tokens(env["VPP_STORE"], apple.tokens_dir, 1)
        run_play(base, mode + "-sync", [{"mdm.vpp.vpp_sync": {}, "register": "measured"}], env)  # set-up: metadata
        for action in ("install", "uninstall"):
            clear(apple, mdm)
            memory, load, started = {}, load_average(), time.time()
            seconds, result = run_play(base, "%s-%s" % (mode, action), [deployment_task(mode, action, members, mdm)],
                                       env, memory=memory)  # fmt: skip
            figures[action] = measured(apple, mdm, action, devices, seconds, result, memory, load)
            figures[action]["timeline"] = timeline(apple, mdm, started, time.time())
    finally:
        apple.stop()
        if mdm:
            mdm.stop()
    return figures


def clear(apple, mdm):
    root = apple.url.rsplit("/mdm/v2", 1)[0]
    import requests  # pylint: disable=import-outside-toplevel

    requests.delete(root + "/_sim/request_log", timeout=600).raise_for_status()
    if mdm:
        mdm.hook("DELETE", "request_log")


def measured(apple, mdm, action, devices, seconds, result, memory, load):
    counted = api_requests(apple)
    batches = math.ceil(devices / float(MAX_SERIAL_NUMBERS))
    write = "POST /mdm/v2/assets/%s" % ("associate" if action == "install" else "disassociate")
    item = {
        "seconds": round(seconds, 1),
        "load_before": load,
        "memory": memory,
        "done": result["counts"]["licensed" if action == "install" else "reclaimed"],
        "apple": {"requests": sum(counted.values()), "by_endpoint": counted, "writes": counted.get(write, 0),
                  "minimum": 1 + 2 * batches},
    }  # fmt: skip
    item["apple"]["floor_seconds"] = round(item["apple"]["minimum"] / float(APPLE_RATE), 1)
    if mdm is not None:
        counts = mdm.hook("GET", "request_counts")
        mdm_result = result.get("mdm") or {}
        item["mdm"] = {
            "requests": sum(counts.values()),
            "by_endpoint": counts,
            "enqueues": counts.get(ENQUEUE, 0),
            "minimum": math.ceil(devices / float(ids_per_enqueue())),
            "span_seconds": mdm_span(mdm.hook("GET", "request_log")),
            "sent": (mdm_result.get("counts") or {}).get("sent" if action == "install" else "removal_sent", 0),
            "install_states": mdm_result.get("install_states"),
            "queued_spot_check": queued_types(mdm, (0, devices - 1)),
        }  # fmt: skip
    return item


def bench(devices):
    figures = {"devices": devices, "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "load_at_start": load_average(), "machine": machine(),
               "nproc": len(os.sched_getaffinity(0))}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="vpp-bench-mdm-") as workdir:
        members, mdm_scenario = write_inputs(workdir, devices)
        figures["ids_per_enqueue"] = None
        for mode in MODES:
            started = time.monotonic()
            figures[mode] = run_mode(workdir, mode, devices, members, mdm_scenario)
            sys.stderr.write("%s (%.0f s): %s\n" % (mode, time.monotonic() - started, json.dumps(figures[mode])))
        figures["ids_per_enqueue"] = ids_per_enqueue()
    figures["load_at_end"] = load_average()
    return figures


# --- the report -------------------------------------------------------------------------------------------------


def thousands(number):
    return f"{number:,}"


def report(figures):
    devices, size = figures["devices"], figures["ids_per_enqueue"]
    license_, command = figures["license"], figures["command"]
    lines = ["# B7 install through NanoMDM on %s devices, then uninstall" % thousands(devices), "",
             "Written by `python tests/bench/bench_mdm.py` (see its docstring; `make bench` runs it).",
             "`mdm.vpp.vpp_deployment` of one app to %s devices in a `members_file` (`serial,enrollment_id`)," % (
                 thousands(devices)),
             "one real `ansible-playbook` per row, `wait: true`; the Apple simulator enforces Apple's %d requests/s"
             % APPLE_RATE,
             "(`maxSerialNumbers` %s). `command`: `mdm_type: nanomdm`, `install_via: command` against the MDM stand-in"
             % thousands(MAX_SERIAL_NUMBERS),
             "(`python -m tests.mdm_simulator --flavor nanomdm`, every device enrolled, no licence oracle), then the",
             "uninstall with `reclaim_when: sent` (RemoveApplication batches, then the licenses back). `license`: the",
             "same deployment with `install_via: license` (no MDM, what B5 measures), for the time the MDM part adds.",
             "The devices do not connect: this measures what the collection sends.", "",
             "- Machine: %s; `nproc` %d." % (figures["machine"], figures["nproc"]),
             "- Run started %s; load average at start %s, at end %s (1, 5, 15 min)."
             % (figures["started"], figures["load_at_start"], figures["load_at_end"]),
             "- The machine was shared with other jobs (other sessions' tests; the load average before each play is",
             "  in the table): wall times stretch with the load, request counts do not.",
             "- NanoMDM batch: **%d enrollment ids per `PUT /v1/enqueue`** (the driver's `max_ids_per_enqueue`),"
             % size,
             "  so the MDM minimum is ceil(%s / %d) = %s enqueues per action."
             % (thousands(devices), size, thousands(math.ceil(devices / float(size)))),
             "- Apple minimum: one asset read (fresh counts) + one write per %s devices + one status read per event"
             % thousands(MAX_SERIAL_NUMBERS),
             "  = %d requests; its rate-limit floor is that / %d = %s s." % (
                 command["install"]["apple"]["minimum"], APPLE_RATE, command["install"]["apple"]["floor_seconds"]),
             "- Peak RSS: the `ansible-playbook` process tree (controller, worker, module) sampled every 0.1 s: the",
             "  largest sum of `VmRSS` at one sample, and the largest single process's `VmHWM` (the module's).", "",
             "| mode | action | wall time (s) | / Apple floor | Apple requests / minimum | MDM enqueues / minimum | "
             "MDM requests | MDM span (s) | members done | peak RSS tree / process (MB) | load before |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for mode in MODES:
        for action in ("install", "uninstall"):
            item = figures[mode][action]
            mdm = item.get("mdm")
            lines.append("| %s | %s | %s | %.2fx | %d / %d | %s | %s | %s | %s | %s / %s | %s |" % (
                mode, action, item["seconds"], item["seconds"] / item["apple"]["floor_seconds"],
                item["apple"]["requests"], item["apple"]["minimum"],
                "%s / %s" % (thousands(mdm["enqueues"]), thousands(mdm["minimum"])) if mdm else "-",
                thousands(mdm["requests"]) if mdm else "-", mdm["span_seconds"] if mdm else "-",
                thousands(item["done"]), item["memory"]["tree_peak_rss_mb"], item["memory"]["process_peak_rss_mb"],
                item["load_before"]))  # fmt: skip
    lines += ["", "Where the wall time goes: seconds from the start of `ansible-playbook` to its first and last",
              "request to Apple, its first and last request to the MDM, and its end. Before the first request:",
              "Ansible's and the module's start-up, the members file read and checked, the store read, the plan.",
              "After the last: the members' states written, the result (every member listed) returned and handled",
              "by Ansible, the play's `copy` of it.", "",
              "| mode | action | first Apple | last Apple | first MDM | last MDM | end | MDM step |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for mode in MODES:
        for action in ("install", "uninstall"):
            points = figures[mode][action]["timeline"]
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                mode, action, points["apple_first"], points["apple_last"], points.get("mdm_first", "-"),
                points.get("mdm_last", "-"), points["end"], points.get("mdm_step", "-")))  # fmt: skip
    lines += ["", "What the MDM part adds. *MDM step*: measured inside the `command` run, from the Apple request",
              "before the first enqueue to the Apple request after the last one (install: Apple's last status read,",
              "then the enqueues; uninstall: the asset read, then the removals, then the first disassociate): the",
              "members' rows and enrollments read, the commands planned, each batch recorded `sending`, enqueued and",
              "recorded `sent` (an upper bound: the step also holds what a license-only run does between those two",
              "Apple requests). *Difference*: `command` minus `license` wall time, two runs minutes apart, so it",
              "also carries the change of load between them (other jobs' tests; see the load column).", ""]  # fmt: skip
    for action in ("install", "uninstall"):
        extra = command[action]["seconds"] - license_[action]["seconds"]
        mdm, step = command[action]["mdm"], command[action]["timeline"]["mdm_step"]
        lines.append("- %s: MDM step **%s s** (%.2f ms per device), of which the %s enqueues spanned %s s in the "
                     "stand-in's log; difference %+.1f s; %s members recorded %s." % (
                         action, step, 1000.0 * step / devices, thousands(mdm["enqueues"]), mdm["span_seconds"],
                         extra, thousands(mdm["sent"]),
                         "sent" if action == "install" else "removal_sent"))  # fmt: skip
    met = all(figures[mode][action]["apple"]["requests"] == figures[mode][action]["apple"]["minimum"]
              for mode in MODES for action in ("install", "uninstall")) and all(
        command[action]["mdm"]["enqueues"] == command[action]["mdm"]["minimum"]
        and command[action]["mdm"]["requests"] == command[action]["mdm"]["enqueues"]
        for action in ("install", "uninstall"))  # fmt: skip
    spot = command["uninstall"]["mdm"]["queued_spot_check"]
    lines += ["- Requests equal the minimum on both sides (and the MDM saw nothing but enqueues): %s."
              % ("met" if met else "**missed**"),
              "- Spot check, the queues of the first and last device after the uninstall: %s."
              % "; ".join("%s %s" % (key, " then ".join(value)) for key, value in sorted(spot.items())),
              ""]  # fmt: skip
    return "\n".join(lines) + "\n"


def render(figures):
    write_report(REPORT, report(figures))
    sys.stderr.write("wrote %s\n" % REPORT)
    # docs/BENCHMARKS.md includes this report: rewrite it from the district benchmark's last figures
    subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "bench_district.py"), "--render"],
                   check=True)  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true", help="print the figures instead of writing the report")
    parser.add_argument("--render", action="store_true", help="rewrite the report from the last run's figures")
    args = parser.parse_args(argv)
    if args.render:
        with open(FIGURES, encoding="utf-8") as handle:
            render(json.load(handle))
        return 0
    figures = bench(args.devices)
    if args.no_write:
        print(json.dumps(figures, indent=1))
        sys.stdout.write(report(figures))
        return 0
    with open(FIGURES, "w", encoding="utf-8") as handle:
        json.dump(figures, handle, indent=1)
    render(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
