"""Issued supervision bulletins (督办通报): numbered per plan and frozen when issued.

An issued bulletin keeps the data it was made from (JSON) and the Word file rendered then; nothing
later changes either. A correction is a new issue that names the one it corrects.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime


class Bulletin(db.Model):
    """One issue of the bulletin: 第 ``number`` 期 of its plan, about ``period``, as of ``as_of``."""

    __tablename__ = "bulletin"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    number: Mapped[int]
    period: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # None: issued by the scheduler
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("bulletin.id"))
    # the language the stored Word file is written in (the site's language when issued)
    language: Mapped[str] = mapped_column(String(8))
    data: Mapped[str] = mapped_column(Text)
    docx: Mapped[bytes] = mapped_column(LargeBinary)
    # the PDF of ``docx``, made once on first download (LibreOffice is slow to start)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
