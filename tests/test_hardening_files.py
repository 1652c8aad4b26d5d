"""Decompression bombs and lying files (issue 14, class 5).

A type check reads a bounded amount; an upload's extension and content agree; a file name is cleaned
of control characters on the way in, and the download of any stored name answers, never 500.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tracker.extensions import db
from tracker.models import Attachment, CheckIn
from tracker.reports.attachments import ZIP_MAX_MEMBERS, AttachmentError, check_upload, sniff

from .test_attachments import DOCX, PDF, XLSX

WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


def test_a_docx_whose_content_types_part_unpacks_to_megabytes_is_refused_without_unpacking_it() -> None:
    # 32 MiB of spaces compress to about 32 KiB: the bomb of the issue, made smaller.
    types = f'<Types><Override ContentType="{WORD_MAIN}"/>'.encode() + b" " * (32 * 1024 * 1024)
    bomb = _zip({"[Content_Types].xml": types, "word/document.xml": b"<w/>"})
    del types
    assert len(bomb) < 200 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(AttachmentError, match="类型不受支持"):
            check_upload("报告.docx", bomb, 20)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, f"checking the type took {peak / 1e6:.0f} MB"


def test_a_docx_with_a_huge_member_is_refused_from_its_directory_alone(monkeypatch) -> None:
    # The limit scaled down with the member, to keep the test fast: the rule is the same.
    monkeypatch.setattr("tracker.reports.attachments.ZIP_MAX_UNCOMPRESSED", 8 * 1024 * 1024)
    bomb = _zip(
        {
            "[Content_Types].xml": f'<Types><Override ContentType="{WORD_MAIN}"/></Types>'.encode(),
            "word/document.xml": b"\0" * (16 * 1024 * 1024),
        }
    )
    tracemalloc.start()
    try:
        assert sniff(bomb) is None
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024


def test_a_zip_with_too_many_members_is_refused() -> None:
    members = {"[Content_Types].xml": f'<Types><Override ContentType="{WORD_MAIN}"/></Types>'.encode()}
    members.update({f"m/{i}": b"" for i in range(ZIP_MAX_MEMBERS + 1)})
    assert sniff(_zip(members)) is None


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("照片.png", PDF),  # a PDF named as a picture
        ("报告.pdf", DOCX),
        ("表.docx", XLSX),
        ("旧.xls", DOCX),
        ("报告", PDF),  # no extension at all
        ("run.exe", PDF),
        ("page.html", PDF),
    ],
)
def test_an_upload_whose_extension_and_content_disagree_is_refused(name: str, data: bytes) -> None:
    with pytest.raises(AttachmentError, match="扩展名与内容不符"):
        check_upload(name, data, 20)


def test_the_form_refuses_a_pdf_named_as_a_picture(mini_plan, client: FlaskClient, login) -> None:
    login("staff", "市交通运输局")
    response = client.post(
        "/tasks/3.1/report",
        data={"status": "in_progress", "percent": "10", "narrative": "见附件", "action": "submit",
              "evidence": (io.BytesIO(PDF), "照片.png")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 400 and "扩展名与内容不符" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(CheckIn)) is None


@pytest.mark.parametrize("name", ["台\r\n账.pdf", "台账\x07.pdf", "台账.pdf\r", "x\u202efdp.pdf"])
def test_a_name_with_control_characters_is_stored_clean_and_downloads(
    mini_plan, client: FlaskClient, login, name: str
) -> None:
    from tracker import clock
    from tracker.reports.attachments import store_attachment

    login("staff", "市交通运输局")
    assert (
        client.post(
            "/tasks/3.1/report",
            data={"status": "in_progress", "percent": "10", "narrative": "见附件", "action": "draft"},
        ).status_code
        == 302
    )
    checkin = db.session.scalar(db.select(CheckIn))
    assert checkin is not None
    row = store_attachment(
        checkin_id=checkin.id,
        filename=name,
        data=PDF,
        folder=client.application.config["UPLOAD_FOLDER"],
        max_mb=20,
        user_id=None,
        now=clock.now(),
    )
    db.session.commit()
    assert not any(ch in row.filename for ch in "\r\n\x07\u202e")
    response = client.get(f"/attachments/{row.id}")
    assert response.status_code == 200 and response.data == PDF
    assert "\r" not in response.headers["Content-Disposition"]
    response.close()


@pytest.mark.parametrize("name", ["a\r\nSet-Cookie: x=1.pdf", "\r\n", "../../etc/passwd", "\t.\x1b[31m.pdf"])
def test_the_download_of_any_stored_name_never_fails(mini_plan, client: FlaskClient, login, name: str) -> None:
    """Names stored before they were cleaned (or written by hand into the database) still download."""
    login("staff", "市交通运输局")
    client.post(
        "/tasks/3.1/report", data={"status": "in_progress", "percent": "10", "narrative": "见附件", "action": "draft"}
    )
    checkin = db.session.scalar(db.select(CheckIn))
    assert checkin is not None
    folder = Path(client.application.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ("0" * 32)).write_bytes(PDF)
    row = Attachment(
        checkin_id=checkin.id,
        filename=name,
        stored_name="0" * 32,
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
        created_at=datetime(2024, 6, 3, tzinfo=UTC),
    )
    db.session.add(row)
    db.session.commit()
    response = client.get(f"/attachments/{row.id}")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers and "\n" not in response.headers["Content-Disposition"]
    response.close()
