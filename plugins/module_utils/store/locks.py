# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-token locks: waiting for one, re-entering it, the lock handle, and the ``locks`` rows naming its holder.

How a lock is taken is the dialect's (a lock row on SQLite, an advisory lock on PostgreSQL): ``TokenLocks``
polls ``dialect.try_lock()`` until it succeeds or the timeout runs out.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid

from ansible_collections.mdm.vpp.plugins.module_utils.errors import LockTimeoutError, StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import now_timestamp

DEFAULT_LOCK_TIMEOUT = 300.0
# A lock owner that is alive keeps its lock this long unless it renews it; a dead one on this host loses it at once.
DEFAULT_LOCK_LEASE = 3600.0


class LockHandle:
    """A held token lock: ``renew()`` extends its lease."""

    def __init__(self, db, name, lease):
        self.db = db
        self.name = name
        self.lease = lease
        self.owner = "%s:%d:%s" % (socket.gethostname(), os.getpid(), uuid.uuid4().hex)

    def __repr__(self):
        return "<token lock %r>" % self.name

    def renew(self):
        self.db.dialect.renew_lock(self.db, self.name, self.owner, self.lease)


class TokenLocks:
    """The token locks of one store; each thread knows the locks it holds (so it may re-enter them)."""

    def __init__(self, db):
        self.db = db
        self._local = threading.local()

    @contextlib.contextmanager
    def hold(self, name, timeout=DEFAULT_LOCK_TIMEOUT, lease=DEFAULT_LOCK_LEASE):
        """Hold the lock of token ``name`` for the block (see ``Store.token_lock()``); yield its ``LockHandle``."""
        held = self._held_locks()
        if name in held:
            held[name][1] += 1
            try:
                yield held[name][0]
            finally:
                held[name][1] -= 1
            return
        if self.db.in_transaction():
            raise StoreError("token_lock() must not be called inside a transaction (it would hold the write lock)")
        handle = LockHandle(self.db, name, lease)
        self._acquire(handle, timeout)
        held[name] = [handle, 1]
        try:
            yield handle
        finally:
            del held[name]
            self.db.dialect.unlock(self.db, name, handle.owner)

    def _held_locks(self):
        held = getattr(self._local, "locks", None)
        if held is None:
            held = self._local.locks = {}
        return held

    def _acquire(self, handle, timeout):
        deadline = time.monotonic() + timeout
        pause = 0.05
        while True:
            holder = self.db.dialect.try_lock(self.db, handle.name, handle.owner, handle.lease)
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


# -- the lock rows ----------------------------------------------------------------------------------------------


def read_lock_row(db, name):
    """Who holds token lock ``name`` (owner, host, pid, acquired_at, expires_at), or None."""
    return db.fetch_one("SELECT owner, host, pid, acquired_at, expires_at FROM locks WHERE name = ?", (name,))


def write_lock_row(db, name, owner, expires_at):
    """Record ``owner`` (this process) as the holder of token lock ``name``; call it inside a transaction."""
    db.execute(
        "INSERT INTO locks (name, owner, host, pid, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, host = excluded.host, "
        "pid = excluded.pid, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at",
        (name, owner, socket.gethostname(), os.getpid(), now_timestamp(), expires_at),
    )


def delete_lock_row(db, name, owner):
    """Forget ``owner``'s row of token lock ``name`` (a row another owner took over stays)."""
    with db.transaction():
        db.execute("DELETE FROM locks WHERE name = ? AND owner = ?", (name, owner))


def is_stale(holder, host, now):
    """Whether lock row ``holder`` no longer holds: its lease ran out, or its process on this ``host`` died."""
    if holder["expires_at"] < now:
        return True
    return holder["host"] == host and not _pid_alive(holder["pid"])


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
