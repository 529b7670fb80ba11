# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's version, in one place (modules run away from galaxy.yml, so it cannot be read at run time).

Keep it equal to ``version`` in galaxy.yml (tests/unit/test_version.py checks it).
"""

from __future__ import annotations

COLLECTION_VERSION = "0.1.0"
# Sent with every request to Apple, so Apple (and the simulator's request log) can tell this client apart.
USER_AGENT = "mdm.vpp/%s (+ansible collection)" % COLLECTION_VERSION
