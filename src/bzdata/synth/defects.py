"""Defects departments really make, injected into clean extracts, each one written to the ledger.

`Injector.apply` takes one dataset's clean extract for one period and returns what the
department delivers plus a ledger row for every defective value in it. Defects persist in
snapshot datasets until the department fixes them (a configurable share each month); a fixed
defect may come back (reopened). In increment datasets a fix is a corrected re-delivery of the
record. Every kind names its GB/T 36344 dimension.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from bzdata import duck
from bzdata.ids import ric
from bzdata.synth import names
from bzdata.synth.views import DATE_STYLE, format_date_parts

# kind → GB/T 36344 dimension
KINDS: dict[str, str] = {
    "check_digit": "规范性",
    "malformed": "规范性",
    "legacy_id15": "规范性",
    "fullwidth_digits": "规范性",
    "stray_spaces": "规范性",
    "invalid_code": "规范性",
    "missing_value": "完整性",
    "out_of_range": "准确性",
    "duplicate_record": "准确性",
    "homophone_name": "一致性",
    "stale_address": "一致性",
    "wrong_birth_date": "一致性",
    "wrong_legal_rep": "一致性",
    "late_delivery": "时效性",
    "missing_delivery": "时效性",
}

DEFAULT_RATES: dict[str, float] = {
    "check_digit": 0.002,
    "malformed": 0.0015,
    "legacy_id15": 0.002,
    "fullwidth_digits": 0.001,
    "stray_spaces": 0.001,
    "invalid_code": 0.0015,
    "missing_value": 0.002,
    "out_of_range": 0.0015,
    "duplicate_record": 0.002,
    "homophone_name": 0.003,
    "stale_address": 0.02,
    "wrong_birth_date": 0.002,
    "wrong_legal_rep": 0.02,
    # per dataset and period
    "late_delivery": 0.1,
    "missing_delivery": 0.03,
}

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_BAD_CODES = ("99", "Z9", "未知", "-1")

LEDGER_COLUMNS = (
    "period",
    "department",
    "dataset",
    "record_key",
    "field",
    "header",
    "element",
    "defect_kind",
    "dimension",
    "true_value",
    "delivered_value",
    "defect_id",
    "status",
    "first_period",
)


@dataclass(frozen=True)
class Rates:
    """Defect rates (per applicable value; duplicates per row; deliveries per dataset-period),
    the share of open defects departments fix each month, and how often a fix is undone."""

    kinds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    fix: float = 0.6
    reopen: float = 0.1

    def scaled(self, factor: float) -> Rates:
        return Rates({k: v * factor for k, v in self.kinds.items()}, self.fix, self.reopen)


@dataclass
class Defect:
    defect_id: str
    kind: str
    column: str | None
    delivered: str | None
    first_period: str
    clean_row: dict[str, object] | None = None  # increment datasets: the row a fix re-delivers


@dataclass
class Applied:
    """What one dataset delivers for one period."""

    columns: dict[str, np.ndarray]
    ledger: list[dict]
    outcomes: list[dict]


def _defect_id(dataset: str, key: str, column: str | None, kind: str) -> str:
    raw = f"{dataset}|{key}|{column or '*'}|{kind}".encode()
    return hashlib.sha1(raw).hexdigest()[:16]


class Injector:
    """Keeps every open defect across periods and applies new ones."""

    def __init__(self, registry, rates: Rates, seed: int):
        self.registry = registry
        self.rates = rates
        self.seed = seed
        self.open: dict[str, dict[tuple[str, str | None], Defect]] = {}
        self.rectified: dict[str, dict[tuple[str, str | None], Defect]] = {}
        self.frontdb_state: dict[str, pa.Table] = {}
        self.late: dict[str, Defect] = {}  # dataset → its last late or missing delivery

    def rng(self, *parts: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, *(zlib.crc32(p.encode()) for p in parts)])

    # ------------------------------------------------------------ delivery level
    def delivery(self, ds, period: str) -> str:
        """'on_time', 'late' or 'missing' for a file drop (前置库 pulls are never late)."""
        if ds.delivery.channel != "file":
            return "on_time"
        r = self.rng("delivery", ds.id, period).random()
        if r < self.rates.kinds["missing_delivery"]:
            return "missing"
        if r < self.rates.kinds["missing_delivery"] + self.rates.kinds["late_delivery"]:
            return "late"
        return "on_time"

    # ------------------------------------------------------------ record level
    def apply(
        self, ds, period: str, clean: dict[str, np.ndarray], ref_end: np.datetime64
    ) -> Applied:
        rng = self.rng("defects", ds.id, period)
        cols = {c: v.copy() for c, v in clean.items() if not c.startswith("_alt_")}
        alts = {c[5:]: v for c, v in clean.items() if c.startswith("_alt_")}
        n = len(next(iter(cols.values()))) if cols else 0
        keys = self._keys(ds, cols, n)
        row_of = {k: i for i, k in enumerate(keys)}
        open_ = self.open.setdefault(ds.id, {})
        rectified_before = self.rectified.get(ds.id, {})
        self.rectified[ds.id] = {}
        busy = np.zeros(n, dtype=bool)
        ledger: list[dict] = []
        outcomes: list[dict] = []
        present: list[tuple[int | None, Defect, str]] = []  # (row, defect, status)
        extra_rows: list[dict] = []
        snapshot = ds.extract == "snapshot"

        # 1. Last month's open defects: fixed, or still there.
        for (key, column), d in sorted(open_.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            row = row_of.get(key)
            if snapshot and row is None:
                outcomes.append(self._outcome(ds, period, key, d, "gone"))
                del open_[(key, column)]
                continue
            if snapshot and column is not None and cols[column][row] == d.delivered:
                outcomes.append(self._outcome(ds, period, key, d, "superseded"))
                del open_[(key, column)]
                continue
            if rng.random() < self.rates.fix:
                outcomes.append(self._outcome(ds, period, key, d, "rectified"))
                del open_[(key, column)]
                self.rectified[ds.id][(key, column)] = d
                if snapshot:
                    busy[row] = True  # a record just fixed is delivered clean this month
                elif d.clean_row is not None:
                    extra_rows.append(d.clean_row)  # corrected re-delivery
                continue
            outcomes.append(self._outcome(ds, period, key, d, "open"))
            if snapshot:
                busy[row] = True
                present.append((row, d, "open"))

        # 2. A share of last month's fixes come undone (snapshot data only).
        if snapshot:
            for (key, column), d in sorted(
                rectified_before.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
            ):
                row = row_of.get(key)
                if row is None or busy[row] or rng.random() >= self.rates.reopen:
                    continue
                if column is not None and cols[column][row] is None:
                    continue
                busy[row] = True
                open_[(key, column)] = d
                present.append((row, d, "reopened"))

        # 3. New defects.
        for column, kind in self._applicable(ds):
            rate = self.rates.kinds[kind]
            cand = np.flatnonzero(~busy & (rng.random(n) < rate))
            for row in cand:
                clean_value = cols[column][row] if column else None
                bad = self._corrupt(
                    kind, ds, column, clean_value, alts.get(column), row, rng, ref_end
                )
                if bad is None:
                    continue
                busy[row] = True
                d = Defect(
                    _defect_id(ds.id, keys[row], column, kind),
                    kind,
                    column,
                    bad,
                    period,
                    None if snapshot else {c: cols[c][row] for c in cols},
                )
                open_[(keys[row], column)] = d
                present.append((row, d, "new"))

        # 4. Build what is delivered.
        dup_rows: list[int] = []
        for row, d, status in present:
            if d.kind == "duplicate_record":
                dup_rows.append(row)
            else:
                true_value = cols[d.column][row]
                cols[d.column][row] = d.delivered
                d_true = true_value
                ledger.append(self._ledger(ds, period, keys[row], d, status, d_true))
                continue
            ledger.append(self._ledger(ds, period, keys[row], d, status, None))
        if extra_rows or dup_rows:
            for c in cols:
                added = [cols[c][r] for r in dup_rows] + [er[c] for er in extra_rows]
                cols[c] = np.concatenate([cols[c], np.array(added, dtype=object)])
        return Applied(cols, ledger, outcomes)

    def stamp_changes(self, ds, table: pa.Table, period: str) -> pa.Table:
        """前置库 rows whose delivered content changed since last month get an update time in
        this month, as the department's system would stamp them, and unchanged rows keep last
        month's; incremental pulls by the watermark then see every change, fixes included."""
        wm = ds.delivery.watermark
        content = ", ".join(f'"{c}"' for c in ds.columns if c != wm)
        keys = " || '|' || ".join(f"coalesce(\"{c}\", '')" for c in ds.record_key)
        con = duck.connect()
        con.register("cur", table.append_column("__i", pa.array(np.arange(table.num_rows))))
        current = con.sql(
            f"select __i as i, {keys} || '#' || row_number() over "
            f"(partition by {keys} order by {content}, __i) as k, hash({content}) as h, "
            f'"{wm}" as s from cur order by __i'
        ).to_arrow_table()
        previous = self.frontdb_state.get(ds.id)
        if previous is None:
            self.frontdb_state[ds.id] = current.select(["k", "h", "s"])
            return table
        con.register("now", current)
        con.register("before", previous)
        start = np.datetime64(period, "M").astype("datetime64[D]")
        rows = con.sql(
            "select now.i, before.h is distinct from now.h as changed, before.s as kept, now.s "
            "from now left join before using (k) order by now.i"
        ).fetchnumpy()
        stamps = np.array(rows["s"], dtype=object)
        changed = np.asarray(rows["changed"], dtype=bool)
        stamps[~changed] = np.asarray(rows["kept"], dtype=object)[~changed]
        stale = np.flatnonzero(changed & np.array([s is None or s < str(start) for s in stamps]))
        end = (np.datetime64(period, "M") + 1).astype("datetime64[D]")
        seconds = int((end - start).astype(np.int64)) * 86400 - 9 * 3600  # within the month
        when = start.astype("datetime64[s]") + 8 * 3600 + (stale * 7919) % seconds
        stamps[stale] = np.char.replace(np.datetime_as_string(when, unit="s"), "T", " ")
        table = table.set_column(table.column_names.index(wm), wm, pa.array(stamps, pa.string()))
        current = current.set_column(3, "s", pa.array(stamps, pa.string()))
        self.frontdb_state[ds.id] = current.select(["k", "h", "s"])
        return table

    def delivery_entry(self, ds, period: str, kind: str, due: str, delivered: str | None) -> dict:
        d = Defect(_defect_id(ds.id, period, None, kind), kind, None, delivered, period)
        self.late[ds.id] = d
        return self._ledger(ds, period, "", d, "new", due)

    def still_open(self, ds, period: str) -> list[dict]:
        """Nothing arrived: every open defect of the dataset is still open this month."""
        return [
            self._outcome(ds, period, key, d, "open")
            for (key, _), d in sorted(
                self.open.get(ds.id, {}).items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
            )
        ]

    def delivery_outcomes(self, ds, period: str, status: str) -> list[dict]:
        """What became of the dataset's last late or missing delivery: the same problem again
        leaves it open (late after late, missing after missing); anything else ends it — a
        missing dataset that now arrives, even late, was delivered."""
        d = self.late.pop(ds.id, None)
        if d is None:
            return []
        again = {"late_delivery": "late", "missing_delivery": "missing"}[d.kind] == status
        return [self._outcome(ds, period, "", d, "open" if again else "rectified")]

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _keys(ds, cols, n) -> list[str]:
        parts = [cols[c] for c in ds.record_key]
        return (
            ["|".join(str(p[i]) for p in parts) for i in range(n)]
            if len(parts) > 1
            else [str(v) for v in parts[0]]
        )

    def _applicable(self, ds) -> list[tuple[str | None, str]]:
        reg = self.registry
        out: list[tuple[str | None, str]] = []
        for f in ds.fields:
            el = reg.element(f.element)
            copy = el.authority != ds.provider
            kinds: list[str] = []
            if el.format in ("ric", "uscc"):
                kinds += ["check_digit", "malformed", "fullwidth_digits", "stray_spaces"]
                if el.format == "ric":
                    kinds.append("legacy_id15")
            elif el.format in ("mobile", "region"):
                kinds += (
                    ["malformed", "fullwidth_digits"] if el.format == "mobile" else ["malformed"]
                )
            elif el.format == "code_list":
                kinds.append("invalid_code")
            if el.type == "date":
                kinds += ["malformed", "out_of_range"]
            if el.type == "decimal" and (el.min is not None or el.max is not None):
                kinds.append("out_of_range")
            if (
                f.required
                and f.column not in ds.record_key
                and f.column != getattr(ds.delivery, "watermark", None)
            ):
                kinds.append("missing_value")
            if copy and el.id in ("person_name", "entity_name"):
                kinds.append("homophone_name")
            if copy and el.id == "domicile_address":
                kinds.append("stale_address")
            if copy and el.id == "birth_date":
                kinds.append("wrong_birth_date")
            if copy and el.id == "legal_rep_name":
                kinds.append("wrong_legal_rep")
            out += [(f.column, k) for k in kinds]
        out.append((None, "duplicate_record"))
        return out

    def _corrupt(self, kind, ds, column, value, alts, row, rng, ref_end) -> str | None:
        """The delivered wrong value for a clean `value`, or None where the kind cannot apply."""
        if kind == "duplicate_record":
            return "(重复记录)"
        if value is None:
            return None
        el = self.registry.element(ds.field(column).element)
        style = DATE_STYLE.get(ds.id, "iso")
        if kind == "missing_value":
            return ""
        if kind == "check_digit":
            chars = "0123456789X" if el.format == "ric" else _USCC_ALPHABET
            choices = [c for c in chars if c != value[-1]]
            return value[:-1] + choices[rng.integers(len(choices))]
        if kind == "malformed":
            if el.type == "date":
                y = _year_of(value)
                return format_date_parts(y, "02", "30", style) if y else None
            if el.format == "uscc":
                i = int(rng.integers(2, 16))
                return value[:i] + "O" + value[i + 1 :]
            k = int(rng.integers(1, len(value) - 1))
            return value[:k] + value[k + 1 :]  # one character lost
        if kind == "legacy_id15":
            if len(value) != 18 or value[6:8] != "19":
                return None
            legacy = value[:6] + value[8:17]
            assert ric.upgrade15(legacy) == value
            return legacy
        if kind == "fullwidth_digits":
            return value.translate(_FULLWIDTH)
        if kind == "stray_spaces":
            return [" " + value, value + " ", value[:6] + " " + value[6:]][int(rng.integers(3))]
        if kind == "invalid_code":
            allowed = self.registry.code_list(el.code_list).values
            return next(c for c in _BAD_CODES if c not in allowed)
        if kind == "out_of_range":
            if el.type == "date":
                if el.min is None:
                    return None
                lo = np.datetime64(str(el.min), "D") - int(rng.integers(400, 4000))
                s = str(lo)
                return format_date_parts(s[:4], s[5:7], s[8:10], style)
            v = float(value)
            if el.max is not None and rng.random() < 0.5:
                return f"{float(el.max) * 3 + v:.2f}"
            return f"{-(abs(v) + 1):.2f}"
        if kind == "homophone_name":
            variant = (
                names.homophone_variant(value, rng)
                if el.id == "person_name"
                else names.entity_name_variant(value, rng)
            )
            return variant if variant and variant != value else None
        if kind in ("stale_address", "wrong_legal_rep"):
            alt = None if alts is None else alts[row]
            return alt if alt and alt != value else None
        if kind == "wrong_birth_date":
            y = _year_of(value)
            if y is None:
                return None
            return _shift_date(
                value, style, int(rng.choice([-1, 1]) * rng.integers(1, 60)), ref_end
            )
        raise ValueError(f"未知的缺陷类型 {kind}")

    def _ledger(self, ds, period, key, d: Defect, status: str, true_value) -> dict:
        field_ = ds.field(d.column) if d.column else None
        return {
            "period": period,
            "department": ds.provider,
            "dataset": ds.id,
            "record_key": key,
            "field": d.column,
            "header": field_.header if field_ else None,
            "element": field_.element if field_ else None,
            "defect_kind": d.kind,
            "dimension": KINDS[d.kind],
            "true_value": true_value,
            "delivered_value": d.delivered,
            "defect_id": d.defect_id,
            "status": status,
            "first_period": d.first_period,
        }

    @staticmethod
    def _outcome(ds, period, key, d: Defect, outcome: str) -> dict:
        return {
            "period": period,
            "department": ds.provider,
            "dataset": ds.id,
            "record_key": key,
            "field": d.column,
            "defect_kind": d.kind,
            "defect_id": d.defect_id,
            "first_period": d.first_period,
            "outcome": outcome,
        }


def _year_of(value: str) -> str | None:
    head = value[:4]
    return head if head.isdigit() else None


def _shift_date(value: str, style: str, days: int, ref_end: np.datetime64) -> str | None:
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) != 8:
        return None
    try:
        d = np.datetime64(f"{digits[:4]}-{digits[4:6]}-{digits[6:]}", "D")
    except ValueError:
        return None
    shifted = d + days
    if shifted > ref_end:
        shifted = d - abs(days)
    s = str(shifted)
    return format_date_parts(s[:4], s[5:7], s[8:10], style)
