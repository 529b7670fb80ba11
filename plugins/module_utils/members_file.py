# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A members file on the controller, read one line at a time under the caps of ``members.py`` (docs/reliability.md),
and the members of
a collection from ``members`` and/or ``members_file`` (parsed and validated by ``members.py``)."""

from __future__ import annotations

import codecs
import os
import stat

from ansible_collections.mdm.vpp.plugins.module_utils import members
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.members import parse_members, too_many_members

# --- reading a members file --------------------------------------------------------------------------------------


def _unreadable(path, reason):
    return ConfigurationError(
        "cannot read members_file %s: %s" % (path, reason),
        hint="give the path of a readable UTF-8 text file on the controller",
    )


def _too_big(path, what):
    return ConfigurationError(
        "members_file %s is too big: %s" % (path, what),
        hint="split the collection into deployments with smaller members files; nothing was changed",
    )


def read_members_file(path):
    """The lines of a members file on the controller, as an iterator that reads one line at a time.

    Refused at once: anything but a regular file (``/dev/zero``, a FIFO, a directory), a file over
    ``MAX_FILE_BYTES``, a line over ``MAX_LINE_BYTES`` (a file without newlines) and more data lines than
    ``MAX_FILE_MEMBERS`` (plus a header): a first pass counts them, keeping nothing, before any member is parsed."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise _unreadable(path, exc.strerror or type(exc).__name__) from None
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "a device, FIFO or socket"
        raise _unreadable(path, "it is %s, not a regular file" % kind)
    if os.stat(path).st_size > members.MAX_FILE_BYTES:
        raise _too_big(path, "more than %d MB, the cap of a members file" % (members.MAX_FILE_BYTES >> 20))
    count = 0
    for number, raw in enumerate(_file_lines(path), start=1):
        stripped = raw.strip()
        if stripped and not stripped.startswith(b"#"):
            count += 1
            if count > members.MAX_FILE_MEMBERS + 1:  # one more line may be the header: parse_members decides
                raise too_many_members(path, number)
    return _decoded(path)


def _decoded(path):
    """The file's lines again, as text: one not UTF-8 makes the file unreadable."""
    try:
        for raw in _file_lines(path):
            yield raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise _unreadable(path, "UnicodeDecodeError") from None


def _file_lines(path):
    """The file's lines as bytes (a BOM dropped), read one at a time under the byte and line caps."""
    total = 0
    try:
        with open(path, "rb") as handle:
            for number, raw in enumerate(iter(lambda: handle.readline(members.MAX_LINE_BYTES + 2), b""), start=1):
                total += len(raw)
                if total > members.MAX_FILE_BYTES:
                    raise _too_big(path, "more than %d MB, the cap of a members file" % (members.MAX_FILE_BYTES >> 20))
                if len(raw.rstrip(b"\r\n")) > members.MAX_LINE_BYTES:  # its end of line not counted
                    raise _too_big(
                        path, "line %d is longer than %d bytes, the cap of a line" % (number, members.MAX_LINE_BYTES)
                    )
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
                yield raw
    except OSError as exc:
        raise _unreadable(path, exc.strerror or type(exc).__name__) from None


def wanted_members(collection):
    """The collection's members from ``members`` and/or ``members_file``, validated before any call."""
    lines = read_members_file(collection["members_file"]) if collection.get("members_file") else None
    return parse_members(collection["type"], collection.get("members"), lines, source=collection.get("members_file"))
