# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apple's spelling of what the collection sends: camelCase parameters, assets, users and request bodies."""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import asset_key


def snake_to_camel(name):
    """``min_available_count`` -> ``minAvailableCount``; camelCase names pass through unchanged."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def query_params(filters):
    """Apple's query parameters from Python keyword filters: camelCase names, booleans as ``true``/``false``."""
    params = {}
    for name, value in filters.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        params[snake_to_camel(name)] = value
    return params


def normalize_asset(asset):
    """An asset as Apple's ``{"adamId": str, "pricingParam": str}``.

    Accepts an adamId (str/int), an ``(adamId, pricingParam)`` pair, or a dict in Apple's or snake_case spelling.
    """
    if isinstance(asset, dict):
        adam_id = asset.get("adamId", asset.get("adam_id"))
        pricing = asset.get("pricingParam", asset.get("pricing_param"))
    elif isinstance(asset, (tuple, list)):
        adam_id, pricing = asset
    else:
        adam_id, pricing = asset, None
    if adam_id is None or str(adam_id) == "":
        raise ConfigurationError("an asset needs an adamId, got %r" % (asset,))
    adam_id, pricing = asset_key(adam_id, pricing)
    return {"adamId": adam_id, "pricingParam": pricing}


def normalize_user(user):
    """A ``RequestUser`` in Apple's spelling (``clientUserId``, ``email``, ``managedAppleId``); a str is an id."""
    if not isinstance(user, dict):
        user = {"clientUserId": user}
    normalized = {snake_to_camel(key): value for key, value in user.items() if value is not None}
    if not normalized.get("clientUserId"):
        raise ConfigurationError("a user needs a clientUserId")
    normalized["clientUserId"] = str(normalized["clientUserId"])
    return normalized


def request_body(batch):
    """The JSON body of one planned batch (``batches.plan_batches`` / ``plan_user_batches``)."""
    body = {}
    if batch.get("users"):
        body["users"] = batch["users"]
    if batch.get("assets"):
        body["assets"] = batch["assets"]
    if batch.get("client_user_ids"):
        body["clientUserIds"] = batch["client_user_ids"]
    if batch.get("serial_numbers"):
        body["serialNumbers"] = batch["serial_numbers"]
    return body
