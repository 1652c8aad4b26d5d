"""Signed report links: tamper-proof, expiring, scoped to one task's form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tracker.reminders.links import SALT, LinkError, LinkSigner, grant_for, make_token, read_token, store_grant

NOW = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)


def _token() -> str:
    return make_token("s3cret", department_id=7, task_code="3.1", period="2024Q2", plan_key="p")


def test_a_fresh_token_reads_back_its_payload() -> None:
    data = read_token("s3cret", _token(), max_age_seconds=3600, now=datetime.now(UTC))
    assert data == {"department_id": 7, "task_code": "3.1", "period": "2024Q2", "plan_key": "p"}


def test_a_tampered_or_foreign_token_is_refused() -> None:
    with pytest.raises(LinkError, match="无效"):
        read_token("other-secret", _token(), max_age_seconds=3600, now=datetime.now(UTC))
    with pytest.raises(LinkError, match="无效"):
        read_token("s3cret", _token()[:-2] + "xx", max_age_seconds=3600, now=datetime.now(UTC))


def test_an_old_token_expires_by_the_app_clock() -> None:
    later = datetime.now(UTC) + timedelta(days=15)
    with pytest.raises(LinkError, match="过期"):
        read_token("s3cret", _token(), max_age_seconds=14 * 86400, now=later)


def test_a_grant_opens_only_its_task_and_only_until_it_expires() -> None:
    session: dict = {}
    grant = {"department_id": 7, "task_code": "3.1", "period": "2024Q2", "plan_key": "p14"}
    store_grant(session, grant, expires=NOW + timedelta(hours=1))
    assert grant_for(session, "p14", "3.1", now=NOW)["department_id"] == 7
    assert grant_for(session, "p14", "3.2", now=NOW) is None
    assert grant_for(session, "p15", "3.1", now=NOW) is None  # the next plan's 3.1 is another task
    assert grant_for(session, "p14", "3.1", now=NOW + timedelta(hours=2)) is None


@pytest.mark.parametrize(
    ("code", "plan_key"),
    [
        ("3.1", "p"),
        ("任务 3.1「甲」", "十四五"),  # non-ASCII kept as UTF-8, as itsdangerous's compact JSON does
        ('a"b\\c', "x" * 80),  # escaped JSON; long enough that zlib makes it shorter (a dotted payload)
    ],
)
def test_the_sweeps_signer_writes_itsdangerous_tokens_byte_for_byte(code: str, plan_key: str) -> None:
    # links already sent were signed by itsdangerous: the sweep's signer must write the very same tokens
    stamp = int(NOW.timestamp())
    clock = type("Clock", (TimestampSigner,), {"get_timestamp": lambda self: stamp})
    reference = URLSafeTimedSerializer("s3cret", salt=SALT, signer=clock)
    payload = {"department_id": 12, "task_code": code, "period": "2024Q2", "plan_key": plan_key}
    token = LinkSigner("s3cret", NOW).token(**payload)
    assert token == reference.dumps({"d": 12, "t": code, "p": "2024Q2", "k": plan_key})
    assert read_token("s3cret", token, max_age_seconds=3600, now=NOW) == payload
