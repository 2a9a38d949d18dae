"""Where the check of one workbook spends its time, stage by stage, against the bare read;
and whether calamine's XML parse lets Python run meanwhile (it releases the GIL).

    .venv/bin/python bench/workbook_stages.py [--rows 200000] [--cache DIR] [--repeat 2]

Uses the workbook of bench/workbook_import.py (same cache, same generator, generated once
if missing). Each stage calls the platform's own functions (reader.py, validator.py) in
the order `service.check` runs them; the sum is the check, minus the database query for
the operator's regions. The figures show how much of the 1.5 × budget the check uses before
any write (bench/workbook_import_notes.md): all of it is CPU work in the web process, which
no overlap with PostgreSQL can hide. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.workbook_import import REGION, SIRET, YEAR, workbook  # noqa: E402


REFERENCE = "référence : pandas.read_excel(calamine), feuille Beneficiaires"
INSPECT = "contrôle de l'archive et de l'étendue (_inspect_zip)"
READ = "lecture de toutes les feuilles (_read_grids : les trois lignes ci-dessus, pour chaque feuille)"
VALIDATE = "validation complète (validate_workbook, mise en texte comprise)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "cep-bench-workbooks"))
    parser.add_argument("--repeat", type=int, default=2,
                        help="rounds; the best time of each stage is kept (the first round "
                             "also pays lazy imports)")
    args = parser.parse_args(argv)
    data = workbook(args.rows, Path(args.cache)).read_bytes()
    timings: dict[str, float] = {}

    def timed(name, fn, *a, **kw):
        start = time.perf_counter()
        out = fn(*a, **kw)
        elapsed = time.perf_counter() - start
        timings[name] = min(elapsed, timings.get(name, elapsed))
        return out

    for _ in range(args.repeat):
        result = _stages(data, timed)
    if not result.valid:
        print("classeur de mesure invalide :", result.errors[:3], file=sys.stderr)
        return 1
    reference = timings[REFERENCE]
    print(f"{args.rows} lignes, {len(data) / 1e6:.1f} Mo (meilleur de {args.repeat} passages)")
    for name, seconds in timings.items():
        print(f"  {seconds:6.2f} s  {seconds / reference:5.2f} ×  {name}")
    check = sum(timings[k] for k in (INSPECT, READ, VALIDATE))
    print(f"  {check:6.2f} s  {check / reference:5.2f} ×  vérification (contrôle + lecture + validation)")
    print(_gil(data))
    return 0


def _stages(data: bytes, timed):
    import pandas as pd
    import python_calamine

    from quality_framework.workbook import reader, validator
    from quality_framework.workbook.cells import text_frame

    timed(REFERENCE, pd.read_excel, io.BytesIO(data), sheet_name="Beneficiaires", engine="calamine")
    timed(INSPECT, reader._inspect_zip, data, reader.DEFAULT_MAX_UNCOMPRESSED, reader.DEFAULT_MAX_RATIO, [])
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    sheet = timed("analyse XML de la feuille Beneficiaires par calamine", book.get_sheet_by_name, "Beneficiaires")
    rows = timed("conversion en objets Python (to_python)", sheet.to_python, skip_empty_area=False)
    timed("grille pandas (DataFrame)", pd.DataFrame, rows, dtype=object)
    del rows, sheet
    book.close()
    grids = timed(READ, reader._read_grids, data, reader.DEFAULT_MAX_ROWS)
    timed("mise en texte des cellules (text_frame)", lambda: {n: text_frame(g) for n, g in grids.items()})
    return timed(VALIDATE, validator.validate_workbook, reader.RawWorkbook("xlsx", grids, []),
                 expected_siret=SIRET, allowed_regions={REGION}, year=YEAR, contract_region=REGION)


def _gil(data: bytes) -> str:
    """A pure-Python loop alone, then during a calamine parse in another thread: if the
    parse held the GIL, the loop would also wait for (most of) the parse."""
    import python_calamine

    alone = _spin(20_000_000)
    parsed: list[float] = []

    def parse() -> None:
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        start = time.perf_counter()
        wb.get_sheet_by_name("Beneficiaires")
        parsed.append(time.perf_counter() - start)

    thread = threading.Thread(target=parse)
    thread.start()
    during = _spin(20_000_000)
    thread.join()
    verdict = "verrou tenu" if during > alone + parsed[0] / 2 else "verrou relâché"
    return (f"boucle Python seule {alone:.2f} s ; la même pendant une analyse calamine de "
            f"{parsed[0]:.2f} s dans un autre fil : {during:.2f} s ({verdict} pendant l'analyse)")


def _spin(n: int) -> float:
    start, total = time.perf_counter(), 0
    for i in range(n):
        total += i
    return time.perf_counter() - start


if __name__ == "__main__":
    raise SystemExit(main())
