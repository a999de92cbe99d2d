"""Console users: a role and, below the district, the center whose subtree they work in."""

from __future__ import annotations

import datetime as dt

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CheckConstraint, ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.center import Center
from models.enums import Role, check_in, label
from models.time import utcnow

# argon2id with the library's current RFC 9106 low-memory defaults (64 MiB, t=3).
_hasher = PasswordHasher()


class User(db.Model):
    __tablename__ = "user"
    __table_args__ = (CheckConstraint(check_in("role", Role), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    full_name: Mapped[str] = mapped_column(String(32), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), index=True)
    center_id: Mapped[int | None] = mapped_column(ForeignKey("center.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    # Bumped on logout, password change or deactivation: older session cookies stop working.
    session_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The edit form's version. Not the mapper's version counter: logins update the failure
    # counters of this row, and a login must never fail on an admin's concurrent edit.
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))

    center: Mapped[Center | None] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = _hasher.hash(password)

    def check_password(self, password: str) -> bool:
        try:
            return _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    # Flask-Login's user protocol, written out instead of inherited from its UserMixin so that
    # models/ imports no web framework (lifecycle/ and workers use User without one).
    __hash__ = object.__hash__

    @property
    def is_active(self) -> bool:  # Flask-Login consults this on every request
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return self.is_active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    def __eq__(self, other: object) -> bool:
        # As UserMixin compared: the same account in the same session epoch.
        if isinstance(other, User):
            return self.get_id() == other.get_id()
        return NotImplemented

    @property
    def role_label(self) -> str:
        return label(Role(self.role))

    def __str__(self) -> str:
        return self.full_name or self.username
