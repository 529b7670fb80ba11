# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark (not a test): the collection at Apple's real latency, each run against its floor in the same run.

The simulator answers every ``/mdm/v2`` request after ``latency_ms`` (300 ms, what Apple takes) and enforces
Apple's 15 requests/s per location; concurrency, not CPU, is then the bound. Writes docs/benchmarks/latency.md,
which docs/BENCHMARKS.md includes.

- B4L 3,000 locations x (20 assets, 300 assignments): full and incremental ``vpp_sync`` with *default* options
  through ``ansible-playbook``; floor = the same requests from a bare loop of threads at the same concurrency.
- B5 / B5L ``vpp_deployment`` of one app to 100,000 devices at 0 and at 300 ms a request; floor = its minimum
  requests at 15 requests/s.

    .venv/bin/python tests/bench/bench_latency.py                          # everything, writes the report
    .venv/bin/python tests/bench/bench_latency.py --only B4L --locations 300 --no-write
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from bench_district import (
    deployment_task,
    own_run,
    register_tokens,
    run_steps,
    sim_hook,
    start_simulator,
    verdict,
)
from benchlib import (
    ROOT,
    figures_from_child,
    importable_collection,
    load_average,
    machine,
    print_figures,
    read_token,
    write_report,
)

sys.path.insert(0, ROOT)  # for the simulator's scenario generator
from tests.simulator.scenario import generated_scenario

REPORT = os.path.join(ROOT, "docs", "benchmarks", "latency.md")
FIGURES = os.path.join(ROOT, "docs", "benchmarks", "latency.json")
PAGE_SIZE = 1000
APPLE_RATE = 15
LATENCY_MS = 300
STORE_KEY = "benchmark store key"
RSS_TARGET_MB = 300
B4L_TARGETS = {"incremental": 60.0, "full": 120.0}
B5_TARGET = 1.3
PARALLEL_CEILING = 64  # vpp_sync's default concurrency: one token per thread, at most 64 (parallel.py)
SCENARIOS = ("B4L", "B5", "B5L", "B5M")
UNPACED_RATE = 100000  # B5M: the rate advertised with the rate limit off (memory, not time, is measured)


# --- helpers ------------------------------------------------------------------------------------------------------


def play(base, name, tasks, env, keep):
    """One ``ansible-playbook`` run; returns its figures and the result of the task registered as ``measured``.

    ``seconds``: the whole run; ``until_result_seconds``: from its start until the measured task's result is back
    at the controller (what a user waits for; the run then spends more in the benchmark's own task writing that
    result to a file). ``peak_rss_mb``: ``wait4``'s of the ansible-playbook process, the largest of it and every
    process it waited for (the module's among them), so an upper bound of the module's own. ``keep``: the Jinja
    expression of what the run writes of the result (small: templating a whole 100,000-member result would
    weigh on the controller's time and memory, which is not what is measured).
    """
    output = os.path.join(base, name + ".json")
    stamp = {"ansible.builtin.set_fact": {"result_at": "{{ now().timestamp() }}"}}
    write = {"ansible.builtin.copy": {"content": "{{ {'result': %s, 'at': result_at} | to_json }}" % keep,
                                      "dest": output}}  # fmt: skip
    playbook = [{"hosts": "localhost", "gather_facts": False, "tasks": tasks + [stamp, write]}]
    path = os.path.join(base, name + ".yml")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(playbook, handle)
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=base,
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_HOME=os.path.join(base, "ansible-home"),
        **env,
    )
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
               path]  # fmt: skip
    log = os.path.join(base, name + ".log")
    launched, started = time.time(), time.perf_counter()
    with open(log, "w", encoding="utf-8") as handle:
        process = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)
        status, usage = os.wait4(process.pid, 0)[1:]
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        with open(log, encoding="utf-8") as handle:
            raise RuntimeError("ansible-playbook %s failed:\n%s" % (path, handle.read()[-4000:]))
    with open(output, encoding="utf-8") as handle:
        written = json.load(handle)
    figures = {"seconds": round(seconds, 1), "until_result_seconds": round(float(written["at"]) - launched, 1),
               "peak_rss_mb": round(usage.ru_maxrss / 1024.0, 1)}  # fmt: skip
    return figures, written["result"]


# --- B4L floor: a bare loop of threads ------------------------------------------------------------------------------


def child_floor_many(args):
    """The B4L floor: per location, client config, then page 0 of assets, assignments and users at once (what the
    engine asks, in two round trips), ``concurrency`` locations at once, one bare ``requests`` session; the full
    one also looks the 20 apps up once. Nothing is stored. Version ids are kept for the incremental run."""
    started = time.monotonic()
    url, concurrency = args["url"], args["concurrency"]
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=concurrency * 4)
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    config = session.get(url + "/service/config", timeout=120).json()
    versions = {}
    if args.get("versions"):
        with open(args["versions"], encoding="utf-8") as handle:
            versions = json.load(handle)
    count, lock = [1], threading.Lock()
    pages = ThreadPoolExecutor(max_workers=concurrency * 2, thread_name_prefix="floor-pages")

    def get(path, headers, params=None):
        answer = session.get(url + path, headers=headers, params=params, timeout=120)
        answer.raise_for_status()
        with lock:
            count[0] += 1
        return answer.json()

    def one(location):
        headers = {"Authorization": "Bearer " + read_token(args["tokens_dir"], location)}
        get("/client/config", headers)
        since = versions.get(location)
        later = [pages.submit(get, "/" + kind, headers, {"sinceVersionId": since[kind]} if since else None)
                 for kind in ("assignments", "users")]  # fmt: skip
        get("/assets", headers)
        kinds = ("assignments", "users")
        return location, {kind: future.result().get("versionId") for kind, future in zip(kinds, later, strict=True)}

    locations = ["loc-%05d" % index for index in range(args["locations"])]
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="floor") as pool:
        found = dict(pool.map(one, locations))
    pages.shutdown()
    if not versions:
        ids = ",".join(str(6000000000 + index) for index in range(20))
        token = read_token(args["tokens_dir"], locations[0])
        session.get(config["urls"]["contentMetadataLookup"], params={"version": 2, "id": ids, "p": "mdm-lockup",
                    "caller": "MDM", "platform": "enterprisestore", "cc": "US"}, cookies={"itvt": token},
                    timeout=120).raise_for_status()  # fmt: skip
        count[0] += 1
        with open(args["save_versions"], "w", encoding="utf-8") as handle:
            json.dump(found, handle)
    return {"seconds": round(time.monotonic() - started, 2), "requests": count[0]}


def bench_many_locations_latency(workdir, locations):
    """B4L: one vpp_sync task with default options over every token, full then incremental, each next to the floor."""
    scenario = generated_scenario(locations, assets=20, assignments=300)
    scenario["settings"].update(page_size=PAGE_SIZE, event_delay=0.01, latency_ms=LATENCY_MS)
    scenario["limits"] = {"maxRequestPerSecond": APPLE_RATE}
    server = start_simulator(workdir, "b4l", scenario)
    base = os.path.join(workdir, "b4l-ansible")
    importable_collection(base)
    store = os.path.join(workdir, "b4l", "vpp.db")
    env = {"VPP_STORE": store, "VPP_STORE_KEY": STORE_KEY, "VPP_API_URL": server.url}
    concurrency = min(locations, PARALLEL_CEILING)
    figures = {
        "locations": locations,
        "concurrency": concurrency,
        "latency_ms": LATENCY_MS,
        "simulator_start_seconds": round(server.startup_seconds, 1),
        "load_at_start": load_average(),
    }
    versions = os.path.join(workdir, "b4l-versions.json")
    try:
        register_tokens(store, server.tokens_dir, locations)
        for mode in ("full", "incremental"):
            task = {"mdm.vpp.vpp_sync": {"mode": mode}, "register": "measured"}
            played, result = play(base, "b4l-" + mode, [task], env, "{'totals': measured.totals}")
            totals = result["totals"]
            floor_args = {"kind": "floor_many", "url": server.url, "tokens_dir": server.tokens_dir,
                          "locations": locations, "concurrency": concurrency}  # fmt: skip
            floor_args.update({"save_versions": versions} if mode == "full" else {"versions": versions})
            floor = figures_from_child(os.path.abspath(__file__), "--child", json.dumps(floor_args))
            figures[mode] = dict(played, module_seconds=totals["duration"], requests=totals["requests"]["total"],
                                 succeeded=totals["succeeded"], assignments_added=totals["assignments"]["added"],
                                 floor=floor, ratio=round(totals["duration"] / floor["seconds"], 2))  # fmt: skip
        figures["load_at_end"] = load_average()
    finally:
        server.stop()
    return figures


def bench_deployment_latency(workdir, devices, latency_ms, rate=APPLE_RATE, actions=("install", "uninstall")):
    """B5 (0 ms) / B5L (300 ms): vpp_deployment of one app to ``devices`` serial numbers, then the uninstall, at
    ``rate`` requests/s; floor = the minimum requests at that rate (one asset read, one write per 1,000 devices, one
    status read per event). Action ``rerun`` is the install once more (B5M: nothing to write, the stored rows read),
    ``check`` the same in check mode."""
    adam_id = "7000000001"
    scenario = {"settings": {"page_size": PAGE_SIZE, "event_delay": 0.01, "latency_ms": latency_ms,
                             "enforce_rate_limit": rate <= APPLE_RATE},
                "limits": {"maxRequestPerSecond": rate},
                "locations": [{"key": "loc-00000", "assets": [{"adamId": adam_id, "name": "Bench App",
                                                               "total": devices + 1000}]}]}  # fmt: skip
    name = "b5-%d-%d" % (devices, latency_ms)
    server = start_simulator(workdir, name, scenario)
    base = os.path.join(workdir, name + "-ansible")
    importable_collection(base)
    store = os.path.join(workdir, name, "vpp.db")
    members = os.path.join(workdir, name + "-devices.txt")
    with open(members, "w", encoding="ascii") as handle:
        for start in range(0, devices, 10000):
            handle.write("".join("BNCH%08d\n" % number for number in range(start, min(start + 10000, devices))))
    env = {"VPP_STORE": store, "VPP_STORE_KEY": STORE_KEY, "VPP_API_URL": server.url}
    limit = 1000  # maxSerialNumbers the simulator advertises (Apple's value)
    batches = math.ceil(devices / float(limit))
    minimum = 1 + 2 * batches
    figures = {"devices": devices, "latency_ms": latency_ms, "rate": rate, "max_serial_numbers": limit,
               "minimum": minimum, "floor_seconds": round(minimum / float(rate), 2)}  # fmt: skip
    try:
        register_tokens(store, server.tokens_dir, 1)
        for action in actions:
            sim_hook(server, "DELETE", "request_log")
            task = deployment_task("uninstall" if action == "uninstall" else "install", adam_id, members)
            if action == "check":
                task["check_mode"] = True
            keep = (
                "{'licensed': measured.counts.licensed | default(0), 'reclaimed': measured.counts.reclaimed "
                "| default(0), 'changed': measured.changed}"
            )
            played, result = play(base, "%s-%s" % (name, action), [task], env, keep)
            counted = sim_hook(server, "GET", "request_counts?location=loc-00000")
            write = "POST /mdm/v2/assets/%s" % ("disassociate" if action == "uninstall" else "associate")
            figures[action] = dict(played, done=result["reclaimed" if action == "uninstall" else "licensed"],
                                   changed=result["changed"],
                                   write_requests=counted.get(write, 0),
                                   status_requests=counted.get("GET /mdm/v2/status", 0),
                                   requests=sum(counted.values()), by_endpoint=counted,
                                   ratio=round(played["until_result_seconds"] / max(figures["floor_seconds"], 0.01), 2),
                                   )  # fmt: skip
    finally:
        server.stop()
    return figures


# --- the report -------------------------------------------------------------------------------------------------------


def b4l_section(run):
    lines = ["## B4L %s locations x (20 assets, 300 assignments) at Apple's latency" % f"{run['locations']:,}", "",
             "One real `ansible-playbook` run per mode, one `mdm.vpp.vpp_sync` task with *default* options (so",
             "`parallel` unset: %d tokens at once) over every token of the store; the simulator answers each request"
             % run["concurrency"],
             "after %d ms and enforces 15 requests/s per location. Floor: a bare loop of %d threads making the same"
             % (run["latency_ms"], run["concurrency"]),
             "requests (per location client config, then page 0 of assets, assignments and users at once, as the",
             "engine does), one `requests` session, nothing stored; run right after the engine, against the same",
             "simulator. *Until result*: from the start of `ansible-playbook` until the task's result is back at the",
             "controller (what a user waits for); *play*: the whole run, which then writes a summary to a file.",
             "Load average at start %s, at end %s." % (run["load_at_start"], run.get("load_at_end", "?")), "",
             "| mode | until result (s) | play (s) | module (s) | floor (s) | module / floor | requests engine / floor "
             "| tokens synced | peak RSS (MB) |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for mode in ("full", "incremental"):
        item = run[mode]
        lines.append("| %s | %s | %s | %s | %s | **%s** | {:,} / {:,} | {:,} | %s |".format(
            item["requests"], item["floor"]["requests"], item["succeeded"]) % (
            mode, item["until_result_seconds"], item["seconds"], item["module_seconds"], item["floor"]["seconds"],
            item["ratio"], item["peak_rss_mb"]))  # fmt: skip
    lines.append("")
    for mode in ("incremental", "full"):
        took, target = run[mode]["until_result_seconds"], B4L_TARGETS[mode]
        lines.append(
            "- %s under %d s with default options: %s (%s s)."
            % (mode.capitalize(), target, verdict(took < target, "by %.1f s" % (took - target)), took)
        )
    peak = max(run[mode]["peak_rss_mb"] for mode in ("full", "incremental"))
    lines += ["- Peak RSS under %d MB: %s (%s MB, the largest process of the play)."
              % (RSS_TARGET_MB, verdict(peak < RSS_TARGET_MB), peak), ""]  # fmt: skip
    return lines


WHY_B5 = (
    "- Why above the floor: the requests are at the minimum and overlap (5 writes, then 5 status reads in flight, "
    "paced by the token's limiter), and since issue 18 the module's bookkeeping overlaps them too: each event's "
    "outcome is recorded as its status comes back (`wait_for_events(on_result=)`), members are marked pending and "
    "settled by primary key (nothing read back), and the result counts members instead of listing them (Ansible's "
    "`remove_values` over 100,000 ids and the 10 MB result are gone). What remains is not overlapped: Ansible's "
    "start and the module's imports, reading, checking and planning the 100,000 members, writing their rows before "
    "the first call, the 1 s wait Apple asks before the first status read (writes and status reads are still two "
    "phases), and on this shared 2-core machine the SQLite writes of each batch (intent, pending state, outcome, "
    "assignment and its audit row), which under load take about as long as the 67 ms between two requests at "
    "15/s. Interleaving the status reads with the writes (events.py, being reworked for Apple's notifications) and "
    "writing members' rows batch by batch would overlap most of the rest."
)


def b5_section(name, run):
    lines = ["## %s deploy one app to %s devices, then uninstall, at %d ms a request" % (
             name, f"{run['devices']:,}", run["latency_ms"]), "",
             "`mdm.vpp.vpp_deployment` through `ansible-playbook`, the members in a `members_file`, `wait: true`;",
             "Apple's %d requests/s enforced, `maxSerialNumbers` %d. Floor = the minimum requests (one asset read,"
             % (run["rate"], run["max_serial_numbers"]),
             "one write per %d devices, one status read per event: %d) at %d requests/s = %s s."
             % (run["max_serial_numbers"], run["minimum"], run["rate"], run["floor_seconds"]), *own_run(run), "",
             "| action | until result (s) | play (s) | floor (s) | ratio | writes | status reads | requests / minimum "
             "| members done | peak RSS (MB) |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for action in ("install", "uninstall"):
        item = run[action]
        lines.append("| %s | %s | %s | %s | **%s** | %d | %d | %d / %d | {:,} | %s |".format(item["done"]) % (
            action, item["until_result_seconds"], item["seconds"], run["floor_seconds"], item["ratio"],
            item["write_requests"], item["status_requests"], item["requests"], run["minimum"],
            item["peak_rss_mb"]))  # fmt: skip
    worst = max(run[action]["ratio"] for action in ("install", "uninstall"))
    minimum = all(run[action]["requests"] == run["minimum"] for action in ("install", "uninstall"))
    peak = max(run[action]["peak_rss_mb"] for action in ("install", "uninstall"))
    return lines + ["", "- Within %.1fx of the floor: %s, worst %.2fx." % (
                    B5_TARGET, verdict(worst <= B5_TARGET, "by %.0f%%" % ((worst / B5_TARGET - 1) * 100)), worst),
                    *([WHY_B5] if worst > B5_TARGET else []),
                    "- Requests at the minimum: %s." % verdict(minimum),
                    "- Peak RSS under %d MB: %s (%s MB)." % (RSS_TARGET_MB, verdict(peak < RSS_TARGET_MB), peak),
                    ""]  # fmt: skip


def b5m_section(run):
    runs = [(action, run[action]) for action in ("install", "rerun", "check") if action in run]
    peak = max(item["peak_rss_mb"] for _action, item in runs)
    row = "| {} | {:,} | {} | {:,} | {:,} | {} | {} |"
    return ["## B5M memory of a %s-member deployment" % f"{run['devices']:,}", "",
            "The B5 install with %s devices in its `members_file`, the rate limit off (memory, not time, is measured)."
            % f"{run['devices']:,}",
            "Then the same task once more (*rerun*): every member is stored and licensed, so it writes nothing;",
            "then again in check mode (*check*), which predicts the members' states without a row a member.",
            "Peak RSS is the largest process of the play (the module's or the controller's, which receives a result",
            "of counts and the first 100 members of each list).", *own_run(run), "",
            "| run | devices | until result (s) | requests | members licensed by the run | changed | peak RSS (MB) |",
            "|---|---:|---:|---:|---:|---|---:|",
            *[row.format(action, run["devices"], item["until_result_seconds"], item["requests"], item["done"],
                         item.get("changed", "?"), item["peak_rss_mb"]) for action, item in runs],
            "",
            *["- Peak RSS under %d MB, %s: %s." % (RSS_TARGET_MB, action, verdict(
                item["peak_rss_mb"] < RSS_TARGET_MB, "%s MB" % item["peak_rss_mb"])) for action, item in runs],
            HOW_B5M, *([WHY_B5M] if peak >= RSS_TARGET_MB else []), ""]  # fmt: skip


WHY_B5M = (
    "- Why not: the peak is the largest of the members file read (the members and one set of their ids, to find "
    "duplicates) and, in the rerun, the stored rows read beside the members; each grows with the members. Flat "
    "memory needs the members streamed into the store and the plan computed in SQL: not done."
)


HOW_B5M = (
    "- How: the result lists no members (counts, and the first 100 of each list), so the controller stays small: "
    "the peak is the module's. It holds the members compact (`member_list.MemberList`: the ids in one list of "
    "strings, about 70 bytes a member, optional columns such as the device user or enrollment id only when the "
    "file gives them), the plan's lists as indexes over them (`EntryList`, an `array('I')`: 4 bytes a member, "
    "each entry built when read), finds duplicates with one set of the ids, and writes member rows in chunks; "
    "before: one dict a member (about 330 bytes) and one a plan entry (about 240), 703 MB. The rerun reads the "
    "stored rows into columns of codes (`StoredMembers`: sorted ids, each column an `array('I')` into the "
    "distinct values, a row built when read), each stored id the member's own string (found by bisection in an "
    "index of the members sorted: one string an id, not a copy in each structure); the app's holders that are "
    "stored members are a byte each over the stored ids (`TargetSet`), the members that left and the members "
    "already settled are marks, not sets or dicts of the ids. Before: a dict a stored row, a tuple a holder, a "
    "copy of every id in each, 1,377 MB. Check mode (without an MDM) counts the predicted states "
    "(`deployment_views.predicted_states`) instead of building a row a member (`predicted_rows`, 0.6 KB or more each)."
)


def report(figures):
    lines = ["# Benchmarks at Apple's latency", "",
             "Written by `python tests/bench/bench_latency.py` (part of `make bench`); docs/BENCHMARKS.md includes its",
             "tables. Every scenario runs next to its floor in the same run: on this shared machine ratios survive the",
             "load, absolute times do not.", "",
             "- Machine: %s." % figures["machine"],
             "- Run started %s; load average at start %s, at end %s (1, 5, 15 min)."
             % (figures["started"], figures["load_at_start"], figures["load_at_end"]), ""]  # fmt: skip
    if "B4L" in figures:
        lines += b4l_section(figures["B4L"])
    for name in ("B5", "B5L"):
        if name in figures:
            lines += b5_section(name, figures[name])
    if "B5M" in figures:
        lines += b5m_section(figures["B5M"])
    return "\n".join(lines) + "\n"


# --- command line -----------------------------------------------------------------------------------------------------


def child_main(arguments):
    kind = arguments.pop("kind")
    print_figures({"floor_many": child_floor_many}[kind](arguments))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--locations", type=int, default=3000, help="B4L locations")
    parser.add_argument("--devices", type=int, default=100_000, help="B5 and B5L devices")
    parser.add_argument("--memory-devices", type=int, default=1_000_000, help="B5M devices (peak RSS)")
    parser.add_argument("--no-write", action="store_true", help="print the figures instead of writing the report")
    parser.add_argument("--render", action="store_true", help="rewrite the report from the last run's figures")
    merge = "run --only's scenarios one at a time and merge them into the last run's figures"
    parser.add_argument("--merge", action="store_true", help=merge)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(json.loads(args.child))
        return 0
    if args.render:
        with open(FIGURES, encoding="utf-8") as handle:
            write_report(REPORT, report(json.load(handle)))
        return 0
    figures = {"load_at_start": load_average(), "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "machine": "%s; `nproc` %d" % (machine(), len(os.sched_getaffinity(0)))}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="vpp-bench-latency-") as workdir:
        steps = {
            "B4L": lambda: bench_many_locations_latency(workdir, args.locations),
            "B5": lambda: bench_deployment_latency(workdir, args.devices, 0),
            "B5L": lambda: bench_deployment_latency(workdir, args.devices, LATENCY_MS),
            "B5M": lambda: bench_deployment_latency(
                workdir, args.memory_devices, 0, UNPACED_RATE, ("install", "rerun", "check")
            ),
        }
        if args.merge:
            merge_steps(steps, args.only)
        elif run_steps(steps, args.only, figures, args.no_write, FIGURES):
            write_report(REPORT, report(figures))
            sys.stderr.write("wrote %s\n" % REPORT)
    return 0


def merge_steps(steps, only):
    """Run ``only`` one at a time, each with its own start time and load, into the last run's figures (the
    scenarios share 2 cores with whatever else runs: a quiet moment per scenario beats one long run)."""
    with open(FIGURES, encoding="utf-8") as handle:
        figures = json.load(handle)
    for name in only:
        started, load = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), load_average()
        figures[name] = steps[name]()
        figures[name]["measured"] = "%s, load average %s at start, %s at end" % (started, load, load_average())
        sys.stderr.write("%s: %s\n" % (name, json.dumps(figures[name])))
        with open(FIGURES, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=1)
        write_report(REPORT, report(figures))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
