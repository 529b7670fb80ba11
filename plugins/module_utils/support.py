# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ansible-core and Python versions the collection supports (README "Supported versions", docs/support.md).

``meta/runtime.yml`` says the same to ansible-core (``requires_ansible``), but ansible-core only warns when it does
not match (``COLLECTIONS_ON_ANSIBLE_VERSION_MISMATCH`` defaults to ``warning``) and runs the module anyway: every
module asks ``unsupported_controller`` first (``VPPModule``) and refuses with a clear message instead of running,
untested, on an ansible-core or a Python older than the range; on a newer one than the matrix tests it runs and
warns (``untested_controller``). This file keeps to syntax every Python 3 parses.
"""

from __future__ import annotations

import re
import sys

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_CORE_VERSION

# The oldest ansible-core still maintained when the range was last decided, and the oldest Python it runs on as a
# controller (docs/support.md); meta/runtime.yml's requires_ansible is ">=MINIMUM_ANSIBLE_CORE.0".
MINIMUM_ANSIBLE_CORE = (2, 19)
MINIMUM_PYTHON = (3, 11)
# The newest ones make test runs (tests/matrix/pairs.txt): a newer one runs, with a warning that it is untested.
NEWEST_TESTED_ANSIBLE_CORE = (2, 21)
NEWEST_TESTED_PYTHON = (3, 13)


def version_tuple(version):
    """``(major, minor)`` of an ansible-core version such as ``2.19.14`` or ``2.22.0rc1``; ``(0, 0)`` if unreadable."""
    match = re.match(r"(\d+)\.(\d+)", str(version))
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def unsupported_controller(core_version=ANSIBLE_CORE_VERSION, python_version=None):
    """The refusal message when this ansible-core or this Python is older than the supported range, else None."""
    core, python, running = controller(core_version, python_version)
    if core >= MINIMUM_ANSIBLE_CORE and python >= MINIMUM_PYTHON:
        return None
    floor = "ansible-core %d.%d" % MINIMUM_ANSIBLE_CORE
    return (
        "mdm.vpp supports %s or later on Python %d.%d or later; %s: upgrade ansible-core on a supported Python (for "
        "example python3.12 -m pip install '%s'), or set ansible_python_interpreter to a supported Python; the "
        "tested pairs are in the collection's README (Supported versions)"
    ) % (floor, MINIMUM_PYTHON[0], MINIMUM_PYTHON[1], running, floor.replace(" ", ">="))


def untested_controller(core_version=ANSIBLE_CORE_VERSION, python_version=None):
    """A warning when this ansible-core or this Python is newer than the newest ``make test`` runs, else None."""
    core, python, running = controller(core_version, python_version)
    if core <= NEWEST_TESTED_ANSIBLE_CORE and python <= NEWEST_TESTED_PYTHON:
        return None
    return (
        "mdm.vpp is tested up to ansible-core %d.%d and Python %d.%d (the collection's README, Supported versions); "
        "%s, which it is expected to work with but was not tested on"
    ) % (NEWEST_TESTED_ANSIBLE_CORE + NEWEST_TESTED_PYTHON + (running,))


def controller(core_version, python_version):
    """``(core (major, minor), python (major, minor), "this runs ansible-core X on Python Y")``."""
    python = tuple((python_version or sys.version_info)[:3])
    running = "this runs ansible-core %s on Python %s" % (core_version, ".".join(str(part) for part in python))
    return version_tuple(core_version), python[:2], running
