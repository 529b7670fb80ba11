# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VPPModule checks the common options and the names a module creates before anything else, and never creates a
store unless asked to (vpp_token registering) outside check mode."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.module import (
    VPPModule,
    check_api_url,
    check_common_options,
    check_name,
)

NAME_SPEC = {"name": {"type": "str"}, "collection": {"type": "dict", "options": {"name": {"type": "str"}}}}


def run_module(capsys, args, fn, names=()):
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        VPPModule(argument_spec=NAME_SPEC, supports_check_mode=True, names=names).run(fn)
    return exited.value.code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "url",
    [
        "https://vpp.itunes.apple.com/mdm/v2",
        "http://127.0.0.1:8080/mdm/v2",
        "http://127.9.9.9/mdm/v2",
        "http://[::1]:8080/mdm/v2",
        "http://localhost:8080/mdm/v2",
        "http://LOCALHOST/mdm/v2",
    ],
)
def test_https_and_loopback_http_are_accepted(url):
    check_api_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com/mdm/v2", "api_url uses plain http to example.com, which is not this machine"),
        ("http://10.0.0.1/mdm/v2", "plain http to 10.0.0.1"),
        ("http://localhost.example.com/", "plain http to localhost.example.com"),
        ("ftp://example.com/", "is not an https:// URL"),
        ("vpp.itunes.apple.com/mdm/v2", "is not an https:// URL"),
    ],
)
def test_other_urls_are_refused(url, message):
    with pytest.raises(ConfigurationError, match=message):
        check_api_url(url)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"timeout": 0}, "timeout must be more than 0 seconds, got 0"),
        ({"retries": -1}, "retries must be 0 or more, got -1"),
        ({"wait_timeout": 0}, "wait_timeout must be more than 0 seconds, got 0"),
    ],
)
def test_out_of_range_numbers_are_refused(params, message):
    with pytest.raises(ConfigurationError, match=message):
        check_common_options(params)


def test_in_range_numbers_pass():
    check_common_options({"timeout": 1, "retries": 0, "wait_timeout": 1, "api_url": None})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "name is empty"),
        ("   ", "name is empty"),
        ("a\nb", r"name holds a control character \('\\n'\)"),
        ("tab\there", "name holds a control character"),
        ("x" * 256, "name is 256 characters long, more than 255"),
    ],
)
def test_bad_names_are_refused(value, message):
    with pytest.raises(ConfigurationError, match=message) as caught:
        check_name("name", value)
    assert "1 to 255 characters" in caught.value.hint


def test_good_names_pass():
    for value in (None, "hq", "x" * 255, "Ünïcode – names", "staff iPads"):
        check_name("name", value)


def test_the_module_fails_before_running_on_a_bad_name_or_option(capsys):
    ran = []
    code, answer = run_module(capsys, {"collection": {"name": "a\nb"}}, ran.append, names=("name", "collection.name"))
    assert code == 1 and ran == []
    assert answer["msg"].startswith("collection.name holds a control character")
    code, answer = run_module(capsys, {"api_url": "http://example.com/mdm/v2"}, ran.append)
    assert code == 1 and ran == [] and "plain http to example.com" in answer["msg"]


def test_no_store_is_created_unless_asked_and_never_in_check_mode(capsys, tmp_path):
    store = str(tmp_path / "vpp.db")

    def open_it(module):
        return {"location": module.store.location}

    def create_it(module):
        return {"location": module.open_store(create=True).location}

    code, answer = run_module(capsys, {"store": store}, open_it)
    assert code == 1 and answer["msg"].startswith("no store at %s: register a token with mdm.vpp.vpp_token" % store)
    code, answer = run_module(capsys, {"store": store, "_ansible_check_mode": True}, create_it)
    assert code == 1 and answer["msg"].startswith("no store at")
    assert list(tmp_path.iterdir()) == []
    code, answer = run_module(capsys, {"store": store}, create_it)
    assert code == 0 and answer["location"] == store
    code, answer = run_module(capsys, {"store": store}, open_it)
    assert code == 0
