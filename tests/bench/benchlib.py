# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the benchmark scripts in ``tests/bench/`` (not a benchmark: ``make bench`` runs ``bench_*.py``).

The scripts run as ``python tests/bench/<script>.py``, so this folder is first on ``sys.path`` and they import this
module as ``benchlib``. It imports only the standard library: whatever it imports is loaded in every measured
child process too, and counts in its peak RSS.

- the machine: ``cpu_model()``, ``machine()``, ``load_average()``, ``peak_rss_kib()`` / ``peak_rss_mb()``,
  ``TreeMemory`` (peak RSS of a process and its descendants, sampled);
- the collection: ``importable_collection()``, ``content_token()``, ``run_playbook()``,
  ``run_playbook_measured()``;
- the simulators: ``ServerProcess`` (``python -m tests.simulator`` in a child process), ``read_token()``,
  ``MDMServerProcess`` (``python -m tests.mdm_simulator``);
- child processes and reports: ``figures_from_child()`` / ``print_figures()``, ``main_one_process_per_size()``,
  ``write_report()``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# --- the machine ----------------------------------------------------------------------------------------------------


def cpu_model():
    """The CPU's ``model name`` from ``/proc/cpuinfo``, or None where it does not say."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine():
    """CPU, cores, Python and SQLite: the ``Machine:`` line of most reports."""
    return "%s, %d cores, Python %s, SQLite %s" % (
        cpu_model() or "unknown",
        os.cpu_count(),
        platform.python_version(),
        sqlite3.sqlite_version,
    )


def load_average():
    """The 1, 5 and 15 minute load averages as ``/proc/loadavg`` writes them: times stretch on a busy machine."""
    with open("/proc/loadavg", encoding="ascii") as handle:
        return " ".join(handle.read().split()[:3])


def proc_status_kib(field, pid="self"):
    """One memory figure of ``/proc/<pid>/status`` (``VmHWM``, ``VmRSS``, ...) in KiB."""
    path = "/proc/%s/status" % pid
    with open(path, encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError("%s not in %s" % (field, path))


def peak_rss_kib():
    """This process's peak resident set size (``VmHWM``) in KiB."""
    return proc_status_kib("VmHWM")


def peak_rss_mb():
    """This process's peak resident set size (``VmHWM``) in MB."""
    return peak_rss_kib() / 1024.0


def process_children():
    """``{parent pid: [child pids]}`` of every process ``/proc`` lists now."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as handle:
                stat = handle.read()
        except OSError:  # gone meanwhile
            continue
        parent = int(stat[stat.rindex(b")") + 2 :].split()[1])  # the command name may hold blanks and brackets
        children.setdefault(parent, []).append(int(name))
    return children


def process_tree(root):
    """``root`` and every descendant of it that runs now."""
    children, tree, todo = process_children(), [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


class TreeMemory:
    """The memory of a process and its descendants, sampled every ``interval`` seconds while in the ``with``.

    ``figures()``: ``tree_peak_rss_mb`` (the largest sum of ``VmRSS`` over the tree at one sample: what the run
    needed at its worst moment) and ``process_peak_rss_mb`` / ``process_peak_command`` (the largest ``VmHWM`` of one
    process of the tree, the kernel's own peak, so a short spike between samples is not missed for that process).
    A process living less than ``interval`` may be missed; Ansible's worker and module processes live for the task.
    """

    def __init__(self, root, interval=0.1):
        self.root, self.interval = root, interval
        self.tree_peak_kib, self.process_peak_kib, self.process_peak_command, self.samples = 0, 0, None, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-memory", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return

    def sample(self):
        total = 0
        for pid in process_tree(self.root):
            try:
                rss, peak = proc_status_kib("VmRSS", pid), proc_status_kib("VmHWM", pid)
                with open("/proc/%d/cmdline" % pid, "rb") as handle:
                    command = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
            except (OSError, RuntimeError):  # gone meanwhile, or a zombie without memory lines
                continue
            total += rss
            if peak > self.process_peak_kib:
                self.process_peak_kib, self.process_peak_command = peak, command[:120]
        self.tree_peak_kib = max(self.tree_peak_kib, total)
        self.samples += 1

    def figures(self):
        return {
            "tree_peak_rss_mb": round(self.tree_peak_kib / 1024.0, 1),
            "process_peak_rss_mb": round(self.process_peak_kib / 1024.0, 1),
            "process_peak_command": self.process_peak_command,
            "samples": self.samples,
        }


# --- the collection -------------------------------------------------------------------------------------------------


def importable_collection(base=None):
    """Make ``ansible_collections.mdm.vpp`` importable from this checkout and return ``base``.

    A symlink ``base/ansible_collections/mdm/vpp`` to the checkout (``base`` a new temporary folder when None), and
    ``base`` put first on ``sys.path``; ``base`` also serves as ``ANSIBLE_COLLECTIONS_PATH`` for ansible-playbook.
    """
    if base is None:
        base = tempfile.mkdtemp(prefix="vpp-bench-")
    os.makedirs(os.path.join(base, "ansible_collections", "mdm"))
    os.symlink(ROOT, os.path.join(base, "ansible_collections", "mdm", "vpp"))
    sys.path.insert(0, base)
    return base


def content_token(name):
    """A content token (base64 JSON, as Apple issues them) for a store token that never talks to a server."""
    payload = {"token": name, "expDate": "2031-01-01T00:00:00Z", "orgName": "Bench"}
    return base64.b64encode(json.dumps(payload).encode()).decode()


def playbook_command(collections_base, play_path, play, env):
    """Write ``play`` to ``play_path``; the ansible-playbook command line and environment that run it (see
    ``run_playbook``)."""
    with open(play_path, "w", encoding="utf-8") as handle:
        json.dump(play, handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_base, ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_HOME=os.path.join(collections_base, "ansible-home"),
               **env)  # fmt: skip
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
               play_path]  # fmt: skip
    return command, env


def run_playbook(collections_base, play_path, play, env):
    """Write ``play`` to ``play_path`` and run it with ansible-playbook on localhost; returns its wall time (s).

    The collection comes from ``collections_base`` (see ``importable_collection``), modules run with this Python,
    and Ansible's home lies below ``collections_base`` so no run reuses another's cache; ``env`` adds variables.
    """
    command, env = playbook_command(collections_base, play_path, play, env)
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError("ansible-playbook %s failed:\n%s" % (play_path, completed.stdout[-4000:]))
    return seconds


def run_playbook_measured(collections_base, play_path, play, env):
    """``run_playbook`` whose process tree's memory is sampled: ``(seconds, TreeMemory.figures())``."""
    command, env = playbook_command(collections_base, play_path, play, env)
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        with TreeMemory(process.pid) as memory:
            returncode = process.wait()
        seconds = time.perf_counter() - started
        if returncode != 0:
            output.seek(0)
            text = output.read().decode("utf-8", "replace")
            raise RuntimeError("ansible-playbook %s failed:\n%s" % (play_path, text[-4000:]))
    return seconds, memory.figures()


# --- the simulator --------------------------------------------------------------------------------------------------


def read_token(tokens_dir, location):
    """The content token the simulator wrote for ``location`` into ``tokens_dir``."""
    with open(os.path.join(tokens_dir, location + ".vpptoken"), encoding="ascii") as handle:
        return handle.read().strip()


class ServerProcess:
    """``python -m tests.simulator`` in a child process; URL and tokens read from its first output lines."""

    def __init__(self, scenario_path, tokens_dir):
        started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.simulator", "--scenario", scenario_path, "--tokens-dir", tokens_dir],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self.process.stdout.readline().strip().split("=", 1)[1]
        self.process.stdout.readline()  # TOKENS_DIR=, which the caller chose
        self.startup_seconds = time.monotonic() - started
        self.tokens_dir = tokens_dir

    def token(self, location):
        return read_token(self.tokens_dir, location)

    def memory_mb(self, field):
        return proc_status_kib(field, self.process.pid) / 1024.0

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


class MDMServerProcess:
    """``python -m tests.mdm_simulator`` (the MDM stand-in) in a child process; its URL read from its first line.

    ``hook(method, name, body)`` calls one of its ``/_mdm/`` test hooks (``request_counts``, ``request_log``...).
    """

    def __init__(self, scenario_path, flavor="nanomdm", api_key="secret", *options):
        started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.mdm_simulator", "--flavor", flavor, "--scenario", scenario_path,
             "--port", "0", "--api-key", api_key, *options],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        line = self.process.stdout.readline().strip()
        if not line.startswith("URL="):
            self.process.kill()
            raise RuntimeError("the MDM stand-in did not start (it printed %r)" % line)
        self.url = line.split("=", 1)[1]
        self.startup_seconds = time.monotonic() - started

    def hook(self, method, name, body=None):
        import urllib.request  # pylint: disable=import-outside-toplevel  # not loaded in every measured child

        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + "/_mdm/" + name, data=data, method=method,
                                         headers={"Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=600) as answer:
            return json.loads(answer.read())

    def memory_mb(self, field):
        return proc_status_kib(field, self.process.pid) / 1024.0

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


# --- child processes and reports ------------------------------------------------------------------------------------


def figures_from_child(script, *arguments):
    """Run ``script`` in a new Python process and return the JSON figures it printed last (``print_figures``).

    A process of its own per measurement: its peak RSS and its imports are its own, not the parent's.
    """
    completed = subprocess.run([sys.executable, script, *arguments], check=True, capture_output=True, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def print_figures(figures):
    """A measuring child's result for ``figures_from_child``: one JSON line on stdout."""
    sys.stdout.write(json.dumps(figures) + "\n")


def write_report(path, text):
    """Write a report file, making its folder if it is missing."""
    if os.path.dirname(path):  # a bare file name (``--output x.md``) is in the current folder
        os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def main_one_process_per_size(script, doc, option, sizes, run_one, report, report_path):
    """The command line of a benchmark that measures each size in a process of its own.

    ``--<option> N``: measure size N here (``run_one(N)``) and print the figures as JSON. Without it: run ``script``
    once per size in ``sizes``, echo each one's figures on stderr, and write ``report(results, load_at_start)`` to
    ``report_path``.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n", maxsplit=1)[0])
    parser.add_argument("--" + option, type=int, help="run one size in this process and print JSON")
    one_size = getattr(parser.parse_args(), option)
    if one_size:
        print_figures(run_one(one_size))
        return
    results, load_at_start = [], load_average()
    for size in sizes:
        results.append(figures_from_child(script, "--" + option, str(size)))
        sys.stderr.write("%s\n" % json.dumps(results[-1]))
    write_report(report_path, report(results, load_at_start))
    sys.stderr.write("wrote %s\n" % report_path)
