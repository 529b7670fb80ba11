# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for ansible-test's pip bootstrap script, which it would download from a host we cannot reach.

ansible-test runs its cached ``get_pip_<version>.py`` with pip's install arguments; this stand-in bootstraps pip
with ``ensurepip`` and then installs the same packages from the configured package index.
"""

from __future__ import annotations

import subprocess
import sys

# get-pip.py understands these switches; "pip install" does not.
GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}


def main():
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    main()
