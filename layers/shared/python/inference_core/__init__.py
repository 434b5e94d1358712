"""Inference Core: a serverless LLM gateway for AWS (the shared package of every function)."""

__version__ = "0.1.0"
