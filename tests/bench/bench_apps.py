# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of the app listing behind vpp_app_info (not a test): time, SQL statements, real module runs.

    .venv/bin/python tests/bench/bench_apps.py               # 1,000 and 10,000 apps, writes the report
    .venv/bin/python tests/bench/bench_apps.py --apps 2000   # one size, prints JSON only

The store holds N assets spread over 10 tokens (the same adamIds bought through every token, as organisations
do), catalogue metadata for each adamId, an application for one asset in ten, and an install deployment with 20
licensed members for each application. Measured: the listing in Python (store query + row shaping + filters,
median of 5), how many SQL statements it runs (must not grow with N), and real ``ansible-playbook`` runs of
``mdm.vpp.vpp_app_info`` over that store (whole list; a name filter; a JMESPath query). The report goes to
``docs/benchmarks/apps.md``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time

from benchlib import ROOT, content_token, importable_collection, machine, main_one_process_per_size, run_playbook

REPORT = os.path.join(ROOT, "docs", "benchmarks", "apps.md")
SIZES = (1_000, 10_000)
TOKENS = 10
MEMBERS_PER_DEPLOYMENT = 20
REPEATS = 5
BASELINE = "baseline: no vpp task"
PLAYS = {
    "whole list": {},
    "name filter": {"name": "app 12*"},
    "JMESPath query": {"query": "[?percent_used > `50`].{name: name, token: token, available: available}"},
}


def asset(index):
    total = 10 + index % 90
    assigned = index % total
    is_app = index % 10 != 9  # one asset in ten is a book
    return {"adam_id": str(1000000000 + index), "pricing_param": "STDQ", "product_type": "App" if is_app else "Book",
            "total_count": total, "assigned_count": assigned, "available_count": total - assigned,
            "device_assignable": is_app, "revocable": is_app, "platforms": ["iOS", "macOS"]}  # fmt: skip


def populate(store, apps):
    from ansible_collections.mdm.vpp.plugins.module_utils.stoken import parse_content_token

    per_token = apps // TOKENS
    store.put_metadata({"adam_id": str(1000000000 + i), "name": "App %d" % i, "bundle_id": "com.example.app%d" % i,
                        "version": "1.0"} for i in range(per_token))  # fmt: skip
    for number in range(TOKENS):
        token = "token-%02d" % number
        store.upsert_token(token, parse_content_token(content_token("bench-%d" % number)), token_type="business")
        store.replace_assets(token, [asset(i) for i in range(per_token)])
        for i in range(0, per_token, 10):
            application = "App %d (%s)" % (i, token)
            store.upsert_application(application, token=token, adam_id=str(1000000000 + i))
            store.upsert_deployment(application + " devices", application=application, collection_name="devices",
                                    collection_type="device", action="install", purpose="required")  # fmt: skip
            members = ({"member_id": "S%05d" % m, "state": "licensed"} for m in range(MEMBERS_PER_DEPLOYMENT))
            store.upsert_members(application + " devices", members)


def listing(store):
    from ansible_collections.mdm.vpp.plugins.module_utils.apps import app_facts, app_filter, parse_threshold

    threshold, keep = parse_threshold("10%"), app_filter(platform="iOS")
    return [app for app in (app_facts(row, threshold) for row in store.iter_licensed_assets()) if keep(app)]


def timed_listing(store):
    statements = []
    store.db.connection.set_trace_callback(statements.append)  # bench only: count what the listing asks SQLite
    durations = []
    for _run in range(REPEATS):
        statements.clear()
        started = time.perf_counter()
        apps = listing(store)
        durations.append(time.perf_counter() - started)
    store.db.connection.set_trace_callback(None)
    return {"listed": len(apps), "median_s": round(statistics.median(durations), 3), "sql_statements": len(statements)}


def play_seconds(base, store_path, options):
    """Wall time of one ansible-playbook run with one vpp_app_info task, and the number of apps it returned.

    ``options`` None: the same play without the vpp_app_info task (Ansible's own start-up and the copy task).
    """
    count = "{{ listed.apps | length }}" if options is not None else "0"
    tasks = [{"mdm.vpp.vpp_app_info": options, "register": "listed"}] if options is not None else []
    copy = {"ansible.builtin.copy": {"content": count, "dest": os.path.join(base, "count")}}
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [*tasks, copy]}]
    seconds = run_playbook(base, os.path.join(base, "play.json"), play, {"VPP_STORE": store_path})
    with open(os.path.join(base, "count"), encoding="utf-8") as handle:
        return {"seconds": round(seconds, 2), "apps": int(handle.read())}


def run_one(apps):
    from_dir = tempfile.mkdtemp(prefix="vpp-bench-apps-")
    importable_collection(from_dir)
    from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store

    store_path = os.path.join(from_dir, "store", "vpp.db")
    with open_store(store_path) as store:  # key file next to it: the plays open it the same way
        started = time.perf_counter()
        populate(store, apps)
        populated = round(time.perf_counter() - started, 1)
        measured = timed_listing(store)
    plays = {label: play_seconds(from_dir, store_path, options) for label, options in PLAYS.items()}
    plays[BASELINE] = play_seconds(from_dir, store_path, None)
    subprocess.run(["rm", "-rf", from_dir], check=True)
    return dict(measured, apps=apps, populate_s=populated, plays=plays)


def report(results, load_at_start):
    lines = [
        "# App listing benchmark (vpp_app_info)",
        "",
        "Generated by `.venv/bin/python tests/bench/bench_apps.py` (see its docstring). Not a test: times vary with",
        "the machine; what must hold is that the listing runs a fixed number of SQL statements whatever the number",
        "of apps (one query joining assets, tokens, metadata, applications and deployed counts).",
        "",
        "- Machine: %s" % machine(),
        "- Data: N assets over %d tokens, metadata for every adamId, an application for one asset in ten, each with"
        " an install deployment of %d licensed members." % (TOKENS, MEMBERS_PER_DEPLOYMENT),
        "- Listing: `store.iter_licensed_assets()` + `app_facts()` + platform filter + a 10%% threshold, median of"
        " %d runs in one process." % REPEATS,
        "- Plays: wall time of a whole `ansible-playbook` run with one `mdm.vpp.vpp_app_info` task (Ansible's own"
        " start-up included) and a `copy` task writing the number of apps returned.",
        "- Load average when the run started: %s (other jobs shared the machine; times stretch, statement counts"
        " do not)." % load_at_start,
        "",
        "| apps | listing (s) | SQL statements | %s | %s (s) | module overhead: whole list - baseline (s) |"
        % (" | ".join("play: %s (s, apps)" % label for label in PLAYS), BASELINE),
        "|---:|---:|---:|" + "---|" * len(PLAYS) + "---:|---:|",
    ]
    for item in results:
        plays = " | ".join("%.1f, %d" % (item["plays"][label]["seconds"], item["plays"][label]["apps"])
                           for label in PLAYS)  # fmt: skip
        baseline = item["plays"].get(BASELINE, {}).get("seconds")
        overhead = item["plays"]["whole list"]["seconds"] - baseline if baseline is not None else None
        lines.append(
            "| {:,} | {:.3f} | {} | {} | {} | {} |".format(
                item["apps"], item["median_s"], item["sql_statements"], plays,
                "-" if baseline is None else "%.1f" % baseline, "-" if overhead is None else "%.1f" % overhead)
        )  # fmt: skip
    lines += [
        "",
        "The module's own work is the listing column. A play costs Ansible's start-up (the baseline play: the same",
        "play without the vpp task) plus the module (start-up, store, listing) and moving its result: the whole list",
        "of the largest size is that many dictionaries serialised to JSON, registered and templated, which is where",
        "most of the module overhead column goes.",
        "",
    ]
    return "\n".join(lines)


def main():
    main_one_process_per_size(__file__, __doc__, "apps", SIZES, run_one, report, REPORT)


if __name__ == "__main__":
    main()
