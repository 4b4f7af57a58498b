"""A moto S3 server on 127.0.0.1 for tests that read through s3fs.

moto answers the S3 REST API in-process (``ThreadedMotoServer``), so s3fs talks to it over real
HTTP exactly as it would to AWS. Credentials are dummies; nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextlib.contextmanager
def moto_s3_server() -> Iterator[str]:
    """Run a moto S3 server on a free port of 127.0.0.1 and yield its endpoint URL.

    The dummy credentials are set in the environment for the duration so that botocore never looks
    for real ones (or queries an instance-metadata endpoint).
    """
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request on stderr
    saved = {name: os.environ.get(name) for name in DUMMY_CREDENTIALS}
    os.environ.update(DUMMY_CREDENTIALS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def s3_storage_options(endpoint_url: str) -> dict:
    """s3fs options that point at the moto endpoint with the dummy credentials."""
    return {
        "key": DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "secret": DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "client_kwargs": {"endpoint_url": endpoint_url, "region_name": "us-east-1"},
    }


def upload_tree(endpoint_url: str, local_root: str | Path, bucket: str) -> str:
    """Create ``bucket`` and upload every file under ``local_root``; return ``s3://bucket``."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=bucket)
    root = Path(local_root)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        client.upload_file(str(path), bucket, path.relative_to(root).as_posix())
    return f"s3://{bucket}"
