"""Wire-format translation between our canonical (OpenAI-shaped) types and other APIs.

Pure functions, no I/O: `translation.anthropic` is used both by the Anthropic provider (our
request → Anthropic's) and by the `/v1/messages` endpoint (an Anthropic request → ours, and our
answer back into Anthropic's message and event shapes).
"""
