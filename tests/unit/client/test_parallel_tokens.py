# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many tokens at once: the default concurrency follows the number of tokens, and their clients share connections."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.parallel import (
    PARALLEL_CEILING,
    check_parallel,
    default_parallel,
    for_each_token,
)
from ansible_collections.mdm.vpp.plugins.module_utils.transport import close_connection_pool, new_connection_pool
from tests.unit.client.conftest import BRANCH, HQ


@pytest.mark.parametrize(("tokens", "expected"), [(0, 1), (1, 1), (12, 12), (64, 64), (3000, PARALLEL_CEILING)])
def test_default_concurrency_is_one_per_token_up_to_the_ceiling(tokens, expected):
    assert default_parallel(tokens) == expected


def test_unset_parallel_runs_every_token_at_once():
    # ten calls that each wait for the other nine: they only finish if all ten run at the same time
    meeting = threading.Barrier(10, timeout=30)
    assert for_each_token(lambda item: (meeting.wait(), item)[1], range(10)) == list(range(10))


def test_a_parallel_below_one_is_refused_and_unset_is_accepted():
    check_parallel(None)
    with pytest.raises(ConfigurationError, match="parallel must be at least 1, got 0"):
        check_parallel(0)


def test_tokens_on_one_pool_take_turns_on_its_connections(sim, make_client):
    pool = new_connection_pool(6)
    try:
        clients = [make_client(HQ if index % 2 else BRANCH, pool=pool) for index in range(8)]
        for client in clients:
            client.client_config()
            client.close()  # the token is done: its connection goes back to the pool, not away
        assert sim.open_connections() == 1  # eight tokens, one after the other, on one keep-alive connection
    finally:
        close_connection_pool(pool)


def test_tokens_without_a_shared_pool_each_open_their_own(sim, make_client):
    clients = [make_client(HQ if index % 2 else BRANCH) for index in range(4)]
    for client in clients:
        client.client_config()
    assert sim.open_connections() == 4
