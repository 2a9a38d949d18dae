"""The journal: every state change appends one entry, through `record` only."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import event, or_, select

from .clock import now
from .extensions import db
from .models import JournalEntry, User


class JournalIsAppendOnly(RuntimeError):
    pass


def _actor(actor: User | None) -> tuple[int | None, str]:
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    if actor is None:
        return None, "système"
    return actor.id, f"{actor.full_name} <{actor.email}>"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def record(
    action: str,
    object_type: str,
    object_id: Any,
    summary: str = "",
    *,
    before: dict | None = None,
    after: dict | None = None,
    actor: User | None = None,
    sealed_until: datetime | None = None,
) -> JournalEntry:
    """Append an entry in the current transaction, so it commits (or rolls back)
    together with the change it describes."""
    actor_id, label = _actor(actor)
    entry = JournalEntry(
        at=now(),
        actor_id=actor_id,
        actor_label=label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary,
        before=_jsonable(before),
        after=_jsonable(after),
        sealed_until=sealed_until,
    )
    db.session.add(entry)
    return entry


def visible_entries_query(at: datetime | None = None):
    """Entries anyone may read now: sealed ones stay hidden until their deadline."""
    at = at or now()
    return select(JournalEntry).where(
        or_(JournalEntry.sealed_until.is_(None), JournalEntry.sealed_until <= at)
    )


@event.listens_for(JournalEntry, "before_update")
def _refuse_update(mapper, connection, target):
    raise JournalIsAppendOnly("Le journal ne peut pas être modifié.")


@event.listens_for(JournalEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise JournalIsAppendOnly("Le journal ne peut pas être effacé.")
