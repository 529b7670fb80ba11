# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Location tokens: register, renew, claim, list and delete the content tokens of Apple locations.

``ensure_token`` (``vpp_token``) and ``list_tokens`` (``vpp_token_info``) orchestrate the pure decisions of
``token_facts.py`` with the store and the client; revoking before a delete is ``token_revoke.py``. Every check runs
before the first write, to Apple or to the store, so a refused token leaves both exactly as they were. A token's
secret never leaves this module except towards Apple and the store: results name a token by its fingerprint.
"""

from __future__ import annotations

import contextlib

from ansible_collections.mdm.vpp.plugins.module_utils.errors import AppleError, ConfigurationError, VPPError
from ansible_collections.mdm.vpp.plugins.module_utils.notification_settings import apple_view
from ansible_collections.mdm.vpp.plugins.module_utils.parallel import (
    DEFAULT_PARALLEL,
    check_parallel,
    for_each_token,
)
from ansible_collections.mdm.vpp.plugins.module_utils.stoken import parse_content_token
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import parse_timestamp, to_timestamp, utc_now
from ansible_collections.mdm.vpp.plugins.module_utils.token_dependents import (
    forced_removal_warning,
    removal_diff,
    removal_refusal,
    removal_view,
)
from ansible_collections.mdm.vpp.plugins.module_utils.token_facts import (
    COLLECTION_VERSION,
    DEFAULT_EXPIRY_WARNING_DAYS,
    FACT_FIELDS,
    MAX_TOKENS,
    REPORTED_FIELDS,
    STORED_PROBLEM_STATUSES,
    STORED_STATUS_OK,
    changed_fields,
    check_not_expired,
    check_same_location,
    check_token_limit,
    check_token_type,
    check_unique_location,
    expiry_warning,
    manager_identity,
    other_manager,
    refusal_status,
    reported_fields,
    token_facts,
    token_status,
    token_type_for_website,
    wanted_metadata,
    with_token_context,
)
from ansible_collections.mdm.vpp.plugins.module_utils.token_notifications import (
    apply_notifications,
    check_notification_options,
    notification_facts,
    plan_notifications,
)
from ansible_collections.mdm.vpp.plugins.module_utils.token_revoke import revoke_all, revoke_failures, revoke_plan

# Names other files and the tests import from here (their home is token_facts, token_revoke, parallel, timestamps).
__all__ = [
    "COLLECTION_VERSION",
    "DEFAULT_EXPIRY_WARNING_DAYS",
    "DEFAULT_PARALLEL",
    "FACT_FIELDS",
    "MAX_TOKENS",
    "changed_fields",
    "check_not_expired",
    "check_same_location",
    "check_token_limit",
    "check_token_type",
    "check_unique_location",
    "ensure_token",
    "expiry_warning",
    "list_tokens",
    "manager_identity",
    "other_manager",
    "parse_timestamp",
    "read_content_token",
    "refusal_status",
    "reported_fields",
    "revoke_failures",
    "revoke_plan",
    "token_facts",
    "token_status",
    "token_type_for_website",
    "utc_now",
    "wanted_metadata",
]


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
    if params["state"] == "present":
        check_notification_options(params)  # a URL Apple would refuse stops before any request
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


def list_tokens(module, now=None):
    """``vpp_token_info``: the facts of every token (or of ``names``), optionally checked live at Apple."""
    now = now or utc_now()
    params = module.params
    check_parallel(params["parallel"])
    warning_days = params["expiry_warning_days"]
    rows = module.store.list_tokens(params["names"])
    settings = module.store.list_notification_settings()
    tokens = [token_facts(row, now, warning_days) for row in rows]
    for facts in tokens:
        facts["notifications"] = notification_facts(settings.get(facts["name"]))
    if params["check"]:
        parallel = module.share_connections(params["parallel"], len(rows))
        checked = for_each_token(
            lambda pair: _live_check(module, pair[0], pair[1], now), zip(rows, tokens, strict=True), parallel
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
    settings = store.get_notification_settings(name)
    notifications = plan_notifications(name, params, settings, client, config)  # refused options stop here
    module.censor((settings or {}).get("secret"))  # the stored and the generated secret: as no_log as the option
    if notifications is not None:
        module.censor(notifications.wanted["secret"])
    if notifications is not None and notifications.drift:
        module.warn(notifications.drift)

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
    if notifications is not None and notifications.changed:
        actions.append("notifications")
        if not module.check_mode:  # after the registration's commit: the receiver must read the new secret
            apply_notifications(store, client, name, notifications)

    facts = token_facts(stored, now, params["expiry_warning_days"])
    facts["notifications"] = notification_facts(notifications.wanted if notifications else settings)
    warning = expiry_warning(facts)
    if warning:
        module.warn(warning)
    result = {"changed": bool(actions), "actions": actions, "token": facts}
    if module.diff_mode:
        before = {}
        if row:
            before = token_facts(row, now, params["expiry_warning_days"])
            before["notifications"] = notification_facts(settings)
        if notifications is not None and notifications.drift:
            before["notifications_at_apple"] = notifications.at_apple
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
            expires_at=to_timestamp(content_token.expires_at),
        )
    return predicted


def _remove(module, name, now):
    """Delete token ``name``: refused while applications depend on it (unless ``force``), before any call to Apple."""
    params, store = module.params, module.store
    row = store.get_token(name)
    if row is None:
        return {"changed": False, "actions": [], "token": None}
    dependents = store.token_dependents(name)
    refusal = removal_refusal(name, dependents, params["force"], params["revoke_on_delete"])
    if refusal is not None:
        raise refusal
    facts = token_facts(row, now, params["expiry_warning_days"])
    facts["notifications"] = notification_facts(store.get_notification_settings(name))
    result = {"changed": True, "actions": [], "token": facts, "removed": removal_view(dependents)}
    if params["revoke_on_delete"]:
        result["revoked"] = revoke_all(module, name)
        result["actions"].append("revoke")
    if not module.check_mode:
        store.delete_token(name)
    result["actions"].append("delete")
    warning = forced_removal_warning(name, dependents, module.check_mode, params["revoke_on_delete"])
    if warning:
        module.warn(warning)
    if module.diff_mode:
        result["diff"] = removal_diff(facts, dependents)
    return result


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
    live["notifications_at_apple"] = apple_view(config)
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
