# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure decisions of issue 15: serials upper-case, members file headers of MDM exports, member counts and diffs
that name members, the texts of failed members and of an empty collection."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.deployment_views import (
    deployment_diff,
    deployment_view,
    failure_text,
    membership_changes,
)
from ansible_collections.mdm.vpp.plugins.module_utils.deployments import no_members_warning
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.members import parse_members
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    apple_target_key,
    outcome_target_key,
    stored_assignment_key,
    target_key,
)


def test_serial_numbers_are_one_identity_whatever_their_case_and_user_ids_stay_exact():
    assert target_key("device", " c02acme00050 ") == ("device", "C02ACME00050")
    assert apple_target_key({"serialNumber": "c02acme00050"}) == target_key("device", "C02ACME00050")
    assert outcome_target_key({"serial_number": "c02Acme00050"}) == ("device", "C02ACME00050")
    row = {"adam_id": "1", "pricing_param": "STDQ", "target_kind": "device", "target_id": "sn1"}
    assert stored_assignment_key(row) == ("1", "STDQ", "device", "SN1")
    assert target_key("user", "u-Mixed") == ("user", "u-Mixed")


def test_members_are_upper_cased_and_case_duplicates_refused_with_both_spellings():
    members = parse_members("device", [{"serial": "c02acme00050", "user": "u-Mixed"}], "sn-2\n")
    assert [(m["member_id"], m["device_user"]) for m in members] == [("C02ACME00050", "u-Mixed"), ("SN-2", None)]
    with pytest.raises(ConfigurationError, match=r"duplicate serial number 'C02X' \(first at members\[0\] as 'c02x'"):
        parse_members("device", ["c02x", "C02X"])
    # user ids are compared exactly: two users
    assert len(parse_members("user", ["u-a", "U-A"])) == 2


@pytest.mark.parametrize(
    ("header", "line"),
    [("Serial Number,Username", "sn-1,u-1"), ("SerialNumber,User Name", "sn-1,u-1"),
     ("serial_number,user_id", "sn-1,u-1"), ("SERIAL,Assigned User", "sn-1,u-1"),
     ("Username, Serial Number ", "u-1,sn-1"), ("Device Serial Number,Model,Primary User", "sn-1,iPad,u-1")],
)  # fmt: skip
def test_device_headers_of_mdm_exports_are_recognised_in_any_order(header, line):
    [member] = parse_members("device", members_text="%s\n%s\n" % (header, line))
    assert (member["member_id"], member["device_user"]) == ("SN-1", "u-1")


def test_user_headers_of_apple_business_exports_are_recognised():
    text = "Managed Apple ID,Email Address,User ID,Name\nli@example.org,li@example.org,u-2,Li\n"
    [member] = parse_members("user", members_text=text)
    assert member == {"member_id": "u-2", "device_user": None, "email": "li@example.org",
                      "managed_apple_id": "li@example.org", "enrollment_id": None, "platform": None}  # fmt: skip
    [member] = parse_members("user", members_text="E-Mail,Username\nana@example.org,u-1\n")
    assert (member["member_id"], member["email"]) == ("u-1", "ana@example.org")


def test_a_header_without_the_member_id_column_is_data():
    with pytest.raises(ConfigurationError, match="has several fields but the file has no header line"):
        parse_members("user", members_text="Email Address,Name\nana@example.org,Ana\n")


def _plan(action="install", to_license=(), to_reclaim=()):
    return {"action": action, "to_license": [{"member_id": m} for m in to_license],
            "to_reclaim": [{"member_id": m} for m in to_reclaim]}  # fmt: skip


def test_the_member_count_leaves_out_former_members():
    row = {"name": "d", "collection_name": "c", "collection_type": "device", "action": "install"}
    counts = {"pending": 0, "licensed": 2, "failed": 1, "untargeted": 1, "reclaimed": 1}
    assert deployment_view(row, counts)["members"] == 3
    # an uninstall deployment's reclaimed members are its members
    assert deployment_view(dict(row, action="uninstall"), counts)["members"] == 4


def test_membership_changes_name_who_gains_and_loses_a_license_capped_with_counts():
    stored = {"A": {"state": "licensed"}, "B": {"state": "licensed"}, "OLD": {"state": "untargeted"}}
    members = [{"member_id": "B"}, {"member_id": "OLD"}] + [{"member_id": "N%02d" % i} for i in range(30)]
    changes = membership_changes(_plan(to_license=["N%02d" % i for i in range(30)], to_reclaim=["A"]), stored, members)
    assert changes["gaining_license"]["count"] == 30 and len(changes["gaining_license"]["first"]) == 20
    assert changes["losing_license"] == {"count": 1, "first": ["A"]}
    assert changes["removed"] == {"count": 1, "first": ["A"]}
    # a former member coming back joins again
    assert changes["added"]["count"] == 31 and changes["added"]["first"][0] == "OLD"

    diff = deployment_diff({"members": 2}, {"members": 32}, changes, "Pages (1)")
    assert diff["before"] == {"members": 2, "app": "Pages (1)"} and diff["after"]["app"] == "Pages (1)"
    assert set(diff["after"]["member_changes"]) == {"gaining_license", "losing_license", "added", "removed"}
    quiet = membership_changes(_plan(), {"A": {"state": "licensed"}}, [{"member_id": "A"}])
    assert "member_changes" not in deployment_diff({}, {"members": 1}, quiet, "Pages (1)")["after"]
    assert deployment_diff({}, {"members": 1}, quiet, "Pages (1)")["before"] == {}


def test_failure_text_names_the_first_five_with_their_reasons():
    failed = [{"member_id": "SN%d" % i, "error_number": 9622 if i else None, "error_message": "why %d" % i}
              for i in range(7)]  # fmt: skip
    text = failure_text(failed)
    assert text.startswith("7 member(s) ended failed: SN0 (why 0), SN1 (error 9622: why 1)")
    assert "SN4" in text and "SN5" not in text and text.endswith(", and 2 more")
    assert failure_text(failed[:1], predicted=True) == "1 member(s) would end failed: SN0 (why 0)"


def test_an_empty_collection_warns_and_says_what_the_run_does():
    params = {"name": "d", "action": "install", "reclaim_removed": True,
              "collection": {"name": "Carts", "members_file": "/srv/carts.csv"}}  # fmt: skip
    text = no_members_warning(params)
    assert "collection 'Carts' has no members (members_file /srv/carts.csv has no member line)" in text
    assert "takes back the license of every former member" in text
    assert "former members keep theirs" in no_members_warning(dict(params, reclaim_removed=False))
    assert "takes nothing back" in no_members_warning(dict(params, action="uninstall"))
