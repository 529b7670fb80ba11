# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MDM step of a deployment run: install the app on the licensed members' devices, remove it before reclaiming.

``DeploymentInstalls`` is a part of ``deployment_run.DeploymentRun`` (it uses ``store``, ``module``, ``params``,
``identity``, ``members``...). Each command is recorded ``sending`` with its UUID before the MDM is asked and
``sent`` (or ``failed``, with the MDM's reason) after, so a run stopped in between sends the same command UUID
again and NanoMDM's "command already exists" tells it was queued (install_plan.py says what goes to whom).
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.deployment_views import bounded, command_view
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError, MDMError
from ansible_collections.mdm.vpp.plugins.module_utils.install_plan import (
    NO_ENROLLMENT,
    NO_ENROLLMENT_MICROMDM,
    NOT_SENT_AGAIN,
    UNKNOWN_ENROLLMENT,
    chunks,
    command_groups,
    mac_only,
    plan_installs,
    plan_removals,
    request_count,
)
from ansible_collections.mdm.vpp.plugins.module_utils.mdm_commands import (
    activation_declaration,
    app_declaration,
    app_declaration_id,
    app_set_name,
    install_application,
    new_command_uuid,
    remove_application,
    status_subscription_declaration,
)
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    DEVICE,
    INSTALL_FAILED,
    INSTALL_VIA_COMMAND,
    INSTALL_VIA_DECLARATION,
    INSTALL_VIA_LICENSE,
    RECLAIM_WHEN_SENT,
    REMOVAL_FAILED,
    REMOVAL_SENDING,
    REMOVAL_SENT,
    SENDING,
    SENT,
)


def refusal_message(reason):
    """A member's failure text for the MDM's refusal to queue its command."""
    if reason.startswith(UNKNOWN_ENROLLMENT):
        return "MDM: %s; %s" % (reason, NOT_SENT_AGAIN)
    return "MDM: %s" % reason


class DeploymentInstalls:
    """The MDM part of a deployment run: what goes to the devices, recorded member by member."""

    def resolve_install_via(self):
        """``install_via`` as the task means it (default: ``command`` with an MDM, else ``license``), checked."""
        mdm = self.module.mdm
        via = self.params.get("install_via") or (INSTALL_VIA_COMMAND if mdm is not None else INSTALL_VIA_LICENSE)
        if via != INSTALL_VIA_LICENSE and mdm is None:
            raise ConfigurationError(
                "deployment %r: install_via: %s needs the organisation's MDM server, and none is configured"
                % (self.name, via),
                hint="set mdm_type, mdm_url and mdm_api_key (module_defaults for group/mdm.vpp.vpp, or VPP_MDM_TYPE, "
                "VPP_MDM_URL, VPP_MDM_API_KEY), or install_via: license to assign licenses only",
            )
        if via == INSTALL_VIA_DECLARATION and not mdm.supports_declarations:
            raise ConfigurationError(
                "deployment %r: install_via: declaration needs KMFDDM's declarations, which %s does not serve"
                % (self.name, mdm.service_name),
                hint="use mdm_type: nanohub (KMFDDM mounted at /api/v1/ddm/), or install_via: command",
            )
        self.install_via = via
        self.mdm = mdm if via != INSTALL_VIA_LICENSE else None
        self.installs = {"sent": [], "removal_sent": [], "awaiting_removal": [], "push_failed": {}}

    # -- what goes (also check mode) --

    def predict_mdm(self, plan, rows):
        """What the MDM step would send after ``plan``: members and requests per command, members not enrolled."""
        if self.mdm is None:
            return None
        size = self.mdm.max_ids_per_enqueue
        installs = plan_installs(
            sorted(rows.values(), key=lambda row: row["member_id"]), self.members, self._for_mac(), self.stored_before
        )
        removals = plan_removals(plan["to_reclaim"], rows, self.params["reclaim_when"])
        to_install = installs["to_send"] + [entry for group in installs["resend"].values() for entry in group]
        to_remove = removals["to_send"] + [entry for group in removals["resend"].values() for entry in group]
        return {
            "install_via": self.install_via,
            "install": command_view(to_install, request_count(to_install, size)),
            "remove": command_view(to_remove, len(chunks(to_remove, size))),
            "awaiting_removal": len(removals["awaiting"]),
            "reclaim_now": len(removals["reclaim"]),
            "without_enrollment": sorted(
                entry["member_id"] for entry in installs["unenrolled"] + removals["unenrolled"]
            ),
            "unknown_enrollment": sorted(entry["member_id"] for entry in installs["unknown"]),
        }

    def _for_mac(self):
        metadata = self.store.get_metadata(self.identity["adam_id"]) or {}
        return mac_only(metadata.get("platforms"))

    # -- install --

    def install_licensed(self):
        """Send the install to every licensed member whose device has not had it (or answered with an error)."""
        if self.mdm is None:
            return
        wanted = {member["member_id"] for member in self.members}
        rows = self._rows_with_enrollments(wanted, only_licensed=True)
        plan = plan_installs(
            sorted(rows.values(), key=lambda row: row["member_id"]), self.members, self._for_mac(), self.stored_before
        )
        self._unenrolled(plan["unenrolled"])
        for entry in plan["unknown"]:
            self.note_failure(entry["member_id"], None, refusal_message(entry["error"]))
        if self.install_via == INSTALL_VIA_DECLARATION:
            entries = plan["to_send"] + [entry for group in plan["resend"].values() for entry in group]
            self._declare(entries, present=True)
            return
        for command_uuid, entries in sorted(plan["resend"].items()):
            self._enqueue(command_uuid, entries, removal=False, mac=entries[0]["mac"])
        for mac, chunk in command_groups(plan["to_send"], self.mdm.max_ids_per_enqueue):
            self._enqueue(new_command_uuid(), chunk, removal=False, mac=mac)

    # -- removal before reclaim --

    def reclaimable(self, entries):
        """Of the plan's ``to_reclaim`` entries, those whose license may come back now; the removal of the app is
        sent to the others first (``reclaim_when: sent`` reclaims once the MDM queued it)."""
        if self.mdm is None or not entries:
            return entries
        rows = self._rows_with_enrollments({entry["member_id"] for entry in entries})
        split = plan_removals(entries, rows, self.params["reclaim_when"])
        self._unenrolled(split["unenrolled"])
        accepted = []
        if self.install_via == INSTALL_VIA_DECLARATION:
            resent = [entry for group in split["resend"].values() for entry in group]
            accepted = self._declare(split["to_send"] + resent, present=False)
        else:
            for command_uuid, group in sorted(split["resend"].items()):
                accepted += self._enqueue(command_uuid, group, removal=True)
            for chunk in chunks(split["to_send"], self.mdm.max_ids_per_enqueue):
                accepted += self._enqueue(new_command_uuid(), chunk, removal=True)
        if self.params["reclaim_when"] == RECLAIM_WHEN_SENT:
            split["reclaim"] += accepted
        else:
            split["awaiting"] += accepted
        self.installs["awaiting_removal"] = sorted(entry["member_id"] for entry in split["awaiting"])
        return split["reclaim"]

    # -- enrollments --

    def _rows_with_enrollments(self, member_ids, only_licensed=False):
        """The deployment's rows of ``member_ids`` with an enrollment id wherever one can be known: the task's,
        the stored one, one recorded for the member by another deployment, or (MicroMDM, devices) its serial's."""
        rows = {row["member_id"]: row for row in self.store.iter_members(self.name) if row["member_id"] in member_ids}
        if only_licensed:
            rows = {member_id: row for member_id, row in rows.items() if row["state"] == "licensed"}
        given = {member["member_id"]: member.get("enrollment_id") for member in self.members}
        for member_id, row in rows.items():
            row["enrollment_id"] = given.get(member_id) or row.get("enrollment_id")
        missing = sorted(member_id for member_id, row in rows.items() if not row["enrollment_id"])
        found = self.store.known_enrollments(self.collection["type"], missing) if missing else {}
        still = [member_id for member_id in missing if member_id not in found]
        if still and self.collection["type"] == DEVICE and self.mdm.supports_serial_lookup:
            found.update(self.mdm.serials_to_enrollments(still))
        if found:
            self.store.upsert_members(
                self.name, [{"member_id": member_id, "enrollment_id": value} for member_id, value in found.items()]
            )
            for member_id, value in found.items():
                rows[member_id]["enrollment_id"] = value
        return rows

    def _unenrolled(self, entries):
        reason = NO_ENROLLMENT_MICROMDM if self.mdm.supports_serial_lookup and self._is_devices() else NO_ENROLLMENT
        for entry in entries:
            self.note_failure(entry["member_id"], None, "MDM: %s" % reason)

    def _is_devices(self):
        return self.collection["type"] == DEVICE

    # -- sending --

    def _bundle_id(self):
        metadata = self.store.get_metadata(self.identity["adam_id"]) or {}
        if not metadata.get("bundle_id"):
            raise ConfigurationError(
                "deployment %r: the bundle id of app %s is not known, and RemoveApplication needs it"
                % (self.name, self.identity["adam_id"]),
                hint="run mdm.vpp.vpp_sync for token %r first (it reads the apps' names and bundle ids)"
                % self.identity["token"],
            )
        return metadata["bundle_id"]

    def _enqueue(self, command_uuid, entries, removal, mac=False):
        """One command to ``entries``' enrollments in one request, recorded before and after; the accepted ones."""
        if removal:
            command = remove_application(command_uuid, self._bundle_id())
            sending, sent, failed = REMOVAL_SENDING, REMOVAL_SENT, REMOVAL_FAILED
        else:
            command = install_application(
                command_uuid, self.identity["adam_id"], self.params["management_flags"], mac=mac
            )
            sending, sent, failed = SENDING, SENT, INSTALL_FAILED
        self._record(entries, sending, command_uuid)
        try:
            answer = self.mdm.enqueue(command, [entry["enrollment_id"] for entry in entries])
        except MDMError as err:
            err.msg = "deployment %r: %s (the members stay %s: the next run sends the same command again)" % (
                self.name,
                err.msg,
                sending,
            )
            err.args = (err.msg,)
            raise
        accepted, refused = [], []
        for entry in entries:
            reason = answer["refused"].get(entry["enrollment_id"])
            if reason is None:
                accepted.append(entry)
                push_error = answer["push_failed"].get(entry["enrollment_id"])
                if push_error:
                    self.installs["push_failed"][entry["member_id"]] = push_error
            else:
                refused.append((entry, reason))
                self.note_failure(entry["member_id"], None, refusal_message(reason))
        self._record(accepted, sent, command_uuid)
        for entry, reason in refused:
            self._record([entry], failed, command_uuid, error=reason)
        self.installs["removal_sent" if removal else "sent"].extend(entry["member_id"] for entry in accepted)
        return accepted

    def _record(self, entries, state, command_uuid, error=None):
        if not entries:
            return
        self.store.upsert_members(
            self.name,
            [
                {
                    "member_id": entry["member_id"],
                    "enrollment_id": entry["enrollment_id"],
                    "install_state": state,
                    "command_uuid": command_uuid,
                    "install_error": error,
                }
                for entry in entries
            ],
        )
        self.changed = True

    def _declare(self, entries, present):
        """DDM: put the members' enrollments in (or take them out of) the app's declaration set, then notify them
        in batches. The status report names the app by bundle id: that is the members' ``command_uuid``."""
        if not entries:
            return []
        adam_id, license_type = self.identity["adam_id"], self.license_type
        set_name = app_set_name(adam_id, license_type)
        bundle_id = self._bundle_id()
        if present:
            declarations = (
                app_declaration(adam_id, license_type),
                status_subscription_declaration(),
                activation_declaration(adam_id, license_type),
            )
            for declaration in declarations:
                self.mdm.put_declaration(declaration)
                self.mdm.put_set_declaration(set_name, declaration["Identifier"])
        sending, sent = (SENDING, SENT) if present else (REMOVAL_SENDING, REMOVAL_SENT)
        self._record(entries, sending, bundle_id)
        for entry in entries:
            self.mdm.set_enrollment_set(entry["enrollment_id"], set_name, present)
        self.mdm.notify([entry["enrollment_id"] for entry in entries])
        self._record(entries, sent, bundle_id)
        self.installs["sent" if present else "removal_sent"].extend(entry["member_id"] for entry in entries)
        return entries

    # -- reporting --

    def mdm_result(self):
        """What this run asked of the MDM (``None`` without one)."""
        if self.mdm is None:
            return None
        by_endpoint = dict(self.mdm.transport.requests_by_label)
        # bounded like the other result lists: the first RESULT_MEMBERS of each, sorted, with counts and left_out
        lists = {key: bounded(sorted(self.installs[key])) for key in ("sent", "removal_sent", "awaiting_removal")}
        return {
            "install_via": self.install_via,
            "service": self.mdm.service_name,
            "declaration": app_declaration_id(self.identity["adam_id"], self.license_type)
            if self.install_via == INSTALL_VIA_DECLARATION
            else None,
            **{key: tally.first for key, tally in lists.items()},
            "counts": {key: tally.count for key, tally in lists.items()},
            "left_out": {key: tally.left_out for key, tally in lists.items()},
            "push_failed": self.installs["push_failed"],
            "requests": {"total": sum(by_endpoint.values()), "by_endpoint": by_endpoint},
            "install_states": self.store.count_install_states(self.name),
        }
