# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python -m tests.mdm_simulator --flavor nanomdm --scenario F --port 0 --port-file F``: serve until SIGTERM."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from .scenario import SMALL_SCENARIO
from .simulator import MDMSimulator
from .state import FLAVORS


def parser():
    result = argparse.ArgumentParser(prog="python -m tests.mdm_simulator", description=__doc__)
    result.add_argument("--flavor", choices=FLAVORS, default="nanomdm")
    result.add_argument("--scenario", default=SMALL_SCENARIO)
    result.add_argument("--port", type=int, default=0)
    result.add_argument("--port-file", help="write the port here once listening; removed on exit")
    result.add_argument("--api-key", default="secret")
    result.add_argument("--backend", choices=("kv", "mysql"), default="kv")
    result.add_argument("--webhook-url")
    result.add_argument("--webhook-hmac-key")
    result.add_argument("--license-oracle", help='JSON {"apple_sim_url": URL, "location": KEY}')
    result.add_argument("--background", action="store_true", help="devices connect by themselves after a push")
    return result


def main(argv=None):
    args = parser().parse_args(argv)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    mdm = MDMSimulator(args.scenario, flavor=args.flavor, api_key=args.api_key, port=args.port,
                       webhook_url=args.webhook_url, webhook_hmac_key=args.webhook_hmac_key, backend=args.backend,
                       license_oracle=json.loads(args.license_oracle) if args.license_oracle else None)  # fmt: skip
    try:
        mdm.start()
        mdm.configure(background=args.background)
        if args.port_file:
            with open(args.port_file, "w", encoding="ascii") as handle:
                handle.write("%d\n" % mdm.port)
        sys.stdout.write("URL=%s\nFLAVOR=%s\n" % (mdm.url, mdm.flavor))
        sys.stdout.flush()
        while not stop.wait(0.2):
            pass
    finally:
        mdm.stop()
        if args.port_file and os.path.exists(args.port_file):
            os.remove(args.port_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
