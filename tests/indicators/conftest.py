"""The demo city of tests/build (synthetic deliveries → raw zone → `dbt build`), reused here with
the departments' 指标 returns of every period ingested through the channel."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "build_city", Path(__file__).parents[1] / "build" / "conftest.py"
)
build_city = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = build_city  # dataclasses look their module up
_spec.loader.exec_module(build_city)

synth_city = build_city.synth_city
city = build_city.city


@pytest.fixture(scope="session")
def reported_city(city):
    """The built city with every period's 指标 returns collected into its lake."""
    from bzdata.indicators.channel import collect_period

    for period in city.periods:
        collect_period(city.registry, city.synth / "landing", city.work / "lake", period)
    return city
