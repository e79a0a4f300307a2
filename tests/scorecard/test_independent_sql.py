"""Every figure of a period's scorecard, recomputed here with separately written SQL straight
over the registry YAML, the ingest manifest and the quality tables, must equal scores.parquet;
and every score must follow from those figures by the formulas of catalog/scorecard.yaml."""

from __future__ import annotations

import itertools
import re
import statistics
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from bzdata.registry import default_root

pytestmark = pytest.mark.slow

PERIODS = ("2023-02", "2023-03")
DIMS = {
    "规范性": "conformity",
    "完整性": "completeness",
    "准确性": "accuracy",
    "一致性": "consistency",
    "时效性": "timeliness",
    "可访问性": "accessibility",
}
CONFIG = Path(__file__).resolve().parents[2] / "catalog" / "scorecard.yaml"


def _blank(value):
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _registry_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The registry's YAML as plain tables, read here without the project's loader."""
    root = default_root()
    depts = yaml.safe_load((root / "departments.yaml").read_text())["departments"]
    elements = yaml.safe_load((root / "data_elements.yaml").read_text())["data_elements"]
    datasets, fields = [], []
    for path in sorted((root / "datasets").glob("*.yaml")):
        d = yaml.safe_load(path.read_text())
        datasets.append(
            {
                "id": d["id"],
                "provider": _blank(d.get("provider")),
                "name": _blank(d.get("name")),
                "abstract": _blank(d.get("abstract")),
                "resource_code": _blank(d.get("resource_code")),
                "category": _blank(d.get("category")),
                "format": _blank(d.get("format")),
                "update_cycle": _blank(d.get("update_cycle")),
                "publish_date": _blank(d.get("publish_date")),
                "share_type": _blank((d.get("share") or {}).get("type")),
                "share_condition": _blank((d.get("share") or {}).get("condition")),
                "open_type": _blank((d.get("open") or {}).get("type")),
                "open_condition": _blank((d.get("open") or {}).get("condition")),
            }
        )
        for f in d.get("fields") or []:
            fields.append(
                {
                    "dataset": d["id"],
                    "header": _blank(f.get("header")),
                    "element": f.get("element"),
                    "type": _blank(f.get("type")),
                    "personal": f.get("personal"),
                }
            )
    con.register("ds", pa.Table.from_pylist(datasets))
    con.register(
        "fld",
        pa.Table.from_pylist(
            fields,
            schema=pa.schema(
                [
                    ("dataset", pa.string()),
                    ("header", pa.string()),
                    ("element", pa.string()),
                    ("type", pa.string()),
                    ("personal", pa.bool_()),
                ]
            ),
        ),
    )
    con.register(
        "el",
        pa.Table.from_pylist(
            [
                {"id": e["id"], "type": e.get("type"), "personal": bool(e.get("personal"))}
                for e in elements
            ]
        ),
    )
    con.register(
        "dept",
        pa.Table.from_pylist(
            [{"code": d["code"], "unified_code": _blank(d.get("unified_code"))} for d in depts],
            schema=pa.schema([("code", pa.string()), ("unified_code", pa.string())]),
        ),
    )


def _catalog(con, rules: dict) -> dict[str, dict]:
    sql = """
    with f as (
        select fld.dataset, coalesce(fld.type, el.type) as type, fld.header,
               coalesce(fld.personal, el.personal, false) as personal
        from fld left join el on el.id = fld.element
    ),
    per_ds as (
        select
            ds.*,
            dept.code is not null as known_provider,
            dept.unified_code,
            (select count(*) from f where f.dataset = ds.id) as n_fields,
            (select count(*) from f where f.dataset = ds.id and f.type is null) as untyped,
            (select count(*) from f where f.dataset = ds.id and f.header is null) as unnamed,
            coalesce((select bool_or(personal) from f where f.dataset = ds.id), false) as personal,
            (select count(*) from ds as o where o.name = ds.name) as same_name,
            (select count(*) from ds as o where o.resource_code = ds.resource_code) as same_code
        from ds left join dept on dept.code = ds.provider
    ),
    scored as (
        select
            provider,
            (category is not null)::int + (name is not null)::int
            + (resource_code is not null)::int + known_provider::int
            + (unified_code is not null)::int + (abstract is not null)::int
            + (format is not null)::int + (n_fields > 0 and untyped = 0 and unnamed = 0)::int
            + (share_type is not null)::int
            + (share_type = '无条件共享' or share_condition is not null)::int
            + (open_type is not null)::int
            + (open_type = '无条件开放' or open_condition is not null)::int
            + (update_cycle in ('实时', '每日', '每周', '每月', '每季', '每年'))::int
            + (publish_date is not null)::int as filled,
            (name is null)::int + (abstract is null)::int + (not known_provider)::int
            + (resource_code is null)::int + (n_fields = 0)::int + untyped + unnamed
            + (coalesce(update_cycle, '') not in ('实时', '每日', '每周', '每月', '每季', '每年'))
                ::int
            + (share_type is null)::int + (open_type is null)::int
            + (publish_date is null)::int as errors,
            (same_name > 1)::int
            + (abstract is not null and (length(abstract) < $min_chars or abstract = name))::int
            + (resource_code is not null and not regexp_full_match(resource_code, $pattern))::int
            + (resource_code is not null and same_code > 1)::int
            + (share_type <> '无条件共享' and share_condition is null)::int
            + (open_type <> '无条件开放' and open_condition is null)::int
            + (share_type = '无条件共享' and personal)::int
            + (open_type = '无条件开放' and personal)::int as warnings
        from per_ds
    )
    select
        provider,
        count(*) as datasets_registered,
        count(*) filter (where errors = 0) as datasets_catalogued,
        sum(filled) as metadata_items_filled,
        14 * count(*) as metadata_items_total,
        sum(errors) as lint_errors,
        sum(warnings) as lint_warnings
    from scored
    group by provider
    """
    params = {"min_chars": rules["min_abstract_chars"], "pattern": rules["resource_code_pattern"]}
    return _by_department(con.execute(sql, params))


def _by_department(cursor) -> dict[str, dict]:
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in cursor.fetchall()}


def _collection(con, lake: Path, period: str) -> dict[str, dict]:
    month = int(period[5:])
    sql = f"""
    with m as (
        select * from read_parquet('{lake}/manifest/period={period}/*.parquet')
    ),
    expected as (
        select id as dataset, provider from ds
        where update_cycle not in ('每季', '每年')
           or (update_cycle = '每季' and {month} in (3, 6, 9, 12))
           or (update_cycle = '每年' and {month} = 12)
    ),
    best as (
        select dataset,
               max(case when status = 'loaded' and not coalesce(late, false) then 2
                        when status = 'loaded' then 1 else 0 end) as grade
        from m group by dataset
    ),
    deliveries as (
        select e.provider as department,
               count(*) as deliveries_expected,
               sum(case when b.grade = 2 then 1 else 0 end) as deliveries_on_time,
               sum(case when b.grade = 1 then 1 else 0 end) as deliveries_late,
               sum(case when coalesce(b.grade, 0) = 0 then 1 else 0 end) as deliveries_missing
        from expected as e left join best as b using (dataset)
        group by e.provider
    ),
    files as (
        select department,
               sum(case when status = 'loaded' then 1 else 0 end) as files_loaded,
               sum(case when status = 'quarantined' then 1 else 0 end) as files_quarantined,
               sum(case when status = 'duplicate' then 1 else 0 end) as files_duplicate,
               sum(case when status = 'loaded' then rows_read else 0 end) as rows_read,
               sum(case when status = 'loaded' then rows_accepted else 0 end) as rows_received,
               sum(case when status = 'loaded' then rows_rejected else 0 end) as rows_rejected
        from m group by department
    )
    select d.department, d.* exclude (department),
           coalesce(f.files_loaded, 0) as files_loaded,
           coalesce(f.files_quarantined, 0) as files_quarantined,
           coalesce(f.files_duplicate, 0) as files_duplicate,
           coalesce(f.rows_read, 0) as rows_read,
           coalesce(f.rows_received, 0) as rows_received,
           coalesce(f.rows_rejected, 0) as rows_rejected
    from deliveries as d left join files as f using (department)
    """
    return _by_department(con.execute(sql))


def _quality(con, lake: Path, period: str) -> dict[str, dict]:
    rr = f"read_parquet('{lake}/quality/rule_results/period={period}/rule_results.parquet')"
    issues = f"read_parquet('{lake}/quality/issues/period={period}/issues.parquet')"
    dims = ", ".join(
        f"sum(case when dimension = '{name}' then element_count else 0 end) as elements_{key}, "
        f"sum(case when dimension = '{name}' then unexpected_count else 0 end) as unexpected_{key}"
        for name, key in DIMS.items()
    )
    sql = f"""
    with ok as (select * from {rr} where error is null),
    per_rule as (select department, count(*) as rules_checked, {dims} from ok group by 1),
    errs as (select department, count(*) as rules_errored from {rr} where error is not null
             group by 1),
    recs as (select department, sum(m) as records_checked from (
                select department, dataset, max(element_count) as m from ok group by 1, 2)
             group by 1),
    iss as (select department, count(*) as issues_open,
                   sum((severity = '严重')::int) as issues_severe,
                   sum((severity = '一般')::int) as issues_general,
                   sum((severity = '提示')::int) as issues_hint
            from {issues} group by 1)
    select d.code, r.* exclude (department), coalesce(e.rules_errored, 0) as rules_errored,
           n.records_checked, i.* exclude (department)
    from dept as d
    left join per_rule as r on r.department = d.code
    left join errs as e on e.department = d.code
    left join recs as n on n.department = d.code
    left join iss as i on i.department = d.code
    """
    return _by_department(con.execute(sql))


def _rectification(con, lake: Path, period: str, previous: str) -> dict[str, dict]:
    status = "read_parquet('{lake}/quality/issue_status/period={p}/issue_status.parquet')"
    before = status.format(lake=lake, p=previous)
    now = status.format(lake=lake, p=period)
    sql = f"""
    with prev as (select issue_id, department from {before} where status_code <> 'rectified'),
    cur as (select * from {now}),
    followed as (
        select prev.department,
               count(*) as prev_open_issues,
               sum(case when cur.status_code = 'rectified' then 1 else 0 end) as rectified
        from prev left join cur using (issue_id)
        group by 1
    ),
    reopened as (select department, sum((status_code = 'reopened')::int) as reopened
                 from cur group by 1)
    select d.code, coalesce(f.prev_open_issues, 0) as prev_open_issues,
           coalesce(f.rectified, 0) as rectified,
           coalesce(f.prev_open_issues, 0) - coalesce(f.rectified, 0) as still_open,
           coalesce(r.reopened, 0) as reopened
    from dept as d left join followed as f on f.department = d.code
    left join reopened as r on r.department = d.code
    """
    out = _by_department(con.execute(sql))
    months = con.execute(
        f"select department, first_period from {now} where status_code = 'rectified'"
    ).fetchall()
    p_year, p_month = int(period[:4]), int(period[5:])
    spans: dict[str, list[int]] = {}
    for department, first in months:
        spans.setdefault(department, []).append(
            (p_year - int(first[:4])) * 12 + p_month - int(first[5:])
        )
    for code, row in out.items():
        row["median_months_to_rectify"] = statistics.median(spans[code]) if code in spans else None
    return out


def _expected(con, lake: Path, period: str, previous: str, config: dict) -> dict[str, dict]:
    providers = {r[0] for r in con.execute("select distinct provider from ds").fetchall()}
    catalog = _catalog(con, config["catalog"])
    collection = _collection(con, lake, period)
    quality = _quality(con, lake, period)
    rect = _rectification(con, lake, period, previous)
    out = {}
    for code in sorted(providers):
        row = {**catalog[code], **collection[code], **quality[code], **rect[code]}
        for key in DIMS.values():
            row[f"elements_{key}"] = row[f"elements_{key}"] or 0
            row[f"unexpected_{key}"] = row[f"unexpected_{key}"] or 0
        for key in (
            "rules_checked",
            "records_checked",
            "issues_open",
            "issues_severe",
            "issues_general",
            "issues_hint",
        ):
            row[key] = row[key] or 0
        out[code] = row
    return out


def _close(actual, expected, what: str) -> None:
    if expected is None:
        assert actual is None, what
    else:
        assert actual is not None, what
        assert abs(float(actual) - float(expected)) <= 1e-9, (what, actual, expected)


def _rates(row: dict) -> dict:
    def ratio(a, b):
        return a / b if b else None

    rates = {
        "catalogued_rate": ratio(row["datasets_catalogued"], row["datasets_registered"]),
        "metadata_completeness": ratio(row["metadata_items_filled"], row["metadata_items_total"]),
        "on_time_rate": ratio(row["deliveries_on_time"], row["deliveries_expected"]),
        "reject_rate": ratio(row["rows_rejected"], row["rows_read"]) or 0.0,
        "issues_per_10k": (
            row["issues_open"] / row["records_checked"] * 10000 if row["records_checked"] else None
        ),
        "rectification_rate": ratio(row["rectified"], row["prev_open_issues"]),
    }
    for key in DIMS.values():
        rates[f"pass_rate_{key}"] = (
            1 - row[f"unexpected_{key}"] / row[f"elements_{key}"]
            if row[f"elements_{key}"]
            else None
        )
    return rates


def _scores(row: dict, rates: dict, cfg: dict) -> dict:
    def clamp(x):
        return max(0.0, min(100.0, x))

    c, k, q = cfg["catalog"], cfg["collection"], cfg["quality"]
    catalog = clamp(
        100
        * (
            c["qualified_weight"] * rates["catalogued_rate"]
            + (1 - c["qualified_weight"]) * rates["metadata_completeness"]
        )
        - c["warning_penalty"] * row["lint_warnings"]
    )
    collection = clamp(
        100
        * (row["deliveries_on_time"] + k["late_credit"] * row["deliveries_late"])
        / row["deliveries_expected"]
        * (1 - rates["reject_rate"])
        - k["quarantine_penalty"] * row["files_quarantined"]
    )
    dims = [
        (
            q["dimensions"][name],
            clamp(
                100
                * (rates[f"pass_rate_{key}"] - q["pass_rate_floor"])
                / (1 - q["pass_rate_floor"])
            ),
        )
        for name, key in DIMS.items()
        if rates[f"pass_rate_{key}"] is not None
    ]
    quality = sum(w * s for w, s in dims) / sum(w for w, _ in dims) if dims else None
    if row["prev_open_issues"]:
        rect = clamp(
            100
            * (row["rectified"] - cfg["rectification"]["reopen_weight"] * row["reopened"])
            / row["prev_open_issues"]
        )
    else:
        rect = 100.0
    return {"catalog": catalog, "collection": collection, "quality": quality, "rectification": rect}


@pytest.fixture(scope="module")
def config() -> dict:
    return yaml.safe_load(CONFIG.read_text())


@pytest.mark.parametrize("period", PERIODS)
def test_every_figure_equals_independent_sql(scored_city, config, period):
    con = duckdb.connect()
    _registry_tables(con)
    previous = {"2023-02": "2023-01", "2023-03": "2023-02"}[period]
    expected = _expected(con, scored_city.lake, period, previous, config)
    table = pq.read_table(scored_city.scorecard(period) / "scores.parquet").to_pylist()
    actual = {r["department"]: r for r in table if r["period"] == period}
    assert set(actual) == set(expected)
    compared = 0
    for code, want in expected.items():
        got = actual[code]
        for key, value in {**want, **_rates(want)}.items():
            _close(got[key], value, f"{period} {code} {key}")
            compared += 1
    assert compared >= 12 * 45


@pytest.mark.parametrize("period", PERIODS)
def test_scores_follow_the_printed_formulas(scored_city, config, period):
    con = duckdb.connect()
    _registry_tables(con)
    previous = {"2023-02": "2023-01", "2023-03": "2023-02"}[period]
    expected = _expected(con, scored_city.lake, period, previous, config)
    rows = [
        r
        for r in pq.read_table(scored_city.scorecard(period) / "scores.parquet").to_pylist()
        if r["period"] == period
    ]
    weights = config["weights"]
    for row in rows:
        want = _scores(expected[row["department"]], _rates(expected[row["department"]]), config)
        for section, value in want.items():
            assert row[f"{section}_score"] == pytest.approx(round(value, 2), abs=0.006), section
        total = sum(weights[s] * row[f"{s}_score"] for s in want if row[f"{s}_score"] is not None)
        weight = sum(weights[s] for s in want if row[f"{s}_score"] is not None)
        assert row["composite"] == pytest.approx(total / weight, abs=0.006)
    ordered = sorted(rows, key=lambda r: -r["composite"])
    for better, worse in itertools.pairwise(ordered):
        assert better["rank"] <= worse["rank"]
        assert (better["rank"] == worse["rank"]) == (better["composite"] == worse["composite"])
    assert min(r["rank"] for r in rows) == 1


def test_broken_deliveries_show_in_collection_figures(scored_city):
    rows = {
        r["department"]: r
        for r in pq.read_table(scored_city.scorecard("2023-02") / "scores.parquet").to_pylist()
        if r["period"] == "2023-02"
    }
    assert rows["tjj"]["deliveries_missing"] == 1
    assert rows["fgw"]["files_quarantined"] == 1
    assert rows["dsj"]["files_duplicate"] == 1
    assert rows["rsj"]["rows_rejected"] >= 1
    assert rows["tjj"]["collection_score"] < 100
    assert re.fullmatch(r"\d{4}-\d{2}", rows["tjj"]["period"])
