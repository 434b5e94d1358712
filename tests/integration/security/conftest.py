"""The security suite reuses the inference suite's scripted upstream (the one stand-in)."""

from tests.integration.inference.conftest import ScriptedUpstream, upstream

__all__ = ["ScriptedUpstream", "upstream"]
