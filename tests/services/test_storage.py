"""Media storage: the same behaviour on local disk and on an S3-compatible server.

The S3 backend talks to moto's standalone server over real HTTP (a process boundary), the way
it talks to MinIO or AWS in production.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from services.core.settings import Settings
from services.core.storage import LocalStorage, MediaStorage, S3Storage
from tests.servers import free_port


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield url
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> MediaStorage:
    if request.param == "local":
        return LocalStorage(tmp_path / "media")
    return _s3_storage(request.getfixturevalue("s3_endpoint"))


def _s3_storage(endpoint: str) -> S3Storage:
    settings = Settings(
        media_backend="s3",
        s3_endpoint_url=endpoint,
        s3_bucket="parley-test",
        s3_access_key_id="test",
        s3_secret_access_key="test",
    )  # type: ignore[arg-type]
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket="parley-test")  # a second call finds it there: harmless
    return S3Storage(settings)


def test_put_get_assemble_copy_and_delete(storage: MediaStorage) -> None:
    parts = [bytes([i]) * (300_000 + i) for i in range(3)]
    for i, part in enumerate(parts):
        storage.put(f"answers/a1/chunks/{i:06d}", part)
    storage.put_parts("answers/a1/answer.webm", [f"answers/a1/chunks/{i:06d}" for i in range(3)])
    assert storage.get("answers/a1/answer.webm") == b"".join(parts)
    with storage.local_copy("answers/a1/answer.webm") as path:
        assert path.read_bytes() == b"".join(parts)
    storage.delete("answers/a1/answer.webm")
    assert not storage.exists("answers/a1/answer.webm")
    assert storage.exists("answers/a1/chunks/000000")


def test_keys_cannot_escape_the_store(storage: MediaStorage) -> None:
    for key in ("../etc/passwd", "/abs", "a//b", "a/./b"):
        with pytest.raises(ValueError):
            storage.put(key, b"x")


def test_a_missing_object_is_file_not_found(storage: MediaStorage) -> None:
    with pytest.raises(FileNotFoundError), storage.local_copy("answers/none/answer.webm"):
        pass


def test_a_folder_is_deleted_with_everything_under_it_and_nothing_else(
    storage: MediaStorage,
) -> None:
    for key in ("answers/d1/answer.webm", "answers/d1/chunks/000000", "answers/d10/answer.ogg"):
        storage.put(key, b"x")

    assert storage.delete_folder("answers/d1") == 2
    assert storage.delete_folder("answers/d1") == 0  # deleting again is harmless
    assert not storage.exists("answers/d1/answer.webm")
    assert not storage.exists("answers/d1/chunks/000000")
    assert storage.exists("answers/d10/answer.ogg")


def test_a_fifteen_minute_answer_goes_to_s3_in_parts_and_is_deleted_whole(
    s3_endpoint: str,
) -> None:
    storage = _s3_storage(s3_endpoint)
    # 15 minutes of Opus at 128 kbit/s (14.4 MB) in the recorder's 3-second chunks: 300 of
    # 48 kB, each different, so a part put in the wrong place would show.
    chunks = [bytes([i % 251]) * 47_000 + i.to_bytes(4, "big") * 250 for i in range(300)]
    keys = [f"answers/long/chunks/{i:06d}" for i in range(300)]
    for key, chunk in zip(keys, chunks, strict=True):
        storage.put(key, chunk)

    storage.put_parts("answers/long/answer.webm", keys)

    head = storage.client.head_object(Bucket=storage.bucket, Key="answers/long/answer.webm")
    parts = int(head["ETag"].strip('"').rpartition("-")[2])  # a multipart ETag ends "-<parts>"
    assert parts >= 2 and head["ContentLength"] == sum(map(len, chunks))
    assert storage.get("answers/long/answer.webm") == b"".join(chunks)
    assert storage.delete_folder("answers/long") == 301
    assert not storage.exists("answers/long/answer.webm")
    assert not storage.exists("answers/long/chunks/000150")
