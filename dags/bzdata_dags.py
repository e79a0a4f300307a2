"""Airflow DAGs of the Binzhou public data platform, generated from the registry.

This file only wires: bzdata.orchestration builds one collect DAG per update cycle (更新周期)
of catalog/registry/, the publish DAG scheduled on their Assets, and the 数据高铁 DAG over the
前置库 datasets. To collect a new dataset, add its registry YAML; nothing here changes.
Parsing reads the registry and nothing else (tests/dags prove it).
"""

from bzdata.orchestration.dags import build_dags
from bzdata.orchestration.stream import build_stream_dags

# Module-level names are how the DagBag finds DAGs built outside this file.
globals().update(build_dags())
globals().update(build_stream_dags())
