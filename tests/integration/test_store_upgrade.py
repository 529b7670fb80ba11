# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A store written by an older release: a real run upgrades it; check mode, which writes nothing, refuses it."""

from __future__ import annotations

import hashlib

from ansible_collections.mdm.vpp.plugins.module_utils.store import SCHEMA_VERSION, open_store
from tests.integration.token_helpers import opened_store, refused, token_task

HQ = "business-hq"


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_check_mode_refuses_an_older_store_and_a_real_run_upgrades_it(ansible, simulator):
    run = ansible.play([token_task("hq", token=simulator.tokens[HQ])])
    assert run.rc == 0, run.stdout
    with opened_store(ansible) as store, store.db.transaction():  # as the previous release left it
        store.db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION - 1),))
    before = digest(ansible.store)

    check = ansible.play([refused({"name": "info", "mdm.vpp.vpp_token_info": {}})], check=True)
    message = check.result("info")["msg"]
    assert check.status("info") == "failed" and "check mode cannot upgrade it" in message, message
    assert "version %d" % (SCHEMA_VERSION - 1) in message and "without check mode to upgrade" in message
    assert digest(ansible.store) == before  # the store file is untouched

    real = ansible.play([{"name": "info", "mdm.vpp.vpp_token_info": {}}])
    assert real.rc == 0, real.stdout
    assert [token["name"] for token in real.result("info")["tokens"]] == ["hq"]
    store = open_store(str(ansible.store))
    try:
        assert store.schema_version == SCHEMA_VERSION
    finally:
        store.close()
