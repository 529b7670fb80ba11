# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit trail: ``list_audit`` (``vpp_audit_info``) reads what every sync and deployment recorded, newest first.

The filters are checked before the store is read (an unknown token or a malformed ``since`` changes nothing and says
what to give instead); the entries are the pure views of ``audit_facts.py``. Reads only: nothing is written.
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.audit_facts import check_limit, entry_view, parse_since
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.store import AUDIT_KINDS
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import to_timestamp, utc_now

__all__ = ["AUDIT_KINDS", "list_audit"]


def list_audit(module):
    """``vpp_audit_info``: the newest audit entries matching the filters, and whether older ones match too."""
    params, store = module.params, module.store
    limit = check_limit(params["limit"])
    since = parse_since(params["since"], utc_now())
    tokens = _known_tokens(store, params["tokens"])
    rows, more = store.list_audit(
        limit,
        tokens=tokens,
        kinds=params["kinds"] or None,
        adam_id=params["adam_id"],
        target_id=params["member"],
        run_id=params["run_id"],
        since=since,
    )
    return {
        "changed": False,
        "entries": [entry_view(row) for row in rows],
        "truncated": more,
        "since": to_timestamp(since),
    }


def _known_tokens(store, names):
    """The token ``names`` asked for (None: all), refusing the ones that are not registered."""
    if not names:
        return None
    names = list(dict.fromkeys(names))
    known = {row["name"] for row in store.list_tokens(names)}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigurationError(
            "token(s) %s not registered: there is no audit trail to read for them" % ", ".join(unknown),
            hint="check the names (mdm.vpp.vpp_token_info lists the registered tokens)",
        )
    return names
