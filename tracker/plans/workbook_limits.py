"""How big a workbook the importers read: checked from the zip directory and a streamed row count,
before openpyxl loads anything (a 50,000-row sheet took 40 s and 1.2 GB to load whole).

The bounds admit a province-scale plan of 20,000 tasks with room for headings and notes, and refuse
what no plan is: more rows, more parts, or more unpacked bytes than that.
"""

from __future__ import annotations

import re
import zipfile
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import ParseError, iterparse

from flask_babel import gettext as _

from ..errors import PlanFileError

__all__ = ["MAX_MEMBERS", "MAX_ROWS", "MAX_UNPACKED_MB", "check_workbook_size"]

MAX_ROWS = 25_000  # per sheet: 20,000 tasks, their section headings and notes
MAX_MEMBERS = 2_000
MAX_UNPACKED_MB = 200

_SHEET = re.compile(r"xl/worksheets/[^/]+\.xml")


def _too_big(message: str) -> PlanFileError:
    return PlanFileError([(_("文件"), message)])


def check_workbook_size(source: str | Path | bytes | BinaryIO) -> None:
    """``PlanFileError`` naming the bound if the workbook is larger than any plan; reads no cell.

    A file that is not a zip is left for openpyxl to refuse in its own words.
    """
    stream: str | Path | BinaryIO = BytesIO(source) if isinstance(source, bytes) else source
    start = stream.tell() if hasattr(stream, "tell") else None
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise _too_big(_("工作簿的部件过多（超过 %(n)s 个），不像任务分解表。", n=MAX_MEMBERS))
            if sum(m.file_size for m in members) > MAX_UNPACKED_MB * 1024 * 1024:
                raise _too_big(
                    _("工作簿解压后超过 %(mb)s MB，超出导入上限（可容纳 20,000 项任务）。", mb=MAX_UNPACKED_MB)
                )
            for info in members:
                if _SHEET.fullmatch(info.filename):
                    _check_rows(archive, info)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
        pass
    finally:
        if start is not None and hasattr(stream, "seek"):
            stream.seek(start)


def _check_rows(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    rows = 0
    try:
        with archive.open(info) as part:
            for _event, element in iterparse(part, events=("end",)):
                if element.tag.endswith("}row") or element.tag == "row":
                    rows += 1
                    if rows > MAX_ROWS:
                        raise _too_big(
                            _(
                                "工作表超过 %(n)s 行，超出导入上限（可容纳 20,000 项任务的规划）；请拆分后导入。",
                                n=f"{MAX_ROWS:,}",
                            )
                        )
                    element.clear()
    except ParseError:
        return  # a broken sheet: openpyxl names the problem
