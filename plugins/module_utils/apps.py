# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Licensed apps and their applications: ``list_apps`` (``vpp_app_info``) and ``ensure_application`` (``vpp_app``).

They orchestrate the pure facts of ``app_facts.py`` and the decisions of ``application_decisions.py`` with the
store (and, for ``refresh``, the sync engine). The app listing is one store query whatever the number of apps.

An application is a row of the store's applications table: its identity is token + adamId + pricingParam (the
same app licensed through two tokens is two applications), and its name is unique.
"""

from __future__ import annotations

import contextlib

from ansible_collections.mdm.vpp.plugins.module_utils.app_facts import (
    APP_FIELDS,
    app_facts,
    app_filter,
    apply_query,
    check_holders_limit,
    compile_query,
    group_holders,
    is_low,
    parse_threshold,
    percent_used,
    untracked_count,
    with_holders,
)
from ansible_collections.mdm.vpp.plugins.module_utils.application_decisions import (
    application_facts,
    application_view,
    check_name_free,
    default_application_name,
    default_pricing_param,
    deployments_block_removal,
    desired_application,
    not_licensed_error,
    pick_by_name,
)
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.sync import SyncOptions, sync_tokens
from ansible_collections.mdm.vpp.plugins.module_utils.token_facts import changed_fields

# Names other files and the tests import from here (their home is app_facts and application_decisions).
__all__ = [
    "APP_FIELDS",
    "app_facts",
    "app_filter",
    "application_view",
    "apply_query",
    "check_holders_limit",
    "check_name_free",
    "compile_query",
    "default_application_name",
    "default_pricing_param",
    "deployments_block_removal",
    "desired_application",
    "ensure_application",
    "group_holders",
    "is_low",
    "list_apps",
    "not_licensed_error",
    "parse_threshold",
    "percent_used",
    "pick_by_name",
    "refresh_tokens",
    "resolve_asset",
    "untracked_count",
    "with_holders",
]

REFRESH_MODE = "auto"  # a refresh before a report: changes only, a full sync when the last one is a week old
# Fields of the per-token refresh outcome that vpp_app_info passes on from the sync engine.
REFRESH_FIELDS = ("name", "status", "mode", "mode_reason", "changed", "license_count_changes", "msg")


# --- orchestration: vpp_app_info -----------------------------------------------------------------------------------


def list_apps(module):
    """``vpp_app_info``: the licensed apps and books per token, filtered, optionally refreshed and queried."""
    params, store = module.params, module.store
    threshold = parse_threshold(params["low_license_threshold"])
    compiled = compile_query(params["query"])
    holders_limit = check_holders_limit(params["holders_limit"]) if params["holders"] else None
    names = _registered_names(module, params["tokens"])
    result = {"changed": False}
    if params["refresh"]:
        result["refresh"] = refresh_tokens(module, names)
    filters = {"tokens": names, "adam_id": params["adam_id"], "product_type": params["product_type"]}
    keep = app_filter(name=params["name"], platform=params["platform"])
    apps = [app for app in (app_facts(row, threshold) for row in store.iter_licensed_assets(**filters)) if keep(app)]
    if holders_limit is not None:  # one query for the holders of every app, cut per app
        grouped = group_holders(store.iter_license_holders(holders_limit, **filters))
        apps = [with_holders(app, grouped) for app in apps]
    result["apps"] = apply_query(compiled, apps)
    return result


def _registered_names(module, names):
    """The registered ones of the token ``names`` asked for (a warning names the others); None means all."""
    if not names:
        return None
    names = list(dict.fromkeys(names))
    known = {row["name"] for row in module.store.list_tokens(names)}
    unknown = [name for name in names if name not in known]
    if unknown:
        module.warn(
            "token(s) %s not registered: left out (mdm.vpp.vpp_token_info lists the registered tokens)"
            % ", ".join(unknown)
        )
    return [name for name in names if name in known]


def refresh_tokens(module, names):
    """Sync the tokens ``names`` (all when None) before listing; a token that fails is listed as last synced.

    In check mode the sync reads Apple and reports what it would change, and writes nothing.
    """
    store = module.store
    if names is None:
        names = [row["name"] for row in store.list_tokens()]
    options = SyncOptions(mode=REFRESH_MODE, check_mode=module.check_mode)
    parallel = module.share_connections(None, len(names))  # None: derived from the number of tokens
    outcome = sync_tokens(store, names, module.client_for, options, parallel=parallel)
    summary = []
    for result in outcome["tokens"]:
        for warning in result["warnings"]:
            module.warn("token %s: %s" % (result["name"], warning))
        if result["status"] != "ok":
            module.warn(
                "token %s could not be refreshed, its apps are listed as last synchronised: %s"
                % (result["name"], result["msg"])
            )
        summary.append({name: result.get(name) for name in REFRESH_FIELDS})
    return summary


# --- orchestration: vpp_app ----------------------------------------------------------------------------------------


def ensure_application(module):
    """``vpp_app``: bring the application of token + app to ``state``; returns the module result."""
    params, store = module.params, module.store
    token = params["token"]
    token_row = store.get_token(token)
    if token_row is None and params["state"] == "absent":
        # deleting a token deleted its applications: there is nothing left to remove
        module.warn("token %r is not registered: it has no application to remove" % token)
        return {"changed": False, "application": None, "app": None, "forgotten_deployments": []}
    if token_row is None:
        raise ConfigurationError(
            "token %r is not registered" % token,
            hint="register it first with mdm.vpp.vpp_token, or check the name (mdm.vpp.vpp_token_info lists them)",
        )
    # check mode writes nothing, not even the lock row; a real run waits for a deployment running on the token
    lock = contextlib.nullcontext() if module.check_mode else store.token_lock(token)
    with lock:
        adam_id, pricing_param, asset = resolve_asset(store, token, params)
        existing = store.find_application(token, adam_id, pricing_param)
        if params["state"] == "absent":
            return _remove(module, existing, asset)
        if asset is None:
            other_params = [row["pricing_param"] for row in store.iter_licensed_assets(tokens=[token], adam_id=adam_id)]
            raise not_licensed_error(token, adam_id, pricing_param, other_params, token_row["last_sync_at"] is None)
        return _present(module, existing, asset)


def resolve_asset(store, token, params):
    """``(adam_id, pricing_param, asset row or None)`` the task means: by ``adam_id``, or by ``app_name``.

    Without ``pricing_param``, the token's only pricing param for the adamId (else STDQ) is used.
    """
    pricing_param = params.get("pricing_param")
    if params.get("app_name") is not None:
        licensed = store.iter_licensed_assets(tokens=[token])
        rows = [row for row in licensed if pricing_param is None or row["pricing_param"] == pricing_param]
        asset = pick_by_name(token, params["app_name"], rows)
        return asset["adam_id"], asset["pricing_param"], asset
    adam_id = str(params["adam_id"])
    rows = list(store.iter_licensed_assets(tokens=[token], adam_id=adam_id))
    if pricing_param is None:
        known = [row["pricing_param"] for row in rows]
        if not known:  # an app no longer licensed may still have its application
            known = [app["pricing_param"] for app in store.list_applications(token) if app["adam_id"] == adam_id]
        pricing_param = default_pricing_param(known)
    asset = next((row for row in rows if row["pricing_param"] == pricing_param), None)
    return adam_id, pricing_param, asset


def _present(module, existing, asset):
    store = module.store
    identity = (asset["token"], asset["adam_id"], asset["pricing_param"])
    default_name = default_application_name(asset["name"], asset["adam_id"], asset["token"])
    desired = desired_application(module.params, existing, default_name)
    check_name_free(desired["name"], store.get_application(desired["name"]), identity)
    changes = changed_fields(existing or {}, desired)
    if existing is None:
        stored = _predicted(None, identity, changes) if module.check_mode else _create(store, identity, changes)
    elif changes and not module.check_mode:
        stored = _update(store, existing, changes)
    else:
        stored = _predicted(existing, identity, changes)
    result = {
        "changed": existing is None or bool(changes),
        "application": application_facts(stored),
        "app": dict(app_facts(asset), application=stored["name"]),
    }
    if module.diff_mode:
        result["diff"] = {"before": application_view(existing), "after": application_view(stored)}
    return result


def _create(store, identity, fields):
    token, adam_id, pricing_param = identity
    extra = {name: value for name, value in fields.items() if name != "name"}
    return store.upsert_application(fields["name"], token=token, adam_id=adam_id, pricing_param=pricing_param, **extra)


def _update(store, existing, changes):
    """Rename and update in one transaction: a failure leaves the application as it was."""
    name = changes.get("name", existing["name"])
    extra = {field: value for field, value in changes.items() if field != "name"}
    with store.transaction():
        if name != existing["name"]:
            store.rename_application(existing["name"], name)
        if extra:
            store.upsert_application(name, **extra)
    return store.get_application(name)


def _predicted(existing, identity, changes):
    """The application row the store would hold after the write (check mode, or nothing to write)."""
    token, adam_id, pricing_param = identity
    predicted = dict(existing or {"token": token, "adam_id": adam_id, "pricing_param": pricing_param})
    predicted.update(changes)
    return predicted


def _remove(module, existing, asset):
    store = module.store
    app = app_facts(asset) if asset is not None else None
    if existing is None:
        return {"changed": False, "application": None, "app": app, "forgotten_deployments": []}
    deployments = store.list_deployments(application=existing["name"])
    if deployments and not module.params["force"]:
        raise deployments_block_removal(existing["name"], deployments)
    if not module.check_mode:
        store.delete_application(existing["name"])
    forgotten = [deployment["name"] for deployment in deployments]
    if forgotten:
        module.warn(
            "%s the record of deployment(s) %s of application %r: no license was reclaimed, the licenses their "
            "members hold stay assigned at Apple (reclaim them with an uninstall deployment, made from a new "
            "application of the same app)"
            % ("would forget" if module.check_mode else "forgot", ", ".join(forgotten), existing["name"])
        )
    if app is not None:  # the asset as it is after the removal: no application, no deployment holding licenses
        app.update(application=None, deployed=0, installed=0)
    result = {
        "changed": True,
        "application": application_facts(existing),
        "app": app,
        "forgotten_deployments": forgotten,
    }
    if module.diff_mode:
        result["diff"] = {"before": application_view(existing), "after": {}}
    return result
