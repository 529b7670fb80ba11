# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local stand-in for NanoMDM, NanoHUB, MicroMDM and KMFDDM, with simulated devices; see README.md."""

from __future__ import annotations

from .scenario import load_scenario
from .simulator import MDMSimulator

__all__ = ["MDMSimulator", "load_scenario"]
