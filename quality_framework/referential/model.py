"""Immutable objects of a loaded quality referential.

Frozen dataclasses and tuples: a loaded version can be cached and shared between
requests without anyone mutating it, and two loads of the same content compare equal."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterator


class ReferentialError(ValueError):
    """Every problem found in a referential, collected at once (French messages)."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors) or "référentiel invalide")


@dataclass(frozen=True)
class Node:
    """One node of the tree: an axis (root) or an indicator (leaf, the only rated kind).

    `weight` is None for an axis: only leaves are rated, an axis weighs the sum of its
    leaves (see `total_weight`). `children` holds the child nodes in document order."""

    id: str
    parent_id: str | None
    title: str
    requirement: str
    evidence: str
    weight: float | None
    links: tuple[str, ...] = ()
    children: tuple["Node", ...] = ()

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def iter_leaves(self) -> Iterator["Node"]:
        if self.is_leaf:
            yield self
            return
        for child in self.children:
            yield from child.iter_leaves()

    @property
    def total_weight(self) -> float:
        return sum(leaf.weight or 0 for leaf in self.iter_leaves())

    def to_dict(self) -> dict[str, Any]:
        """Flat form (children are listed as separate nodes pointing to their parent)."""
        data: dict[str, Any] = {
            "id": self.id,
            "parent": self.parent_id,
            "title": self.title,
            "requirement": self.requirement,
            "evidence": self.evidence,
        }
        if self.weight is not None:
            data["weight"] = self.weight
        data["links"] = list(self.links)
        return data


@dataclass(frozen=True)
class Referential:
    """A whole version. `nodes` lists every node in pre-order (axis, its leaves, next
    axis…), which is also the order of exports and reports."""

    version: int
    label: str
    published_on: date
    nodes: tuple[Node, ...]
    source: str = ""
    description: str = ""
    _by_id: dict[str, Node] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {n.id: n for n in self.nodes})

    def axes(self) -> list[Node]:
        return [n for n in self.nodes if n.parent_id is None]

    def leaves(self) -> list[Node]:
        return [n for n in self.nodes if n.is_leaf]

    def node(self, node_id: str) -> Node:
        try:
            return self._by_id[node_id]
        except KeyError:
            raise KeyError(f"nœud « {node_id} » absent de la version {self.version}") from None

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._by_id

    def axis_of(self, node_id: str) -> Node:
        """The root axis a node belongs to (itself for an axis)."""
        current = self.node(node_id)
        while current.parent_id is not None:
            current = self._by_id[current.parent_id]
        return current

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable full content, same shape as the YAML files: what an audit
        stores so that it keeps the exact version it used. `from_dict` reads it back."""
        return {
            "version": self.version,
            "label": self.label,
            "published_on": self.published_on.isoformat(),
            "source": self.source,
            "description": self.description,
            "nodes": [n.to_dict() for n in self.nodes],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Referential":
        from .loader import from_dict  # the validator lives in the loader layer

        return from_dict(data)

    def fingerprint(self) -> str:
        """sha256 of the canonical JSON content: lets the app tell whether a stored copy
        is identical to a shipped version."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
