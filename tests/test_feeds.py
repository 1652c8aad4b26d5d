"""Calendar feeds: valid iCalendar, the right events per department, secret URLs that can be regenerated."""

from __future__ import annotations

from datetime import UTC, date, datetime

import icalendar
from flask.testing import FlaskClient

from tracker.extensions import db
from tracker.ics import Event, calendar
from tracker.models import CalendarFeed, Department


def _feed_url(client: FlaskClient, department: str | None) -> str:
    page = client.get("/calendar").get_data(as_text=True)
    assert ".ics" in page
    if department is None:
        line = next(li for li in page.split("<tr>") if "全部任务" in li)
    else:
        line = next(li for li in page.split("<tr>") if f"<td>{department}</td>" in li)
    return "/calendar/" + line.split("/calendar/")[1].split(".ics")[0] + ".ics"


def _events(cal: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_pure_rules_hold() -> None:
    long = "进展报送截止" * 20
    raw = calendar("x", [Event("u", date(2025, 1, 1), long)], stamp=datetime(2024, 1, 1, tzinfo=UTC)).encode()
    assert all(len(part) <= 75 for part in raw.split(b"\r\n"))
    assert str(icalendar.Calendar.from_ical(raw).walk("VEVENT")[0]["SUMMARY"]) == long


def test_a_bare_cr_or_control_character_in_a_title_does_not_break_the_feed(mini_plan, login, client) -> None:
    from tracker.models import Task

    task = db.session.scalar(db.select(Task).filter_by(code="3.1"))
    task.title = "交通\r减排\rBEGIN:VEVENT\x07；工程,第一;阶段"
    db.session.commit()
    login("staff", "市交通运输局")
    url = _feed_url(client, "市交通运输局")
    raw = client.get(url).data
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    assert b"\x07" not in raw
    cal = icalendar.Calendar.from_ical(raw)
    summaries = [str(e["SUMMARY"]) for e in cal.walk("VEVENT")]
    assert any("交通\n减排\nBEGIN:VEVENT；工程,第一;阶段" in s for s in summaries), summaries
    assert len(cal.walk("VEVENT")) == len({str(e["UID"]) for e in cal.walk("VEVENT")})


def test_department_feed_parses_and_holds_deadlines_reports_and_assessments(mini_plan, login, client) -> None:
    login("staff", "市交通运输局")
    url = _feed_url(client, "市交通运输局")
    client.post("/logout")
    response = client.get(url)  # no session: the secret URL is enough
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    raw = response.data
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    cal = icalendar.Calendar.from_ical(raw)
    events = _events(cal)
    for e in events.values():
        assert e["DTSTAMP"] and e["UID"]
        assert isinstance(e["DTSTART"].dt, date)
    summaries = sorted(str(e["SUMMARY"]) for e in events.values())
    assert "任务截止：三（一） 交通减排工程（牵头）" in summaries
    assert "任务截止：三（一）1 公交车更新（牵头）" in summaries
    assert not any("绿色金融" in s for s in summaries)  # not this department's task
    due = {str(e["SUMMARY"]): e["DTSTART"].dt for e in events.values()}
    assert due["任务截止：三（一）1 公交车更新（牵头）"] == date(2027, 6, 30)
    assert due["进展报送截止：2026年第一季度（2 项任务）"] == date(2026, 4, 5)
    assert due["考核：2026年度节能减排目标责任评价"] == date(2026, 12, 31)
    assert due["考核：五年目标责任考核"] == date(2030, 12, 31)
    assert "考核：规划实施中期评估" in due
    assert "考核：2030年度节能减排目标责任评价" not in due  # the last year is the five-year assessment


def test_whole_plan_feed_for_coordinators_lists_every_task(mini_plan, login, client) -> None:
    login("coordinator", "市发展改革委")
    cal = icalendar.Calendar.from_ical(client.get(_feed_url(client, None)).data)
    summaries = {str(e["SUMMARY"]) for e in cal.walk("VEVENT")}
    assert {"任务截止：三（二） 绿色金融", "任务截止：四（一） 能耗双控"} <= summaries


def test_regenerating_retires_the_old_url(mini_plan, login, client) -> None:
    login("coordinator", "市发展改革委")
    old = _feed_url(client, "市交通运输局")
    dept = db.session.scalar(db.select(Department).filter_by(name="市交通运输局"))
    assert client.post("/calendar/regenerate", data={"department": str(dept.id)}).status_code == 302
    new = _feed_url(client, "市交通运输局")
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert db.session.scalar(db.select(CalendarFeed).filter_by(department_id=dept.id)).token in new


def test_staff_see_their_own_feed_but_cannot_regenerate(mini_plan, login, client) -> None:
    login("staff", "市交通运输局")
    page = client.get("/calendar").get_data(as_text=True)
    assert "市交通运输局" in page and "市生态环境局" not in page and "<button" not in page.split("<table")[1]
    assert client.post("/calendar/regenerate", data={"department": "all"}).status_code == 403


def test_unknown_feed_token_is_404_without_login(mini_plan, client) -> None:
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_administrators_regenerate_the_whole_plan_feed(mini_plan, login, client) -> None:
    login("admin")
    old = _feed_url(client, None)
    assert client.post("/calendar/regenerate", data={"department": "all"}).status_code == 302
    assert client.get(old).status_code == 404
    assert client.get(_feed_url(client, None)).status_code == 200
    assert client.post("/calendar/regenerate", data={"department": "99999"}).status_code == 404
