# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store's repositories: one mixin of ``Store`` per entity, each running its SQL through ``self.db``."""

from __future__ import annotations
