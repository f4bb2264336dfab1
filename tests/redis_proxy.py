"""A TCP proxy in front of the test redis-server that can lose a reply on purpose.

``drop_reply_to(marker)`` arms it: the next command whose bytes hold ``marker`` (a script's
SHA-1, say) reaches Redis and runs there, but its reply never reaches the client, whose
connection is closed instead. That is a network failure at the worst moment, and redis-py,
like any client with retries, sends the same command again on a new connection.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.redis_server import free_port


class ReplyDroppingProxy:
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dropped = 0
        self._markers: list[bytes] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._sockets: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def drop_reply_to(self, marker: bytes | str) -> None:
        """Lose the reply of the next command that holds ``marker``."""
        with self._lock:
            self._markers.append(marker.encode() if isinstance(marker, str) else marker)

    def close(self) -> None:
        """Stop: every connection through the proxy breaks, and new ones are refused."""
        self._closed = True
        # shutdown() wakes the thread blocked in accept(); close() alone leaves it listening.
        _close(self._listener, *self._sockets)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._sockets += [client, upstream]
            state = {"drop": False}
            threading.Thread(target=self._to_server, args=(client, upstream, state), daemon=True).start()
            threading.Thread(target=self._to_client, args=(upstream, client, state), daemon=True).start()

    def _to_server(self, client: socket.socket, upstream: socket.socket, state: dict) -> None:
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                with self._lock:
                    hit = next((m for m in self._markers if m in data), None)
                    if hit is not None:
                        self._markers.remove(hit)
                        state["drop"] = True
                upstream.sendall(data)
        _close(client, upstream)

    def _to_client(self, upstream: socket.socket, client: socket.socket, state: dict) -> None:
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                if state["drop"]:
                    self.dropped += 1
                    break
                client.sendall(data)
        _close(client, upstream)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
