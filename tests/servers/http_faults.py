"""A small HTTP file server on 127.0.0.1 that can fail on demand.

It serves a directory with HTML directory listings (what fsspec's HTTPFileSystem parses to list a
tree) and lets a test make the first N requests for a path fail:

- ``"503"`` (or any 5xx/4xx code as a string): answer with that status,
- ``"reset"``: close the connection with a TCP reset before answering,
- ``"truncate"``: announce the full length, send half the body, then close,
- ``"cut"``: like ``"truncate"`` but with the file's real first half (a stream cut mid-file),
- ``"drop"``: like ``"cut"``, but the connection is dropped ``drop_seconds`` after the first half was
  sent, so the client has read it (a connection lost in the middle of a long download),
- ``"stall"``: accept the request and send nothing until ``stall_seconds`` pass (or the server stops),
- ``"trickle"``: send the file one byte every ``trickle_seconds`` (each read answers well within any
  per-read timeout; only a deadline on the whole file ends it).

The serving loop is bounded: it ends on ``stop()`` or after ``lifetime`` seconds, whichever is first,
so a forgotten server never outlives its test for long.
"""

from __future__ import annotations

import functools
import socket
import struct
import threading
import time
from collections import Counter
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

FAULT_KINDS = ("reset", "truncate", "cut", "drop", "stall", "trickle")


class _Handler(SimpleHTTPRequestHandler):
    server: _FaultyServer  # type: ignore[assignment]

    def log_message(self, format, *args):  # noqa: A002 - silence the per-request log
        pass

    def _fault_or_none(self) -> str | None:
        path = unquote(urlsplit(self.path).path)
        return self.server.owner._take_fault(path)

    def do_GET(self):  # noqa: N802 - http.server naming
        if not self._apply_fault():
            super().do_GET()

    def do_HEAD(self):  # noqa: N802
        if not self._apply_fault():
            super().do_HEAD()

    def _apply_fault(self) -> bool:
        fault = self._fault_or_none()
        if fault is None:
            return False
        if fault == "reset":
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        elif fault in ("truncate", "cut", "drop"):
            if fault != "truncate":
                body = Path(self.translate_path(self.path)).read_bytes()
            else:
                body = b"x" * 4096
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            if fault == "drop":
                self.server.owner._stop.wait(self.server.owner.drop_seconds)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif fault == "trickle":
            self._trickle(Path(self.translate_path(self.path)).read_bytes())
        elif fault == "stall":
            self.server.owner._stop.wait(self.server.owner.stall_seconds)
            self.close_connection = True
        else:
            self.send_error(int(fault), "injected fault")
        return True

    def _trickle(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.close_connection = True
        stop = self.server.owner._stop
        try:
            for i in range(len(body)):
                if stop.wait(self.server.owner.trickle_seconds):
                    break
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
        except OSError:  # the client gave up
            pass


class _FaultyServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: FaultyHTTPServer


class FaultyHTTPServer:
    """Serve ``root`` over HTTP on 127.0.0.1 with injectable faults.

    Parameters
    ----------
    root : str or Path
        Directory to serve.
    lifetime : float
        Seconds after which the serving loop ends on its own.
    stall_seconds : float
        How long a ``"stall"`` fault holds a request before closing it.
    trickle_seconds : float
        The pause between two bytes of a ``"trickle"`` fault.
    drop_seconds : float
        How long a ``"drop"`` fault waits, the first half sent, before dropping the connection.

    Examples
    --------
    >>> import tempfile
    >>> with FaultyHTTPServer(tempfile.mkdtemp()) as server:
    ...     server.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(
        self,
        root: str | Path,
        *,
        lifetime: float = 300.0,
        stall_seconds: float = 30.0,
        trickle_seconds: float = 0.01,
        drop_seconds: float = 1.0,
    ):
        self.root = Path(root)
        self.lifetime = lifetime
        self.stall_seconds = stall_seconds
        self.trickle_seconds = trickle_seconds
        self.drop_seconds = drop_seconds
        self.hits: Counter[str] = Counter()
        self._faults: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        handler = functools.partial(_Handler, directory=str(self.root))
        self._httpd = _FaultyServer(("127.0.0.1", 0), handler)
        self._httpd.owner = self
        self._httpd.timeout = 0.05
        self._thread = threading.Thread(target=self._serve, name="faulty-http", daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the server, without a trailing slash."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def inject(self, path: str, kind: str, times: int = 1) -> None:
        """Make the next ``times`` requests for ``path`` fail with ``kind``.

        ``path`` is the URL path ("/cats/a.png"); ``kind`` is ``"reset"``, ``"truncate"``, ``"cut"``,
        ``"drop"``, ``"stall"``, ``"trickle"`` or an HTTP status code such as ``"503"``.
        """
        if kind not in FAULT_KINDS and not (kind.isdigit() and 400 <= int(kind) < 600):
            raise ValueError(f"unknown fault kind {kind!r}; use one of {FAULT_KINDS} or a status")
        with self._lock:
            self._faults.setdefault(path, []).extend([kind] * times)

    def _take_fault(self, path: str) -> str | None:
        with self._lock:
            self.hits[path] += 1
            queue = self._faults.get(path)
            return queue.pop(0) if queue else None

    def _serve(self) -> None:
        deadline = time.monotonic() + self.lifetime
        while not self._stop.is_set() and time.monotonic() < deadline:
            self._httpd.handle_request()

    def start(self) -> FaultyHTTPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._httpd.server_close()

    def __enter__(self) -> FaultyHTTPServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
