"""Portal test fixture: quality outputs in the contract layout, made from the synthetic ledger.

The portal is tested on what it shows of the lake's issue lists, compared with the lake itself;
running dbt and GX for that would only slow the session. The outputs are derived from what the
synthetic city knows it injected: every ledger defect becomes an issue of a rule named
after its kind and field (department = the dataset's provider), its life cycle comes from
`rectifications.parquet`, and every delivery gets a 时效性 rule that fails when it was late or
missing. Layout and columns are those agreed with the quality checks (bzdata.quality.outputs):

    lake/quality/rule_results/period=<P>/rule_results.parquet
    lake/quality/issues/period=<P>/issues.parquet
    lake/quality/issue_status/period=<P>/issue_status.parquet
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from bzdata.quality import outputs
from bzdata.registry import load_registry
from bzdata.sharing import mask
from bzdata.synth.defects import KINDS

DELIVERY_KINDS = {"late_delivery", "missing_delivery"}
CONSISTENCY_KINDS = {"homophone_name", "stale_address", "wrong_birth_date", "wrong_legal_rep"}
KIND_NAMES = {
    "check_digit": "校验位错误",
    "malformed": "格式错误",
    "legacy_id15": "15 位旧号码",
    "fullwidth_digits": "含全角数字",
    "stray_spaces": "含多余空格",
    "invalid_code": "代码不在代码表中",
    "missing_value": "必填项为空",
    "out_of_range": "取值超出范围",
    "duplicate_record": "记录重复",
    "homophone_name": "名称与权威来源不一致",
    "stale_address": "地址与权威来源不一致",
    "wrong_birth_date": "出生日期与权威来源不一致",
    "wrong_legal_rep": "法定代表人与权威来源不一致",
    "future_event": "事件日期晚于报送期",
    "before_subject": "日期早于对象的出生或成立",
    "id_birth_mismatch": "出生日期与身份号码不一致",
    "id_gender_mismatch": "性别与身份号码不一致",
    "unknown_region": "行政区划代码不存在",
    "id_unknown_region": "身份号码地区码不存在",
    "uscc_unknown_region": "信用代码区划不存在",
    "placeholder": "以占位符代替空值",
    "unknown_subject": "权威部门没有此对象",
    "death_not_propagated": "已死亡人员仍为有效状态",
}
SEVERITY = {
    "check_digit": "严重",
    "malformed": "严重",
    "duplicate_record": "严重",
    "wrong_birth_date": "严重",
    "legacy_id15": "一般",
    "invalid_code": "一般",
    "missing_value": "一般",
    "out_of_range": "一般",
    "homophone_name": "一般",
    "stale_address": "一般",
    "wrong_legal_rep": "一般",
    "fullwidth_digits": "提示",
    "stray_spaces": "提示",
    "future_event": "一般",
    "before_subject": "一般",
    "id_birth_mismatch": "一般",
    "id_gender_mismatch": "一般",
    "unknown_region": "一般",
    "id_unknown_region": "严重",
    "uscc_unknown_region": "严重",
    "placeholder": "一般",
    "unknown_subject": "一般",
    "death_not_propagated": "一般",
}
assert set(KIND_NAMES) == set(SEVERITY) == set(KINDS) - DELIVERY_KINDS, "every value kind is named"
STATUS_TEXT = {"new": "新发现", "open": "未整改", "reopened": "复发"}

# The real output contract, so the fixture cannot drift from what the checks write.
RULE_RESULTS = outputs.RULE_RESULTS_SCHEMA
ISSUES = outputs.ISSUES_SCHEMA
ISSUE_STATUS = outputs.ISSUE_STATUS_SCHEMA


def rule_id(dataset: str, field: str | None, kind: str) -> str:
    return f"{dataset}.{field or 'record'}.{kind}"


def issue_id(dataset: str, rule: str, record_key: str, field: str | None) -> str:
    raw = f"{dataset}|{rule}|{record_key}|{field or ''}".encode()
    return hashlib.sha1(raw).hexdigest()[:16]


def _month(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:7])


def _write(table: pa.Table, lake: Path, name: str, period: str) -> None:
    path = lake / "quality" / name / f"period={period}" / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def write_quality_from_ledger(
    synth: Path, lake: Path, periods: list[str] | None = None
) -> list[str]:
    """Write the three contract tables for every ledger period (or those given)."""
    registry = load_registry()
    meta = json.loads((synth / "synth.json").read_text())
    rows_delivered = {(d["period"], d["dataset"]): d for d in meta["deliveries"]}
    all_periods = sorted(p.name for p in (synth / "ledger").iterdir() if p.is_dir())
    ledgers = {
        p: pq.read_table(synth / "ledger" / p / "defects.parquet").to_pylist() for p in all_periods
    }
    outcomes = {
        p: pq.read_table(synth / "ledger" / p / "rectifications.parquet").to_pylist()
        for p in all_periods
    }
    rules: dict[tuple[str, str | None, str], None] = {}
    for period in all_periods:
        for row in ledgers[period]:
            if row["defect_kind"] not in DELIVERY_KINDS:
                rules[(row["dataset"], row["field"], row["defect_kind"])] = None
    latest: dict[str, dict] = {}  # issue id → its latest ledger row
    previous_open: dict[str, dict] = {}  # issue id → its status row of last period
    written = []
    for period in all_periods:
        status: dict[str, dict] = {}
        for row in ledgers[period]:
            kind = row["defect_kind"]
            if kind in DELIVERY_KINDS:
                continue
            rid = rule_id(row["dataset"], row["field"], kind)
            iid = issue_id(row["dataset"], rid, row["record_key"], row["field"])
            latest[iid] = row
            status[iid] = _status_row(iid, period, row, rid, row["status"])
        for row in outcomes[period]:
            if row["defect_kind"] in DELIVERY_KINDS:
                continue  # like the ledger rows above: the fixture models record issues only
            rid = rule_id(row["dataset"], row["field"], row["defect_kind"])
            iid = issue_id(row["dataset"], rid, row["record_key"], row["field"])
            if iid in status:
                continue
            code = "open" if row["outcome"] == "open" else "rectified"  # gone/superseded: fixed
            status[iid] = _status_row(iid, period, latest[iid], rid, code)
        for iid, before in previous_open.items():
            if iid not in status:  # not delivered this month: still open
                status[iid] = {**before, "period": period, "status_code": "open"}
        for item in status.values():
            item["months_open"] = _month(period) - _month(item["first_period"]) + 1
            item["rectified_period"] = period if item["status_code"] == "rectified" else None
        ordered = sorted(status.values(), key=lambda r: r["issue_id"])
        previous_open = {r["issue_id"]: r for r in ordered if r["status_code"] != "rectified"}
        issues = [
            _issue_row(registry, r, latest[r["issue_id"]], period)
            for r in ordered
            if r["status_code"] != "rectified"
        ]
        if periods is None or period in periods:
            _write(pa.Table.from_pylist(ordered, ISSUE_STATUS), lake, "issue_status", period)
            _write(pa.Table.from_pylist(issues, ISSUES), lake, "issues", period)
            results = _rule_results(registry, period, rules, issues, rows_delivered)
            _write(pa.Table.from_pylist(results, RULE_RESULTS), lake, "rule_results", period)
            written.append(period)
    return written


def _status_row(iid: str, period: str, row: dict, rid: str, code: str) -> dict:
    return {
        "issue_id": iid,
        "period": period,
        "dataset": row["dataset"],
        "department": row["department"],
        "rule_id": rid,
        "dimension": KINDS[row["defect_kind"]],
        "severity": SEVERITY[row["defect_kind"]],
        "first_period": row["first_period"],
        "status_code": code,
    }


def _issue_row(registry, status: dict, row: dict, period: str) -> dict:
    kind = row["defect_kind"]
    element = registry.element(row["element"]) if row["element"] else None
    personal = element is not None and element.personal

    def shown(value):
        return mask(value, element.id) if personal and value else value

    consistency = kind in CONSISTENCY_KINDS
    return {
        "issue_id": status["issue_id"],
        "period": period,
        "dataset": row["dataset"],
        "department": row["department"],
        "rule_id": status["rule_id"],
        "rule_name": KIND_NAMES[kind],
        "dimension": status["dimension"],
        "severity": status["severity"],
        "record_key": row["record_key"],
        "field": row["field"],
        "header": row["header"],
        "delivered_value": row["delivered_value"],
        "shown_value": shown(row["delivered_value"]),
        "authoritative_value": shown(row["true_value"]) if consistency else None,
        "authority_department": element.authority if consistency and element else None,
        "status": STATUS_TEXT[status["status_code"]],
        "first_period": row["first_period"],
        "message": f"{row['header'] or '记录'}：{KIND_NAMES[kind]}",
    }


def _rule_results(registry, period, rules, issues, delivered) -> list[dict]:
    failing: dict[str, int] = defaultdict(int)
    for issue in issues:
        failing[issue["rule_id"]] += 1
    out = []
    for dataset, field, kind in sorted(rules, key=lambda r: (r[0], r[1] or "", r[2])):
        delivery = delivered.get((period, dataset))
        if delivery is None or delivery["status"] == "missing":
            continue
        rid = rule_id(dataset, field, kind)
        records = delivery["rows"]
        bad = min(failing.get(rid, 0), records)
        out.append(
            _result(
                period,
                registry.dataset(dataset),
                rid,
                KIND_NAMES[kind],
                kind,
                KINDS[kind],
                SEVERITY[kind],
                records,
                bad,
            )
        )
    for (p, dataset), delivery in sorted(delivered.items()):
        if p != period:
            continue
        bad = int(delivery["status"] in ("late", "missing"))
        out.append(
            _result(
                period,
                registry.dataset(dataset),
                f"{dataset}.delivery.timeliness",
                "按更新周期按时报送",
                "timeliness",
                "时效性",
                "一般",
                1,
                bad,
            )
        )
    return out


def _result(period, ds, rid, name, template, dimension, severity, records, bad) -> dict:
    return {
        "period": period,
        "dataset": ds.id,
        "department": ds.provider,
        "rule_id": rid,
        "rule_name": name,
        "template": template,
        "dimension": dimension,
        "severity": severity,
        "element_count": records,
        "unexpected_count": bad,
        "pass_rate": 1 - bad / records if records else None,
        "engine": "sql",
        "error": None,
    }
