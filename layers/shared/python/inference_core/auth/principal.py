"""Who a request runs as, after authentication: a user (through a JWT) or one of their API keys."""

from __future__ import annotations

from dataclasses import dataclass

ROLE_USER = "user"
ROLE_SUPERUSER = "superuser"
ANONYMOUS_USER_ID = "anonymous"
# An API key's scopes. Every key may run inference and read its own usage; only a key created with
# `manage` may mint or revoke keys and change the account (password, profile, email requests).
SCOPE_MANAGE = "manage"
KEY_SCOPES = frozenset({SCOPE_MANAGE})


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: str
    key_id: str | None  # None for a JWT session (or the anonymous caller)
    allowed_models: frozenset[str] | None  # None: every model
    rpm_limit: int
    email: str | None = None
    # The refresh-token family of a JWT session (None for an API key or the anonymous caller).
    session_id: str | None = None
    # An API key's extra scopes (see SCOPE_MANAGE); empty for a session, which may do everything.
    key_scopes: frozenset[str] = frozenset()
    # Governance (see `inference_core.governance`): the key's primary key, the JWT's `iat`
    # (checked against `tokens_valid_after` by the admission write) and the user's team.
    key_hash: str | None = None
    token_issued_at: float | None = None
    team_id: str | None = None

    @property
    def tenant_id(self) -> str:
        """Whose data this is (cache scope, usage ledger): the user, whichever key they used."""
        return self.user_id

    @property
    def is_superuser(self) -> bool:
        return self.role == ROLE_SUPERUSER

    @property
    def is_anonymous(self) -> bool:
        return self.user_id == ANONYMOUS_USER_ID

    @property
    def can_manage_account(self) -> bool:
        """A signed-in session, or an API key created with the `manage` scope."""
        if self.is_anonymous:
            return False
        return self.key_id is None or SCOPE_MANAGE in self.key_scopes

    def can_use(self, model_alias: str) -> bool:
        return self.allowed_models is None or model_alias in self.allowed_models


def anonymous_principal(rpm_limit: int) -> Principal:
    """The caller of a `public` inference endpoint who sent no token."""
    return Principal(
        user_id=ANONYMOUS_USER_ID,
        role=ROLE_USER,
        key_id=None,
        allowed_models=None,
        rpm_limit=rpm_limit,
    )
