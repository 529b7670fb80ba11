# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SQLite backend's files: location, permissions, the generated key file, encryption at rest, damage."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError, StoreKeyError
from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store
from tests.unit.store.test_processes import describe_from_processes


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "private" / "vpp.db")


def read_bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_directory_is_0700_and_database_files_0600(db_path, content_token):
    with open_store(db_path, key="k") as store:
        store.upsert_token("school", content_token())
        assert mode(os.path.dirname(db_path)) == 0o700
        for suffix in ("", "-wal", "-shm"):
            assert mode(db_path + suffix) == 0o600, suffix


def test_a_key_file_is_generated_beside_the_database_and_reused(db_path, content_token):
    with open_store(db_path) as first:
        assert first.key_generated is True
        assert first.key_file == db_path + ".key"
        first.upsert_token("school", content_token())
    assert mode(db_path + ".key") == 0o600
    with open(db_path + ".key", encoding="utf-8") as handle:
        key = handle.read().strip()
    assert len(key) >= 40

    with open_store(db_path) as second:
        assert second.key_generated is False
        assert second.key_file == db_path + ".key"
        assert second.get_token_secret("school") == content_token().secret
        assert key not in repr(second)
    with open_store(db_path, key=key) as explicit:  # the file holds a plain passphrase
        assert explicit.key_file is None and explicit.key_generated is False
        assert explicit.get_token_secret("school") == content_token().secret


def test_processes_creating_one_new_store_at_once_share_one_key_and_identity(db_path, child_env):
    outcomes = describe_from_processes(db_path, child_env)
    assert len({outcome["manager_id"] for outcome in outcomes}) == 1
    assert sum(outcome["key_generated"] for outcome in outcomes) == 1
    with open_store(db_path) as store:
        assert store.manager_id == outcomes[0]["manager_id"]


def test_a_store_with_a_key_but_no_key_given_is_refused(db_path):
    open_store(db_path, key="passphrase").close()
    with pytest.raises(StoreKeyError, match="protected by a key, but no key was given") as caught:
        open_store(db_path)
    assert "passphrase" not in str(caught.value)
    assert not os.path.exists(db_path + ".key")  # never generate a second, useless key


def test_a_lost_key_file_is_refused_not_regenerated(db_path):
    open_store(db_path).close()
    os.unlink(db_path + ".key")
    with pytest.raises(StoreKeyError, match="key file %s does not exist" % (db_path + ".key")):
        open_store(db_path)


def test_a_foreign_key_file_is_a_wrong_key(db_path):
    open_store(db_path, key="the real one").close()
    with open(db_path + ".key", "w", encoding="utf-8") as handle:
        handle.write("someone else's key\n")
    with pytest.raises(StoreKeyError, match="the key in .*vpp.db.key does not open store"):
        open_store(db_path)


def test_secrets_are_not_in_the_database_files(db_path, content_token):
    key = "a passphrase that must not leak"
    token = content_token(secret="INNER-SECRET-4f2a9c")
    with open_store(db_path, key=key) as store:
        store.upsert_token("school", token)
        raw = b"".join(read_bytes(db_path + suffix) for suffix in ("", "-wal"))
    assert token.fingerprint.encode() in raw  # the token row is there ...
    for secret in (token.secret, "INNER-SECRET-4f2a9c", key):
        assert secret.encode() not in raw  # ... but neither the token nor the key


def test_location_from_environment_and_sqlite_url(tmp_path, monkeypatch):
    path = str(tmp_path / "env" / "vpp.db")
    monkeypatch.setenv("VPP_STORE", "sqlite://" + path)
    monkeypatch.setenv("VPP_STORE_KEY", "from the environment")
    with open_store() as store:
        assert store.location == path and store.key_file is None
    with pytest.raises(StoreKeyError):
        open_store(path, key="another key")


def test_default_location_is_under_the_home_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("VPP_STORE", raising=False)
    monkeypatch.delenv("VPP_STORE_KEY", raising=False)
    with open_store() as store:
        assert store.location == str(tmp_path / ".local" / "share" / "mdm.vpp" / "vpp.db")
        assert store.key_generated is True


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("sqlite://relative/vpp.db", "not a valid SQLite URL"),
        ("mysql://db/vpp", "unsupported store location scheme 'mysql'"),
    ],
)
def test_unusable_locations_are_clear_errors(location, message):
    with pytest.raises(StoreError, match=message):
        open_store(location, key="k")


def test_a_file_that_is_not_a_database_is_a_clear_error(db_path):
    os.makedirs(os.path.dirname(db_path))
    with open(db_path, "wb") as handle:
        handle.write(b"this is a shopping list, not a database\n" * 200)
    with pytest.raises(StoreError) as caught:
        open_store(db_path, key="k")
    assert caught.value.__class__ is StoreError  # exactly, not a subclass
    message = str(caught.value)
    assert db_path in message and "not an SQLite database" in message and "restore it from a backup" in message


def test_a_damaged_database_is_a_clear_error(db_path, content_token):
    with open_store(db_path, key="k") as store:
        store.upsert_token("school", content_token())
        store.replace_assets("school", [{"adam_id": str(n), "total_count": n} for n in range(2000)])
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with open(db_path, "r+b") as handle:  # keep the header, smash the pages after it
        handle.seek(4096)
        handle.write(b"\xff" * 64 * 1024)
    with pytest.raises(StoreError, match="malformed|not a database") as caught, open_store(db_path, key="k") as damaged:
        damaged.list_assets("school")
    assert "restore it from a backup" in str(caught.value)


def test_a_path_below_a_regular_file_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the store .*not-a-directory/vpp.db") as caught:
        open_store(str(blocker / "vpp.db"), key="k")
    assert "%s is a file, not a directory" % blocker in str(caught.value)
    assert "choose a writable location" in str(caught.value)


def test_a_directory_without_write_permission_is_a_clear_error(child_env):
    """Run as an unprivileged user (root ignores permissions), in a directory that user may read but not write."""
    directory = tempfile.mkdtemp(prefix="vpp-readonly-")
    try:
        os.chmod(directory, 0o555)
        probe = (
            "import os, sys\n"
            "from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError\n"
            "from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store\n"
            "if os.geteuid() == 0:\n"
            "    os.setgid(65534)\n"
            "    os.setuid(65534)  # nobody: the interpreter under /root was loaded while still root\n"
            "try:\n"
            "    open_store(sys.argv[1], key='k')\n"
            "except StoreError as exc:\n"
            "    print(exc)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", probe, os.path.join(directory, "vpp.db")],
            env=child_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.chmod(directory, 0o700)
        os.rmdir(directory)
    assert result.returncode == 0, result.stderr
    assert "cannot create the store" in result.stdout and "Permission denied" in result.stdout
    assert "choose a writable location" in result.stdout
