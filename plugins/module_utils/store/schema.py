# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store's schema: the numbered migrations, the ``meta`` table (schema version, key material, manager id)
and the migration runner.
"""

from __future__ import annotations

import uuid

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import now_timestamp

# Each migration is a list of portable statements; {pk}, {bool}, {false}, {float} and {bigint} are column types
# filled in by the dialect. Never edit a shipped migration: add the next number.

_SCHEMA_V1 = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE tokens (
        id {pk},
        name TEXT NOT NULL UNIQUE,
        secret TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        description TEXT,
        categories TEXT NOT NULL DEFAULT '[]',
        apple_id TEXT,
        token_type TEXT,
        org_name TEXT,
        location_name TEXT,
        uid TEXT,
        country TEXT,
        website_url TEXT,
        default_platform TEXT,
        expires_at TEXT,
        status TEXT NOT NULL DEFAULT 'active',
        claimed {bool} NOT NULL DEFAULT {false},
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_sync_at TEXT,
        last_full_sync_at TEXT,
        assets_version TEXT,
        assignments_version TEXT,
        users_version TEXT)""",
    "CREATE INDEX tokens_by_uid ON tokens (uid)",
    """CREATE TABLE assets (
        token_id {bigint} NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
        adam_id TEXT NOT NULL,
        pricing_param TEXT NOT NULL,
        product_type TEXT,
        total_count {bigint} NOT NULL DEFAULT 0,
        assigned_count {bigint} NOT NULL DEFAULT 0,
        available_count {bigint} NOT NULL DEFAULT 0,
        retired_count {bigint} NOT NULL DEFAULT 0,
        device_assignable {bool} NOT NULL DEFAULT {false},
        revocable {bool} NOT NULL DEFAULT {false},
        platforms TEXT NOT NULL DEFAULT '[]',
        unlimited {bool} NOT NULL DEFAULT {false},
        updated_at TEXT NOT NULL,
        PRIMARY KEY (token_id, adam_id, pricing_param))""",
    """CREATE TABLE metadata (
        adam_id TEXT PRIMARY KEY,
        name TEXT,
        bundle_id TEXT,
        version TEXT,
        icon_url TEXT,
        platforms TEXT NOT NULL DEFAULT '[]',
        kind TEXT,
        updated_at TEXT NOT NULL)""",
    """CREATE TABLE assignments (
        token_id {bigint} NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
        adam_id TEXT NOT NULL,
        pricing_param TEXT NOT NULL,
        target_kind TEXT NOT NULL CHECK (target_kind IN ('user', 'device')),
        target_id TEXT NOT NULL,
        PRIMARY KEY (token_id, adam_id, pricing_param, target_kind, target_id))""",
    # Staging areas of full syncs: rows stream in page by page, the diff against the live table runs in SQL.
    # No foreign key on purpose: SQLite then clears a token's staged rows in one pass instead of collecting every
    # row id in memory (delete_token() clears them itself).
    """CREATE TABLE assignment_staging (
        token_id {bigint} NOT NULL,
        adam_id TEXT NOT NULL,
        pricing_param TEXT NOT NULL,
        target_kind TEXT NOT NULL,
        target_id TEXT NOT NULL,
        PRIMARY KEY (token_id, adam_id, pricing_param, target_kind, target_id))""",
    """CREATE TABLE users (
        token_id {bigint} NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
        client_user_id TEXT NOT NULL,
        email TEXT,
        managed_apple_id TEXT,
        status TEXT,
        invite_code TEXT,
        id_hash TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (token_id, client_user_id))""",
    """CREATE TABLE user_staging (
        token_id {bigint} NOT NULL,
        client_user_id TEXT NOT NULL,
        email TEXT,
        status TEXT,
        invite_code TEXT,
        id_hash TEXT,
        PRIMARY KEY (token_id, client_user_id))""",
    """CREATE TABLE applications (
        id {pk},
        name TEXT NOT NULL UNIQUE,
        token_id {bigint} NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
        adam_id TEXT NOT NULL,
        pricing_param TEXT NOT NULL,
        description TEXT,
        categories TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (token_id, adam_id, pricing_param))""",
    """CREATE TABLE deployments (
        id {pk},
        name TEXT NOT NULL UNIQUE,
        application_id {bigint} NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
        collection_name TEXT NOT NULL,
        collection_type TEXT NOT NULL CHECK (collection_type IN ('user', 'device')),
        action TEXT NOT NULL CHECK (action IN ('install', 'uninstall')),
        purpose TEXT NOT NULL,
        license_type TEXT CHECK (license_type IN ('user', 'device')),
        options TEXT NOT NULL DEFAULT '{{}}',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL)""",
    """CREATE TABLE deployment_members (
        deployment_id {bigint} NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
        member_id TEXT NOT NULL,
        device_user TEXT,
        license_type TEXT CHECK (license_type IN ('user', 'device')),
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'licensed', 'failed', 'untargeted', 'reclaimed')),
        error_number {bigint},
        error_message TEXT,
        event_id TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (deployment_id, member_id))""",
    """CREATE TABLE events (
        id {pk},
        token_id {bigint} NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
        event_id TEXT NOT NULL,
        deployment_id {bigint} REFERENCES deployments (id) ON DELETE SET NULL,
        event_type TEXT NOT NULL,
        request TEXT NOT NULL DEFAULT '{{}}',
        status TEXT NOT NULL DEFAULT 'PENDING',
        submitted_at TEXT NOT NULL,
        completed_at TEXT,
        result TEXT,
        UNIQUE (token_id, event_id))""",
    "CREATE INDEX events_by_status ON events (status, deployment_id)",
    """CREATE TABLE audit (
        id {pk},
        token_id {bigint} NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
        recorded_at TEXT NOT NULL,
        run_id TEXT,
        origin TEXT NOT NULL,
        kind TEXT NOT NULL,
        adam_id TEXT,
        pricing_param TEXT,
        target_kind TEXT,
        target_id TEXT,
        before TEXT,
        after TEXT)""",
    """CREATE TABLE locks (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        host TEXT NOT NULL,
        pid {bigint} NOT NULL,
        acquired_at TEXT NOT NULL,
        expires_at {float} NOT NULL)""",
)

_SCHEMA_V2 = (
    # Deployment reports show when each member last changed state.
    "ALTER TABLE deployment_members ADD COLUMN updated_at TEXT",
    # Revoking or reporting one user's / device's licenses looks assignments up by target.
    "CREATE INDEX assignments_by_target ON assignments (token_id, target_kind, target_id)",
    "CREATE INDEX audit_by_time ON audit (token_id, recorded_at)",
)

_SCHEMA_V3 = (
    # Syncs stage rows in temporary tables of their own connection (see _Snapshot): nothing staged is shared.
    "DROP TABLE assignment_staging",
    "DROP TABLE user_staging",
    # No query looks assignments up by target (deployments join on the whole key), and keeping this index cost
    # a third of the writes of a large sync: an index comes back with the first query that needs it.
    "DROP INDEX assignments_by_target",
)

# Serial numbers are compared and stored upper-case (vocabulary.normalize_serial). Stores of earlier versions may
# hold lower-case serials, from members lists or Apple: device assignments and the members of device collections
# are upper-cased, case duplicates merged (an assignment once; a member keeps its most advanced state, so a rerun
# neither reclaims nor licenses a device again because of its spelling). Client user ids are left as they are.
_DEVICE_ASSIGNMENT_TWIN = (
    "SELECT 1 FROM assignments o WHERE o.token_id = assignments.token_id AND o.adam_id = assignments.adam_id "
    "AND o.pricing_param = assignments.pricing_param AND o.target_kind = 'device' "
    "AND UPPER(o.target_id) = UPPER(assignments.target_id) AND o.target_id <> assignments.target_id "
    # the twin kept: the upper-case spelling, else the first in order
    "AND (o.target_id = UPPER(o.target_id) OR (assignments.target_id <> UPPER(assignments.target_id) "
    "AND o.target_id < assignments.target_id))"
)
_DEVICE_MEMBERS = "SELECT id FROM deployments WHERE collection_type = 'device'"
_STATE_RANK = (
    "(CASE %s.state WHEN 'licensed' THEN 0 WHEN 'pending' THEN 1 WHEN 'reclaimed' THEN 2 WHEN 'untargeted' THEN 3 "
    "ELSE 4 END)"
)
_SPELLING_RANK = "(CASE WHEN %s.member_id = UPPER(%s.member_id) THEN 0 ELSE 1 END)"
_MEMBER_TWIN = (
    "SELECT 1 FROM deployment_members o WHERE o.deployment_id = deployment_members.deployment_id "
    "AND UPPER(o.member_id) = UPPER(deployment_members.member_id) AND o.member_id <> deployment_members.member_id "
    # the twin kept: the most advanced state, then the upper-case spelling, then the first in order
    "AND ({o_state} < {m_state} OR ({o_state} = {m_state} AND ({o_spelling} < {m_spelling} "
    "OR ({o_spelling} = {m_spelling} AND o.member_id < deployment_members.member_id))))"
).format(
    o_state=_STATE_RANK % "o",
    m_state=_STATE_RANK % "deployment_members",
    o_spelling=_SPELLING_RANK % ("o", "o"),
    m_spelling=_SPELLING_RANK % ("deployment_members", "deployment_members"),
)
_SCHEMA_V4 = (
    "DELETE FROM assignments WHERE target_kind = 'device' AND EXISTS (%s)" % _DEVICE_ASSIGNMENT_TWIN,
    "UPDATE assignments SET target_id = UPPER(target_id) WHERE target_kind = 'device' "
    "AND target_id <> UPPER(target_id)",
    "DELETE FROM deployment_members WHERE deployment_id IN (%s) AND EXISTS (%s)" % (_DEVICE_MEMBERS, _MEMBER_TWIN),
    "UPDATE deployment_members SET member_id = UPPER(member_id) WHERE deployment_id IN (%s) "
    "AND member_id <> UPPER(member_id)" % _DEVICE_MEMBERS,
)


def added_text_columns(table, columns):
    """A migration step adding the TEXT ``columns`` to ``table``, each only when missing (a store whose version
    mark was set back, as the upgrade tests do, or a migration run twice, keeps working)."""

    def add(db):
        present = {column[0] for column in db.execute("SELECT * FROM %s WHERE 1 = 0" % table).description}
        for column in columns:
            if column not in present:
                db.execute("ALTER TABLE %s ADD COLUMN %s TEXT" % (table, column))

    return add


# What the organisation's MDM did for each member: the enrollment its commands go to, the command (or
# declaration) last sent and the device's answer; and the answers already applied (a webhook may deliver one
# twice: applied once).
_SCHEMA_V5 = (
    added_text_columns("deployment_members", ("enrollment_id", "install_state", "command_uuid", "install_error")),
    "CREATE INDEX IF NOT EXISTS members_by_command ON deployment_members (command_uuid)",
    """CREATE TABLE IF NOT EXISTS mdm_answers (
        id {pk},
        command_uuid TEXT NOT NULL,
        enrollment_id TEXT NOT NULL,
        status TEXT NOT NULL,
        received_at TEXT NOT NULL,
        UNIQUE (command_uuid, enrollment_id, status))""",
)

# Apple's notifications (issue 17): each token's webhook settings (the shared secret encrypted like the content
# token; the types subscribed), and the notifications already applied (Apple may deliver one twice: applied once).
_SCHEMA_V6 = (
    added_text_columns("tokens", ("notification_url", "notification_secret", "notification_types")),
    """CREATE TABLE IF NOT EXISTS apple_notifications (
        id {pk},
        token_id {bigint} NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
        notification_id TEXT NOT NULL,
        notification_type TEXT NOT NULL,
        event_id TEXT,
        received_at TEXT NOT NULL,
        UNIQUE (token_id, notification_id))""",
    # the members an event was sent for, when Apple's notification of its outcome arrives
    "CREATE INDEX IF NOT EXISTS members_by_event ON deployment_members (deployment_id, event_id)",
    # an ASSET_MANAGEMENT notification that came before its event was recorded, kept for the run that records it
    added_text_columns("apple_notifications", ("kept",)),
    "CREATE INDEX IF NOT EXISTS apple_notifications_by_event ON apple_notifications (token_id, event_id)",
)

MIGRATIONS = (
    (1, "initial schema", _SCHEMA_V1),
    (2, "member change times, assignment lookups by target, audit by time", _SCHEMA_V2),
    (3, "sync staging in temporary tables, no unused index on assignments by target", _SCHEMA_V3),
    (4, "serial numbers upper-case in device assignments and device collections, case duplicates merged", _SCHEMA_V4),
    (5, "members' enrollments and install states, MDM answers applied", _SCHEMA_V5),
    (6, "tokens' notification settings, Apple notifications applied", _SCHEMA_V6),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def meta_value(db, key):
    """The value of ``key`` in the ``meta`` table, or None."""
    return db.scalar("SELECT value FROM meta WHERE key = ?", (key,))


def set_meta(db, key, value):
    """Set ``key`` of the ``meta`` table to ``value``."""
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def schema_version(db):
    """The schema version of the database (0 for an empty one)."""
    if not db.dialect.table_exists(db, "meta"):
        return 0
    return int(meta_value(db, "schema_version") or 0)


def migrate(db, target, migrations=MIGRATIONS, supported=SCHEMA_VERSION, upgrade=True):
    """Run the ``migrations`` the database lacks, up to version ``target``, in one write transaction.

    A database of a version above ``supported`` (a newer collection's) is refused. A new database also gets its
    manager identity and creation time. With ``upgrade=False`` (check mode, which writes nothing) an existing
    store of an older version is refused instead of migrated.
    """
    if schema_version(db) >= target:
        refuse_newer_schema(db, schema_version(db), supported)
        return
    if not upgrade and schema_version(db) > 0:
        raise StoreError(
            "the store at %s has schema version %d; this release of mdm.vpp uses version %d, and check mode "
            "cannot upgrade it (check mode writes nothing)" % (db.dialect.location, schema_version(db), target),
            hint="run any mdm.vpp module once without check mode to upgrade the store (back it up first if you may "
            "go back to the older release), then check again",
        )
    with db.transaction():
        current = schema_version(db)  # again, under the write lock: another process may have migrated
        refuse_newer_schema(db, current, supported)
        for version, _description, statements in migrations:
            if current < version <= target:
                for statement in statements:
                    if callable(statement):  # a step that looks at the schema first
                        statement(db)
                    else:
                        db.execute(statement.format(**db.dialect.types))
                set_meta(db, "schema_version", str(version))
        if current == 0:
            set_meta(db, "manager_id", str(uuid.uuid4()))
            set_meta(db, "created_at", now_timestamp())


def refuse_newer_schema(db, version, supported=SCHEMA_VERSION):
    """Refuse a store whose schema ``version`` is above the ``supported`` one: a newer collection wrote it."""
    if version > supported:
        raise StoreError(
            "store %s has schema version %d, newer than this collection supports (%d)"
            % (db.dialect.location, version, supported),
            hint="upgrade the mdm.vpp collection on this controller",
        )
