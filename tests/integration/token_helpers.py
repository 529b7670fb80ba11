# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers shared by the vpp_token and vpp_token_info integration tests."""

from __future__ import annotations

import contextlib
import json

from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store

OTHER_MANAGER = {"id": "d3b07384-other-mdm", "name": "Other MDM", "metadata": "Other MDM 9.1"}


@contextlib.contextmanager
def opened_store(ansible):
    """The store the plays of ``ansible`` use (its key file sits next to it), closed afterwards."""
    store = open_store(str(ansible.store))
    try:
        yield store
    finally:
        store.close()


def create_store(ansible):
    """Create the (empty) store of ``ansible``'s plays, as registering a first token would: only vpp_token
    creates a store, and never in check mode."""
    open_store(str(ansible.store)).close()


def stored_tokens(ansible):
    """Every stored token row (without secrets), to compare the store before and after a task."""
    if not ansible.store.exists():
        return []
    with opened_store(ansible) as store:
        return store.list_tokens()


def token_task(name, task_name=None, **options):
    """A ``mdm.vpp.vpp_token`` task; ``ignore_errors`` lets a play go on after an expected failure."""
    task = {"name": task_name or "token %s" % name, "mdm.vpp.vpp_token": dict(options, name=name)}
    return task


def refused(task):
    """The same task, allowed to fail so that later tasks of the play still run."""
    return dict(task, ignore_errors=True)


def posts(simulator, path="/mdm/v2/client/config"):
    """POST requests the simulator received on ``path``."""
    return [entry for entry in simulator.request_log() if entry["method"] == "POST" and entry["path"] == path]


def assert_no_secret(run, *secrets):
    """No token text in the results, the output or the errors of a run."""
    texts = (json.dumps(run.results), run.stdout, run.stderr)
    for secret in secrets:
        assert not any(secret in text for text in texts), "a content token leaked into the output"
