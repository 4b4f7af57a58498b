"""The faulty HTTP test server, answering ``Range: bytes=a-b`` requests with 206 as real servers do.

Python's ``http.server`` ignores ``Range``; Parquet readers ask for the footer and column chunks by
range, so their tests need a server that honours it (and one that does not, for the fallback).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from .http_faults import FaultyHTTPServer, _Handler

_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


class _RangeHandler(_Handler):
    def do_GET(self):  # noqa: N802 - http.server naming
        match = _RANGE.match(self.headers.get("Range", ""))
        if match is None or self._apply_fault():
            if match is None:
                super().do_GET()
            return
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = int(match.group(1))
        end = min(int(match.group(2)) + 1 if match.group(2) else len(data), len(data))
        body = data[start:end]
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class RangeHTTPServer(FaultyHTTPServer):
    """:class:`FaultyHTTPServer` that honours ``Range`` requests (faults are injected the same way).

    >>> import tempfile
    >>> with RangeHTTPServer(tempfile.mkdtemp()) as server:
    ...     server.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(self, root, **options):
        super().__init__(root, **options)
        self._httpd.RequestHandlerClass = functools.partial(_RangeHandler, directory=str(self.root))
