"""Files uploaded with a form: the same rules for every face.

Only parts that are files with a name count; the name keeps its last 255
characters; a content type that is not a plain ``type/subtype`` is stored as
``application/octet-stream``. Sizes are checked by the domain services
(:class:`~helpdesk.errors.AttachmentTooLargeError`) and the body limit by the
face's router.
"""

from __future__ import annotations

from typing import Any

from litestar.datastructures import FormMultiDict, UploadFile

from helpdesk.errors import ValidationError
from helpdesk.schemas import AttachmentIn

__all__ = ["MAX_FILES", "uploaded_files"]

MAX_FILES = 20
"""Files one form may carry."""


def _is_file(value: Any) -> bool:
    return isinstance(value, UploadFile) and bool(value.filename)


def _content_type(value: str | None) -> str:
    value = (value or "").split(";")[0].strip().lower()
    if "/" in value and len(value) <= 255 and value.isascii() and " " not in value:
        return value
    return "application/octet-stream"


async def uploaded_files(form: FormMultiDict, field: str = "attachments") -> list[AttachmentIn]:
    """The files of ``field`` (more than :data:`MAX_FILES`: ValidationError)."""
    uploads: list[UploadFile] = [u for u in form.getall(field, []) if _is_file(u)]
    if len(uploads) > MAX_FILES:
        raise ValidationError(f"at most {MAX_FILES} files", field=field)
    return [
        AttachmentIn(
            filename=(upload.filename or "")[-255:],
            content=await upload.read(),
            content_type=_content_type(upload.content_type),
        )
        for upload in uploads
    ]
