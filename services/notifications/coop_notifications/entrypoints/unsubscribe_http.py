"""The one-click unsubscribe endpoint (RFC 8058) of the api process: `POST /unsubscribe?t=..&m=..
&c=..&s=..` with the body `List-Unsubscribe=One-Click` opts the member out of the category and
answers 200; a bad signature 403, a legal category 409, anything else 400. A plain-HTTP WSGI
server on COOP_UNSUBSCRIBE_PORT (unset: not started), meant to sit behind the cooperative's
HTTPS reverse proxy at COOP_UNSUBSCRIBE_URL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from coop_domain.errors import DomainError, FailedPrecondition, PermissionDenied
from coop_notifications.service_layer.unsubscribe import one_click_unsubscribe

_STATUS = {PermissionDenied: "403 Forbidden", FailedPrecondition: "409 Conflict"}


def app(uow_factory: Callable[[], Any], secret: bytes, clock: Callable[[], datetime]) -> Callable[..., Iterable[bytes]]:
    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def answer(status: str, text: str) -> list[bytes]:
            start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
            return [text.encode()]

        if environ.get("PATH_INFO") != "/unsubscribe":
            return answer("404 Not Found", "not found\n")
        if environ.get("REQUEST_METHOD") != "POST":
            return answer("405 Method Not Allowed", "POST List-Unsubscribe=One-Click to this link\n")
        q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            one_click_unsubscribe(uow_factory(), secret, q.get("t", ""), q.get("m", ""), q.get("c", ""),
                                  q.get("s", ""), clock())
        except DomainError as exc:
            return answer(_STATUS.get(type(exc), "400 Bad Request"), f"{exc}\n")
        return answer("200 OK", "unsubscribed\n")
    return wsgi


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:  # the api's JSON logs, not stderr lines
        pass


def serve(port: int, wsgi: Callable[..., Iterable[bytes]], host: str = "127.0.0.1") -> WSGIServer:
    server = make_server(host, port, wsgi, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="unsubscribe-http", daemon=True).start()
    return server
