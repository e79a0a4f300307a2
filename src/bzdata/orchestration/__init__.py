"""Orchestration: Airflow DAGs generated from the registry, and running them in-process.

    schedule  when each collect DAG fires and which period (报送期) a logical date collects
    home      the project-local Airflow home: environment, metadata DB migration, pools
    dags      the DAG factory (collect DAGs, the publish DAG on their Assets); dags/ calls it
    tasks     the task bodies; publish: readiness, severity hold and the post-scorecard steps
    stream    the 数据高铁 DAG; sources: 前置库 Airflow Connections
    runner    `dag.test()` of the DAGs due for a period, with per-task outcomes
    services  Airflow's api-server, scheduler and dag-processor as subprocesses on loopback
    cli       `bzdata run`, `bzdata airflow ui`

Importing this package imports no Airflow: `dags` and `runner` do, when they are imported.
"""
