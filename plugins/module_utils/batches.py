# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure batch planning: one logical write cut into the requests Apple accepts, and what those requests cost.

The client sends the batches ``plan_batches`` and ``plan_user_batches`` cut; ``call_count`` and ``batch_count``
count the calls a plan takes at Apple's limits the same way, without building the batches (a deployment's plan).
"""

from __future__ import annotations

import collections
import math

from ansible_collections.mdm.vpp.plugins.module_utils.spelling import normalize_asset, normalize_user
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import apple_asset_key


def unique(items):
    """The items without duplicates, first occurrence kept, order preserved."""
    seen = set()
    result = []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result


def chunks(items, size):
    """``items`` cut into consecutive lists of at most ``size`` (a limit below 1 is treated as 1)."""
    size = max(int(size), 1)
    return [items[start : start + size] for start in range(0, len(items), size)]


def batch_count(count, limit):
    """How many calls ``count`` ids take at ``limit`` per call (``chunks`` cuts them so)."""
    return math.ceil(count / max(int(limit), 1)) if count else 0


def call_count(users, devices, limits):
    """The calls an associate or disassociate of one asset takes for ``users`` distinct clientUserIds and
    ``devices`` distinct serial numbers at Apple's ``limits`` (the service config's, camelCase keys): users and
    devices never share a request (``plan_batches``), so their calls add up."""
    return batch_count(users, limits["maxClientUserIds"]) + batch_count(devices, limits["maxSerialNumbers"])


def plan_batches(
    assets=(), client_user_ids=(), serial_numbers=(), *, max_assets=None, max_client_user_ids, max_serial_numbers
):
    """Cut one logical asset request into requests Apple accepts.

    Ids are de-duplicated first (a duplicate is a hard 400 at Apple). Every asset chunk is combined with every
    target chunk. A batch carries users only or devices only: Apple refuses a request naming both (Fleet's
    api.go), and a synchronous refusal of a user (9609, 9622) must never take devices down with it. With
    ``max_assets=None`` (revoke) the batches carry no assets. Returns a list of ``{"assets", "client_user_ids",
    "serial_numbers"}``; empty when there is nothing to do.
    """
    users = unique(str(user_id) for user_id in client_user_ids)
    serials = unique(str(serial) for serial in serial_numbers)
    if not users and not serials:
        return []
    if max_assets is None:
        asset_chunks = [[]]
    else:
        by_key = collections.OrderedDict((apple_asset_key(normalize_asset(asset)), None) for asset in assets)
        normalized = [{"adamId": adam_id, "pricingParam": pricing} for adam_id, pricing in by_key]
        if not normalized:
            return []
        asset_chunks = chunks(normalized, max_assets)
    user_chunks = chunks(users, max_client_user_ids)
    serial_chunks = chunks(serials, max_serial_numbers)
    batches = []
    for asset_chunk in asset_chunks:
        for user_chunk in user_chunks:
            batches.append({"assets": asset_chunk, "client_user_ids": user_chunk, "serial_numbers": []})
        for serial_chunk in serial_chunks:
            batches.append({"assets": asset_chunk, "client_user_ids": [], "serial_numbers": serial_chunk})
    return batches


def plan_user_batches(users, max_users):
    """Cut users into batches of ``max_users``, one entry per clientUserId (first occurrence wins)."""
    by_id = collections.OrderedDict()
    for user in users:
        normalized = normalize_user(user)
        by_id.setdefault(normalized["clientUserId"], normalized)
    return [{"users": chunk} for chunk in chunks(list(by_id.values()), max_users)]


def batch_members(batch):
    """Every member of a submitted batch: one per (asset, target) pair, or per target (revoke), or per user."""
    if batch.get("users"):
        return [{"client_user_id": user["clientUserId"]} for user in batch["users"]]
    targets = [("client_user_id", user_id) for user_id in batch.get("client_user_ids") or ()]
    targets += [("serial_number", serial) for serial in batch.get("serial_numbers") or ()]
    assets = batch.get("assets") or [None]
    members = []
    for asset in assets:
        for kind, value in targets:
            member = {kind: value}
            if asset is not None:
                member["adam_id"] = asset["adamId"]
                member["pricing_param"] = asset["pricingParam"]
            members.append(member)
    return members
