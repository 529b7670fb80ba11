# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one version constant of module_utils follows galaxy.yml."""

from __future__ import annotations

import os

import yaml

from ansible_collections.mdm.vpp.plugins.module_utils import tokens
from ansible_collections.mdm.vpp.plugins.module_utils.version import COLLECTION_VERSION, USER_AGENT

GALAXY_YML = os.path.join(os.path.dirname(__file__), "..", "..", "galaxy.yml")


def test_collection_version_equals_galaxy_yml():
    with open(GALAXY_YML, encoding="utf-8") as handle:
        assert str(yaml.safe_load(handle)["version"]) == COLLECTION_VERSION


def test_user_agent_and_mdm_info_carry_that_version():
    assert USER_AGENT == "mdm.vpp/%s (+ansible collection)" % COLLECTION_VERSION
    assert tokens.COLLECTION_VERSION == COLLECTION_VERSION
