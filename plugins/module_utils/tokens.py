# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Location tokens: register, renew, claim, describe and delete the content tokens of Apple locations.

The pure functions at the top decide (facts, status, checks, what changed); ``ensure_token`` and
``list_tokens`` at the bottom orchestrate them with the store and the client for the ``vpp_token`` and
``vpp_token_info`` modules. Every check runs before the first write, to Apple or to the store, so a refused
token leaves both exactly as they were. A token's secret never leaves this module except towards Apple and the
store: results name a token by its fingerprint.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

from ansible_collections.mdm.vpp.plugins.module_utils.errors import (
    AppleError,
    AuthenticationError,
    ConfigurationError,
    TakeoverError,
    TokenExpiredError,
    TokenRevokedError,
    VPPError,
)
from ansible_collections.mdm.vpp.plugins.module_utils.stoken import parse_content_token
from ansible_collections.mdm.vpp.plugins.module_utils.version import COLLECTION_VERSION  # in mdmInfo.metadata

# Apple: a device-management service may hold at most 3,000 location tokens.
MAX_TOKENS = 3000
# Tokens that talk to Apple at once (vpp_sync, vpp_token_info check): each keeps under its own rate limit.
DEFAULT_PARALLEL = 4
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

# Revoke events finish within seconds: the client reads them soon, then as Apple asks (event_poll_interval).
EVENT_TIMEOUT = 600


# --- pure helpers: facts and status --------------------------------------------------------------------------


def utc_now():
    return datetime.now(UTC)


def parse_timestamp(value):
    """An ISO 8601 text from the store (or a datetime) as an aware UTC datetime; None stays None."""
    if value is None or isinstance(value, datetime):
        return value
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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


def revoke_plan(assignments, revocable_assets):
    """Who holds a revocable license: ``{"client_user_ids", "serial_numbers", "licenses"}`` from Apple's listings.

    ``assignments`` are Apple ``Assignment`` records, ``revocable_assets`` a set of (adamId, pricingParam).
    Holders of books only are left out: Apple cannot take books back.
    """
    users, serials, licenses = {}, {}, 0
    for assignment in assignments:
        key = (str(assignment.get("adamId")), assignment.get("pricingParam") or "STDQ")
        if key not in revocable_assets:
            continue
        licenses += 1
        if assignment.get("clientUserId"):
            users[assignment["clientUserId"]] = None
        elif assignment.get("serialNumber"):
            serials[assignment["serialNumber"]] = None
    return {"client_user_ids": list(users), "serial_numbers": list(serials), "licenses": licenses}


def revoke_failures(results):
    """The failed members of finished revoke events (``client.wait_for_events`` results)."""
    failed = []
    for result in results.values():
        failed.extend(outcome for outcome in result.get("outcomes") or () if not outcome["succeeded"])
    return failed


def with_token_context(err, name):
    """Prefix an error's message with the token it concerns (Apple's messages do not say which)."""
    err.msg = "token %r: %s" % (name, err.msg)
    err.args = (err.msg,)
    return err


# --- orchestration ---------------------------------------------------------------------------------------------


def read_content_token(params):
    """The parsed content token from ``token`` or ``token_file``; None when neither was given."""
    if params.get("token") is not None:
        return parse_content_token(params["token"])
    path = params.get("token_file")
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigurationError(
            "cannot read token_file %s: %s" % (path, exc.strerror or type(exc).__name__),
            hint="give the path of the .vpptoken file downloaded from Apple",
        ) from None
    return parse_content_token(text)


def ensure_token(module, now=None):
    """``vpp_token``: bring token ``name`` to ``state``; returns the module result."""
    now = now or utc_now()
    params = module.params
    name = params["name"]
    content_token = read_content_token(params) if params["state"] == "present" else None
    if content_token is not None:
        check_not_expired(name, content_token, now)  # before the store is created: a bad token leaves nothing
    # only registering a content token creates the store (and never in check mode); a malformed token stops first
    store = module.open_store(create=content_token is not None)
    # check mode writes nothing, not even the lock row; the real run serialises with other jobs on this token
    lock = contextlib.nullcontext() if module.check_mode else store.token_lock(name)
    with lock:
        if params["state"] == "absent":
            return _remove(module, name, now)
        return _register(module, name, content_token, now)


def check_parallel(parallel):
    if parallel < 1:
        raise ConfigurationError(
            "parallel must be at least 1, got %d" % parallel, hint="the default is %d" % DEFAULT_PARALLEL
        )


def for_each_token(function, items, parallel=DEFAULT_PARALLEL, thread_name="vpp-token"):
    """``[function(item) for item in items]`` in that order, up to ``parallel`` calls at once (in threads)."""
    items = list(items)
    if len(items) <= 1 or parallel <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(parallel, len(items)), thread_name_prefix=thread_name) as pool:
        return list(pool.map(function, items))


def list_tokens(module, now=None):
    """``vpp_token_info``: the facts of every token (or of ``names``), optionally checked live at Apple."""
    now = now or utc_now()
    params = module.params
    check_parallel(params["parallel"])
    warning_days = params["expiry_warning_days"]
    rows = module.store.list_tokens(params["names"])
    tokens = [token_facts(row, now, warning_days) for row in rows]
    if params["check"]:
        checked = for_each_token(
            lambda pair: _live_check(module, pair[0], pair[1], now), zip(rows, tokens, strict=True), params["parallel"]
        )
        for facts, live in zip(tokens, checked, strict=True):
            facts.update(live)
    for facts in tokens:
        warning = expiry_warning(facts)
        if warning:
            module.warn(warning)
    return {"changed": False, "tokens": tokens}


def _register(module, name, content_token, now):
    """Register, renew or update token ``name`` and claim its location: every check first, then the writes."""
    params, store = module.params, module.store
    row = store.get_token(name)
    new_secret = _check_before_asking_apple(store, name, row, content_token, now)
    client, config = _ask_apple(module, name, row, content_token, new_secret)
    reported = reported_fields(config, store.manager_id)

    claim = params["claim"] and not reported["claimed"]
    taken_from = other_manager(config.get("mdmInfo"), store.manager_id) if claim else None
    wanted = dict(wanted_metadata(params), status=STORED_STATUS_OK, claimed=reported["claimed"] or claim)
    wanted.update((field, reported[field]) for field in REPORTED_FIELDS)
    changes = changed_fields(row or {}, wanted)
    actions = _register_actions(row, new_secret, changes, claim, taken_from)
    secret_to_store = content_token if new_secret else None

    if actions and not module.check_mode:
        try:
            with store.transaction():  # a refused claim rolls the store back: nothing half-registered
                _check_again_before_writing(store, name, row, reported["uid"])
                stored = store.upsert_token(name, secret_to_store, **changes)
                if claim:
                    client.set_client_config(mdm_info=manager_identity(store.manager_id))
        except AppleError as err:
            raise with_token_context(err, name) from None
    else:
        stored = _predicted_row(name, row, secret_to_store, changes)

    facts = token_facts(stored, now, params["expiry_warning_days"])
    warning = expiry_warning(facts)
    if warning:
        module.warn(warning)
    result = {"changed": bool(actions), "actions": actions, "token": facts}
    if module.diff_mode:
        before = token_facts(row, now, params["expiry_warning_days"]) if row else {}
        result["diff"] = {"before": before, "after": facts}
    return result


def _check_before_asking_apple(store, name, row, content_token, now):
    """The checks that need no call to Apple; returns whether the token's secret is new (register or renew)."""
    if row is None and content_token is None:
        raise ConfigurationError(
            "token %r is not registered yet, and neither token nor token_file was given" % name,
            hint="give the content token (token or token_file) to register it",
        )
    if content_token is not None:
        check_not_expired(name, content_token, now)
    if row is None:
        check_token_limit(name, store.count_tokens())
    return content_token is not None and (row is None or content_token.fingerprint != row["fingerprint"])


def _check_again_before_writing(store, name, row, uid):
    """The store-wide checks once more, under the store's write lock: the token lock only serialises jobs on this
    name, so another job may have registered a token meanwhile (the 3,000th, or one of the same location)."""
    if row is None:
        check_token_limit(name, store.count_tokens())
    check_unique_location(name, uid, store.find_token_by_uid(uid))


def _ask_apple(module, name, row, content_token, new_secret):
    """Read the location's client config and run the checks that need it; returns ``(client, config)``."""
    params, store = module.params, module.store
    secret = content_token.secret if content_token is not None else store.get_token_secret(name)
    client = module.client_for(secret, allow_takeover=params["force_takeover"])
    try:
        config = client.client_config()  # a location another manager claimed raises here unless force_takeover
    except AppleError as err:
        raise with_token_context(err, name) from None
    reported = reported_fields(config, store.manager_id)
    check_token_type(name, params["token_type"], reported["token_type"], reported["website_url"])
    if row is not None and new_secret:
        check_same_location(name, row, reported["uid"])
    check_unique_location(name, reported["uid"], store.find_token_by_uid(reported["uid"]))
    return client, config


def _register_actions(row, new_secret, changes, claim, taken_from):
    """What registering will do, in order: register or renew, update metadata, claim (or take over)."""
    actions = []
    if row is None:
        actions.append("register")
    elif new_secret:
        actions.append("renew")
    if row is not None and set(changes) - {"claimed"}:
        actions.append("update")
    if claim:
        actions.append("take_over" if taken_from else "claim")
    return actions


def _predicted_row(name, row, content_token, changes):
    """The row the store would hold after the write (check mode, or nothing to write)."""
    predicted = dict(row or {"name": name, "status": STORED_STATUS_OK})
    predicted.update(changes)
    if content_token is not None:
        predicted.update(
            fingerprint=content_token.fingerprint,
            org_name=content_token.org_name,
            expires_at=content_token.expires_at.isoformat(timespec="seconds"),
        )
    return predicted


def _remove(module, name, now):
    params, store = module.params, module.store
    row = store.get_token(name)
    if row is None:
        return {"changed": False, "actions": [], "token": None}
    result = {"changed": True, "actions": [], "token": token_facts(row, now, params["expiry_warning_days"])}
    if params["revoke_on_delete"]:
        result["revoked"] = _revoke_all(module, name)
        result["actions"].append("revoke")
    if not module.check_mode:
        store.delete_token(name)
    result["actions"].append("delete")
    if module.diff_mode:
        result["diff"] = {"before": result["token"], "after": {}}
    return result


def _revoke_all(module, name):
    """Take back every revocable license of the token's location; stop (token kept) if Apple refuses any."""
    store = module.store
    client = module.client_for(store.get_token_secret(name), allow_takeover=module.params["force_takeover"])
    try:
        revocable = {
            (str(asset["adamId"]), asset.get("pricingParam") or "STDQ")
            for asset in client.assets()
            if asset.get("revocable")
        }
        plan = revoke_plan(client.assignments(), revocable)
        summary = {
            "users": len(plan["client_user_ids"]),
            "devices": len(plan["serial_numbers"]),
            "licenses": plan["licenses"],
            "events": [],
        }
        if module.check_mode or not plan["licenses"]:
            return summary
        results = _revoke_and_wait(client, store, name, plan)
    except AppleError as err:
        raise with_token_context(err, name) from None
    summary["events"] = list(results)
    summary["licenses"] = sum(outcome["num_completed"] or 0 for outcome in results.values())
    failed = revoke_failures(results)
    if failed:
        raise _revoke_error(name, failed, summary)
    return summary


def _revoke_and_wait(client, store, name, plan):
    """Submit the revocations, record each event before waiting (a crash leaves a trace), wait, record outcomes."""

    def record_submitted(batch):
        request = {"client_user_ids": len(batch["client_user_ids"]), "serial_numbers": len(batch["serial_numbers"])}
        store.record_event(name, batch["event_id"], "REVOKE", request=request)

    batches = client.revoke(plan["client_user_ids"], plan["serial_numbers"], on_submit=record_submitted)
    results = client.wait_for_events(batches, timeout=EVENT_TIMEOUT)
    for event_id, outcome in results.items():
        store.update_event(name, event_id, outcome["status"], result={"num_completed": outcome["num_completed"]})
    return results


def _revoke_error(name, failed, summary):
    first = failed[0]
    return AppleError(
        "token %r: Apple could not revoke the licenses of %d user(s) or device(s) (first: %s, error %s: %s); "
        "the token was kept"
        % (
            name,
            len(failed),
            first.get("client_user_id") or first.get("serial_number"),
            first["error_number"],
            first["error_message"],
        ),
        error_number=first["error_number"],
        hint="fix the cause and run again with revoke_on_delete: true, or delete the token without revoking",
        details={"revoked": summary},
    )


def _live_check(module, row, facts, now):
    """Ask Apple now whether the token still works and is still ours; never writes anything."""
    name = row["name"]
    client = module.client_for(module.store.get_token_secret(name), allow_takeover=True)
    try:
        config = client.client_config()
    except VPPError as err:  # a refused token gets the status it deserves; an unreachable Apple leaves it as stored
        live = {"check_error": str(with_token_context(err, name))}
        if refusal_status(err):
            live["status"] = refusal_status(err)
        return live
    finally:
        client.close()  # one keep-alive connection per token would pile up over thousands of tokens
    live = {"claimed": reported_fields(config, module.store.manager_id)["claimed"], "check_error": None}
    taken_by = other_manager(config.get("mdmInfo"), module.store.manager_id)
    if taken_by:
        live["status"] = "claimed_elsewhere"
        live["check_error"] = "token %r: location %s is now managed by another device-management service (%r)" % (
            name,
            facts.get("uid") or "?",
            taken_by,
        )
    elif facts["status"] in STORED_PROBLEM_STATUSES and facts["status"] != "expired":
        # Apple accepts the token again (e.g. the other manager left): report what the dates say
        live["status"] = token_status(dict(row, status=STORED_STATUS_OK), now, module.params["expiry_warning_days"])
    return live
