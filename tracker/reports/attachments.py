"""Evidence files: what we accept (by content, never by name), where we keep them, how big they may be.

Files are stored outside the web root under ``UPLOAD_FOLDER`` with a random name; the original
name is kept only for display and for the download's ``Content-Disposition``.

>>> sniff(b"%PDF-1.7 ...")
'application/pdf'
>>> sniff(b"\\x89PNG\\r\\n\\x1a\\n....") , sniff(b"GIF89a..."), sniff(b"\\xff\\xd8\\xff\\xe0...")
('image/png', 'image/gif', 'image/jpeg')
>>> sniff(b"MZ\\x90\\x00 an executable") is None
True
>>> check_filename("../x.pdf")
Traceback (most recent call last):
...
tracker.reports.attachments.AttachmentError: 文件名不能包含路径：../x.pdf
"""

from __future__ import annotations

import hashlib
import io
import secrets
import zipfile
from datetime import datetime
from pathlib import Path

from flask_babel import gettext as _

from ..errors import TrackerError
from ..extensions import db
from ..i18n import N_
from ..models import Attachment

__all__ = ["AttachmentError", "check_filename", "check_upload", "sniff", "store_attachment", "stored_path"]

_OOXML = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ACCEPTED = N_("PDF、Word/Excel/PowerPoint（docx、xlsx、pptx、doc、xls）或图片（png、jpg、gif）")


class AttachmentError(TrackerError):
    """An uploaded file is refused: wrong type, too large, or a name with a path in it."""


def check_filename(name: str) -> str:
    """The name as given, or ``AttachmentError`` if it carries a path or is empty."""
    if not name or not name.strip():
        raise AttachmentError(_("文件名为空。"))
    if "/" in name or "\\" in name or ".." in name or "\x00" in name or name.startswith("."):
        raise AttachmentError(_("文件名不能包含路径：%(name)s", name=name))
    if len(name) > 255:
        raise AttachmentError(_("文件名过长（最多 255 个字符）。"))
    return name


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are, among the accepted ones; ``None`` otherwise."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith(_OLE):  # legacy .doc / .xls (OLE compound file)
        return "application/x-ole-storage"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                types = archive.read("[Content_Types].xml").decode("utf-8", "replace")
        except (zipfile.BadZipFile, KeyError, OSError):
            return None
        for marker, content_type in _OOXML.items():
            if marker in types:
                return content_type
    return None


def _legacy_office_type(filename: str) -> str:
    lower = filename.lower()
    if lower.endswith(".xls"):
        return "application/vnd.ms-excel"
    if lower.endswith(".doc"):
        return "application/msword"
    return "application/x-ole-storage"


def check_upload(filename: str, data: bytes, max_mb: float) -> str:
    """The content type of an acceptable upload, or ``AttachmentError`` saying what is wrong."""
    check_filename(filename)
    if len(data) > max_mb * 1024 * 1024:
        raise AttachmentError(
            _("文件“%(filename)s”超过 %(max_mb)s MB 上限，请压缩或拆分后上传。", filename=filename, max_mb=max_mb)
        )
    if not data:
        raise AttachmentError(_("文件“%(filename)s”是空的。", filename=filename))
    content_type = sniff(data)
    if content_type is None:
        raise AttachmentError(
            _("文件“%(filename)s”的类型不受支持：只接受 %(ACCEPTED)s。", filename=filename, ACCEPTED=_(ACCEPTED))
        )
    if content_type == "application/x-ole-storage":
        content_type = _legacy_office_type(filename)
    return content_type


def store_attachment(
    *, checkin_id: int, filename: str, data: bytes, folder: str, max_mb: float, user_id: int | None, now: datetime
) -> Attachment:
    """Check and write one file; add its row to the session (the caller commits, or removes the file
    at ``stored_path`` when it rolls back)."""
    content_type = check_upload(filename, data, max_mb)
    stored_name = secrets.token_hex(16)
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    try:
        (path / stored_name).write_bytes(data)
    except OSError:
        (path / stored_name).unlink(missing_ok=True)  # a half-written file is no evidence
        raise
    row = Attachment(
        checkin_id=checkin_id,
        filename=filename,
        stored_name=stored_name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=user_id,
        created_at=now,
    )
    db.session.add(row)
    return row


def stored_path(folder: str, attachment: Attachment) -> Path:
    return Path(folder) / attachment.stored_name
