"""`UNSET`: the value of a PATCH field the request does not name, where None means "remove it".

It sits at the bottom of the package (it imports nothing of ours), so the admin schemas, the
admin service and the `db/` repositories that apply a partial update all share it.
"""

from __future__ import annotations

from enum import Enum


class Unset(Enum):
    """A PATCH field the body does not name (None would mean "remove it")."""

    UNSET = "unset"


UNSET = Unset.UNSET
