"""uvicorn's ``websockets-sansio`` protocol, with an answer to every refused handshake.

The websockets parser refuses a handshake whose header line is over 8 KB, or that has more than
128 headers, before any ASGI code runs; uvicorn then never sends the refusal, and the client
waits until it gives up. Here the refusal is sent, as kefu's JSON error (431
``headers_too_large``, 414 ``request_line_too_long`` or 400 ``bad_request``), and the
connection closed. Handshakes within those bounds reach :class:`kefu.api.errors.HeaderLimit`."""

from __future__ import annotations

import json

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import HeaderLineTooLong, RequestLineTooLong, TooManyHeaders

_HEADERS = (431, "Request Header Fields Too Large", "headers_too_large")
_REFUSALS: list[tuple[type[Exception], tuple[int, str, str]]] = [
    (HeaderLineTooLong, _HEADERS),
    (TooManyHeaders, _HEADERS),
    (RequestLineTooLong, (414, "URI Too Long", "request_line_too_long")),
]


def refusal(exc: Exception) -> bytes:
    """The whole HTTP answer to a handshake the parser refused with ``exc``."""
    status, reason, code = next(
        (answer for kind, answer in _REFUSALS if isinstance(exc, kind)),
        (400, "Bad Request", "bad_request"),
    )
    body = json.dumps({"error": {"code": code, "message": "the WebSocket handshake is refused"}})
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return (head + body).encode()


class AnsweringWebSocketProtocol(WebSocketsSansIOProtocol):
    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        refused = self.conn.handshake_exc
        if refused is not None and not self.handshake_initiated and not self.close_sent:
            self.close_sent = True
            self.conn.data_to_send()  # the parser's own plain-text answer: replaced by ours
            self.transport.write(refusal(refused))
            self.transport.close()
