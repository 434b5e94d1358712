"""The auth suites drive real inference routes too: the scripted upstream and the governance
helpers come from their own suites."""

from tests.integration.governance.conftest import count_calls, freeze, items
from tests.integration.inference.conftest import upstream

__all__ = ["count_calls", "freeze", "items", "upstream"]
