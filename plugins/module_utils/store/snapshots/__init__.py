# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshots: a full or delta sync of one dataset (assignments, users) of one token, staged then merged in SQL."""

from __future__ import annotations
