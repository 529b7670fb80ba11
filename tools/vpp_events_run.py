# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the event source ``mdm.vpp.vpp_events`` without ansible-rulebook (and without Java): for ``make demo``.

    .venv/bin/python tools/vpp_events_run.py --collections run/collections --store run/store/vpp.db \\
        --port 0 --port-file run/events.port > run/events.jsonl

Loads ``extensions/eda/plugins/event_source/vpp_events.py`` of the collection found under ``--collections`` (the
folder holding ``ansible_collections/mdm/vpp``, as ansible-rulebook would find it) with ``runpy.run_path``, and
runs its ``async def main(queue, args)`` with a queue that prints each event as one JSON line on stdout: the MDM
server's webhook answers are recorded in the store exactly as under ansible-rulebook, with no rule behind them.

``--port 0`` picks a free port, written to ``--port-file`` at once (the MDM server needs the URL before it starts).
The event source opens the store when it starts, and the store is created by the first module run
(``vpp_token``): ``--wait-for-store`` seconds are waited for it; the port listens from then on. SIGTERM or
SIGINT stop it (the event source closes its server and the store); the port file is removed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import runpy
import signal
import socket
import sys
import time

SOURCE = os.path.join("ansible_collections", "mdm", "vpp", "extensions", "eda", "plugins", "event_source")


class PrintQueue(asyncio.Queue):
    """The queue ansible-rulebook would read: here each event is printed as one JSON line, then dropped."""

    async def put(self, item):
        sys.stdout.write(json.dumps(item, sort_keys=True) + "\n")
        sys.stdout.flush()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def parser():
    result = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    result.add_argument("--collections", required=True, help="the folder holding ansible_collections/mdm/vpp")
    result.add_argument("--store", help="the store (default: VPP_STORE)")
    result.add_argument("--host", default="127.0.0.1")
    result.add_argument("--port", type=int, default=0, help="0: a free port")
    result.add_argument("--port-file", help="write the port here at once; removed on exit")
    result.add_argument("--path", default="/mdm/webhook", help="the webhook path (mdm_path)")
    result.add_argument("--wait-for-store", type=float, default=300.0, help="seconds to wait for the store")
    return result


def wait_for(path, seconds):
    """Wait until the SQLite store ``path`` exists (a DSN is not waited for); False when the time is up."""
    if "://" in path and not path.startswith("sqlite://"):
        return True
    path = path[len("sqlite://") :] if path.startswith("sqlite://") else path
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


async def serve(source_main, args, deadline, not_ready):
    """The event source's ``main`` until SIGTERM/SIGINT. Its start is retried until ``deadline`` while it raises
    ``not_ready`` (the store's error: a new SQLite file has no schema for a moment)."""
    running = {"task": None, "stopping": False}

    def stop():
        running["stopping"] = True
        if running["task"] is not None:
            running["task"].cancel()

    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop)
    while not running["stopping"]:
        running["task"] = asyncio.ensure_future(source_main(PrintQueue(), args))
        try:
            await running["task"]
        except asyncio.CancelledError:
            break
        except not_ready:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
    return 0


def main(argv=None):
    args = parser().parse_args(argv)
    for number in (signal.SIGTERM, signal.SIGINT):  # stopped while waiting for the store: still clean up
        signal.signal(number, lambda *_: sys.exit(0))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    store = args.store or os.environ.get("VPP_STORE")
    if not store:
        sys.stderr.write("vpp_events_run: give --store (or set VPP_STORE)\n")
        return 2
    plugin = os.path.join(os.path.abspath(args.collections), SOURCE, "vpp_events.py")
    if not os.path.exists(plugin):
        sys.stderr.write("vpp_events_run: %s does not exist: --collections must hold ansible_collections/mdm/vpp\n"
                         % plugin)  # fmt: skip
        return 2
    port = args.port or free_port()
    if args.port_file:
        with open(args.port_file, "w", encoding="ascii") as handle:
            handle.write("%d\n" % port)
    try:
        started = time.monotonic()
        if not wait_for(store, args.wait_for_store):
            sys.stderr.write("vpp_events_run: the store %s did not appear in %.0f s\n" % (store, args.wait_for_store))
            return 1
        source = runpy.run_path(plugin, run_name="vpp_events")  # not __main__: its own demo block stays out
        # importable now: the event source put the collections folder on sys.path
        from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError

        options = {"host": args.host, "port": port, "store": store, "mdm_path": args.path}
        return asyncio.run(serve(source["main"], options, started + args.wait_for_store, StoreError))
    finally:
        if args.port_file and os.path.exists(args.port_file):
            os.remove(args.port_file)


if __name__ == "__main__":
    sys.exit(main())
