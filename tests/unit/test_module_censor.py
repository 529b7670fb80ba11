# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VPPModule censors the content tokens of its clients from results, failures and warnings (``censored``)."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.mdm.vpp.plugins.module_utils.errors import AppleError
from ansible_collections.mdm.vpp.plugins.module_utils.module import NO_LOG_MASK, VPPModule, censored
from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store

TOKEN = "c2VjcmV0LWNvbnRlbnQtdG9rZW4tZm9yLXRoZS1jZW5zb3ItdGVzdA=="
OTHER = "b3RoZXItc2VjcmV0LWNvbnRlbnQtdG9rZW4tZm9yLXRoZS10ZXN0cw=="


def test_every_secret_is_masked_in_nested_strings_keys_and_lists():
    value = {"msg": "sent %s and %s" % (TOKEN, OTHER), TOKEN: [("x", TOKEN)], "n": 3, "short": "hq"}
    result = censored(value, {TOKEN, OTHER})
    assert TOKEN not in json.dumps(result) and OTHER not in json.dumps(result)
    assert result["msg"] == "sent %s and %s" % (NO_LOG_MASK, NO_LOG_MASK)
    assert result[NO_LOG_MASK] == [("x", NO_LOG_MASK)]
    assert (result["n"], result["short"]) == (3, "hq")


def test_no_secrets_or_only_empty_ones_leave_the_value_as_it_is():
    value = {"msg": "nothing secret"}
    assert censored(value, set()) is value
    assert censored(value, {""}) is value


def run_module(capsys, store_path, fn):
    args = {"store": store_path, "store_key": "censor test key", "api_url": "http://127.0.0.1:9/mdm/v2"}
    with patch_module_args(args), pytest.raises(SystemExit):
        VPPModule(argument_spec={}).run(fn)
    return json.loads(capsys.readouterr().out)


def test_a_failure_and_a_warning_naming_a_client_token_are_censored(capsys, tmp_path):
    warned = []

    def leaky(module):
        module.client_for(TOKEN)
        # what reaches AnsibleModule.warn (ansible-core's warning registry is process-wide: not read here)
        module.ansible_module.warn = warned.append
        module.warn("retrying with %s" % TOKEN)
        raise AppleError("Apple refused %s" % TOKEN, error_number=9603)

    open_store(str(tmp_path / "vpp.db"), key="censor test key").close()  # only vpp_token creates a store
    answer = run_module(capsys, str(tmp_path / "vpp.db"), leaky)
    assert answer["failed"] is True
    assert "Apple refused %s" % NO_LOG_MASK in answer["msg"]
    assert TOKEN not in json.dumps(answer)
    assert warned == ["retrying with %s" % NO_LOG_MASK]
