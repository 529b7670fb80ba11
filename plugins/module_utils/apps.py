# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Licensed apps and the applications made from them, for ``vpp_app_info`` and ``vpp_app``.

The pure functions at the top decide (the low-license threshold, the shape of an app row, the filters, which
app a task means, what changes); ``list_apps`` and ``ensure_application`` at the bottom orchestrate them with the
store (and, for ``refresh``, the sync engine). The app listing is one store query whatever the number of apps.

An application is a row of the store's applications table: its identity is token + adamId + pricingParam (the
same app licensed through two tokens is two applications), and its name is unique.
"""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.sync import DEFAULT_PARALLEL, SyncOptions, sync_tokens
from ansible_collections.mdm.vpp.plugins.module_utils.tokens import changed_fields

try:
    import jmespath

    HAS_JMESPATH = True
    JMESPATH_IMPORT_ERROR = None
except ImportError:
    HAS_JMESPATH = False
    JMESPATH_IMPORT_ERROR = traceback.format_exc()

PRODUCT_TYPES = ("App", "Book")
PRICING_PARAMS = ("STDQ", "PLUS")
DEFAULT_PRICING_PARAM = "STDQ"  # what Apple assumes when a request omits pricingParam
REFRESH_MODE = "auto"  # a refresh before a report: changes only, a full sync when the last one is a week old
APP_FIELDS = (
    "name",
    "adam_id",
    "pricing_param",
    "bundle_id",
    "version",
    "icon_url",
    "token",
    "token_type",
    "product_type",
    "platforms",
    "device_assignable",
    "revocable",
    "unlimited",
    "total",
    "assigned",
    "available",
    "retired",
    "deployed",
    "untracked",
    "application",
    "percent_used",
    "low",
)
APPLICATION_FIELDS = ("name", "token", "adam_id", "pricing_param", "description", "categories")
# Fields of the per-token refresh outcome that vpp_app_info passes on from the sync engine.
REFRESH_FIELDS = ("name", "status", "mode", "mode_reason", "changed", "license_count_changes", "msg")
MAX_CANDIDATES_SHOWN = 10


# --- pure helpers: license counts ---------------------------------------------------------------------------------


def parse_threshold(value):
    """``low_license_threshold`` as ``(amount, is_percent)``: ``5`` -> ``(5.0, False)``, ``"10%"`` -> ``(10.0, True)``.

    None (no threshold) stays None. Refuses negative numbers, percentages above 100 and anything else.
    """
    if value is None:
        return None
    text = str(value).strip()
    is_percent = text.endswith("%")
    number = text[:-1].strip() if is_percent else text
    try:
        if isinstance(value, bool):
            raise ValueError(value)
        amount = float(number)
    except ValueError:
        raise ConfigurationError(
            'low_license_threshold must be a number of licenses (5) or a percentage of the total ("10%%"), got %r'
            % (value,)
        ) from None
    if amount < 0 or (is_percent and amount > 100):
        raise ConfigurationError(
            "low_license_threshold %r is out of range: give 0 or more licenses, or 0%% to 100%% of the total" % (value,)
        )
    return amount, is_percent


def is_low(available, total, unlimited, threshold):
    """Whether an asset's available licenses are below ``threshold`` (from ``parse_threshold``).

    A percentage is of the asset's total. Unlimited (free) assets are never low; an asset with no license left is
    low for any threshold above 0, even when its total is 0.
    """
    if threshold is None or unlimited:
        return False
    amount, is_percent = threshold
    if amount <= 0:
        return False
    limit = total * amount / 100.0 if is_percent else amount
    return available < limit or available <= 0


def untracked_count(assigned, deployed):
    """Licenses assigned at Apple that no deployment of this collection accounts for (never below 0).

    Assigned by another tool, by hand in Apple's portal, by a deployment whose record was lost (a store restored
    from an older backup), or by a deployment that was forgotten (``state: absent``) without reclaiming.
    """
    return max((assigned or 0) - (deployed or 0), 0)


def percent_used(assigned, total):
    """Share of the licenses assigned, in percent with one decimal (0.0 when there are none)."""
    return round(100.0 * assigned / total, 1) if total else 0.0


def app_facts(row, threshold=None):
    """A row of ``store.iter_licensed_assets()`` as an app of ``vpp_app_info`` (``vpp_app`` returns the same)."""
    total, available = row["total_count"], row["available_count"]
    return {
        "name": row["name"],
        "adam_id": row["adam_id"],
        "pricing_param": row["pricing_param"],
        "bundle_id": row["bundle_id"],
        "version": row["version"],
        "icon_url": row["icon_url"],
        "token": row["token"],
        "token_type": row["token_type"],
        "product_type": row["product_type"],
        "platforms": list(row["platforms"] or ()),
        "device_assignable": bool(row["device_assignable"]),
        "revocable": bool(row["revocable"]),
        "unlimited": bool(row["unlimited"]),
        "total": total,
        "assigned": row["assigned_count"],
        "available": available,
        "retired": row["retired_count"],
        "deployed": row["deployed"],
        "untracked": untracked_count(row["assigned_count"], row["deployed"]),
        "application": row["application"],
        "percent_used": percent_used(row["assigned_count"], total),
        "low": is_low(available, total, row["unlimited"], threshold),
    }


# --- pure helpers: filters and queries ------------------------------------------------------------------------------


def name_matches(app, pattern):
    """Shell-style, case-insensitive match of ``pattern`` on the app's name or its bundle id."""
    pattern = pattern.lower()
    return any(value and fnmatch.fnmatchcase(value.lower(), pattern) for value in (app["name"], app["bundle_id"]))


def platform_matches(app, platform):
    """Whether the app runs on ``platform`` (case-insensitive: ``ios`` finds ``iOS``)."""
    return platform.lower() in (name.lower() for name in app["platforms"])


def app_filter(name=None, platform=None):
    """A predicate for the filters the store query cannot apply (name pattern, platform)."""

    def keep(app):
        if name is not None and not name_matches(app, name):
            return False
        return platform is None or platform_matches(app, platform)

    return keep


def compile_query(expression):
    """The compiled JMESPath ``query`` (None when not given); refuses a malformed one before any work."""
    if expression is None:
        return None
    if not HAS_JMESPATH:
        raise ConfigurationError(missing_required_lib("jmespath"), details={"exception": JMESPATH_IMPORT_ERROR})
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as err:
        raise ConfigurationError(
            "query %r is not a valid JMESPath expression: %s" % (expression, err),
            hint="see https://jmespath.org/specification.html; the expression applies to the list of apps",
        ) from None


def apply_query(compiled, apps):
    """``apps`` shaped by the compiled query (the list itself when there is none)."""
    if compiled is None:
        return apps
    try:
        return compiled.search(apps)
    except jmespath.exceptions.JMESPathError as err:
        raise ConfigurationError(
            "query %r failed on the list of apps: %s" % (compiled.expression, err),
            hint="check the field names and types the query uses (see the apps result of vpp_app_info)",
        ) from None


# --- pure helpers: which app a vpp_app task means ------------------------------------------------------------------


def default_pricing_param(known):
    """The token's only pricing param for an adamId, else ``STDQ``."""
    known = sorted(set(known))
    return known[0] if len(known) == 1 else DEFAULT_PRICING_PARAM


def default_application_name(app_name, adam_id, token):
    """``"<app name from metadata, else adamId> (<token name>)"``: the same app through two tokens gets two names."""
    return "%s (%s)" % (app_name or adam_id, token)


def describe_asset(row):
    """``"Pages" (adamId 1000000001, STDQ)`` for messages."""
    label = '"%s" ' % row["name"] if row.get("name") else ""
    return "%s(adamId %s, %s)" % (label, row["adam_id"], row["pricing_param"])


def describe_candidates(rows, limit=MAX_CANDIDATES_SHOWN):
    shown = [describe_asset(row) for row in rows[:limit]]
    if len(rows) > limit:
        shown.append("%d more" % (len(rows) - limit))
    return ", ".join(shown)


def pick_by_name(token, app_name, rows):
    """The one asset of ``rows`` (a token's apps) named ``app_name`` (case-insensitive), else a clear error."""
    wanted = app_name.casefold()
    matches = [row for row in rows if (row["name"] or "").casefold() == wanted]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ConfigurationError(
            "app name %r is ambiguous in token %r: %s" % (app_name, token, describe_candidates(matches)),
            hint="give adam_id (and pricing_param) instead of app_name",
        )
    names = {row["name"]: row for row in rows if row["name"]}
    close = [names[name] for name in difflib.get_close_matches(app_name, list(names), n=MAX_CANDIDATES_SHOWN)]
    raise ConfigurationError(
        "token %r licenses no app named %r%s"
        % (token, app_name, "; similar names: %s" % describe_candidates(close) if close else ""),
        hint="check the name (mdm.vpp.vpp_app_info lists the token's apps) or give adam_id; run mdm.vpp.vpp_sync "
        "for token %s if the app was bought recently" % token,
    )


def not_licensed_error(token, adam_id, pricing_param, other_params, never_synced):
    """Why an application cannot be made from an asset the token does not license, and what to do."""
    reason = "it is not among the apps synced for that token"
    if other_params:
        reason = "the token licenses it only as %s" % ", ".join(sorted(other_params))
    elif never_synced:
        reason = "the token was never synchronised"
    return ConfigurationError(
        "token %r does not license app %s (%s): %s" % (token, adam_id, pricing_param, reason),
        hint="run mdm.vpp.vpp_sync for token %s (a recent purchase appears after a sync), or check the adamId%s"
        % (token, " and pricing_param" if other_params else ""),
    )


# --- pure helpers: what changes ------------------------------------------------------------------------------------


def desired_application(params, existing, default_name):
    """The application fields the task asks for; ``name`` keeps the current name unless a new one is given."""
    desired = {"name": params.get("name") or (existing["name"] if existing else default_name)}
    if params.get("description") is not None:
        desired["description"] = params["description"]
    if params.get("categories") is not None:
        desired["categories"] = list(params["categories"])
    return desired


def application_view(row):
    """What a user may know about an application (a store row): identity, name, description, categories."""
    if row is None:
        return {}
    view = {name: row.get(name) for name in APPLICATION_FIELDS}
    view["categories"] = list(row.get("categories") or [])
    return view


def application_facts(row):
    """An application's facts in results: its view plus when it was created and last changed."""
    if row is None:
        return None
    return dict(application_view(row), created_at=row.get("created_at"), updated_at=row.get("updated_at"))


def check_name_free(name, holder, identity):
    """Refuse a name that another application (another token + adamId + pricingParam) already has."""
    if holder is None or (holder["token"], holder["adam_id"], holder["pricing_param"]) == identity:
        return
    raise ConfigurationError(
        "the application name %r is already used by the application of app %s (%s) of token %r"
        % (name, holder["adam_id"], holder["pricing_param"], holder["token"]),
        hint="give this application another name",
    )


def deployments_block_removal(application, deployments):
    """The refusal to remove an application that still has deployments (without ``force``)."""
    names = [deployment["name"] for deployment in deployments]
    return ConfigurationError(
        "application %r has %d deployment(s): %s" % (application, len(names), ", ".join(names)),
        hint="remove its deployments first (mdm.vpp.vpp_deployment with state: absent), or set force: true to "
        "forget them with the application (no license is reclaimed at Apple)",
    )


# --- orchestration: vpp_app_info -----------------------------------------------------------------------------------


def list_apps(module):
    """``vpp_app_info``: the licensed apps and books per token, filtered, optionally refreshed and queried."""
    params, store = module.params, module.store
    threshold = parse_threshold(params["low_license_threshold"])
    compiled = compile_query(params["query"])
    names = _registered_names(module, params["tokens"])
    result = {"changed": False}
    if params["refresh"]:
        result["refresh"] = refresh_tokens(module, names)
    rows = store.iter_licensed_assets(tokens=names, adam_id=params["adam_id"], product_type=params["product_type"])
    keep = app_filter(name=params["name"], platform=params["platform"])
    apps = [app for app in (app_facts(row, threshold) for row in rows) if keep(app)]
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
    outcome = sync_tokens(store, names, module.client_for, options, parallel=DEFAULT_PARALLEL)
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
        rows = [row for row in store.iter_licensed_assets(tokens=[token])
                if pricing_param is None or row["pricing_param"] == pricing_param]  # fmt: skip
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
        app.update(application=None, deployed=0)
    result = {
        "changed": True,
        "application": application_facts(existing),
        "app": app,
        "forgotten_deployments": forgotten,
    }
    if module.diff_mode:
        result["diff"] = {"before": application_view(existing), "after": {}}
    return result
