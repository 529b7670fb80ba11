# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An event source for ansible-rulebook: an MDM server's webhook, its device answers recorded in the store."""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import sys

from aiohttp import web

DOCUMENTATION = r"""
---
short_description: Receive NanoMDM / MicroMDM webhooks and record the device answers of deployments.
description:
  - An HTTP server for the webhook of NanoMDM (C(-webhook-url)) or MicroMDM (C(-command-webhook-url)).
  - Each device answer to an InstallApplication or RemoveApplication command, and each DDM status report of an
    C(app.managed) declaration, is recorded in the mdm.vpp store once (a repeated delivery changes nothing), the
    server answers 200, then one event per deployment member whose install state changed is put on the queue.
  - An answer no member waits on gives one event with C(matched=false); an Idle report gives none.
options:
  host:
    description: The address to listen on.
    type: str
    default: 127.0.0.1
  port:
    description: The TCP port to listen on.
    type: int
    required: true
  store:
    description: The mdm.vpp store (SQLite path or postgresql:// DSN); default the environment variable VPP_STORE.
    type: str
  store_key:
    description: The store key; default VPP_STORE_KEY (a SQLite store may use its key file instead).
    type: str
  mdm_path:
    description: The path the MDM server posts its webhook to.
    type: str
    default: /mdm/webhook
  mdm_hmac_key:
    description:
      - NanoMDM's C(-webhook-hmac-key); default VPP_MDM_WEBHOOK_SECRET. When set, a request without a valid
        C(X-Hmac-Signature) is refused with 401 and changes nothing.
    type: str
  certfile:
    description: A TLS certificate (PEM) to serve HTTPS with.
    type: str
  keyfile:
    description: The private key of O(certfile).
    type: str
"""

EXAMPLES = r"""
- name: Deployment answers from NanoMDM
  hosts: localhost
  sources:
    - mdm.vpp.vpp_events:
        port: 5000
        store: /var/lib/vpp/vpp.db
  rules:
    - name: Log every answer
      condition: event.vpp.kind == "mdm_answer"
      action:
        debug:
"""


def _collection_root():
    """The directory holding ``ansible_collections/`` (this file is .../mdm/vpp/extensions/eda/plugins/event_source)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.abspath(os.path.join(here, *[os.pardir] * 7))


if _collection_root() not in sys.path:
    sys.path.insert(0, _collection_root())

# pylint: disable=wrong-import-position
from ansible_collections.mdm.vpp.plugins.module_utils import mdm_answers  # noqa: E402
from ansible_collections.mdm.vpp.plugins.module_utils.errors import MDMError, StoreError  # noqa: E402
from ansible_collections.mdm.vpp.plugins.module_utils.mdm_receipts import record_answer  # noqa: E402
from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store  # noqa: E402

LOG = logging.getLogger("mdm.vpp.vpp_events")
SIGNATURE_HEADER = "X-Hmac-Signature"


async def read_body(request):
    """The raw body, at most ``MAX_WEBHOOK_BYTES`` (None beyond)."""
    limit = mdm_answers.MAX_WEBHOOK_BYTES
    if request.content_length is not None and request.content_length > limit:
        return None
    body = await request.content.read(limit + 1)
    return None if len(body) > limit else body


def mdm_handler(store, queue, hmac_key):
    """The handler of the MDM webhook path: verify, parse, record (in a worker thread), answer, then queue."""

    async def handle(request):
        body = await read_body(request)
        if body is None:
            return web.Response(status=413, text="Payload Too Large")
        if hmac_key and not mdm_answers.verify_signature(hmac_key, body, request.headers.get(SIGNATURE_HEADER)):
            LOG.warning("MDM webhook refused: missing or wrong %s", SIGNATURE_HEADER)
            return web.Response(status=401, text="Unauthorized")
        try:
            answer = mdm_answers.parse_webhook(body)
        except MDMError as exc:
            LOG.warning("MDM webhook refused: %s", exc)
            return web.Response(status=400, text="Bad Request")
        try:
            events = await asyncio.to_thread(record_answer, store, answer)
        except StoreError as exc:
            LOG.error("MDM webhook not recorded (the MDM server is answered 500): %s", exc)
            return web.Response(status=500, text="Internal Server Error")
        response = web.Response(status=200, text="OK")
        try:
            await response.prepare(request)
            await response.write_eof()
        except ConnectionError:
            LOG.warning("the MDM server closed the connection before the answer; the answer is recorded")
        for event in events:  # after the 200: a rule's slow action never holds the MDM server's webhook
            await queue.put(event)
        return response

    return handle


def routes(store, queue, args):
    """The routing table: one route per webhook kind (Apple's notifications join it on another path)."""
    hmac_key = args.get("mdm_hmac_key") or os.environ.get("VPP_MDM_WEBHOOK_SECRET")
    key_bytes = hmac_key.encode("utf-8") if hmac_key else None
    if key_bytes is None:
        LOG.warning("no mdm_hmac_key (VPP_MDM_WEBHOOK_SECRET): every POST to the webhook path is accepted unsigned")
    return [web.post(args.get("mdm_path") or "/mdm/webhook", mdm_handler(store, queue, key_bytes))]


def ssl_context(args):
    """An HTTPS context when ``certfile`` is given, else None."""
    if not args.get("certfile"):
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args["certfile"], args.get("keyfile"))
    return context


async def main(queue, args):
    """Serve the webhooks until cancelled."""
    location = args.get("store") or os.environ.get("VPP_STORE")
    if not location:
        raise ValueError(
            "mdm.vpp.vpp_events needs store (or the environment variable VPP_STORE): the mdm.vpp store whose "
            "deployments wait on the devices' answers; set it in the source's arguments or in ansible-rulebook's "
            "environment"
        )
    store = open_store(location, args.get("store_key") or os.environ.get("VPP_STORE_KEY"), create=False)
    app = web.Application(client_max_size=mdm_answers.MAX_WEBHOOK_BYTES + 1)
    app.add_routes(routes(store, queue, args))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, args.get("host") or "127.0.0.1", int(args["port"]), ssl_context=ssl_context(args))
    await site.start()
    LOG.info("mdm.vpp.vpp_events listening on %s:%s", args.get("host") or "127.0.0.1", args["port"])
    try:
        await asyncio.Future()
    finally:
        await runner.cleanup()
        store.close()


if __name__ == "__main__":

    class _PrintQueue(asyncio.Queue):
        async def put(self, item):
            print(item)

    asyncio.run(main(_PrintQueue(), {"port": 5000}))
