# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One run of ``vpp_deployment`` with ``state: present``: resolve the application, plan, then carry the plan out.

``DeploymentRun`` resolves what the task means, takes the token's lock, resumes earlier events, reconciles
unanswered intents (intents.py), reads the app's counts fresh and plans with ``licensing.plan_deployment``; the
writes, the waiting and the result are its parts ``DeploymentWrites``, ``DeploymentOutcomes`` and
``DeploymentResults``.
"""

from __future__ import annotations

import contextlib

from ansible_collections.mdm.vpp.plugins.module_utils.apps import default_application_name, resolve_asset
from ansible_collections.mdm.vpp.plugins.module_utils.deployment_installs import DeploymentInstalls
from ansible_collections.mdm.vpp.plugins.module_utils.deployment_outcomes import DeploymentOutcomes
from ansible_collections.mdm.vpp.plugins.module_utils.deployment_results import DeploymentResults
from ansible_collections.mdm.vpp.plugins.module_utils.deployment_views import (
    Tally,
    deployment_view,
    describe_short,
    member_states,
    plan_excerpt,
)
from ansible_collections.mdm.vpp.plugins.module_utils.deployment_writes import DeploymentWrites
from ansible_collections.mdm.vpp.plugins.module_utils.errors import (
    AppleError,
    ConfigurationError,
    NotEnoughLicensesError,
)
from ansible_collections.mdm.vpp.plugins.module_utils.intents import holder_changes
from ansible_collections.mdm.vpp.plugins.module_utils.licensing import (
    NOT_ENOUGH_LICENSES,
    check_purpose,
    check_unchanged,
    license_type_for,
    plan_deployment,
    short_of_licenses,
)
from ansible_collections.mdm.vpp.plugins.module_utils.member_list import StoredMembers, TargetSet
from ansible_collections.mdm.vpp.plugins.module_utils.sync_decisions import asset_row
from ansible_collections.mdm.vpp.plugins.module_utils.token_facts import changed_fields, refusal_status
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import INSTALL, USER, apple_target_key, target_key


class DeploymentRun(DeploymentWrites, DeploymentOutcomes, DeploymentResults, DeploymentInstalls):
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
        self.stored_before = {}  # the member rows the plan starts from
        self.changed = False
        self.application_created = False
        self.users = {}
        # what this run did: members counted, the first RESULT_MEMBERS of each named (deployment_views.Tally)
        self.outcome = {"licensed": Tally(), "reclaimed": Tally(), "registered_users": Tally(), "pending_event_ids": []}
        self.failed = {}  # member id -> {member_id, error_number, error_message}: one entry per member
        self.refused_users = {}  # client user id -> Apple's synchronous refusal (9609, 9622) in this run
        self.holder_changes = (set(), set())  # targets an unanswered intent gave or took back (intents.py)
        self.license_type = None
        self.install_via = self.mdm = None  # how the app reaches the devices (deployment_installs.py)
        self.installs = {}

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
        self.resolve_install_via()
        application, identity = self.resolve_application()
        self.identity = identity
        self.application = application
        self.application_name = application["name"] if application else self._default_application_name()
        self.existing = self.store.get_deployment(self.name)
        if self.existing is not None:
            check_unchanged(
                self.existing,
                {
                    "action": self.params["action"],
                    "application": self.application_name,
                    "collection_type": self.collection["type"],
                },
            )
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
        moved = False  # whether resuming or reconciling changed member rows: then they are read again
        if self.existing is not None and not self.check_mode:
            moved = self.resume()
        if self.existing is not None:
            moved = self.reconcile_intents() or moved
        asset = self.fresh_asset()
        license_type = license_type_for(self.collection["type"], asset["device_assignable"], asset["product_type"])
        self.license_type = license_type
        stored = self.stored_before = self._stored_rows() if moved else before_rows
        del before_rows
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
            self._holders(stored),
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
            return self.predicted_result(plan, stored, license_type)
        self.carry_out(plan, stored, license_type)
        return self.result(plan)

    # -- reading --

    def _stored_rows(self):
        """The deployment's member rows, ``{member_id: row}``, held compact (a rerun at 1,000,000 members: B5M)."""
        if self.store.get_deployment(self.name) is None:
            return {}
        return StoredMembers(self.store.iter_members(self.name), self.members)

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
        if self.params["action"] != INSTALL or not self.params["reclaim_removed"]:
            return set()
        return self.store.targets_of_other_installs(self.name, self.application_name)

    def _holders(self, stored):
        """The targets holding the app's license (the store's assignments, with what reconciling learnt); those that
        are stored members a byte each (``TargetSet``)."""
        identity = self.identity
        rows = self.store.iter_assignments(identity["token"], identity["adam_id"], identity["pricing_param"])
        gained, lost = self.holder_changes
        within = stored if isinstance(stored, StoredMembers) else None
        holders = TargetSet((target_key(row["target_kind"], row["target_id"]) for row in rows), within)
        for target in gained:
            holders.add(target)
        for target in lost:
            holders.discard(target)
        return holders

    def reconcile_intents(self):
        """Requests an earlier run sent without hearing Apple's answer: take what Apple did into the store.

        One read of the app's assignments at Apple, only when such an intent exists (see intents.py). Check mode
        reconciles in memory only.
        """
        intents = self.store.intents(self.name)
        if not intents:
            return False
        identity = self.identity
        listing = self.client.assignments(adam_id=identity["adam_id"], pricing_param=identity["pricing_param"])
        apple_holders = {apple_target_key(record) for record in listing}
        self.holder_changes = gained, lost = holder_changes(intents, apple_holders)
        if self.check_mode:
            return
        asset = {"adam_id": identity["adam_id"], "pricing_param": identity["pricing_param"]}
        with self.store.transaction():
            self.record_holders(
                [dict(asset, target_kind=kind, target_id=target_id) for kind, target_id in sorted(gained)],
                [dict(asset, target_kind=kind, target_id=target_id) for kind, target_id in sorted(lost)],
            )
            for intent in intents:
                self.store.drop_intent(identity["token"], intent["event_id"])
        self.changed = True
        return True

    def _known_users(self, license_type):
        if license_type != USER:
            return {}
        return {user["client_user_id"]: user for user in self.store.iter_users(self.identity["token"])}
