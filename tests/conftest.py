# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared pytest fixtures: the Apple VPP simulator, and ``ansible_collections.mdm.vpp`` made importable."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

import pytest

from tests.simulator import Simulator

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL_SCENARIO = os.path.join(REPO_ROOT, "tests", "simulator", "scenarios", "small.yml")


def make_collection_importable():
    """Put a temp dir holding ``ansible_collections/mdm/vpp -> repo root`` on sys.path (once per process).

    Returns that dir: it is also the ``ANSIBLE_COLLECTIONS_PATH`` for real ``ansible-playbook`` runs.
    """
    for path in sys.path:
        if path and os.path.isdir(os.path.join(path, "ansible_collections", "mdm", "vpp")):
            return path
    parent = tempfile.mkdtemp(prefix="mdm-vpp-collection-")
    namespace = os.path.join(parent, "ansible_collections", "mdm")
    os.makedirs(namespace)
    os.symlink(REPO_ROOT, os.path.join(namespace, "vpp"))
    atexit.register(shutil.rmtree, parent, True)
    sys.path.insert(0, parent)
    return parent


# at import time: test modules import the collection while being collected
COLLECTIONS_PATH = make_collection_importable()


@pytest.fixture(scope="session")
def collections_path():
    """A directory holding ``ansible_collections/mdm/vpp`` (this checkout), for ANSIBLE_COLLECTIONS_PATH."""
    return COLLECTIONS_PATH


@pytest.fixture
def simulator_factory(tmp_path):
    """Call with a scenario (dict or path) and Simulator keyword arguments; returns a started Simulator."""
    started = []

    def factory(scenario, **kwargs):
        kwargs.setdefault("tokens_dir", str(tmp_path / ("tokens-%d" % len(started))))
        simulator = Simulator(scenario, **kwargs).start()
        started.append(simulator)
        return simulator

    yield factory
    for simulator in started:
        simulator.stop()


@pytest.fixture
def simulator(simulator_factory):
    """A started simulator with the small default scenario (tests/simulator/scenarios/small.yml)."""
    return simulator_factory(SMALL_SCENARIO)
