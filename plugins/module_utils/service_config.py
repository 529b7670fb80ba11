# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apple's service config: the endpoints' URLs and the limits, cached per ``api_url`` for the whole process."""

from __future__ import annotations

import threading
import time

DEFAULT_API_URL = "https://vpp.itunes.apple.com/mdm/v2"

# Apple's documented example values, used only for a key the service config does not send.
FALLBACK_LIMITS = {
    "maxAssets": 25,
    "maxClientUserIds": 1000,
    "maxSerialNumbers": 1000,
    "maxRevokeClientUserIds": 100,
    "maxRevokeSerialNumbers": 100,
    "maxUsers": 100,
    "maxNotificationLength": 512,
    "maxMdmNameLength": 100,
    "maxMdmMetadataLength": 255,
    "maxMdmIdLength": 100,
    "maxRequestPerSecond": 15,
}

# urls key in the service config -> path under api_url, used when the service config lacks that key.
ENDPOINTS = {
    "clientConfig": "/client/config",
    "getAssets": "/assets",
    "associateAssets": "/assets/associate",
    "disassociateAssets": "/assets/disassociate",
    "revokeAssets": "/assets/revoke",
    "getAssignments": "/assignments",
    "getUsers": "/users",
    "createUsers": "/users/create",
    "updateUsers": "/users/update",
    "retireUsers": "/users/retire",
    "eventStatus": "/status",
}

SERVICE_CONFIG_TTL = 300.0  # Apple: refresh limits and URLs every 5 minutes


# --- service config, shared by every client of the process ---------------------------------------------------

_SERVICE_CONFIGS = {}  # api_url -> (monotonic time fetched, config dict)
_SERVICE_CONFIG_LOCK = threading.Lock()


def clear_service_config_cache():
    """Forget every cached service config (tests that change the simulator's limits call this)."""
    with _SERVICE_CONFIG_LOCK:
        _SERVICE_CONFIGS.clear()


def forget_service_config(api_url):
    """Forget the cached service config of ``api_url`` (the next read fetches it)."""
    with _SERVICE_CONFIG_LOCK:
        _SERVICE_CONFIGS.pop(api_url, None)


def cached_service_config(api_url, fetch, now=None):
    """The service config for ``api_url``: cached for ``SERVICE_CONFIG_TTL`` seconds, fetched once when stale.

    The lock is held while fetching so that 300 clients starting together cost one request, not 300.
    """
    with _SERVICE_CONFIG_LOCK:
        now = time.monotonic() if now is None else now
        cached = _SERVICE_CONFIGS.get(api_url)
        if cached is not None and now - cached[0] < SERVICE_CONFIG_TTL:
            return cached[1]
        config = fetch()
        _SERVICE_CONFIGS[api_url] = (time.monotonic(), config)
        return config


def limits_of(config):
    """Apple's limits in a service config; a key it lacks takes Apple's documented example value."""
    limits = dict(FALLBACK_LIMITS)
    limits.update(config.get("limits") or {})
    return limits
