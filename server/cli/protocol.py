"""uvicorn's HTTP protocol (httptools) with a deadline and a size cap for every request's headers.

uvicorn closes idle keep-alive connections, but once a byte has arrived it waits for the
rest of the headers for ever, and httptools takes headers of any size: a few hundred
connections trickling headers (slowloris), or a few sending megabytes of them, would hold
the server. Here a request's headers must be complete within HEADERS_SECONDS of the
connection opening or of the previous response, and within MAX_HEADER_BYTES (else 431).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADERS_SECONDS = 10.0
MAX_HEADER_BYTES = 16 * 1024
_TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"


class BoundedHeaders(HttpToolsProtocol):
    _deadline: asyncio.TimerHandle | None = None  # set while a request's headers are awaited
    _header_bytes = 0

    def data_received(self, data: bytes) -> None:
        if self._deadline is not None:
            self._header_bytes += len(data)
        super().data_received(data)
        if self._deadline is not None and self._header_bytes > MAX_HEADER_BYTES:
            self._disarm()
            self.transport.write(_TOO_LARGE)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_bytes = 0
        self._deadline = self.loop.call_later(HEADERS_SECONDS, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        busy = self.cycle is not None and not self.cycle.response_complete  # a pipelined request
        if not busy and not self.transport.is_closing():
            self.transport.close()
