"""指标库 reporting channel: per-department XLSX templates, validated returns, versioned store.

    template(registry, dept, period, lake, out)  -> the XLSX a department fills in
    ingest_file(registry, path, lake)            -> one returned file into the store
    read_values(lake)                            -> every accepted value with provenance and version
    collect_period(registry, landing, lake, P)   -> every return of the period in the landing zone
    bzdata.indicators.library                    -> the period's 45 indicators, series, on track
    bzdata.indicators.report                     -> <work>/indicators/<P>/ HTML page and workbook

Store (append-only; a file is never rewritten, a correction is a new version):

    lake/indicators/values/<delivery>.parquet      accepted values, one row per indicator
    lake/indicators/rejects/<delivery>.parquet     rejected rows: file, row, reason
    lake/indicators/deliveries/<delivery>.parquet  one row per returned file
    lake/indicators/file_rejects/<sha>.parquet     a returned file refused whole: file, reason
    lake/indicators/library/period=<P>/library.parquet  the period's library (series read it)
"""

from bzdata.indicators.channel import (
    IndicatorFileError,
    ingest_file,
    read_rejects,
    read_values,
    template,
)

__all__ = ["IndicatorFileError", "ingest_file", "read_rejects", "read_values", "template"]
