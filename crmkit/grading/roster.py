"""A class: its roster, the course secret, and each student's data seed.

The roster is a CSV file with one line per student: an ``id`` (what the
course platform calls the student, e.g. their SIS or ID number), a ``name``
and a ``language`` (``en`` or ``es``); an ``email`` column is optional.

Each student's shop is generated from a seed derived from their id and a
*course secret* the instructor keeps (HMAC-SHA256): the same id always gives
the same data, ids give different data, and without the secret nobody can
work out which seed belongs to which id.

>>> secret = b"course secret, kept by the instructor"
>>> student_seed(secret, "s001") == student_seed(secret, "s001")
True
>>> student_seed(secret, "s001") != student_seed(secret, "s002")
True
>>> student_seed(b"another course", "s001") != student_seed(secret, "s001")
True
>>> 0 <= student_seed(secret, "s001") < 2**32
True
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import CRMKitError
from ..i18n import LANGS

__all__ = ["Student", "RosterError", "read_roster", "student_seed", "course_secret",
           "SECRET_FILE"]

#: Default file holding the course secret (on the instructor's computer, never handed out).
SECRET_FILE = "course_secret.txt"

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_COLUMNS = {"id": ("id", "student_id", "student id", "sis user id", "id number"),
            "name": ("name", "student", "full name"),
            "language": ("language", "lang", "idioma"),
            "email": ("email", "email address", "e-mail")}


class RosterError(CRMKitError, ValueError):
    """The roster or the course secret cannot be used as given."""


@dataclass(frozen=True)
class Student:
    """One student of the roster."""

    id: str
    name: str
    lang: str
    email: str = ""


def _header(fields: Sequence[str], path: Path) -> dict[str, str]:
    found = {}
    lowered = {f.strip().casefold(): f for f in fields if f}
    for role, names in _COLUMNS.items():
        hit = next((lowered[n] for n in names if n in lowered), None)
        if hit is not None:
            found[role] = hit
    missing = [r for r in ("id", "name", "language") if r not in found]
    if missing:
        raise RosterError(f"{path}, line 1: the roster has no {', '.join(missing)} column; "
                          "its header must name the columns id, name and language (email "
                          "optional), e.g. `id,name,language`.")
    return found


def read_roster(path: str | Path) -> list[Student]:
    """The students of the roster file ``path``, in its order.

    A bad line is refused with the file, its 1-based line, the column and how
    to fix it (:class:`RosterError`).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError(f"roster {path} does not exist; write a CSV with the columns id, "
                          "name, language.") from None
    except UnicodeDecodeError:
        raise RosterError(f"{path} is not UTF-8 text; save the roster as CSV UTF-8.") from None
    rows = csv.DictReader(text.splitlines())
    cols = _header(rows.fieldnames or [], path)
    students: list[Student] = []
    seen: dict[str, int] = {}  # id -> the line it was first given on

    for line, row in enumerate(rows, start=2):
        sid = (row.get(cols["id"]) or "").strip()
        name = (row.get(cols["name"]) or "").strip()
        lang = (row.get(cols["language"]) or "").strip().casefold()
        where = f"{path}, line {line}"
        if not any((sid, name, lang)):
            continue
        if not _ID.match(sid):
            raise RosterError(f"{where}, column {cols['id']}: {sid!r} is not a usable id; use "
                              "letters, digits, '.', '_', '@' or '-' (at most 64), starting "
                              "with a letter or digit.")
        if sid in seen:
            raise RosterError(f"{where}, column {cols['id']}: id {sid!r} is already on line "
                              f"{seen[sid]}; each student needs their own id.")
        if lang not in LANGS:
            raise RosterError(f"{where}, column {cols['language']}: {lang!r} is not a course "
                              f"language; write one of: {', '.join(LANGS)}.")
        if not name:
            raise RosterError(f"{where}, column {cols['name']}: the name is empty; write the "
                              "student's name.")
        seen[sid] = line
        email = (row.get(cols["email"]) or "").strip() if "email" in cols else ""
        students.append(Student(sid, name, lang, email))
    if not students:
        raise RosterError(f"{path}: the roster lists no student; add one line per student "
                          "under the header id,name,language.")
    return students


def student_seed(secret: bytes, student_id: str) -> int:
    """The data seed of ``student_id``: HMAC-SHA256 of the id under the course secret."""
    digest = hmac.new(secret, student_id.encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big")


def course_secret(path: str | Path, *, create: bool = False) -> bytes:
    """The course secret kept in ``path``; with ``create``, a new one is made if missing.

    The file is created readable by its owner only. Losing it means the
    students' data can no longer be recomputed: keep a copy.
    """
    path = Path(path)
    if path.exists():
        secret = path.read_text(encoding="utf-8").strip()
        if len(secret) < 16:
            raise RosterError(f"{path} holds no usable course secret (at least 16 "
                              "characters); restore it from your copy.")
        return secret.encode("utf-8")
    if not create:
        raise RosterError(f"course secret {path} does not exist; give the file `crmkit "
                          "assign` created with --secret (without it the students' data "
                          "cannot be recomputed).")
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret + "\n")
    return secret.encode("utf-8")
