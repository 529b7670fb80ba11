# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ansible-core and Python versions the collection supports (README "Supported versions", docs/support.md).

``meta/runtime.yml`` says the same to ansible-core (``requires_ansible``), but ansible-core only warns when it does
not match (``COLLECTIONS_ON_ANSIBLE_VERSION_MISMATCH`` defaults to ``warning``) and runs the module anyway: every
module asks ``unsupported_controller`` first (``VPPModule``) and refuses with a clear message instead of running,
untested, on an ansible-core or a Python outside the range. This file keeps to syntax every Python 3 parses.
"""

from __future__ import annotations

import re
import sys

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_CORE_VERSION

# The oldest ansible-core still maintained when the range was last decided, and the oldest Python it runs on as a
# controller (docs/support.md); meta/runtime.yml's requires_ansible is ">=MINIMUM_ANSIBLE_CORE.0".
MINIMUM_ANSIBLE_CORE = (2, 19)
MINIMUM_PYTHON = (3, 11)


def version_tuple(version):
    """``(major, minor)`` of an ansible-core version such as ``2.19.14`` or ``2.22.0rc1``; ``(0, 0)`` if unreadable."""
    match = re.match(r"(\d+)\.(\d+)", str(version))
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def unsupported_controller(core_version=ANSIBLE_CORE_VERSION, python_version=None):
    """The refusal message when this ansible-core or this Python is older than the supported range, else None."""
    python = tuple((python_version or sys.version_info)[:3])
    if version_tuple(core_version) >= MINIMUM_ANSIBLE_CORE and python[:2] >= MINIMUM_PYTHON:
        return None
    return (
        "mdm.vpp supports ansible-core {core[0]}.{core[1]} or later on Python {py[0]}.{py[1]} or later; this runs "
        "ansible-core {this_core} on Python {this_py}: upgrade ansible-core on a supported Python (for example "
        "python3.12 -m pip install 'ansible-core>={core[0]}.{core[1]}'), or set ansible_python_interpreter to a "
        "supported Python; the tested pairs are in the collection's README (Supported versions)"
    ).format(
        core=MINIMUM_ANSIBLE_CORE,
        py=MINIMUM_PYTHON,
        this_core=core_version,
        this_py=".".join(str(part) for part in python),
    )
