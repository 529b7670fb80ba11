# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An event source for ansible-rulebook: an MDM server's webhook, its device answers recorded in the store, and
Apple's notifications (license counts, outcomes of license and user changes) recorded in the store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
import sys

from aiohttp import web

DOCUMENTATION = r"""
---
short_description: Receive MDM webhooks and Apple's notifications and record them in the mdm.vpp store.
description:
  - An HTTP server for the webhook of NanoMDM (C(-webhook-url)) or MicroMDM (C(-command-webhook-url)).
  - Each device answer to an InstallApplication or RemoveApplication command, and each DDM status report of an
    C(app.managed) declaration, is recorded in the mdm.vpp store once (a repeated delivery changes nothing), the
    server answers 200, then one event per deployment member whose install state changed is put on the queue.
  - An answer no member waits on gives one event with C(matched=false); an Idle report gives none.
  - Apple's notifications (configured per token with M(mdm.vpp.vpp_token)'s C(notification_url)) arrive on
    O(apple_path). The Bearer secret of the C(Authorization) header is checked against the stored secrets of the
    tokens of the notification's location (a wrong or missing one is refused with 401 and changes nothing).
  - Each notification is applied once per token (C(notificationId)), recording license counts (C(ASSET_COUNT)), the
    outcome of an associate, disassociate or revoke for the deployment members waiting on it (C(ASSET_MANAGEMENT)),
    users' status and invitations (C(USER_MANAGEMENT), C(USER_ASSOCIATED)). Apple is answered 200, then one event
    per fact is queued.
  - Apple posts to HTTPS only, so serve O(certfile) and O(keyfile) (or put a TLS proxy in front).
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
  apple_path:
    description: The path Apple posts its notifications to (the path of the tokens' C(notification_url)).
    type: str
    default: /apple/notifications
  low_threshold:
    description: An app is C(low) in a C(license_count) event when at most this many licenses are available.
    type: int
    default: 5
  receipt_retention_days:
    description:
      - How many days an applied notification or device answer is remembered, to apply a repeated delivery once
        (Apple retries within minutes). Older ones are forgotten when the source starts and every hour after,
        except each token's newest notification (deployments rely on notifications only for a token whose
        notifications reach this store).
    type: int
    default: 7
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

- name: Apple's notifications over HTTPS
  hosts: localhost
  sources:
    - mdm.vpp.vpp_events:
        host: 0.0.0.0
        port: 8443
        certfile: /etc/vpp/tls/cert.pem
        keyfile: /etc/vpp/tls/key.pem
        low_threshold: 10
  rules:
    - name: Few licenses left
      condition: event.vpp.kind == "license_count" and event.vpp.became_low
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
from ansible_collections.mdm.vpp.plugins.module_utils import apple_notifications, mdm_answers  # noqa: E402
from ansible_collections.mdm.vpp.plugins.module_utils.change_events import DEFAULT_LOW_THRESHOLD  # noqa: E402
from ansible_collections.mdm.vpp.plugins.module_utils.errors import MDMError, StoreError  # noqa: E402
from ansible_collections.mdm.vpp.plugins.module_utils.mdm_receipts import record_answer  # noqa: E402
from ansible_collections.mdm.vpp.plugins.module_utils.notification_receipts import (  # noqa: E402
    RECEIPT_RETENTION_DAYS,
    forget_old_receipts,
    record_notification,
)
from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store  # noqa: E402

LOG = logging.getLogger("mdm.vpp.vpp_events")
SIGNATURE_HEADER = "X-Hmac-Signature"
FORGET_INTERVAL = 3600  # seconds between two looks for receipts older than receipt_retention_days


async def read_body(request, limit=mdm_answers.MAX_WEBHOOK_BYTES):
    """The raw body, at most ``limit`` bytes (None beyond)."""
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
        return await answer_then_queue(request, queue, events, "the MDM server")

    return handle


async def answer_then_queue(request, queue, events, sender):
    """Answer 200 (what was received is recorded), then put the events on the queue: a rule's slow action never
    holds the sender, and a slow ansible-rulebook loses nothing."""
    response = web.Response(status=200, text="OK")
    try:
        await response.prepare(request)
        await response.write_eof()
    except ConnectionError:
        LOG.warning("%s closed the connection before the answer; what it sent is recorded", sender)
    for event in events:
        await queue.put(event)
    return response


def authenticated_token(store, uid, header):
    """The name of the token of location ``uid`` whose notification secret is the Bearer of ``header``, or None."""
    return apple_notifications.matching_token(store.notification_tokens(uid), apple_notifications.bearer_of(header))


def apple_handler(store, queue, threshold):
    """The handler of Apple's notifications: bound, parse, authenticate, record (in a worker thread), answer, queue.

    Nothing is recorded from a body that is too large (413), malformed (400) or not signed with the Bearer secret
    of a token of its location (401). A repeated ``notificationId`` is answered 200 and applied once.
    """

    async def handle(request):
        body = await read_body(request, apple_notifications.MAX_NOTIFICATION_BYTES)
        if body is None:
            return web.Response(status=413, text="Payload Too Large")
        try:
            notification = apple_notifications.parse_notification(body)
        except apple_notifications.NotificationError as exc:
            LOG.warning("Apple notification refused: %s", exc)
            return web.Response(status=400, text="Bad Request")
        try:
            token = await asyncio.to_thread(
                authenticated_token, store, notification["uid"], request.headers.get("Authorization")
            )
            if token is None:
                LOG.warning("Apple notification refused: missing or wrong Bearer for location %s", notification["uid"])
                return web.Response(status=401, text="Unauthorized")
            duplicate, events = await asyncio.to_thread(record_notification, store, token, notification, threshold)
        except StoreError as exc:
            LOG.error("Apple notification not recorded (Apple is answered 500 and retries): %s", exc)
            return web.Response(status=500, text="Internal Server Error")
        LOG.info(
            "Apple notification %s (%s) of token %s %s",
            notification["notification_id"],
            notification["type"],
            token,
            "was already applied" if duplicate else "applied",
        )
        return await answer_then_queue(request, queue, events, "Apple")

    return handle


def routes(store, queue, args):
    """The routing table: the MDM server's webhook and Apple's notifications, each on its own path."""
    hmac_key = args.get("mdm_hmac_key") or os.environ.get("VPP_MDM_WEBHOOK_SECRET")
    key_bytes = hmac_key.encode("utf-8") if hmac_key else None
    if key_bytes is None:
        LOG.warning("no mdm_hmac_key (VPP_MDM_WEBHOOK_SECRET): every POST to the webhook path is accepted unsigned")
    threshold = args.get("low_threshold")
    threshold = DEFAULT_LOW_THRESHOLD if threshold is None else int(threshold)
    return [
        web.post(args.get("mdm_path") or "/mdm/webhook", mdm_handler(store, queue, key_bytes)),
        web.post(args.get("apple_path") or "/apple/notifications", apple_handler(store, queue, threshold)),
    ]


def retention_days(args):
    """``receipt_retention_days``, checked: a whole number of days, at least 1."""
    days = args.get("receipt_retention_days")
    if days is None:
        return RECEIPT_RETENTION_DAYS
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(
            "mdm.vpp.vpp_events: receipt_retention_days must be a whole number of days, at least 1 (got %r): it is "
            "how long an applied notification or device answer is remembered to apply a repeated delivery once" % days
        )
    return days


async def forget_receipts_hourly(store, days):
    """Forget old receipts now and every ``FORGET_INTERVAL``; a store error is logged and tried again later."""
    while True:
        try:
            forgotten = await asyncio.to_thread(forget_old_receipts, store, days)
        except StoreError as exc:
            LOG.warning("old notifications and device answers not forgotten (tried again in an hour): %s", exc)
        else:
            if any(forgotten.values()):
                LOG.info(
                    "forgot %d Apple notification(s) and %d device answer(s) applied more than %d day(s) ago",
                    forgotten["apple_notifications"],
                    forgotten["mdm_answers"],
                    days,
                )
        await asyncio.sleep(FORGET_INTERVAL)


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
    days = retention_days(args)
    store = open_store(location, args.get("store_key") or os.environ.get("VPP_STORE_KEY"), create=False)
    app = web.Application(client_max_size=mdm_answers.MAX_WEBHOOK_BYTES + 1)
    app.add_routes(routes(store, queue, args))
    runner = web.AppRunner(app, access_log=None)
    forgetting = None
    try:
        await runner.setup()
        site = web.TCPSite(runner, args.get("host") or "127.0.0.1", int(args["port"]), ssl_context=ssl_context(args))
        await site.start()
        LOG.info("mdm.vpp.vpp_events listening on %s:%s", args.get("host") or "127.0.0.1", args["port"])
        forgetting = asyncio.create_task(forget_receipts_hourly(store, days))
        await asyncio.Future()
    finally:
        if forgetting is not None:
            forgetting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await forgetting
        await runner.cleanup()
        store.close()


if __name__ == "__main__":

    class _PrintQueue(asyncio.Queue):
        async def put(self, item):
            print(item)

    asyncio.run(main(_PrintQueue(), {"port": 5000}))
