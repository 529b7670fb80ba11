# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure decisions about location tokens: their facts and status, what Apple reports, the checks that refuse one.

No store, no client, no clock of their own (``now`` is given): ``tokens.py`` orchestrates them for ``vpp_token`` and
``vpp_token_info``, the sync engine and the deployments reuse them. A token's facts name it by its fingerprint,
never by its secret.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

from ansible_collections.mdm.vpp.plugins.module_utils.errors import (
    APPLE_REFUSED,
    AuthenticationError,
    ConfigurationError,
    TakeoverError,
    TokenExpiredError,
    TokenRevokedError,
)
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import parse_timestamp, utc_now
from ansible_collections.mdm.vpp.plugins.module_utils.version import COLLECTION_VERSION  # in mdmInfo.metadata

# Apple: a device-management service may hold at most 3,000 location tokens.
MAX_TOKENS = 3000
MANAGER_NAME = "mdm.vpp"
DEFAULT_EXPIRY_WARNING_DAYS = 30

TOKEN_TYPES_BY_HOST = {"business.apple.com": "business", "school.apple.com": "education"}
# Options of vpp_token that are ours alone (Apple knows nothing of them); None means "leave as it is".
METADATA_OPTIONS = ("description", "categories", "apple_id")
# What the store remembers about a token from Apple's client config.
REPORTED_FIELDS = ("location_name", "uid", "country", "website_url", "default_platform", "token_type")
# Statuses a token can have in results. The store's status column holds what Apple last said: STORED_STATUS_OK
# when it accepted the token, else one of STORED_PROBLEM_STATUSES; "valid" and "expiring" come from the dates.
STATUSES = ("valid", "expiring", "expired", "revoked", "invalid", "claimed_elsewhere")
STORED_STATUS_OK = "active"
STORED_PROBLEM_STATUSES = ("expired", "revoked", "invalid", "claimed_elsewhere")
# Checked in this order: the subclasses of AuthenticationError before it.
_REFUSAL_STATUSES = (
    (TakeoverError, "claimed_elsewhere"),
    (TokenExpiredError, "expired"),
    (TokenRevokedError, "revoked"),
    (AuthenticationError, "invalid"),
)
FACT_FIELDS = (
    "name",
    "description",
    "categories",
    "apple_id",
    "org_name",
    "location_name",
    "uid",
    "country",
    "token_type",
    "website_url",
    "expires_at",
    "days_left",
    "status",
    "claimed",
    "last_sync_at",
    "last_full_sync_at",
    "fingerprint",
)


# --- facts and status ------------------------------------------------------------------------------------------


def days_left(expires_at, now):
    """Whole days until ``expires_at`` (0 on the last day, negative once expired); None when unknown."""
    expires_at = parse_timestamp(expires_at)
    if expires_at is None:
        return None
    return (expires_at - now) // timedelta(days=1)


def token_status(row, now, warning_days=DEFAULT_EXPIRY_WARNING_DAYS):
    """One word for a token's health: expired, revoked, invalid, claimed_elsewhere, expiring or valid.

    The expiry date wins (an expired token is expired whatever Apple said before); then what Apple last
    reported (kept in the store's ``status``); then the warning window.
    """
    expires_at = parse_timestamp(row.get("expires_at"))
    if expires_at is not None and expires_at <= now:
        return "expired"
    if row.get("status") in STORED_PROBLEM_STATUSES:
        return row["status"]
    if expires_at is not None and expires_at <= now + timedelta(days=warning_days):
        return "expiring"
    return "valid"


def token_facts(row, now=None, warning_days=DEFAULT_EXPIRY_WARNING_DAYS):
    """What a user may know about a stored token (a store row): never its secret, only its fingerprint."""
    now = now or utc_now()
    facts = {name: row.get(name) for name in FACT_FIELDS}
    facts["categories"] = list(row.get("categories") or [])
    facts["claimed"] = bool(row.get("claimed"))
    facts["days_left"] = days_left(row.get("expires_at"), now)
    facts["status"] = token_status(row, now, warning_days)
    return facts


def expiry_warning(facts):
    """The warning for a token that expires soon (status ``expiring``), naming the date and what to do."""
    if facts["status"] != "expiring":
        return None
    return (
        "the content token of %r (location %s) expires on %s, in %d day(s): download a new token from %s "
        "(Settings > Apps and Books) and run mdm.vpp.vpp_token with it before then"
        % (
            facts["name"],
            facts.get("location_name") or facts.get("org_name") or "?",
            facts["expires_at"][:10],
            facts["days_left"],
            portal_name(facts.get("token_type")),
        )
    )


def portal_name(token_type):
    return {"business": "Apple Business Manager", "education": "Apple School Manager"}.get(
        token_type, "Apple Business Manager or Apple School Manager"
    )


# --- pure helpers: what Apple reports -------------------------------------------------------------------------


def manager_identity(manager_id):
    """This store's ``mdmInfo``: the identity written into a location when claiming it."""
    return {"id": manager_id, "name": MANAGER_NAME, "metadata": "%s %s" % (MANAGER_NAME, COLLECTION_VERSION)}


def token_type_for_website(website_url):
    """``business`` for business.apple.com, ``education`` for school.apple.com, None for anything else."""
    host = urlparse(website_url or "").hostname or ""
    return TOKEN_TYPES_BY_HOST.get(host.lower())


def other_manager(mdm_info, manager_id):
    """The name of another manager holding the location (``mdmInfo`` not ours), else None."""
    if not isinstance(mdm_info, dict) or not mdm_info.get("id") or mdm_info["id"] == manager_id:
        return None
    return mdm_info.get("name") or mdm_info["id"]


def reported_fields(client_config, manager_id):
    """The store fields Apple's client config tells about a location, plus whether it is claimed by us."""
    mdm_info = client_config.get("mdmInfo") or {}
    return {
        "location_name": client_config.get("locationName"),
        "uid": client_config.get("uId"),
        "country": client_config.get("countryISO2ACode"),
        "website_url": client_config.get("websiteURL"),
        "default_platform": client_config.get("defaultPlatform"),
        "token_type": token_type_for_website(client_config.get("websiteURL")),
        "claimed": bool(manager_id) and mdm_info.get("id") == manager_id,
    }


def wanted_metadata(params):
    """The metadata options the user set (unset ones are left as stored)."""
    wanted = {name: params.get(name) for name in METADATA_OPTIONS if params.get(name) is not None}
    if "categories" in wanted:
        wanted["categories"] = list(wanted["categories"])
    return wanted


def changed_fields(row, wanted):
    """The subset of ``wanted`` that differs from the stored ``row`` (empty list and no list are the same)."""
    changes = {}
    for name, value in wanted.items():
        current = row.get(name)
        if name == "categories":
            current = list(current or [])
        if current != value:
            changes[name] = value
    return changes


# --- pure helpers: the checks that refuse a token ---------------------------------------------------------------


def check_not_expired(name, content_token, now):
    """Refuse a token whose own expiry date has passed, before asking Apple anything."""
    if content_token.is_expired(now):
        raise TokenExpiredError(
            "the content token given for %r (fingerprint %s) expired on %s"
            % (name, content_token.fingerprint, content_token.expires_at.date().isoformat())
        )


def check_token_limit(name, registered_count, limit=MAX_TOKENS):
    """Refuse a new token once ``limit`` tokens are registered (Apple allows 3,000 per manager)."""
    if registered_count >= limit:
        raise ConfigurationError(
            "cannot register token %r: the store already holds %d tokens, the most Apple allows one device-management "
            "service" % (name, registered_count),
            hint="delete tokens that are no longer used (state: absent) before adding another",
        )


def check_token_type(name, expected, reported, website_url):
    """Refuse a token whose location is not of the ``token_type`` the user declared."""
    if expected and reported != expected:
        raise ConfigurationError(
            "token %r was declared token_type %s, but Apple reports its location as %s (%s)"
            % (name, expected, reported or "of an unknown type", website_url or "no websiteURL"),
            hint="check that this is the right token file, or correct token_type",
        )


def check_same_location(name, row, uid):
    """A renewal must come from the location the token was registered for (same ``uId``)."""
    if row.get("uid") and uid != row["uid"]:
        raise ConfigurationError(
            "the new content token for %r belongs to location %s, but %r is registered for location %s (%s)"
            % (name, uid, name, row["uid"], row.get("location_name") or "?"),
            hint="a renewal must be the new token of the same location; register another location under its own name",
        )


def check_unique_location(name, uid, registrations):
    """Refuse a location already registered under another name (two tokens would sync the same licenses twice)."""
    others = [row["name"] for row in registrations if row["name"] != name]
    if others:
        raise ConfigurationError(
            "duplicate location: already registered as %s (location %s)" % (", ".join(repr(n) for n in others), uid),
            hint="renew that token instead (run vpp_token with name: %s and the new token)" % others[0],
        )


def refusal_status(err):
    """The stored status an Apple refusal means (claimed_elsewhere, expired, revoked, invalid), else None.

    None for errors that say nothing about the token itself (Apple unreachable, throttling, a bug).
    """
    for error_class, status in _REFUSAL_STATUSES:
        if isinstance(err, error_class):
            return status
    return None


def plain_refusal(err):
    """An expired token said once: Apple's own text ("... has expired. Download a new one from Apple Business or
    Apple School Manager.") would repeat the hint that follows it; the message keeps the request and the numbers."""
    label, found, _apple_text = err.msg.partition(APPLE_REFUSED)
    if isinstance(err, TokenExpiredError) and found:
        status = ", HTTP %s" % err.http_status if err.http_status else ""
        err.msg = "%sApple says the content token has expired (error %s%s)" % (label, err.error_number, status)
        err.args = (err.msg,)
    return err


def with_token_context(err, name):
    """Prefix an error's message with the token it concerns (Apple's messages do not say which)."""
    err = plain_refusal(err)
    err.msg = "token %r: %s" % (name, err.msg)
    err.args = (err.msg,)
    return err
