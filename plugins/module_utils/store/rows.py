# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store's rows as values: field tuples, column codecs (JSON, booleans, times), field checks and batching.

Pure code: nothing here touches a connection.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import to_timestamp
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import TARGET_KINDS, USER, stored_assignment_key

BATCH_SIZE = 1000

TOKEN_FIELDS = (
    "description",
    "categories",
    "apple_id",
    "token_type",
    "org_name",
    "location_name",
    "uid",
    "country",
    "website_url",
    "default_platform",
    "expires_at",
    "status",
    "claimed",
)
ASSET_FIELDS = (
    "product_type",
    "total_count",
    "assigned_count",
    "available_count",
    "retired_count",
    "device_assignable",
    "revocable",
    "platforms",
    "unlimited",
)
COUNT_FIELDS = ("total_count", "assigned_count", "available_count", "retired_count")
METADATA_FIELDS = ("name", "bundle_id", "version", "icon_url", "platforms", "kind")
USER_FIELDS = ("email", "status", "invite_code", "id_hash")
MEMBER_FIELDS = (
    "device_user",
    "license_type",
    "state",
    "error_number",
    "error_message",
    "event_id",
    "enrollment_id",
    "install_state",
    "command_uuid",
    "install_error",
)
APPLICATION_FIELDS = ("description", "categories")
DEPLOYMENT_FIELDS = ("collection_name", "collection_type", "action", "purpose", "license_type", "options")

JSON_COLUMNS = frozenset(("categories", "platforms", "options", "request", "result", "before", "after"))
BOOL_COLUMNS = frozenset(("claimed", "device_assignable", "revocable", "unlimited"))


def encode(column, value):
    """``value`` as column ``column`` stores it: JSON columns as text, datetimes as the store's UTC text."""
    if column in JSON_COLUMNS and value is not None:
        return json.dumps(value, sort_keys=True)
    if isinstance(value, datetime):
        return to_timestamp(value)
    return value


def decode(column, value):
    """A stored value of column ``column`` as the store returns it: JSON decoded, booleans as ``bool``."""
    if value is None:
        return None
    if column in JSON_COLUMNS:
        return json.loads(value)
    if column in BOOL_COLUMNS:
        return bool(value)
    return value


def row_dict(cursor, row):
    """A fetched row as a dictionary of decoded values, keyed by column name."""
    return {column[0]: decode(column[0], value) for column, value in zip(cursor.description, row, strict=True)}


def stored_values(cursor, row):
    """A row's values as stored, booleans as ``bool`` whatever the engine keeps them as."""
    return tuple(
        bool(value) if column[0] in BOOL_COLUMNS and value is not None else value
        for column, value in zip(cursor.description, row, strict=True)
    )


def check_fields(kind, fields, allowed):
    """Refuse (``TypeError``) fields of a ``kind`` row that are not in ``allowed``: a caller's programming error."""
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise TypeError("unknown %s field(s): %s" % (kind, ", ".join(unknown)))


def check_choice(label, value, choices):
    """Refuse (``StoreError``) a ``value`` of ``label`` that is not one of ``choices``."""
    if value not in choices:
        raise StoreError("%s must be one of %s, got %r" % (label, ", ".join(choices), value))


def batches(rows, size=BATCH_SIZE):
    """Split any iterable into lists of at most ``size`` items without materialising it."""
    rows = iter(rows)
    while batch := list(itertools.islice(rows, size)):
        yield batch


def checked_assignment_key(row):
    """(adam_id, pricing_param, target_kind, target_id) of an assignment dictionary, its target kind checked."""
    kind = row["target_kind"]
    if kind not in TARGET_KINDS:
        raise StoreError("assignment target_kind must be %s, got %r" % (" or ".join(TARGET_KINDS), kind))
    return stored_assignment_key(row)


def user_state(row):
    """The ``USER_FIELDS`` of a user row: what an audit entry of a user change records."""
    return {name: row.get(name) for name in USER_FIELDS}


def user_audit_key(client_user_id):
    """The audit key (adam_id, pricing_param, target_kind, target_id) of a change of user ``client_user_id``."""
    return (None, None, USER, client_user_id)


def asset_selection(tokens=None, **columns):
    """The ``WHERE`` clause (with its leading space, or empty) and parameters selecting synced assets by token
    names (``t.name``) and exact values of asset columns (``a.<column>``, None: any); None when ``tokens`` is an
    empty list, which nothing matches."""
    clauses, params = [], []
    if tokens is not None:
        tokens = list(tokens)
        if not tokens:
            return None
        clauses.append("t.name IN (%s)" % ", ".join("?" * len(tokens)))
        params.extend(tokens)
    for column, value in columns.items():
        if value is not None:
            clauses.append("a.%s = ?" % column)
            params.append(str(value))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params
