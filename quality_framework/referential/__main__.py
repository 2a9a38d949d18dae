"""`python -m quality_framework.referential [FILE…]`: validate referential files
(YAML, or xlsx exports), or every shipped version when no file is given. Exit status 1
if any is invalid; messages in French, one per line."""
from __future__ import annotations

import sys
from pathlib import Path

from .loader import available_versions, load_referential, load_version
from .model import Referential, ReferentialError
from .xlsx import import_referential_xlsx


def _check(name: str, load) -> bool:
    try:
        ref: Referential = load()
    except ReferentialError as exc:
        print(f"{name} : invalide")
        for error in exc.errors:
            print(f"  - {error}")
        return False
    print(f"{name} : version {ref.version} valide ({len(ref.axes())} axes, {len(ref.leaves())} indicateurs)")
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    results = []
    if not args:
        for number in available_versions():
            results.append(_check(f"v{number}", lambda n=number: load_version(n)))
    for arg in args:
        path = Path(arg)
        if path.suffix.lower() == ".xlsx":
            results.append(_check(arg, lambda p=path: import_referential_xlsx(p.read_bytes(), 1)))
        else:
            results.append(_check(arg, lambda p=path: load_referential(p)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
