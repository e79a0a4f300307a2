"""Data quality checks: rules run inside the database, results as plain dicts.

Great Expectations is imported lazily by `bzdata.quality.gx_runner`, so importing this package
stays cheap.
"""
