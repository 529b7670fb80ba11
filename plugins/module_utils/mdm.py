# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The organisation's MDM server: ``open_mdm`` builds the driver of its flavor on one ``transport.Transport``.

The drivers implement ``MDMClient`` (``mdm_classifier``): NanoMDM (``mdm_nanomdm``), NanoHUB (NanoMDM plus
KMFDDM's declarations, ``mdm_kmfddm``) and MicroMDM (``mdm_micromdm``). The API key is the HTTP Basic password
of the flavor's fixed user, set once on the transport's session; it is never in a message, a repr or a log.
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.mdm_classifier import MDMClassifier, MDMClient
from ansible_collections.mdm.vpp.plugins.module_utils.mdm_micromdm import MicroMDMClient
from ansible_collections.mdm.vpp.plugins.module_utils.mdm_nanomdm import NanoHUBClient, NanoMDMClient
from ansible_collections.mdm.vpp.plugins.module_utils.transport import Transport, new_session

__all__ = ["MDM_TYPES", "MDMClient", "open_mdm"]

DRIVERS = {"nanomdm": NanoMDMClient, "nanohub": NanoHUBClient, "micromdm": MicroMDMClient}
MDM_TYPES = ("nanomdm", "nanohub", "micromdm")
POOL_SIZE = 10


def open_mdm(mdm_type, url, api_key, validate_certs=True, ca_path=None, timeout=30, retries=5):
    """The ``MDMClient`` of ``mdm_type`` at ``url`` (already checked: https, or http to a loopback host)."""
    if mdm_type not in DRIVERS:
        raise ValueError("mdm_type must be one of %s, not %r" % (", ".join(MDM_TYPES), mdm_type))
    driver = DRIVERS[mdm_type]
    transport = Transport(
        MDMClassifier(driver.service_name, driver.definite),
        base_url=url,
        validate_certs=validate_certs,
        ca_path=ca_path,
        timeout=timeout,
        retries=retries,
        session=new_session(POOL_SIZE, "application/json"),
    )
    transport.session.auth = (driver.user, api_key)  # the one place the credentials are kept
    return driver(transport, url)
