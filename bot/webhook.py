"""The WeCom callback endpoint: verify, decrypt, parse, de-duplicate, dispatch, answer 200 fast."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from workflows.core.models import MEMBER_ID_MAX

from .runtime import Runtime
from .wecom import inbound as inbound_xml
from .wecom.crypto import CallbackRejected

log = logging.getLogger(__name__)
bp = Blueprint("wecom", __name__)


def _runtime() -> Runtime:
    return current_app.extensions["awardbot"]


def _read_body(limit: int) -> bytes:
    """Read at most `limit` bytes, chunked or not; raise 413 beyond it."""
    length = request.content_length
    if length is not None:
        if length > limit:
            raise CallbackRejected(413, "body too large")
        return request.stream.read(length)
    if not request.environ.get("wsgi.input_terminated"):
        # Without a length and without a server that de-chunks, the body cannot be bounded safely.
        raise CallbackRejected(411, "length required")
    data = request.environ["wsgi.input"].read(limit + 1)
    if len(data) > limit:
        raise CallbackRejected(413, "body too large")
    return data


@bp.get("/wecom/callback")
def verify_url() -> Response:
    """WeCom's URL verification: echo the decrypted echostr within a second."""
    rt = _runtime()
    try:
        plain = rt.verifier.verify_url(request.args.to_dict(), rt.clock().timestamp())
    except CallbackRejected as exc:
        log.info("verify refused: %s", exc.reason)
        return Response("", status=exc.status)
    return Response(plain, mimetype="text/plain")


@bp.post("/wecom/callback")
def receive() -> Response:
    """Receive one encrypted callback; all slow work happens later, outside this request."""
    rt = _runtime()
    worker = rt.dispatcher.worker
    if worker is None:
        return _receive(rt)
    with worker.serving():  # the routing worker lets requests in progress go first
        return _receive(rt)


def _receive(rt: Runtime) -> Response:
    try:
        body = _read_body(rt.settings.wecom.callback_max_bytes)
        now = rt.clock()
        plain = rt.verifier.decrypt(request.args.to_dict(), body, now.timestamp())
        message = inbound_xml.parse(plain, rt.settings.wecom.corp_id)
        if not message.userid:
            raise CallbackRejected(400, "no FromUserName")
        if len(message.userid) > MEMBER_ID_MAX:
            raise CallbackRejected(400, "FromUserName too long")
    except CallbackRejected as exc:
        log.info("callback refused: %s %s", exc.status, exc.reason)
        return Response("", status=exc.status)
    rt.dispatcher.handle(message, now)
    # Empty 200: received; replies go out through the outbox (WeCom does not retry).
    return Response("", status=200)
