"""Evidence files: accepted by content, refused by type, size or a path in the name; downloaded safely."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tracker.extensions import db
from tracker.models import Attachment, CheckIn
from tracker.reports.attachments import AttachmentError, check_upload, sniff

PDF = b"%PDF-1.4\n%%EOF\n"


def _ooxml(main: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", f'<Types><Override PartName="/x" ContentType="{main}"/></Types>')
        z.writestr("word/document.xml", "<w/>")
    return buffer.getvalue()


DOCX = _ooxml("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")
XLSX = _ooxml("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")
PLAIN_ZIP = _ooxml("application/xml")
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.pdf", PDF, "application/pdf"),
        ("报告.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("表.xlsx", XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("旧.doc", OLE, "application/msword"),
        ("旧.xls", OLE, "application/vnd.ms-excel"),
        ("照片.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 10, "image/png"),
        ("照片.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 10, "image/jpeg"),
        ("动图.gif", b"GIF89a" + b"\0" * 10, "image/gif"),
        ("大写.PDF", PDF, "application/pdf"),
    ],
)
def test_accepted_types_are_recognised_by_content(name: str, data: bytes, expected: str) -> None:
    assert check_upload(name, data, 20) == expected


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("evil.pdf", b"MZ\x90\x00 this is an exe", "类型不受支持"),
        ("page.pdf", b"<html><script>alert(1)</script>", "类型不受支持"),
        ("archive.docx", PLAIN_ZIP, "类型不受支持"),
        ("../x.pdf", PDF, "不能包含路径"),
        ("a/b.pdf", PDF, "不能包含路径"),
        ("a\\b.pdf", PDF, "不能包含路径"),
        ("empty.pdf", b"", "是空的"),
    ],
)
def test_bad_files_are_refused_with_a_reason(name: str, data: bytes, message: str) -> None:
    with pytest.raises(AttachmentError, match=message):
        check_upload(name, data, 20)


def test_sniff_reads_a_broken_zip_as_unknown() -> None:
    assert sniff(b"PK\x03\x04garbage") is None


def _post(client: FlaskClient, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        "/tasks/3.1/report",
        data={"status": "in_progress", "percent": "10", "narrative": "见附件", "action": "submit",
              "evidence": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "data", "message"),
    # The test client writes the name into the header unescaped; a quoted-string escapes a backslash as \\.
    [("x.pdf", b"MZ\x90\x00", "类型不受支持"), ("../x.pdf", PDF, "不能包含路径"), ("a\\\\b.pdf", PDF, "不能包含路径")],
)
def test_the_form_refuses_a_bad_file_and_keeps_the_input(mini_plan, client, login, name, data, message) -> None:
    login("staff", "市交通运输局")
    response = _post(client, name, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page and "见附件" in page
    assert db.session.scalar(db.select(CheckIn)) is None


def test_a_file_over_the_limit_is_refused_with_a_clear_message(mini_plan, client, login) -> None:
    # A limit of a few KB keeps the request small (the test client leaks a temp file for big bodies).
    client.application.config["MAX_UPLOAD_MB"] = 0.004
    login("staff", "市交通运输局")
    response = _post(client, "big.pdf", PDF + b"0" * 5000)
    assert response.status_code == 400
    assert "“big.pdf”超过 0.004 MB 上限" in response.get_data(as_text=True)


def test_a_request_far_over_the_limit_gets_a_chinese_413(mini_plan, client, login) -> None:
    client.application.config["MAX_CONTENT_LENGTH"] = 1024
    login("staff", "市交通运输局")
    response = _post(client, "big.pdf", PDF + b"0" * 4096)
    assert response.status_code == 413 and "文件过大" in response.get_data(as_text=True)


def test_evidence_is_stored_under_a_random_name_and_downloaded_as_an_attachment(mini_plan, client, login) -> None:
    login("staff", "市交通运输局")
    assert _post(client, "台账.pdf", PDF).status_code == 302
    attachment = db.session.scalar(db.select(Attachment))
    assert attachment is not None
    stored = Path(client.application.config["UPLOAD_FOLDER"]) / attachment.stored_name
    assert stored.read_bytes() == PDF and "台账" not in attachment.stored_name
    assert len(attachment.sha256) == 64 and attachment.size == len(PDF)

    response = client.get(f"/attachments/{attachment.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/pdf"
    response.close()

    client.post("/logout")
    anonymous = client.get(f"/attachments/{attachment.id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_a_drafts_evidence_is_not_served_to_other_departments(mini_plan, client, login) -> None:
    login("staff", "市交通运输局")
    client.post(
        "/tasks/3.1/report",
        data={"status": "in_progress", "percent": "10", "action": "draft", "evidence": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    attachment = db.session.scalar(db.select(Attachment))
    assert attachment is not None
    own = client.get(f"/attachments/{attachment.id}")
    assert own.status_code == 200
    own.close()
    client.post("/logout")
    login("coordinator", "市发展改革委")
    assert client.get(f"/attachments/{attachment.id}").status_code == 403


def test_with_the_database_store_evidence_lives_in_the_database_and_downloads_the_same(
    mini_plan, client, login
) -> None:
    from tracker.models import EvidenceBlob

    client.application.config["EVIDENCE_STORE"] = "database"
    login("staff", "市交通运输局")
    assert _post(client, "台账.pdf", PDF).status_code == 302
    attachment = db.session.scalar(db.select(Attachment))
    assert attachment is not None
    assert db.session.get(EvidenceBlob, attachment.stored_name).data == PDF
    assert not (Path(client.application.config["UPLOAD_FOLDER"]) / attachment.stored_name).exists()
    response = client.get(f"/attachments/{attachment.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    response.close()
    # A refused report stores no bytes either: the blob goes with the transaction.
    assert _post(client, "x.pdf", b"MZ\x90\x00").status_code == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(EvidenceBlob)) == 1
