# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure decisions of deleting a token: the refusal without force, the forced warning, the diff."""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.token_dependents import (
    MAX_SHOWN,
    capped,
    describe_deployment,
    forced_removal_warning,
    has_dependents,
    removal_diff,
    removal_refusal,
    removal_view,
)


def _deployment(name, application="pages", action="install", members=3, licensed=2):
    return {
        "name": name,
        "application": application,
        "action": action,
        "collection_name": "c",
        "collection_type": "device",
        "members": members,
        "licensed": licensed,
    }


DEPENDENTS = {"applications": ["keynote", "pages"], "deployments": [_deployment("pages-ipads")], "assets": 5}


def test_capped_names_the_first_ones_then_how_many_more():
    assert capped(["a", "b"]) == "a, b"
    assert capped(["a", "b", "c"], limit=2) == "a, b and 1 more"
    assert capped("x%d" % i for i in range(MAX_SHOWN + 3)).endswith("x4 and 3 more")


def test_a_token_without_applications_is_deleted_without_asking():
    bare = {"applications": [], "deployments": [], "assets": 12}
    assert not has_dependents(bare) and not has_dependents(None)
    assert removal_refusal("hq", bare, force=False, revoke_on_delete=False) is None
    assert forced_removal_warning("hq", bare, check_mode=False, revoke_on_delete=False) is None


def test_applications_and_deployments_refuse_a_delete_without_force():
    refusal = removal_refusal("hq", DEPENDENTS, force=False, revoke_on_delete=False)
    assert isinstance(refusal, ConfigurationError)
    text = str(refusal)
    assert text.startswith(
        "token 'hq' is used by 2 application(s) (keynote, pages) and 1 deployment(s) (pages-ipads (install of "
        "pages, 3 member(s), 2 licensed)): deleting it would delete them too"
    )
    assert "uninstall deployment" in text and "state: absent" in text and "force: true" in text
    assert "stay assigned at Apple unless revoke_on_delete: true" in text
    with_revoke = str(removal_refusal("hq", DEPENDENTS, force=False, revoke_on_delete=True))
    assert "revoke_on_delete takes every revocable license of the location back at Apple" in with_revoke
    assert removal_refusal("hq", DEPENDENTS, force=True, revoke_on_delete=False) is None
    only_apps = {"applications": ["pages"], "deployments": [], "assets": 1}
    assert "used by 1 application(s) (pages): deleting" in str(removal_refusal("hq", only_apps, False, False))


def test_the_refusal_caps_long_lists():
    many = {
        "applications": ["app%02d" % i for i in range(12)],
        "deployments": [_deployment("d%02d" % i) for i in range(8)],
        "assets": 20,
    }
    text = str(removal_refusal("hq", many, force=False, revoke_on_delete=False))
    assert "12 application(s) (app00, app01, app02, app03, app04 and 7 more)" in text
    assert "8 deployment(s) (" in text and "d04 (install of pages, 3 member(s), 2 licensed) and 3 more)" in text
    assert "app05" not in text and "d05" not in text


def test_the_forced_warning_says_what_stays_at_apple():
    predicted = forced_removal_warning("hq", DEPENDENTS, check_mode=True, revoke_on_delete=False)
    assert predicted.startswith("would delete 2 application(s) (keynote, pages) and 1 deployment(s)")
    assert "with token 'hq': no license is reclaimed" in predicted
    done = forced_removal_warning("hq", DEPENDENTS, check_mode=False, revoke_on_delete=True)
    assert done.startswith("deleted 2 application(s)") and "takes every revocable license" in done


def test_view_and_diff_name_what_goes_without_collection_details():
    view = removal_view(DEPENDENTS)
    assert view == {
        "applications": ["keynote", "pages"],
        "deployments": [
            {"name": "pages-ipads", "application": "pages", "action": "install", "members": 3, "licensed": 2}
        ],
        "synced_assets": 5,
    }
    diff = removal_diff({"name": "hq", "fingerprint": "abc"}, DEPENDENTS)
    assert diff == {"before": dict(view, name="hq", fingerprint="abc"), "after": {}}
    assert describe_deployment(_deployment("x", action="uninstall", members=1, licensed=0)) == (
        "x (uninstall of pages, 1 member(s), 0 licensed)"
    )
