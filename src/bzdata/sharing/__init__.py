"""共享 (sharing): what leaves the platform or is shown to people, and how personal data is masked.

`mask(value, element_id)` is the one masking function: every screen, report and export that shows
a value of a personal data element to a person passes it through here.
"""

from bzdata.sharing.masking import mask, mask_many, masking_kind

__all__ = ["mask", "mask_many", "masking_kind"]
