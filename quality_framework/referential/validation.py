"""Validation of a referential's raw content (parsed YAML, stored JSON or an imported
workbook), every problem reported at once in French, then construction of the
immutable `Referential`.

The same checks serve every source; only the way a node or a field is named in the
messages changes (« nœud « A1 » » for YAML and JSON, « ligne 7 » for a workbook), through
`Labels`."""
from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from quality_framework.catalog import link_names

from .model import Node, Referential

META_REQUIRED = ("version", "label", "published_on", "nodes")
META_OPTIONAL = ("source", "description")
NODE_FIELDS = ("id", "parent", "title", "requirement", "evidence", "weight", "links")
NODE_TEXTS = ("title", "requirement", "evidence")

# Upper-case letter then upper-case letters, digits or . _ - : stable, URL- and
# spreadsheet-safe ids such as « A », « A1 », « C-2 ».
ID_PATTERN = re.compile(r"^[A-Z](?:[A-Z0-9_.-]{0,18}[A-Z0-9])?$")
MAX_TEXT = {"title": 200, "requirement": 2000, "evidence": 2000}
MAX_META_TEXT = 2000
MAX_NODES = 500
# Axes group indicators, indicators are rated: two levels, as in the spec and the
# report / heat-map layouts that rely on it.
MAX_DEPTH = 2


@dataclass(frozen=True)
class Labels:
    """How messages name things, depending on where the content came from."""

    position: Callable[[int], str]  # node at index i, by position (« nœud n° 3 », « ligne 4 »)
    field: Callable[[str], str]  # a node field (« « title » », « « titre » »)
    meta: Callable[[str], str]  # a metadata key
    by_id: bool = True  # name a node by its id when it has a valid one


YAML_LABELS = Labels(
    position=lambda i: f"nœud n° {i + 1}",
    field=lambda key: f"« {key} »",
    meta=lambda key: f"« {key} »",
)


def show(value: Any) -> str:
    """A found value as quoted in messages: "-1", "deux", "1.5"."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if len(text) > 60:
        text = text[:57] + "…"
    return f'"{text}"'


def parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                pass
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_referential(data: Any, labels: Labels = YAML_LABELS) -> list[str]:
    """Every problem of `data` (the YAML/JSON shape), as French messages; [] if valid."""
    if not isinstance(data, Mapping):
        return [
            "le référentiel doit être un dictionnaire avec les clés "
            "version, label, published_on et nodes"
        ]
    errors = _meta_errors(data, labels)
    nodes = data.get("nodes")
    if nodes is None:
        return errors
    if not isinstance(nodes, list):
        return errors + [f"{labels.meta('nodes')} doit être une liste de nœuds"]
    if not nodes:
        return errors + ["le référentiel doit contenir au moins un indicateur noté"]
    if len(nodes) > MAX_NODES:
        return errors + [f"trop de nœuds ({len(nodes)}, {MAX_NODES} au plus)"]
    return errors + _node_errors(nodes, labels)


def _meta_errors(data: Mapping, labels: Labels) -> list[str]:
    errors: list[str] = []
    for key in data:
        if key not in META_REQUIRED + META_OPTIONAL:
            errors.append(f"clé inconnue dans les métadonnées : « {key} »")
    for key in META_REQUIRED:
        if _blank(data.get(key)):
            what = "clé obligatoire" if key == "nodes" else "métadonnée obligatoire"
            errors.append(f"{what} {labels.meta(key)} manquante")
    version = data.get("version")
    if version is not None and not (
        _is_number(version) and math.isfinite(version) and version == int(version) and version >= 1
    ):
        errors.append(f"{labels.meta('version')} doit être un entier ≥ 1, trouvé {show(version)}")
    published = data.get("published_on")
    if not _blank(published) and parse_date(published) is None:
        errors.append(
            f"{labels.meta('published_on')} doit être une date AAAA-MM-JJ, trouvé {show(published)}"
        )
    for key in ("label",) + META_OPTIONAL:
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            errors.append(f"{labels.meta(key)} doit être un texte, trouvé {show(value)}")
        elif len(value) > MAX_META_TEXT:
            errors.append(
                f"{labels.meta(key)} trop long ({len(value)} caractères, {MAX_META_TEXT} au plus)"
            )
    return errors


def _node_errors(nodes: list, labels: Labels) -> list[str]:
    errors: list[str] = []
    names = link_names()

    def name(i: int) -> str:
        node_id = nodes[i].get("id") if isinstance(nodes[i], Mapping) else None
        if labels.by_id and isinstance(node_id, str) and ID_PATTERN.match(node_id):
            return f"nœud « {node_id} »"
        return labels.position(i)

    # First pass: ids, so that parents and leaves can be resolved afterwards.
    first_seen: dict[str, int] = {}
    for i, raw in enumerate(nodes):
        if not isinstance(raw, Mapping):
            errors.append(f"{labels.position(i)} : un nœud doit être un dictionnaire de champs")
            continue
        node_id = raw.get("id")
        if _blank(node_id):
            errors.append(f"{labels.position(i)} : champ obligatoire {labels.field('id')} manquant")
        elif not isinstance(node_id, str) or not ID_PATTERN.match(node_id):
            errors.append(
                f"{labels.position(i)} : identifiant {show(node_id)} invalide (une majuscule "
                "suivie de majuscules, chiffres, « . », « _ » ou « - », 20 caractères au plus, "
                "par ex. « A1 »)"
            )
        elif node_id in first_seen:
            errors.append(
                f"identifiant « {node_id} » en double : "
                f"{labels.position(first_seen[node_id])} et {labels.position(i)}"
            )
        else:
            first_seen[node_id] = i

    parent_of: dict[str, str | None] = {}
    for node_id, i in first_seen.items():
        parent = nodes[i].get("parent")
        parent_of[node_id] = None if _blank(parent) else parent
    has_children = {p for p in parent_of.values() if p is not None}

    for i, raw in enumerate(nodes):
        if not isinstance(raw, Mapping):
            continue
        where = name(i)
        for key in raw:
            if key not in NODE_FIELDS:
                errors.append(f"{where} : champ inconnu « {key} »")
        for key in NODE_TEXTS:
            value = raw.get(key)
            if _blank(value):
                errors.append(f"{where} : champ obligatoire {labels.field(key)} manquant")
            elif not isinstance(value, str):
                errors.append(f"{where} : {labels.field(key)} doit être un texte, trouvé {show(value)}")
            elif len(value.strip()) > MAX_TEXT[key]:
                errors.append(
                    f"{where} : {labels.field(key)} trop long "
                    f"({len(value.strip())} caractères, {MAX_TEXT[key]} au plus)"
                )
        node_id = raw.get("id")
        own = first_seen.get(node_id) == i if isinstance(node_id, str) else False
        errors += _parent_errors(raw, where, labels, parent_of if own else None)
        # A root is an axis even when it (wrongly) has no indicator: reported below.
        is_leaf = own and node_id not in has_children and parent_of[node_id] is not None
        errors += _weight_errors(raw.get("weight"), where, labels, is_leaf=is_leaf, known=own)
        errors += _link_errors(raw.get("links"), where, labels, names)
        if own and parent_of[node_id] is None and node_id not in has_children:
            errors.append(f"{where} : un axe doit regrouper au moins un indicateur")

    errors += _cycle_errors(parent_of)
    return errors


def _parent_errors(raw: Mapping, where: str, labels: Labels, parent_of: dict | None) -> list[str]:
    parent = raw.get("parent")
    if _blank(parent):
        return []
    if not isinstance(parent, str):
        return [f"{where} : {labels.field('parent')} doit être un identifiant, trouvé {show(parent)}"]
    if parent == raw.get("id"):
        return [f"{where} : un nœud ne peut pas être son propre parent"]
    if parent_of is None:
        return []
    if parent not in parent_of:
        return [f"{where} : parent « {parent} » inexistant"]
    grand_parent = parent_of[parent]
    depth = 2 if grand_parent is None else 3
    if depth > MAX_DEPTH and grand_parent != raw.get("id"):
        return [
            f"{where} : profondeur maximale dépassée (le parent « {parent} » est déjà "
            "un indicateur ; le référentiel a deux niveaux : axes et indicateurs)"
        ]
    return []


def _weight_errors(weight: Any, where: str, labels: Labels, *, is_leaf: bool, known: bool) -> list[str]:
    if _blank(weight):
        if is_leaf:
            return [
                f"{where} : champ obligatoire {labels.field('weight')} manquant "
                "(chaque indicateur noté doit avoir un poids)"
            ]
        return []
    if known and not is_leaf:
        return [
            f"{where} : un axe ne porte pas de poids (seuls les indicateurs sont notés ; "
            "un axe pèse la somme de ses indicateurs)"
        ]
    if not _is_number(weight) or not math.isfinite(weight):
        return [f"{where} : poids attendu : un nombre > 0, trouvé {show(weight)}"]
    if weight <= 0:
        return [f"{where} : poids attendu > 0, trouvé {show(weight)}"]
    return []


def _link_errors(links: Any, where: str, labels: Labels, names: frozenset[str]) -> list[str]:
    if links is None:
        return []
    if not isinstance(links, list) or not all(isinstance(x, str) for x in links):
        return [f"{where} : {labels.field('links')} doit être une liste de noms d'indicateurs"]
    errors: list[str] = []
    seen: set[str] = set()
    for link in links:
        if link in seen:
            errors.append(f"{where} : indicateur lié « {link} » cité deux fois")
        seen.add(link)
        if link not in names:
            close = difflib.get_close_matches(link, sorted(names), n=1, cutoff=0.8)
            hint = f" (vouliez-vous dire « {close[0]} » ?)" if close else ""
            errors.append(f"{where} : indicateur lié inconnu « {link} »{hint}")
    return errors


def _cycle_errors(parent_of: dict[str, str | None]) -> list[str]:
    errors: list[str] = []
    reported: set[str] = set()
    for start in parent_of:
        path: list[str] = []
        current: str | None = start
        while current is not None and current in parent_of and current not in path:
            path.append(current)
            current = parent_of[current]
        if current is not None and current in path:
            cycle = path[path.index(current):]
            if not reported.intersection(cycle):
                reported.update(cycle)
                listed = ", ".join(f"« {c} »" for c in cycle)
                errors.append(f"cycle de parents entre les nœuds {listed}")
    return errors


def _number(value: float) -> float:
    # 1 and 1.0 are the same weight: keep one form so that JSON and fingerprints agree.
    return int(value) if float(value).is_integer() else float(value)


def build_referential(data: Mapping[str, Any]) -> Referential:
    """Build from content that `validate_referential` accepted (no checks here)."""
    raw_nodes = data["nodes"]
    children_of: dict[str | None, list[Mapping]] = {}
    for raw in raw_nodes:
        parent = None if _blank(raw.get("parent")) else raw["parent"]
        children_of.setdefault(parent, []).append(raw)

    def make(raw: Mapping) -> Node:
        kids = tuple(make(child) for child in children_of.get(raw["id"], []))
        weight = raw.get("weight")
        return Node(
            id=raw["id"],
            parent_id=None if _blank(raw.get("parent")) else raw["parent"],
            title=raw["title"].strip(),
            requirement=raw["requirement"].strip(),
            evidence=raw["evidence"].strip(),
            weight=None if kids or _blank(weight) else _number(weight),
            links=tuple(raw.get("links") or ()),
            children=kids,
        )

    def flatten(node: Node) -> list[Node]:
        return [node] + [n for child in node.children for n in flatten(child)]

    roots = [make(raw) for raw in children_of.get(None, [])]
    return Referential(
        version=int(data["version"]),
        label=data["label"].strip(),
        published_on=parse_date(data["published_on"]),  # type: ignore[arg-type]
        nodes=tuple(n for root in roots for n in flatten(root)),
        source=(data.get("source") or "").strip(),
        description=(data.get("description") or "").strip(),
    )
