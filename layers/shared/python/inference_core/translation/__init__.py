"""Wire-format translation between our canonical (OpenAI-shaped) types and other APIs.

Pure functions, no I/O, one module per direction: `anthropic_upstream` is the Anthropic provider's
(our request → Anthropic's, Anthropic's answers → ours), `anthropic_messages` is the `/v1/messages`
endpoint's (an Anthropic request → ours, our answers → Anthropic's message and event shapes);
`anthropic_wire` holds the vocabulary both share.
"""
