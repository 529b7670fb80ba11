# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VPPModule: common options, environment fallbacks and error conversion, run like a real module (no network).

Each test runs a tiny module in-process the way ansible-core's own unit tests do: the arguments go in through
``ansible.module_utils.testing.patch_module_args`` and the module's JSON answer is read from stdout.
"""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.mdm.vpp.plugins.module_utils.client import DEFAULT_API_URL
from ansible_collections.mdm.vpp.plugins.module_utils.errors import TokenExpiredError
from ansible_collections.mdm.vpp.plugins.module_utils.module import VPP_COMMON_ARGSPEC, VPPModule, common_argspec
from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store

ENV_NAMES = (
    "VPP_STORE",
    "VPP_STORE_KEY",
    "VPP_API_URL",
    "VPP_VALIDATE_CERTS",
    "VPP_CA_PATH",
    "VPP_TIMEOUT",
    "VPP_RETRIES",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def run_module(capsys, args, fn, argument_spec=None):
    """Run ``VPPModule(...).run(fn)`` with ``args`` and return (exit code, the module's JSON answer)."""
    with patch_module_args(args), pytest.raises(SystemExit) as exited:
        VPPModule(argument_spec=argument_spec, supports_check_mode=True).run(fn)
    return exited.value.code, json.loads(capsys.readouterr().out)


def echo_params(module):
    return {"params": {name: module.params[name] for name in VPP_COMMON_ARGSPEC}}


def test_common_options_have_their_documented_defaults(capsys):
    code, answer = run_module(capsys, {}, echo_params)
    assert code == 0
    assert answer["changed"] is False
    assert answer["params"] == {
        "store": None,
        "store_key": None,
        "api_url": DEFAULT_API_URL,
        "validate_certs": True,
        "ca_path": None,
        "timeout": 30,
        "retries": 5,
        "event_poll_interval": 30.0,
        "mdm_type": None,
        "mdm_url": None,
        "mdm_api_key": None,
        "mdm_validate_certs": True,
        "mdm_ca_path": None,
    }


def test_environment_supplies_every_common_option(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("VPP_STORE", str(tmp_path / "vpp.db"))
    monkeypatch.setenv("VPP_STORE_KEY", "env-store-key-value")
    monkeypatch.setenv("VPP_API_URL", "http://127.0.0.1:9/mdm/v2")
    monkeypatch.setenv("VPP_VALIDATE_CERTS", "false")
    monkeypatch.setenv("VPP_CA_PATH", str(tmp_path / "ca.pem"))
    monkeypatch.setenv("VPP_TIMEOUT", "7")
    monkeypatch.setenv("VPP_RETRIES", "2")
    monkeypatch.setenv("VPP_EVENT_POLL_INTERVAL", "0.5")
    _code, answer = run_module(
        capsys, {}, lambda module: {"store_key_seen": module.params["store_key"] is not None, **echo_params(module)}
    )
    params = answer["params"]
    assert params["store"] == str(tmp_path / "vpp.db")
    assert params["api_url"] == "http://127.0.0.1:9/mdm/v2"
    assert params["validate_certs"] is False
    assert params["ca_path"] == str(tmp_path / "ca.pem")
    assert params["timeout"] == 7
    assert params["retries"] == 2
    assert params["event_poll_interval"] == 0.5
    assert answer["store_key_seen"] is True
    assert "env-store-key-value" not in json.dumps(answer)


def test_task_arguments_beat_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("VPP_API_URL", "http://127.0.0.1:9/from-env")
    monkeypatch.setenv("VPP_RETRIES", "9")
    answer = run_module(capsys, {"api_url": "http://127.0.0.1:9/from-task", "retries": 1}, echo_params)[1]
    assert answer["params"]["api_url"] == "http://127.0.0.1:9/from-task"
    assert answer["params"]["retries"] == 1


def test_module_options_are_merged_with_the_common_ones(capsys):
    spec = {"name": {"type": "str", "required": True}, "timeout": {"type": "int", "default": 99}}
    _code, answer = run_module(
        capsys, {"name": "Pages"}, lambda module: {"name": module.params["name"], **echo_params(module)}, spec
    )
    assert answer["name"] == "Pages"
    assert answer["params"]["timeout"] == 99  # the module's own definition wins
    assert answer["params"]["api_url"] == DEFAULT_API_URL
    assert common_argspec()["timeout"]["default"] == 30  # and the shared spec is left untouched


def test_missing_module_option_fails_before_running(capsys):
    code, answer = run_module(capsys, {}, echo_params, {"name": {"type": "str", "required": True}})
    assert code == 1
    assert answer["failed"] is True
    assert "name" in answer["msg"]


def test_vpp_error_becomes_a_failure_with_apples_numbers(capsys):
    def expired(module):
        raise TokenExpiredError("GET /client/config: token expired on 2026-05-01", error_number=9621, http_status=401)

    code, answer = run_module(capsys, {}, expired)
    assert code == 1
    assert answer["failed"] is True
    assert answer["error_number"] == 9621
    assert answer["http_status"] == 401
    assert answer["msg"].startswith("GET /client/config: token expired on 2026-05-01: download a new content token")


def test_unexpected_error_is_a_readable_failure_without_the_store_key(capsys):
    def buggy(module):
        raise ValueError("could not use key %s" % module.params["store_key"])

    code, answer = run_module(capsys, {"store_key": "very-secret-store-key"}, buggy)
    assert code == 1
    assert answer["msg"].startswith("unexpected error in mdm.vpp (ValueError): could not use key")
    assert "very-secret-store-key" not in json.dumps(answer)


def test_result_keys_are_returned_and_changed_is_kept(capsys):
    code, answer = run_module(capsys, {}, lambda module: {"changed": True, "tokens": ["hq"]})
    assert code == 0
    assert answer["changed"] is True
    assert answer["tokens"] == ["hq"]


def test_check_mode_is_visible_to_the_module(capsys):
    answer = run_module(capsys, {"_ansible_check_mode": True}, lambda module: {"check": module.check_mode})[1]
    assert answer["check"] is True


def test_store_opens_once_and_warns_about_a_generated_key(capsys, tmp_path, monkeypatch):
    # Record the warnings VPPModule gives: how ansible-core carries them into the answer depends on whether its
    # controller-side code was imported earlier in this process (other test files do), not on VPPModule.
    given = []
    monkeypatch.setattr(VPPModule, "warn", lambda self, message: given.append(message))

    def open_twice(module):
        first, second = module.open_store(create=True), module.store  # as vpp_token registering a token does
        return {"same": first is second, "key_file": first.key_file}

    code, answer = run_module(capsys, {"store": str(tmp_path / "vpp.db")}, open_twice)
    assert code == 0
    assert answer["same"] is True
    assert len([message for message in given if "store key was generated" in message]) == 1
    assert answer["key_file"] in given[0]


def test_client_uses_the_common_options_and_censors_its_token(capsys, tmp_path):
    token = "c2VjcmV0LWNvbnRlbnQtdG9rZW4tZm9yLXRoZS10ZXN0"

    def build(module):
        client = module.client_for(token)
        return {
            "api_url": client.api_url,
            "timeout": client.timeout,
            "retries": client.retries,
            "manager_id": client.manager_id == module.store.manager_id,
            "echo": "token was %s" % token,
            "stats": module.request_stats(),
        }

    open_store(str(tmp_path / "vpp.db")).close()  # only vpp_token creates a store
    args = {"store": str(tmp_path / "vpp.db"), "api_url": "http://127.0.0.1:9/mdm/v2/", "timeout": 4, "retries": 1}
    answer = run_module(capsys, args, build)[1]
    assert answer["api_url"] == "http://127.0.0.1:9/mdm/v2"
    assert (answer["timeout"], answer["retries"], answer["manager_id"]) == (4, 1, True)
    assert answer["stats"] == {"total": 0, "by_endpoint": {}}
    assert token not in json.dumps(answer)
