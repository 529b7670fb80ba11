# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the organisation's MDM did for deployment members: install states, and the device answers applied."""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.deployments import deployment_id
from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import batches, check_choice
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import now_timestamp
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import INSTALL_FAILED, INSTALL_STATES

MEMBERS_OF_COMMAND = (
    "SELECT d.name AS deployment, d.action, dm.member_id, dm.state, dm.install_state, dm.enrollment_id "
    "FROM deployment_members dm JOIN deployments d ON d.id = dm.deployment_id "
    "WHERE dm.command_uuid = ? AND dm.enrollment_id = ? ORDER BY d.name, dm.member_id"
)


def member_change(row, enrollment_id, after):
    """What changed for one member: its deployment, action, state, and install state before and after."""
    return {
        "deployment": row["deployment"],
        "action": row["action"],
        "member_id": row["member_id"],
        "state": row["state"],
        "enrollment_id": enrollment_id,
        "before": row["install_state"],
        "after": after,
    }


class InstallsRepo:
    """Mixin of ``Store``: install states of members and the MDM answers already applied (needs ``self.db``)."""

    def forget_mdm_answers(self, before):
        """Forget the device answers received before ``before`` (a store timestamp); returns how many went."""
        return self.db.delete_in_batches("mdm_answers", "received_at < ?", (before,))

    def record_mdm_answer(self, command_uuid, enrollment_id, status, decide):
        """Apply one device answer once, in one transaction; returns ``{"duplicate", "members"}``.

        ``decide(member_row)`` returns ``(install_state, install_error)`` for a member the command went to, or
        ``None`` to leave it as it is. The same (command, enrollment, status) a second time is a duplicate
        delivery: nothing changes. ``members`` lists ``{deployment, action, member_id, state, before, after,
        enrollment_id}`` of the members it changed.
        """
        now = now_timestamp()
        changed = []
        with self.db.transaction():
            if self.db.scalar(
                "SELECT 1 FROM mdm_answers WHERE command_uuid = ? AND enrollment_id = ? AND status = ?",
                (command_uuid, enrollment_id, status),
            ):
                return {"duplicate": True, "members": []}
            self.db.insert(
                "mdm_answers",
                {"command_uuid": command_uuid, "enrollment_id": enrollment_id, "status": status, "received_at": now},
            )
            for row in self.db.fetch_all(MEMBERS_OF_COMMAND, (command_uuid, enrollment_id)):
                decision = decide(row)
                if decision is None:
                    continue
                state, error = decision
                check_choice("install state", state, INSTALL_STATES)
                if state == row["install_state"] and error is None:
                    continue
                self.db.execute(
                    "UPDATE deployment_members SET install_state = ?, install_error = ?, updated_at = ? "
                    "WHERE deployment_id = ? AND member_id = ?",
                    (state, error, now, deployment_id(self.db, row["deployment"]), row["member_id"]),
                )
                changed.append(member_change(row, enrollment_id, state))
        return {"duplicate": False, "members": changed}

    def forget_refusals(self, enrollment_id, error_prefix):
        """Members whose install failed with an error starting with ``error_prefix`` (the MDM did not know
        ``enrollment_id``) go back to nothing sent, so the next run sends the install; returns them as
        ``record_mdm_answer`` does (``after`` None)."""
        now = now_timestamp()
        changed = []
        with self.db.transaction():
            rows = self.db.fetch_all(
                "SELECT d.name AS deployment, d.id AS deployment_id, d.action, dm.member_id, dm.state, "
                "dm.install_state FROM deployment_members dm JOIN deployments d ON d.id = dm.deployment_id "
                "WHERE dm.enrollment_id = ? AND dm.install_state = ? AND dm.install_error LIKE ? "
                "ORDER BY d.name, dm.member_id",
                (enrollment_id, INSTALL_FAILED, error_prefix + "%"),
            )
            for row in rows:
                self.db.execute(
                    "UPDATE deployment_members SET install_state = NULL, install_error = NULL, updated_at = ? "
                    "WHERE deployment_id = ? AND member_id = ?",
                    (now, row["deployment_id"], row["member_id"]),
                )
                changed.append(member_change(row, enrollment_id, None))
        return changed

    def known_enrollments(self, collection_type, member_ids):
        """``{member id: enrollment id}`` recorded for these members by any deployment of a collection of this type
        (an uninstall deployment finds the enrollment its install deployment used)."""
        found = {}
        for batch in batches(list(member_ids)):
            rows = self.db.fetch_all(
                "SELECT dm.member_id, dm.enrollment_id FROM deployment_members dm "
                "JOIN deployments d ON d.id = dm.deployment_id WHERE d.collection_type = ? "
                "AND dm.enrollment_id IS NOT NULL AND dm.member_id IN (%s) ORDER BY dm.updated_at"
                % ", ".join("?" * len(batch)),
                [collection_type, *batch],
            )
            found.update({row["member_id"]: row["enrollment_id"] for row in rows})
        return found

    def count_install_states(self, deployment):
        """``{install state: count}`` of ``deployment``'s members (``none``: nothing sent); zeros left out."""
        rows = self.db.fetch_all(
            "SELECT install_state, COUNT(*) AS n FROM deployment_members WHERE deployment_id = ? "
            "GROUP BY install_state",
            (deployment_id(self.db, deployment),),
        )
        return {row["install_state"] or "none": row["n"] for row in rows}
