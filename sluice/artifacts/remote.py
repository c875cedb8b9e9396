"""Artifact store behind any fsspec URL: ``SLUICE_ARTIFACTS=s3://bucket/prefix``.

The layout is the local store's: blobs at ``prefix/ab/cdef…`` and a ``FORMAT``
marker, so a folder synced to a bucket (or back) stays a valid store. fsspec and
the protocol's package (s3fs for ``s3://``) are imported only when such a store is
opened; ``pip install 'sluice[s3]'`` brings both.

Writes never leave a half-written blob at its address. On object stores (S3, GCS)
an object appears only when its single PUT, or its multipart upload, completes; a
file that changes while it is uploaded has its upload aborted. On other
filesystems a blob is written under a temporary name and then moved.

Everything else comes from the environment, so a worker process opens the same
store from the URL alone. For S3, botocore's own variables: ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY`` (or ``AWS_PROFILE``), ``AWS_DEFAULT_REGION``, and
``AWS_ENDPOINT_URL`` for an S3-compatible server (MinIO, Ceph, moto). Any other
fsspec option through fsspec's ``FSSPEC_<PROTOCOL>_<OPTION>`` variables, e.g.
``FSSPEC_S3_ANON=true``.
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sluice.artifacts.base import ArtifactStore, copy_checked
from sluice.artifacts.local import FORMAT_VERSION
from sluice.errors import ArtifactNotFound, ArtifactStoreUnavailable, did_you_mean

#: Protocols whose writes are atomic per object and whose open files can abort an upload.
OBJECT_STORES = frozenset({"s3", "s3a", "gs", "gcs"})
#: The extra that installs a protocol's package, where sluice declares one.
EXTRAS = {"s3": "sluice[s3]", "s3a": "sluice[s3]"}


class FsspecArtifactStore(ArtifactStore):
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.protocol = self.url.partition("://")[0]
        self.fs, self.root = _filesystem(self.url, self.protocol)
        self.root = self.root.rstrip("/")
        self.atomic_put = self.protocol in OBJECT_STORES
        marker = f"{self.root}/FORMAT"
        with self._calling("open"):
            if not self.fs.exists(marker):
                self._put(marker, f"sluice-artifacts {FORMAT_VERSION}\n".encode())

    def __repr__(self) -> str:
        return f"FsspecArtifactStore({str(self)!r})"

    def __str__(self) -> str:
        return _without_password(self.url)

    def __reduce__(self) -> tuple[type[FsspecArtifactStore], tuple[str]]:
        return (FsspecArtifactStore, (self.url,))  # reopened from the URL and the environment

    def path(self, address: str) -> str:
        """The blob's path on the filesystem (read it through get_bytes to have it verified)."""
        return f"{self.root}/{address[:2]}/{address[2:]}"

    def _exists(self, address: str) -> bool:
        with self._calling("look up a blob in"):
            return bool(self.fs.exists(self.path(address)))

    def _read(self, address: str) -> bytes:
        with self._calling("read a blob from"):
            try:
                return bytes(self.fs.cat_file(self.path(address)))
            except FileNotFoundError as exc:  # deleted since it was looked up
                raise ArtifactNotFound(f"No artifact {address} in {self}.") from exc

    def _write(self, address: str, data: bytes) -> None:
        with self._calling("write a blob to"):
            self._put(self.path(address), data)

    def _write_file(self, address: str, path: Path) -> None:
        with self._calling("write a blob to"):
            self._publish(self.path(address), lambda target: self._upload(path, address, target))

    def _put(self, target: str, data: bytes) -> None:
        self._publish(target, lambda to: self.fs.pipe_file(to, data))

    def _publish(self, target: str, write: Callable[[str], None]) -> None:
        """Write at the target in one step on object stores, else under a temporary name."""
        if self.atomic_put:
            write(target)
            return
        parent = target.rpartition("/")[0]
        self.fs.makedirs(parent, exist_ok=True)
        temp = f"{parent}/.tmp-{uuid.uuid4().hex}"
        try:
            write(temp)
            self.fs.mv(temp, target)
        except BaseException:
            with contextlib.suppress(Exception):
                self.fs.rm_file(temp)
            raise

    def _upload(self, path: Path, address: str, target: str) -> None:
        """Copy the file in chunks, hashing what is copied: it may change meanwhile."""
        out = self.fs.open(target, "wb")
        try:
            copy_checked(path, address, out)
        except BaseException:
            if self.atomic_put:
                out.discard()  # aborts a multipart upload: nothing appears at the target
                out.closed = True  # closing would complete the upload
            else:
                out.close()  # a temporary file, removed by _publish
            raise
        out.close()

    @contextlib.contextmanager
    def _calling(self, action: str) -> Iterator[None]:
        """Translate the errors of the filesystem and its client library (botocore…)."""
        try:
            yield
        except backend_errors() as exc:
            raise ArtifactStoreUnavailable(
                f"Expected to {action} the artifact store at {self}; got "
                f"{type(exc).__name__}: {exc}. {_hint(exc, self.protocol)}"
            ) from exc


def _filesystem(url: str, protocol: str) -> tuple[Any, str]:
    try:
        import fsspec
        from fsspec.registry import known_implementations
    except ImportError as exc:
        raise ArtifactStoreUnavailable(
            f"SLUICE_ARTIFACTS={_without_password(url)!r} needs the package fsspec, which is "
            f"not installed. Install it with `pip install '{EXTRAS.get(protocol, 'fsspec')}'`, "
            "or set SLUICE_ARTIFACTS to a folder."
        ) from exc
    try:
        fs, root = fsspec.core.url_to_fs(url, skip_instance_cache=True)
    except ImportError as exc:
        spec = known_implementations.get(protocol, {}).get("class", protocol)
        package = getattr(exc.__cause__, "name", None) or spec.split(".")[0]
        install = EXTRAS.get(protocol, package)
        raise ArtifactStoreUnavailable(
            f"SLUICE_ARTIFACTS={_without_password(url)!r} needs the package {package}, which is "
            f"not installed. Install it with `pip install '{install}'`, or set SLUICE_ARTIFACTS "
            "to a folder."
        ) from exc
    except ValueError as exc:
        raise ArtifactStoreUnavailable(
            f"Expected SLUICE_ARTIFACTS to be a folder or a URL that fsspec can open; got "
            f"{_without_password(url)!r} ({exc}).{did_you_mean(protocol, known_implementations)}"
            " For example: "
            "s3://bucket/prefix."
        ) from exc
    return fs, str(root)


def backend_errors() -> tuple[type[BaseException], ...]:
    """OSError (fsspec's own translation), and botocore's errors once s3fs has loaded it."""
    errors: list[type[BaseException]] = [OSError]
    botocore = sys.modules.get("botocore.exceptions")
    if botocore is not None:
        errors += [botocore.BotoCoreError, botocore.ClientError]
    return tuple(errors)


def _hint(exc: BaseException, protocol: str) -> str:
    s3 = protocol in EXTRAS
    name = type(exc).__name__
    if isinstance(exc, FileNotFoundError):
        return (
            "Create the bucket it names, or set SLUICE_ARTIFACTS to one that exists."
            if protocol in OBJECT_STORES
            else "Create the location it names, or set SLUICE_ARTIFACTS to one that exists."
        )
    if isinstance(exc, PermissionError) or "Credential" in name:
        return (
            "Give credentials that may read and write it: AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)."
            if s3
            else f"Check the credentials for {protocol}://."
        )
    if isinstance(exc, ConnectionError | TimeoutError) or "Connect" in name or "Timeout" in name:
        return (
            "Check that the endpoint is up and reachable; for an S3-compatible server set "
            "AWS_ENDPOINT_URL to its address."
            if s3
            else "Check that the server is up and reachable."
        )
    return "Check SLUICE_ARTIFACTS, the network and the credentials."


def _without_password(url: str) -> str:
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL urllib can parse: show its scheme only
        return url.partition("://")[0] + "://…"
    if password is None:
        return url
    netloc = parts.netloc.replace(f":{password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
