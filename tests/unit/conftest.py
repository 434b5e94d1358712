"""Unit tests have no network: every test here runs with sockets disabled (pytest-socket), so a
test that silently needs a server or an AWS endpoint fails instead of passing on a laptop.

Unix sockets stay allowed: asyncio's event loop wakes itself through a socketpair. A test that
must create a socket says why and carries `@pytest.mark.enable_socket`.
"""

from __future__ import annotations

import pytest
from pytest_socket import disable_socket


def pytest_runtest_setup(item: pytest.Item) -> None:
    # A conftest's hook runs only for the items under its directory; pytest-socket's own teardown
    # hook lifts the guard after each test.
    if item.get_closest_marker("enable_socket") is None:
        disable_socket(allow_unix_socket=True)
