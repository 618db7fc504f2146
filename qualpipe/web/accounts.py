"""Web app accounts on the project store: users with argon2 password hashes, sessions, login throttling, audit log.

Every function takes the store (`qualpipe.store.Store`); the web routes and `qualpipe users` call them, and no
SQL about accounts lives anywhere else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from qualpipe.errors import UserError
from qualpipe.store import utc_now

ROLES = ("coordinator", "evaluator", "admin")
SESSION_HOURS = 8
MIN_PASSWORD = 10
THROTTLE_AFTER = 5  # failed logins within THROTTLE_WINDOW before the next attempt must wait
THROTTLE_WINDOW = dt.timedelta(minutes=15)
FIRST_WAIT = dt.timedelta(seconds=30)  # doubles with every further failure, up to MAX_WAIT
MAX_WAIT = dt.timedelta(minutes=15)

# argon2id with argon2-cffi's defaults (RFC 9106's second recommendation: 64 MiB, 3 passes, 4 lanes)
_hasher = PasswordHasher()
# verified against when the name is unknown, so a wrong name costs as long as a wrong password
_UNKNOWN = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    cases: tuple[str, ...]  # empty: every case
    show_identities: bool
    created_at: str = ""

    def may_see(self, case_id: str | None) -> bool:
        """Admins see every case; a user limited to cases sees those only."""
        return self.role == "admin" or not self.cases or case_id in self.cases

    @property
    def limited(self) -> bool:
        return self.role != "admin" and bool(self.cases)


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    identities: bool  # identities shown now (the user has the grant and switched them on)
    expires_at: str


class LoginRefused(Exception):
    """Wrong name or password (which of the two is never said)."""


class LoginThrottled(Exception):
    """Too many failed logins for this name: the next attempt must wait `seconds`."""

    def __init__(self, seconds: int):
        super().__init__(f"wait {seconds} s")
        self.seconds = seconds


def _user(row) -> User:
    cases = tuple(c for c in row["cases"].split(",") if c)
    return User(row["id"], row["name"], row["role"], cases, bool(row["show_identities"]), row["created_at"])


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password has {len(password)} characters; use at least {MIN_PASSWORD}")


def parse_cases(text: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.strip() for c in (text or "").split(",") if c.strip()))


def add_user(store, name: str, password: str, role: str, *, cases: tuple[str, ...] = (),
             show_identities: bool = False) -> User:
    name = name.strip()
    if not name or len(name) > 64 or any(ch.isspace() for ch in name) or "," in name:
        raise UserError(f"user name {name!r}: use one word of at most 64 characters (e.g. Lene or lene.h)")
    if role not in ROLES:
        raise UserError(f"--role {role}: use one of {', '.join(ROLES)}")
    _check_password(password)
    if store.query("SELECT 1 FROM users WHERE name = ?", (name,)):
        raise UserError(f"user {name} exists already; change the password with 'qualpipe users passwd {name}'")
    now = utc_now()
    with store.transaction() as conn:
        conn.execute("INSERT INTO users (name, password_hash, role, cases, show_identities, created_at, "
                     "password_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (name, _hasher.hash(password), role, ",".join(cases), int(show_identities), now, now))
    return user_named(store, name)


def user_named(store, name: str) -> User:
    rows = store.query("SELECT * FROM users WHERE name = ?", (name,))
    if not rows:
        raise UserError(f"user {name}: no such user; see 'qualpipe users list'")
    return _user(rows[0])


def list_users(store) -> list[User]:
    return [_user(r) for r in store.query("SELECT * FROM users ORDER BY name")]


def remove_user(store, name: str) -> None:
    """Remove a user and end their sessions; what they handled keeps their name."""
    user = user_named(store, name)
    with store.transaction() as conn:
        conn.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
        conn.execute("DELETE FROM users WHERE id = ?", (user.id,))


def set_password(store, name: str, password: str) -> None:
    """A new password; every session of the user ends (log in again)."""
    user = user_named(store, name)
    _check_password(password)
    with store.transaction() as conn:
        conn.execute("UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?",
                     (_hasher.hash(password), utc_now(), user.id))
        conn.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
        conn.execute("DELETE FROM login_failures WHERE name = ?", (name,))


def set_access(store, name: str, *, show_identities: bool | None = None, cases: tuple[str, ...] | None = None) -> User:
    """Grant or withdraw "show identities", or change the cases a user is limited to."""
    user = user_named(store, name)
    with store.transaction() as conn:
        if show_identities is not None:
            conn.execute("UPDATE users SET show_identities = ? WHERE id = ?", (int(show_identities), user.id))
            if not show_identities:
                conn.execute("UPDATE sessions SET identities = 0 WHERE user_id = ?", (user.id,))
        if cases is not None:
            conn.execute("UPDATE users SET cases = ? WHERE id = ?", (",".join(cases), user.id))
    return user_named(store, name)


def _wait(store, name: str, now: dt.datetime) -> int:
    """Seconds the next login for `name` must wait (0: none)."""
    since = (now - THROTTLE_WINDOW).isoformat(timespec="microseconds")
    rows = store.query("SELECT failed_at FROM login_failures WHERE name = ? AND failed_at > ? ORDER BY failed_at",
                       (name, since))
    if len(rows) < THROTTLE_AFTER:
        return 0
    wait = min(FIRST_WAIT * 2 ** (len(rows) - THROTTLE_AFTER), MAX_WAIT)
    until = dt.datetime.fromisoformat(rows[-1]["failed_at"]) + wait
    return max(0, int((until - now).total_seconds() + 0.999))


def authenticate(store, name: str, password: str) -> User:
    """The user, if name and password match. Raises LoginThrottled while the name has too many recent
    failures (the password is then not even checked), LoginRefused otherwise."""
    name = name.strip()
    now = dt.datetime.now(dt.timezone.utc)
    wait = _wait(store, name, now)
    if wait:
        raise LoginThrottled(wait)
    rows = store.query("SELECT * FROM users WHERE name = ?", (name,))
    try:
        _hasher.verify(rows[0]["password_hash"] if rows else _UNKNOWN, password)
        ok = bool(rows)
    except (VerificationError, InvalidHashError):
        ok = False
    with store.transaction() as conn:
        if not ok:
            conn.execute("INSERT INTO login_failures (name, failed_at) VALUES (?, ?)", (name[:64], utc_now()))
            conn.execute("DELETE FROM login_failures WHERE failed_at < ?",
                         ((now - dt.timedelta(days=1)).isoformat(timespec="microseconds"),))
        else:
            conn.execute("DELETE FROM login_failures WHERE name = ?", (name,))
            if _hasher.check_needs_rehash(rows[0]["password_hash"]):
                conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (_hasher.hash(password), rows[0]["id"]))
    if not ok:
        raise LoginRefused()
    return _user(rows[0])


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def create_session(store, user: User, hours: float = SESSION_HOURS) -> tuple[str, Session]:
    """A new session for `user`: returns the cookie token (only its hash is stored) and the session."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.timezone.utc)
    expires = (now + dt.timedelta(hours=hours)).isoformat(timespec="microseconds")
    with store.transaction() as conn:
        conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now.isoformat(timespec="microseconds"),))
        conn.execute("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) "
                     "VALUES (?, ?, ?, ?, ?)", (_token_hash(token), user.id, csrf, utc_now(), expires))
    return token, Session(user, csrf, False, expires)


def session_for(store, token: str | None) -> Session | None:
    """The live session of a cookie token, or None (no token, unknown, or expired)."""
    if not token:
        return None
    rows = store.query("SELECT u.*, s.csrf_token, s.identities, s.expires_at FROM sessions s JOIN users u "
                       "ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?",
                       (_token_hash(token), utc_now()))
    if not rows:
        return None
    user = _user(rows[0])
    return Session(user, rows[0]["csrf_token"], bool(rows[0]["identities"]) and user.show_identities,
                   rows[0]["expires_at"])


def end_session(store, token: str | None) -> None:
    if token:
        with store.transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))


def show_identities(store, token: str, on: bool) -> None:
    """Switch identities on or off for a session; only a user with the grant can switch them on."""
    with store.transaction() as conn:
        conn.execute("UPDATE sessions SET identities = ? WHERE token_hash = ? AND user_id IN "
                     "(SELECT id FROM users WHERE show_identities = 1 OR ? = 0)",
                     (int(on), _token_hash(token), int(on)))


def record_identity_views(store, user: User, page: str, case_ids) -> None:
    """The audit log: one row per case shown with identities on a page (one row without a case if none)."""
    now = utc_now()
    cases = sorted({c for c in case_ids if c}) or [None]
    with store.transaction() as conn:
        conn.executemany("INSERT INTO identity_views (user_name, viewed_at, page, case_id) VALUES (?, ?, ?, ?)",
                         [(user.name, now, page, c) for c in cases])


def identity_views(store, limit: int = 200) -> list:
    return store.query("SELECT user_name, viewed_at, page, case_id FROM identity_views ORDER BY id DESC LIMIT ?",
                       (limit,))
