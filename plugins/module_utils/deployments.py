# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deployments: give an application's licenses to a collection of users or devices, take them back, report.

``ensure_deployment`` (``vpp_deployment``) runs one deployment under its token's lock:

1. check the options and the members (nothing is asked of Apple for a bad input);
2. resume: poll the events a previous run submitted and recorded (never resubmit them);
3. read the app's license counts fresh (one ``GET /assets?adamId=``) and plan with ``licensing.plan_deployment``;
   short of licenses -> fail before any write, unless ``allow_partial``; check mode returns the plan here;
4. write the deployment and the members' decided states, register unknown users (waiting for Apple), then
   associate (install) or disassociate (uninstall, reclaimed removed members) in batches; every event id is
   stored with its members *before* waiting on it;
5. wait for the events and record each member's outcome, plus the assignment in the store's synced
   assignments, so that ``assigned`` counts and the next plan are right without a sync.

``list_deployments`` (``vpp_deployment_info``) reads the store only.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import stat

from ansible_collections.mdm.vpp.plugins.module_utils.apps import default_application_name, resolve_asset
from ansible_collections.mdm.vpp.plugins.module_utils.client import FIRST_POLL, normalize_asset
from ansible_collections.mdm.vpp.plugins.module_utils.errors import (
    AppleError,
    ConfigurationError,
    EventTimeoutError,
    InvalidVersionError,
    NotEnoughLicensesError,
)
from ansible_collections.mdm.vpp.plugins.module_utils.intents import (
    EVENT_TYPE_ASSOCIATE,
    EVENT_TYPE_CREATE,
    EVENT_TYPE_DISASSOCIATE,
    DeploymentHooks,
    apple_holder,
    holder_changes,
)
from ansible_collections.mdm.vpp.plugins.module_utils.licensing import (
    ACTIVE_USER_STATUSES,
    MAX_FILE_BYTES,
    MAX_FILE_MEMBERS,
    MAX_LINE_BYTES,
    NOT_ENOUGH_LICENSES,
    check_purpose,
    check_unchanged,
    creation_succeeded,
    invitation_url,
    license_type_for,
    member_states,
    parse_members,
    plan_deployment,
    plan_excerpt,
    plan_summary,
    plan_writes,
    short_of_licenses,
    target_of,
    too_many_members,
)
from ansible_collections.mdm.vpp.plugins.module_utils.submission import UNKNOWN_USER
from ansible_collections.mdm.vpp.plugins.module_utils.sync import asset_row, user_row
from ansible_collections.mdm.vpp.plugins.module_utils.tokens import (
    changed_fields,
    parse_timestamp,
    refusal_status,
    utc_now,
)

DEFAULT_WAIT_TIMEOUT = 600
RESUBMIT_AFTER = 600  # Apple: an event still PENDING after 10 minutes is submitted again
SUPERSEDED = "SUPERSEDED"  # a stale event whose request was submitted again
DEPLOYMENT_FIELDS = ("application", "token", "adam_id", "pricing_param", "action", "purpose", "license_type")


# --- pure helpers ------------------------------------------------------------------------------------------------


def is_stale(event, now):
    """Whether a stored associate/disassociate has been PENDING long enough to be submitted again."""
    if event["event_type"] not in (EVENT_TYPE_ASSOCIATE, EVENT_TYPE_DISASSOCIATE):
        return False
    return (now - parse_timestamp(event["submitted_at"])).total_seconds() >= RESUBMIT_AFTER


def _unreadable(path, reason):
    return ConfigurationError(
        "cannot read members_file %s: %s" % (path, reason),
        hint="give the path of a readable UTF-8 text file on the controller",
    )


def _too_big(path, what):
    return ConfigurationError(
        "members_file %s is too big: %s" % (path, what),
        hint="split the collection into deployments with smaller members files; nothing was changed",
    )


def read_members_file(path):
    """The lines of a members file on the controller, as an iterator that reads one line at a time.

    Refused at once: anything but a regular file (``/dev/zero``, a FIFO, a directory), a file over
    ``MAX_FILE_BYTES``, a line over ``MAX_LINE_BYTES`` (a file without newlines) and more data lines than
    ``MAX_FILE_MEMBERS`` (plus a header): a first pass counts them, keeping nothing, before any member is parsed."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise _unreadable(path, exc.strerror or type(exc).__name__) from None
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "a device, FIFO or socket"
        raise _unreadable(path, "it is %s, not a regular file" % kind)
    if os.stat(path).st_size > MAX_FILE_BYTES:
        raise _too_big(path, "more than %d MB, the cap of a members file" % (MAX_FILE_BYTES >> 20))
    count = 0
    for number, raw in enumerate(_file_lines(path), start=1):
        stripped = raw.strip()
        if stripped and not stripped.startswith(b"#"):
            count += 1
            if count > MAX_FILE_MEMBERS + 1:  # one more line may be the header: parse_members decides
                raise too_many_members(path, number)
    return _decoded(path)


def _decoded(path):
    """The file's lines again, as text: one not UTF-8 makes the file unreadable."""
    try:
        for raw in _file_lines(path):
            yield raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise _unreadable(path, "UnicodeDecodeError") from None


def _file_lines(path):
    """The file's lines as bytes (a BOM dropped), read one at a time under the byte and line caps."""
    total = 0
    try:
        with open(path, "rb") as handle:
            for number, raw in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 2), b""), start=1):
                total += len(raw)
                if total > MAX_FILE_BYTES:
                    raise _too_big(path, "more than %d MB, the cap of a members file" % (MAX_FILE_BYTES >> 20))
                if len(raw.rstrip(b"\r\n")) > MAX_LINE_BYTES:  # its end of line not counted
                    raise _too_big(
                        path, "line %d is longer than %d bytes, the cap of a line" % (number, MAX_LINE_BYTES)
                    )
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
                yield raw
    except OSError as exc:
        raise _unreadable(path, exc.strerror or type(exc).__name__) from None


def wanted_members(collection):
    """The collection's members from ``members`` and/or ``members_file``, validated before any call."""
    lines = read_members_file(collection["members_file"]) if collection.get("members_file") else None
    return parse_members(collection["type"], collection.get("members"), lines, source=collection.get("members_file"))


def deployment_view(row, counts):
    """A deployment as results and diffs show it: identity, collection, license type, member counts by state."""
    if row is None:
        return {}
    view = {name: row.get(name) for name in DEPLOYMENT_FIELDS}
    view["name"] = row["name"]
    view["collection"] = {"name": row["collection_name"], "type": row["collection_type"]}
    view["members"] = sum(counts.values())
    view["states"] = dict(counts)
    return view


def member_view(row):
    """One member's detail in results: id, device user, license type, state, Apple's error, event, last change."""
    return {
        "id": row["member_id"],
        "device_user": row.get("device_user"),
        "license_type": row.get("license_type"),
        "state": row["state"],
        "error_number": row.get("error_number"),
        "error_message": row.get("error_message"),
        "event_id": row.get("event_id"),
        "updated": row.get("updated_at"),
    }


def predicted_rows(plan, stored, members, wait):
    """The member rows the store would hold after carrying out ``plan`` (check mode and diffs)."""
    rows = {member_id: dict(row) for member_id, row in stored.items()}
    for member in members:
        rows.setdefault(member["member_id"], {"member_id": member["member_id"], "state": "pending"})
    install = plan["action"] == "install"
    outcomes = (
        ("already", "licensed" if install else "reclaimed"),
        ("to_license", "licensed" if wait else "pending"),
        ("to_reclaim", "reclaimed" if wait else "pending"),
        ("failed", "failed"),
        ("untargeted", "untargeted"),
    )
    for key, state in outcomes:
        for entry in plan[key]:
            rows[entry["member_id"]]["state"] = state
    for entry in plan["forgotten"]:
        rows.pop(entry["member_id"], None)
    return list(rows.values())


def member_changes(plan, stored, members):
    """Member rows to write before any call: new members, changed details, and the states the plan decided."""
    install = plan["action"] == "install"
    decided = {}
    for entry in plan["already"]:
        decided[entry["member_id"]] = {"state": "licensed" if install else "reclaimed",
                                       "error_number": None, "error_message": None}  # fmt: skip
    for entry in plan["failed"]:
        decided[entry["member_id"]] = {"state": "failed", "error_number": entry["error_number"],
                                       "error_message": entry["error_message"]}  # fmt: skip
    for entry in plan["untargeted"]:
        decided[entry["member_id"]] = {"state": "untargeted"}
    license_type = plan["license_type"]
    rows = []
    for member in members:
        wanted = dict({"device_user": member["device_user"], "license_type": license_type},
                      **decided.get(member["member_id"], {}))  # fmt: skip
        current = stored.get(member["member_id"])
        if current is None or any(current.get(field) != value for field, value in wanted.items()):
            rows.append(dict(wanted, member_id=member["member_id"]))
    # removed members keep their license: they stay listed, untargeted
    rows.extend({"member_id": entry["member_id"], "state": "untargeted"} for entry in plan["untargeted"])
    return rows


def batch_from_event(event):
    """A stored event as the batch ``client.wait_for_events`` maps outcomes with."""
    request = event.get("request") or {}
    batch = {"event_id": event["event_id"], "type": event["event_type"], "assets": request.get("assets") or []}
    if event["event_type"] == EVENT_TYPE_CREATE:
        batch["users"] = [{"clientUserId": user_id} for user_id in request.get("client_user_ids") or ()]
    else:
        batch["client_user_ids"] = request.get("client_user_ids") or []
        batch["serial_numbers"] = request.get("serial_numbers") or []
    return batch


def outcome_target(outcome):
    if outcome.get("serial_number") is not None:
        return ("device", outcome["serial_number"])
    return ("user", outcome["client_user_id"])


def describe_short(plan):
    return "not enough licenses: %d needed, %d available (app %s), short of %d" % (
        plan["needed"],
        plan["available"],
        plan.get("app", "?"),
        plan["short"],
    )


# --- one deployment ----------------------------------------------------------------------------------------------


class DeploymentRun:
    """One run of ``vpp_deployment`` with ``state: present``; ``run()`` returns the module result."""

    def __init__(self, module, members):
        self.module = module
        self.params = module.params
        self.store = module.store
        self.check_mode = module.check_mode
        self.name = self.params["name"]
        self.collection = self.params["collection"]
        self.members = members
        self.client = None
        self.identity = self.application = self.application_name = self.existing = None
        self.before = {}
        self.changed = False
        self.application_created = False
        self.users = {}
        self.outcome = {"licensed": [], "reclaimed": [], "registered_users": [], "pending_event_ids": []}
        self.failed = {}  # member id -> {member_id, error_number, error_message}: one entry per member
        self.refused_users = {}  # client user id -> Apple's synchronous refusal (9609, 9622) in this run
        self.holder_changes = (set(), set())  # targets an unanswered intent gave or took back (intents.py)

    # -- resolving what the task means --

    def resolve_application(self):
        """``(application row or None, identity dict)``: by name, or by token + adam_id (created when missing)."""
        params, store = self.params, self.store
        if params.get("application"):
            app = store.get_application(params["application"])
            if app is None:
                raise ConfigurationError(
                    "application %r does not exist" % params["application"],
                    hint="create it with mdm.vpp.vpp_app, or give token and adam_id",
                )
            return app, {"token": app["token"], "adam_id": app["adam_id"], "pricing_param": app["pricing_param"]}
        token = params.get("token")
        if not token or not params.get("adam_id"):
            raise ConfigurationError(
                "deployment %r needs the application to deploy" % self.name,
                hint="give application (a name from mdm.vpp.vpp_app), or token and adam_id",
            )
        if store.get_token(token) is None:
            raise ConfigurationError("token %r is not registered" % token, hint="register it with mdm.vpp.vpp_token")
        adam_id, pricing_param, _asset = resolve_asset(store, token, params)
        identity = {"token": token, "adam_id": adam_id, "pricing_param": pricing_param}
        return store.find_application(token, adam_id, pricing_param), identity

    def run(self):
        check_purpose(self.params["purpose"])
        application, identity = self.resolve_application()
        self.identity = identity
        self.application = application
        self.application_name = application["name"] if application else self._default_application_name()
        self.existing = self.store.get_deployment(self.name)
        if self.existing is not None:
            check_unchanged(self.existing, {"action": self.params["action"], "application": self.application_name,
                                            "collection_type": self.collection["type"]})  # fmt: skip
        # books never go to devices: refused from what the store knows, before asking Apple anything
        synced = self.store.get_asset(identity["token"], identity["adam_id"], identity["pricing_param"])
        if synced is not None:
            license_type_for(self.collection["type"], synced["device_assignable"], synced["product_type"])
        lock = contextlib.nullcontext() if self.check_mode else self.store.token_lock(identity["token"])
        with lock:
            try:
                return self._run_locked()
            except AppleError as err:
                self._remember_refusal(err)
                raise

    def _remember_refusal(self, err):
        """An Apple refusal that concerns the token (revoked, expired...) is stored, and names the deployment."""
        prefix = "deployment %r: " % self.name
        if not err.msg.startswith(prefix):
            err.msg = prefix + err.msg
            err.args = (err.msg,)
        status = refusal_status(err)
        if status is not None and not self.check_mode:
            token = self.identity["token"]
            changes = changed_fields(self.store.get_token(token), {"status": status})
            if changes:
                self.store.upsert_token(token, **changes)

    def _default_application_name(self):
        metadata = self.store.get_metadata(self.identity["adam_id"]) or {}
        return default_application_name(metadata.get("name"), self.identity["adam_id"], self.identity["token"])

    def _run_locked(self):
        token = self.identity["token"]
        self.client = self.module.client_for(self.store.get_token_secret(token))
        before_rows = self._stored_rows()
        self.before = deployment_view(self.existing, member_states(before_rows.values()))
        if self.existing is not None and not self.check_mode:
            self.resume()
        if self.existing is not None:
            self.reconcile_intents()
        asset = self.fresh_asset()
        license_type = license_type_for(self.collection["type"], asset["device_assignable"], asset["product_type"])
        stored = self._stored_rows()
        self.users = self._known_users(license_type)
        options = {
            "action": self.params["action"],
            "license_type": license_type,
            "collection_type": self.collection["type"],
            "allow_partial": self.params["allow_partial"],
            "reclaim_removed": self.params["reclaim_removed"],
            "served_elsewhere": self._served_elsewhere(),
        }
        plan = plan_deployment(
            self.members,
            stored,
            self._holders(),
            {user_id: user["status"] for user_id, user in self.users.items()},
            asset,
            options,
            self.client.limits,
        )
        plan["app"] = "%s (%s)" % (self.application_name, self.identity["adam_id"])
        if short_of_licenses(plan, self.params["allow_partial"]):
            raise NotEnoughLicensesError(
                "deployment %r: %s; nothing was changed" % (self.name, describe_short(plan)),
                error_number=NOT_ENOUGH_LICENSES,
                details={"plan": plan_excerpt(plan)},  # bounded: counts and the first members of each list
            )
        if self.check_mode:
            return self._predicted_result(plan, stored, license_type)
        self.carry_out(plan, stored, license_type)
        return self._result(plan)

    # -- reading --

    def _stored_rows(self):
        if self.store.get_deployment(self.name) is None:
            return {}
        return {row["member_id"]: row for row in self.store.list_members(self.name)}

    def fresh_asset(self):
        """The app's facts and counts now, from Apple (one GET /assets?adamId=...)."""
        identity = self.identity
        listing = self.client.assets(adam_id=identity["adam_id"], pricing_param=identity["pricing_param"])
        for asset in listing:
            row = asset_row(asset)
            if row["adam_id"] == identity["adam_id"] and row["pricing_param"] == identity["pricing_param"]:
                return row
        raise ConfigurationError(
            "token %r does not license app %s (%s) at Apple"
            % (identity["token"], identity["adam_id"], identity["pricing_param"]),
            hint="check adam_id and pricing_param (mdm.vpp.vpp_app_info lists the token's apps), or buy licenses",
        )

    def _served_elsewhere(self):
        """Licenses other install deployments of the app still need (asked for only when this one reclaims)."""
        if self.params["action"] != "install" or not self.params["reclaim_removed"]:
            return set()
        return self.store.targets_of_other_installs(self.name, self.application_name)

    def _holders(self):
        identity = self.identity
        rows = self.store.iter_assignments(identity["token"], identity["adam_id"], identity["pricing_param"])
        gained, lost = self.holder_changes
        return ({(row["target_kind"], row["target_id"]) for row in rows} | gained) - lost

    def reconcile_intents(self):
        """Requests an earlier run sent without hearing Apple's answer: take what Apple did into the store.

        One read of the app's assignments at Apple, only when such an intent exists (see intents.py). Check mode
        reconciles in memory only.
        """
        intents = self.store.intents(self.name)
        if not intents:
            return
        identity = self.identity
        listing = self.client.assignments(adam_id=identity["adam_id"], pricing_param=identity["pricing_param"])
        apple_holders = {apple_holder(record) for record in listing}
        self.holder_changes = gained, lost = holder_changes(intents, apple_holders)
        if self.check_mode:
            return
        asset = {"adam_id": identity["adam_id"], "pricing_param": identity["pricing_param"]}
        with self.store.transaction():
            self.store.record_assignments(identity["token"], [dict(asset, target_kind=kind, target_id=target_id)
                                                              for kind, target_id in sorted(gained)])  # fmt: skip
            self.store.remove_assignments(identity["token"], [dict(asset, target_kind=kind, target_id=target_id)
                                                              for kind, target_id in sorted(lost)])  # fmt: skip
            for intent in intents:
                self.store.drop_intent(identity["token"], intent["event_id"])
        self.changed = True

    def _known_users(self, license_type):
        if license_type != "user":
            return {}
        return {user["client_user_id"]: user for user in self.store.iter_users(self.identity["token"])}

    # -- writing --

    def carry_out(self, plan, stored, license_type):
        """The plan's writes: deployment and decided member states, users, then the license calls."""
        store = self.store
        with store.transaction():
            self._save_deployment(license_type)
            changes = member_changes(plan, stored, self.members)
            if changes:
                store.upsert_members(self.name, changes)
            forgotten = [entry["member_id"] for entry in plan["forgotten"]]
            if forgotten:
                store.delete_members(self.name, forgotten)
        self.changed = self.changed or bool(changes or forgotten)
        for entry in plan["failed"]:
            self.note_failure(entry["member_id"], entry["error_number"], entry["error_message"])
        to_license = plan["to_license"]
        if plan["to_register"]:
            refused = self.register_users(plan["to_register"])
            if refused:
                to_license = [entry for entry in to_license if entry["target_id"] not in refused]
                self._fail_members(plan["to_license"], refused)
        batches = self.submit(EVENT_TYPE_ASSOCIATE, to_license)
        batches += self.relicense_unknown_users(to_license)
        batches += self.submit(EVENT_TYPE_DISASSOCIATE, plan["to_reclaim"])
        if batches and self.params["wait"]:
            self.wait(batches, self.params["wait_timeout"])

    def relicense_unknown_users(self, to_license):
        """Users Apple refused as unknown (9609: never registered there, or retired since the last sync) are
        members the collection still needs: register them once more, then associate them (once per run)."""
        unknown = [user_id for user_id, error_number in self.refused_users.items() if error_number == UNKNOWN_USER]
        if not unknown:
            return []
        self.refused_users = {}
        refused = self.register_users([{"client_user_id": user_id} for user_id in unknown])
        entries = [entry for entry in to_license if entry["license_type"] == "user"
                   and entry["target_id"] in set(unknown) - set(refused)]  # fmt: skip
        self._fail_members([entry for entry in to_license if entry["target_id"] in set(unknown)], refused)
        return self.submit(EVENT_TYPE_ASSOCIATE, entries)

    def _save_deployment(self, license_type):
        identity, store = self.identity, self.store
        if self.application is None:
            self.application = store.upsert_application(self.application_name, token=identity["token"],
                                                        adam_id=identity["adam_id"],
                                                        pricing_param=identity["pricing_param"])  # fmt: skip
            self.application_created = self.changed = True
        wanted = {
            "collection_name": self.collection["name"],
            "collection_type": self.collection["type"],
            "action": self.params["action"],
            "purpose": self.params["purpose"],
            "license_type": license_type,
        }
        current = self.existing or {}
        fields = {field: value for field, value in wanted.items() if current.get(field) != value}
        if fields:
            application = self.application_name if self.existing is None else None
            store.upsert_deployment(self.name, application=application, **fields)
            self.changed = True

    def _fail_members(self, entries, refused):
        by_error = {}
        for entry in entries:
            if entry["target_id"] in refused:
                by_error.setdefault(refused[entry["target_id"]], []).append(entry["member_id"])
        for (error_number, error_message), member_ids in by_error.items():
            self.fail_members(member_ids, error_number, error_message)

    def note_failure(self, member_id, error_number, error_message):
        """Report a member failed in this run (a later success in the same run takes it back)."""
        self.failed[member_id] = {"member_id": member_id, "error_number": error_number, "error_message": error_message}

    def fail_members(self, member_ids, error_number, error_message):
        """Members Apple refused: failed in the store and in the result."""
        rows = [{"member_id": member_id, "state": "failed", "error_number": error_number,
                 "error_message": error_message} for member_id in member_ids]  # fmt: skip
        if rows:
            self.store.upsert_members(self.name, rows)
        for member_id in member_ids:
            self.note_failure(member_id, error_number, error_message)

    def register_users(self, users):
        """Register unknown users at Apple and wait (a license needs the user); 9716 "already exists" is fine.

        Returns ``{client_user_id: (error_number, error_message)}`` of the users Apple refused.
        """
        batches = self.client.create_users(users, on_submit=DeploymentHooks(self, EVENT_TYPE_CREATE, {}).accepted)
        self.changed = True
        results = self.wait(batches, self.params["wait_timeout"])
        refused = {}
        for result in results.values():
            for outcome in result["outcomes"]:
                if not creation_succeeded(outcome):
                    refused[outcome["client_user_id"]] = (outcome["error_number"], outcome["error_message"])
        created = [user["client_user_id"] for user in users if user["client_user_id"] not in refused]
        self.refresh_users(created)
        self.outcome["registered_users"].extend(created)
        return refused

    def refresh_users(self, user_ids):
        """Read the given users back from Apple (status, invite code) and record them in the store."""
        if not user_ids:
            return
        token_row = self.store.get_token(self.identity["token"])
        wanted = set(user_ids)
        try:
            records = self._users_matching(token_row.get("users_version"), wanted)
        except InvalidVersionError:
            records = self._users_matching(None, wanted)
        for user_id, record in records.items():
            fields = {key: value for key, value in user_row(record).items() if key != "client_user_id"}
            self.users[user_id] = self.store.record_user(self.identity["token"], user_id, **fields)

    def _users_matching(self, since_version_id, wanted):
        """Apple's current record of each wanted user (the active one wins over retired ones)."""
        found = {}
        for record in self.client.users(since_version_id=since_version_id):
            user_id = record.get("clientUserId")
            if user_id in wanted and (user_id not in found or record.get("status") in ACTIVE_USER_STATUSES):
                found[user_id] = record
        return found

    def submit(self, event_type, entries):
        """Associate or disassociate the entries' targets in batches; each event is stored before the next call."""
        if not entries:
            return []
        by_target = {}
        for entry in entries:
            by_target.setdefault((entry["license_type"], entry["target_id"]), []).append(entry["member_id"])
        users = [target_id for kind, target_id in by_target if kind == "user"]
        serials = [target_id for kind, target_id in by_target if kind == "device"]
        assets = [normalize_asset((self.identity["adam_id"], self.identity["pricing_param"]))]
        send = self.client.associate if event_type == EVENT_TYPE_ASSOCIATE else self.client.disassociate
        self.changed = True
        try:
            return send(assets, users, serials, hooks=DeploymentHooks(self, event_type, by_target))
        except AppleError as err:
            err.msg = "deployment %r: %s" % (self.name, err.msg)
            err.args = (err.msg,)
            raise

    # -- waiting and outcomes --

    def resume(self):
        """Poll the events earlier runs submitted and recorded; apply their outcomes.

        An associate or disassociate still PENDING 10 minutes after it was submitted is submitted again, as Apple
        advises; the old event is kept as ``SUPERSEDED`` and polled no more.
        """
        events = self.store.pending_events(deployment=self.name)
        if not events:
            return
        stale = {event["event_id"] for event in events if is_stale(event, utc_now())}
        batches = [batch_from_event(event) for event in events]
        if stale:
            looked = self.wait([batch for batch in batches if batch["event_id"] in stale], None)
            batches = [batch for batch in batches if batch["event_id"] not in stale]
            batches += self.resubmit([event for event in events if event["event_id"] in stale - set(looked)])
        creations = {batch["event_id"] for batch in batches if batch["type"] == EVENT_TYPE_CREATE}
        timeout = self.params["wait_timeout"] if self.params["wait"] else None
        results = self.wait(batches, timeout)
        created = [outcome["client_user_id"] for event_id, result in results.items() if event_id in creations
                   for outcome in result["outcomes"] if creation_succeeded(outcome)]  # fmt: skip
        self.refresh_users(created)

    def resubmit(self, events):
        """Submit the stale events' requests again for their members still pending; returns the new batches."""
        batches = []
        for event in events:
            rows = [row for row in self.store.list_members(self.name, state="pending")
                    if row["event_id"] == event["event_id"]]  # fmt: skip
            entries = []
            for row in rows:
                target = target_of(row, row["license_type"], self.collection["type"])
                if target is not None:
                    entries.append({"member_id": row["member_id"], "license_type": target[0],
                                    "target_id": target[1]})  # fmt: skip
            self.store.update_event(self.identity["token"], event["event_id"], SUPERSEDED)
            batches += self.submit(event["event_type"], entries)
        return batches

    def _wait_for(self, batches, timeout):
        # events of this run are read soon after submitting, those of an earlier run at once
        fresh = any(batch["event_id"] in self.outcome["pending_event_ids"] for batch in batches)
        return self.client.wait_for_events(batches, timeout=timeout, first_poll=FIRST_POLL if fresh else 0)

    def wait(self, batches, timeout):
        """Wait for events (``timeout`` None: look once, leave the rest pending) and record their outcomes."""
        types = {batch["event_id"]: batch["type"] for batch in batches}
        try:
            results = self._wait_for(batches, 0 if timeout is None else timeout)
        except EventTimeoutError as err:
            self.apply(err.results, types)
            if timeout is None:
                return err.results
            pending = err.details["pending_event_ids"]
            err.msg = (
                "deployment %r: %d Apple event(s) still pending after %ss (%s); they are stored and the members "
                "stay pending" % (self.name, len(pending), timeout, ", ".join(pending))
            )
            err.args = (err.msg,)
            err.details.update(self._result_details(), pending_event_ids=pending)
            raise
        self.apply(results, types)
        return results

    def apply(self, results, types):
        """Record finished events: members licensed / reclaimed / failed, assignments added / removed."""
        if not results:
            return
        self.changed = True
        identity, store = self.identity, self.store
        pending = {}
        for row in store.list_members(self.name, state="pending"):
            pending.setdefault(row["event_id"], []).append(row)
        with store.transaction():
            for event_id, result in results.items():
                event_type = types[event_id]
                store.update_event(identity["token"], event_id, result["status"], result=_event_summary(result))
                if event_type != EVENT_TYPE_CREATE:
                    self._apply_outcomes(event_type, result["outcomes"], pending.get(event_id, ()))
                if event_id in self.outcome["pending_event_ids"]:
                    self.outcome["pending_event_ids"].remove(event_id)

    def _apply_outcomes(self, event_type, outcomes, members):
        identity, store = self.identity, self.store
        by_target = {}
        for row in members:
            target = target_of(row, row["license_type"], self.collection["type"])
            by_target.setdefault(target, []).append(row)
        done_state = "licensed" if event_type == EVENT_TYPE_ASSOCIATE else "reclaimed"
        rows, assignments = [], []
        for outcome in outcomes:
            target = outcome_target(outcome)
            if outcome["succeeded"]:
                assignments.append({"adam_id": identity["adam_id"], "pricing_param": identity["pricing_param"],
                                    "target_kind": target[0], "target_id": target[1]})  # fmt: skip
            for row in by_target.get(target, ()):
                if outcome["succeeded"]:
                    rows.append({"member_id": row["member_id"], "state": done_state, "error_number": None,
                                 "error_message": None})  # fmt: skip
                    self.outcome[done_state].append(row["member_id"])
                    self.failed.pop(row["member_id"], None)
                else:
                    rows.append({"member_id": row["member_id"], "state": "failed",
                                 "error_number": outcome["error_number"],
                                 "error_message": outcome["error_message"]})  # fmt: skip
                    self.note_failure(row["member_id"], outcome["error_number"], outcome["error_message"])
        # in bulk: one event may carry 1,000 devices, a deployment 100,000 (docs/BENCHMARKS.md, B5)
        if event_type == EVENT_TYPE_ASSOCIATE:
            store.record_assignments(identity["token"], assignments)
        else:
            store.remove_assignments(identity["token"], assignments)
        if rows:
            store.upsert_members(self.name, rows)

    # -- results --

    def _invitations(self, rows):
        """Links for the deployment's users who have not accepted Apple's invitation yet (status Registered)."""
        template = self.client.urls.get("invitationEmail")
        invitations, seen = [], set()
        for row in rows:
            target = target_of(row, row.get("license_type") or "user", self.collection["type"])
            if target is None or target[0] != "user" or target[1] in seen:
                continue
            seen.add(target[1])
            user = self.users.get(target[1])
            if user and user.get("status") == "Registered" and user.get("invite_code"):
                invitations.append({"client_user_id": target[1], "email": user.get("email"),
                                    "url": invitation_url(template, user["invite_code"])})  # fmt: skip
        return invitations

    def _result_details(self):
        rows = self.store.list_members(self.name) if self.store.get_deployment(self.name) else []
        return {
            "deployment": deployment_view(self.store.get_deployment(self.name), member_states(rows)),
            "licensed": self.outcome["licensed"],
            "reclaimed": self.outcome["reclaimed"],
            "failed_members": list(self.failed.values()),
            "pending_event_ids": list(self.outcome["pending_event_ids"]),
            "registered_users": self.outcome["registered_users"],
        }

    def _result(self, plan):
        details = self._result_details()
        rows = self.store.list_members(self.name)
        result = dict(
            details,
            changed=self.changed,
            plan=plan,
            untargeted=[entry["member_id"] for entry in plan["untargeted"]],
            pending=[row["member_id"] for row in rows if row["state"] == "pending"],
            invitations=self._invitations(rows),
            application_created=self.application_created,
            requests=self.module.request_stats(),
        )  # fmt: skip
        if self.module.diff_mode:
            result["diff"] = {"before": self.before, "after": details["deployment"]}
        return result

    def _predicted_result(self, plan, stored, license_type):
        rows = predicted_rows(plan, stored, self.members, self.params["wait"])
        row = dict(self.existing or {}, name=self.name, application=self.application_name,
                   collection_name=self.collection["name"], collection_type=self.collection["type"],
                   action=self.params["action"], purpose=self.params["purpose"], license_type=license_type,
                   **self.identity)  # fmt: skip
        after = deployment_view(row, member_states(rows))
        pending_events = self.store.pending_events(deployment=self.name) if self.existing else []
        changed = bool(
            self.existing is None
            or after != self.before
            or pending_events
            or plan_writes(plan)
            or member_changes(plan, stored, self.members)
        )
        result = {
            "changed": changed,
            "plan": plan,
            "summary": plan_summary(plan),
            "deployment": after,
            "pending_event_ids": [event["event_id"] for event in pending_events],
            "requests": self.module.request_stats(),
        }
        if self.module.diff_mode:
            result["diff"] = {"before": self.before, "after": after}
        return result


def _event_summary(result):
    """What the store keeps of a finished event: Apple's counts and failures (ids only, no secret)."""
    return {
        "num_requested": result.get("num_requested"),
        "num_completed": result.get("num_completed"),
        "failures": result.get("failures") or [],
    }


# --- orchestration -----------------------------------------------------------------------------------------------


def ensure_deployment(module):
    """``vpp_deployment``: bring deployment ``name`` to ``state``; returns the module result."""
    params = module.params
    if params["state"] == "absent":
        return forget_deployment(module)
    if not params.get("collection"):
        raise ConfigurationError(
            "deployment %r needs a collection" % params["name"],
            hint="give collection with name, type (user or device) and members or members_file",
        )
    check_purpose(params["purpose"])
    members = wanted_members(params["collection"])
    result = DeploymentRun(module, members).run()
    if result.get("plan", {}).get("short") and params["allow_partial"]:
        module.warn(
            "deployment %r: %s; %d member(s) got no license (error %d)"
            % (params["name"], describe_short(result["plan"]), result["plan"]["short"], NOT_ENOUGH_LICENSES)
        )
    return result


def forget_deployment(module):
    """``state: absent``: forget the deployment and its members; licenses stay where they are at Apple."""
    store = module.store
    existing = store.get_deployment(module.params["name"])
    if existing is None:
        return {"changed": False, "deployment": None}
    view = deployment_view(existing, store.count_members(existing["name"]))
    if not module.check_mode:
        with store.token_lock(existing["token"]):
            store.delete_deployment(existing["name"])
    result = {"changed": True, "deployment": view}
    if module.diff_mode:
        result["diff"] = {"before": view, "after": {}}
    return result


def deployment_info(store, row, with_members):
    """One deployment as ``vpp_deployment_info`` lists it."""
    info = deployment_view(row, store.count_members(row["name"]))
    info["pending_events"] = len(store.pending_events(deployment=row["name"]))
    info["created_at"] = row["created_at"]
    info["updated_at"] = row["updated_at"]
    if with_members:
        info["member_details"] = [member_view(member) for member in store.list_members(row["name"])]
    return info


def list_deployments(module):
    """``vpp_deployment_info``: deployments filtered by name, application and token; members on request."""
    params, store = module.params, module.store
    rows = store.list_deployments(application=params["application"])
    if params["name"] is not None:
        rows = [row for row in rows if row["name"] == params["name"]]
    if params["token"] is not None:
        rows = [row for row in rows if row["token"] == params["token"]]
    with_members = params["members"] or params["name"] is not None
    return {"changed": False, "deployments": [deployment_info(store, row, with_members) for row in rows]}
