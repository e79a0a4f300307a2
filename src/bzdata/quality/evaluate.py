"""Judge the checks against the synthetic city's defect ledger: recall and precision per defect
kind, and whether each issue's status follows what the departments really did.

A platform issue matches a ledger entry of the same period, dataset and field with the same
delivered value (a missing value matches an empty one) when its rule's template can find that
kind of defect (KIND_TEMPLATES), and, unless the defect is in the record key itself, the same
record key. A duplicate matches by record key; a late or missing delivery by dataset.

Only what the period's data shows can be found: a 前置库 table is checked whole as of the period,
but a re-inserted copy of a row shows only in the pull that brought it (its issue stays open
afterwards).
`Evaluation.invisible` lists ledger entries no rule can see by design, each with its reason.
Used by tests/quality and benchmarks/quality_validate.py.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from bzdata.ids.text import normalize
from bzdata.quality import outputs
from bzdata.quality.rules import RuleSet, load_rules
from bzdata.registry import Registry, load_registry
from bzdata.registry.plan import staging_model

# Which rule templates find which defect kind of the synthetic ledger (bzdata.synth.defects).
KIND_TEMPLATES: dict[str, frozenset[str]] = {
    "check_digit": frozenset({"ric", "uscc"}),
    "malformed": frozenset({"ric", "uscc", "mobile", "region", "parse"}),
    "legacy_id15": frozenset({"standard_form"}),
    "fullwidth_digits": frozenset({"standard_form"}),
    "stray_spaces": frozenset({"standard_form"}),
    "invalid_code": frozenset({"code_list"}),
    "missing_value": frozenset({"not_null"}),
    "out_of_range": frozenset({"range"}),
    "duplicate_record": frozenset({"duplicate_row"}),
    "homophone_name": frozenset({"consistency"}),
    "stale_address": frozenset({"consistency"}),
    "wrong_birth_date": frozenset({"consistency"}),
    "wrong_legal_rep": frozenset({"consistency"}),
    "late_delivery": frozenset({"late_delivery"}),
    "missing_delivery": frozenset({"missing_delivery"}),
    # Kinds no rule was written for: each is caught by a rule derived from the registry's
    # facts (expectations/README.md).
    "future_event": frozenset({"not_after_period"}),
    "before_subject": frozenset({"not_before"}),
    "id_birth_mismatch": frozenset({"id_encodes"}),
    "id_gender_mismatch": frozenset({"id_encodes", "consistency"}),
    "unknown_region": frozenset({"region"}),
    "id_unknown_region": frozenset({"ric"}),
    "uscc_unknown_region": frozenset({"uscc"}),
    "placeholder": frozenset({"not_null", "placeholder"}),
    "unknown_subject": frozenset({"known_to_authority"}),
    "death_not_propagated": frozenset({"subject_ended"}),
}
# The classes of defect the kinds stand for (what a city meets, not a list of cases).
KIND_CLASSES: dict[str, str] = {
    **dict.fromkeys(
        ("check_digit", "malformed", "legacy_id15", "fullwidth_digits", "stray_spaces"), "格式"
    ),
    **dict.fromkeys(("invalid_code", "unknown_region", "id_unknown_region"), "代码存在性"),
    "uscc_unknown_region": "代码存在性",
    **dict.fromkeys(("missing_value", "placeholder"), "缺失与占位符"),
    **dict.fromkeys(("out_of_range", "future_event", "before_subject"), "取值与时间合理性"),
    **dict.fromkeys(("duplicate_record",), "重复"),
    **dict.fromkeys(("id_birth_mismatch", "id_gender_mismatch"), "记录内一致"),
    **dict.fromkeys(
        ("homophone_name", "stale_address", "wrong_birth_date", "wrong_legal_rep"), "多源一致"
    ),
    **dict.fromkeys(("unknown_subject", "death_not_propagated"), "一数一源完整性"),
    **dict.fromkeys(("late_delivery", "missing_delivery"), "时效性"),
}
assert set(KIND_CLASSES) == set(KIND_TEMPLATES)
SCORED_TEMPLATES = frozenset().union(*KIND_TEMPLATES.values())
DELIVERY_STATUS = (
    "时效性问题按数据集跟踪（连续迟报为未整改，按期报送即已整改），台账逐期把每次迟报记为新缺陷，"
    "两者口径不同，不比较状态"
)
KEY_COLLISION = (
    "两条记录的记录键列被改成同一个无效值，变成记录键相同、内容相同的两行：报为一次码表问题，"
    "相同的两行另报行重复"
)
FRONTDB_GONE = "前置库删除的记录在增量抽取中不可见：问题保持未整改"
REFERENCE_BROKEN = (
    "记录所指对象在权威登记库中的记录键有误（台账记为权威部门的缺陷），取不到其出生或成立日期，"
    "无从判断时间先后"
)
HIDDEN_NOW = "本期不可见（见 invisible 的原因）：平台无从判断，不比较状态"
RECTIFIED_BEFORE = "问题已在之前的报送期整改，本期无状态行"
AUTHORITY_KEY = (
    "权威部门的记录键有误（台账记为权威部门的缺陷，由其记录键规则发现），副本记录因此无法核对："
    "报为权威部门的问题（authority_behind），不是副本的错误"
)
_DATASET_LEVEL = {"late_delivery", "missing_delivery"}
# Kinds staging's normalisation undoes (the record key the platform sees is the true one).
_REPAIRED = {"fullwidth_digits", "stray_spaces", "legacy_id15"}


@dataclass
class KindScore:
    truth: int = 0  # ledger entries the period's data shows
    found: int = 0  # of those, matched by an issue
    issues: int = 0  # issues attributed to the kind (matched, or unmatched of its templates)
    correct: int = 0  # issues that match an entry of the kind

    @property
    def recall(self) -> float:
        return self.found / self.truth if self.truth else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.issues if self.issues else 1.0


@dataclass
class Evaluation:
    """Scores per kind over the periods evaluated, plus what could not be scored."""

    kinds: dict[str, KindScore] = field(default_factory=lambda: defaultdict(KindScore))
    missed: list[dict] = field(default_factory=list)  # visible entries no issue matched
    false_issues: list[dict] = field(default_factory=list)  # issues matching no entry
    invisible: list[dict] = field(default_factory=list)  # entries no rule can see, with reason
    explained: list[dict] = field(default_factory=list)  # unmatched issues with a known reason
    carried: list[dict] = field(default_factory=list)  # open, not in this period's pull
    unscored: Counter = field(default_factory=Counter)  # issues of templates with no kind
    matched: dict[str, str] = field(default_factory=dict)  # defect_id -> issue_id
    status: Counter = field(default_factory=Counter)  # (expected, actual) -> count
    status_excluded: list[dict] = field(default_factory=list)
    status_wrong: list[dict] = field(default_factory=list)

    def table(self) -> list[dict[str, Any]]:
        rows = []
        for kind in KIND_TEMPLATES:
            score = self.kinds.get(kind, KindScore())
            rows.append(
                {
                    "kind": kind,
                    "truth": score.truth,
                    "found": score.found,
                    "recall": score.recall,
                    "issues": score.issues,
                    "correct": score.correct,
                    "precision": score.precision,
                }
            )
        return rows

    def status_agreement(self) -> float:
        total = sum(self.status.values())
        same = sum(n for (want, got), n in self.status.items() if want == got)
        return same / total if total else 1.0


def _value(value: Any) -> str:
    return "" if value is None else str(value)


def _read(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist() if path.is_file() else []


class Evaluator:
    """Accumulates an Evaluation period by period (call `period()` after each run)."""

    def __init__(
        self,
        work_dir: Path,
        synth_dir: Path,
        registry: Registry | None = None,
        rules: RuleSet | None = None,
    ) -> None:
        self.work = Path(work_dir)
        self.synth = Path(synth_dir)
        self.registry = registry or load_registry()
        self.rules = rules or load_rules(registry=self.registry)
        self.result = Evaluation()
        self._template = {rule.id: rule.template for rule in self.rules.rules}
        self._broken: set[tuple[str, str]] = set()  # the period's broken register keys
        self._fixed: dict[tuple, set[str]] = {}  # (dataset, record key, field) -> kinds fixed
        self._seen: set[str] = set()  # defect ids an issue matched in an earlier period

    def period(self, period: str, con: Any = None) -> None:
        """Score one period; `con` (read-only warehouse built for the period) lets unmatched
        consistency defects be explained."""
        ledger = _read(self.synth / "ledger" / period / "defects.parquet")
        issues = _read(outputs.output_file(self.work, outputs.ISSUES, period))
        visible, hidden = self._visible(ledger, period)
        self.result.carried += hidden
        index: dict[tuple, list[dict]] = defaultdict(list)
        for issue in issues:
            template = self._template.get(issue["rule_id"], "?")
            issue["template"] = template
            if template == "authority_behind":
                continue  # judged below, against the register's own defects
            if template not in SCORED_TEMPLATES:
                self.result.unscored[issue["rule_id"]] += 1
                continue
            for key in self._issue_keys(issue):
                index[key].append(issue)
        self._broken = self._broken_register_keys(ledger)
        collided = self._collisions(visible)
        used: set[str] = set()
        for entry in visible:
            kind = entry["defect_kind"]
            score = self.result.kinds[kind]
            score.truth += 1
            hit = next(
                (
                    issue
                    for key in self._entry_keys(entry)
                    for issue in index.get(key, [])
                    if issue["issue_id"] not in used and issue["template"] in KIND_TEMPLATES[kind]
                ),
                None,
            )
            if hit is None:
                reason = self._why_missed(entry, con) or (
                    KEY_COLLISION if self._collided_key(entry) in collided else None
                )
                target = self.result.invisible if reason else self.result.missed
                target.append({**entry, "reason": reason})
                if reason:
                    score.truth -= 1
                continue
            used.add(hit["issue_id"])
            hit["kind"] = kind
            score.found += 1
            score.issues += 1
            score.correct += 1
            self.result.matched[entry["defect_id"]] = hit["issue_id"]
        behind = self._broken
        for issue in issues:
            if issue["template"] == "authority_behind":
                subject = normalize(_value(issue["delivered_value"]))
                if (issue["department"], subject) in behind:
                    self.result.explained.append({**issue, "reason": AUTHORITY_KEY})
                else:
                    self.result.false_issues.append(issue)
                    self.result.unscored[issue["rule_id"]] += 1
                continue
            if issue["template"] in SCORED_TEMPLATES and issue["issue_id"] not in used:
                if (issue["dataset"], issue["record_key"]) in collided:
                    self.result.explained.append({**issue, "reason": KEY_COLLISION})
                    continue
                self.result.false_issues.append(issue)
                for kind, templates in KIND_TEMPLATES.items():
                    if issue["template"] in templates:
                        self.result.kinds[kind].issues += 1
        self._statuses(ledger, period)

    def _recurs(self, entry: dict, ds: Any) -> bool:
        """Whether a new defect is an issue the platform saw fixed before: the same rule (a kind
        sharing a template) on the same record's field. A defect in the record key makes
        another record key, so it is never the same issue, unless normalisation repairs it."""
        if entry["defect_kind"] not in KIND_TEMPLATES:
            return False
        if entry["field"] in ds.record_key and entry["defect_kind"] not in _REPAIRED:
            return False
        place = (entry["dataset"], entry["record_key"], entry["field"])
        templates = KIND_TEMPLATES[entry["defect_kind"]]
        return any(
            KIND_TEMPLATES.get(k, frozenset()) & templates for k in self._fixed.get(place, ())
        )

    def _record_ids(self, con: Any, entry: dict) -> set[str]:
        """The identifiers (GB 11643, GB 32100 columns) of the entry's record as staged."""
        ds = self.registry.dataset(entry["dataset"])
        columns = [
            f.column
            for f in ds.fields
            if self.registry.element(f.element).format in ("ric", "uscc")
        ]
        if not columns:
            return set()
        key = ", ".join(f"cast({k} as varchar)" for k in ds.record_key)
        rows = con.execute(
            f"select {', '.join(columns)} from staging.{staging_model(ds)} "
            f"where period = ? and concat_ws('|', {key}) = ?",
            [entry["period"], entry["record_key"]],
        ).fetchall()
        return {normalize(v) for row in rows for v in row if v}

    def _broken_register_keys(self, ledger: list[dict]) -> set[tuple[str, str]]:
        """(department, true identifier) of every ledger defect in a register's record key:
        the subjects a register holds under a wrong identifier."""
        found = set()
        for entry in ledger:
            ds = self.registry.dataset(entry["dataset"])
            if entry["field"] in ds.record_key and entry["true_value"] is not None:
                found.add((ds.provider, normalize(_value(entry["true_value"]))))
        return found

    def _collided_key(self, entry: dict) -> tuple[str, str] | None:
        """The record key the platform sees for a defect in a key column."""
        columns = self._key_columns(entry["dataset"])
        if entry["field"] not in columns:
            return None
        parts = entry["record_key"].split("|")
        parts[columns.index(entry["field"])] = _value(entry["delivered_value"]).strip()
        return (entry["dataset"], "|".join(parts))

    def _collisions(self, entries: list[dict]) -> set[tuple[str, str]]:
        """Keys that two defects in key columns turned into the same record key: the records
        became indistinguishable copies (one issue for the value, the copy seen as 行重复)."""
        seen = Counter(self._collided_key(e) for e in entries)
        return {key for key, n in seen.items() if key is not None and n > 1}

    # ------------------------------------------------------------------ matching keys

    def _key_columns(self, dataset: str) -> tuple[str, ...]:
        return self.registry.dataset(dataset).record_key

    def _issue_keys(self, issue: dict) -> list[tuple]:
        ds, fld = issue["dataset"], issue["field"]
        if issue["template"] in _DATASET_LEVEL:
            return [(ds, "*")]
        if fld is None:
            return [(ds, None, issue["record_key"])]
        value = _value(issue["delivered_value"])
        return [(ds, fld, value, issue["record_key"]), (ds, fld, value, None)]

    def _entry_keys(self, entry: dict) -> list[tuple]:
        """Index keys to try, most specific first. A defect in a key column changes the record
        key the platform sees: that part is then the delivered value (or, when normalisation
        repairs it, the true one)."""
        ds, fld = entry["dataset"], entry["field"]
        if entry["defect_kind"] in _DATASET_LEVEL:
            return [(ds, "*")]
        if fld is None:
            return [(ds, None, entry["record_key"])]
        value = _value(entry["delivered_value"])
        keys = [(ds, fld, value, entry["record_key"])]
        columns = self._key_columns(ds)
        if fld in columns:
            parts = entry["record_key"].split("|")
            if len(parts) == len(columns):
                parts[columns.index(fld)] = value.strip()
                keys.append((ds, fld, value, "|".join(parts)))
            else:  # a key that does not split: match by value alone
                keys.append((ds, fld, value, None))
        return keys

    # ------------------------------------------------------------------ what a period shows

    def _visible(self, ledger: list[dict], period: str) -> tuple[list[dict], list[dict]]:
        """Entries the period's data shows. A 前置库 table is checked whole, but a copy of a row
        shows only in the pull that brought it: an older copy is not in this period's pull."""
        visible, hidden = [], []
        pulled: dict[str, set[str]] = {}
        for entry in ledger:
            ds = self.registry.dataset(entry["dataset"])
            if (
                not ds.is_frontdb
                or entry["defect_kind"] != "duplicate_record"
                or entry["status"] in ("new", "reopened")
            ):
                visible.append(entry)
                continue
            if ds.id not in pulled:
                pulled[ds.id] = self._pulled(ds.id, period)
            if entry["record_key"] in pulled[ds.id]:
                visible.append(entry)
            else:
                reason = "前置库增量抽取：重复行本月未变更，不在本期抽取中，问题沿用上期"
                hidden.append({**entry, "reason": reason})
        return visible, hidden

    def _pulled(self, dataset: str, period: str) -> set[str]:
        ds = self.registry.dataset(dataset)
        folder = self.work / "lake" / "raw" / dataset / f"period={period}"
        if not folder.is_dir():
            return set()
        table = pq.read_table(folder, columns=list(ds.record_key)).to_pydict()
        return {
            "|".join(_value(table[k][i]).strip() for k in ds.record_key)
            for i in range(len(table[ds.record_key[0]]))
        }

    def _why_missed(self, entry: dict, con: Any) -> str | None:
        """Why a defect cannot be seen: for a consistency defect from the period's 多源校核, for
        a date before its subject's when the register holds that subject under a broken
        identifier (None: unknown)."""
        if con is None or entry["defect_kind"] not in KIND_TEMPLATES or entry["field"] is None:
            return None
        if "not_before" in KIND_TEMPLATES[entry["defect_kind"]]:
            broken = {value for _, value in self._broken}
            return REFERENCE_BROKEN if self._record_ids(con, entry) & broken else None
        if "consistency" not in KIND_TEMPLATES[entry["defect_kind"]]:
            return None
        row = con.execute(
            "select status from quality.consistency_checks where holder_dataset = ? "
            "and holder_column = ? and record_key = ?",
            [entry["dataset"], entry["field"], entry["record_key"]],
        ).fetchone()
        if row is None:
            return "副本记录未参与多源校核（无对象标识或不在本期报送中）"
        if row[0] == "missing_in_authority":
            return "权威部门没有该对象的记录（或其值为空），无从比对：值错误但格式有效"
        if row[0] == "mismatch":
            return "权威部门的值本身不符合该数据元的格式或范围，不据此判定副本错误"
        return None

    # ------------------------------------------------------------------ statuses

    def _statuses(self, ledger: list[dict], period: str) -> None:
        status_file = outputs.output_file(self.work, outputs.ISSUE_STATUS, period)
        actual = {row["issue_id"]: row["status_code"] for row in _read(status_file)}
        expected: list[tuple[dict, str]] = []
        for entry in ledger:
            if entry["status"] in ("new", "reopened"):
                expected.append((entry, entry["status"]))
        outcomes = _read(self.synth / "ledger" / period / "rectifications.parquet")
        for outcome in outcomes:
            want = {"rectified": "rectified", "open": "open"}.get(outcome["outcome"], "rectified")
            expected.append((outcome, want))
        hidden = {e["defect_id"] for e in self.result.invisible if e["period"] == period}
        for entry, want in expected:
            issue_id = self.result.matched.get(entry["defect_id"])
            if issue_id is None:
                continue  # never found (scored under recall) or not visible yet
            ds = self.registry.dataset(entry["dataset"])
            got = actual.get(issue_id)
            # An issue is a rule failing on a record's field: a new defect where an earlier
            # one was fixed is that issue recurring, and one the platform never saw is new.
            if want == "new" and self._recurs(entry, ds):
                want = "reopened"
            elif want == "reopened" and entry["defect_id"] not in self._seen:
                want = "new"
            if entry["defect_id"] in hidden or (want == "rectified" and got is None):
                reason = HIDDEN_NOW if entry["defect_id"] in hidden else RECTIFIED_BEFORE
                self.result.status_excluded.append(
                    {**entry, "expected": want, "got": got, "reason": reason}
                )
                continue
            if entry["defect_kind"] in _DATASET_LEVEL:
                self.result.status_excluded.append(
                    {**entry, "expected": want, "got": got, "reason": DELIVERY_STATUS}
                )
                continue
            if ds.is_frontdb and entry.get("outcome") == "gone":
                self.result.status_excluded.append(
                    {**entry, "expected": want, "got": got, "reason": FRONTDB_GONE}
                )
                continue
            self.result.status[(want, got)] += 1
            if want != got:
                self.result.status_wrong.append(
                    {**entry, "expected": want, "got": got, "issue_id": issue_id, "period": period}
                )
        for outcome in outcomes:
            if outcome["outcome"] == "rectified":
                place = (outcome["dataset"], outcome["record_key"], outcome["field"])
                self._fixed.setdefault(place, set()).add(outcome["defect_kind"])
        self._seen |= {e["defect_id"] for e in ledger if e["defect_id"] in self.result.matched}
