"""What every page needs from the domains: navigation entries and the items each
domain puts on a user's dashboard. Domains register here; the layout reads."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import url_for


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset[str]
    order: int = 50


@dataclass
class Attention:
    """One thing that needs the user's attention on their dashboard."""

    title: str
    detail: str
    url: str | None = None
    level: str = "info"  # info | warning | error | success (DSFR alert types)
    count: int | None = None


_nav: list[NavItem] = []
_dashboard_providers: list[Callable] = []


def register_nav(label: str, endpoint: str, roles, order: int = 50) -> None:
    if not any(n.endpoint == endpoint for n in _nav):
        _nav.append(NavItem(label, endpoint, frozenset(roles), order))


def nav_for(user) -> list[dict]:
    if not user.is_authenticated:
        return []
    items = sorted((n for n in _nav if n.roles & user.role_set), key=lambda n: n.order)
    return [{"label": n.label, "url": url_for(n.endpoint), "endpoint": n.endpoint} for n in items]


def register_dashboard(provider: Callable) -> Callable:
    """provider(user) -> list[Attention]; registered once per domain."""
    if provider not in _dashboard_providers:
        _dashboard_providers.append(provider)
    return provider


def dashboard_for(user) -> list[Attention]:
    items: list[Attention] = []
    for provider in _dashboard_providers:
        items.extend(provider(user) or [])
    return items
