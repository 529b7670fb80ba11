# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store key: scrypt and Fernet, the SQLite store's key file, the canary that tells a wrong key.

The passphrase (``store_key`` / ``VPP_STORE_KEY``, else a SQLite store's ``<db>.key`` file) is stretched with
scrypt and a per-store salt into a Fernet key; a known text encrypted with it (the canary, in ``meta``) proves a
passphrase right before any token secret is decrypted.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import uuid

try:
    from cryptography.fernet import Fernet, InvalidToken
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - cryptography ships with ansible-core
    HAS_CRYPTOGRAPHY = False

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreKeyError
from ansible_collections.mdm.vpp.plugins.module_utils.store.schema import meta_value, set_meta

CANARY = b"mdm.vpp store key canary"
SCRYPT_PARAMS = {"n": 2**14, "r": 8, "p": 1}


class Cipher:
    """The unlocked store key: encrypts and decrypts token secrets."""

    def __init__(self, fernet):
        self._fernet = fernet

    def __repr__(self):
        return "<store key>"

    def encrypt(self, secret):
        """``secret`` (text) encrypted, as ASCII text."""
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext, name):
        """The secret of token ``name`` from its ``ciphertext``; ``StoreKeyError`` when this key does not open it."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise StoreKeyError("the secret of token %r cannot be decrypted with this store key" % name) from None


class UnlockedKey:
    """What ``unlock()`` found: the ``cipher``, the ``key_file`` read (or None) and whether it was just created."""

    def __init__(self, cipher, key_file, key_generated):
        self.cipher = cipher
        self.key_file = key_file
        self.key_generated = key_generated


def derive_fernet(passphrase, salt):
    """The Fernet key of ``passphrase`` with this store's ``salt`` (scrypt, ``SCRYPT_PARAMS``)."""
    kdf = Scrypt(salt=salt, length=32, **SCRYPT_PARAMS)
    return Fernet(base64.urlsafe_b64encode(kdf.derive(passphrase.encode("utf-8"))))


def read_key_file(path):
    """The passphrase kept in the key file ``path``."""
    try:
        with open(path, encoding="utf-8") as handle:
            key = handle.read().strip()
    except OSError as exc:
        raise StoreKeyError("cannot read the store key file %s: %s" % (path, exc.strerror)) from None
    if not key:
        raise StoreKeyError("the store key file %s is empty" % path)
    return key


def create_key_file(path):
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
            return read_key_file(path), False
    except OSError as exc:
        raise StoreKeyError(
            "cannot create the store key file %s: %s" % (path, exc.strerror),
            hint="pass store_key (or VPP_STORE_KEY), or make the store directory writable",
        ) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    return key, True


def unlock(db, key):
    """Open the store of ``db`` with passphrase ``key`` (None: its key file); return an ``UnlockedKey``.

    A store without key material yet gets it (salt, canary) from this passphrase; a SQLite store without a key
    given gets a new random key file.
    """
    location = db.dialect.location
    has_canary = meta_value(db, "canary") is not None
    key_file, key_generated = None, False
    if key is None:
        key, key_file, key_generated = _key_from_file(db.dialect.key_file, has_canary, location)
    if not has_canary:
        _initialise_key(db, key)
    salt = base64.b64decode(meta_value(db, "salt"))
    fernet = derive_fernet(key, salt)
    try:
        fernet.decrypt(meta_value(db, "canary").encode("ascii"))
    except InvalidToken:
        source = "the key in %s" % key_file if key_file else "the store key given"
        raise StoreKeyError("%s does not open store %s (wrong key)" % (source, location)) from None
    return UnlockedKey(Cipher(fernet), key_file, key_generated)


def _key_from_file(key_file, has_canary, location):
    """(passphrase, key file, whether it was just created) of a store opened without a key."""
    if key_file and os.path.exists(key_file):
        return read_key_file(key_file), key_file, False
    if has_canary:
        raise StoreKeyError(
            "store %s is protected by a key, but no key was given%s"
            % (location, " and the key file %s does not exist" % key_file if key_file else "")
        )
    if not key_file:
        raise StoreKeyError(
            "store %s keeps no key file: a store key is required" % location,
            hint="set store_key (or VPP_STORE_KEY) to a long random passphrase, the same on every node",
        )
    key, generated = create_key_file(key_file)
    return key, key_file, generated


def _initialise_key(db, key):
    with db.transaction():
        if meta_value(db, "canary") is not None:
            return  # another process initialised it first; unlock() checks our key against its canary
        salt = os.urandom(16)
        set_meta(db, "kdf", "scrypt:n=%(n)d,r=%(r)d,p=%(p)d" % SCRYPT_PARAMS)
        set_meta(db, "salt", base64.b64encode(salt).decode("ascii"))
        set_meta(db, "canary", derive_fernet(key, salt).encrypt(CANARY).decode("ascii"))
