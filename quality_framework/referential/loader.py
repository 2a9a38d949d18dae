"""Loading the quality referential from YAML (shipped versions or any file/text) and
from the JSON copy an audit stores.

Shipped versions live in `versions/v<N>.yaml`, one file per version, never edited once
published: a change is a new file. Loaded versions are immutable and cached."""
from __future__ import annotations

import functools
import re
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

import yaml

from .model import Referential, ReferentialError
from .validation import build_referential, validate_referential

__all__ = [
    "ReferentialError",
    "available_versions",
    "from_dict",
    "latest_version",
    "load_referential",
    "load_version",
    "validate_referential",
]

_VERSION_FILE = re.compile(r"^v([1-9][0-9]*)\.ya?ml$")


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key repeated in one mapping (PyYAML silently keeps the
    last one, which would hide an editing mistake such as two `weight:` lines)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"clé « {key} » répétée", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


# The most frequent PyYAML complaints when a referential is edited by hand, in French;
# any other message is shown as PyYAML wrote it.
_PROBLEMS = (
    ("mapping values are not allowed here",
     "« : » inattendu (un texte contenant « : » doit être entre guillemets ?)"),
    ("found character '\\t' that cannot start any token",
     "tabulation interdite : indenter avec des espaces"),
    ("expected <block end>", "indentation incohérente"),
    ("could not find expected ':'", "« : » attendu après la clé"),
    ("found unexpected end of stream", "fin de fichier inattendue (guillemet non fermé ?)"),
    ("expected the node content", "valeur attendue (liste ou crochet non fermé ?)"),
)


def _french_problem(problem: str) -> str:
    for english, french in _PROBLEMS:
        if problem.startswith(english):
            return french
    return problem


def parse_yaml(text: str) -> Any:
    """Parse YAML text; a syntax error becomes a ReferentialError naming line and column."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"ligne {mark.line + 1}, colonne {mark.column + 1}" if mark else "position inconnue"
        problem = _french_problem(exc.problem or exc.context or "erreur de syntaxe")
        raise ReferentialError([f"YAML invalide ({where}) : {problem}"]) from None
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        raise ReferentialError([f"YAML invalide : {exc}"]) from None


def _read_source(source: str | bytes | PathLike) -> str:
    if isinstance(source, bytes):
        try:
            return source.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ReferentialError(["le fichier n'est pas encodé en UTF-8"]) from None
    path: Path | None = None
    if isinstance(source, PathLike):
        path = Path(source)
    elif "\n" not in source and (source.endswith((".yaml", ".yml")) or Path(source).is_file()):
        # A one-line string naming a file is a path; anything else is YAML text.
        path = Path(source)
    if path is None:
        return source
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ReferentialError([f"fichier introuvable : {path}"]) from None
    except UnicodeDecodeError:
        raise ReferentialError([f"le fichier {path.name} n'est pas encodé en UTF-8"]) from None


def load_referential(source: str | bytes | PathLike) -> Referential:
    """Load and validate a referential from a path (Path, or a str naming a .yaml
    file), YAML text or bytes. Raises ReferentialError with every problem found."""
    data = parse_yaml(_read_source(source))
    return from_dict(data)


def from_dict(data: Any) -> Referential:
    """Validate and build from the YAML/JSON shape (e.g. `Referential.to_dict()` stored
    with an audit). Raises ReferentialError with every problem found."""
    errors = validate_referential(data)
    if errors:
        raise ReferentialError(errors)
    return build_referential(data)


def _versions_dir() -> Any:
    return resources.files("quality_framework.referential").joinpath("versions")


def _shipped_files() -> dict[int, Any]:
    found: dict[int, Any] = {}
    for entry in _versions_dir().iterdir():
        match = _VERSION_FILE.match(entry.name)
        if match:
            found[int(match.group(1))] = entry
    return found


def available_versions() -> list[int]:
    """Version numbers shipped with the application, ascending."""
    return sorted(_shipped_files())


def latest_version() -> int:
    return available_versions()[-1]


@functools.lru_cache(maxsize=None)
def load_version(number: int) -> Referential:
    """A shipped version, validated once then cached (the object is immutable)."""
    files = _shipped_files()
    if number not in files:
        listed = ", ".join(str(n) for n in sorted(files)) or "aucune"
        raise ReferentialError([f"version {number} inconnue (versions disponibles : {listed})"])
    entry = files[number]
    try:
        referential = load_referential(entry.read_text(encoding="utf-8"))
    except ReferentialError as exc:
        raise ReferentialError([f"{entry.name} : {e}" for e in exc.errors]) from None
    if referential.version != number:
        raise ReferentialError(
            [f"{entry.name} : le fichier déclare la version {referential.version}, attendu {number}"]
        )
    return referential
