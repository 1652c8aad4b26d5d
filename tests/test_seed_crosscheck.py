"""Cross-check the hand-derived seed (seeds/anyang-14fyp.yaml) against the plan text it came from.

The plan text is parsed here independently of the seed: responsibility parentheses, roles, the numbers of
二、主要目标 and the three annexes are re-derived from seeds/anyang-14th-fyp-energy-saving-emission-reduction-plan.txt
and compared with the seed. Only pyyaml and the standard library are used (no app imports).
"""

import datetime as dt
import hashlib
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
import yaml

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
PLAN_TXT = SEEDS / "anyang-14th-fyp-energy-saving-emission-reduction-plan.txt"
SEED_YAML = SEEDS / "anyang-14fyp.yaml"

# sha256 of the plan text as published (the seed copy must be byte-exact)
PLAN_SHA256 = "30d8d197b8738a0f93342423c7ff77bc3537c1caf586cb74e711ddae03bb6021"

CN_NUM = "一二三四五六七八九十"
SECTION_HEADS = {3: "三、实施节能减排重点工程", 4: "四、健全节能减排政策机制", 5: "五、抓好组织实施"}
ROLE_OF = {
    "牵头": "lead",
    "配合": "support",
    "负责": "responsible",
    "按职责分工负责": "responsible",
    "落实": "implementing",
}
COUNTIES_TOKEN = "〈各县政府〉"
EXPANDED_TOKEN = "各有关部门"
NUM = re.compile(r"\d+(?:\.\d+)?")


def flat(s):
    """Normalise for matching: drop all whitespace (joins page-break splits), one bracket form, full-width comma."""
    s = re.sub(r"\s+", "", s)
    s = s.translate(str.maketrans({"（": "(", "〔": "(", "）": ")", "〕": ")", ",": "，", ";": "；", ":": "："}))
    return s


@cache
def raw_text():
    return PLAN_TXT.read_text(encoding="utf-8")


@cache
def flat_text():
    return flat(raw_text())


@cache
def seed():
    with SEED_YAML.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def seed_tasks():
    return {t["code"]: t for t in seed()["tasks"]}


def plan_targets(group):
    return [t for t in seed()["targets"] if t["group"] == group]


def all_task_targets():
    return [(t["code"], tg) for t in seed()["tasks"] for tg in (t.get("targets") or [])]


def as_date(v):
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))


def num(s):
    return float(s)


# ---------------------------------------------------------------- parsing the plan text


def _split_final_paren(body):
    """Return (before, content) for the balanced parenthesis that ends `body`."""
    assert body.endswith(")"), body[-30:]
    depth = 0
    for i in range(len(body) - 1, -1, -1):
        if body[i] == ")":
            depth += 1
        elif body[i] == "(":
            depth -= 1
            if depth == 0:
                return body[:i], body[i + 1 : -1]
    raise AssertionError("unbalanced parenthesis: " + body[-60:])


@cache
def text_measures():
    """{code: {title, body, resp}} for every numbered measure of 三、四、五, parsed from the flattened text."""
    t = flat_text()
    starts = {n: t.index(h) for n, h in SECTION_HEADS.items()}
    end = t.index("“十四五”各县(市、区)万元GDP能耗强度降低目标")
    bounds = [(3, starts[3], starts[4]), (4, starts[4], starts[5]), (5, starts[5], end)]
    out = {}
    for sec, a, b in bounds:
        chunk = t[a + len(SECTION_HEADS[sec]) : b]
        parts = re.split(r"\(([一二三四五六七八九十]+)\)", chunk)
        assert parts[0] == "", parts[0][:40]
        for cn, body in zip(parts[1::2], parts[2::2], strict=False):
            idx = CN_NUM.index(cn) + 1
            before, resp = _split_final_paren(body)
            title, _, text = before.partition("。")
            out[f"{sec}.{idx}"] = {"label": f"{'三四五'[sec - 3]}（{cn}）", "title": title, "body": text, "resp": resp}
    return out


def parse_resp(resp):
    """Split a responsibility parenthesis into [(name, role, role_text)] and a flag for the county-scope sentence."""
    s = resp.replace("各县(市、区)政府", COUNTIES_TOKEN)
    pairs, scope = [], False
    for clause in re.split(r"[，。]", s):
        if not clause or clause == "不再列出":
            continue
        if clause.startswith("以下均需"):
            assert clause == f"以下均需{COUNTIES_TOKEN}落实", clause
            scope = True
            continue
        m = re.fullmatch(r"(.+?)(等?)(按职责分工负责|牵头|配合|负责落实|负责)", clause)
        assert m, f"unparsed responsibility clause: {clause}"
        role_text = "落实" if m.group(3) == "负责落实" else m.group(3)
        for name in m.group(1).split("、"):
            assert name and "等" not in name, clause
            pairs.append((name, ROLE_OF[role_text], role_text))
    return pairs, scope


@cache
def text_counties():
    """County names in the order of 附件 1 (the table whose header names the 能耗降低率目标)."""
    return [c for c, _ in annex1_rows()]


def _table_after(header_pred, ncols):
    lines = raw_text().split("\n")
    blocks = []
    for i, line in enumerate(lines):
        if header_pred(line):
            rows = []
            for row in lines[i + 1 :]:
                if not row.strip():
                    break
                cells = row.split("\t")
                assert len(cells) == ncols, row
                rows.append(tuple(c.strip() for c in cells))
            blocks.append(rows)
    return blocks


@cache
def annex1_rows():
    blocks = _table_after(lambda line: line.startswith("县（市、区）\t") and "能耗降低率目标" in line, 2)
    assert len(blocks) == 1
    return tuple(blocks[0])


@cache
def annex3_blocks():
    return _table_after(lambda line: line.startswith("县（市、区）\tCOD"), 5)


@cache
def annex2_rows():
    """[(category, name, unit, baseline, target, change)] for 附件 2."""
    lines = raw_text().split("\n")
    a = lines.index("“十四五”主要行业节能指标")
    b = next(i for i in range(a, len(lines)) if lines[i].startswith("注："))
    rows, category = [], None
    for line in lines[a + 1 : b]:
        if not line.strip() or line.startswith("指标\t") or "目标值" in line:
            continue
        cells = [c.strip() for c in line.split("\t")] + [""] * 5
        if cells[0] and not any(cells[1:5]):
            category = cells[0]
            continue
        rows.append((category, *tuple(cells[:5])))
    return rows


def county_gov(county):
    return f"{county}人民政府"


def text_pairs_expanded(code):
    """(name, role, role_text) pairs the text itself states for `code`, with 各县（市、区）政府 expanded to nine."""
    pairs, _ = parse_resp(text_measures()[code]["resp"])
    out = []
    for name, role, rt in pairs:
        if name == COUNTIES_TOKEN:
            out += [(county_gov(c), role, rt) for c in text_counties()]
        else:
            out.append((name, role, rt))
    return out


def county_scope_codes():
    """Measures the county governments implement: from the one carrying 以下均需各县（市、区）政府落实 to the end,
    except 五（二） 强化监督考核 (the county governments are the ones assessed there)."""
    codes = list(text_measures())
    first = next(c for c in codes if parse_resp(text_measures()[c]["resp"])[1])
    return [c for c in codes[codes.index(first) :] if c != "5.2"]


# ---------------------------------------------------------------- tests: files and structure


def test_seed_plan_text_is_a_byte_exact_copy_of_the_source():
    assert hashlib.sha256(PLAN_TXT.read_bytes()).hexdigest() == PLAN_SHA256
    assert seed()["plan"]["source"] == PLAN_TXT.name


def test_plan_header_matches_the_text():
    p = seed()["plan"]
    assert p["key"] == "anyang-14fyp-esr"
    assert flat(p["title"]) in flat_text()
    assert as_date(p["start"]) == dt.date(2021, 1, 1) and as_date(p["end"]) == dt.date(2025, 12, 31)
    assert "豫政(2022)29号" in flat(p["basis"]) and flat(p["basis"]) in flat_text()


def test_the_text_has_21_measures_and_the_seed_has_exactly_them_10_8_3():
    codes = list(text_measures())
    assert Counter(c.split(".")[0] for c in codes) == {"3": 10, "4": 8, "5": 3}
    assert [t["code"] for t in seed()["tasks"]] == codes
    assert Counter(t["section"] for t in seed()["tasks"]) == {3: 10, 4: 8, 5: 3}
    assert [(s["number"], s["label"]) for s in seed()["sections"]] == [(3, "三"), (4, "四"), (5, "五")]
    for s in seed()["sections"]:
        assert SECTION_HEADS[s["number"]] == f"{s['label']}、{s['title']}"


def test_each_task_title_text_and_responsibility_are_the_plans_own_words():
    for code, m in text_measures().items():
        t = seed_tasks()[code]
        assert t["label"] == m["label"]
        assert flat(t["title"]) == m["title"], code
        assert flat(t["text"]) == m["body"], code
        assert flat(t["responsibility"]) == m["resp"], code
        assert "(" + flat(t["responsibility"]) + ")" not in flat(t["text"])


def test_tasks_run_over_the_plan_period():
    for t in seed()["tasks"]:
        assert as_date(t["start"]) == dt.date(2021, 1, 1), t["code"]
        assert as_date(t["due"]) == dt.date(2025, 12, 31), t["code"]


# ---------------------------------------------------------------- tests: departments and roles


def test_every_department_named_in_a_parenthesis_is_assigned_with_its_role():
    for code in text_measures():
        seeded = {(d["name"], d["role"], d["role_text"]) for d in seed_tasks()[code]["departments"]}
        for name, role, rt in text_pairs_expanded(code):
            if name == EXPANDED_TOKEN:
                continue  # checked by the 各有关部门 test
            assert (name, role, rt) in seeded, (code, name, role, rt)


def test_departments_keep_the_order_of_the_parenthesis():
    for code in text_measures():
        named = [n for n, _, _ in text_pairs_expanded(code) if n != EXPANDED_TOKEN]
        seeded = [d["name"] for d in seed_tasks()[code]["departments"]]
        assert seeded[: len(named)] == named, code


def test_no_seed_assignment_lacks_a_basis_in_the_text():
    scope = set(county_scope_codes())
    kinds = {d["name"]: d["kind"] for d in seed()["departments"]}
    for t in seed()["tasks"]:
        code = t["code"]
        stated = set(text_pairs_expanded(code))
        has_expanded = any(n == EXPANDED_TOKEN for n, _, _ in stated)
        seen = Counter()
        for d in t["departments"]:
            key = (d["name"], d["role"], d["role_text"])
            seen[d["name"]] += 1
            if key in stated:
                continue
            if kinds.get(d["name"]) == "county" and d["role"] == "implementing" and d["role_text"] == "落实":
                assert code in scope, (code, d)
                continue
            raise AssertionError((code, d, "a duty the plan does not state"))
        assert max(seen.values()) == 1, (code, seen.most_common(1))
        # an open party the text states is kept as written instead
        assert has_expanded == bool(t.get("open_parties")), code


def test_roles_are_lead_support_responsible_implementing_with_literal_role_text():
    allowed = {
        ("lead", "牵头"),
        ("support", "配合"),
        ("responsible", "负责"),
        ("responsible", "按职责分工负责"),
        ("implementing", "落实"),
    }
    for t in seed()["tasks"]:
        for d in t["departments"]:
            assert (d["role"], d["role_text"]) in allowed, (t["code"], d)


def test_measures_with_several_leads_record_all_of_them_as_lead():
    for code in ("3.4", "3.5", "3.7", "4.3", "5.1", "5.2"):
        text_leads = [n for n, r, _ in text_pairs_expanded(code) if r == "lead"]
        assert len(text_leads) >= 2
        assert [d["name"] for d in seed_tasks()[code]["departments"] if d["role"] == "lead"] == text_leads


def test_county_governments_implement_every_measure_from_3_1_except_5_2():
    counties = text_counties()
    scope = county_scope_codes()
    assert scope[0] == "3.1" and len(scope) == 20 and "5.2" not in scope
    # why 五（二） is excluded: the county governments are the assessed party there
    assert "对各县(市、区)政府领导班子和领导干部综合考核评价" in text_measures()["5.2"]["body"]
    for t in seed()["tasks"]:
        impl = [d["name"] for d in t["departments"] if d["role"] == "implementing"]
        if t["code"] in scope:
            assert impl == [county_gov(c) for c in counties], t["code"]
        else:
            assert impl == [], t["code"]


def test_gexiang_youguan_bumen_is_kept_as_an_open_party_and_never_expanded_into_names():
    """各有关部门 names no department: the seed keeps it as written (issue 13), no bureau is invented for it."""
    for code, m in text_measures().items():
        pairs, _ = parse_resp(m["resp"])
        t = seed_tasks()[code]
        if not any(n == EXPANDED_TOKEN for n, _, _ in pairs):
            assert not t.get("open_parties"), code
            continue
        role_text = next(rt for n, _, rt in pairs if n == EXPANDED_TOKEN)
        named_here = {n for n, _, _ in pairs} - {EXPANDED_TOKEN}
        county_govs = {county_gov(c) for c in text_counties()}
        seeded = {d["name"] for d in t["departments"]}
        # only the departments the parenthesis names, plus the county governments of the scope clause
        assert seeded - county_govs == named_here, (code, seeded - county_govs - named_here)
        assert not any(EXPANDED_TOKEN in (d.get("note") or "") for d in t["departments"]), code
        [party] = t["open_parties"]
        assert (party["text"], party["role"], party["role_text"]) == (EXPANDED_TOKEN, ROLE_OF[role_text], role_text)
        assert not party.get("expanded") and party["note"]


def test_every_department_referenced_exists_once_with_a_valid_kind():
    depts = seed()["departments"]
    names = [d["name"] for d in depts]
    assert len(names) == len(set(names))
    assert {d["kind"] for d in depts} <= {"bureau", "county", "outside", "party"}
    by_name = {d["name"]: d for d in depts}
    referenced = {d["name"] for t in seed()["tasks"] for d in t["departments"]}
    assert referenced <= set(names), referenced - set(names)
    assert set(names) == referenced, set(names) - referenced  # nothing listed that no task uses
    named_in_text = {n for c in text_measures() for n, _, _ in text_pairs_expanded(c)} - {EXPANDED_TOKEN}
    assert named_in_text == referenced
    assert {n for n in names if by_name[n]["kind"] == "outside"} == {"人行安阳市中心支行", "安阳银保监分局"}
    assert {n for n in names if by_name[n]["kind"] == "party"} == {"市委组织部", "市委宣传部", "市妇联"}
    counties = [c["name"] for c in seed()["counties"]]
    assert [d["county"] for d in depts if d["kind"] == "county"] == counties
    for d in depts:
        if d["kind"] == "county":
            assert d["name"] == county_gov(d["county"])
        else:
            assert "county" not in d


def test_only_the_two_offices_named_for_coordination_are_coordinating():
    coord = [d["name"] for d in seed()["departments"] if d.get("coordinating")]
    assert coord == ["市发展改革委", "市生态环境局"]
    assert "市发展改革委、市生态环境局要加强统筹协调" in text_measures()["5.1"]["body"]


def test_counties_are_those_of_the_annexes_in_order_with_their_kind():
    got = [(c["name"], c["kind"]) for c in seed()["counties"]]
    assert [n for n, _ in got] == text_counties()
    assert [r[0] for r in annex3_blocks()[0]] == text_counties()
    for n, k in got:
        assert k == {"市": "city", "县": "county", "区": "district"}[n[-1]], n


# ---------------------------------------------------------------- tests: targets


def test_all_target_keys_are_unique():
    keys = [tg["key"] for _, tg in all_task_targets()] + [t["key"] for t in seed()["targets"]]
    dup = [k for k, n in Counter(keys).items() if n > 1]
    assert not dup, dup


def test_every_task_target_source_occurs_in_the_plan_text_of_its_measure():
    for code, tg in all_task_targets():
        src = flat(tg["source"])
        assert src, tg["key"]
        assert src in text_measures()[code]["body"], (code, tg["key"], tg["source"])


def test_task_target_values_come_from_their_source_clause():
    for _code, tg in all_task_targets():
        nums = {num(x) for x in NUM.findall(tg["source"])}
        for f in ("value", "value_min", "value_max"):
            if tg.get(f) is not None:
                assert float(tg[f]) in nums, (tg["key"], f, tg[f], tg["source"])


def test_task_target_deadline_follows_the_year_in_its_clause_else_plan_end():
    for _code, tg in all_task_targets():
        m = re.search(r"到(\d{4})年", flat(tg["source"]))
        year = int(m.group(1)) if m else 2025
        assert as_date(tg["due"]) == dt.date(year, 12, 31), tg["key"]


def test_task_target_comparison_matches_the_wording():
    ok = {">=", ">", "<=", "<", "=", "~", "range", None}
    for _code, tg in all_task_targets():
        c, s = tg["comparison"], flat(tg["source"])
        assert c in ok, tg["key"]
        if c is None:
            assert tg["value"] is None and tg.get("value_min") is None and tg.get("value_max") is None, tg["key"]
        elif c == "range":
            assert tg["value"] is None and tg["value_min"] < tg["value_max"] and "—" in s, tg["key"]
        else:
            assert tg["value"] is not None and tg.get("unit"), tg["key"]
        if "左右" in s:
            assert c == "~", tg["key"]
        if "超过" in s:
            assert c == ">", tg["key"]


def test_every_goal_number_in_a_measure_is_a_target_or_an_alternative_criterion():
    for code, m in text_measures().items():
        body = m["body"]
        body = re.sub(r"PM2\.5|O3|\d+kW|\d{4}年", "", body)  # names, power classes, years
        wanted = Counter(num(x) for x in NUM.findall(body))
        have = Counter()
        for tg in seed_tasks()[code].get("targets") or []:
            for f in ("value", "value_min", "value_max"):
                if tg.get(f) is not None:
                    have[float(tg[f])] += 1
            for alt in tg.get("alternatives") or []:  # 三（十）: one target, "70%以上或…增加 5%以上"
                have[float(alt["value"])] += 1
        missing = wanted - have
        assert not missing, (code, dict(missing))


def test_dated_milestones_are_targets_with_null_values():
    milestones = {tg["key"] for _, tg in all_task_targets() if tg["comparison"] is None}
    for k in ("3.2-demo-parks", "3.4-bus-taxi-nev", "3.7-yellow-river-outfalls"):
        assert k in milestones
    for _code, tg in all_task_targets():
        if tg["key"] in milestones:
            assert as_date(tg["due"]) == dt.date(2025, 12, 31)


def test_every_number_in_main_targets_is_a_city_target():
    t = flat_text()
    sec2 = t[t.index("二、主要目标") : t.index("三、实施节能减排重点工程")]
    city = plan_targets("city")
    values = {float(x[f]) for x in city for f in ("value", "value_min", "value_max") if x.get(f) is not None}
    years = {as_date(x["due"]).year for x in city} | {x["baseline_year"] for x in city if x.get("baseline_year")}
    for n in NUM.findall(sec2):
        assert num(n) in values or int(num(n)) in years, n
    for x in city:
        assert flat(x["source"]) in sec2, x["key"]
    assert any(x["value"] is None and x["comparison"] is None and "能源消费总量合理增长" in x["name"] for x in city)


def test_city_pollutant_targets_and_county_allocations_share_a_metric():
    city = {x["metric"]: x for x in plan_targets("city")}
    for m, v in (
        ("cod_reduction", 9786),
        ("ammonia_reduction", 156),
        ("nox_reduction", 11000),
        ("voc_reduction", 3229),
    ):
        assert city[m]["value"] == v and city[m]["unit"] == "吨"
    assert {x["metric"] for x in plan_targets("county_pollutant")} == {
        "cod_reduction",
        "ammonia_reduction",
        "nox_reduction",
        "voc_reduction",
    }
    assert {x["metric"] for x in plan_targets("county_energy")} == {city["energy_intensity_reduction"]["metric"]}
    assert (
        city["energy_intensity_reduction"]["value"] == 18
        and city["energy_intensity_reduction"]["baseline_year"] == 2020
    )


def test_annex1_energy_intensity_targets_one_per_county_as_printed():
    seeded = plan_targets("county_energy")
    assert len(seeded) == 9
    by_county = {x["county"]: x for x in seeded}
    for county, v in annex1_rows():
        x = by_county[county]
        assert x["value"] == num(v) and x["unit"] == "%" and x["comparison"] == ">="
        assert x["name"] == "万元GDP能耗降低率" and x["baseline_year"] == 2020
        assert as_date(x["due"]) == dt.date(2025, 12, 31)


def test_annex3_is_printed_twice_identically_and_loaded_once():
    blocks = annex3_blocks()
    assert len(blocks) == 2 and blocks[0] == blocks[1]
    seeded = plan_targets("county_pollutant")
    assert len(seeded) == 36
    by = {(x["county"], x["metric"]): x for x in seeded}
    assert len(by) == 36
    metrics = ["cod_reduction", "ammonia_reduction", "nox_reduction", "voc_reduction"]
    for county, *vals in blocks[0]:
        for metric, v in zip(metrics, vals, strict=False):
            x = by[(county, metric)]
            assert x["value"] == num(v), (county, metric)
            assert x["unit"] == "吨" and x["comparison"] == ">="


def test_annex2_sector_targets_match_the_table_once():
    assert raw_text().count("附件 2") == 2  # heading printed twice ...
    rows = annex2_rows()
    seeded = plan_targets("sector")
    assert len(seeded) == len(rows) == 13  # ... but it is one annex
    by_name = {flat(x["name"]): x for x in seeded}
    for category, name, unit, base, target, change in rows:
        x = by_name[flat(name)]
        assert x["category"] == category, name
        if change.startswith("["):
            rate = re.fullmatch(r"\[(\d+(?:\.\d+)?)%\]", change).group(1)
            assert x["value"] == num(rate) and x["unit"] == "%" and x["comparison"] == ">="
            assert name.endswith("下降率") and x["note"] == "[]内为变化率"
            assert x.get("change") is None and x["baseline"] is None
        else:
            assert x["value"] == num(target.lstrip("<")), name
            if target.startswith("<"):
                assert x["comparison"] == "<", name
            assert (x["unit"] or "") == unit, name
            assert x["baseline"] == (num(base) if base else None), name
            assert x.get("change") == (num(change) if change else None), name
            if base and change and round(x["value"] - x["baseline"], 2) != x["change"]:
                assert "按原表记录" in (x["note"] or ""), name  # printed change kept, discrepancy documented
        assert as_date(x["due"]) == dt.date(2025, 12, 31)


def test_plan_level_target_groups_and_counts():
    assert Counter(x["group"] for x in seed()["targets"]) == {
        "city": 6,
        "sector": 13,
        "county_energy": 9,
        "county_pollutant": 36,
    }
    counties = {c["name"] for c in seed()["counties"]}
    for x in seed()["targets"]:
        if x["group"].startswith("county_"):
            assert x["county"] in counties, x["key"]
        else:
            assert "county" not in x, x["key"]


@pytest.mark.parametrize("path", [SEED_YAML, PLAN_TXT])
def test_seed_files_are_utf8(path):
    path.read_bytes().decode("utf-8")
