# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bounds of a deployment's input and refusal (issue 13): members files read streaming under caps, a
refusal that returns counts and a few members instead of the whole plan."""

from __future__ import annotations

import json
import os
import tracemalloc

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils import licensing, members
from ansible_collections.mdm.vpp.plugins.module_utils.deployment_views import (
    PLAN_EXAMPLES,
    iter_member_changes,
    plan_excerpt,
)
from ansible_collections.mdm.vpp.plugins.module_utils.deployments import read_members_file, wanted_members
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.licensing import parse_members, plan_deployment
from ansible_collections.mdm.vpp.plugins.module_utils.member_list import StoredMembers, TargetSet

LIMITS = {"maxClientUserIds": 1000, "maxSerialNumbers": 1000, "maxUsers": 100}
OPTIONS = {"action": "install", "license_type": "device", "collection_type": "device", "allow_partial": False,
           "reclaim_removed": False}  # fmt: skip


def collection(path):
    return {"name": "ipads", "type": "device", "members_file": str(path)}


def test_parse_members_takes_lines_read_once():
    lines = iter(["# inventory", "serial,user", "SN1,u-1", "", "SN2"])  # an iterator: no second pass possible
    members = parse_members("device", members_text=lines, source="ipads.csv")
    assert [(m["member_id"], m["device_user"]) for m in members] == [("SN1", "u-1"), ("SN2", None)]


def test_members_file_is_read_line_by_line_with_bom_and_crlf(tmp_path):
    path = tmp_path / "ipads.csv"
    path.write_bytes(b"\xef\xbb\xbfserial,user\r\nSN1,u-1\r\n# note\r\nSN2\r\n")
    lines = read_members_file(str(path))
    assert not isinstance(lines, (str, list))  # an iterator, not the file's whole text
    assert [m["member_id"] for m in wanted_members(collection(path))] == ["SN1", "SN2"]


@pytest.mark.parametrize("kind", ["device", "fifo", "directory"])
def test_only_a_regular_file_is_read(tmp_path, kind):
    path = {"device": "/dev/zero", "fifo": tmp_path / "pipe", "directory": tmp_path}[kind]
    if kind == "fifo":
        os.mkfifo(path)  # opening it would block: refused before any open
    with pytest.raises(ConfigurationError) as info:
        wanted_members(collection(path))
    assert "members_file %s" % path in info.value.msg and "not a regular file" in info.value.msg


def test_more_members_than_the_cap_fail_naming_the_file_and_the_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(members, "MAX_FILE_MEMBERS", 3)
    path = tmp_path / "ipads.txt"
    path.write_text("serial\n# three\nSN1\nSN2\nSN3\n")  # the header line is not a member
    assert len(wanted_members(collection(path))) == 3
    for text, line in (("serial\nSN1\nSN2\n\nSN3\nSN4\n", 6), ("SN1\nSN2\nSN3\nSN4\n", 4)):
        path.write_text(text)  # counted before parsing; without a header, parse_members finds the 4th member
        with pytest.raises(ConfigurationError) as info:
            wanted_members(collection(path))
        assert "members_file %s has more than 3 members (line %d)" % (path, line) in info.value.msg


def test_a_file_over_the_byte_cap_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(members, "MAX_FILE_BYTES", 1024 * 1024)
    path = tmp_path / "big.txt"
    path.write_text("SN1\n" * 300_000)
    with pytest.raises(ConfigurationError) as info:
        read_members_file(str(path))
    assert "members_file %s is too big: more than 1 MB" % path in info.value.msg


def test_a_file_growing_past_the_byte_cap_while_read_is_stopped(tmp_path, monkeypatch):
    path = tmp_path / "growing.txt"
    path.write_text("SN1\nSN2\n")
    lines = read_members_file(str(path))
    path.write_text("SN%d\n" % 1 * 100)  # 400 bytes by the time it is read
    monkeypatch.setattr(members, "MAX_FILE_BYTES", 100)
    with pytest.raises(ConfigurationError, match="too big: more than 0 MB"):
        list(lines)


def test_a_line_without_end_is_cut_at_the_line_cap(tmp_path):
    path = tmp_path / "one-line.txt"
    path.write_text("SN1\n" + "A" * (licensing.MAX_LINE_BYTES + 1))
    with pytest.raises(ConfigurationError) as info:
        wanted_members(collection(path))
    assert "line 2 is longer than %d bytes" % licensing.MAX_LINE_BYTES in info.value.msg


def test_a_refusal_shows_counts_and_the_first_members_only():
    members = parse_members("device", ["SN%05d" % number for number in range(5000)])
    app = {"available_count": 3, "unlimited": False, "revocable": True, "product_type": "App"}
    plan = plan_deployment(members, {}, set(), {}, app, OPTIONS, LIMITS)
    excerpt = plan_excerpt(plan)
    assert (excerpt["needed"], excerpt["available"], excerpt["short"]) == (5000, 3, 4997)
    assert excerpt["counts"]["to_license"] == 5000 and excerpt["truncated"] is True
    assert [entry["member_id"] for entry in excerpt["to_license"]] == ["SN%05d" % n for n in range(PLAN_EXAMPLES)]
    assert len(json.dumps(excerpt)) < 5000  # the whole plan is hundreds of kilobytes
    small = plan_deployment(members[:2], {}, set(), {}, app, OPTIONS, LIMITS)
    assert plan_excerpt(small)["to_license"] == small["to_license"] and not plan_excerpt(small)["truncated"]


def test_members_and_plan_stay_compact_at_100000_members():
    """B5M: the members and the plan's lists cost a few dozen bytes a member (ids in one list, the plan as indexes),
    not a dict each: 100,000 serials parsed and planned under 30 MB (about 61 MB as dicts), the entries unchanged."""
    tracemalloc.start()
    try:
        wanted = parse_members("device", members_text=("sn%08d" % number for number in range(100_000)))
        plan = plan_deployment(wanted, {}, set(), {}, {"available_count": 200_000}, OPTIONS, LIMITS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 30 * 2**20, "%.1f MB" % (peak / 2**20)
    assert len(plan["to_license"]) == 100_000 and plan["batches"]["associate"] == 100
    last = {"member_id": "SN00099999", "license_type": "device", "target_id": "SN00099999"}
    assert plan["to_license"][99_999] == plan["to_license"][-1] == last
    assert plan_excerpt(plan, 2)["to_license"] == [
        {"member_id": "SN%08d" % number, "license_type": "device", "target_id": "SN%08d" % number} for number in (0, 1)
    ]


def test_a_duplicate_among_many_members_names_both_lines():
    text = ["sn%08d" % number for number in range(50_000)] + ["SN00000007"]
    with pytest.raises(ConfigurationError) as err:
        parse_members("device", members_text=iter(text), source="ipads.txt")
    assert "ipads.txt line 50001: duplicate serial number 'SN00000007' (first at ipads.txt line 8" in err.value.msg


def stored_row(member_id, state="licensed", event_id="e-1", error_number=None):
    """A member row with the columns ``Store.iter_members`` gives."""
    return {"member_id": member_id, "device_user": None, "license_type": "device", "state": state,
            "error_number": error_number, "error_message": None, "event_id": event_id, "enrollment_id": None,
            "install_state": None, "command_uuid": None, "install_error": None,
            "created_at": "2026-12-07T15:00:00+00:00", "updated_at": "2026-12-07T15:00:01+00:00"}  # fmt: skip


def test_stored_members_read_as_the_mapping_of_rows_they_stand_for():
    # given out of order, as a store whose collation is not Python's may give them
    rows = [stored_row("SN3", event_id="e-2"), stored_row("SN1", state="failed", error_number=9610), stored_row("SN2")]
    stored = StoredMembers(iter(rows))
    assert stored == {row["member_id"]: row for row in rows}
    assert list(stored) == ["SN1", "SN2", "SN3"] and len(stored) == 3
    assert [member_id for member_id, _row in stored.items()] == ["SN1", "SN2", "SN3"]
    assert [row["event_id"] for row in stored.values()] == ["e-1", "e-1", "e-2"]
    assert stored["SN1"]["error_number"] == 9610 and stored["SN1"]["state"] == "failed"
    assert stored.get("SN0") is None and stored.get("SN4") is None and "SN2" in stored and "SN9" not in stored
    with pytest.raises(KeyError):
        stored["SN22"]  # pylint: disable=pointless-statement
    stored["SN2"]["state"] = "pending"  # a row read is a copy
    assert stored["SN2"]["state"] == "licensed"
    assert not StoredMembers(iter(())) and StoredMembers(iter(())) == {}


def test_a_rerun_of_100000_stored_members_stays_compact():
    """B5M's rerun: the stored rows of 100,000 licensed members held as columns of codes, then planned: nothing to
    do, every member already licensed. About 16 MB with the holders' set; the rows as dicts alone are 59 MB here
    (more from the store, whose every text is an object of its own)."""
    ids = ["SN%08d" % number for number in range(100_000)]
    wanted = parse_members("device", members_text=iter(ids))
    tracemalloc.start()
    try:
        stored = StoredMembers((stored_row(member_id, event_id="e-%d" % (number // 1000))
                                for number, member_id in enumerate(ids)), wanted)  # fmt: skip
        holders = TargetSet((("device", member_id) for member_id in ids), within=stored)
        plan = plan_deployment(wanted, stored, holders, {}, {"available_count": 0}, OPTIONS, LIMITS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(plan["already"]) == 100_000 and not plan["to_license"] and plan["short"] == 0
    assert peak < 40 * 2**20, "%.1f MB" % (peak / 2**20)


def test_a_target_set_is_a_set_of_kind_and_id_without_a_tuple_each():
    holders = TargetSet([("device", "SN1"), ("user", "u-1"), ("device", "SN1")])
    holders.add(("device", "SN2"))
    holders.discard(("user", "u-1"))
    holders.discard(("user", "nobody"))
    holders.discard(("unknown-kind", "x"))
    assert ("device", "SN1") in holders and ("device", "SN2") in holders
    assert ("user", "u-1") not in holders and ("user", "SN1") not in holders and ("book", "SN1") not in holders
    assert len(holders) == 2 and sorted(holders) == [("device", "SN1"), ("device", "SN2")]


def test_stored_members_share_the_members_ids_and_name_those_that_left():
    members = parse_members("device", members_text=iter(["sn3", "sn9", "sn1"]))
    stored = StoredMembers(iter([stored_row("SN" + "1"), stored_row("SN" + "2"), stored_row("SN" + "3")]), members)
    assert stored.ids == ["SN1", "SN2", "SN3"]
    assert stored.ids[0] is members.ids[2] and stored.ids[2] is members.ids[0]  # one string an id
    assert stored.ids_not_in(members.ids) == ["SN2"]
    assert StoredMembers(iter([stored_row("SN" + "1")])).ids[0] is not members.ids[2]  # without the members


def test_a_target_set_within_the_stored_members_marks_them_and_keeps_the_others_in_a_set():
    stored = StoredMembers(iter([stored_row("SN1"), stored_row("SN2")]))
    holders = TargetSet([("device", "SN1"), ("device", "OTHER"), ("user", "SN2")], within=stored)
    assert bytes(holders.marks["device"]) == b"\x01\x00" and holders.others == {"device": {"OTHER"}}
    assert ("device", "SN1") in holders and ("device", "OTHER") in holders and ("user", "SN2") in holders
    assert ("device", "SN2") not in holders and ("user", "SN1") not in holders and ("book", "SN1") not in holders
    holders.discard(("device", "SN1"))
    holders.discard(("device", "OTHER"))
    holders.discard(("book", "SN2"))
    assert ("device", "SN1") not in holders and ("device", "OTHER") not in holders
    assert len(holders) == 1 and list(holders) == [("user", "SN2")]


def test_a_rerun_plans_the_members_that_left_and_writes_only_what_changed():
    rows = [stored_row("SN1"), stored_row("SN2"), stored_row("SN3", state="pending", event_id=None)]
    stored = StoredMembers(iter(rows))
    members = parse_members("device", members_text=iter(["sn1", "sn3", "sn4"]))
    holders = TargetSet([("device", "SN1"), ("device", "SN2"), ("device", "SN3")], within=stored)
    plan = plan_deployment(members, stored, holders, {}, {"available_count": 5}, OPTIONS, LIMITS)
    assert [entry["member_id"] for entry in plan["already"]] == ["SN1", "SN3"]
    assert [entry["member_id"] for entry in plan["to_license"]] == ["SN4"]
    assert [entry["member_id"] for entry in plan["untargeted"]] == ["SN2"]  # left, keeps its license
    as_dict = plan_deployment(members, dict(stored.items()), set(holders), {}, {"available_count": 5}, OPTIONS, LIMITS)
    assert as_dict == plan
    changes = list(iter_member_changes(plan, stored, members))
    assert changes == list(iter_member_changes(as_dict, dict(stored.items()), list(members)))
    assert {change["member_id"]: change.get("state") for change in changes} == {
        "SN3": "licensed",  # pending with no event, already held: settled
        "SN4": None,  # new: written pending
        "SN2": "untargeted",
    }
