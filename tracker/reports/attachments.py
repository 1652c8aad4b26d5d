"""Evidence files: what we accept (by content, and a name that agrees), where we keep them, how big.

Files are stored under a random name, where ``EVIDENCE_STORE`` says: ``disk`` (default) outside the
web root under ``UPLOAD_FOLDER``, or ``database`` (table ``evidence_blob``, in the same transaction as
the report), which every web machine reaches. The original name, cleaned of control characters, is
kept only for display and the download's ``Content-Disposition``.

Checking a type reads a bounded amount: an Office file is a zip, and a zip of a few hundred KiB can
unpack to gigabytes, so only its directory is read, its member count and declared sizes capped, and
of one member (``[Content_Types].xml``) at most a few KiB.

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
>>> clean_filename("报告\\r\\n.pdf"), clean_filename("a\\u202egpj.exe")
('报告.pdf', 'agpj.exe')
"""

from __future__ import annotations

import hashlib
import io
import secrets
import unicodedata
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from ..errors import TrackerError
from ..extensions import db
from ..i18n import N_
from ..models import Attachment, EvidenceBlob

__all__ = [
    "AttachmentError",
    "check_filename",
    "check_upload",
    "clean_filename",
    "download_name",
    "load_evidence",
    "sniff",
    "store_attachment",
    "store_evidence",
    "stored_path",
]

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

_WORD, _EXCEL, _POWERPOINT = _OOXML.values()
# What each accepted extension must contain (the sniffed type): a name and a content that disagree
# are refused, so that a file is opened on the reader's machine by the program its name promises.
EXTENSIONS = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".docx": _WORD,
    ".xlsx": _EXCEL,
    ".pptx": _POWERPOINT,
    ".doc": "application/x-ole-storage",
    ".xls": "application/x-ole-storage",
}
# Limits for reading an Office file's zip directory: far beyond a real document, far below a bomb.
ZIP_MAX_MEMBERS = 5000
ZIP_MAX_UNCOMPRESSED = 200 * 1024 * 1024
_CONTENT_TYPES_MAX = 64 * 1024


class AttachmentError(TrackerError):
    """An uploaded file is refused: wrong type, too large, or a name with a path in it."""


def clean_filename(name: str) -> str:
    """``name`` without control or invisible formatting characters (CR, LF, NUL, right-to-left marks).

    A CR or LF would break the download's ``Content-Disposition`` header; a right-to-left override
    makes ``x\\u202egpj.exe`` show as ``xexe.jpg``.
    """
    kept = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Zl", "Zp"})
    return " ".join(kept.split())


def download_name(attachment: Attachment) -> str:
    """A name that is always safe to send, even for a file stored before names were cleaned."""
    name = clean_filename(attachment.filename or "").replace("/", "_").replace("\\", "_").lstrip(".")
    return name or "attachment"


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
        types = _content_types(data)
        for marker, content_type in _OOXML.items():
            if types is not None and marker in types:
                return content_type
    return None


def _content_types(data: bytes) -> str | None:
    """An Office file's ``[Content_Types].xml``, read from its zip without unpacking anything else.

    ``None`` for a broken zip, one with too many members or too large a declared size (a bomb), or
    a content-types part larger than any real one.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()  # the central directory only: nothing is decompressed
            if len(members) > ZIP_MAX_MEMBERS or sum(m.file_size for m in members) > ZIP_MAX_UNCOMPRESSED:
                return None
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_MAX:
                return None
            with archive.open(info) as part:
                # Read one byte past the limit: a lying directory entry cannot make us unpack more.
                raw = part.read(_CONTENT_TYPES_MAX + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, EOFError, NotImplementedError, ValueError):
        return None
    if len(raw) > _CONTENT_TYPES_MAX:
        return None
    return raw.decode("utf-8", "replace")


def _legacy_office_type(filename: str) -> str:
    lower = filename.lower()
    if lower.endswith(".xls"):
        return "application/vnd.ms-excel"
    if lower.endswith(".doc"):
        return "application/msword"
    return "application/x-ole-storage"


def check_upload(filename: str, data: bytes, max_mb: float) -> str:
    """The content type of an acceptable upload, or ``AttachmentError`` saying what is wrong."""
    filename = check_filename(clean_filename(filename))
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
    extension = Path(filename).suffix.lower()
    if EXTENSIONS.get(extension) != content_type:
        raise AttachmentError(
            _(
                "文件“%(filename)s”的扩展名与内容不符：只接受 %(ACCEPTED)s，且扩展名须与文件内容一致。",
                filename=filename,
                ACCEPTED=_(ACCEPTED),
            )
        )
    if content_type == "application/x-ole-storage":
        content_type = _legacy_office_type(filename)
    return content_type


STORES = ("disk", "database")


def store_attachment(
    *,
    checkin_id: int | None = None,
    target_value_id: int | None = None,
    filename: str,
    data: bytes,
    folder: str,
    max_mb: float,
    user_id: int | None,
    now: datetime,
    store: str = "disk",
) -> Attachment:
    """Check and write one file; add its row to the session (the caller commits, or, with the disk
    store, removes the file at ``stored_path`` when it rolls back; the database store rolls back with it)."""
    filename = clean_filename(filename)
    content_type = check_upload(filename, data, max_mb)
    stored_name = secrets.token_hex(16)
    if store == "database":
        db.session.add(EvidenceBlob(stored_name=stored_name, data=data))
    else:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        try:
            (path / stored_name).write_bytes(data)
        except OSError:
            (path / stored_name).unlink(missing_ok=True)  # a half-written file is no evidence
            raise
    row = Attachment(
        checkin_id=checkin_id,
        target_value_id=target_value_id,
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


def store_evidence(
    uploads: Iterable[Any],
    *,
    written: list[Path],
    folder: str,
    max_mb: float,
    user_id: int | None,
    now: datetime,
    store: str,
    checkin_id: int | None = None,
    target_value_id: int | None = None,
) -> bool:
    """Store each upload (``.filename``, ``.data``) as evidence of a report or of a figure; the disk paths
    written are added to ``written`` (the caller removes them if its transaction rolls back). False when
    the store could not write a file (the caller refuses the whole submission)."""
    for upload in uploads:
        try:
            row = store_attachment(
                checkin_id=checkin_id,
                target_value_id=target_value_id,
                filename=upload.filename,
                data=upload.data,
                folder=folder,
                max_mb=max_mb,
                user_id=user_id,
                now=now,
                store=store,
            )
        except OSError:
            return False
        if store != "database":
            written.append(stored_path(folder, row))
    return True


def stored_path(folder: str, attachment: Attachment) -> Path:
    return Path(folder) / attachment.stored_name


def load_evidence(attachment: Attachment, *, folder: str) -> bytes | None:
    """The file's bytes from wherever it was stored (the database, else the disk); None if lost.

    Both stores are read, whatever ``EVIDENCE_STORE`` says now: files stored before a switch stay readable.
    """
    blob = db.session.get(EvidenceBlob, attachment.stored_name)
    if blob is not None:
        return blob.data
    try:
        return stored_path(folder, attachment).read_bytes()
    except OSError:
        return None
