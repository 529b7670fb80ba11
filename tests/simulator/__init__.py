# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A faithful local stand-in for Apple's Apps and Books (VPP) license service v2; see README.md."""

from __future__ import annotations

from .scenario import load_scenario
from .simulator import Simulator

__all__ = ["Simulator", "load_scenario"]
