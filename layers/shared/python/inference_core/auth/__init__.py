"""Authentication and authorization: passwords, JWTs, API keys, the `Principal` a request runs as,
the auth service behind `/v1/auth/*`, and the per-minute request limit (see `policy`).

Submodules are imported directly (`from inference_core.auth.principal import Principal`); this
package imports nothing at import time so the data plane only loads what it uses.
"""
