"""Pick the ObjectStore adapter from ARCHIVE_URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from tracker.adapters.object_store.local import DEFAULT_ROOT, LocalDirectoryStore
from tracker.adapters.object_store.s3 import S3ObjectStore
from tracker.ports import ObjectStore


def open_object_store(
    archive_url: str | None, *, s3_endpoint_url: str | None = None, region: str | None = None
) -> ObjectStore:
    """None or "" -> ./var/archive; `file:///absolute/dir` or `file://relative/dir` -> a
    local directory; `s3://bucket/optional/prefix` -> S3. Nothing connects until first use.
    Anything else raises ValueError."""
    if not archive_url:
        return LocalDirectoryStore(DEFAULT_ROOT)
    if archive_url.startswith("file://"):
        path = archive_url.removeprefix("file://")
        if not path:
            raise ValueError("ARCHIVE_URL: file URL needs a path, e.g. file:///var/argo/archive")
        return LocalDirectoryStore(Path(path))
    parts = urlsplit(archive_url)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError("ARCHIVE_URL: s3 URL needs a bucket, e.g. s3://argo-archive/tracker")
        return S3ObjectStore(
            parts.netloc, parts.path.lstrip("/"), endpoint_url=s3_endpoint_url, region=region
        )
    raise ValueError(
        f"ARCHIVE_URL: unsupported scheme {parts.scheme or '(none)'!r}; "
        "use file:///path or s3://bucket/prefix"
    )
