# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state store: the only code in the collection that speaks SQL.

``open_store()`` returns a ``Store``. Its public methods are the contract every backend implements (SQLite
today, PostgreSQL next): they take and return plain values and dictionaries, never cursors or SQL. Everything
that differs between database engines (connecting, placeholders, column types, null-safe comparison, starting
a write transaction, the per-token lock) lives in a small dialect object; the SQL in ``Store`` is portable.

Conventions of the returned dictionaries: times are ISO 8601 UTC strings, JSON columns are decoded, booleans are
``bool``, internal row ids are never exposed (rows are named by token name, application name, deployment name),
and a token's secret is never part of a row (``get_token_secret()`` is the one door to it).

A ``Store`` may be shared by threads: each thread gets its own connection. Bulk writes are transactional; a
process killed in the middle of one leaves the previous consistent state.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import itertools
import json
import os
import secrets
import socket
import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime

try:
    from cryptography.fernet import Fernet, InvalidToken
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - cryptography ships with ansible-core
    HAS_CRYPTOGRAPHY = False

from ansible_collections.mdm.vpp.plugins.module_utils.errors import LockTimeoutError, StoreError, StoreKeyError

ENV_STORE = "VPP_STORE"
ENV_STORE_KEY = "VPP_STORE_KEY"
DEFAULT_STORE_PATH = "~/.local/share/mdm.vpp/vpp.db"
SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file

BATCH_SIZE = 1000
DEFAULT_BUSY_TIMEOUT = 60.0
DEFAULT_LOCK_TIMEOUT = 300.0
# A lock owner that is alive keeps its lock this long unless it renews it; a dead one on this host loses it at once.
DEFAULT_LOCK_LEASE = 3600.0

TARGET_KINDS = ("user", "device")
ACTIONS = ("install", "uninstall")
MEMBER_STATES = ("pending", "licensed", "failed", "untargeted", "reclaimed")
FINISHED_EVENT_STATES = ("COMPLETE", "FAILED")
INTENT_STATUS = "SENDING"  # an event row recorded before its request was sent (see Store.record_intent)
AUDIT_KINDS = (
    "assignment_added",
    "assignment_removed",
    "user_added",
    "user_changed",
    "user_removed",
    "asset_count_changed",
)

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
# Apple's statuses of a user who can hold licenses (the others are retired records of the same clientUserId).
ACTIVE_USER_STATUSES = ("Registered", "Associated")
MEMBER_FIELDS = ("device_user", "license_type", "state", "error_number", "error_message", "event_id")
APPLICATION_FIELDS = ("description", "categories")
DEPLOYMENT_FIELDS = ("collection_name", "collection_type", "action", "purpose", "license_type", "options")

_ASSET_DEFAULTS = {"platforms": [], "device_assignable": False, "revocable": False, "unlimited": False,
                   "total_count": 0, "assigned_count": 0, "available_count": 0, "retired_count": 0}  # fmt: skip
_JSON_COLUMNS = frozenset(("categories", "platforms", "options", "request", "result", "before", "after"))
_BOOL_COLUMNS = frozenset(("claimed", "device_assignable", "revocable", "unlimited"))

_CANARY = b"mdm.vpp store key canary"
_SCRYPT_PARAMS = {"n": 2**14, "r": 8, "p": 1}


# --- schema migrations ----------------------------------------------------------------------------------------
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

MIGRATIONS = (
    (1, "initial schema", _SCHEMA_V1),
    (2, "member change times, assignment lookups by target, audit by time", _SCHEMA_V2),
    (3, "sync staging in temporary tables, no unused index on assignments by target", _SCHEMA_V3),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


# --- small pure helpers ---------------------------------------------------------------------------------------


def utc_now():
    """Now as an ISO 8601 UTC string, the one time format of the store."""
    return to_timestamp(datetime.now(UTC))


def to_timestamp(value):
    """A datetime (aware, or naive meaning UTC) or an ISO string as the store's ISO 8601 UTC text."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _encode(column, value):
    if column in _JSON_COLUMNS and value is not None:
        return json.dumps(value, sort_keys=True)
    if isinstance(value, datetime):
        return to_timestamp(value)
    return value


def _decode(column, value):
    if value is None:
        return None
    if column in _JSON_COLUMNS:
        return json.loads(value)
    if column in _BOOL_COLUMNS:
        return bool(value)
    return value


def _check_fields(kind, fields, allowed):
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise TypeError("unknown %s field(s): %s" % (kind, ", ".join(unknown)))


def _check_choice(label, value, choices):
    if value not in choices:
        raise StoreError("%s must be one of %s, got %r" % (label, ", ".join(choices), value))


def _batches(rows, size=BATCH_SIZE):
    """Split any iterable into lists of at most ``size`` items without materialising it."""
    rows = iter(rows)
    while batch := list(itertools.islice(rows, size)):
        yield batch


def _assignment_key(row):
    """(adam_id, pricing_param, target_kind, target_id) of an assignment dictionary, validated."""
    kind = row["target_kind"]
    if kind not in TARGET_KINDS:
        raise StoreError("assignment target_kind must be user or device, got %r" % (kind,))
    return (str(row["adam_id"]), row.get("pricing_param") or "STDQ", kind, str(row["target_id"]))


def _is_active(user_values):
    """Whether staged user values (``_user_values``) are those of an active user."""
    return user_values[1 + USER_FIELDS.index("status")] in ACTIVE_USER_STATUSES


def _user_values(row):
    return (row["client_user_id"],) + tuple(row.get(name) for name in USER_FIELDS)


def _counts(row):
    return {name: row.get(name) for name in COUNT_FIELDS} if row else None


def asset_diff(before_rows, after_rows):
    """Pure diff of two asset lists keyed by (adam_id, pricing_param): added, changed (with count deltas), removed."""
    before = {(row["adam_id"], row["pricing_param"]): row for row in before_rows}
    after = {(row["adam_id"], row["pricing_param"]): row for row in after_rows}
    diff = {"added": [], "changed": [], "removed": []}
    for key in sorted(after.keys() - before.keys()):
        diff["added"].append(after[key])
    for key in sorted(before.keys() - after.keys()):
        diff["removed"].append(before[key])
    for key in sorted(before.keys() & after.keys()):
        old, new = before[key], after[key]
        if any(old.get(name) != new.get(name) for name in ASSET_FIELDS):
            delta = {name: (new.get(name) or 0) - (old.get(name) or 0) for name in COUNT_FIELDS}
            diff["changed"].append(
                {"adam_id": key[0], "pricing_param": key[1], "before": old, "after": new, "delta": delta}
            )
    return diff


def _normalise_asset(row):
    values = {"adam_id": str(row["adam_id"]), "pricing_param": row.get("pricing_param") or "STDQ"}
    _check_fields("asset", set(row) - {"adam_id", "pricing_param"}, ASSET_FIELDS)
    for name in ASSET_FIELDS:
        value = row.get(name)
        values[name] = _ASSET_DEFAULTS.get(name) if value is None else value
    return values


# --- location and key material ---------------------------------------------------------------------------------


def resolve_location(location=None):
    """The store location to use: the argument, else ``VPP_STORE``, else the per-user default path."""
    location = location or os.environ.get(ENV_STORE) or DEFAULT_STORE_PATH
    return str(location)


def _sqlite_path(location):
    """The absolute file path of a SQLite location (a plain path or ``sqlite:///abs/path``)."""
    if location.startswith("sqlite://"):
        path = location[len("sqlite://") :]
        if not path.startswith("/"):
            raise StoreError(
                "store location %r is not a valid SQLite URL" % location,
                hint="write sqlite:///absolute/path/vpp.db (three slashes) or give a plain file path",
            )
        return path
    return os.path.abspath(os.path.expanduser(location))


def _derive_fernet(passphrase, salt):
    kdf = Scrypt(salt=salt, length=32, **_SCRYPT_PARAMS)
    return Fernet(base64.urlsafe_b64encode(kdf.derive(passphrase.encode("utf-8"))))


def _read_key_file(path):
    try:
        with open(path, encoding="utf-8") as handle:
            key = handle.read().strip()
    except OSError as exc:
        raise StoreKeyError("cannot read the store key file %s: %s" % (path, exc.strerror)) from None
    if not key:
        raise StoreKeyError("the store key file %s is empty" % path)
    return key


def _create_key_file(path):
    """Write a fresh random key to ``path`` (mode 0600) unless another process just did; return (key, created)."""
    key = secrets.token_urlsafe(32)
    temporary = "%s.%s.tmp" % (path, uuid.uuid4().hex)
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            # link() never replaces: when two processes race, the first key file wins and both use it.
            os.link(temporary, path)
        except FileExistsError:
            return _read_key_file(path), False
    except OSError as exc:
        raise StoreKeyError(
            "cannot create the store key file %s: %s" % (path, exc.strerror),
            hint="pass store_key (or VPP_STORE_KEY), or make the store directory writable",
        ) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    return key, True


def missing_store(location):
    """The refusal of every module but ``vpp_token`` (registering) when the store does not exist yet."""
    return StoreError(
        "no store at %s: register a token with mdm.vpp.vpp_token first" % location,
        hint="check the store option (or VPP_STORE) for a typo; only vpp_token creates a store, never in check mode",
    )


def check_sqlite_file(path):
    """Refuse a store file that is empty or does not start with SQLite's header: never initialise it silently."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(
            "cannot read the store %s: %s" % (path, exc.strerror or exc),
            hint="make the store file readable, or choose another location (store / VPP_STORE)",
        ) from None
    if header != SQLITE_HEADER:
        raise StoreError(
            "store %s is empty or not an SQLite database" % path, hint="restore it from a backup or move it away"
        )


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- dialects ---------------------------------------------------------------------------------------------------


class SQLiteDialect:
    """Everything SQLite-specific: the file, its pragmas, types, ``BEGIN IMMEDIATE`` and the lock-row lock."""

    name = "sqlite"
    types = {"pk": "INTEGER PRIMARY KEY AUTOINCREMENT", "bool": "INTEGER", "false": "0", "float": "REAL",
             "bigint": "INTEGER"}  # fmt: skip
    errors = (sqlite3.Error,)

    def __init__(self, location, busy_timeout=DEFAULT_BUSY_TIMEOUT):
        self.path = _sqlite_path(location)
        self.location = self.path
        self.busy_timeout = busy_timeout
        self.key_file = self.path + ".key"

    def sql(self, text):
        """Statements are written with ``?`` placeholders, SQLite's own style."""
        return text

    def prepare(self, create=True):
        """Create the private directory and the 0600 database file before SQLite touches them (``create``), else
        refuse a missing store; refuse a dangling symlink, and a file that is empty or not an SQLite database."""
        if os.path.islink(self.path) and not os.path.exists(self.path):
            raise StoreError(
                "store %s is a symbolic link to %s, which does not exist" % (self.path, os.readlink(self.path)),
                hint="give the path of the store itself with the store option or VPP_STORE, or remove the link",
            )
        if os.path.exists(self.path):
            check_sqlite_file(self.path)
            return
        if not create:
            raise missing_store(self.path)
        directory = os.path.dirname(self.path)
        try:
            if not os.path.isdir(directory):
                os.makedirs(directory, mode=0o700, exist_ok=True)
                os.chmod(directory, 0o700)
            self._create_database_file()
        except OSError as exc:
            # makedirs says only "File exists" when a file stands where the store's directory should be
            reason = "%s is a file, not a directory" % directory if os.path.isfile(directory) else exc.strerror
            raise StoreError(
                "cannot create the store %s: %s" % (self.path, reason or exc),
                hint="choose a writable location with the store option or VPP_STORE",
            ) from None

    def _create_database_file(self):
        """Put a 0600 SQLite file (header written, no tables yet) at the path in one step: another process never
        sees an empty file there, which the next open refuses as damaged. When two create at once, the first wins."""
        temporary = "%s.%s.tmp" % (self.path, uuid.uuid4().hex)
        try:
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            try:
                conn = sqlite3.connect(temporary)
                conn.execute("PRAGMA journal_mode = WAL")  # writes the header (and WAL mode) into the file
                conn.close()
            except sqlite3.Error as exc:
                raise OSError(str(exc)) from None
            with contextlib.suppress(FileExistsError):
                os.link(temporary, self.path)  # never replaces
        finally:
            for leftover in (temporary, temporary + "-wal", temporary + "-shm"):
                with contextlib.suppress(OSError):
                    os.unlink(leftover)

    def connect(self):
        """A connection in autocommit mode (transactions are explicit), WAL, foreign keys on."""
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = %d" % int(self.busy_timeout * 1000))
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL is crash-safe in WAL mode (a killed process never corrupts); only power loss may drop the
            # last commits.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            # A large sync merges a million rows into big indexes in one transaction: a checkpoint every 40 MiB
            # of WAL instead of every 4 MiB, and an 8 MiB page cache (also the sorter's memory) instead of 2 MiB
            # (docs/BENCHMARKS.md). Both are upper bounds, used on demand: memory stays flat at any size.
            conn.execute("PRAGMA cache_size = -8192")
            conn.execute("PRAGMA wal_autocheckpoint = 10000")
            # Sync staging tables are temporary, kept in a file (deleted on close) past 4 MiB of cache: they are
            # only appended to, then read in one pass.
            conn.execute("PRAGMA temp_store = FILE")
            conn.execute("PRAGMA temp.cache_size = -4096")
        except sqlite3.Error as exc:
            raise self.translate_error(exc) from None
        return conn

    def begin(self, conn):
        # IMMEDIATE takes the write lock up front, so busy_timeout applies instead of a failed lock upgrade later.
        conn.execute("BEGIN IMMEDIATE")

    def begin_private(self, conn):
        # deferred: writing only the temp database never locks the store's file
        conn.execute("BEGIN")

    def open_cursor(self, conn, sql, params):
        """A cursor for ``Store._stream()``: SQLite steps through the result as it is fetched."""
        return conn.execute(sql, params)

    def table_names(self, store):
        return [row["name"] for row in store._fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")]  # fmt: skip

    def continue_ids_after_max(self, store, table):
        """Nothing to do: AUTOINCREMENT already continues after the largest id ever inserted."""

    def table_exists(self, store, table):
        return store._scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)) > 0

    def differs(self, left, right):
        """Null-safe inequality."""
        return "%s IS NOT %s" % (left, right)

    def translate_error(self, exc):
        text = str(exc)
        if "not a database" in text or "malformed" in text:
            hint = "the file is damaged or is not an mdm.vpp store: restore it from a backup or move it away"
        elif "locked" in text or "busy" in text:
            hint = "another process kept the store busy; run again when it has finished"
        elif "readonly" in text or "unable to open" in text or "disk I/O" in text:
            hint = "make the store file and its directory writable, or choose another location (store / VPP_STORE)"
        else:
            hint = None
        return StoreError("store %s: %s" % (self.path, text), hint=hint)

    def try_lock(self, store, name, owner, lease):
        """Take the lock row of ``name`` in one short write transaction; return the live holder when refused."""
        now = time.time()
        host = socket.gethostname()
        with store.transaction():
            holder = store._fetch_one(
                "SELECT owner, host, pid, acquired_at, expires_at FROM locks WHERE name = ?", (name,)
            )
            if holder and not self._is_stale(holder, host, now):
                return holder
            write_lock_row(store, name, owner, now + lease)
        return None

    def renew_lock(self, store, name, owner, lease):
        with store.transaction():
            store._execute(
                "UPDATE locks SET expires_at = ? WHERE name = ? AND owner = ?", (time.time() + lease, name, owner)
            )

    def unlock(self, store, name, owner):
        delete_lock_row(store, name, owner)

    @staticmethod
    def _is_stale(holder, host, now):
        if holder["expires_at"] < now:
            return True
        return holder["host"] == host and not _pid_alive(holder["pid"])


def write_lock_row(store, name, owner, expires_at):
    """Record ``owner`` (this process) as the holder of token lock ``name``; call it inside a transaction."""
    store._execute(
        "INSERT INTO locks (name, owner, host, pid, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, host = excluded.host, "
        "pid = excluded.pid, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at",
        (name, owner, socket.gethostname(), os.getpid(), utc_now(), expires_at),
    )


def delete_lock_row(store, name, owner):
    """Forget ``owner``'s row of token lock ``name`` (a row another owner took over stays)."""
    with store.transaction():
        store._execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))


def _dialect_for(location, busy_timeout):
    scheme = location.split("://", 1)[0].lower() if "://" in location else ""
    if scheme in ("postgresql", "postgres"):
        # Imported here: only PostgreSQL users need psycopg, and store_postgres builds on this module.
        from ansible_collections.mdm.vpp.plugins.module_utils.store.dialects.postgresql import PostgreSQLDialect

        return PostgreSQLDialect(location, busy_timeout)
    if scheme not in ("", "sqlite"):
        raise StoreError(
            "unsupported store location scheme %r" % scheme,
            hint="give a file path, sqlite:///absolute/path/vpp.db or a postgresql:// DSN",
        )
    return SQLiteDialect(location, busy_timeout)


def open_store(location=None, key=None, busy_timeout=DEFAULT_BUSY_TIMEOUT, migrate_to=None, create=True):
    """Open (creating and upgrading as needed) the store at ``location`` and unlock it with ``key``.

    ``create=False`` (every module but ``vpp_token`` registering, and check mode) refuses a store that does not
    exist yet, or a database without the store's schema, and writes nothing (no file, key file nor directory).

    ``location``: a file path, ``sqlite:///abs/path``, or a ``postgresql://`` DSN; default ``VPP_STORE``, else
    ``~/.local/share/mdm.vpp/vpp.db``. ``key``: the passphrase protecting token secrets; default
    ``VPP_STORE_KEY``; for a SQLite store without one, a random key is kept in ``<db>.key`` (created on first use,
    see ``Store.key_generated`` / ``Store.key_file``). ``migrate_to`` stops migrations at that schema version
    (tooling and upgrade tests only).
    """
    if not HAS_CRYPTOGRAPHY:
        raise StoreError(
            "the store needs the Python library cryptography to encrypt token secrets",
            hint="install it on the controller (pip install cryptography)",
        )
    dialect = _dialect_for(resolve_location(location), busy_timeout)
    key = key or os.environ.get(ENV_STORE_KEY) or None  # an empty key is no key
    return Store(dialect, key, migrate_to=migrate_to, create=create)


# --- the store ----------------------------------------------------------------------------------------------------


class Store:
    """The state store. Obtain one with ``open_store()``; use it as a context manager or call ``close()``."""

    def __init__(self, dialect, key, migrate_to=None, create=True):
        self._dialect = dialect
        self._create = create
        self.location = dialect.location
        self.key_file = None
        self.key_generated = False
        self._local = threading.local()
        self._connections = []
        self._connections_guard = threading.Lock()
        self._fernet = None
        dialect.prepare(create)
        try:
            if not create and (self.schema_version == 0 or self._meta_value("canary") is None):
                raise missing_store(self.location)  # an empty database (PostgreSQL) or a half-created store
            self._migrate(SCHEMA_VERSION if migrate_to is None else migrate_to)
            self._unlock(key)
            self.manager_id = self._meta_value("manager_id")
        except BaseException:
            self.close()
            raise

    def __repr__(self):
        return "<Store %s %s>" % (self._dialect.name, self.location)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        """Close every connection this store opened (in any thread)."""
        with self._connections_guard:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(Exception):
                conn.close()
        self._local = threading.local()

    # -- connection, statements, transactions --------------------------------------------------------------------

    @property
    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._dialect.connect()
            self._local.conn = conn
            self._local.depth = 0
            with self._connections_guard:
                self._connections.append(conn)
        return conn

    @contextlib.contextmanager
    def _translated_errors(self):
        """Turn the driver's errors into ``StoreError`` (what failed, why, what to do), never a driver traceback."""
        try:
            yield
        except self._dialect.errors as exc:
            raise self._dialect.translate_error(exc) from None

    def _execute(self, sql, params=()):
        with self._translated_errors():
            return self._conn.execute(self._dialect.sql(sql), params)

    def _executemany(self, sql, rows):
        with self._translated_errors():
            return self._conn.executemany(self._dialect.sql(sql), rows)

    def _fetch_all(self, sql, params=()):
        cursor = self._execute(sql, params)
        with self._translated_errors():
            return [_row_dict(cursor, row) for row in cursor.fetchall()]

    def _fetch_one(self, sql, params=()):
        cursor = self._execute(sql, params)
        with self._translated_errors():
            row = cursor.fetchone()
        return None if row is None else _row_dict(cursor, row)

    def _scalar(self, sql, params=()):
        cursor = self._execute(sql, params)
        with self._translated_errors():
            row = cursor.fetchone()
        return None if row is None else row[0]

    def _stream(self, sql, params=(), make_row=None):
        """Rows as dictionaries (or ``make_row(cursor, row)``), fetched in batches so memory stays flat.

        Other statements may run on the same connection between two rows (a server-side cursor on PostgreSQL).
        """
        make_row = make_row or _row_dict
        with self._translated_errors():
            cursor = self._dialect.open_cursor(self._conn, self._dialect.sql(sql), params)
        try:
            while True:
                with self._translated_errors():
                    rows = cursor.fetchmany(BATCH_SIZE)
                if not rows:
                    return
                for row in rows:
                    yield make_row(cursor, row)
        finally:
            with contextlib.suppress(*self._dialect.errors):
                cursor.close()

    @contextlib.contextmanager
    def transaction(self, rollback=False, shared=True):
        """Run the block in one transaction: commit on success, roll back on any error.

        Nested blocks become savepoints, so an inner failure that the caller handles undoes only the inner block.
        ``rollback=True`` undoes the block even when it succeeds (check mode: run the real code, keep nothing);
        inside it, the block sees its own writes. ``shared=False`` is for a block that writes only this
        connection's temporary tables: it does not wait for, nor hold, the store's write lock.
        """
        conn = self._conn
        depth = self._local.depth
        savepoint = "sp%d" % depth
        if depth == 0:
            self._execute_control(self._dialect.begin if shared else self._dialect.begin_private, conn)
        else:
            self._execute_control(conn.execute, "SAVEPOINT " + savepoint)
        self._local.depth = depth + 1
        try:
            yield self
        except BaseException:
            self._local.depth = depth
            with contextlib.suppress(*self._dialect.errors):
                self._undo(conn, depth, savepoint)
            raise
        self._local.depth = depth
        if rollback:
            self._execute_control(self._undo, conn, depth, savepoint)
            return
        try:
            self._execute_control(conn.execute, "COMMIT" if depth == 0 else "RELEASE SAVEPOINT " + savepoint)
        except StoreError:
            with contextlib.suppress(*self._dialect.errors):
                self._undo(conn, depth, savepoint)  # a failed commit must not leave the connection mid-transaction
            raise

    @staticmethod
    def _undo(conn, depth, savepoint):
        if depth == 0:
            conn.execute("ROLLBACK")
        else:
            conn.execute("ROLLBACK TO SAVEPOINT " + savepoint)
            conn.execute("RELEASE SAVEPOINT " + savepoint)

    def _execute_control(self, action, *arguments):
        with self._translated_errors():
            action(*arguments)

    def _in_transaction(self):
        return getattr(self._local, "depth", 0) > 0

    # -- schema and key ------------------------------------------------------------------------------------------

    @property
    def schema_version(self):
        """The schema version of the open store (0 for an empty database)."""
        if not self._dialect.table_exists(self, "meta"):
            return 0
        return int(self._meta_value("schema_version") or 0)

    def _meta_value(self, key):
        return self._scalar("SELECT value FROM meta WHERE key = ?", (key,))

    def _set_meta(self, key, value):
        self._execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _migrate(self, target):
        if self.schema_version >= target:
            self._refuse_newer_schema(self.schema_version)
            return
        with self.transaction():
            current = self.schema_version  # again, under the write lock: another process may have migrated
            self._refuse_newer_schema(current)
            for version, _description, statements in MIGRATIONS:
                if current < version <= target:
                    for statement in statements:
                        self._execute(statement.format(**self._dialect.types))
                    self._set_meta("schema_version", str(version))
            if current == 0:
                self._set_meta("manager_id", str(uuid.uuid4()))
                self._set_meta("created_at", utc_now())

    def _refuse_newer_schema(self, version):
        if version > SCHEMA_VERSION:
            raise StoreError(
                "store %s has schema version %d, newer than this collection supports (%d)"
                % (self.location, version, SCHEMA_VERSION),
                hint="upgrade the mdm.vpp collection on this controller",
            )

    def _unlock(self, key):
        has_canary = self._meta_value("canary") is not None
        if key is None:
            key = self._key_from_file(has_canary)
        if not has_canary:
            self._initialise_key(key)
        salt = base64.b64decode(self._meta_value("salt"))
        fernet = _derive_fernet(key, salt)
        try:
            fernet.decrypt(self._meta_value("canary").encode("ascii"))
        except InvalidToken:
            source = "the key in %s" % self.key_file if self.key_file else "the store key given"
            raise StoreKeyError("%s does not open store %s (wrong key)" % (source, self.location)) from None
        self._fernet = fernet

    def _key_from_file(self, has_canary):
        key_file = self._dialect.key_file
        if key_file and os.path.exists(key_file):
            self.key_file = key_file
            return _read_key_file(key_file)
        if has_canary:
            raise StoreKeyError(
                "store %s is protected by a key, but no key was given%s"
                % (self.location, " and the key file %s does not exist" % key_file if key_file else "")
            )
        if not key_file:
            raise StoreKeyError(
                "store %s keeps no key file: a store key is required" % self.location,
                hint="set store_key (or VPP_STORE_KEY) to a long random passphrase, the same on every node",
            )
        key, self.key_generated = _create_key_file(key_file)
        self.key_file = key_file
        return key

    def _initialise_key(self, key):
        with self.transaction():
            if self._meta_value("canary") is not None:
                return  # another process initialised it first; _unlock checks our key against its canary
            salt = os.urandom(16)
            self._set_meta("kdf", "scrypt:n=%(n)d,r=%(r)d,p=%(p)d" % _SCRYPT_PARAMS)
            self._set_meta("salt", base64.b64encode(salt).decode("ascii"))
            self._set_meta("canary", _derive_fernet(key, salt).encrypt(_CANARY).decode("ascii"))

    def _encrypt(self, secret):
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def _decrypt(self, ciphertext, name):
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise StoreKeyError("the secret of token %r cannot be decrypted with this store key" % name) from None

    # -- per-token lock ----------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def token_lock(self, name, timeout=DEFAULT_LOCK_TIMEOUT, lease=DEFAULT_LOCK_LEASE):
        """Hold the lock of token ``name`` for the block; wait up to ``timeout`` seconds, else ``LockTimeoutError``.

        Two processes on one token run one after the other; different tokens proceed in parallel. A lock whose
        owner died (on this host) or whose lease ran out is taken over. The yielded handle's ``renew()`` extends
        the lease for very long work. Re-entering the lock of a token this thread already holds is allowed.
        """
        held = self._held_locks()
        if name in held:
            held[name][1] += 1
            try:
                yield held[name][0]
            finally:
                held[name][1] -= 1
            return
        if self._in_transaction():
            raise StoreError("token_lock() must not be called inside a transaction (it would hold the write lock)")
        handle = _LockHandle(self, name, lease)
        self._acquire(handle, timeout)
        held[name] = [handle, 1]
        try:
            yield handle
        finally:
            del held[name]
            self._dialect.unlock(self, name, handle.owner)

    def _held_locks(self):
        held = getattr(self._local, "locks", None)
        if held is None:
            held = self._local.locks = {}
        return held

    def _acquire(self, handle, timeout):
        deadline = time.monotonic() + timeout
        pause = 0.05
        while True:
            holder = self._dialect.try_lock(self, handle.name, handle.owner, handle.lease)
            if holder is None:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockTimeoutError(
                    "token %r is locked by process %s on %s since %s; gave up after %g s"
                    % (handle.name, holder["pid"], holder["host"], holder["acquired_at"], timeout)
                )
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, 1.0)

    # -- tokens ------------------------------------------------------------------------------------------------

    _TOKEN_COLUMNS = (
        "name, fingerprint, description, categories, apple_id, token_type, org_name, location_name, uid, country, "
        "website_url, default_platform, expires_at, status, claimed, created_at, updated_at, last_sync_at, "
        "last_full_sync_at, assets_version, assignments_version, users_version"
    )

    def get_token(self, name):
        """The token named ``name`` as a dictionary (without its secret), or None."""
        return self._fetch_one("SELECT %s FROM tokens WHERE name = ?" % self._TOKEN_COLUMNS, (name,))

    def get_token_secret(self, name):
        """The decrypted content token of ``name`` (to send to Apple; never put it in a result)."""
        ciphertext = self._scalar("SELECT secret FROM tokens WHERE name = ?", (name,))
        if ciphertext is None:
            raise self._token_missing(name)
        return self._decrypt(ciphertext, name)

    def list_tokens(self, names=None):
        """Tokens sorted by name; only those in ``names`` when given (unknown names are simply absent)."""
        if names is None:
            return self._fetch_all("SELECT %s FROM tokens ORDER BY name" % self._TOKEN_COLUMNS)
        names = list(names)
        if not names:
            return []
        marks = ", ".join("?" * len(names))
        return self._fetch_all(
            "SELECT %s FROM tokens WHERE name IN (%s) ORDER BY name" % (self._TOKEN_COLUMNS, marks), names
        )

    def count_tokens(self):
        """How many tokens are registered (Apple allows at most 3000 per manager)."""
        return self._scalar("SELECT COUNT(*) FROM tokens")

    def find_token_by_uid(self, uid):
        """Every token registered for Apple location ``uid`` (a location can be uploaded under several names)."""
        return self._fetch_all("SELECT %s FROM tokens WHERE uid = ? ORDER BY name" % self._TOKEN_COLUMNS, (uid,))

    def upsert_token(self, name, content_token=None, **fields):
        """Create token ``name`` or update the fields given; return the stored token.

        ``content_token`` (a ``stoken.ContentToken``) is required to create and sets the secret (encrypted), its
        fingerprint, org name and expiry. ``fields``: any of ``TOKEN_FIELDS``.
        """
        _check_fields("token", fields, TOKEN_FIELDS)
        values = {column: _encode(column, value) for column, value in fields.items()}
        if content_token is not None:
            values.update(
                secret=self._encrypt(content_token.secret),
                fingerprint=content_token.fingerprint,
                org_name=content_token.org_name,
                expires_at=to_timestamp(content_token.expires_at),
            )
        now = utc_now()
        with self.transaction():
            if self._token_id(name, required=False) is None:
                if content_token is None:
                    raise StoreError("token %r is not registered yet: its content token is needed to add it" % name)
                values.update(name=name, created_at=now, updated_at=now)
                self._insert("tokens", values)
            elif values:
                values["updated_at"] = now
                self._update("tokens", values, "name = ?", (name,))
        return self.get_token(name)

    def delete_token(self, name):
        """Delete token ``name`` and everything synced or deployed through it; return True if it existed."""
        with self.transaction():
            token_id = self._token_id(name, required=False)
            if token_id is None:
                return False
            self._execute("DELETE FROM tokens WHERE id = ?", (token_id,))
            return True

    def mark_synced(self, name, full=False, at=None, assets_version=None, assignments_version=None,
                    users_version=None):  # fmt: skip
        """Record a finished sync of ``name`` (and a full one when ``full``) plus the dataset versions given."""
        at = to_timestamp(at) or utc_now()
        values = {"last_sync_at": at}
        if full:
            values["last_full_sync_at"] = at
        versions = {"assets_version": assets_version, "assignments_version": assignments_version,
                    "users_version": users_version}  # fmt: skip
        values.update({column: value for column, value in versions.items() if value is not None})
        with self.transaction():
            self._token_id(name)
            self._update("tokens", values, "name = ?", (name,))
        return self.get_token(name)

    def _token_id(self, name, required=True):
        token_id = self._scalar("SELECT id FROM tokens WHERE name = ?", (name,))
        if token_id is None and required:
            raise self._token_missing(name)
        return token_id

    @staticmethod
    def _token_missing(name):
        return StoreError(
            "token %r is not registered in the store" % name, hint="register it first with mdm.vpp.vpp_token"
        )

    def _insert(self, table, values):
        columns = sorted(values)
        return self._execute(
            "INSERT INTO %s (%s) VALUES (%s)" % (table, ", ".join(columns), ", ".join("?" * len(columns))),
            [values[column] for column in columns],
        )

    def _update(self, table, values, where, params):
        columns = sorted(values)
        assignments = ", ".join("%s = ?" % column for column in columns)
        return self._execute(
            "UPDATE %s SET %s WHERE %s" % (table, assignments, where), [values[c] for c in columns] + list(params)
        )

    # -- assets and metadata -----------------------------------------------------------------------------------

    _ASSET_COLUMNS = "adam_id, pricing_param, " + ", ".join(ASSET_FIELDS) + ", updated_at"

    def list_assets(self, token, adam_id=None):
        """Assets of ``token`` (optionally one adamId) sorted by adamId, pricingParam."""
        sql = "SELECT %s FROM assets WHERE token_id = ?" % self._ASSET_COLUMNS
        params = [self._token_id(token)]
        if adam_id is not None:
            sql += " AND adam_id = ?"
            params.append(str(adam_id))
        return self._fetch_all(sql + " ORDER BY adam_id, pricing_param", params)

    def get_asset(self, token, adam_id, pricing_param="STDQ"):
        """One asset of ``token`` or None."""
        return self._fetch_one(
            "SELECT %s FROM assets WHERE token_id = ? AND adam_id = ? AND pricing_param = ?" % self._ASSET_COLUMNS,
            (self._token_id(token), str(adam_id), pricing_param),
        )

    def replace_assets(self, token, rows, run_id=None):
        """Make ``rows`` the complete asset list of ``token``; return ``asset_diff()`` of before and after.

        Each row has ``adam_id``, ``pricing_param`` and any of ``ASSET_FIELDS``. Count changes are audited.
        """
        new_rows = [_normalise_asset(row) for row in rows]
        now = utc_now()
        with self.transaction():
            token_id = self._token_id(token)
            diff = asset_diff(self.list_assets(token), new_rows)
            self._execute("DELETE FROM assets WHERE token_id = ?", (token_id,))
            columns = ["token_id", "adam_id", "pricing_param", *ASSET_FIELDS, "updated_at"]
            self._executemany(
                "INSERT INTO assets (%s) VALUES (%s)" % (", ".join(columns), ", ".join("?" * len(columns))),
                (
                    [token_id, row["adam_id"], row["pricing_param"]]
                    + [_encode(name, row[name]) for name in ASSET_FIELDS]
                    + [now]
                    for row in new_rows
                ),
            )
            self._audit_asset_counts(token_id, diff, run_id, now)
        return diff

    def _audit_asset_counts(self, token_id, diff, run_id, now):
        entries = [(row, None, row) for row in diff["added"]]
        entries += [(row, row, None) for row in diff["removed"]]
        entries += [(change, change["before"], change["after"]) for change in diff["changed"]
                    if _counts(change["before"]) != _counts(change["after"])]  # fmt: skip
        self._executemany(
            "INSERT INTO audit (token_id, recorded_at, run_id, origin, kind, adam_id, pricing_param, before, after) "
            "VALUES (?, ?, ?, 'apple', 'asset_count_changed', ?, ?, ?, ?)",
            [
                (token_id, now, run_id, row["adam_id"], row["pricing_param"],
                 _encode("before", _counts(before)), _encode("after", _counts(after)))
                for row, before, after in entries
            ],
        )  # fmt: skip

    # The license a member holds or is given: its serial (device license), its device's user (user license for a
    # device collection) or the member itself (user collection).
    _MEMBER_TARGET = (
        "CASE WHEN dm.license_type = 'user' AND dm.device_user IS NOT NULL THEN dm.device_user ELSE dm.member_id END"
    )

    # Licenses our install deployments hold, per application: licensed members whose license still stands in the
    # synced assignments (one reclaimed by an uninstall deployment or revoked at Apple no longer counts), each
    # license once even when two deployments target it.
    _DEPLOYED_BY_APPLICATION = (
        "SELECT d.application_id, COUNT(DISTINCT s.target_kind || ':' || s.target_id) AS deployed "
        "FROM deployments d JOIN deployment_members dm ON dm.deployment_id = d.id "
        "JOIN applications ap ON ap.id = d.application_id "
        "JOIN assignments s ON s.token_id = ap.token_id AND s.adam_id = ap.adam_id "
        "AND s.pricing_param = ap.pricing_param AND s.target_kind = dm.license_type "
        "AND s.target_id = " + _MEMBER_TARGET + " "
        "WHERE d.action = 'install' AND dm.state = 'licensed' GROUP BY d.application_id"
    )

    # Each asset with its token, catalogue metadata, application (if any) and the licenses our install
    # deployments hold; the deployed counts are grouped once for every application, not queried per asset.
    _LICENSED_ASSET_SELECT = (
        "SELECT t.name AS token, t.token_type, a.adam_id, a.pricing_param, a.product_type, a.total_count, "
        "a.assigned_count, a.available_count, a.retired_count, a.device_assignable, a.revocable, a.platforms, "
        "a.unlimited, a.updated_at, m.name, m.bundle_id, m.version, m.icon_url, ap.name AS application, "
        "COALESCE(dc.deployed, 0) AS deployed "
        "FROM assets a JOIN tokens t ON t.id = a.token_id "
        "LEFT JOIN metadata m ON m.adam_id = a.adam_id "
        "LEFT JOIN applications ap ON ap.token_id = a.token_id AND ap.adam_id = a.adam_id "
        "AND ap.pricing_param = a.pricing_param "
        "LEFT JOIN (" + _DEPLOYED_BY_APPLICATION + ") dc ON dc.application_id = ap.id"
    )

    def iter_licensed_assets(self, tokens=None, adam_id=None, pricing_param=None, product_type=None):
        """Stream every synced asset with what the app reports need, in one query (no query per asset).

        Each row: the asset (``adam_id``, ``pricing_param``, ``ASSET_FIELDS``, ``updated_at``), its ``token`` and
        ``token_type``, the catalogue's ``name``, ``bundle_id``, ``version``, ``icon_url`` (None when unknown),
        ``application`` (the name of the application made from it, or None) and ``deployed`` (licenses held by
        members in state licensed of install deployments, as ``deployed_count()``). Filters: ``tokens`` (names;
        unknown ones match nothing), exact ``adam_id``, ``pricing_param`` and ``product_type``. Sorted by token,
        then app name (case-insensitive; adamId when unknown), adamId, pricingParam.
        """
        clauses, params = [], []
        if tokens is not None:
            tokens = list(tokens)
            if not tokens:
                return iter(())
            clauses.append("t.name IN (%s)" % ", ".join("?" * len(tokens)))
            params.extend(tokens)
        for column, value in (("a.adam_id", adam_id), ("a.pricing_param", pricing_param),
                              ("a.product_type", product_type)):  # fmt: skip
            if value is not None:
                clauses.append("%s = ?" % column)
                params.append(str(value))
        sql = self._LICENSED_ASSET_SELECT
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY t.name, LOWER(COALESCE(m.name, a.adam_id)), a.adam_id, a.pricing_param"
        return self._stream(sql, params)

    def get_metadata(self, adam_id):
        """Catalogue metadata of ``adam_id`` (name, bundle_id, version, icon_url, platforms, kind) or None."""
        return self._fetch_one(
            "SELECT adam_id, %s, updated_at FROM metadata WHERE adam_id = ?" % ", ".join(METADATA_FIELDS),
            (str(adam_id),),
        )

    def put_metadata(self, rows):
        """Insert or replace metadata rows (each with ``adam_id`` and any of ``METADATA_FIELDS``)."""
        now = utc_now()
        columns = ["adam_id", *METADATA_FIELDS, "updated_at"]
        updates = ", ".join("%s = excluded.%s" % (name, name) for name in columns[1:])
        with self.transaction():
            for batch in _batches(rows):
                for row in batch:
                    _check_fields("metadata", set(row) - {"adam_id"}, METADATA_FIELDS)
                self._executemany(
                    "INSERT INTO metadata (%s) VALUES (%s) ON CONFLICT (adam_id) DO UPDATE SET %s"
                    % (", ".join(columns), ", ".join("?" * len(columns)), updates),
                    [
                        [str(row["adam_id"])]
                        + [_encode(name, row.get(name, [] if name == "platforms" else None))
                           for name in METADATA_FIELDS]
                        + [now]
                        for row in batch
                    ],
                )  # fmt: skip

    def adam_ids_missing_metadata(self, token=None):
        """adamIds of synced assets (of ``token``, or of every token) that have no metadata yet."""
        sql = (
            "SELECT DISTINCT a.adam_id FROM assets a JOIN tokens t ON t.id = a.token_id "
            "WHERE NOT EXISTS (SELECT 1 FROM metadata m WHERE m.adam_id = a.adam_id)"
        )
        params = []
        if token is not None:
            sql += " AND t.name = ?"
            params.append(token)
        return [row["adam_id"] for row in self._fetch_all(sql + " ORDER BY a.adam_id", params)]

    # -- assignments -------------------------------------------------------------------------------------------

    def begin_assignment_snapshot(self, token):
        """Start a full sync of ``token``'s assignments: ``add_rows()`` page by page, then ``finish()``.

        Call it under ``token_lock(token)``. Rows stream into a temporary table of this connection; ``finish()``
        replaces the live assignments in one transaction, so an interrupted snapshot changes nothing.
        """
        return AssignmentSnapshot(self, token)

    def apply_assignment_delta(self, token, rows, version_id=None, run_id=None):
        """Add the assignments of a ``sinceVersionId`` delta (never removes: Apple's deltas omit removals).

        Returns ``{"added": n}``; one transaction, audited, and ``version_id`` stored with it.
        """
        with self.transaction():
            snapshot = AssignmentSnapshot(self, token)
            snapshot.add_rows(rows)
            return snapshot.finish(version_id=version_id, run_id=run_id, remove_missing=False)

    def record_assignment(self, token, adam_id, pricing_param, target_kind, target_id, run_id=None):
        """Record an assignment this manager made; return True if it was new (audited as ours)."""
        row = {"adam_id": adam_id, "pricing_param": pricing_param, "target_kind": target_kind, "target_id": target_id}
        return self.record_assignments(token, [row], run_id=run_id) > 0

    def remove_assignment(self, token, adam_id, pricing_param, target_kind, target_id, run_id=None):
        """Forget an assignment this manager removed; return True if it existed (audited as ours)."""
        row = {"adam_id": adam_id, "pricing_param": pricing_param, "target_kind": target_kind, "target_id": target_id}
        return self.remove_assignments(token, [row], run_id=run_id) > 0

    def record_assignments(self, token, rows, run_id=None):
        """Record assignments this manager made (dicts as ``iter_assignments`` yields); return how many were new.

        One transaction, statements per batch (a deployment to 100,000 devices is not 100,000 round trips); each
        new assignment is audited as ours, one already stored is left alone.
        """
        keys = list(dict.fromkeys(_assignment_key(row) for row in rows))
        added = 0
        with self.transaction():
            token_id, now = self._token_id(token), utc_now()
            for batch in _batches(keys):
                # audit first, while NOT EXISTS still tells the new assignments from the known ones
                self._executemany(
                    "INSERT INTO audit (token_id, recorded_at, run_id, origin, kind, adam_id, pricing_param, "
                    "target_kind, target_id) SELECT ?, ?, ?, 'local', 'assignment_added', ?, ?, ?, ? WHERE NOT EXISTS "
                    "(SELECT 1 FROM assignments WHERE %s)" % _ASSIGNMENT_IS,
                    [(token_id, now, run_id, *key, token_id, *key) for key in batch],
                )
                added += self._executemany(
                    "INSERT INTO assignments (token_id, adam_id, pricing_param, target_kind, target_id) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [(token_id, *key) for key in batch],
                ).rowcount
        return added

    def remove_assignments(self, token, rows, run_id=None):
        """Forget assignments this manager removed (dicts as ``iter_assignments`` yields); return how many existed.

        One transaction, statements per batch; each removed assignment is audited as ours.
        """
        keys = list(dict.fromkeys(_assignment_key(row) for row in rows))
        removed = 0
        with self.transaction():
            token_id, now = self._token_id(token), utc_now()
            for batch in _batches(keys):
                self._executemany(
                    "INSERT INTO audit (token_id, recorded_at, run_id, origin, kind, adam_id, pricing_param, "
                    "target_kind, target_id) SELECT token_id, ?, ?, 'local', 'assignment_removed', adam_id, "
                    "pricing_param, target_kind, target_id FROM assignments WHERE %s" % _ASSIGNMENT_IS,
                    [(now, run_id, token_id, *key) for key in batch],
                )
                removed += self._executemany(
                    "DELETE FROM assignments WHERE %s" % _ASSIGNMENT_IS, [(token_id, *key) for key in batch]
                ).rowcount
        return removed

    def iter_assignments(self, token, adam_id=None, pricing_param=None, target_kind=None, target_id=None):
        """Stream ``token``'s assignments (dicts: adam_id, pricing_param, target_kind, target_id), filtered."""
        where, params = self._assignment_filter(token, adam_id, pricing_param, target_kind, target_id)
        return self._stream(
            "SELECT adam_id, pricing_param, target_kind, target_id FROM assignments WHERE %s "
            "ORDER BY adam_id, pricing_param, target_kind, target_id" % where,
            params,
        )

    def count_assignments(self, token, adam_id=None, pricing_param=None, target_kind=None, target_id=None):
        """How many assignments of ``token`` match the filters."""
        where, params = self._assignment_filter(token, adam_id, pricing_param, target_kind, target_id)
        return self._scalar("SELECT COUNT(*) FROM assignments WHERE %s" % where, params)

    def assignment_counts(self, token):
        """``{(adam_id, pricing_param): number of assignments}`` of ``token`` (assets without any are absent)."""
        rows = self._fetch_all(
            "SELECT adam_id, pricing_param, COUNT(*) AS n FROM assignments WHERE token_id = ? "
            "GROUP BY adam_id, pricing_param",
            (self._token_id(token),),
        )
        return {(row["adam_id"], row["pricing_param"]): row["n"] for row in rows}

    def _assignment_filter(self, token, adam_id, pricing_param, target_kind, target_id):
        clauses, params = ["token_id = ?"], [self._token_id(token)]
        for column, value in (("adam_id", adam_id), ("pricing_param", pricing_param),
                              ("target_kind", target_kind), ("target_id", target_id)):  # fmt: skip
            if value is not None:
                clauses.append("%s = ?" % column)
                params.append(str(value))
        return " AND ".join(clauses), params

    # -- users -------------------------------------------------------------------------------------------------

    _USER_COLUMNS = "client_user_id, email, managed_apple_id, status, invite_code, id_hash, updated_at"

    def begin_user_snapshot(self, token):
        """Start a full sync of ``token``'s users (same protocol as ``begin_assignment_snapshot``).

        When Apple lists several records for one clientUserId (retired ones plus the active one), the active
        record is kept.
        """
        return UserSnapshot(self, token)

    def apply_user_delta(self, token, rows, version_id=None, run_id=None):
        """Apply the users of a ``sinceVersionId`` delta; returns ``{"added": n, "changed": n}`` (audited)."""
        with self.transaction():
            snapshot = UserSnapshot(self, token)
            snapshot.add_rows(rows)
            return snapshot.finish(version_id=version_id, run_id=run_id, remove_missing=False)

    def record_user(self, token, client_user_id, run_id=None, **fields):
        """Create or update a user this manager registered (``USER_FIELDS`` and ``managed_apple_id``); audited."""
        _check_fields("user", fields, (*USER_FIELDS, "managed_apple_id"))
        with self.transaction():
            token_id = self._token_id(token)
            before = self.get_user(token, client_user_id)
            values = dict(fields, updated_at=utc_now())
            if before is None:
                self._insert("users", dict(values, token_id=token_id, client_user_id=client_user_id))
                kind, old, new = "user_added", None, _user_state(fields)
            else:
                self._update("users", values, "token_id = ? AND client_user_id = ?", (token_id, client_user_id))
                kind, old, new = "user_changed", _user_state(before), _user_state(dict(before, **fields))
            if old != new:
                self._audit_row(token_id, kind, run_id, "local", _user_key(client_user_id), old, new)
        return self.get_user(token, client_user_id)

    def get_user(self, token, client_user_id):
        """One user of ``token`` or None."""
        return self._fetch_one(
            "SELECT %s FROM users WHERE token_id = ? AND client_user_id = ?" % self._USER_COLUMNS,
            (self._token_id(token), client_user_id),
        )

    def iter_users(self, token, status=None):
        """Stream ``token``'s users sorted by clientUserId, optionally only one status."""
        sql = "SELECT %s FROM users WHERE token_id = ?" % self._USER_COLUMNS
        params = [self._token_id(token)]
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        return self._stream(sql + " ORDER BY client_user_id", params)

    def count_users(self, token, status=None):
        """How many users ``token`` has (optionally with one status)."""
        sql, params = "SELECT COUNT(*) FROM users WHERE token_id = ?", [self._token_id(token)]
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        return self._scalar(sql, params)

    # -- applications ------------------------------------------------------------------------------------------

    _APPLICATION_SELECT = (
        "SELECT a.name, t.name AS token, a.adam_id, a.pricing_param, a.description, a.categories, a.created_at, "
        "a.updated_at FROM applications a JOIN tokens t ON t.id = a.token_id"
    )

    def get_application(self, name):
        """The application ``name`` or None."""
        return self._fetch_one(self._APPLICATION_SELECT + " WHERE a.name = ?", (name,))

    def find_application(self, token, adam_id, pricing_param="STDQ"):
        """The application made from that asset of ``token``, or None."""
        return self._fetch_one(
            self._APPLICATION_SELECT + " WHERE t.name = ? AND a.adam_id = ? AND a.pricing_param = ?",
            (token, str(adam_id), pricing_param),
        )

    def list_applications(self, token=None):
        """Applications sorted by name (of one token when given)."""
        if token is None:
            return self._fetch_all(self._APPLICATION_SELECT + " ORDER BY a.name")
        return self._fetch_all(self._APPLICATION_SELECT + " WHERE t.name = ? ORDER BY a.name", (token,))

    def upsert_application(self, name, token=None, adam_id=None, pricing_param="STDQ", **fields):
        """Create application ``name`` (token and adam_id required) or update it; return it."""
        _check_fields("application", fields, APPLICATION_FIELDS)
        values = {column: _encode(column, value) for column, value in fields.items()}
        now = utc_now()
        with self.transaction():
            existing = self._scalar("SELECT id FROM applications WHERE name = ?", (name,))
            if token is not None:
                values.update(token_id=self._token_id(token))
            if adam_id is not None:
                values.update(adam_id=str(adam_id), pricing_param=pricing_param or "STDQ")
            if token is not None and adam_id is not None:
                self._refuse_second_application(name, token, adam_id, pricing_param)
            if existing is None:
                if token is None or adam_id is None:
                    raise StoreError("application %r does not exist: token and adam_id are needed to add it" % name)
                self._insert("applications", dict(values, name=name, created_at=now, updated_at=now))
            elif values:
                self._update("applications", dict(values, updated_at=now), "id = ?", (existing,))
        return self.get_application(name)

    def _refuse_second_application(self, name, token, adam_id, pricing_param):
        other = self.find_application(token, adam_id, pricing_param or "STDQ")
        if other is not None and other["name"] != name:
            raise StoreError(
                "asset %s (%s) of token %r already has the application %r"
                % (adam_id, pricing_param or "STDQ", token, other["name"]),
                hint="use that application, or delete it first",
            )

    def delete_application(self, name):
        """Delete application ``name`` and its deployments; return True if it existed."""
        with self.transaction():
            return self._execute("DELETE FROM applications WHERE name = ?", (name,)).rowcount > 0

    def rename_application(self, name, new_name):
        """Give application ``name`` the name ``new_name`` (its deployments follow it); return it renamed."""
        with self.transaction():
            application_id = self._application_id(name)
            holder = self._scalar("SELECT id FROM applications WHERE name = ?", (new_name,))
            if holder is not None and holder != application_id:
                raise StoreError(
                    "cannot rename application %r to %r: that name is taken by another application" % (name, new_name),
                    hint="choose another name",
                )
            self._update("applications", {"name": new_name, "updated_at": utc_now()}, "id = ?", (application_id,))
        return self.get_application(new_name)

    def _application_id(self, name):
        application_id = self._scalar("SELECT id FROM applications WHERE name = ?", (name,))
        if application_id is None:
            raise StoreError("application %r does not exist" % name, hint="create it first with mdm.vpp.vpp_app")
        return application_id

    # -- deployments and members -------------------------------------------------------------------------------

    _DEPLOYMENT_SELECT = (
        "SELECT d.name, a.name AS application, t.name AS token, a.adam_id, a.pricing_param, d.collection_name, "
        "d.collection_type, d.action, d.purpose, d.license_type, d.options, d.created_at, d.updated_at "
        "FROM deployments d JOIN applications a ON a.id = d.application_id JOIN tokens t ON t.id = a.token_id"
    )

    def get_deployment(self, name):
        """The deployment ``name`` (with its application, token and asset) or None."""
        return self._fetch_one(self._DEPLOYMENT_SELECT + " WHERE d.name = ?", (name,))

    def list_deployments(self, application=None):
        """Deployments sorted by name (of one application when given)."""
        if application is None:
            return self._fetch_all(self._DEPLOYMENT_SELECT + " ORDER BY d.name")
        return self._fetch_all(self._DEPLOYMENT_SELECT + " WHERE a.name = ? ORDER BY d.name", (application,))

    def upsert_deployment(self, name, application=None, **fields):
        """Create deployment ``name`` (application, collection_name, collection_type, action, purpose required)
        or update the fields given; return it. Fields: ``DEPLOYMENT_FIELDS``."""
        _check_fields("deployment", fields, DEPLOYMENT_FIELDS)
        if "action" in fields:
            _check_choice("action", fields["action"], ACTIONS)
        for label in ("collection_type", "license_type"):
            if fields.get(label) is not None:
                _check_choice(label, fields[label], TARGET_KINDS)
        values = {column: _encode(column, value) for column, value in fields.items()}
        now = utc_now()
        with self.transaction():
            existing = self._scalar("SELECT id FROM deployments WHERE name = ?", (name,))
            if application is not None:
                values["application_id"] = self._application_id(application)
            if existing is None:
                required = ("application_id", "collection_name", "collection_type", "action", "purpose")
                missing = [column for column in required if values.get(column) is None]
                if missing:
                    raise StoreError("deployment %r needs %s to be created" % (name, ", ".join(missing)))
                self._insert("deployments", dict(values, name=name, created_at=now, updated_at=now))
            elif values:
                self._update("deployments", dict(values, updated_at=now), "id = ?", (existing,))
        return self.get_deployment(name)

    def delete_deployment(self, name):
        """Delete deployment ``name`` and its members (its events stay, unlinked); True if it existed."""
        with self.transaction():
            return self._execute("DELETE FROM deployments WHERE name = ?", (name,)).rowcount > 0

    def _deployment_id(self, name):
        deployment_id = self._scalar("SELECT id FROM deployments WHERE name = ?", (name,))
        if deployment_id is None:
            raise StoreError("deployment %r does not exist" % name)
        return deployment_id

    def upsert_members(self, deployment, rows):
        """Insert or update members of ``deployment`` in one transaction; return how many rows were written.

        Each row has ``member_id`` and any of ``MEMBER_FIELDS``; fields a row leaves out keep their stored value.
        """
        now = utc_now()
        written = 0
        with self.transaction():
            deployment_id = self._deployment_id(deployment)
            for batch in _batches(rows):
                for fields, group in _group_by_fields(batch):
                    written += self._upsert_member_group(deployment_id, fields, group, now)
        return written

    def _upsert_member_group(self, deployment_id, fields, rows, now):
        _check_fields("member", fields, MEMBER_FIELDS)
        if "state" in fields:
            for row in rows:
                _check_choice("member state", row["state"], MEMBER_STATES)
        columns = ["deployment_id", "member_id", *fields, "created_at", "updated_at"]
        updates = ", ".join("%s = excluded.%s" % (name, name) for name in (*fields, "updated_at"))
        self._executemany(
            "INSERT INTO deployment_members (%s) VALUES (%s) ON CONFLICT (deployment_id, member_id) DO UPDATE SET %s"
            % (", ".join(columns), ", ".join("?" * len(columns)), updates),
            [[deployment_id, str(row["member_id"])] + [row[name] for name in fields] + [now, now] for row in rows],
        )
        return len(rows)

    def list_members(self, deployment, state=None):
        """Members of ``deployment`` sorted by member id, optionally in one state."""
        sql = (
            "SELECT member_id, device_user, license_type, state, error_number, error_message, event_id, created_at, "
            "updated_at FROM deployment_members WHERE deployment_id = ?"
        )
        params = [self._deployment_id(deployment)]
        if state is not None:
            sql += " AND state = ?"
            params.append(state)
        return self._fetch_all(sql + " ORDER BY member_id", params)

    def count_members(self, deployment):
        """``{state: count}`` for every member state of ``deployment`` (zeros included)."""
        counts = dict.fromkeys(MEMBER_STATES, 0)
        rows = self._fetch_all(
            "SELECT state, COUNT(*) AS n FROM deployment_members WHERE deployment_id = ? GROUP BY state",
            (self._deployment_id(deployment),),
        )
        counts.update({row["state"]: row["n"] for row in rows})
        return counts

    def delete_members(self, deployment, member_ids):
        """Remove members from ``deployment`` (they left the collection); return how many were removed."""
        deployment_id = self._deployment_id(deployment)
        removed = 0
        with self.transaction():
            for batch in _batches(member_ids):
                removed += self._executemany(
                    "DELETE FROM deployment_members WHERE deployment_id = ? AND member_id = ?",
                    [(deployment_id, str(member_id)) for member_id in batch],
                ).rowcount
        return removed

    def targets_of_other_installs(self, deployment, application):
        """``{(license kind, target id)}`` that install deployments of ``application`` other than ``deployment``
        have licensed or are licensing: licenses a reclaim by ``deployment`` must leave alone."""
        rows = self._fetch_all(
            "SELECT DISTINCT dm.license_type AS kind, " + self._MEMBER_TARGET + " AS target_id FROM deployments d "
            "JOIN applications ap ON ap.id = d.application_id "
            "JOIN deployment_members dm ON dm.deployment_id = d.id "
            "WHERE ap.name = ? AND d.name <> ? AND d.action = 'install' AND dm.state IN ('licensed', 'pending') "
            "AND dm.license_type IS NOT NULL",
            (application, deployment),
        )
        return {(row["kind"], row["target_id"]) for row in rows}

    def deployed_count(self, token, adam_id, pricing_param="STDQ"):
        """How many licenses of that asset this manager's install deployments hold (see _DEPLOYED_BY_APPLICATION)."""
        deployed = self._scalar(
            "SELECT dc.deployed FROM applications ap JOIN tokens t ON t.id = ap.token_id "
            "JOIN (" + self._DEPLOYED_BY_APPLICATION + ") dc ON dc.application_id = ap.id "
            "WHERE t.name = ? AND ap.adam_id = ? AND ap.pricing_param = ?",
            (token, str(adam_id), pricing_param),
        )
        return deployed or 0

    # -- submitted events --------------------------------------------------------------------------------------

    _EVENT_SELECT = (
        "SELECT e.event_id, t.name AS token, d.name AS deployment, e.event_type, e.request, e.status, "
        "e.submitted_at, e.completed_at, e.result FROM events e JOIN tokens t ON t.id = e.token_id "
        "LEFT JOIN deployments d ON d.id = e.deployment_id"
    )

    def record_event(self, token, event_id, event_type, deployment=None, request=None):
        """Persist an event Apple accepted (status PENDING) before anyone waits on it; return it.

        ``request`` is a JSON-able summary of what was asked (ids and counts, never a secret).
        """
        with self.transaction():
            values = {
                "token_id": self._token_id(token),
                "event_id": event_id,
                "event_type": event_type,
                "request": _encode("request", request or {}),
                "status": "PENDING",
                "submitted_at": utc_now(),
            }
            if deployment is not None:
                values["deployment_id"] = self._deployment_id(deployment)
            self._insert("events", values)
        return self.get_event(token, event_id)

    def record_intent(self, token, event_type, deployment=None, request=None):
        """Persist what a write request is about to ask, *before* it is sent; returns the intent's id.

        An intent is an event row with status ``SENDING`` and an id of our own (``intent-...``): a run killed while
        Apple's answer was on its way leaves it, and the next run reconciles with Apple before planning.
        """
        intent_id = "intent-" + secrets.token_hex(16)
        values = {"event_id": intent_id, "event_type": event_type, "request": _encode("request", request or {}),
                  "status": INTENT_STATUS, "submitted_at": utc_now()}  # fmt: skip
        with self.transaction():
            values["token_id"] = self._token_id(token)
            if deployment is not None:
                values["deployment_id"] = self._deployment_id(deployment)
            self._insert("events", values)
        return intent_id

    def drop_intent(self, token, intent_id):
        """Forget an intent (its request was answered, or reconciled after a crash)."""
        with self.transaction():
            self._execute(
                "DELETE FROM events WHERE token_id = ? AND event_id = ? AND status = ?",
                (self._token_id(token), intent_id, INTENT_STATUS),
            )

    def intents(self, deployment):
        """Intents of ``deployment`` left by a run that never heard Apple's answer, oldest first."""
        return self._fetch_all(self._EVENT_SELECT + " WHERE e.status = ? AND d.name = ? ORDER BY e.id",
                               (INTENT_STATUS, deployment))  # fmt: skip

    def update_event(self, token, event_id, status, result=None):
        """Set an event's status (PENDING, COMPLETE, FAILED) and result; finished ones get completed_at."""
        values = {"status": status, "result": _encode("result", result)}
        if status in FINISHED_EVENT_STATES:
            values["completed_at"] = utc_now()
        with self.transaction():
            updated = self._update(
                "events", values, "token_id = ? AND event_id = ?", (self._token_id(token), event_id)
            ).rowcount
            if not updated:
                raise StoreError("event %r of token %r was never recorded" % (event_id, token))
        return self.get_event(token, event_id)

    def get_event(self, token, event_id):
        """One recorded event of ``token`` or None."""
        return self._fetch_one(self._EVENT_SELECT + " WHERE t.name = ? AND e.event_id = ?", (token, event_id))

    def pending_events(self, deployment=None, token=None):
        """Events still PENDING (of one deployment and/or token), oldest first: resume by polling them."""
        sql, params = self._EVENT_SELECT + " WHERE e.status = 'PENDING'", []
        if deployment is not None:
            sql += " AND d.name = ?"
            params.append(deployment)
        if token is not None:
            sql += " AND t.name = ?"
            params.append(token)
        return self._fetch_all(sql + " ORDER BY e.id", params)

    # -- whole tables, for tools that move a store (store_copy) ------------------------------------------------

    def table_names(self):
        """The names of the store's tables, sorted."""
        return sorted(self._dialect.table_names(self))

    def table_columns(self, table):
        """The column names of ``table``, in the order ``iter_table_rows()`` gives values."""
        if table not in self.table_names():
            raise StoreError("store %s has no table %r" % (self.location, table))
        cursor = self._execute("SELECT * FROM %s WHERE 1 = 0" % table)
        return tuple(column[0] for column in cursor.description)

    def iter_table_rows(self, table):
        """Stream every row of ``table`` as a tuple of stored values (JSON as text, booleans as ``bool``), in
        ``table_columns()`` order, sorted by every column."""
        order = ", ".join(self.table_columns(table))
        return self._stream("SELECT %s FROM %s ORDER BY %s" % (order, table, order), make_row=_stored_values)

    def replace_table_rows(self, table, columns, rows):
        """Make ``rows`` (tuples in ``columns`` order, ids included) all of ``table``'s rows; return how many.

        Identity counters continue after the largest id loaded, so rows added later get new ids.
        """
        count = 0
        with self.transaction():
            self._execute("DELETE FROM %s" % table)
            insert = "INSERT INTO %s (%s) VALUES (%s)" % (table, ", ".join(columns), ", ".join("?" * len(columns)))
            for batch in _batches(rows):
                self._executemany(insert, batch)
                count += len(batch)
            if "id" in columns:
                self._dialect.continue_ids_after_max(self, table)
        return count

    # -- audit log ---------------------------------------------------------------------------------------------

    def audit(self, token, kind, adam_id=None, pricing_param=None, target_kind=None, target_id=None, before=None,
              after=None, run_id=None, origin="local"):  # fmt: skip
        """Append one audit entry for ``token`` (``kind`` one of ``AUDIT_KINDS``)."""
        _check_choice("audit kind", kind, AUDIT_KINDS)
        with self.transaction():
            self._audit_row(self._token_id(token), kind, run_id, origin,
                            (adam_id, pricing_param, target_kind, target_id), before, after)  # fmt: skip

    def iter_audit(self, token=None, kind=None, run_id=None, since=None, limit=None):
        """Stream audit entries oldest first, filtered by token, kind, run id and time (``since`` inclusive)."""
        sql = (
            "SELECT t.name AS token, au.recorded_at, au.run_id, au.origin, au.kind, au.adam_id, au.pricing_param, "
            "au.target_kind, au.target_id, au.before, au.after FROM audit au JOIN tokens t ON t.id = au.token_id"
        )
        clauses, params = [], []
        for column, value in (("t.name", token), ("au.kind", kind), ("au.run_id", run_id)):
            if value is not None:
                clauses.append("%s = ?" % column)
                params.append(value)
        if since is not None:
            clauses.append("au.recorded_at >= ?")
            params.append(to_timestamp(since))
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY au.id"
        if limit is not None:
            sql += " LIMIT %d" % int(limit)
        return self._stream(sql, params)

    def _audit_row(self, token_id, kind, run_id, origin, key, before=None, after=None):
        """One audit entry; ``key`` is (adam_id, pricing_param, target_kind, target_id)."""
        self._execute(
            "INSERT INTO audit (token_id, recorded_at, run_id, origin, kind, adam_id, pricing_param, target_kind, "
            "target_id, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (token_id, utc_now(), run_id, origin, kind, *key, _encode("before", before), _encode("after", after)),
        )  # fmt: skip


class _Snapshot:
    """A sync of one dataset of one token in progress; see ``Store.begin_assignment_snapshot()``.

    Rows are staged in a temporary table of this connection (created anew for each snapshot): staging writes
    nothing to the shared store, takes no write lock, and leaves nothing behind when the job dies. The staging
    table has no index while rows arrive (Apple's order is random with respect to any key, and random index
    inserts were most of a large sync's cost); ``finish()`` sorts once.
    """

    staging_table = None
    staging_columns = None
    insert_staging_sql = None

    def __init__(self, store, token):
        self._store = store
        self.token = token
        self._token_id = store._token_id(token)
        self.rows_received = 0
        self._drop_staging()  # this connection's leftovers of an interrupted snapshot
        store._execute("CREATE TEMPORARY TABLE %s (%s)" % (self.staging_table, self.staging_columns))

    def __repr__(self):
        return "<%s of token %r, %d rows>" % (type(self).__name__, self.token, self.rows_received)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is not None:
            self.abort()

    def add_rows(self, rows):
        """Stage ``rows`` (any iterable, e.g. one page) in batches of ``BATCH_SIZE``."""
        self._stage(map(self._staging_values, rows))

    def _stage(self, values):
        for batch in _batches(values):
            with self._store.transaction(shared=False):
                self._insert_batch(batch)
            self.rows_received += len(batch)

    def _insert_batch(self, batch):
        # One statement a batch, not executemany(): the driver hands the GIL over once a row, and each time waits
        # for the threads that are reading the next pages (a third of a large sync's time went there).
        self._store._execute(self._insert_sql(len(batch)), list(itertools.chain.from_iterable(batch)))

    @classmethod
    @functools.lru_cache(maxsize=8)
    def _insert_sql(cls, count):
        """The INSERT of ``count`` staged rows in one statement (``BATCH_SIZE`` x 5 parameters at most)."""
        row = "(%s)" % ", ".join("?" * cls.staging_width)
        return cls.insert_staging_sql % ", ".join([row] * count)

    def abort(self):
        """Drop the staged rows; the live data was never touched."""
        # best effort: the error that made the sync abort is the one to report (and the table dies with the
        # connection anyway)
        with contextlib.suppress(StoreError):
            self._drop_staging()

    def _drop_staging(self):
        self._store._execute("DROP TABLE IF EXISTS " + self.staging_table)

    def _token_has_rows(self, table):
        return self._store._scalar("SELECT 1 FROM %s WHERE token_id = ? LIMIT 1" % table, (self._token_id,)) is not None

    def _finish_common(self, version_column, version_id):
        self._drop_staging()
        if version_id is not None:
            self._store._execute("UPDATE tokens SET %s = ? WHERE id = ?" % version_column, (version_id, self._token_id))

    def _staging_values(self, row):
        raise NotImplementedError


# One assignment of the live table, by its whole key: token_id, adam_id, pricing_param, target_kind, target_id.
_ASSIGNMENT_IS = "token_id = ? AND adam_id = ? AND pricing_param = ? AND target_kind = ? AND target_id = ?"

# The key columns of a staged assignment (a token's staging table holds no token_id).
_ASSIGNMENT_COLUMNS = ("adam_id", "pricing_param", "target_kind", "target_id")


def _same_assignment(live, staged):
    """Correlated "same assignment" condition between a live row and a staged one (table aliases)."""
    return " AND ".join("%s.%s = %s.%s" % (live, name, staged, name) for name in _ASSIGNMENT_COLUMNS)


class AssignmentSnapshot(_Snapshot):
    """Sync of a token's assignments: rows are dicts with adam_id, pricing_param, target_kind, target_id."""

    staging_table = "staged_assignments"
    staging_columns = ", ".join("%s TEXT NOT NULL" % name for name in _ASSIGNMENT_COLUMNS)
    staging_width = len(_ASSIGNMENT_COLUMNS)
    insert_staging_sql = "INSERT INTO staged_assignments (%s) VALUES %%s" % ", ".join(_ASSIGNMENT_COLUMNS)

    def _staging_values(self, row):
        return _assignment_key(row)

    def add_keys(self, keys):
        """Stage assignments given as (adam_id, pricing_param, target_kind, target_id) tuples: a sync's fast path.

        Unlike ``add_rows()`` nothing is checked here; the live table's constraints refuse a bad key at
        ``finish()``.
        """
        self._stage(keys)

    def finish(self, version_id=None, run_id=None, audit=True, remove_missing=True):
        """Make the staged rows the token's assignments in one transaction; return ``{"added", "removed"}``.

        The diff runs in SQL (memory stays flat); rows Apple listed twice count once. Each change is audited
        unless ``audit`` is false (e.g. the first import). ``remove_missing=False`` (a delta) only adds.
        ``version_id`` (page 0's versionId) is stored in the same transaction.
        """
        store, token_id, key = self._store, self._token_id, ", ".join(_ASSIGNMENT_COLUMNS)
        audit_sql = (
            "INSERT INTO audit (token_id, recorded_at, run_id, origin, kind, adam_id, pricing_param, target_kind, "
            "target_id) SELECT ?, ?, ?, 'apple', ?, %s " % key
        )
        with store.transaction():
            now, removed = utc_now(), 0
            has_live_rows = self._token_has_rows("assignments")
            if remove_missing and has_live_rows:
                # one sorted index build now, instead of an index updated in random order while pages arrived
                store._execute("CREATE INDEX staged_assignments_by_key ON staged_assignments (%s)" % key)
                missing = (
                    "FROM assignments a WHERE a.token_id = ? AND NOT EXISTS (SELECT 1 FROM staged_assignments s "
                    "WHERE %s)" % _same_assignment("a", "s")
                )
                if audit:
                    store._execute(audit_sql + missing, (token_id, now, run_id, "assignment_removed", token_id))
                removed = store._execute(
                    "DELETE FROM assignments WHERE token_id = ? AND NOT EXISTS (SELECT 1 FROM staged_assignments s "
                    "WHERE %s)" % _same_assignment("assignments", "s"),
                    (token_id,),
                ).rowcount
            # GROUP BY drops duplicates and hands the rows over in key order: the live index grows at its end
            new, new_params = "FROM staged_assignments s ", ()
            if has_live_rows:
                new += "WHERE NOT EXISTS (SELECT 1 FROM assignments a WHERE a.token_id = ? AND %s) " % (
                    _same_assignment("a", "s")
                )
                new_params = (token_id,)
            new += "GROUP BY %s" % key
            if audit:
                store._execute(audit_sql + new, (token_id, now, run_id, "assignment_added", *new_params))
            added = store._execute(
                "INSERT INTO assignments (token_id, %s) SELECT ?, %s %s ORDER BY %s" % (key, key, new, key),
                (token_id, *new_params),
            ).rowcount
            self._finish_common("assignments_version", version_id)
        return {"added": added, "removed": removed}


_ACTIVE_USER_STATUSES_SQL = "(%s)" % ", ".join("'%s'" % status for status in ACTIVE_USER_STATUSES)


class UserSnapshot(_Snapshot):
    """Sync of a token's users: rows are dicts with client_user_id and any of ``USER_FIELDS``."""

    staging_table = "staged_users"
    staging_columns = "client_user_id TEXT PRIMARY KEY, %s" % ", ".join("%s TEXT" % name for name in USER_FIELDS)
    staging_width = 1 + len(USER_FIELDS)
    # Apple may list retired records next to the active one for a clientUserId: the active record wins, here
    # across batches and in _insert_batch() within one (one statement may not update the same row twice).
    insert_staging_sql = (
        "INSERT INTO staged_users (client_user_id, %s) VALUES %%s ON CONFLICT (client_user_id) "
        "DO UPDATE SET %s WHERE excluded.status IN %s OR COALESCE(staged_users.status, '') NOT IN %s"
        % (
            ", ".join(USER_FIELDS),
            ", ".join("%s = excluded.%s" % (name, name) for name in USER_FIELDS),
            _ACTIVE_USER_STATUSES_SQL,
            _ACTIVE_USER_STATUSES_SQL,
        )
    )

    def _staging_values(self, row):
        return _user_values(row)

    def _insert_batch(self, batch):
        chosen = {}
        for values in batch:
            kept = chosen.get(values[0])
            if kept is None or _is_active(values) or not _is_active(kept):
                chosen[values[0]] = values
        super()._insert_batch(list(chosen.values()))

    def finish(self, version_id=None, run_id=None, audit=True, remove_missing=True):
        """Make the staged rows the token's users in one transaction; return ``{"added", "changed", "removed"}``."""
        store, dialect, token_id = self._store, self._store._dialect, self._token_id
        differs = " OR ".join(dialect.differs("u.%s" % name, "s.%s" % name) for name in USER_FIELDS)
        old = ", ".join("u.%s AS old_%s" % (name, name) for name in USER_FIELDS)
        new = ", ".join("s.%s" % name for name in USER_FIELDS)
        counts = {"added": 0, "changed": 0, "removed": 0}
        changes_from = (
            "FROM staged_users s LEFT JOIN users u ON u.token_id = ? AND u.client_user_id = s.client_user_id "
            "WHERE u.client_user_id IS NULL OR %s" % differs
        )
        gone_from = (
            "FROM users u WHERE u.token_id = ? AND NOT EXISTS (SELECT 1 FROM staged_users s "
            "WHERE s.client_user_id = u.client_user_id)"
        )
        with store.transaction():
            now = utc_now()
            if audit:
                changes = store._stream(
                    "SELECT s.client_user_id, u.client_user_id AS existing, %s, %s %s" % (old, new, changes_from),
                    (token_id,),
                )
                self._audit_stream(changes, counts, run_id, now, audit, _classify_user_change)
            else:
                # an unaudited import needs only the numbers: SQL counts them, no row travels through Python
                found = store._fetch_one(
                    "SELECT COUNT(*) AS total, COUNT(u.client_user_id) AS existing " + changes_from, (token_id,)
                )
                counts.update(added=found["total"] - found["existing"], changed=found["existing"])
            if remove_missing:
                if audit:
                    gone = store._stream("SELECT u.client_user_id, %s %s" % (old, gone_from), (token_id,))
                    self._audit_stream(gone, counts, run_id, now, audit, _classify_user_removal)
                else:
                    counts["removed"] = store._scalar("SELECT COUNT(*) " + gone_from, (token_id,))
                store._execute(
                    "DELETE FROM users WHERE token_id = ? AND NOT EXISTS (SELECT 1 FROM staged_users s "
                    "WHERE s.client_user_id = users.client_user_id)",
                    (token_id,),
                )
            updates = ", ".join("%s = excluded.%s" % (name, name) for name in (*USER_FIELDS, "updated_at"))
            changed_rows = " OR ".join(dialect.differs("users.%s" % name, "excluded.%s" % name) for name in USER_FIELDS)
            # "WHERE true": SQLite would otherwise read ON CONFLICT as a join constraint of the SELECT
            store._execute(
                "INSERT INTO users (token_id, client_user_id, %s, updated_at) SELECT ?, client_user_id, %s, ? "
                "FROM staged_users WHERE true ON CONFLICT (token_id, client_user_id) DO UPDATE SET %s WHERE %s"
                % (", ".join(USER_FIELDS), ", ".join(USER_FIELDS), updates, changed_rows),
                (token_id, now),
            )
            self._finish_common("users_version", version_id)
        return counts

    def _audit_stream(self, rows, counts, run_id, now, audit, classify):
        """Count (and audit, in batches) the user changes a query streams; ``classify`` names each one."""
        for batch in _batches(rows):
            entries = [classify(row) for row in batch]
            for kind, _user, _before, _after in entries:
                counts[kind] += 1
            if audit:
                self._store._executemany(
                    "INSERT INTO audit (token_id, recorded_at, run_id, origin, kind, target_kind, target_id, before, "
                    "after) VALUES (?, ?, ?, 'apple', ?, 'user', ?, ?, ?)",
                    [
                        (self._token_id, now, run_id, "user_" + kind, user, _encode("before", before),
                         _encode("after", after))
                        for kind, user, before, after in entries
                    ],
                )  # fmt: skip


def _old_user_state(row):
    return {name: row["old_%s" % name] for name in USER_FIELDS}


def _classify_user_change(row):
    if row["existing"] is None:
        return "added", row["client_user_id"], None, _user_state(row)
    return "changed", row["client_user_id"], _old_user_state(row), _user_state(row)


def _classify_user_removal(row):
    return "removed", row["client_user_id"], _old_user_state(row), None


class _LockHandle:
    """A held token lock: ``renew()`` extends its lease."""

    def __init__(self, store, name, lease):
        self.store = store
        self.name = name
        self.lease = lease
        self.owner = "%s:%d:%s" % (socket.gethostname(), os.getpid(), uuid.uuid4().hex)

    def __repr__(self):
        return "<token lock %r>" % self.name

    def renew(self):
        self.store._dialect.renew_lock(self.store, self.name, self.owner, self.lease)


def _stored_values(cursor, row):
    """A row's values as stored, booleans as ``bool`` whatever the engine keeps them as."""
    return tuple(
        bool(value) if column[0] in _BOOL_COLUMNS and value is not None else value
        for column, value in zip(cursor.description, row, strict=True)
    )


def _row_dict(cursor, row):
    return {column[0]: _decode(column[0], value) for column, value in zip(cursor.description, row, strict=True)}


def _group_by_fields(rows):
    """Group rows by the set of fields they carry (so an upsert only overwrites what a row says)."""
    groups = {}
    for row in rows:
        fields = tuple(sorted(set(row) - {"member_id"}))
        groups.setdefault(fields, []).append(row)
    return groups.items()


def _user_state(row):
    return {name: row.get(name) for name in USER_FIELDS}


def _user_key(client_user_id):
    return (None, None, "user", client_user_id)
