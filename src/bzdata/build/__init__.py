"""治理 (build): the dbt project that turns the raw zone into staging, the 基础库 and 多源校核.

- `generate`: dbt sources, staging, latest-state and consistency models written from the
  registry (`bzdata build sources`); the committed files must equal what it writes.
- `dbt`: one in-process `dbt build` against the warehouse, with progress (`bzdata build`).
"""
