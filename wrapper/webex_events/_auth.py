"""Where the bearer token comes from: a fixed token, a token file, or OAuth refresh (sans-IO).

The requester asks :meth:`Auth.current` before each request and :meth:`Auth.renew` after a 401
(or before sending, once a token is :meth:`~Auth.due`). A renewal is single-flight: requests that
saw the same token fail wait for the one renewal under way, so N workers hitting a 401 together
cause one refresh. Renewals are programs, run by the same drivers as every request.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from webex_events_api.spec import ACCESS_TOKEN, ACCESS_TOKEN_KEYS, ACCESS_TOKEN_REQUEST_KEYS

from ._actions import Action, Sleep
from ._errors import APIError, InvalidArgumentError, TokenRefreshError
from ._wire import decode_object

if TYPE_CHECKING:
    from ._requester import Requester

from ._links import operation_url

__all__ = ["Auth", "FileTokenStore", "OAuthRefresh", "OAuthTokens", "TokenFile", "TokenStore"]

logger = logging.getLogger("webex_events")

TOKEN_ENV = "WEBEX_ACCESS_TOKEN"  # noqa: S105 - a variable name, not a secret
#: A refresh token with less left than this is warned about at each refresh.
REFRESH_WARNING = timedelta(days=7)
_K, _F = ACCESS_TOKEN_KEYS, ACCESS_TOKEN_REQUEST_KEYS


def resolve_token(token: object) -> str:
    """The token argument or ``$WEBEX_ACCESS_TOKEN``; InvalidArgumentError if neither is usable."""
    if token is None:
        token = os.environ.get(TOKEN_ENV)
        if token is None:
            raise InvalidArgumentError(f"token is required: pass token=... or set ${TOKEN_ENV}")
    if not isinstance(token, str):
        raise InvalidArgumentError(f"token must be a str, got {type(token).__name__}")
    token = token.strip()
    if not token:
        raise InvalidArgumentError("token must not be empty")
    # Checked here, not by the HTTP library at request time (where the error is raw and late).
    # The message never contains the token.
    if token[:7].lower() == "bearer ":
        raise InvalidArgumentError("token must be given without the 'Bearer ' prefix (it is added for you)")
    if not token.isascii():
        raise InvalidArgumentError(
            "token must be ASCII (Webex access tokens are); check for a pasted character"
        )
    if any(not 0x21 <= ord(c) <= 0x7E for c in token):
        raise InvalidArgumentError("token must not contain whitespace or control characters")
    return token


class Auth:
    """A fixed bearer token; the base of the providers that can renew theirs (``auth=``).

    ``current()`` is the token and its generation (it grows with each new token);
    ``renew(requester, generation)`` makes a newer one, or returns False if none can be made.
    """

    def __init__(self, token: str | None = None) -> None:
        self._token = resolve_token(token) if token is not None else ""
        self._generation = 0
        self._lock = threading.Lock()
        self._renewing = False
        self._failure: BaseException | None = None  # of the last renewal

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"  # never the token

    def current(self) -> tuple[str, int]:
        """The token to send and its generation."""
        with self._lock:
            return self._token, self._generation

    def due(self) -> bool:
        """Whether the token should be renewed before it is sent (it expires soon)."""
        return False

    def secrets(self) -> tuple[str, ...]:
        """Every secret to mask in errors and logs."""
        return (self._token,)

    def renew(self, requester: Requester, generation: int) -> Generator[Action, Any, bool]:
        """Whether there is a token newer than ``generation``: made here, or by the renewal
        already under way (whose error, if it failed, is raised here too)."""
        waited = False
        while True:
            with self._lock:
                if self._generation > generation:
                    return True
                if waited and not self._renewing:
                    if self._failure is None:
                        return False
                    raise self._failure
                if not self._renewing:
                    self._renewing, self._failure = True, None
                    break
            waited = True
            yield Sleep(0.02)  # another request renews it: wait for the outcome
        try:
            token = yield from self._renewed(requester)
        except BaseException as error:
            with self._lock:
                self._failure, self._renewing = error, False
            raise
        with self._lock:
            self._renewing = False
            if token is None or token == self._token:
                return False
            self._token, self._generation = token, self._generation + 1
            return True

    def _renewed(self, requester: Requester) -> Generator[Action, Any, str | None]:
        """A new token (the subclass's way), or None."""
        return None
        yield  # (a generator)


class TokenFile(Auth):
    """The token in a file, read again after a 401 (a token replaced while a daemon runs).

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "token"
    >>> _ = path.write_text("tok-1234\\n")
    >>> TokenFile(path).current()
    ('tok-1234', 0)
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(path)
        self._token = self._read()

    def __repr__(self) -> str:
        return f"TokenFile({str(self.path)!r})"

    def _read(self) -> str:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidArgumentError(f"cannot read the token file {self.path}: {exc.strerror}") from None
        return resolve_token(text)

    def _renewed(self, requester: Requester) -> Generator[Action, Any, str | None]:
        token = self._read()
        if token != self._token:
            logger.info("the token in %s changed: using the new one", self.path)
        return token
        yield  # (a generator)


@attrs.frozen(kw_only=True)
class OAuthTokens:
    """What Webex's token endpoint returned (times: epoch seconds), and the client it is for."""

    client_id: str
    client_secret: str = attrs.field(repr=False)
    refresh_token: str = attrs.field(repr=False)
    access_token: str | None = attrs.field(default=None, repr=False)
    expires_at: float | None = None
    expires_in: int | None = None
    refresh_expires_at: float | None = None
    scope: str | None = None

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str) -> OAuthTokens:
        try:
            raw = json.loads(text)
            fields = {f.name for f in attrs.fields(cls)}
            tokens = cls(**{k: v for k, v in raw.items() if k in fields})
            if not all(
                isinstance(v, str) and v
                for v in (tokens.client_id, tokens.client_secret, tokens.refresh_token)
            ):
                raise TypeError("client_id, client_secret and refresh_token must be non-empty strings")
        except (ValueError, TypeError, AttributeError) as exc:
            raise InvalidArgumentError(f"{source} is not a webex-events auth file: {exc}") from None
        return tokens


class TokenStore:
    """Where :class:`OAuthRefresh` keeps what Webex returns (a subclass: another place)."""

    def load(self) -> OAuthTokens | None:
        """The stored tokens, or None when there are none yet."""
        raise NotImplementedError

    def save(self, tokens: OAuthTokens) -> None:
        """Store ``tokens`` durably before they are used (a refresh token may be single-use)."""
        raise NotImplementedError


class FileTokenStore(TokenStore):
    """A JSON file, created 0600 and written atomically; one that others may read is refused."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"

    def load(self) -> OAuthTokens | None:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InvalidArgumentError(f"cannot read the auth file {self.path}: {exc.strerror}") from None
        with os.fdopen(fd, encoding="utf-8") as f:
            if os.name == "posix" and os.fstat(f.fileno()).st_mode & 0o077:
                raise InvalidArgumentError(
                    f"the auth file {self.path} may be read by other users: run `chmod 600 {self.path}`"
                )
            return OAuthTokens.from_json(f.read(), source=str(self.path))

    def save(self, tokens: OAuthTokens) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(tokens.to_json())
                f.flush()
                os.fsync(f.fileno())
            os.replace(temporary, self.path)
            if os.name == "posix":
                directory = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(directory)
                finally:
                    os.close(directory)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise TokenRefreshError(
                f"cannot store the refreshed tokens in {self.path}: {exc.strerror}"
                " (the new refresh token would be lost: nothing was used)"
            ) from None


class OAuthRefresh(Auth):
    """An integration's tokens, refreshed before they expire and once after a 401.

    Webex answers a refresh with a new access token, its ``expires_in`` and a refresh token
    (maybe a new one: it is kept, and stored before the access token is used). A refresh token
    refused for good raises :class:`TokenRefreshError`; a failing token endpoint is retried like
    any request. ``store`` (or an auth file, :meth:`from_file`) keeps the tokens across runs; a
    stored refresh token wins over ``refresh_token`` (it may have replaced it).

    >>> auth = OAuthRefresh(client_id="C123", client_secret="s3cret", refresh_token="r3fresh")
    >>> auth, auth.due()  # no access token yet: one is made before the first request
    (OAuthRefresh(client_id='C123'), True)
    """

    def __init__(
        self,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        store: TokenStore | str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.store = FileTokenStore(store) if isinstance(store, str | os.PathLike) else store
        self._clock = clock
        stored = self.store.load() if self.store is not None else None
        given = {"client_id": client_id, "client_secret": client_secret, "refresh_token": refresh_token}
        if stored is None:
            missing = [name for name, value in given.items() if not value]
            if missing:
                where = (
                    f" (and {self.store.path} holds none)" if isinstance(self.store, FileTokenStore) else ""
                )
                raise InvalidArgumentError(f"OAuthRefresh needs {', '.join(missing)}{where}")
            for name, value in given.items():
                if not isinstance(value, str):
                    raise InvalidArgumentError(f"{name} must be a str, got {type(value).__name__}")
            stored = OAuthTokens(
                client_id=str(client_id), client_secret=str(client_secret), refresh_token=str(refresh_token)
            )
        elif client_id and client_id != stored.client_id:
            raise InvalidArgumentError(f"the stored tokens are for another client id than {client_id!r}")
        self._tokens = stored
        self._token = stored.access_token or ""

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **kwargs: Any) -> OAuthRefresh:
        """The tokens of an auth file (``webex-events auth login`` writes one), kept there."""
        return cls(store=FileTokenStore(path), **kwargs)

    def __repr__(self) -> str:
        return f"OAuthRefresh(client_id={self._tokens.client_id!r})"

    @property
    def tokens(self) -> OAuthTokens:
        """The current tokens (their repr hides every secret)."""
        return self._tokens

    def secrets(self) -> tuple[str, ...]:
        t = self._tokens
        return tuple(s for s in (self._token, t.access_token, t.refresh_token, t.client_secret) if s)

    def due(self) -> bool:
        """No access token yet, or it expires within a tenth of its lifetime (at most 5 min)."""
        return not self._token or self._expiring(self._tokens)

    def _expiring(self, t: OAuthTokens) -> bool:
        if t.expires_at is None:
            return False
        margin = min(300.0, (t.expires_in or 0) / 10)
        return self._clock() >= t.expires_at - margin

    def _renewed(self, requester: Requester) -> Generator[Action, Any, str | None]:
        # Another process sharing the store (or this one before a restart) may have refreshed:
        # its tokens are newer, and the refresh token this one holds may be spent (rotation).
        stored = self.store.load() if self.store is not None else None
        if stored is not None and stored.refresh_token != self._tokens.refresh_token:
            self._tokens = stored
            if stored.access_token and stored.access_token != self._token and not self._expiring(stored):
                return stored.access_token
        t = self._tokens
        form = {
            _F.grant_type: "refresh_token",
            _F.client_id: t.client_id,
            _F.client_secret: t.client_secret,
            _F.refresh_token: t.refresh_token,
        }
        url = operation_url(requester.base_url, ACCESS_TOKEN)
        asked = self._clock()
        try:
            _, _, (raw, _text) = yield from requester.request(url, parse=decode_object, form=form)
        except APIError as exc:
            if exc.status_code in (400, 401):
                raise TokenRefreshError(
                    f"Webex refused the refresh token (HTTP {exc.status_code}: {exc.message}): it has"
                    " expired or was revoked; sign in again (webex-events auth login)",
                    status_code=exc.status_code,
                ) from None
            raise
        access, lifetime = raw.get(_K.access_token), raw.get(_K.expires_in)
        if not isinstance(access, str) or not access or type(lifetime) is not int or lifetime <= 0:
            raise TokenRefreshError("the token endpoint answered without an access_token and expires_in")
        refresh, refresh_life = raw.get(_K.refresh_token), raw.get(_K.refresh_token_expires_in)
        tokens = attrs.evolve(
            t,
            access_token=access,
            expires_at=asked + lifetime,
            expires_in=lifetime,
            refresh_token=refresh if isinstance(refresh, str) and refresh else t.refresh_token,
            refresh_expires_at=asked + refresh_life if type(refresh_life) is int else t.refresh_expires_at,
            scope=raw.get(_K.scope) if isinstance(raw.get(_K.scope), str) else t.scope,
        )
        if self.store is not None:
            self.store.save(tokens)  # before the access token is used: a rotated refresh token is kept
        self._tokens = tokens
        if (
            tokens.refresh_expires_at is not None
            and tokens.refresh_expires_at - asked < REFRESH_WARNING.total_seconds()
        ):
            left = datetime.fromtimestamp(tokens.refresh_expires_at, UTC).isoformat(timespec="seconds")
            logger.warning(
                "the refresh token expires at %s: sign in again before (webex-events auth login)", left
            )
        logger.info("access token refreshed; it expires in %d s", lifetime)
        return access
