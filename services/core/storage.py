"""Media storage behind one interface: local disk (embedded default) or S3-compatible."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from services.core.settings import Settings, get_settings


class MediaStorage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def put_parts(self, key: str, parts: Iterable[str]) -> None: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def delete_folder(self, prefix: str) -> int: ...
    def local_copy(self, key: str) -> contextlib.AbstractContextManager[Path]: ...


def _safe_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"unsafe storage key: {key!r}")
    return key


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file and a crash leaves the old one.
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, path)

    def put_parts(self, key: str, parts: Iterable[str]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
            for part in parts:
                with self._path(part).open("rb") as src:
                    shutil.copyfileobj(src, tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_folder(self, prefix: str) -> int:
        """Delete every object under `prefix/`; returns how many there were."""
        folder = self._path(prefix)
        if not folder.is_dir():
            return 0
        count = sum(1 for p in folder.rglob("*") if p.is_file())
        shutil.rmtree(folder)
        return count

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        yield path


class S3Storage:
    """Any S3-compatible store (AWS S3, MinIO, Ceph) through boto3."""

    def __init__(self, settings: Settings) -> None:
        import boto3  # imported here so the embedded setup never loads the AWS SDK

        secret = settings.s3_secret_access_key
        self.bucket = settings.s3_bucket
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
        )

    @contextlib.contextmanager
    def _missing_as_file_not_found(self, key: str) -> Iterator[None]:
        from botocore.exceptions import ClientError

        try:
            yield
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(key) from exc
            raise

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=_safe_key(key), Body=data)

    def put_parts(self, key: str, parts: Iterable[str]) -> None:
        # Browser chunks are smaller than S3's 5 MB multipart minimum, so they are joined here
        # and sent as one (multipart, when large) upload.
        with tempfile.TemporaryFile() as tmp:
            for part in parts:
                with self._missing_as_file_not_found(part):
                    body = self.client.get_object(Bucket=self.bucket, Key=_safe_key(part))["Body"]
                shutil.copyfileobj(body, tmp)
            tmp.seek(0)
            self.client.upload_fileobj(tmp, self.bucket, _safe_key(key))

    def get(self, key: str) -> bytes:
        with self._missing_as_file_not_found(key):
            response = self.client.get_object(Bucket=self.bucket, Key=_safe_key(key))
        return bytes(response["Body"].read())

    def exists(self, key: str) -> bool:
        try:
            with self._missing_as_file_not_found(key):
                self.client.head_object(Bucket=self.bucket, Key=_safe_key(key))
        except FileNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=_safe_key(key))

    def delete_folder(self, prefix: str) -> int:
        """Delete every object under `prefix/`; returns how many there were."""
        count = 0
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=_safe_key(prefix) + "/"
        )
        for page in pages:  # at most 1000 keys a page: what one delete_objects call takes
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})
                count += len(keys)
        return count

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / Path(_safe_key(key)).name
            with self._missing_as_file_not_found(key):
                self.client.download_file(self.bucket, key, str(path))
            yield path


@functools.cache
def get_storage() -> MediaStorage:
    settings = get_settings()
    if settings.media_backend == "s3":
        return S3Storage(settings)
    assert settings.media_dir is not None
    return LocalStorage(settings.media_dir)
