"""Record keys in the workbook show no personal identifier."""

from __future__ import annotations

from bzdata.registry import load_registry
from bzdata.scorecard.masking import KeyMasker


def test_personal_key_parts_are_masked_others_kept():
    masker = KeyMasker(load_registry())
    assert masker("rsj_shbx", "37160219800101123X|110") == "371602********123X|110"
    assert masker("gaj_hjrk", "371602198001011234") == "371602********1234"
    assert masker("scjgj_sczt", "91371600MA3C12345X") == "91371600MA3C12345X"  # not personal
    assert masker("gdgs_ydl", "3716000001|2023-01") == "3716000001|2023-01"


def test_keys_that_do_not_fit_are_hidden_whole():
    masker = KeyMasker(load_registry())
    assert masker("rsj_shbx", "371602198001011234") == "****"  # one part, two expected
    assert masker("no_such_dataset", "371602198001011234") == "****"
    assert masker("rsj_shbx", None) is None
    assert masker("rsj_shbx", "") == ""
