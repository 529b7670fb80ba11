# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the store is: the location and key settings, the default path, and the refusal of a missing store."""

from __future__ import annotations

import os

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError

ENV_STORE = "VPP_STORE"
ENV_STORE_KEY = "VPP_STORE_KEY"
DEFAULT_STORE_PATH = "~/.local/share/mdm.vpp/vpp.db"


def resolve_location(location=None):
    """The store location to use: the argument, else ``VPP_STORE``, else the per-user default path."""
    location = location or os.environ.get(ENV_STORE) or DEFAULT_STORE_PATH
    return str(location)


def key_from_environment(key=None):
    """The store key to use: the argument, else ``VPP_STORE_KEY``; an empty key is no key (None)."""
    return key or os.environ.get(ENV_STORE_KEY) or None


def missing_store(location):
    """The refusal of every module but ``vpp_token`` (registering) when the store does not exist yet."""
    return StoreError(
        "no store at %s: register a token with mdm.vpp.vpp_token first" % location,
        hint="check the store option (or VPP_STORE) for a typo; only vpp_token creates a store, never in check mode",
    )
