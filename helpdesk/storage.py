"""Content-addressed blob storage for attachments and raw mail.

A blob is stored once under the SHA-256 of its bytes
(``root/ab/cd/abcd…``); storing the same bytes again is a no-op. Writes go to
a temporary file first and are renamed into place, so a crash never leaves a
half-written blob under a valid name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from helpdesk.errors import AttachmentTooLargeError, NotFoundError


class BlobStore:
    """Blobs on a local disk, keyed by SHA-256."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path_for(self, sha256: str) -> Path:
        """Where the blob with this digest lives (whether or not it exists)."""
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise NotFoundError("no such blob")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def check_size(self, size: int, name: str = "attachment") -> None:
        """Raise :class:`AttachmentTooLargeError` above the configured limit."""
        if size > self.max_bytes:
            raise AttachmentTooLargeError(
                f"{name} is {size} bytes; the limit is {self.max_bytes} bytes",
                limit=self.max_bytes,
            )

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its SHA-256 hex digest. Blocking I/O."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, sha256: str) -> bytes:
        """The bytes of a stored blob. Blocking I/O."""
        path = self.path_for(sha256)
        if not path.exists():
            raise NotFoundError("no such blob")
        return path.read_bytes()


class _Configured:
    store: BlobStore | None = None


def configure_blob_store(store: BlobStore) -> None:
    """Set the process's blob store (composition root and tests)."""
    _Configured.store = store


def blob_store() -> BlobStore:
    """The configured blob store."""
    if _Configured.store is None:
        raise RuntimeError("blob store not configured; call configure_blob_store() at start-up")
    return _Configured.store
