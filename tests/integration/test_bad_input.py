# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input, one case each: a clear message (what, why, what to do), a non-zero exit, and nothing changed.

Every case starts from a copy of the same store (hq registered, claimed and synced; applications pages, keynote
and book; an install deployment ``staff`` holding u-1's Pages license) and the same simulator. After the failed
run the store's rows (or, for a file that is not a database, its bytes) and every location at the simulator are
exactly as before, and Apple received no write call.

The 3,001st token is covered by ``test_vpp_token.py::test_the_3001st_token_is_refused_and_nothing_changes``
(3,000 tokens are written straight into a store, which does not fit the shared copy used here).
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.deployment_helpers import BOOK, HQ, KEYNOTE, PAGES
from tests.integration.reliability_helpers import (
    api_requests,
    apple_state,
    seed,
    sqlite_runner,
    sync,
    token_file,
    writes,
)
from tests.integration.test_vpp_sync import database_dump
from tests.integration.token_helpers import OTHER_MANAGER, create_store, opened_store
from tests.simulator import Simulator
from tests.simulator.service import make_stoken
from tests.simulator.testing import small_scenario

# Extra locations, each put in one refusing state by the fixture.
EXPIRED, REVOKED, TAKEN = "expired-at-apple", "revoked-at-apple", "taken-by-another-mdm"
DOWNLOAD = "download"  # every content token refusal ends by telling to download the token again
NO_STORE, REGISTER_FIRST = "no store at", "register a token with mdm.vpp.vpp_token first"
NAME_HINT = "a name of 1 to 255 characters without line breaks"


def b64(text):
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(scope="module")
def world(tmp_path_factory, collections_path):
    """The simulator and the baseline store every case copies (built once per test module and worker)."""
    scenario = small_scenario(event_delay=0.01)
    scenario["limits"] = {"maxRequestPerSecond": 100}
    scenario["locations"] += [{"key": key, "uId": str(9000000000000100 + index)}
                              for index, key in enumerate((EXPIRED, REVOKED, TAKEN))]  # fmt: skip
    sim = Simulator(scenario, tokens_dir=str(tmp_path_factory.mktemp("tokens"))).start()
    sim.expire_token(EXPIRED)
    sim.revoke_token(REVOKED)
    sim.set_mdm_info(TAKEN, OTHER_MANAGER)
    baseline = sqlite_runner(tmp_path_factory.mktemp("baseline"), collections_path, sim)
    seed(
        baseline,
        sim,
        {"hq": HQ},
        applications={"pages": ("hq", PAGES), "keynote": ("hq", KEYNOTE), "book": ("hq", BOOK)},
    )
    with opened_store(baseline) as store:
        store.upsert_deployment("staff", application="pages", collection_name="staff", collection_type="user",
                                action="install", purpose="required", license_type="user")  # fmt: skip
        store.upsert_members("staff", [{"member_id": "u-1", "license_type": "user", "state": "licensed"}])
    listening = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    yield {"sim": sim, "store": baseline.store, "second_hq_token": sim.issue_token(HQ),
           "silent_url": "http://127.0.0.1:%d/mdm/v2" % listening.getsockname()[1]}  # fmt: skip
    listening.close()
    sim.stop()


def token(name, **options):
    return {"mdm.vpp.vpp_token": dict(options, name=name)}


def deployment(name, collection_type, members=None, application="pages", collection_name=None, **options):
    collection = {"name": collection_name or name, "type": collection_type}
    if members is not None:
        collection["members"] = members
    if "members_file" in options:
        collection["members_file"] = options.pop("members_file")
    return {"mdm.vpp.vpp_deployment": dict(options, name=name, application=application, collection=collection)}


def future():
    return datetime.now(UTC) + timedelta(days=200)


# case -> (function of the world and a scratch directory giving the task, texts the message must hold)
CASES = {
    "token not base64": (
        lambda w, d: token("new", token="not base64 !!"),
        ["not valid Base64", DOWNLOAD],
    ),
    "token not json": (
        lambda w, d: token("new", token=b64("hello there")),
        ["decodes from Base64 but does not contain JSON", DOWNLOAD],
    ),
    "token missing fields": (
        lambda w, d: token("new", token=b64(json.dumps({"token": "abc"}))),
        ["missing or has an empty or non-text field: expDate, orgName", DOWNLOAD],
    ),
    "token expired": (
        lambda w, d: token("new", token=make_stoken("Example Corp", datetime.now(UTC) - timedelta(days=3))),
        ["expired on", "download a new content token", "run vpp_token again"],
    ),
    "token expired at apple": (
        lambda w, d: token("new", token_file=token_file(w["sim"], EXPIRED)),
        ["GET /client/config", "error 9621", "download a new content token"],
    ),
    "token revoked": (
        lambda w, d: token("new", token_file=token_file(w["sim"], REVOKED)),
        ["GET /client/config", "error 9625", "download the current content token"],
    ),
    "token of another manager": (
        lambda w, d: token("new", token_file=token_file(w["sim"], TAKEN)),
        ["managed by another device-management service ('Other MDM')", "force_takeover: true"],
    ),
    "token of a location already registered": (
        lambda w, d: token("hq-again", token=w["second_hq_token"]),
        ["duplicate location: already registered as 'hq'", "renew that token instead"],
    ),
    "token unknown to apple": (
        lambda w, d: token("new", token=make_stoken("Nobody", future())),
        ["error 9622", "the whole file downloaded from Apple"],
    ),
    "unknown token name": (
        lambda w, d: {"mdm.vpp.vpp_sync": {"tokens": ["ghost"]}},
        ["ghost: token 'ghost' is not registered in the store", "register it first with mdm.vpp.vpp_token"],
    ),
    "unknown app": (
        lambda w, d: {"mdm.vpp.vpp_app": {"token": "hq", "adam_id": "999999999"}},
        ["token 'hq' does not license app 999999999", "run mdm.vpp.vpp_sync for token hq"],
    ),
    "a book to devices": (
        lambda w, d: deployment("book-ipads", "device", ["SN-B1"], application="book"),
        ["books can only be deployed to user collections", "deploy the book to a user collection"],
    ),
    "purpose available": (
        lambda w, d: deployment("self-service", "user", ["u-1"], purpose="available"),
        ["available installs are not supported; use required", "set purpose: required"],
    ),
    "changing a deployment's action": (
        lambda w, d: deployment("staff", "user", ["u-1"], action="uninstall"),
        ["'staff' is an install deployment; its action never changes", "separate deployment with action uninstall"],
    ),
    "not enough licenses": (
        lambda w, d: deployment("keynote-ipads", "device", ["SN-K%d" % i for i in range(5)], application="keynote"),
        ["not enough licenses: 5 needed, 3 available", "nothing was changed", "buy more licenses"],
    ),
    "invalid serial": (
        lambda w, d: deployment("ipads", "device", ["SN-1", "bad serial!"]),
        ["members[1]: 'bad serial!' is not a serial number", "fix the members"],
    ),
    "duplicate serial": (
        lambda w, d: deployment("ipads", "device", ["SN-1", "SN-2", "SN-1"]),
        ["members[2]: duplicate serial number 'SN-1' (first at members[0])", "fix the members"],
    ),
    "invalid email": (
        lambda w, d: deployment("staff-2", "user", [{"client_user_id": "n-1", "email": "not-an-email"}]),
        ["email 'not-an-email' is not an email address", "fix the members"],
    ),
    "duplicate email": (
        lambda w, d: deployment(
            "staff-2",
            "user",
            [{"client_user_id": "n-1", "email": "a@example.org"}, {"client_user_id": "n-2", "email": "A@example.org"}],
        ),
        ["duplicate email 'A@example.org' (first at members[0] as 'a@example.org'", "fix the members"],
    ),  # fmt: skip
    "unreadable members_file": (
        lambda w, d: deployment("ipads", "device", members_file=str(d / "missing.txt")),
        ["cannot read members_file", "No such file or directory", "readable UTF-8 text file"],
    ),
    "members_file not text": (
        lambda w, d: deployment("ipads", "device", members_file=str(binary_file(d))),
        ["cannot read members_file", "UnicodeDecodeError", "readable UTF-8 text file"],
    ),
    "members_file /dev/zero": (  # read whole, it grew the module to 24 GB
        lambda w, d: deployment("ipads", "device", members_file="/dev/zero"),
        ["cannot read members_file /dev/zero: it is a device, FIFO or socket, not a regular file", "readable UTF-8"],
    ),
    "members_file a directory": (
        lambda w, d: deployment("ipads", "device", members_file=str(d)),
        ["cannot read members_file", "scratch: it is a directory, not a regular file"],
    ),
    "members_file over the member cap": (  # 2,000,001 serials under a header: refused before any is parsed
        lambda w, d: deployment("ipads", "device", members_file=str(many_members_file(d, 2_000_001))),
        ["members.txt has more than 2000000 members (line 2000002): that is the cap", "split the collection"],
    ),
    "members_file without line breaks": (
        lambda w, d: deployment("ipads", "device", members_file=str(one_line_file(d))),
        ["one-line.txt is too big: line 1 is longer than 4096 bytes, the cap of a line", "split the collection"],
    ),
    "unwritable store path": (
        lambda w, d: token("new", token=make_stoken("Nobody", future()), store=str(plain_file(d) / "vpp.db")),
        ["cannot create the store", "not-a-directory is a file, not a directory", "choose a writable location"],
    ),
    "token info in check mode on a missing store": (
        lambda w, d: dict({"mdm.vpp.vpp_token_info": {"store": str(d / "new" / "vpp.db")}}, check_mode=True),
        [NO_STORE, REGISTER_FIRST],
    ),
    "registering in check mode on a missing store": (
        lambda w, d: dict(
            token("new", token_file=token_file(w["sim"], HQ), store=str(d / "new" / "vpp.db")), check_mode=True
        ),
        [NO_STORE, REGISTER_FIRST],
    ),
    "deleting a token on a missing store": (
        lambda w, d: token("hq", state="absent", store=str(d / "new" / "vpp.db")),
        [NO_STORE, REGISTER_FIRST],
    ),
    "a typo in the store path": (
        lambda w, d: {"mdm.vpp.vpp_sync": {"store": str(d / "stroe" / "vpp.db")}},
        [NO_STORE, "stroe/vpp.db", REGISTER_FIRST, "check the store option"],
    ),
    "an empty store file": (
        lambda w, d: {"mdm.vpp.vpp_sync": {"store": str(empty_file(d))}},
        ["empty.db is empty or not an SQLite database", "restore it from a backup or move it away"],
    ),
    "a dangling symlink as store": (
        lambda w, d: {"mdm.vpp.vpp_sync": {"store": str(dangling_link(d))}},
        ["link.db is a symbolic link to", "which does not exist", "remove the link"],
    ),
    "plain http to another host": (
        lambda w, d: {"mdm.vpp.vpp_sync": {"api_url": "http://example.com/mdm/v2"}},
        ["api_url uses plain http to example.com, which is not this machine", "use an https:// URL"],
    ),
    "timeout 0": (
        lambda w, d: {"mdm.vpp.vpp_sync": {"timeout": 0}},
        ["timeout must be more than 0 seconds, got 0", "give timeout in seconds"],
    ),
    "retries -1": (
        lambda w, d: {"mdm.vpp.vpp_sync": {"retries": -1}},
        ["retries must be 0 or more, got -1", "how often to retry"],
    ),
    "wait_timeout 0": (
        lambda w, d: deployment("ipads", "device", ["SN-1"], wait_timeout=0),
        ["wait_timeout must be more than 0 seconds, got 0"],
    ),
    "a name with a newline": (
        lambda w, d: {"mdm.vpp.vpp_app": {"token": "hq", "adam_id": PAGES, "name": "pages\nx"}},
        ["name holds a control character", NAME_HINT],
    ),
    "a collection name with a tab": (
        lambda w, d: deployment("ipads", "device", ["SN-1"], collection_name="ipads\tx"),
        ["collection.name holds a control character", NAME_HINT],
    ),
    "a 256-character name": (
        lambda w, d: token("x" * 256, token_file=token_file(w["sim"], EXPIRED)),
        ["name is 256 characters long, more than 255", NAME_HINT],
    ),
    "wrong store_key": (
        lambda w, d: {"mdm.vpp.vpp_sync": {"store_key": "not the key of this store"}},
        ["the store key given does not open store", "wrong key", "pass the store_key"],
    ),
    "api_url that does not answer": (
        lambda w, d: {"mdm.vpp.vpp_sync": {"api_url": w["silent_url"], "timeout": 1, "retries": 1}},
        ["no answer within the timeout (after 2 attempt(s))", "run again later", "raise 'retries' or 'timeout'"],
    ),
    "a members page of no member": (
        lambda w, d: {"mdm.vpp.vpp_deployment_info": {"members_limit": 0}},
        ["members_limit must be at least 1, got 0", "give the page size"],
    ),
    "a members page before the first": (
        lambda w, d: {"mdm.vpp.vpp_deployment_info": {"members_limit": 10, "members_offset": -1}},
        ["members_offset must be 0 or more, got -1", "members_next_offset of the previous page"],
    ),
}


def many_members_file(directory, count):
    path = directory / "members.txt"
    path.write_text("serial\n" + "".join("SN%07d\n" % number for number in range(count)))
    return path


def one_line_file(directory):
    path = directory / "one-line.txt"
    path.write_text("SN" * 1_000_000)  # 2 MB and no newline
    return path


def binary_file(directory):
    path = directory / "members.bin"
    path.write_bytes(b"\xff\xfe\x00SN-1\x80\x81\n")
    return path


def empty_file(directory):
    path = directory / "empty.db"
    path.write_bytes(b"")
    return path


def dangling_link(directory):
    path = directory / "link.db"
    path.symlink_to(directory / "gone" / "vpp.db")
    return path


def scratch_listing(directory):
    """What the scratch directory holds: each entry's path, kind and size (a created store or directory shows)."""
    return sorted(
        (str(item.relative_to(directory)), item.is_symlink(), item.is_dir(), item.lstat().st_size)
        for item in directory.rglob("*")
    )


def plain_file(directory):
    path = directory / "not-a-directory"
    path.write_text("a file where the store's directory should be\n")
    return path


def store_snapshot(path):
    """The store's rows, plus the names and modes of the files of its directory."""
    files = {item.name: item.stat().st_mode for item in Path(path).parent.iterdir() if not item.name.endswith("-shm")}
    return database_dump(path), files


def run_case(world, tmp_path, collections_path, task, corrupt=False):
    """Copy the baseline store, run ``task`` (one task, allowed to fail); (run, result, before, after)."""
    sim = world["sim"]
    store_dir = tmp_path / "store"
    shutil.copytree(world["store"].parent, store_dir)
    runner = sqlite_runner(tmp_path, collections_path, sim)
    if corrupt:
        data = bytearray(runner.store.read_bytes())
        data[:100] = b"this is not a SQLite database header, whatever the file was before".ljust(100, b"!")
        runner.store.write_bytes(bytes(data))
    snapshot = runner.store.read_bytes if corrupt else (lambda: store_snapshot(runner.store))
    before = (snapshot(), apple_state(sim))
    sim.clear_request_log()
    run = runner.play([dict(task, name="bad input")])
    after = (snapshot(), apple_state(sim))
    return run, run.result("bad input"), before, after


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_clearly_and_changes_nothing(world, tmp_path, collections_path, case):
    make_task, expected = CASES[case]
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    task = make_task(world, scratch)
    listed = scratch_listing(scratch)
    run, result, before, after = run_case(world, tmp_path, collections_path, task)
    assert run.rc != 0 and run.status("bad input") == "failed"
    for text in expected:
        assert text in result["msg"], result["msg"]
    assert after == before
    assert scratch_listing(scratch) == listed  # no store, key file or directory created elsewhere either
    assert writes(world["sim"]) == []


def test_a_refused_large_deployment_returns_counts_and_a_few_members_not_the_plan(world, tmp_path, collections_path):
    members = tmp_path / "ipads.txt"
    members.write_text("".join("SN%05d\n" % number for number in range(20_000)))
    task = deployment("keynote-ipads", "device", members_file=str(members), application="keynote")
    run, result, before, after = run_case(world, tmp_path, collections_path, task)
    assert run.rc != 0 and "not enough licenses: 20000 needed, 3 available" in result["msg"]
    plan = result["plan"]
    assert (plan["needed"], plan["available"], plan["short"]) == (20_000, 3, 19_997)
    assert plan["counts"]["to_license"] == 20_000 and plan["truncated"] is True
    assert [entry["member_id"] for entry in plan["to_license"]] == ["SN%05d" % number for number in range(10)]
    assert len(json.dumps(result)) < 10_000  # the whole plan is about 2 MB
    assert len(run.stdout) < 50_000
    assert after == before and writes(world["sim"]) == []


def test_a_corrupted_store_file_is_refused_clearly_and_left_as_it_is(world, tmp_path, collections_path):
    run, result, before, after = run_case(world, tmp_path, collections_path, {"mdm.vpp.vpp_sync": {}}, corrupt=True)
    assert run.rc != 0 and run.status("bad input") == "failed"
    assert "is empty or not an SQLite database" in result["msg"]
    assert "restore it from a backup or move it away" in result["msg"]
    assert after == before  # the very same bytes
    assert writes(world["sim"]) == []


def test_a_sync_over_a_store_without_tokens_warns_that_nothing_was_synchronised(world, tmp_path, collections_path):
    sim = world["sim"]
    runner = sqlite_runner(tmp_path, collections_path, sim)
    create_store(runner)  # empty, as after registering and deleting a token
    sim.clear_request_log()
    run = runner.play([sync()])
    assert run.rc == 0, run.stdout
    result = run.result("sync")
    assert result["changed"] is False and result["tokens"] == []
    assert "no token registered in store %s: nothing was synchronised" % runner.store in result["warnings"]
    assert api_requests(sim) == []
