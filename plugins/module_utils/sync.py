# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sync engine: Apple's license picture -> the store, per token, full or incremental, audited.

Per token, under the store's per-token lock:

1. ``GET /client/config``: is the token still valid, is the location still ours (``mdmInfo``), refreshed facts;
2. every page of ``/assets`` (Apple has no delta for assets);
3. assignments and users: a ``sinceVersionId`` delta (incremental) or every page (full), streamed into the
   store's staging tables so memory stays flat;
4. one transaction makes it all live (assets, assignments, users, facts, versionIds): a crash leaves the previous
   consistent state. An incremental sync whose stored assignments exceed Apple's ``assignedCount`` for an app
   (removals, which Apple's deltas never report, e.g. after a store restore) is rolled back and redone in full;
   so is one whose stored ``versionId`` Apple rejects (9721);
5. metadata (name, bundle id, version, icon, platforms) for apps that have none yet.

Check mode runs the very same steps inside one transaction that is rolled back: the drift is measured by the
store's own diff, and nothing is kept. Tokens are synced by a bounded thread pool; each worker has its own
``VPPClient`` (Apple's per-token rate limit is the client's business) and the store hands every thread its own
connection.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from datetime import UTC, datetime, timedelta

from ansible_collections.mdm.vpp.plugins.module_utils.errors import (
    ConfigurationError,
    InvalidVersionError,
    StoreError,
    TakeoverError,
    VPPError,
)
from ansible_collections.mdm.vpp.plugins.module_utils.tokens import (
    DEFAULT_PARALLEL,
    STORED_STATUS_OK,
    changed_fields,
    check_parallel,
    expiry_warning,
    for_each_token,
    parse_timestamp,
    refusal_status,
    reported_fields,
    token_facts,
)

MODES = ("full", "incremental", "auto")
DEFAULT_MODE = "full"  # a manual sync is always full
DEFAULT_FULL_SYNC_INTERVAL_DAYS = 7
UNLIMITED_TOTAL_COUNT = 2147483647  # Apple's totalCount of an unlimited (free) asset

REASON_REQUESTED = "requested"
REASON_NEVER_SYNCED = "auto: never synced"
REASON_AUTO_AGE = "auto: last full sync %d days ago"
REASON_NO_VERSION = "fallback: no stored versionId to ask Apple for changes"
REASON_VERSION_REJECTED = "fallback: Apple rejected the stored versionId"
REASON_COUNTS_DISAGREE = "fallback: the store holds assignments Apple no longer counts"
NO_TARGET_WARNING = "skipped %d assignment record(s) without serialNumber or clientUserId"

_CHANGE_KINDS = ("added", "changed", "removed")


@dataclasses.dataclass(frozen=True)
class SyncOptions:
    """How to sync: ``mode`` (full, incremental, auto), the auto interval, metadata lookups, check mode."""

    mode: str = DEFAULT_MODE
    full_sync_interval_days: int = DEFAULT_FULL_SYNC_INTERVAL_DAYS
    metadata: bool = True
    check_mode: bool = False
    diff: bool = False
    run_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))


class _StoreAheadOfApple(Exception):
    """Internal: after a delta the store holds assignments Apple does not count; redo the token in full."""


# --- pure decisions ----------------------------------------------------------------------------------------------


def choose_mode(requested, token, interval_days, now):
    """``(mode, reason)`` for one token: ``requested`` is full, incremental or auto; ``token`` its store row.

    A delta needs both stored versionIds; ``auto`` is incremental unless no full sync happened within
    ``interval_days`` (or ever).
    """
    has_versions = bool(token.get("assignments_version") and token.get("users_version"))
    if requested == "full":
        return "full", REASON_REQUESTED
    if requested == "incremental":
        return ("incremental", REASON_REQUESTED) if has_versions else ("full", REASON_NO_VERSION)
    last_full = parse_timestamp(token.get("last_full_sync_at"))
    if last_full is None:
        return "full", REASON_NEVER_SYNCED
    if not has_versions:
        return "full", REASON_NO_VERSION
    age = now - last_full
    reason = REASON_AUTO_AGE % max(age // timedelta(days=1), 0)
    return ("full" if age >= timedelta(days=interval_days) else "incremental"), reason


def asset_row(asset):
    """One of Apple's ``ResponseAsset`` (or ``UnlimitedResponseAsset``) as a store asset row."""
    total = asset.get("totalCount")
    unlimited = total == UNLIMITED_TOTAL_COUNT or (total is None and asset.get("availableCount") is None)
    return {
        "adam_id": str(asset["adamId"]),
        "pricing_param": asset.get("pricingParam") or "STDQ",
        "product_type": asset.get("productType"),
        "total_count": total or 0,
        "assigned_count": asset.get("assignedCount") or 0,
        "available_count": asset.get("availableCount") or 0,
        "retired_count": asset.get("retiredCount") or 0,
        "device_assignable": bool(asset.get("deviceAssignable")),
        "revocable": bool(asset.get("revocable")),
        "platforms": list(asset.get("supportedPlatforms") or ()),
        "unlimited": unlimited,
    }


def assignment_key(assignment):
    """One of Apple's ``Assignment`` as a store assignment key: (adam_id, pricing_param, target_kind, target_id).

    A tuple, not a dictionary: a full sync of a large location makes a million of them.
    """
    user = assignment.get("clientUserId")
    return (
        str(assignment["adamId"]),
        assignment.get("pricingParam") or "STDQ",
        "user" if user else "device",
        user or assignment["serialNumber"],
    )


def has_target(assignment):
    """Whether one of Apple's ``Assignment`` names a user or a device (Apple has sent records naming neither)."""
    return bool(assignment.get("clientUserId") or assignment.get("serialNumber"))


def user_row(user):
    """One of Apple's ``ResponseUser`` as a store user row."""
    return {
        "client_user_id": user["clientUserId"],
        "email": user.get("email"),
        "status": user.get("status"),
        "invite_code": user.get("inviteCode"),
        "id_hash": user.get("idHash"),
    }


def count_changes(diff):
    """License count changes per app from ``store.asset_diff()``: added and removed apps included."""
    changes = [_count_change(row, None, row) for row in diff["added"]]
    changes += [_count_change(row, row, None) for row in diff["removed"]]
    for change in diff["changed"]:
        before, after = _counts(change["before"]), _counts(change["after"])
        if before != after:
            changes.append(dict(_count_change(change, change["before"], change["after"]), delta=change["delta"]))
    return sorted(changes, key=lambda change: (change["adam_id"], change["pricing_param"]))


def _count_change(row, before, after):
    return {"adam_id": row["adam_id"], "pricing_param": row["pricing_param"],
            "before": _counts(before), "after": _counts(after)}  # fmt: skip


def _counts(row):
    if row is None:
        return None
    return {name: row.get(name) for name in ("total_count", "assigned_count", "available_count", "retired_count")}


def surplus_assignments(assets, stored_counts):
    """Apps whose stored assignments outnumber Apple's ``assignedCount`` (apps Apple dropped count as 0).

    ``assets``: store asset rows from Apple; ``stored_counts``: ``{(adam_id, pricing_param): n}``. Returns
    ``{(adam_id, pricing_param): (stored, apple)}``.
    """
    apple = {(row["adam_id"], row["pricing_param"]): row["assigned_count"] for row in assets}
    return {
        key: (stored, apple.get(key, 0)) for key, stored in sorted(stored_counts.items()) if stored > apple.get(key, 0)
    }


def describe_counts(mismatches, limit=3):
    """``"1000000001/STDQ: 3 stored, 2 at Apple; ..."`` for a warning (the first ``limit`` apps)."""
    parts = ["%s/%s: %d stored, %d at Apple" % (key[0], key[1], stored, apple)
             for key, (stored, apple) in list(mismatches.items())[:limit]]  # fmt: skip
    if len(mismatches) > limit:
        parts.append("%d more" % (len(mismatches) - limit))
    return "; ".join(parts)


def license_picture(assets, assignments, users):
    """A token's licenses in a form a diff shows well: counts, and per app ``assigned/total`` licenses."""
    return {
        "assignments": assignments,
        "users": users,
        "apps": {
            "%s/%s" % (row["adam_id"], row["pricing_param"]): "%s/%s assigned"
            % (row["assigned_count"], "unlimited" if row["unlimited"] else row["total_count"])
            for row in assets
        },
    }


def task_diff(results):
    """The module's diff: each synchronised token's license picture before and after."""
    done = [result for result in results if result.get("diff")]
    return {
        "before": {result["name"]: result["diff"]["before"] for result in done},
        "after": {result["name"]: result["diff"]["after"] for result in done},
    }


def new_token_result(name):
    """The per-token result before anything happened."""
    return {
        "name": name,
        "status": "failed",
        "mode": None,
        "mode_reason": None,
        "token_status": None,
        "changed": False,
        "assets": dict.fromkeys(_CHANGE_KINDS, 0),
        "assignments": dict.fromkeys(_CHANGE_KINDS, 0),
        "users": dict.fromkeys(_CHANGE_KINDS, 0),
        "license_count_changes": [],
        "facts_changed": [],
        "metadata": {"looked_up": 0, "found": 0},
        "requests": {"total": 0, "by_endpoint": {}},
        "duration": 0.0,
        "warnings": [],
    }


def store_changed(result):
    """Whether a token's sync changed (or, in check mode, would change) the store."""
    return bool(
        any(result[dataset][kind] for dataset in ("assets", "assignments", "users") for kind in _CHANGE_KINDS)
        or result["facts_changed"]
        or result["metadata"]["found"]
    )


def summarize(results, duration):
    """Totals over the per-token results."""
    totals = {
        "tokens": len(results),
        "succeeded": sum(1 for result in results if result["status"] == "ok"),
        "failed": sum(1 for result in results if result["status"] != "ok"),
        "license_count_changes": sum(len(result["license_count_changes"]) for result in results),
        "duration": round(duration, 3),
    }
    for dataset in ("assets", "assignments", "users"):
        totals[dataset] = {kind: sum(result[dataset][kind] for result in results) for kind in _CHANGE_KINDS}
    by_endpoint = {}
    for result in results:
        for endpoint, count in result["requests"]["by_endpoint"].items():
            by_endpoint[endpoint] = by_endpoint.get(endpoint, 0) + count
    totals["requests"] = {"total": sum(by_endpoint.values()), "by_endpoint": by_endpoint}
    return totals


def failure_message(results):
    """Why the task failed: which tokens, and each one's reason."""
    failed = [result for result in results if result["status"] != "ok"]
    return "%d of %d token(s) failed to sync: %s" % (
        len(failed),
        len(results),
        "; ".join("%s: %s" % (result["name"], result["msg"]) for result in failed),
    )


# --- one token ----------------------------------------------------------------------------------------------------


class TokenSync:
    """Syncs one token; ``run()`` returns its result and never raises a ``VPPError`` (it is recorded instead)."""

    def __init__(self, store, name, client_factory, options, now=None):
        self.store = store
        self.name = name
        self.client_factory = client_factory
        self.options = options
        self.now = now or datetime.now(UTC)
        self.client = None
        self.token = None
        self.result = new_token_result(name)

    def run(self):
        started = time.monotonic()
        try:
            if self.options.check_mode:
                # the same steps in one transaction that is rolled back: no token lock row, no write survives
                with self.store.transaction(rollback=True):
                    self._sync_guarded()
            else:
                with self.store.token_lock(self.name):
                    self._sync_guarded()
        except VPPError as err:  # the lock could not be taken
            self._record_failure(err)
        finally:
            if self.client is not None:
                self.result["requests"] = {
                    "total": self.client.request_count,
                    "by_endpoint": dict(self.client.requests_by_endpoint),
                }
                self.client.close()
            self.result["duration"] = round(time.monotonic() - started, 3)
        self.result["changed"] = self.result["status"] == "ok" and store_changed(self.result)
        return self.result

    def _sync_guarded(self):
        try:
            self._sync()
        except VPPError as err:
            self._record_failure(err)
            self._remember_token_status(err)

    def _sync(self):
        self.token = self.store.get_token(self.name)
        if self.token is None:
            raise StoreError(
                "token %r is not registered in the store" % self.name, hint="register it first with mdm.vpp.vpp_token"
            )
        mode, reason = choose_mode(self.options.mode, self.token, self.options.full_sync_interval_days, self.now)
        self.client = self.client_factory(self.store.get_token_secret(self.name))
        config = self.client.client_config()
        facts = dict(reported_fields(config, self.store.manager_id), status=STORED_STATUS_OK)
        listings = self._license_listings(mode)  # their first pages come while the assets are read
        assets = self.client.assets()
        asset_rows = [asset_row(asset) for asset in assets]
        assets_version = assets.version_id
        try:
            self._sync_licenses(mode, reason, facts, asset_rows, assets_version, listings)
        except InvalidVersionError:
            self._warn("Apple rejected the stored versionId (the store may have been restored): synced in full")
            self._sync_licenses("full", REASON_VERSION_REJECTED, facts, asset_rows, assets_version)
        except _StoreAheadOfApple as surplus:
            self._warn(
                "the store held assignments Apple no longer counts (%s): synced in full to find the removals"
                % surplus.args[0]
            )
            self._sync_licenses("full", REASON_COUNTS_DISAGREE, facts, asset_rows, assets_version)
        self.result["status"] = "ok"
        if self.options.metadata:
            self._sync_metadata()
        facts = token_facts(self.store.get_token(self.name), self.now)
        self.result["token_status"] = facts["status"]
        warning = expiry_warning(facts)
        if warning:
            self._warn(warning)

    def _license_listings(self, mode):
        """The assignment and user listings of a ``mode`` sync, their page 0 asked for already."""
        full = mode == "full"
        return (
            self.client.assignments(since_version_id=None if full else self.token["assignments_version"]).start(),
            self.client.users(since_version_id=None if full else self.token["users_version"]).start(),
        )

    def _sync_licenses(self, mode, reason, facts, asset_rows, assets_version, listings=None):
        """Stage assignments and users from Apple, then make everything live in one transaction."""
        self.result.update(mode=mode, mode_reason=reason)
        full = mode == "full"
        assignment_listing, user_listing = listings or self._license_listings(mode)
        # the first import of a token is not a change of anyone's licenses: it is not audited row by row
        audit = self.token.get("last_sync_at") is not None
        with (
            self.store.begin_assignment_snapshot(self.name) as assignments,
            self.store.begin_user_snapshot(self.name) as users,
        ):
            assignments_version = assignment_listing.version_id
            assignments.add_keys(self._assignment_keys(assignment_listing))
            users_version = user_listing.version_id
            users.add_rows(map(user_row, user_listing))
            with self.store.transaction():
                before = self._picture()
                self._write_facts(facts)
                diff = self.store.replace_assets(self.name, asset_rows, run_id=self.options.run_id)
                assignment_counts = assignments.finish(
                    version_id=assignments_version, run_id=self.options.run_id, audit=audit, remove_missing=full
                )
                self._check_counts(asset_rows, full)
                user_counts = users.finish(
                    version_id=users_version, run_id=self.options.run_id, audit=audit, remove_missing=full
                )
                if self.options.diff:
                    self.result["diff"] = {"before": before, "after": self._picture()}
                if not self.options.check_mode:
                    self.store.mark_synced(
                        self.name,
                        full=full,
                        at=self.now,
                        assets_version=assets_version,
                        assignments_version=assignments_version,
                        users_version=users_version,
                    )
        self._record_changes(diff, assignment_counts, user_counts)

    def _assignment_keys(self, listing):
        """The listing's assignment keys; records naming neither a user nor a device are skipped with a warning."""
        skipped = 0
        for record in listing:
            if has_target(record):
                yield assignment_key(record)
            else:
                skipped += 1
        if skipped:
            self._warn(NO_TARGET_WARNING % skipped)

    def _picture(self):
        """The token's license picture in a few lines, for diff mode (computed only then)."""
        if not self.options.diff:
            return None
        return license_picture(
            self.store.list_assets(self.name),
            self.store.count_assignments(self.name),
            self.store.count_users(self.name),
        )

    def _write_facts(self, facts):
        changes = changed_fields(self.token, facts)
        if changes:
            self.store.upsert_token(self.name, **changes)
        self.result["facts_changed"] = sorted(changes)

    def _check_counts(self, asset_rows, full):
        surplus = surplus_assignments(asset_rows, self.store.assignment_counts(self.name))
        if not surplus:
            return
        if not full:
            raise _StoreAheadOfApple(describe_counts(surplus))
        # a full listing is Apple's truth; a disagreement means licenses changed while the pages were read
        self._warn(
            "Apple's assignedCount disagrees with the assignments it listed (%s): licenses changed during the "
            "sync; the next sync reconciles them" % describe_counts(surplus)
        )

    def _record_changes(self, diff, assignment_counts, user_counts):
        self.result["assets"] = {kind: len(diff[kind]) for kind in _CHANGE_KINDS}
        self.result["assignments"] = dict(dict.fromkeys(_CHANGE_KINDS, 0), **assignment_counts)
        self.result["users"] = dict(dict.fromkeys(_CHANGE_KINDS, 0), **user_counts)
        self.result["license_count_changes"] = count_changes(diff)

    def _sync_metadata(self):
        """Names, bundle ids, versions and icons of apps without metadata, batched; a failure is only a warning.

        Runs after the licenses are committed: apps still lacking metadata are simply looked up next time.
        """
        missing = self.store.adam_ids_missing_metadata(self.name)
        if not missing:
            return
        token = self.store.get_token(self.name)
        try:
            found = self.client.metadata_lookup(missing, token.get("default_platform"), token.get("country"))
        except VPPError as err:
            self._warn("app metadata could not be looked up (%s); it is retried on the next sync" % err)
            return
        self.store.put_metadata([dict(record, adam_id=adam_id) for adam_id, record in found.items()])
        self.result["metadata"] = {"looked_up": len(missing), "found": len(found)}
        unknown = [adam_id for adam_id in missing if adam_id not in found]
        if unknown:
            self._warn(
                "Apple's catalogue has no metadata for %d app(s) (%s); they are looked up again on the next sync"
                % (len(unknown), ", ".join(unknown[:5]) + (", ..." if len(unknown) > 5 else ""))
            )

    def _warn(self, message):
        self.result["warnings"].append(message)

    def _record_failure(self, err):
        self.result.update(status="failed", msg=str(err))
        if err.error_number is not None:
            self.result["error_number"] = err.error_number
        status = refusal_status(err)
        if status is None and self.token is not None:
            status = token_facts(self.token, self.now)["status"]
        self.result["token_status"] = status

    def _remember_token_status(self, err):
        """Record why Apple refused the token (not in check mode; the store still holds the last good data)."""
        status = refusal_status(err)
        if status is None or self.token is None or self.options.check_mode:
            return
        changes = {"status": status}
        if isinstance(err, TakeoverError):
            changes["claimed"] = False
        changes = changed_fields(self.token, changes)
        if changes:
            self.store.upsert_token(self.name, **changes)


# --- many tokens ------------------------------------------------------------------------------------------------


def validate_options(mode, full_sync_interval_days, parallel):
    """Refuse option values that cannot work, with what to do instead."""
    if mode not in MODES:
        raise ConfigurationError("mode must be one of %s, got %r" % (", ".join(MODES), mode))
    if full_sync_interval_days < 0:
        raise ConfigurationError("full_sync_interval_days must be 0 or more, got %d" % full_sync_interval_days)
    check_parallel(parallel)


def sync_tokens(store, names, client_factory, options, parallel=DEFAULT_PARALLEL, now=None):
    """Sync the tokens ``names`` (``parallel`` at once); one failing token never stops the others.

    ``client_factory(secret)`` returns a new ``VPPClient`` for a content token (called in the worker threads).
    Returns ``{"changed", "run_id", "tokens": [per-token results in the order of names], "totals"}``.
    """
    started = time.monotonic()
    names = list(dict.fromkeys(names))
    now = now or datetime.now(UTC)

    def sync_one(name):
        return TokenSync(store, name, client_factory, options, now=now).run()

    results = for_each_token(sync_one, names, parallel, thread_name="vpp-sync")
    return {
        "changed": any(result["changed"] for result in results),
        "run_id": options.run_id,
        "tokens": results,
        "totals": summarize(results, time.monotonic() - started),
    }


def run_module(module):
    """What ``mdm.vpp.vpp_sync`` does: sync the chosen tokens; fail at the end, naming each failed token."""
    params = module.params
    validate_options(params["mode"], params["full_sync_interval_days"], params["parallel"])
    store = module.store
    names = params["tokens"] if params["tokens"] else [token["name"] for token in store.list_tokens()]
    if not names:
        module.warn("no token registered in store %s: nothing was synchronised" % store.location)
    options = SyncOptions(
        mode=params["mode"],
        full_sync_interval_days=params["full_sync_interval_days"],
        metadata=params["metadata"],
        check_mode=module.check_mode,
        diff=module.diff_mode,
    )
    outcome = sync_tokens(store, names, module.client_for, options, parallel=params["parallel"])
    for result in outcome["tokens"]:
        for warning in result["warnings"]:
            module.warn("token %s: %s" % (result["name"], warning))
    if options.diff:
        outcome["diff"] = task_diff(outcome["tokens"])
        for result in outcome["tokens"]:
            result.pop("diff", None)
    if outcome["totals"]["failed"]:
        raise VPPError(failure_message(outcome["tokens"]), details=outcome)
    return outcome
