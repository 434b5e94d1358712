"""The auth service behind `/v1/auth/*` and the CLI: accounts, sessions, one-time tokens, API keys.

Sessions are refresh-token families (`db.sessions`): login starts one, refresh rotates it (a
replayed, already-rotated refresh token revokes the whole family), logout revokes it. Changing the
password moves the user's `tokens_valid_after` (every older access or refresh token is refused),
revokes the other families, and hands the caller a fresh pair for the session they are in; a reset
does the same for every session.

No user enumeration: register, login and forgot-password answer with the same status and body
whether or not the email has an account.

- login: a missing user is "verified" against a dummy argon2 hash, so both paths cost one argon2
  verification and one index query;
- register: always `202 Accepted` with the same message and never tokens. A new address gets an
  account and a `verify_email` message; an address that already has an account gets an
  `account_exists` email (pointing to password reset) and nothing is created or changed;
- forgot-password: always `202`; only an existing, active account gets a `password_reset` email.

Those two paths do a little different DynamoDB and SQS work, so register and forgot-password also
take no less than `min_response_seconds` (default 0.25 s, well above their own work) and their
timing says nothing either. Mail failures on these paths are logged (never with the address or a
token) and swallowed, since a 503 would itself tell the two cases apart.

Hardening (docs/security.md):
- a password change or reset is one transaction (`db.credentials`); it revokes the user's API keys
  first unless the caller opts out (`revoke_api_keys: false`), and every reset or verification
  token issued before it dies (a token older than `tokens_valid_after` is refused);
- only a session or a key with the `manage` scope may mint or revoke keys or change the account;
  a user holds at most `max_api_keys_per_user` live keys (counted on the user item in the
  transaction that creates or revokes one: exact under concurrency);
- refreshing the token just rotated, within `refresh_reuse_grace_seconds`, returns the pair the
  first refresh got instead of revoking the family;
- failed sign-ins are counted per account and per source IP (`db.counters`): over the limit, a
  429 with Retry-After, the same for known and unknown emails;
- register, forgot-password and verify-email/request send at most `mail_per_account_per_hour`
  emails per account; beyond that they answer the same and send nothing.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from inference_core.auth.api_keys import (
    display_prefix,
    generate_api_key,
    hash_api_key,
    new_key_id,
)
from inference_core.auth.passwords import hash_password, needs_rehash, verify_password
from inference_core.auth.policy import principal_from_user
from inference_core.auth.principal import KEY_SCOPES, ROLE_SUPERUSER, ROLE_USER, Principal
from inference_core.auth.tokens import (
    REFRESH,
    decode_token,
    issue_access_token,
    issue_refresh_token,
    new_token_id,
)
from inference_core.auth.validation import check_password_policy, normalize_email
from inference_core.db.api_keys import ApiKeysRepository
from inference_core.db.counters import CountersRepository
from inference_core.db.credentials import CredentialsRepository, PasswordCommit, SessionRekey
from inference_core.db.models import ApiKeyModel, UserModel
from inference_core.db.sessions import OneTimeToken, Rotation, SessionsRepository
from inference_core.db.users import UsersRepository
from inference_core.errors import (
    AuthenticationError,
    ConflictError,
    InferenceCoreError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from inference_core.mailqueue import enqueue_mail
from inference_core.observability import get_logger

if TYPE_CHECKING:
    from inference_core.settings import Settings

PURPOSE_VERIFY_EMAIL = "verify_email"
PURPOSE_PASSWORD_RESET = "password_reset"
# Register and forgot-password never answer sooner than this (see the module docstring).
UNIFORM_RESPONSE_SECONDS = 0.25


class MailSender(Protocol):
    def __call__(
        self, template: str, to: str, context: dict[str, Any], *, correlation_id: str
    ) -> str | None: ...


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


@dataclass(frozen=True)
class KeyLimits:
    """The governance limits a new key asks for (None: none at the key level)."""

    tpm_limit: int | None = None
    max_parallel_requests: int | None = None
    max_budget_usd: float | None = None
    budget_period: str | None = None
    expires_at: int | None = None


@dataclass(frozen=True)
class CreatedApiKey:
    key: ApiKeyModel
    secret: str  # shown once, never stored


def hash_one_time_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AuthService:
    def __init__(
        self,
        *,
        settings: Settings,
        users: UsersRepository,
        keys: ApiKeysRepository,
        sessions: SessionsRepository,
        send_mail: MailSender | None = None,
        credentials: CredentialsRepository | None = None,
        counters: CountersRepository | None = None,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        min_response_seconds: float = UNIFORM_RESPONSE_SECONDS,
    ):
        self.settings = settings
        self.users = users
        self.keys = keys
        self.sessions = sessions
        self.credentials = credentials or CredentialsRepository(now=now)
        self.counters = counters or CountersRepository(now=now)
        self._send_mail: MailSender = send_mail or partial(enqueue_mail, settings=settings)
        self._now = now
        self._sleep = sleep
        self._min_response_seconds = min_response_seconds

    # ---- accounts ----

    def register(
        self, email: str, password: str, *, name: str | None = None, correlation_id: str = "-"
    ) -> None:
        """Create an account, or tell the owner of an existing one; the caller cannot tell which."""
        email = normalize_email(email)
        with self._uniform_duration():
            password_hash = hash_password(password)  # both paths pay for one argon2 hash
            existing = self.users.find_by_email(email)
            if existing is not None:
                self._mail_account_exists(existing, correlation_id)
                return
            user = self._new_user(email, password_hash, name=name, role=ROLE_USER, verified=False)
            try:
                self.users.create(user)
            except ConflictError:  # a concurrent registration won the race for this email
                raced = self.users.find_by_email(email)
                if raced is not None:
                    self._mail_account_exists(raced, correlation_id)
                return
            if self._mail_allowed(user):
                self._send_verification(user, correlation_id, quietly=True)

    def create_user(
        self,
        email: str,
        password: str,
        *,
        superuser: bool = False,
        name: str | None = None,
        email_verified: bool = True,
        rpm_limit: int | None = None,
    ) -> UserModel:
        """Create an account directly (the CLI); ConflictError if the email is taken."""
        email = normalize_email(email)
        check_password_policy(password, email=email)
        user = self._new_user(
            email,
            hash_password(password),
            name=name,
            role=ROLE_SUPERUSER if superuser else ROLE_USER,
            verified=email_verified,
            rpm_limit=rpm_limit,
        )
        self.users.create(user)
        return user

    def deactivate_user(self, user_id: str) -> None:
        """Disable an account (for admin tools): its sessions, tokens and API keys stop working.

        API keys are revoked one by one because the hot path reads only the key item.
        """
        user = self.users.get(user_id)
        if user is None:
            raise NotFoundError("No such user.", code="user_not_found")
        self.users.deactivate(user, revoke_tokens_before=round(self._now(), 3))
        self.sessions.revoke_user_families(user_id)
        for key in self.keys.list_for_owner(user_id):
            self.keys.revoke(key)

    def find_user(self, email: str) -> UserModel | None:
        return self.users.find_by_email(normalize_email(email))

    def principal_for_user(self, user_id: str) -> Principal:
        """The principal a user acts as (for the CLI's create-key)."""
        user = self.users.get(user_id)
        if user is None:
            raise NotFoundError("No such user.", code="user_not_found")
        return principal_from_user(user, self.settings)

    def me(self, principal: Principal) -> UserModel:
        return self._require_user(principal)

    def update_me(self, principal: Principal, *, name: str | None) -> UserModel:
        self._require_manager(principal)
        user = self._require_user(principal)
        return self.users.update_profile(user, name=name)

    # ---- sessions ----

    def login(self, email: str, password: str, *, source_ip: str | None = None) -> TokenPair:
        """A fresh session; the same 401 for an unknown email, a wrong password or a disabled
        account, after the same argon2 work. Too many failures for the account or the source IP
        in the window: 429, before any password is checked."""
        try:
            email = normalize_email(email)
        except ValueError:
            pass
        throttles = self._login_throttles(email, source_ip)
        window = self.counters.window(self.settings.auth.login_failure_window_seconds)
        counts = self.counters.counts(list(throttles), window)
        if any(counts[name] >= limit for name, limit in throttles.items()):
            raise RateLimitError(
                "Too many failed sign-in attempts; try again later.",
                retry_after=window.retry_after,
                code="too_many_login_attempts",
            )
        try:
            user = self.users.find_by_email(email)
        except ValueError:
            user = None
        valid = verify_password(user.password_hash if user else None, password)
        if user is None or not valid or not user.is_active:
            for name in throttles:
                self.counters.add(name, window)
            raise AuthenticationError("Incorrect email or password.", code="invalid_credentials")
        if self.settings.auth.require_email_verification and not user.email_verified:
            raise PermissionDeniedError(
                "Verify your email address before signing in.", code="email_not_verified"
            )
        if needs_rehash(user.password_hash):
            self.users.set_password(user, hash_password(password))
        return self._start_session(user)

    def refresh(self, refresh_token: str) -> TokenPair:
        claims = decode_token(refresh_token, self.settings, expected_type=REFRESH)
        user = self.users.get(claims.sub)
        if user is None or not user.is_active or (user.tokens_valid_after or 0) > claims.iat:
            raise AuthenticationError("The session has been revoked.", code="token_revoked")
        outcome = self.sessions.rotate_family(
            claims.sid,
            user_id=user.user_id,
            presented_jti=claims.jti,
            new_jti=new_token_id(),
            ttl_seconds=self.settings.auth.refresh_token_ttl_seconds,
            now=self._now(),
            grace_seconds=self.settings.auth.refresh_reuse_grace_seconds,
        )
        if outcome.kind in (Rotation.ROTATED, Rotation.RACED):
            # RACED: a concurrent refresh of the same token won; this caller gets the same refresh
            # token it got (the same claims, signed again) and a fresh access token.
            assert outcome.current_jti is not None and outcome.issued_at is not None
            return self._issue_pair(user, claims.sid, outcome.current_jti, now=outcome.issued_at)
        if outcome.kind is Rotation.REUSED:
            self._cut_off_session(user.user_id, claims.sid)
            get_logger().warning(
                "refresh token reuse detected; session family revoked",
                extra={"user_id": user.user_id, "session_id": claims.sid},
            )
            raise AuthenticationError(
                "This refresh token was already used; the session has been revoked.",
                code="token_reused",
            )
        raise AuthenticationError("The session has expired or been revoked.", code="token_revoked")

    def logout(self, principal: Principal) -> None:
        """Revoke the session (refresh-token family) the caller's access token belongs to."""
        if principal.session_id is None:
            raise InvalidRequestError(
                "Sign-out applies to a session (a JWT access token); "
                "revoke an API key with DELETE /v1/auth/api-keys/{id}.",
                code="not_a_session",
            )
        self.sessions.revoke_family(principal.session_id)
        self._cut_off_session(principal.user_id, principal.session_id)

    def _cut_off_session(self, user_id: str, session_id: str) -> None:
        """The family's access tokens stop working on inference routes at once (an admission
        condition), not when they expire; the entry is needed only as long as they could live."""
        ttl = self.settings.auth.access_token_ttl_seconds
        self.users.record_revoked_session(user_id, session_id, until=self._now() + ttl + 60)

    def change_password(
        self,
        principal: Principal,
        *,
        current_password: str,
        new_password: str,
        correlation_id: str = "-",
        revoke_api_keys: bool = True,
    ) -> TokenPair:
        """Set a new password, sign out every other session (and, unless told not to, revoke every
        API key), return a fresh pair for this one. The password, `tokens_valid_after` and this
        session's new refresh token are one transaction; the keys are revoked before it."""
        self._require_manager(principal)
        user = self._require_user(principal)
        if not verify_password(user.password_hash, current_password):
            raise InvalidRequestError(
                "The current password is incorrect.",
                code="incorrect_password",
                param="current_password",
            )
        if current_password == new_password:
            raise InvalidRequestError(
                "The new password must differ from the current one.", param="new_password"
            )
        self._check_policy(new_password, user.email, param="new_password")
        password_hash = hash_password(new_password)
        if revoke_api_keys:
            self._revoke_all_keys(user.user_id)
        family_id = principal.session_id
        live = family_id is not None and self.sessions.get_family(family_id) is not None
        if not live or family_id is None:
            family_id = uuid.uuid4().hex
        rekey = SessionRekey(
            family_id=family_id,
            user_id=user.user_id,
            new_jti=new_token_id(),
            ttl_seconds=self.settings.auth.refresh_token_ttl_seconds,
            create=not live,
        )
        now = round(self._now(), 3)
        outcome = self.credentials.commit_password(
            user, password_hash, revoke_tokens_before=now, session=rekey
        )
        if outcome is PasswordCommit.SESSION_GONE:
            raise AuthenticationError("The session has been revoked.", code="token_revoked")
        if outcome is not PasswordCommit.DONE:
            raise AuthenticationError("The account no longer exists or is disabled.")
        self._sweep_families(user.user_id, keep=family_id)
        return self._issue_pair(user, family_id, rekey.new_jti, now=now)

    # ---- one-time tokens: password reset and email verification ----

    def forgot_password(self, email: str, *, correlation_id: str = "-") -> None:
        """Email a reset link if the account exists; the caller cannot tell whether it does."""
        with self._uniform_duration():
            try:
                user = self.users.find_by_email(normalize_email(email))
            except ValueError:
                user = None
            if user is None or not user.is_active or not self._mail_allowed(user):
                return
            token = self._new_one_time_token(
                user, PURPOSE_PASSWORD_RESET, self.settings.auth.reset_token_ttl_seconds
            )
            self._mail_quietly(
                "password_reset",
                user,
                self._token_context(
                    user, token, "reset-password", self.settings.auth.reset_token_ttl_seconds
                ),
                correlation_id,
            )

    def reset_password(
        self,
        token: str,
        new_password: str,
        *,
        correlation_id: str = "-",
        revoke_api_keys: bool = True,
    ) -> None:
        """Consume a reset token (once, before it expires, and only if no reset or password change
        came after it was issued), set the password, end every session and (unless told not to)
        revoke every API key. Consuming the token and setting the password are one transaction."""
        token_hash = hash_one_time_token(token)
        found = self.sessions.get_one_time_token(token_hash, purpose=PURPOSE_PASSWORD_RESET)
        user = self._token_owner(found)
        invalid = InvalidRequestError(
            "The reset token is invalid, already used or expired.",
            code="invalid_token",
            param="token",
        )
        if user is None:
            raise invalid
        self._check_policy(new_password, user.email, param="new_password")
        password_hash = hash_password(new_password)
        if revoke_api_keys:
            self._revoke_all_keys(user.user_id)
        # Following the emailed link proves the address, so it counts as verified too.
        outcome = self.credentials.commit_password(
            user,
            password_hash,
            revoke_tokens_before=round(self._now(), 3),
            mark_email_verified=True,
            consume_token_hash=token_hash,
            token_purpose=PURPOSE_PASSWORD_RESET,
        )
        if outcome is not PasswordCommit.DONE:
            raise invalid
        self._sweep_families(user.user_id)

    def request_email_verification(
        self, principal: Principal, *, correlation_id: str = "-"
    ) -> bool:
        """Queue a verification email; False (and nothing sent) if the email is already verified.
        Over the hourly mail cap it answers True and sends nothing (the caller cannot tell)."""
        self._require_manager(principal)
        user = self._require_user(principal)
        if user.email_verified:
            return False
        if self._mail_allowed(user):
            self._send_verification(user, correlation_id, quietly=False)
        return True

    def verify_email(self, token: str) -> UserModel:
        consumed = self.sessions.consume_one_time_token(
            hash_one_time_token(token), purpose=PURPOSE_VERIFY_EMAIL
        )
        user = self._token_owner(consumed)
        if user is None:
            raise InvalidRequestError(
                "The verification token is invalid, already used or expired.",
                code="invalid_token",
                param="token",
            )
        self.users.mark_email_verified(user)
        return user

    # ---- API keys ----

    def create_api_key(
        self,
        principal: Principal,
        *,
        name: str | None = None,
        allowed_models: list[str] | None = None,
        rpm_limit: int | None = None,
        limits: KeyLimits | None = None,
        scopes: list[str] | None = None,
    ) -> CreatedApiKey:
        """A new key for the principal's user, with scopes and limits no wider than the
        principal's own (its user's, and the creating key's when a key creates one).

        `scopes=["manage"]` makes a key that may itself manage keys and the account; without it a
        key runs inference and reads its own usage only."""
        if principal.is_anonymous:
            raise AuthenticationError("Sign in to create API keys.", code="missing_api_key")
        self._require_manager(principal)
        extra_scopes = sorted(set(scopes or ()))
        unknown = set(extra_scopes) - KEY_SCOPES
        if unknown:
            raise InvalidRequestError(
                f"Unknown scope(s): {', '.join(sorted(unknown))}.", param="scopes"
            )
        limits = self._narrowed_limits(principal, limits or KeyLimits())
        if allowed_models is None:
            models = principal.allowed_models
        else:
            models = frozenset(allowed_models)
            if principal.allowed_models is not None and not models <= principal.allowed_models:
                outside = ", ".join(sorted(models - principal.allowed_models))
                raise PermissionDeniedError(
                    f"A key cannot allow models its creator cannot use: {outside}.",
                    code="scope_exceeds_creator",
                    param="allowed_models",
                )
        if rpm_limit is None:
            rpm = principal.rpm_limit
        elif rpm_limit > principal.rpm_limit:
            raise PermissionDeniedError(
                f"A key's rpm_limit cannot exceed its creator's ({principal.rpm_limit}).",
                code="scope_exceeds_creator",
                param="rpm_limit",
            )
        else:
            rpm = rpm_limit
        secret = generate_api_key()
        key = ApiKeyModel(
            hash_api_key(secret),
            key_id=new_key_id(),
            owner_id=principal.user_id,
            owner_role=principal.role,
            name=name,
            prefix=display_prefix(secret),
            created_at=int(self._now()),
            allowed_models=None if models is None else sorted(models),
            rpm_limit=rpm,
            scopes=extra_scopes or None,
            tpm_limit=limits.tpm_limit,
            max_parallel_requests=limits.max_parallel_requests,
            max_budget_usd=limits.max_budget_usd,
            budget_period=limits.budget_period,
            expires_at=limits.expires_at,
            revoked=False,
            request_window={},
            token_window={},
            spend={},
            leases={},
        )
        cap = self.settings.auth.max_api_keys_per_user
        if not self.keys.create(key, max_live=cap):  # counted on the user item: exact
            raise PermissionDeniedError(
                f"A user may hold at most {cap} live API keys; revoke one first.",
                code="api_key_limit_reached",
            )
        return CreatedApiKey(key=key, secret=secret)

    def _narrowed_limits(self, principal: Principal, asked: KeyLimits) -> KeyLimits:
        """Refuse (403) a limit looser than the owner's or the creating key's."""
        if asked.expires_at is not None and asked.expires_at <= self._now():
            raise InvalidRequestError(
                "expires_at must be in the future.", code="invalid_expires_at", param="expires_at"
            )
        user = self.users.get(principal.user_id)
        governance = self.settings.governance
        ceilings: list[tuple[str, dict[str, Any]]] = []
        if user is not None:
            ceilings.append(
                (
                    "owner",
                    {
                        "tpm_limit": user.tpm_limit
                        if user.tpm_limit is not None
                        else governance.default_tpm_limit,
                        "max_parallel_requests": user.max_parallel_requests
                        if user.max_parallel_requests is not None
                        else governance.default_max_parallel_requests,
                        "max_budget_usd": user.max_budget_usd
                        if user.max_budget_usd is not None
                        else governance.default_max_budget_usd,
                        "expires_at": None,
                    },
                )
            )
        if principal.key_hash is not None:
            creator = self.keys.get_by_hash(principal.key_hash)
            if creator is not None:
                ceilings.append(
                    (
                        "creating key",
                        {
                            "tpm_limit": creator.tpm_limit,
                            "max_parallel_requests": creator.max_parallel_requests,
                            "max_budget_usd": creator.max_budget_usd,
                            "expires_at": creator.expires_at,
                        },
                    )
                )
        values = dict(asked.__dict__)
        for who, ceiling in ceilings:
            for name, top in ceiling.items():
                if top is None:
                    continue
                if values[name] is None and name == "expires_at":
                    values[name] = int(top)  # a key never outlives the key that made it
                elif values[name] is not None and values[name] > top:
                    raise PermissionDeniedError(
                        f"A key's {name} cannot exceed its {who}'s ({top:g}).",
                        code="scope_exceeds_creator",
                        param=name,
                    )
        return KeyLimits(**values)

    def list_api_keys(self, principal: Principal) -> list[ApiKeyModel]:
        return self.keys.list_for_owner(principal.user_id)

    def revoke_api_key(self, principal: Principal, key_id: str) -> ApiKeyModel:
        self._require_manager(principal)
        key = self.keys.find_for_owner(principal.user_id, key_id)
        # Unknown, revoked (even by a concurrent call), or someone else's: the same answer.
        if key is None or not self.keys.revoke(key):
            raise NotFoundError(f"No API key with id '{key_id}'.", code="api_key_not_found")
        return key

    # ---- internals ----

    @contextmanager
    def _uniform_duration(self) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            remaining = self._min_response_seconds - (time.monotonic() - started)
            if remaining > 0:
                self._sleep(remaining)

    def _new_user(
        self,
        email: str,
        password_hash: str,
        *,
        name: str | None,
        role: str,
        verified: bool,
        rpm_limit: int | None = None,
    ) -> UserModel:
        now = int(self._now())
        return UserModel(
            "usr_" + uuid.uuid4().hex,
            email=email,
            password_hash=password_hash,
            name=name,
            role=role,
            is_active=True,
            email_verified=verified,
            created_at=now,
            updated_at=now,
            tokens_valid_after=0,
            live_api_keys=0,
            # Stored on every user so the hot path's condition can compare against it.
            rpm_limit=rpm_limit if rpm_limit is not None else self.settings.auth.default_rpm,
        )

    def _require_user(self, principal: Principal) -> UserModel:
        if principal.is_anonymous:
            raise AuthenticationError("Sign in first.", code="missing_api_key")
        user = self.users.get(principal.user_id)
        if user is None or not user.is_active:
            raise AuthenticationError("The account no longer exists or is disabled.")
        return user

    def _require_manager(self, principal: Principal) -> None:
        if principal.is_anonymous:
            raise AuthenticationError("Sign in first.", code="missing_api_key")
        if not principal.can_manage_account:
            raise PermissionDeniedError(
                "This API key may run inference and read its usage, not manage keys or the "
                "account; sign in, or use a key created with the 'manage' scope.",
                code="key_scope_insufficient",
            )

    def _token_owner(self, token: OneTimeToken | None) -> UserModel | None:
        """The active user a one-time token belongs to, if no password change, reset or
        deactivation came after the token was issued (those kill every older token)."""
        if token is None:
            return None
        user = self.users.get(token.user_id)
        if user is None or not user.is_active:
            return None
        if token.created_at < float(user.tokens_valid_after or 0):
            return None
        return user

    def _revoke_all_keys(self, user_id: str) -> None:
        for key in self.keys.list_for_owner(user_id):
            self.keys.revoke(key)

    def _sweep_families(self, user_id: str, *, keep: str | None = None) -> None:
        """Mark the user's other families revoked. Clean-up only: `tokens_valid_after`, already
        committed, refuses their tokens, so a failure here must not turn a done change into an
        error."""
        try:
            self.sessions.revoke_user_families(user_id, keep=keep)
        except InferenceCoreError as exc:
            get_logger().warning(
                "session families not swept after a password change (%s)",
                type(exc).__name__,
                extra={"user_id": user_id},
            )

    def _login_throttles(self, email: str, source_ip: str | None) -> dict[str, int]:
        """Counter name → failure limit. The email is hashed (it becomes a table key); it is
        counted whether or not it has an account, so the answer says nothing about that."""
        auth = self.settings.auth
        digest = hashlib.sha256(email.encode("utf-8", "replace")).hexdigest()
        throttles = {f"login-account#{digest}": auth.login_failures_per_account}
        if source_ip:
            throttles[f"login-ip#{source_ip}"] = auth.login_failures_per_ip
        return throttles

    def _mail_allowed(self, user: UserModel) -> bool:
        """Count one email to this account in the current hour; False over the cap."""
        window = self.counters.window(3600)
        sent = self.counters.add(f"mail#{user.user_id}", window)
        if sent > self.settings.auth.mail_per_account_per_hour:
            get_logger().warning(
                "mail cap reached; email not sent", extra={"user_id": user.user_id}
            )
            return False
        return True

    def _check_policy(self, password: str, email: str, *, param: str) -> None:
        try:
            check_password_policy(password, email=email)
        except ValueError as exc:
            raise InvalidRequestError(f"Invalid {param}: {exc}.", param=param) from exc

    def _start_session(self, user: UserModel) -> TokenPair:
        family_id, jti = uuid.uuid4().hex, new_token_id()
        self.sessions.create_family(
            family_id,
            user_id=user.user_id,
            jti=jti,
            ttl_seconds=self.settings.auth.refresh_token_ttl_seconds,
        )
        return self._issue_pair(user, family_id, jti)

    def _issue_pair(
        self, user: UserModel, family_id: str, refresh_jti: str, *, now: float | None = None
    ) -> TokenPair:
        issued_at = self._now() if now is None else now
        access = issue_access_token(
            self.settings, user_id=user.user_id, role=user.role, session_id=family_id, now=issued_at
        )
        refresh = issue_refresh_token(
            self.settings,
            user_id=user.user_id,
            session_id=family_id,
            jti=refresh_jti,
            now=issued_at,
        )
        return TokenPair(
            access_token=access.token,
            refresh_token=refresh.token,
            expires_in=self.settings.auth.access_token_ttl_seconds,
        )

    def _new_one_time_token(self, user: UserModel, purpose: str, ttl_seconds: int) -> str:
        token = secrets.token_urlsafe(32)  # 256 bits
        self.sessions.create_one_time_token(
            hash_one_time_token(token),
            user_id=user.user_id,
            purpose=purpose,
            ttl_seconds=ttl_seconds,
        )
        return token

    def _token_context(
        self, user: UserModel, token: str, page: str, ttl_seconds: int
    ) -> dict[str, Any]:
        base = self.settings.auth.public_base_url.rstrip("/")
        return {
            "name": user.name or "",
            "link": f"{base}/{page}?token={token}",
            "expires_minutes": max(1, ttl_seconds // 60),
            "expires_at": int(self._now()) + ttl_seconds,
        }

    def _send_verification(self, user: UserModel, correlation_id: str, *, quietly: bool) -> None:
        """Callers check the mail cap first (register's new account has sent nothing yet)."""
        ttl = self.settings.auth.verify_token_ttl_seconds
        token = self._new_one_time_token(user, PURPOSE_VERIFY_EMAIL, ttl)
        context = self._token_context(user, token, "verify-email", ttl)
        if quietly:
            self._mail_quietly("verify_email", user, context, correlation_id)
        else:
            self._send_mail("verify_email", user.email, context, correlation_id=correlation_id)

    def _mail_account_exists(self, user: UserModel, correlation_id: str) -> None:
        if not self._mail_allowed(user):
            return
        base = self.settings.auth.public_base_url.rstrip("/")
        self._mail_quietly(
            "account_exists",
            user,
            {"name": user.name or "", "link": f"{base}/forgot-password"},
            correlation_id,
        )

    def _mail_quietly(
        self, template: str, user: UserModel, context: dict[str, Any], correlation_id: str
    ) -> None:
        try:
            self._send_mail(template, user.email, context, correlation_id=correlation_id)
        except InferenceCoreError as exc:
            get_logger().warning(
                "email not queued",
                extra={"template": template, "error": type(exc).__name__, "user_id": user.user_id},
            )
