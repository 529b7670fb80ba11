# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Synchronous request validation (reference §16.4): every check raises ApiError before anything is queued."""

from __future__ import annotations

import re
import urllib.parse

from .catalogue import ACCEPTED_NOTIFICATION_TYPES, PRICING_PARAMS, PRODUCT_TYPES, ApiError
from .model import SERIAL_TARGET, USER_TARGET

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LOCAL_HOSTS = ("127.0.0.1", "localhost")


# --- query strings -----------------------------------------------------------------------------------------


def query_value(query, name):
    values = query.get(name)
    return values[0] if values else None


def query_bool(query, name):
    value = query_value(query, name)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise ApiError(9602, message="%s must be true or false." % name)
    return value == "true"


def query_int(query, name, default=None):
    value = query_value(query, name)
    if value is None:
        return default
    if not re.fullmatch(r"-?\d{1,10}", value):
        raise ApiError(9602, message="%s must be an integer." % name)
    return int(value)


def query_choice(query, name, choices):
    value = query_value(query, name)
    if value is not None and value not in choices:
        raise ApiError(9602, message="%s must be one of %s." % (name, ", ".join(choices)))
    return value


def page_index(query):
    index = query_int(query, "pageIndex", 0)
    if index < 0:
        raise ApiError(9650)
    return index


def asset_filters(query):
    return {
        "adamId": query_value(query, "adamId"),
        "productType": query_choice(query, "productType", PRODUCT_TYPES),
        "pricingParam": query_choice(query, "pricingParam", PRICING_PARAMS),
        "revocable": query_bool(query, "revocable"),
        "deviceAssignable": query_bool(query, "deviceAssignable"),
        "minAvailableCount": query_int(query, "minAvailableCount"),
        "maxAvailableCount": query_int(query, "maxAvailableCount"),
        "minAssignedCount": query_int(query, "minAssignedCount"),
        "maxAssignedCount": query_int(query, "maxAssignedCount"),
        "unlimited": query_bool(query, "unlimited"),
    }


def assignment_filters(query):
    return {
        "adamId": query_value(query, "adamId"),
        "pricingParam": query_choice(query, "pricingParam", PRICING_PARAMS),
        "clientUserId": query_value(query, "clientUserId"),
        "serialNumber": query_value(query, "serialNumber"),
        "excludeInactiveUsers": bool(query_bool(query, "excludeInactiveUsers")),
    }


def user_filters(query):
    return {
        "clientUserId": query_value(query, "clientUserId"),
        "activeOnly": bool(query_bool(query, "activeOnly")),
        "retiredOnly": bool(query_bool(query, "retiredOnly")),
    }


# --- request bodies ----------------------------------------------------------------------------------------


def _string_list(body, name):
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ApiError(9602, message="%s must be an array of non-empty strings." % name)
    return value


def _duplicates(items):
    seen, duplicates = set(), []
    for item in items:
        if item in seen and item not in duplicates:
            duplicates.append(item)
        seen.add(item)
    return duplicates


def _asset_keys(body):
    assets = body.get("assets")
    if assets is None or assets == []:
        raise ApiError(9718)
    if not isinstance(assets, list):
        raise ApiError(9602, message="assets must be an array.")
    keys = []
    for asset in assets:
        if not isinstance(asset, dict) or not isinstance(asset.get("adamId"), str) or not asset["adamId"]:
            raise ApiError(9602, message="each asset needs a string adamId.")
        pricing = asset.get("pricingParam", "STDQ")  # omitted pricingParam means STDQ (reference §4.1 [assume])
        if pricing not in PRICING_PARAMS:
            raise ApiError(9602, message="pricingParam must be STDQ or PLUS.")
        keys.append((asset["adamId"], pricing))
    return keys


def _asset_info(keys):
    return {"assets": [{"adamId": adam_id, "pricingParam": pricing} for adam_id, pricing in keys]}


def _check_targets(user_ids, serials, max_users, max_serials):
    if not user_ids and not serials:
        raise ApiError(9719)
    if len(user_ids) > max_users:
        raise ApiError(9701)
    if len(serials) > max_serials:
        raise ApiError(9702)
    if _duplicates(user_ids):
        raise ApiError(9704, info={"clientUserIds": _duplicates(user_ids)})
    if _duplicates(serials):
        raise ApiError(9705, info={"serialNumbers": _duplicates(serials)})


def targets_of(user_ids, serials):
    return [(USER_TARGET, value) for value in user_ids] + [(SERIAL_TARGET, value) for value in serials]


def manage_assets_request(body, limits, owned_assets, associate, mixed=False):
    """Validate an associate/disassociate body; returns (asset keys, targets).

    Unless ``mixed``, a body naming both users and devices is refused with 9602: production accepts one or the
    other (Fleet's api.go).
    """
    keys = _asset_keys(body)
    user_ids, serials = _string_list(body, "clientUserIds"), _string_list(body, "serialNumbers")
    if len(keys) > limits["maxAssets"]:
        raise ApiError(9700)
    _check_targets(user_ids, serials, limits["maxClientUserIds"], limits["maxSerialNumbers"])
    if user_ids and serials and not mixed:
        raise ApiError(9602, message="Send either clientUserIds or serialNumbers, not both.")
    if _duplicates(keys):
        raise ApiError(9703, info=_asset_info(_duplicates(keys)))
    known = [owned_assets[key] for key in keys if key in owned_assets]
    if associate and serials:
        refused = [asset.key for asset in known if not asset.device_assignable]
        if refused:
            raise ApiError(9707, info=_asset_info(refused))
    if not associate:
        refused = [asset.key for asset in known if not asset.revocable]
        if refused:
            raise ApiError(9706, info=_asset_info(refused))
    return keys, targets_of(user_ids, serials)


def revoke_request(body, limits):
    user_ids, serials = _string_list(body, "clientUserIds"), _string_list(body, "serialNumbers")
    _check_targets(user_ids, serials, limits["maxRevokeClientUserIds"], limits["maxRevokeSerialNumbers"])
    return targets_of(user_ids, serials)


def users_request(body, limits, retire):
    """Validate a create/update/retire body; returns the list of normalised RequestUser dicts."""
    users = body.get("users")
    if users is None or users == []:
        raise ApiError(9720)
    if not isinstance(users, list) or not all(isinstance(user, dict) for user in users):
        raise ApiError(9602, message="users must be an array of objects.")
    if len(users) > limits["maxUsers"]:
        raise ApiError(9714)
    for user in users:
        if not isinstance(user.get("clientUserId"), str) or not user["clientUserId"]:
            raise ApiError(9602, message="each user needs a clientUserId.")
        for field in ("email", "managedAppleId"):
            if user.get(field) is not None and not isinstance(user[field], str):
                raise ApiError(9602, message="%s must be a string." % field)
    duplicates = _duplicates([user["clientUserId"] for user in users])
    if duplicates:
        raise ApiError(9715, info={"clientUserIds": duplicates})
    if retire:
        return [{"clientUserId": user["clientUserId"]} for user in users]
    invalid = [user["clientUserId"] for user in users if user.get("email") and not EMAIL.match(user["email"])]
    if invalid:
        raise ApiError(9717, info={"clientUserIds": invalid})
    return [{key: user.get(key) for key in ("clientUserId", "email", "managedAppleId")} for user in users]


def client_config_request(body, limits, allow_http):
    """Validate a ClientConfigRequest; returns only the keys present (partial update, reference §5.3 [assume])."""
    update = {}
    if "mdmInfo" in body:
        update["mdmInfo"] = _mdm_info(body["mdmInfo"], limits)
    has_url, has_token = bool(body.get("notificationUrl")), bool(body.get("notificationAuthToken"))
    if has_url != has_token:
        raise ApiError(9710)
    if has_url:
        url, token = body["notificationUrl"], body["notificationAuthToken"]
        if not isinstance(url, str) or not isinstance(token, str):
            raise ApiError(9602, message="notificationUrl and notificationAuthToken must be strings.")
        if max(len(url), len(token)) > limits["maxNotificationLength"]:
            raise ApiError(9711)
        if not notification_url_ok(url, allow_http):
            raise ApiError(9712)
        update["notificationUrl"], update["notificationAuthToken"] = url, token
    if "notificationTypes" in body:
        types = body["notificationTypes"]
        if not isinstance(types, list) or not all(item in ACCEPTED_NOTIFICATION_TYPES for item in types):
            raise ApiError(9602, message="notificationTypes contains an unknown type.")
        update["notificationTypes"] = [item for item in dict.fromkeys(types) if item != "TEST_NOTIFICATION"]
    return update


def _mdm_info(info, limits):
    if not isinstance(info, dict) or not all(
        isinstance(info.get(key), str) and info[key] for key in ("id", "name", "metadata")
    ):
        raise ApiError(9723)
    if len(info["id"]) > limits["maxMdmIdLength"]:
        raise ApiError(9724)
    if len(info["name"]) > limits["maxMdmNameLength"]:
        raise ApiError(9725)
    if len(info["metadata"]) > limits["maxMdmMetadataLength"]:
        raise ApiError(9713)
    return {"id": info["id"], "name": info["name"], "metadata": info["metadata"]}


def notification_url_ok(url, allow_http):
    """https with a host, no query or fragment; plain http only to this machine when the setting allows it."""
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname or parts.query or parts.fragment or parts.username:
        return False
    if parts.scheme == "https":
        return True
    return bool(allow_http and parts.scheme == "http" and parts.hostname in LOCAL_HOSTS)
