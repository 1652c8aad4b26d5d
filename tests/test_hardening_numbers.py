"""Numbers from people, files and URLs are finite and in range, or refused with a named error.

Issue 14, class 1 (and the period half of class 11): ``inf``, ``NaN``, ``1e309`` and huge integers
used to be stored or to reach the database, after which pages answered 500.
"""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import pytest
import yaml
from flask.testing import FlaskClient
from openpyxl import Workbook

from tracker import clock
from tracker.api.tokens import create_token
from tracker.errors import PlanFileError
from tracker.extensions import db
from tracker.models import Assignment, CheckIn, Dependency, Target, TargetValue
from tracker.numbers import NumberError, bounded_int, finite_number
from tracker.plans.schema import read_plan_file

from .conftest import DATA

BAD_NUMBERS = ["inf", "Infinity", "-inf", "1e309", "NaN", "nan", "١٢", "1_000", "0x10", "1e16"]


def _count(model: type) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


@pytest.mark.parametrize("text", BAD_NUMBERS)
def test_the_shared_rule_refuses_what_is_not_a_finite_number_in_range(text: str) -> None:
    with pytest.raises(NumberError):
        finite_number(text)


def test_the_shared_rule_reads_ordinary_numbers() -> None:
    assert finite_number("1,234.5") == 1234.5
    assert finite_number("-3") == -3.0
    assert finite_number(12) == 12.0
    with pytest.raises(NumberError):
        finite_number(float("inf"))
    with pytest.raises(NumberError):
        finite_number(10**400)
    assert bounded_int("42") == 42
    for bad in ("99999999999999999999", "-1", "٣", "1.5", True, 2**31):
        with pytest.raises(NumberError):
            bounded_int(bad)


@pytest.mark.parametrize("text", ["inf", "Infinity", "1e309", "NaN", "1e16"])
def test_a_web_report_value_that_is_not_finite_is_refused_and_pages_keep_working(
    mini_plan, client: FlaskClient, login, text: str
) -> None:
    login("staff", "市交通运输局")
    bus = db.session.scalar(db.select(Target).filter_by(key="3.1-bus"))
    assert bus is not None
    data = {
        "status": "in_progress",
        "percent": "40",
        "narrative": "进展",
        "action": "submit",
        f"value-{bus.id}": text,
        f"source-{bus.id}": "统计",
    }
    response = client.post("/tasks/3.1/report", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "应为数字" in page or "应为有限的数字" in page or "应在 -1e+15 到 1e+15 之间" in page
    assert _count(CheckIn) == 0 and _count(TargetValue) == 0
    assert client.get("/tasks/3.1").status_code == 200


@pytest.mark.parametrize("percent", ["99999999999999999999999", "1e2", "١٠", "-0", "100.0"])
def test_a_web_report_percent_out_of_range_or_not_ascii_is_refused(
    mini_plan, client: FlaskClient, login, percent: str
) -> None:
    login("staff", "市交通运输局")
    data = {"status": "in_progress", "percent": percent, "narrative": "进展", "action": "submit"}
    response = client.post("/tasks/3.1/report", data=data)
    if percent == "-0":  # "-0" is zero: an integer in range
        assert response.status_code == 302
        return
    assert response.status_code == 400
    assert _count(CheckIn) == 0


def _bearer(make_user, role: str, department: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    _token, secret = create_token(make_user(role, department), "测试", now=clock.now())
    return {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}


@pytest.mark.parametrize("literal", ["1e309", "Infinity", "-Infinity", "NaN", "1e16"])
def test_an_api_report_value_that_is_not_finite_is_refused_with_a_named_field(
    mini_plan, client: FlaskClient, make_user, literal: str
) -> None:
    headers = _bearer(make_user, "staff", "甲县人民政府")
    body = (
        '{"status": "in_progress", "percent": 30, "narrative": "x", '
        f'"values": [{{"target_key": "3.1-bus", "value": {literal}, "source": "s"}}]}}'
    )
    response = client.post("/api/v1/tasks/3.1/checkins", data=body, headers=headers)
    assert response.status_code == 422
    assert "values[0].value" in response.get_json()["error"]["fields"]
    assert _count(CheckIn) == 0
    listing = client.get("/api/v1/plans/mini/checkins", headers=headers)
    json.loads(listing.get_data(as_text=True), parse_constant=lambda c: pytest.fail(f"invalid JSON {c}"))


@pytest.mark.parametrize("period", ["2099Q1", "1900Q1"])
def test_reports_for_periods_outside_the_plan_are_refused_on_web_and_api(
    mini_plan, client: FlaskClient, login, make_user, period: str
) -> None:
    headers = _bearer(make_user, "staff", "甲县人民政府")
    body = {"status": "in_progress", "percent": 30, "narrative": "x", "period": period}
    response = client.post("/api/v1/tasks/3.1/checkins", json=body, headers=headers)
    assert response.status_code == 422
    assert "period" in response.get_json()["error"]["fields"]
    login("staff", "市交通运输局")
    data = {"status": "in_progress", "percent": "40", "narrative": "进展", "action": "submit"}
    assert client.get(f"/tasks/3.1/report?period={period}").status_code == 400
    assert client.post(f"/tasks/3.1/report?period={period}", data=data).status_code == 400
    assert _count(CheckIn) == 0


def _values_workbook(rows: list[tuple]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["县（市、区）", "万元GDP能耗降低（%）"])
    for r in rows:
        ws.append(list(r))
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize("cell", ["inf", "NaN", "1e309", "-Infinity", 1e300])
def test_county_values_import_refuses_numbers_that_are_not_finite_or_in_range(
    mini_plan, client: FlaskClient, login, cell: object
) -> None:
    login("coordinator", "市发展改革委")
    table = _values_workbook([("甲县", cell)])
    response = client.post("/plans/mini/values/import", data={"period": "2026", "file": (BytesIO(table), "v.xlsx")})
    assert response.status_code == 422
    assert _count(TargetValue) == 0
    assert client.get("/counties").status_code == 200


@pytest.mark.parametrize("period", ["2099", "1900"])
def test_county_values_import_refuses_a_period_outside_the_plan(
    mini_plan, client: FlaskClient, login, period: str
) -> None:
    login("coordinator", "市发展改革委")
    table = _values_workbook([("甲县", 12.5)])
    response = client.post("/plans/mini/values/import", data={"period": period, "file": (BytesIO(table), "v.xlsx")})
    assert response.status_code == 422
    assert _count(TargetValue) == 0


def test_county_values_import_from_the_command_line_refuses_infinity(mini_plan, runner, tmp_path: Path) -> None:
    path = tmp_path / "v.xlsx"
    path.write_bytes(_values_workbook([("甲县", "inf")]))
    result = runner.invoke(args=["plan", "import-values", str(path), "--period", "2026", "--plan", "mini"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert _count(TargetValue) == 0


@pytest.mark.parametrize("literal", [".nan", ".inf", "-.inf", "1e400"])
def test_plan_load_refuses_yaml_nan_and_infinity_naming_the_field(tmp_path: Path, literal: str) -> None:
    raw = yaml.safe_load((DATA / "mini-plan.yaml").read_text(encoding="utf-8"))
    raw["targets"][0]["value"] = "PLACEHOLDER"
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True).replace("PLACEHOLDER", literal), encoding="utf-8")
    with pytest.raises(PlanFileError) as err:
        read_plan_file(path)
    assert any("targets" in where and where.endswith(".value") for where, _ in err.value.problems)


def test_plan_load_refuses_a_huge_lag(tmp_path: Path) -> None:
    raw = yaml.safe_load((DATA / "mini-plan.yaml").read_text(encoding="utf-8"))
    raw["dependencies"][0]["lag_days"] = 10**20
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PlanFileError):
        read_plan_file(path)


HUGE = "9" * 25


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", f"/reviews/{HUGE}"),
        ("get", f"/attachments/{HUGE}"),
        ("get", "/attachments/2147483648"),
        ("get", f"/departments/{HUGE}/contacts"),
        ("get", f"/admin/outbox/{HUGE}"),
        ("post", f"/admin/outbox/{HUGE}/retry"),
        ("post", f"/profile/tokens/{HUGE}/revoke"),
        ("post", f"/extensions/{HUGE}"),
        ("post", f"/assignments/{HUGE}"),
        ("post", f"/graph/dependencies/{HUGE}/delete"),
        ("get", f"/departments/{HUGE}"),
        ("get", "/reviews/١٢"),
    ],
)
def test_huge_or_foreign_digit_ids_in_urls_are_not_found(
    mini_plan, client: FlaskClient, login, method: str, url: str
) -> None:
    login("admin") if url.startswith("/admin") else login("coordinator", "市发展改革委")
    assert getattr(client, method)(url).status_code == 404


def test_huge_ids_in_api_urls_are_not_found(mini_plan, client: FlaskClient, make_user) -> None:
    headers = _bearer(make_user, "coordinator", "市发展改革委")
    response = client.post(f"/api/v1/checkins/{HUGE}/review", json={"decision": "approve"}, headers=headers)
    assert response.status_code == 404


def test_huge_integers_in_form_fields_are_refused_not_500(mini_plan, client: FlaskClient, login) -> None:
    login("coordinator", "市发展改革委")
    before = (_count(Assignment), _count(Dependency))
    assert client.post("/tasks/3.1/assignments", data={"department_id": HUGE, "role": "support"}).status_code == 400
    response = client.post(
        "/graph/dependencies", data={"task": "4.1", "depends_on": "3.2", "rationale": "x", "lag_days": HUGE}
    )
    assert response.status_code == 400
    assert client.post("/calendar/regenerate", data={"department": "²"}).status_code == 404
    assert client.post("/calendar/regenerate", data={"department": HUGE}).status_code == 404
    assert (_count(Assignment), _count(Dependency)) == before


def test_huge_integers_in_query_strings_are_refused_not_500(mini_plan, client: FlaskClient, login, make_user) -> None:
    headers = _bearer(make_user, "coordinator", "市发展改革委")
    for limit in (HUGE, "١٢", "1_0"):
        assert client.get(f"/api/v1/plans/mini/checkins?limit={limit}", headers=headers).status_code == 400
    login("admin")
    assert client.get(f"/admin/outbox?department={HUGE}").status_code == 200


@pytest.mark.parametrize("cell", ["inf", "NaN", "1e309", "1e16", "1-inf"])
def test_a_task_workbook_with_a_target_value_that_is_not_finite_is_refused(
    mini_plan, runner, tmp_path: Path, cell: str
) -> None:
    from openpyxl import load_workbook

    from .test_excel import ten_task_workbook

    wb = load_workbook(BytesIO(ten_task_workbook()))
    wb.active["F3"] = cell  # row 3: 三（一）'s 目标值
    path = tmp_path / "t.xlsx"
    wb.save(path)
    args = ["plan", "import-xlsx", str(path), "--new-plan", "next", "--title", "T"]
    result = runner.invoke(args=[*args, "--start", "2026-01-01", "--end", "2030-12-31"])
    assert result.exit_code == 1, result.output
    assert "第3行" in result.output and "Traceback" not in result.output
