"""Defects departments really make, injected into clean extracts, each one written to the ledger.

`Injector.apply` takes one dataset's clean extract for one period and returns what the
department delivers plus a ledger row for every defective value in it. Defects persist in
snapshot datasets until the department fixes them (a configurable share each month); a fixed
defect may come back (reopened). In increment datasets a fix is a corrected re-delivery of the
record. Every kind names its GB/T 36344 dimension.

Besides the syntax of a value (check digits, code lists, ranges) kinds break what the registry
states about its data elements: an event after the delivery period or before its subject
existed, a birth date or sex contradicting the record's own GB 11643 number, a code that is not
(or never was) in GB/T 2260, a placeholder typed for "no value", a copy record of a subject the
authority never registered, a death recorded by its authority that a dependent dataset ignores.
One record carries at most one defect, and no defect makes a second value wrong.
"""

from __future__ import annotations

import hashlib
import zlib
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pyarrow as pa

from bzdata import duck
from bzdata.ids import gbt2260, region, ric, text, uscc
from bzdata.registry.placeholders import load_placeholders
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
    # 时间合理性
    "future_event": "准确性",
    "before_subject": "准确性",
    # 记录内一致
    "id_birth_mismatch": "一致性",
    "id_gender_mismatch": "一致性",
    # 代码存在性
    "unknown_region": "规范性",
    "id_unknown_region": "规范性",
    "uscc_unknown_region": "规范性",
    # 占位符
    "placeholder": "完整性",
    # 一数一源
    "unknown_subject": "一致性",
    "death_not_propagated": "一致性",
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
    "future_event": 0.0015,
    "before_subject": 0.004,
    "id_birth_mismatch": 0.002,
    "id_gender_mismatch": 0.002,
    "unknown_region": 0.0015,
    "id_unknown_region": 0.001,
    "uscc_unknown_region": 0.002,
    "placeholder": 0.0003,
    # per copy record (an extra record of a subject the authority does not hold)
    "unknown_subject": 0.0015,
    # per record of a person whose death the authority recorded
    "death_not_propagated": 0.8,
}

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_BAD_CODES = ("99", "Z9", "未知", "-1")
# What departments type for "no value", as they type it (full-width, padded, any case); each is
# a spelling of catalog/registry/placeholders.yaml once trimmed and made half-width.
PLACEHOLDER_TEXT = (
    "不详",
    "无",
    "暂无",
    "待补充",
    "待核实",
    "未知",
    "NULL",
    "null",
    "ＮＵＬＬ",
    "N/A",
    "/",
    "／",
    "-",
    "－",
    "--",
    "？",
    "无 ",
    " 不详",
)
PLACEHOLDER_DATES = ("1900-01-01", "9999-12-31")
# New kinds in small deliveries (a few dozen records): about this many per kind and month.
_SMALL_EXPECTED = 0.5
_SMALL_RATE_CAP = 0.05
# County-level prefixes near Binzhou's whose unused numbers stand in for codes that never existed.
_REGION_STEMS = ("3716", "3723", "3705", "3701")

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
    extra_row: dict[str, object] | None = None  # a delivered record that should not be there
    clean_value: object = None  # the value the defect replaced


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
        # Subjects whose end (a death) the authority delivered, clean: subject id → period.
        self.ended: dict[str, str] = {}
        # Datasets declaring `active`: their last clean extract (whose records a copy holder
        # keeps after the subject's death).
        self.last_clean: dict[str, dict[str, np.ndarray]] = {}
        spellings = load_placeholders()
        self.placeholder_text = tuple(
            p for p in PLACEHOLDER_TEXT if text.to_halfwidth(p).strip().casefold() in spellings.text
        )
        self.begin_period("1970-01", np.empty(0, dtype=object), np.empty(0, dtype=object), [])

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

    # ------------------------------------------------------------ the period's world
    def begin_period(
        self,
        period: str,
        person_ids: np.ndarray,
        entity_usccs: np.ndarray,
        entity_established: np.ndarray,
    ) -> None:
        """What the authorities hold at the end of `period`: every person's GB 11643 number and
        every entity's code with its 成立日期 (the references of subject-level defects)."""
        self.period = period
        self.year = int(period[:4])
        ids = np.asarray(person_ids).astype("S18")
        self._persons = np.sort(ids)
        codes = np.asarray(entity_usccs).astype("S18")
        order = np.argsort(codes, kind="stable")
        self._entities = codes[order]
        self._established = np.asarray(entity_established, dtype="datetime64[D]")[order]

    def _known(self, value: str, fmt: str) -> bool:
        table = self._persons if fmt == "ric" else self._entities
        key = value.encode()
        i = int(np.searchsorted(table, key))
        return i < len(table) and table[i] == key

    def _entity_index(self, code) -> int | None:
        if not code:
            return None
        key = str(code).encode()
        i = int(np.searchsorted(self._entities, key))
        return i if i < len(self._entities) and self._entities[i] == key else None

    def _established_of(self, code: str | None) -> np.datetime64 | None:
        i = self._entity_index(code)
        return None if i is None else self._established[i]

    # ------------------------------------------------------------ record level
    def apply(
        self, ds, period: str, clean: dict[str, np.ndarray], ref_end: np.datetime64
    ) -> Applied:
        rng = self.rng("defects", ds.id, period)
        cols = {c: v.copy() for c, v in clean.items() if not c.startswith("_alt_")}
        clean_cols = {c: v for c, v in clean.items() if not c.startswith("_alt_")}
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
        extras: list[tuple[str, Defect, str]] = []  # (key, defect, status): records added
        extra_rows: list[dict] = []
        snapshot = ds.extract == "snapshot"

        # 1. Last month's open defects: fixed, or still there.
        for (key, column), d in sorted(open_.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            row = row_of.get(key)
            if d.extra_row is not None:  # an added record: removed (or corrected) when fixed
                # An increment cannot take a record back: the fix is the record re-delivered
                # with its real subject, which a record keyed by its subject cannot have.
                fixable = snapshot or d.clean_row is not None
                if fixable and rng.random() < self.rates.fix:
                    outcomes.append(self._outcome(ds, period, key, d, "rectified"))
                    del open_[(key, column)]
                    self.rectified[ds.id][(key, column)] = d
                    if not snapshot:
                        extra_rows.append(d.clean_row)
                    continue
                outcomes.append(self._outcome(ds, period, key, d, "open"))
                if snapshot:
                    extras.append((key, d, "open"))
                continue
            if snapshot and row is None:
                outcomes.append(self._outcome(ds, period, key, d, "gone"))
                del open_[(key, column)]
                continue
            if snapshot and column is not None and cols[column][row] != d.clean_value:
                # The record changed (a move, a new employer): its new value replaces the defect.
                outcomes.append(self._outcome(ds, period, key, d, "superseded"))
                del open_[(key, column)]
                continue
            fixed = rng.random() < self.rates.fix
            if snapshot and not fixed and not self._still_holds(d, ref_end):
                fixed = True  # a date no longer in the future: delivered as it should be
            if fixed:
                outcomes.append(self._outcome(ds, period, key, d, "rectified"))
                del open_[(key, column)]
                self.rectified[ds.id][(key, column)] = d
                if snapshot:
                    busy[row] = True  # a record just fixed is delivered clean this month
                elif d.clean_row is not None:
                    extra_rows.append(d.clean_row)  # corrected re-delivery, as first recorded
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
                if d.extra_row is not None:
                    if row is None and rng.random() < self.rates.reopen:
                        open_[(key, column)] = d
                        extras.append((key, d, "reopened"))
                    continue
                if row is None or busy[row] or rng.random() >= self.rates.reopen:
                    continue
                if column is not None and cols[column][row] != d.clean_value:
                    continue
                if not self._still_holds(d, ref_end):
                    continue
                busy[row] = True
                open_[(key, column)] = d
                present.append((row, d, "reopened"))

        # 3. New defects.
        ended = self._ended_mask(ds, cols, n)
        applicable = self._applicable(ds)
        per_kind = Counter(kind for _, kind in applicable)
        for column, kind in applicable:
            rate = self.rates.kinds[kind]
            if kind in _NEW_VALUE_KINDS and kind != "death_not_propagated" and rate > 0 and n:
                # Small deliveries get their share too: every kind in every dataset it fits.
                floor = _SMALL_EXPECTED / (n * per_kind[kind])
                rate = max(rate, min(_SMALL_RATE_CAP, floor))
            draw = rng.random(n) < rate
            if kind == "death_not_propagated":
                draw &= ended  # only persons whose death the authority recorded
            cand = np.flatnonzero(~busy & draw)
            for row in cand:
                clean_value = cols[column][row] if column else None
                bad = self._corrupt(
                    kind, ds, column, clean_value, alts.get(column), row, rng, ref_end, cols
                )
                if bad is None or self._breaks_dependents(ds, column, bad, cols, row):
                    continue
                busy[row] = True
                d = Defect(
                    _defect_id(ds.id, keys[row], column, kind),
                    kind,
                    column,
                    bad,
                    period,
                    None if snapshot else {c: cols[c][row] for c in cols},
                    clean_value=clean_value,
                )
                open_[(keys[row], column)] = d
                present.append((row, d, "new"))
        taken = _Taken(row_of, {k for k, _ in open_})
        for key, d in self._unknown_subjects(ds, clean_cols, n, taken, rng, period):
            open_[(key, d.column)] = d
            extras.append((key, d, "new"))
        for key, d in self._kept_after_death(ds, row_of, rng, period):
            if (key, d.column) in open_:
                continue
            open_[(key, d.column)] = d
            extras.append((key, d, "new"))

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
        for key, d, status in extras:
            ledger.append(self._ledger(ds, period, key, d, status, None))
        added_rows = extra_rows + [d.extra_row for _, d, _ in extras]
        if added_rows or dup_rows:
            for c in cols:
                added = [cols[c][r] for r in dup_rows] + [er[c] for er in added_rows]
                cols[c] = np.concatenate([cols[c], np.array(added, dtype=object)])
        self._remember(ds, clean_cols, cols, n, period)
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
        if len(stale):  # np.char.replace fails on an empty array
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

    # ------------------------------------------------------------ subjects
    def _subject_column(self, ds, elements=("citizen_id", "uscc")) -> str | None:
        """The column naming the record's subject: a record-key column holding one of the
        identifier elements, else the first such column."""
        cols = [f.column for f in ds.fields if f.element in elements]
        keyed = [c for c in ds.record_key if c in cols]
        return (keyed or cols or [None])[0]

    def records_endings(self, ds) -> bool:
        """Whether the dataset is the authority's record of an event that ends its subject."""
        reg = self.registry
        return self._subject_column(ds, ("citizen_id",)) is not None and any(
            reg.element(f.element).ends_subject and reg.element(f.element).authority == ds.provider
            for f in ds.fields
        )

    def _ended_mask(self, ds, cols, n) -> np.ndarray:
        """Records that show as active a subject whose end the authority recorded."""
        active = ds.active
        subject = self._subject_column(ds, ("citizen_id",))
        if active is None or active.column is None or subject is None or not self.ended or n == 0:
            return np.zeros(n, dtype=bool)
        ended = np.isin(cols[subject].astype(str), np.array(sorted(self.ended)))
        return ended & ~np.isin(cols[active.column].astype(str), np.array(active.values))

    def _remember(self, ds, clean, delivered, n, period) -> None:
        subject = self._subject_column(ds, ("citizen_id",))
        active = ds.active
        keeps_ended = (
            active is not None
            and active.column is not None
            and n
            and not np.isin(clean[active.column].astype(str), np.array(active.values)).all()
        )
        if active is not None and subject is not None and not keeps_ended:
            # Records of people aged 50 or more, where nearly all deaths are: a copy holder
            # that drops the dead may keep one of them next month (a city keeps this small).
            ids = np.frombuffer(clean[subject].astype("S18").tobytes(), dtype=np.uint8)
            year = (ids.reshape(-1, 18)[:, 6:10].astype(np.int64) - 48) @ [1000, 100, 10, 1]
            old = np.flatnonzero(year <= self.year - 50)
            self.last_clean[ds.id] = {c: v[old] for c, v in clean.items()}
        if self.records_endings(ds):
            for i in range(n):
                if all(delivered[c][i] == clean[c][i] for c in clean):
                    self.ended.setdefault(str(clean[subject][i]), period)

    def _kept_after_death(self, ds, row_of, rng, period):
        """Last month's records of persons who died since: the copy holder did not remove them."""
        prev = self.last_clean.get(ds.id)
        subject = self._subject_column(ds, ("citizen_id",))
        if ds.active is None or prev is None or subject is None or not self.ended:
            return []
        column = ds.active.column or subject
        rate = self.rates.kinds["death_not_propagated"]
        ended = np.isin(prev[subject].astype(str), np.array(sorted(self.ended)))
        out = []
        for i in np.flatnonzero(ended):
            row = {c: prev[c][i] for c in prev}
            key = "|".join(str(row[c]) for c in ds.record_key)
            if key in row_of or rng.random() >= rate:
                continue
            if ds.active.column is not None and row[column] not in ds.active.values:
                continue
            d = Defect(
                _defect_id(ds.id, key, column, "death_not_propagated"),
                "death_not_propagated",
                column,
                row[column],
                period,
                extra_row=row,
            )
            out.append((key, d))
        return out

    def _unknown_subjects(self, ds, clean, n, taken, rng, period):
        """Copy records of subjects the authority never registered: a real record of the
        dataset with a fabricated, fully valid identifier (and a key of its own)."""
        subject = self._subject_column(ds)
        rate = self.rates.kinds["unknown_subject"]
        if rate > 0 and n:
            rate = max(rate, min(_SMALL_RATE_CAP, _SMALL_EXPECTED / n))
        draw = rng.random(n) < rate
        if subject is None:
            return []
        el = self.registry.element(ds.field(subject).element)
        if el.authority == ds.provider:
            return []
        out = []
        for i in np.flatnonzero(draw):
            source = clean[subject][i]
            if not source:
                continue
            fake = self._fabricate(str(source), el.format, rng)
            if fake is None or fake in taken:
                continue
            row = {c: clean[c][i] for c in clean}
            row[subject] = fake
            if subject not in ds.record_key:
                first = ds.record_key[0]
                row[first] = _other_number(str(row[first]), rng)
            key = "|".join(str(row[c]) for c in ds.record_key)
            if key in taken:
                continue
            taken.add(key)
            taken.add(fake)
            corrected = None
            if ds.extract != "snapshot" and subject not in ds.record_key:
                corrected = {**row, subject: source}  # what a fix re-delivers
            d = Defect(
                _defect_id(ds.id, key, subject, "unknown_subject"),
                "unknown_subject",
                subject,
                fake,
                period,
                clean_row=corrected,
                extra_row=row,
            )
            out.append((key, d))
        return out

    def _fabricate(self, source: str, fmt: str, rng) -> str | None:
        """A valid identifier like `source` (same region; for a person the same birth date and
        sex) that the authority does not hold."""
        if fmt == "ric":
            born = _date(source[6:14])
            if born is None:
                return None
            for seq in rng.permutation(100):
                fake = ric.make(source[:6], born.item(), int(seq), ric.sex(source))
                if fake != source and not self._known(fake, "ric"):
                    return fake
            return None
        # Organisation bodies from a block of the code space the city never reaches.
        for _ in range(20):
            body = _USCC_ALPHABET[16 + int(rng.integers(15))] + "".join(
                _USCC_ALPHABET[int(k)] for k in rng.integers(0, 31, 7)
            )
            fake = uscc.make(source[0], source[1], source[2:8], body)
            if not self._known(fake, "uscc"):
                return fake
        return None

    def _still_holds(self, d: Defect, ref_end: np.datetime64) -> bool:
        """Whether a delivered value still shows its defect (a future date stops being one)."""
        if d.kind == "future_event":
            when = _parse(d.delivered)
            return when is not None and when > ref_end
        return True

    def _breaks_dependents(self, ds, column, bad, cols, row) -> bool:
        """Whether a wrong date would also put another date of the record before it (an expiry
        before the issue date): one defect must not make a second, undeclared one."""
        if column is None:
            return False
        element = ds.field(column).element
        when = _parse(bad)
        if when is None:
            return False
        for f in ds.fields:
            if element in self.registry.element(f.element).after:
                other = _parse(cols[f.column][row])
                if other is not None and other < when:
                    return True
        return False

    def _after_reference(self, ds, el, cols, row) -> np.datetime64 | None:
        """The latest date of the subject that an `after:` element must not precede."""
        refs: list[np.datetime64] = []
        for other in el.after:
            if other == "birth_date":
                for f in ds.fields:
                    v = cols[f.column][row]
                    if self.registry.element(f.element).format == "ric" and v:
                        born = _date(str(v)[6:14])
                        if born is not None:
                            refs.append(born)
            elif other == "establish_date":
                code = self._subject_column(ds, ("uscc",))
                est = self._established_of(cols[code][row]) if code else None
                if est is not None:
                    refs.append(est)
            else:
                for f in ds.fields:
                    if f.element == other and cols[f.column][row]:
                        when = _parse(cols[f.column][row])
                        if when is not None:
                            refs.append(when)
        return max(refs) if refs else None

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
            kinds += self._new_kinds(ds, f, el)
            out += [(f.column, k) for k in kinds]
        out.append((None, "duplicate_record"))
        return out

    def _new_kinds(self, ds, f, el) -> list[str]:
        """Kinds judged against the period, the subject and the code tables."""
        plain = f.column not in ds.record_key and f.column != getattr(
            ds.delivery, "watermark", None
        )
        subject_ric = self._subject_column(ds, ("citizen_id",)) is not None
        kinds: list[str] = []
        if el.type == "date" and el.event and plain:
            kinds.append("future_event")
        if el.type == "date" and el.after and plain:
            kinds.append("before_subject")
        if el.encoded_in == "birth_date" and el.authority == ds.provider and subject_ric:
            kinds.append("id_birth_mismatch")
        if el.encoded_in == "gender" and subject_ric:
            kinds.append("id_gender_mismatch")
        if el.format == "region":
            kinds.append("unknown_region")
        if el.format == "ric":
            kinds.append("id_unknown_region")
        if el.format == "uscc":
            kinds.append("uscc_unknown_region")
        if el.type in ("string", "date") and plain:
            kinds.append("placeholder")
        if ds.active is not None and ds.active.column == f.column:
            kinds.append("death_not_propagated")
        return kinds

    def _corrupt(self, kind, ds, column, value, alts, row, rng, ref_end, cols) -> str | None:
        """The delivered wrong value for a clean `value`, or None where the kind cannot apply."""
        if kind == "duplicate_record":
            return "(重复记录)"
        if value is None:
            return None
        el = self.registry.element(ds.field(column).element)
        style = DATE_STYLE.get(ds.id, "iso")
        if kind in _NEW_VALUE_KINDS:
            return self._corrupt_new(kind, ds, el, column, value, row, rng, ref_end, cols, style)
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

    def _corrupt_new(self, kind, ds, el, column, value, row, rng, ref_end, cols, style):
        value = str(value)
        if kind == "future_event":
            if _parse(value) is None:
                return None
            return _format(ref_end + int(rng.integers(1, 401)), style)
        if kind == "before_subject":
            ref = self._after_reference(ds, el, cols, row)
            if ref is None:
                return None
            low = ref - 3650
            if el.min is not None:
                low = max(low, np.datetime64(str(el.min), "D"))
            high = ref - 1
            if low > high:
                return None
            span = int((high - low).astype(np.int64))
            return _format(low + int(rng.integers(0, span + 1)), style)
        if kind == "id_birth_mismatch":
            subject = cols[self._subject_column(ds, ("citizen_id",))][row]
            when = _parse(value)
            if not subject or when is None or _date(str(subject)[6:14]) != when:
                return None
            days = int(rng.integers(1, 366))
            shifted = when + days if rng.random() < 0.5 else when - days
            if shifted > ref_end:
                shifted = when - days
            if el.min is not None and shifted < np.datetime64(str(el.min), "D"):
                return None
            return _format(shifted, style)
        if kind == "id_gender_mismatch":
            subject = cols[self._subject_column(ds, ("citizen_id",))][row]
            if value not in ("1", "2") or not subject or ric.sex(str(subject)) != value:
                return None
            return "2" if value == "1" else "1"
        if kind == "unknown_region":
            pool = _not_in_force(self.year)
            return pool[int(rng.integers(len(pool)))]
        if kind == "id_unknown_region":
            if len(value) != 18 or not ric.is_valid(value):
                return None
            pool = _never_existed()
            first17 = pool[int(rng.integers(len(pool)))] + value[6:17]
            return first17 + ric.check_digit(first17)
        if kind == "uscc_unknown_region":
            if len(value) != 18 or not uscc.is_valid(value):
                return None
            pool = _never_existed()
            first17 = value[:2] + pool[int(rng.integers(len(pool)))] + value[8:17]
            return first17 + uscc.check_char(first17)
        if kind == "placeholder":
            if el.type == "date":
                iso = PLACEHOLDER_DATES[int(rng.integers(len(PLACEHOLDER_DATES)))]
                return format_date_parts(iso[:4], iso[5:7], iso[8:10], style)
            codes = self.registry.code_list(el.code_list).values if el.code_list else {}
            choices = [
                p
                for p in self.placeholder_text
                if p != value and text.to_halfwidth(p).strip() not in codes
            ]
            return choices[int(rng.integers(len(choices)))] if choices else None
        if kind == "death_not_propagated":
            return ds.active.values[0]
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


@dataclass
class _Taken:
    """Record keys and identifiers already in a delivery (without copying the key index)."""

    rows: dict[str, int]
    more: set[str]

    def __contains__(self, key: str) -> bool:
        return key in self.rows or key in self.more

    def add(self, key: str) -> None:
        self.more.add(key)


_NEW_VALUE_KINDS = frozenset(
    {
        "future_event",
        "before_subject",
        "id_birth_mismatch",
        "id_gender_mismatch",
        "unknown_region",
        "id_unknown_region",
        "uscc_unknown_region",
        "placeholder",
        "death_not_propagated",
    }
)


def _date(yyyymmdd: str) -> np.datetime64 | None:
    if len(yyyymmdd) != 8 or not yyyymmdd.isdigit():
        return None
    try:
        return np.datetime64(f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:]}", "D")
    except ValueError:
        return None


def _parse(value) -> np.datetime64 | None:
    """A delivered date in any department's style."""
    if value is None:
        return None
    return _date("".join(ch for ch in str(value) if ch.isdigit()))


def _format(when: np.datetime64, style: str) -> str:
    s = str(when)
    return format_date_parts(s[:4], s[5:7], s[8:10], style)


def _other_number(value: str, rng) -> str:
    """`value` with its last run of digits replaced by a six-digit number starting with 9 (in
    place of the run's last six digits): a key the department's sequences do not reach."""
    end = len(value)
    while end and not value[end - 1].isdigit():
        end -= 1
    start = end
    while start and value[start - 1].isdigit():
        start -= 1
    tail = "9" + "".join(str(int(k)) for k in rng.integers(0, 10, 5))
    head = value[:start] + (value[start : end - 6] if end - start > 6 else "")
    return head + tail + value[end:]


@lru_cache(maxsize=1)
def _never_existed() -> tuple[str, ...]:
    """Six-digit codes under real province prefixes that were never GB/T 2260 codes."""
    return tuple(
        f"{stem}{i:02d}"
        for stem in _REGION_STEMS
        for i in range(1, 100)
        if stem[:2] in region.PROVINCES and not gbt2260.ever_existed(f"{stem}{i:02d}")
    )


@lru_cache(maxsize=8)
def _not_in_force(year: int) -> tuple[str, ...]:
    """Codes not in force in `year`: Binzhou's retired codes and codes that never existed."""
    retired = sorted(c for c in region.RETIRED if not gbt2260.in_force(c, year))
    return tuple(retired) + tuple(c for c in _never_existed() if c.startswith("3716"))
