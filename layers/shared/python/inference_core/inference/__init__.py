"""The inference service: what the API routes and the batch worker both call."""

from inference_core.inference.service import ChatOutcome, InferenceService, StreamOutcome

__all__ = ["ChatOutcome", "InferenceService", "StreamOutcome"]
