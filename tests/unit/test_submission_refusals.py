# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""submission.py: a malformed errorInfo never refuses the wrong user; the batch is halved instead."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import error_for
from ansible_collections.mdm.vpp.plugins.module_utils.submission import Hooks, refused_user_ids, submit_batches

ASSET = [{"adamId": "1", "pricingParam": "STDQ"}]
MALFORMED = {
    "not a dict": ["u-1"],
    "ids not a list": {"clientUserIds": "u-1"},  # iterated, its characters would name users "u", "-", "1"
    "ids a number": {"clientUserIds": 7},
    "ids a dict": {"clientUserIds": {"u-1": True}},
    "ids not strings": {"clientUserIds": [1, None, {"id": "u-1"}]},
}


class Recorder(Hooks):
    def __init__(self):
        self.refused_users = []

    def refused(self, batch, error):
        self.refused_users.extend(batch["client_user_ids"])


def refusing(unknown, error_info):
    """``send`` refusing any batch naming an unknown user with 9609 and the given (malformed) errorInfo."""
    sent = []

    def send(batch):
        sent.append(list(batch["client_user_ids"]))
        if set(batch["client_user_ids"]) & set(unknown):
            error = error_for(9609, "Unable to find the registered user.", http_status=400)
            error.error_info = error_info
            raise error
        return "event-%d" % len(sent)

    return send, sent


@pytest.mark.parametrize("error_info", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_errorinfo_names_nobody_and_the_batch_is_halved(error_info):
    error = error_for(9609, "Unable to find the registered user.", http_status=400)
    error.error_info = error_info
    assert refused_user_ids(error, ["u-1", "u", "-", "1", "7"]) == []
    send, sent = refusing({"u-2"}, error_info)
    hooks = Recorder()
    batch = {"assets": ASSET, "client_user_ids": ["u-1", "u-2", "u-3", "u-4"], "serial_numbers": []}
    records = submit_batches(send, "ASSOCIATE", [batch], hooks)
    assert hooks.refused_users == ["u-2"]  # found by halving, the other users licensed
    assert sorted(user for record in records for user in record["client_user_ids"]) == ["u-1", "u-3", "u-4"]
    assert sent[0] == ["u-1", "u-2", "u-3", "u-4"] and sent[1] == ["u-1", "u-2"]  # halved, not trusted


def test_string_ids_of_a_well_formed_errorinfo_are_still_trusted():
    error = error_for(9609, "Unable to find the registered user.", http_status=400)
    error.error_info = {"clientUserIds": ["u-3", 5]}
    assert refused_user_ids(error, ["u-1", "u-3", "5"]) == ["u-3"]
