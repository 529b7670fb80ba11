# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line: ``python -m tests.simulator --scenario FILE`` serves; ``... generate`` writes a scenario."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from .scenario import generated_scenario, write_scenario
from .simulator import Simulator

DEFAULT_SCENARIO = os.path.join(os.path.dirname(__file__), "scenarios", "small.yml")


def serve_parser():
    parser = argparse.ArgumentParser(
        prog="python -m tests.simulator", description="Run the Apple VPP v2 simulator until SIGTERM/SIGINT."
    )
    parser.add_argument("--scenario", default=DEFAULT_SCENARIO, help="scenario file (.yml, .yaml or .json)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = random)")
    parser.add_argument("--tokens-dir", help="where <location>.vpptoken files are written (default: a temp dir)")
    parser.add_argument("--pid-file", help="write the process id here; removed on exit")
    parser.add_argument("--log-file", help="append one line per request here")
    parser.add_argument("--tls-cert", help="PEM certificate: serve https")
    parser.add_argument("--tls-key", help="PEM private key for --tls-cert")
    return parser


def generate_parser():
    parser = argparse.ArgumentParser(
        prog="python -m tests.simulator generate", description="Write a scenario whose data is generated at load time."
    )
    parser.add_argument("--locations", type=int, default=1)
    parser.add_argument("--assets", type=int, default=20)
    parser.add_argument("--assignments", type=int, default=300)
    parser.add_argument("--users", type=int, help="users per location (default: assignments / 10)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--type", choices=("business", "education"), default="business")
    parser.add_argument("--out", required=True, help="output file (.json or .yml)")
    return parser


def generate(argv):
    args = generate_parser().parse_args(argv)
    scenario = generated_scenario(args.locations, args.assets, args.assignments, args.users, args.seed, args.type)
    write_scenario(scenario, args.out)
    sys.stdout.write("SCENARIO=%s\n" % args.out)
    return 0


def serve(argv):
    args = serve_parser().parse_args(argv)
    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop.set())
    simulator = Simulator(
        args.scenario,
        tokens_dir=args.tokens_dir,
        port=args.port,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        log_file=args.log_file,
    )
    try:
        simulator.start()
        if args.pid_file:
            with open(args.pid_file, "w", encoding="ascii") as handle:
                handle.write("%d\n" % os.getpid())
        sys.stdout.write("URL=%s\nTOKENS_DIR=%s\n" % (simulator.url, simulator.tokens_dir))
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        simulator.stop()
        if args.pid_file and os.path.exists(args.pid_file):
            os.remove(args.pid_file)
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "generate":
        return generate(argv[1:])
    return serve(argv)


if __name__ == "__main__":
    sys.exit(main())
