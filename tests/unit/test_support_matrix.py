# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The supported versions are said once and agree everywhere: module_utils/support.py (what every module
enforces), meta/runtime.yml's requires_ansible, tests/config.yml, galaxy.yml, the README's table and
tests/matrix/pairs.txt (what make matrix runs). And a controller outside the range is refused in words."""

from __future__ import annotations

import os
import re

import pytest
import yaml

from ansible_collections.mdm.vpp.plugins.module_utils.support import (
    MINIMUM_ANSIBLE_CORE,
    MINIMUM_PYTHON,
    NEWEST_TESTED_ANSIBLE_CORE,
    NEWEST_TESTED_PYTHON,
    unsupported_controller,
    untested_controller,
    version_tuple,
)

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return handle.read()


def pairs(kind):
    """(ansible-core, python X.Y) of tests/matrix/pairs.txt of that kind (supported / refused)."""
    rows = [line.split() for line in read("tests/matrix/pairs.txt").splitlines()]
    return [(row[1], row[2]) for row in rows if row and row[0] == kind]


def python_tuple(text):
    return tuple(int(part) for part in text.split("."))


def readme_table():
    """(ansible-core, python) of each row of the README's "Supported versions" table."""
    section = read("README.md").split("## Supported versions", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `?(\d+\.\d+\.\d+)`? \| (\d+\.\d+) \|", section, flags=re.MULTILINE)


@pytest.mark.parametrize(
    ("core", "python"),
    [("2.19.14", (3, 11, 7)), ("2.20.10", (3, 12, 1)), ("2.21.5", (3, 13, 0)), ("2.19.0", (3, 13, 0))],
)
def test_a_tested_controller_runs_without_a_word(core, python):
    assert unsupported_controller(core, python) is None
    assert untested_controller(core, python) is None


@pytest.mark.parametrize(
    ("core", "python"),
    [("2.17.14", (3, 10, 13)), ("2.18.19", (3, 11, 7)), ("2.19.14", (3, 10, 13)), ("2.16.0", (3, 12, 1))],
)
def test_an_older_controller_is_refused_saying_what_and_what_to_do(core, python):
    message = unsupported_controller(core, python)
    assert message.startswith("mdm.vpp supports ansible-core 2.19 or later on Python 3.11 or later; ")
    assert "this runs ansible-core %s on Python %s" % (core, ".".join(map(str, python))) in message
    assert "pip install 'ansible-core>=2.19'" in message and "README (Supported versions)" in message


@pytest.mark.parametrize(("core", "python"), [("2.22.0rc1", (3, 13, 0)), ("2.21.5", (3, 14, 0))])
def test_a_newer_controller_runs_with_a_warning_that_it_is_untested(core, python):
    assert unsupported_controller(core, python) is None
    assert "tested up to ansible-core 2.21 and Python 3.13" in untested_controller(core, python)


def test_an_unreadable_ansible_core_version_is_refused():
    assert version_tuple("devel") == (0, 0)
    assert unsupported_controller("devel", (3, 12, 0)) is not None


def test_requires_ansible_is_the_floor_every_module_enforces():
    runtime = yaml.safe_load(read("meta/runtime.yml"))
    assert runtime["requires_ansible"] == ">=%d.%d.0" % MINIMUM_ANSIBLE_CORE


def test_modules_support_the_controller_pythons_only():
    assert yaml.safe_load(read("tests/config.yml")) == {"modules": {"python_requires": "controller"}}


def test_galaxy_yml_says_the_same_range():
    description = yaml.safe_load(read("galaxy.yml"))["description"]
    assert "ansible-core %d.%d or later" % MINIMUM_ANSIBLE_CORE in description
    assert "Python %d.%d or later" % MINIMUM_PYTHON in description


def test_the_readme_table_is_what_make_matrix_runs():
    assert readme_table() == pairs("supported")


def test_the_matrix_spans_the_range_and_stays_inside_it():
    supported = pairs("supported")
    cores = [version_tuple(pair[0]) for pair in supported]
    pythons = [python_tuple(pair[1]) for pair in supported]
    assert min(cores) == MINIMUM_ANSIBLE_CORE and max(cores) == NEWEST_TESTED_ANSIBLE_CORE
    assert min(pythons) == MINIMUM_PYTHON and max(pythons) == NEWEST_TESTED_PYTHON
    for core, python in supported:
        assert unsupported_controller(core, python_tuple(python)) is None
    # the default development environment (make test's whole suite) is one of the pairs
    dev_core = re.search(r"^ansible-core==(\S+)$", read("requirements-dev.txt"), flags=re.MULTILINE).group(1)
    assert dev_core in [pair[0] for pair in supported]


def test_every_refused_pair_of_the_matrix_is_outside_the_range():
    refused = pairs("refused")
    assert refused
    for core, python in refused:
        assert unsupported_controller(core, python_tuple(python)) is not None


GALAXY_CATEGORIES = {
    "application",
    "cloud",
    "database",
    "infrastructure",
    "linux",
    "monitoring",
    "networking",
    "security",
    "storage",
    "tools",
    "windows",
}


def test_galaxy_tags_are_what_galaxy_accepts():
    tags = yaml.safe_load(read("galaxy.yml"))["tags"]
    assert 0 < len(tags) <= 20 and len(set(tags)) == len(tags)
    assert all(re.fullmatch(r"[a-z0-9_]{1,64}", tag) for tag in tags), tags
    assert GALAXY_CATEGORIES & set(tags)
