"""Airflow DAGs of the Binzhou public data platform, generated from the registry.

This file only wires: the DAGs come from bzdata.orchestration.dags, which builds one collect
DAG per update cycle (更新周期) of catalog/registry/. To collect a new dataset, add its registry
YAML; nothing here changes. Parsing reads the registry and nothing else (tests/dags prove it).
"""

from bzdata.orchestration.dags import build_collect_dags

# Module-level names are how the DagBag finds DAGs built outside this file.
globals().update(build_collect_dags())
