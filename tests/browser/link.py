"""A TCP link between the phone and the server that a test can cut on the wire.

`page.route` sees only the page's own requests, not the service worker's, and
the field app syncs from both (Background Sync fires when the phone comes back
online). A fault on the wire hits whichever of them sends the push.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

PUSH_LINE = b"POST /sync/push "


class CutLink:
    """Listens on its own port and relays to `upstream_port`. After `arm()`, the next
    `POST /sync/push` goes through; when the server starts answering (it has committed),
    `on_cut` runs and the phone's connection is closed before it hears a byte."""

    def __init__(self, upstream_port: int, on_cut: Callable[[], None]) -> None:
        self.upstream_port = upstream_port
        self.on_cut = on_cut
        self.pushes = 0
        self.cuts = 0
        self._armed = False
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def arm(self) -> None:
        with self._lock:
            self._armed = True

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                phone, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(phone,), daemon=True).start()

    def _relay(self, phone: socket.socket) -> None:
        try:
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            phone.close()  # the server is down: the phone sees its connection cut
            return
        doomed = threading.Event()
        threading.Thread(target=self._up, args=(phone, server, doomed), daemon=True).start()
        try:
            while chunk := server.recv(65536):
                if doomed.is_set():
                    self.on_cut()
                    self.cuts += 1
                    break
                phone.sendall(chunk)
        except OSError:
            pass
        finally:
            _close(phone, server)

    def _up(self, phone: socket.socket, server: socket.socket, doomed: threading.Event) -> None:
        try:
            while chunk := phone.recv(65536):
                # HTTP/1.1 without pipelining: a request's first bytes start a read.
                if chunk.startswith(PUSH_LINE):
                    with self._lock:
                        self.pushes += 1
                        if self._armed:
                            self._armed = False
                            doomed.set()
                server.sendall(chunk)
        except OSError:
            pass
        finally:
            _close(phone, server)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
