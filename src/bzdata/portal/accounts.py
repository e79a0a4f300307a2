"""Department accounts and sessions, kept outside the snapshot so they survive every switch.

    <work>/portal/accounts.sqlite    users (argon2 hashes), sessions (token hashes), failures
    <work>/portal/secret.key         HMAC key for CSRF tokens, generated on first run, mode 0600

Session tokens are random; only their SHA-256 is stored, so a copy of the file opens no session.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

SESSION_SECONDS = 8 * 3600
MAX_FAILURES = 5  # failed logins per user (or client) within FAILURE_WINDOW before a lock-out
FAILURE_WINDOW = 15 * 60
ADMIN = "admin"  # the department code of platform administrators

_SCHEMA = """
create table if not exists users (
    username text primary key, department text not null, hash text not null,
    disabled integer not null default 0, created real not null
);
create table if not exists sessions (
    token_hash text primary key, username text not null, expires real not null
);
create table if not exists failures (subject text not null, at real not null);
create index if not exists failures_subject on failures(subject, at);
"""

_hasher = PasswordHasher()


class AccountError(ValueError):
    """A refused account operation; the message is for people (Chinese)."""


@dataclass(frozen=True)
class User:
    username: str
    department: str

    @property
    def is_admin(self) -> bool:
        return self.department == ADMIN


def portal_dir(work_dir: Path | str) -> Path:
    path = Path(work_dir) / "portal"
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(work_dir: Path | str) -> bytes:
    """The work folder's key, created with mode 0600 on first use (never in the repository).

    Written whole under a temporary name and linked into place, so processes starting together
    (`serve --workers`) all read the one key, never a half-written file."""
    path = portal_dir(work_dir) / "secret.key"
    if not path.is_file():
        tmp = path.with_name(f".secret.key-{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)  # the first process's key wins
        finally:
            tmp.unlink()
    return path.read_bytes()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """The account store of one work folder (thread-safe: one connection per call)."""

    def __init__(self, work_dir: Path | str, *, clock=time.time) -> None:
        self.path = portal_dir(work_dir) / "accounts.sqlite"
        self.clock = clock
        with self._db() as con:
            con.executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5)

    # --- administration -------------------------------------------------------------------

    def add(self, username: str, department: str, password: str) -> User:
        if len(password) < 10:
            raise AccountError("密码至少 10 个字符")
        if not username.isascii() or not username.replace("_", "").isalnum():
            raise AccountError("用户名只能包含字母、数字和下划线")
        with self._db() as con:
            try:
                con.execute(
                    "insert into users values (?, ?, ?, 0, ?)",
                    (username, department, _hasher.hash(password), self.clock()),
                )
            except sqlite3.IntegrityError:
                raise AccountError(f"用户 {username} 已存在") from None
        return User(username, department)

    def disable(self, username: str) -> None:
        with self._db() as con:
            if (
                con.execute(
                    "update users set disabled = 1 where username = ?", (username,)
                ).rowcount
                == 0
            ):
                raise AccountError(f"没有用户 {username}")
            con.execute("delete from sessions where username = ?", (username,))

    # --- login and sessions ---------------------------------------------------------------

    def throttled(self, *subjects: str) -> bool:
        since = self.clock() - FAILURE_WINDOW
        with self._db() as con:
            for subject in subjects:
                (n,) = con.execute(
                    "select count(*) from failures where subject = ? and at > ?", (subject, since)
                ).fetchone()
                if n >= MAX_FAILURES:
                    return True
        return False

    def login(self, username: str, password: str, client: str) -> str | None:
        """A new session token, or None (wrong password, disabled user or throttled)."""
        subjects = (f"user:{username}", f"client:{client}")
        if self.throttled(*subjects):
            return None
        with self._db() as con:
            row = con.execute(
                "select hash, disabled from users where username = ?", (username,)
            ).fetchone()
            ok = False
            if row is not None:
                try:
                    ok = _hasher.verify(row[0], password) and not row[1]
                except (VerificationError, InvalidHashError):
                    ok = False
            else:
                _hasher.hash(password)  # same cost whether or not the user exists
            now = self.clock()
            if not ok:
                con.executemany("insert into failures values (?, ?)", [(s, now) for s in subjects])
                return None
            token = secrets.token_urlsafe(32)
            con.execute(
                "insert into sessions values (?, ?, ?)",
                (_digest(token), username, now + SESSION_SECONDS),
            )
            con.execute("delete from sessions where expires < ?", (now,))
            return token

    def user(self, token: str | None) -> User | None:
        if not token:
            return None
        with self._db() as con:
            row = con.execute(
                "select u.username, u.department from sessions s join users u "
                "on u.username = s.username where s.token_hash = ? and s.expires > ? "
                "and u.disabled = 0",
                (_digest(token), self.clock()),
            ).fetchone()
        return User(*row) if row else None

    def logout(self, token: str | None) -> None:
        if token:
            with self._db() as con:
                con.execute("delete from sessions where token_hash = ?", (_digest(token),))


def csrf_token(key: bytes, binding: str) -> str:
    """The form token for a browser's CSRF cookie value (HMAC, so it cannot be forged)."""
    return hmac.new(key, binding.encode(), hashlib.sha256).hexdigest()


def csrf_ok(key: bytes, binding: str | None, token: str | None) -> bool:
    if not binding or not token:
        return False
    return hmac.compare_digest(csrf_token(key, binding), token)
