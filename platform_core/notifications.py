"""Notifications to users (in the platform and by e-mail).

    notify(users, subject, body, link=None, key=None)

`key` makes a notification idempotent: a (user, key) pair is notified once, so a job
run twice sends nothing twice. The scheduler/notifications issue implements storage,
the header counter and e-mail delivery; until then notifications are only logged."""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def notify(users, subject: str, body: str, link: str | None = None, key: str | None = None) -> int:
    """Returns the number of notifications created (0 when already sent for `key`)."""
    for user in users:
        log.info("notification pour %s : %s", getattr(user, "email", user), subject)
    return 0
