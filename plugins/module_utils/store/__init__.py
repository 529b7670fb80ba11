# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state store: the only code in the collection that speaks SQL. This file opens it and composes ``Store``.

``open_store()`` returns a ``Store``. Its public methods are the contract every backend implements (SQLite and
PostgreSQL): they take and return plain values and dictionaries, never cursors or SQL. Everything that differs
between database engines lives in a dialect (``dialects/``, contract in ``dialects/base.py``); the SQL of the
repositories (``repos/``, one mixin per entity) is portable and runs through one ``Database`` (``db.py``).

Conventions of the returned dictionaries: times are ISO 8601 UTC strings, JSON columns are decoded, booleans are
``bool``, internal row ids are never exposed (rows are named by token name, application name, deployment name),
and a token's secret is never part of a row (``get_token_secret()`` is the one door to it).

A ``Store`` may be shared by threads: each thread gets its own connection. Bulk writes are transactional; a
process killed in the middle of one leaves the previous consistent state.

The package's public names are re-exported here: import them from ``...module_utils.store``.
"""

from __future__ import annotations

import contextlib

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.store.db import Database
from ansible_collections.mdm.vpp.plugins.module_utils.store.dialects import dialect_for
from ansible_collections.mdm.vpp.plugins.module_utils.store.dialects.base import DEFAULT_BUSY_TIMEOUT
from ansible_collections.mdm.vpp.plugins.module_utils.store.dialects.sqlite import (
    SQLITE_HEADER,
    SQLiteDialect,
    check_sqlite_file,
)
from ansible_collections.mdm.vpp.plugins.module_utils.store.keys import HAS_CRYPTOGRAPHY, unlock
from ansible_collections.mdm.vpp.plugins.module_utils.store.location import (
    DEFAULT_STORE_PATH,
    ENV_STORE,
    ENV_STORE_KEY,
    key_from_environment,
    missing_store,
    resolve_location,
)
from ansible_collections.mdm.vpp.plugins.module_utils.store.locks import (
    DEFAULT_LOCK_LEASE,
    DEFAULT_LOCK_TIMEOUT,
    TokenLocks,
    delete_lock_row,
    write_lock_row,
)
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.applications import ApplicationsRepo
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.assets import AssetsRepo, asset_diff
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.assignments import AssignmentsRepo
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.audit import AUDIT_KINDS, AuditRepo
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.deployments import DeploymentsRepo
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.events import INTENT_STATUS, EventsRepo
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.installs import InstallsRepo
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.metadata import MetadataRepo
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.notifications import NotificationsRepo
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.tables import TablesRepo
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.tokens import TokensRepo
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.users import UsersRepo
from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import (
    APPLICATION_FIELDS,
    ASSET_FIELDS,
    BATCH_SIZE,
    COUNT_FIELDS,
    DEPLOYMENT_FIELDS,
    MEMBER_FIELDS,
    METADATA_FIELDS,
    TOKEN_FIELDS,
    USER_FIELDS,
)
from ansible_collections.mdm.vpp.plugins.module_utils.store.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    meta_value,
    migrate,
    schema_version,
)
from ansible_collections.mdm.vpp.plugins.module_utils.store.snapshots.assignments import AssignmentSnapshot
from ansible_collections.mdm.vpp.plugins.module_utils.store.snapshots.users import UserSnapshot
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import to_timestamp
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    ACTIONS,
    ACTIVE_USER_STATUSES,
    FINISHED_EVENT_STATES,
    MEMBER_STATES,
    TARGET_KINDS,
)

__all__ = [
    "ACTIONS",
    "ACTIVE_USER_STATUSES",
    "APPLICATION_FIELDS",
    "ASSET_FIELDS",
    "AUDIT_KINDS",
    "BATCH_SIZE",
    "COUNT_FIELDS",
    "DEFAULT_BUSY_TIMEOUT",
    "DEFAULT_LOCK_LEASE",
    "DEFAULT_LOCK_TIMEOUT",
    "DEFAULT_STORE_PATH",
    "DEPLOYMENT_FIELDS",
    "ENV_STORE",
    "ENV_STORE_KEY",
    "FINISHED_EVENT_STATES",
    "HAS_CRYPTOGRAPHY",
    "INTENT_STATUS",
    "MEMBER_FIELDS",
    "MEMBER_STATES",
    "METADATA_FIELDS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SQLITE_HEADER",
    "TARGET_KINDS",
    "TOKEN_FIELDS",
    "USER_FIELDS",
    "AssignmentSnapshot",
    "SQLiteDialect",
    "Store",
    "UserSnapshot",
    "asset_diff",
    "check_sqlite_file",
    "delete_lock_row",
    "missing_store",
    "open_store",
    "resolve_location",
    "to_timestamp",
    "write_lock_row",
]


def open_store(location=None, key=None, busy_timeout=DEFAULT_BUSY_TIMEOUT, migrate_to=None, create=True, upgrade=True):
    """Open (creating and upgrading as needed) the store at ``location`` and unlock it with ``key``.

    ``create=False`` (every module but ``vpp_token`` registering, and check mode) refuses a store that does not
    exist yet, or a database without the store's schema, and writes nothing (no file, key file nor directory).

    ``location``: a file path, ``sqlite:///abs/path``, or a ``postgresql://`` DSN; default ``VPP_STORE``, else
    ``~/.local/share/mdm.vpp/vpp.db``. ``key``: the passphrase protecting token secrets; default
    ``VPP_STORE_KEY``; for a SQLite store without one, a random key is kept in ``<db>.key`` (created on first use,
    see ``Store.key_generated`` / ``Store.key_file``). ``migrate_to`` stops migrations at that schema version
    (tooling and upgrade tests only). ``upgrade=False`` (check mode) refuses a store of an older schema version
    instead of migrating it.
    """
    if not HAS_CRYPTOGRAPHY:
        raise StoreError(
            "the store needs the Python library cryptography to encrypt token secrets",
            hint="install it on the controller (pip install cryptography)",
        )
    dialect = dialect_for(resolve_location(location), busy_timeout)
    return Store(dialect, key_from_environment(key), migrate_to=migrate_to, create=create, upgrade=upgrade)


class Store(
    TokensRepo,
    AssetsRepo,
    MetadataRepo,
    AssignmentsRepo,
    UsersRepo,
    ApplicationsRepo,
    DeploymentsRepo,
    InstallsRepo,
    EventsRepo,
    NotificationsRepo,
    AuditRepo,
    TablesRepo,
):
    """The state store. Obtain one with ``open_store()``; use it as a context manager or call ``close()``.

    ``db`` is its ``Database`` (the repositories' statements run there), ``cipher`` its unlocked key.
    """

    def __init__(self, dialect, key, migrate_to=None, create=True, upgrade=True):
        self.db = Database(dialect)
        self.location = dialect.location
        self.key_file = None
        self.key_generated = False
        self.cipher = None
        self.manager_id = None
        self._locks = TokenLocks(self.db)
        dialect.prepare(create)
        try:
            if not create and (self.schema_version == 0 or meta_value(self.db, "canary") is None):
                raise missing_store(self.location)  # an empty database (PostgreSQL) or a half-created store
            # MIGRATIONS and SCHEMA_VERSION are read from this module when a store opens: a test adds one here.
            target = SCHEMA_VERSION if migrate_to is None else migrate_to
            migrate(self.db, target, MIGRATIONS, SCHEMA_VERSION, upgrade=upgrade)
            unlocked = unlock(self.db, key)
            self.cipher, self.key_file, self.key_generated = unlocked.cipher, unlocked.key_file, unlocked.key_generated
            self.manager_id = meta_value(self.db, "manager_id")
        except BaseException:
            self.close()
            raise

    def __repr__(self):
        return "<Store %s %s>" % (self.db.dialect.name, self.location)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        """Close every connection this store opened (in any thread)."""
        self.db.close()

    @property
    def schema_version(self):
        """The schema version of the open store (0 for an empty database)."""
        return schema_version(self.db)

    @contextlib.contextmanager
    def transaction(self, rollback=False, shared=True):
        """Run the block in one transaction (nested blocks are savepoints); see ``Database.transaction()``.

        ``rollback=True`` undoes the block even when it succeeds (check mode: run the real code, keep nothing).
        """
        with self.db.transaction(rollback=rollback, shared=shared):
            yield self

    def token_lock(self, name, timeout=DEFAULT_LOCK_TIMEOUT, lease=DEFAULT_LOCK_LEASE):
        """Hold the lock of token ``name`` for the block; wait up to ``timeout`` seconds, else ``LockTimeoutError``.

        Two processes on one token run one after the other; different tokens proceed in parallel. A lock whose
        owner died (on this host) or whose lease ran out is taken over. The yielded handle's ``renew()`` extends
        the lease for very long work. Re-entering the lock of a token this thread already holds is allowed.
        """
        return self._locks.hold(name, timeout, lease)
