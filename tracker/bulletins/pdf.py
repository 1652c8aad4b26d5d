"""Office files to PDF through LibreOffice (``soffice --headless --convert-to pdf``).

Each conversion runs in a throw-away directory with its own LibreOffice profile, so two conversions
at once (two web workers, the scheduler) do not fight over one profile lock.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from flask_babel import gettext as _

from ..errors import TrackerError

__all__ = ["ConversionError", "available", "to_pdf"]

TIMEOUT_SECONDS = 180


class ConversionError(TrackerError):
    """LibreOffice is missing or could not convert the file."""


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def available() -> bool:
    return _soffice() is not None


def to_pdf(data: bytes, suffix: str = ".docx") -> bytes:
    """The PDF LibreOffice makes of ``data`` (a .docx or .xlsx, named by ``suffix``)."""
    soffice = _soffice()
    if soffice is None:
        raise ConversionError(_("服务器未安装 LibreOffice，无法生成 PDF。"))
    with tempfile.TemporaryDirectory(prefix="tracker-pdf-") as tmp:
        work = Path(tmp)
        source = work / f"document{suffix}"
        source.write_bytes(data)
        command = [
            soffice,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work),
            str(source),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ConversionError(_("PDF 转换超时。")) from exc
        target = work / "document.pdf"
        if not target.exists():
            raise ConversionError(_("PDF 转换失败。"))
        return target.read_bytes()
