"""Orchestration: Airflow DAGs generated from the registry, and running them in-process.

    schedule  when each collect DAG fires and which period (报送期) a logical date collects
    home      the project-local Airflow home: environment, metadata DB migration, pools
    dags      the DAG factory (ordered stages per DAG); dags/bzdata_dags.py only calls it
    runner    `dag.test()` of the DAGs due for a period, with per-task outcomes
    cli       `bzdata run`

Importing this package imports no Airflow: `dags` and `runner` do, when they are imported.
"""
