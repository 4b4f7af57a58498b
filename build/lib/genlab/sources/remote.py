"""Retrying, time-bounded access to files on remote fsspec protocols (http(s), s3, gcs, ...).

Remote storage fails in two ways that need different answers: *transient* failures (a reset
connection, a 5xx answer, a request that stalls) usually succeed when tried again a moment later,
while *permanent* ones (404, 403) never will. :func:`read_bytes` retries only the first kind, with
exponential backoff, within a bound on attempts and on total time, and puts a hard timeout on every
request so that a stalled server can never hang a pipeline. A file that still fails raises an
``OSError`` naming its URL; the read stage turns that into a counted skip or an error per
``on_error``.

The policy (attempts, per-request timeout, backoff, overall deadline) is :class:`RetryPolicy`; when
none is passed it comes from ``GENLAB_REMOTE_ATTEMPTS``, ``GENLAB_REMOTE_TIMEOUT``, ... environment
variables (see :meth:`RetryPolicy.from_env`), which also reach worker processes. Credentials and
endpoints come the usual fsspec ways: ``storage_options``, ``fsspec.config`` or the protocol's own
environment variables (``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL_S3``, ...).

Protocol packages (aiohttp for http, s3fs/botocore for s3) are optional extras: they are imported by
fsspec when a filesystem of that protocol is first created, never when genlab is imported.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote

import fsspec
from fsspec.asyn import AsyncFileSystem
from fsspec.asyn import sync as _run_on_loop

T = TypeVar("T")

LOCAL_PROTOCOLS = frozenset({"file", "local", "memory", "zip", "tar", "reference"})
HTTP_PROTOCOLS = frozenset({"http", "https"})
S3_PROTOCOLS = frozenset({"s3", "s3a"})
TRANSIENT_STATUS = frozenset({408, 425, 429})  # and every 5xx


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How hard to try a remote request before giving up.

    Parameters
    ----------
    attempts : int
        Maximum number of tries of one request (1 = no retry).
    timeout : float
        Seconds one request may take before it is abandoned (a stall counts as a transient failure).
    backoff : float
        Delay before the first retry; each later retry waits ``backoff_factor`` times longer.
    backoff_factor : float
        Growth of the delay between retries.
    max_backoff : float
        Upper bound on one delay.
    deadline : float
        Upper bound, in seconds, on the wall-clock time spent on one file, all requests, retries
        and delays included: a whole-file read, or the whole stream of a tar shard (each
        attempt's timeout is cut to what is left of it).

    Examples
    --------
    >>> RetryPolicy(attempts=3, backoff=0.5).delays()
    [0.5, 1.0]
    """

    attempts: int = 4
    timeout: float = 30.0
    backoff: float = 0.2
    backoff_factor: float = 2.0
    max_backoff: float = 5.0
    deadline: float = 120.0

    def __post_init__(self) -> None:
        if not isinstance(self.attempts, int) or self.attempts < 1:
            raise ValueError(f"RetryPolicy: attempts must be an int >= 1, got {self.attempts!r}")
        for name in ("timeout", "deadline"):
            if not getattr(self, name) > 0:
                raise ValueError(f"RetryPolicy: {name} must be > 0, got {getattr(self, name)!r}")
        for name in ("backoff", "max_backoff"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"RetryPolicy: {name} must be >= 0, got {getattr(self, name)!r}")
        if not self.backoff_factor >= 1:
            raise ValueError(
                f"RetryPolicy: backoff_factor must be >= 1, got {self.backoff_factor!r}"
            )

    def delays(self) -> list[float]:
        """Nominal delays before each retry (before jitter), ``attempts - 1`` of them."""
        return [
            min(self.backoff * self.backoff_factor**i, self.max_backoff)
            for i in range(self.attempts - 1)
        ]

    @classmethod
    def from_env(cls, environ: dict | None = None) -> RetryPolicy:
        """The default policy, with fields overridden by ``GENLAB_REMOTE_<FIELD>`` variables.

        Environment variables reach DataLoader workers and Dask workers started from this process,
        and can be set on every machine of a cluster.

        >>> RetryPolicy.from_env({"GENLAB_REMOTE_ATTEMPTS": "2", "GENLAB_REMOTE_TIMEOUT": "5"})
        RetryPolicy(attempts=2, timeout=5.0, backoff=0.2, backoff_factor=2.0, max_backoff=5.0, deadline=120.0)
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            text = environ.get(f"GENLAB_REMOTE_{f.name.upper()}")
            if text is None:
                continue
            try:
                values[f.name] = int(text) if f.name == "attempts" else float(text)
            except ValueError as e:
                raise ValueError(
                    f"GENLAB_REMOTE_{f.name.upper()} must be a number, got {text!r}"
                ) from e
        return cls(**values)


RETRY_SETTINGS = ("attempts", "timeout", "deadline", "backoff")
"""The retry settings a pipeline spec may record (the rest come from the environment)."""


def check_retry_settings(settings: Any, where: str = "source") -> dict | None:
    """Validate retry settings given as a dict; return them as plain JSON numbers (or None).

    >>> check_retry_settings({"attempts": 2, "timeout": 5})
    {'attempts': 2, 'timeout': 5.0}
    >>> check_retry_settings({"tries": 2})
    Traceback (most recent call last):
    ...
    ValueError: source: parameter 'retry' has unknown setting 'tries'; known: ['attempts', 'timeout', 'deadline', 'backoff']
    """
    if settings is None:
        return None
    if isinstance(settings, RetryPolicy):
        settings = {name: getattr(settings, name) for name in RETRY_SETTINGS}
    if not isinstance(settings, dict):
        raise ValueError(
            f"{where}: parameter 'retry' must be a dict of {list(RETRY_SETTINGS)}, got {settings!r}"
        )
    unknown = sorted(set(settings) - set(RETRY_SETTINGS))
    if unknown:
        raise ValueError(
            f"{where}: parameter 'retry' has unknown setting {unknown[0]!r}; known: {list(RETRY_SETTINGS)}"
        )
    clean: dict[str, Any] = {}
    for name in RETRY_SETTINGS:
        if name in settings:
            value = settings[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{where}: retry setting {name!r} must be a number, got {value!r}")
            clean[name] = (
                int(value) if name == "attempts" and float(value).is_integer() else float(value)
            )
    try:
        dataclasses.replace(RetryPolicy(), **clean)
    except ValueError as e:
        raise ValueError(f"{where}: parameter 'retry': {e}") from e
    return clean


def policy_from_settings(settings: dict | None) -> RetryPolicy | None:
    """The policy of a spec's retry settings: the environment's, with the settings that are set.

    None when nothing is set, so that callers fall back to :func:`default_policy` at read time.
    """
    if not settings:
        return None
    return dataclasses.replace(RetryPolicy.from_env(), **settings)


def default_policy() -> RetryPolicy:
    """The policy used when none is given: :meth:`RetryPolicy.from_env`."""
    return RetryPolicy.from_env()


def protocol_of(url: str) -> str:
    """The fsspec protocol of ``url`` ("file" for a plain path); for a chain, the innermost one.

    >>> protocol_of("s3://bucket/images"), protocol_of("/data/images"), protocol_of("zip::http://h/a.zip")
    ('s3', 'file', 'http')
    """
    protocol = fsspec.utils.get_protocol(str(url).split("::")[-1])
    return "file" if protocol in ("file", "local") else protocol


def is_remote(url: str) -> bool:
    """Whether ``url`` is on a network protocol (needs retries and timeouts).

    >>> is_remote("https://example.org/data"), is_remote("memory://x"), is_remote("/tmp/x")
    (True, False, False)
    """
    return protocol_of(url) not in LOCAL_PROTOCOLS


def filesystem(
    url: str, storage_options: dict | None = None, policy: RetryPolicy | None = None
) -> tuple[fsspec.AbstractFileSystem, str]:
    """Return ``(fs, path)`` for ``url`` with per-socket timeouts set for known remote protocols.

    Options given in ``storage_options`` win over the defaults added here. fsspec caches the
    filesystem instance, so calling this for every file costs a dictionary lookup.
    """
    policy = policy or default_policy()
    options = dict(storage_options or {})
    if "::" not in url:  # a chain's options are nested per protocol: left to the caller
        options = _with_timeouts(protocol_of(url), options, policy.timeout)
    return fsspec.core.url_to_fs(url, **options)


def _with_timeouts(protocol: str, options: dict, timeout: float) -> dict:
    if protocol in HTTP_PROTOCOLS:
        import aiohttp  # optional (the remote extra): only for HTTP

        client_kwargs = dict(options.get("client_kwargs") or {})
        client_kwargs.setdefault(
            "timeout", aiohttp.ClientTimeout(sock_connect=timeout, sock_read=timeout)
        )
        options["client_kwargs"] = client_kwargs
    elif protocol in S3_PROTOCOLS:
        config_kwargs = dict(options.get("config_kwargs") or {})
        config_kwargs.setdefault("connect_timeout", timeout)
        config_kwargs.setdefault("read_timeout", timeout)
        # botocore tries once; s3fs's own short retry loop runs inside genlab's per-attempt timeout.
        config_kwargs.setdefault("retries", {"max_attempts": 1, "mode": "standard"})
        options["config_kwargs"] = config_kwargs
    return options


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is worth retrying: a timeout, a dropped connection or a 5xx/429 answer.

    Missing files and refused permissions are permanent. The exception's cause chain is searched
    for an HTTP status, so errors that s3fs or fsspec translate keep their classification.

    >>> is_transient(ConnectionResetError()), is_transient(TimeoutError())
    (True, True)
    >>> is_transient(FileNotFoundError("x")), is_transient(PermissionError("x"))
    (False, False)
    """
    status = http_status(error)
    if status is not None:
        return status >= 500 or status in TRANSIENT_STATUS
    if isinstance(
        error, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)
    ):
        return False
    if isinstance(error, (TimeoutError, ConnectionError)):
        return True
    return isinstance(error, _transient_library_errors())


@functools.cache
def _transient_library_errors() -> tuple[type[BaseException], ...]:
    """Connection-level error classes of the optional protocol libraries that are installed."""
    classes: list[type[BaseException]] = []
    try:
        import aiohttp  # as above

        classes += [aiohttp.ClientConnectionError, aiohttp.ClientPayloadError]
    except ImportError:
        pass
    try:
        import botocore.exceptions as boto  # only for S3

        classes += [boto.ConnectionError, boto.HTTPClientError, boto.IncompleteReadError]
    except ImportError:
        pass
    try:
        import requests  # only for HTTP

        classes += [requests.ConnectionError, requests.Timeout]
    except ImportError:
        pass
    return tuple(classes)


def http_status(error: BaseException) -> int | None:
    """The HTTP status code carried by ``error`` or one of its causes, if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        status = getattr(current, "status", None)  # aiohttp.ClientResponseError
        if status is None:
            response = getattr(current, "response", None)
            status = getattr(response, "status_code", None)  # requests.HTTPError
            if status is None and isinstance(response, dict):  # botocore ClientError
                status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(status, int):
            return status
        current = current.__cause__ or current.__context__
    return None


def with_retries(
    func: Callable[[float], T],
    *,
    url: str,
    action: str = "read",
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    until: float | None = None,
) -> T:
    """Call ``func(timeout)`` until it succeeds, retrying transient errors within ``policy``.

    ``timeout`` is the time the attempt may take: ``policy.timeout``, shortened so that the attempt
    ends by ``policy.deadline`` (or by ``until``, a :func:`time.monotonic` time, when that comes
    first: the deadline of a whole file read in many calls).

    Raises
    ------
    FileNotFoundError, PermissionError
        At once for a missing or forbidden ``url`` (HTTP 404 / 401 / 403 included).
    OSError
        For any other permanent error, or when the attempts or the deadline are used up; the
        message names ``url``, the attempts made and the time spent, and ``__cause__`` is the last
        error.
    """
    policy = policy or default_policy()
    start = time.monotonic()
    end = start + policy.deadline if until is None else min(until, start + policy.deadline)
    delays = policy.delays()
    attempt = 0
    while True:
        attempt += 1
        try:
            return func(min(policy.timeout, max(end - time.monotonic(), 1e-3)))
        except Exception as error:  # noqa: BLE001 - classified below, re-raised with the URL
            now = time.monotonic()
            if not is_transient(error):
                raise _permanent_error(error, url, action) from error
            delay = (
                delays[attempt - 1] * random.uniform(0.5, 1.0) if attempt <= len(delays) else None
            )
            if delay is None or now + delay >= end:
                why = " (its deadline passed)" if delay is not None else ""
                raise OSError(
                    f"{action} {url!r} failed after {attempt} attempt(s) in {now - start:.1f}s"
                    f"{why}: {_describe(error)}"
                ) from error
            sleep(delay)


def _permanent_error(error: BaseException, url: str, action: str) -> OSError:
    status = http_status(error)
    if isinstance(error, FileNotFoundError) or status in (404, 410):
        return FileNotFoundError(f"{action} {url!r}: not found ({_describe(error)})")
    if isinstance(error, PermissionError) or status in (401, 403):
        return PermissionError(f"{action} {url!r}: permission denied ({_describe(error)})")
    return OSError(f"{action} {url!r} failed: {_describe(error)}")


def _describe(error: BaseException) -> str:
    status = http_status(error)
    text = f"HTTP {status}" if status is not None else (str(error) or "")
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def read_bytes(
    url: str, *, storage_options: dict | None = None, policy: RetryPolicy | None = None
) -> bytes:
    """Read the whole file at ``url``, retrying transient failures with backoff.

    Every request is abandoned after ``policy.timeout`` seconds (on asynchronous filesystems such as
    http and s3 the pending request is cancelled), so a stalled server costs at most
    ``policy.deadline`` seconds, never a hang.

    Parameters
    ----------
    url : str
        fsspec URL of the file (``https://...``, ``s3://bucket/key``, ``memory://...``).
    storage_options : dict, optional
        Passed to the filesystem (credentials, ``client_kwargs`` such as an ``endpoint_url``).
    policy : RetryPolicy
        Attempts, per-request timeout, backoff and overall deadline.

    Returns
    -------
    bytes
        The file's content.
    """
    policy = policy or default_policy()
    fs, path = filesystem(url, storage_options, policy)
    if isinstance(fs, AsyncFileSystem) and fs.asynchronous is False:

        def request(timeout: float) -> bytes:
            return _run_on_loop(fs.loop, fs._cat_file, path, timeout=timeout)

    else:

        def request(timeout: float) -> bytes:
            return fs.cat_file(path)

    return with_retries(request, url=url, action="reading", policy=policy)


def list_files(
    root: str, *, storage_options: dict | None = None, policy: RetryPolicy | None = None
) -> list[str]:
    """List every file under ``root`` once, recursively, as URLs spelled from ``root``, sorted.

    Hidden files are included: the caller's discovery rules decide what to keep. A listing that
    fails transiently is retried as a whole within ``policy``; an empty or missing root raises
    ``FileNotFoundError`` naming it.

    Examples
    --------
    >>> import fsspec
    >>> fsspec.filesystem("memory").pipe({"/doc/cats/a.png": b"1", "/doc/dogs/b.png": b"2"})
    >>> list_files("memory://doc")
    ['memory://doc/cats/a.png', 'memory://doc/dogs/b.png']
    """
    base = root.rstrip("/") + "/"
    return [base + rel for rel in _find_relative(root, storage_options, policy)]


def _find_relative(
    root: str, storage_options: dict | None, policy: RetryPolicy | None
) -> list[str]:
    """Relative paths (as listed, percent-escapes kept) of every file below ``root``, sorted."""
    policy = policy or default_policy()
    fs, path = filesystem(root, storage_options, policy)
    base = path.rstrip("/")

    def request(timeout: float) -> list[str]:
        fs.invalidate_cache(base)
        return fs.find(base, withdirs=False)

    found = with_retries(request, url=root, action="listing", policy=policy)
    if not found:
        raise FileNotFoundError(f"listing {root!r}: no files found")
    relative = []
    for name in found:
        if not name.startswith(base + "/"):
            raise ValueError(f"listing {root!r} returned {name!r}, which is not below it")
        relative.append(name[len(base) + 1 :])
    return sorted(relative)


def walk_files(
    root: str, *, storage_options: dict | None = None, policy: RetryPolicy | None = None
) -> list[str]:
    """Every file below ``root`` as a '/'-separated relative path, sorted, hidden ones left out.

    The same answer as :func:`genlab.sources.storage.walk_files` gives for a local folder, from one
    retried recursive listing. Percent-escapes in http listings are decoded, so a class folder named
    ``"my cats"`` is reported as such.

    >>> import fsspec
    >>> fsspec.filesystem("memory").pipe({"/walk/cats/a.png": b"1", "/walk/.cache/x": b"2"})
    >>> walk_files("memory://walk")
    ['cats/a.png']
    """
    decode = unquote if protocol_of(root) in HTTP_PROTOCOLS else str
    relative = []
    for rel in _find_relative(root, storage_options, policy):
        parts = [decode(part) for part in rel.split("/") if part]
        if parts and not any(part.startswith(".") for part in parts):
            relative.append("/".join(parts))
    return sorted(relative)


def list_dirs(
    root: str, *, storage_options: dict | None = None, policy: RetryPolicy | None = None
) -> list[str]:
    """The non-hidden folders directly inside ``root`` that hold files, from one listing, sorted.

    Object stores (S3, GCS) have no empty folders, so a remote root's classes are the first path
    components of its files.

    >>> import fsspec
    >>> fsspec.filesystem("memory").pipe({"/dirs/b/x.png": b"1", "/dirs/a/y/z.png": b"2"})
    >>> list_dirs("memory://dirs")
    ['a', 'b']
    """
    files = walk_files(root, storage_options=storage_options, policy=policy)
    return sorted({rel.split("/", 1)[0] for rel in files if "/" in rel})
