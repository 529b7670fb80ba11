# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The environment's proxies still apply although the transport reads them once per host, not at every request."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import AppleError
from ansible_collections.mdm.vpp.plugins.module_utils.transport import forget_proxies


@pytest.fixture
def no_proxy_listening():
    """A local address where no proxy answers (a port bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return "http://127.0.0.1:%d" % port


@pytest.fixture(autouse=True)
def proxies_read_afresh():
    forget_proxies()
    yield
    forget_proxies()


def test_http_proxy_of_the_environment_is_used(monkeypatch, no_proxy_listening, make_client):
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", no_proxy_listening)
    with pytest.raises(AppleError, match="connection failed or was dropped"):
        make_client(retries=0).client_config()


def test_no_proxy_of_the_environment_is_honoured(monkeypatch, no_proxy_listening, make_client, sim):
    monkeypatch.setenv("HTTP_PROXY", no_proxy_listening)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert make_client().client_config()
    assert len([entry for entry in sim.request_log() if entry["path"].endswith("/client/config")]) == 1


def test_a_netrc_entry_never_replaces_the_token(monkeypatch, tmp_path, make_client, sim):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password other\n", encoding="ascii")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert make_client().client_config()  # the location's own token answered, not HTTP Basic from ~/.netrc
