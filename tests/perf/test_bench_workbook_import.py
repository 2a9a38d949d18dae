"""bench/workbook_import.py keeps working (tiny sizes, real processes, SQLite): each
measurement and the naive comparison run in their own process and the report holds
every row it measured."""
from __future__ import annotations

import json
import os

from tests.perf.test_bench_scripts import run


def test_workbook_import_bench_at_tiny_scale(tmp_path):
    env = {**os.environ}
    env.pop("DATABASE_URL", None)
    out, figures = tmp_path / "perf.md", tmp_path / "perf.json"
    args = ["bench/workbook_import.py", "--rows", "300,600", "--naive-max-rows", "300", "--errors", "40",
            "--cache", str(tmp_path / "cache"), "--out", str(out), "--json", str(figures),
            "--notes", str(tmp_path / "absent.md")]
    run(args, env, timeout=240)
    report = json.loads(figures.read_text(encoding="utf-8"))
    rows = {(r["rows"], r["database"]) for r in report["results"]}
    assert rows == {(300, "SQLite"), (600, "SQLite")}
    for r in report["results"]:
        # every row of the workbook went through the deposit job (check + import inside
        # it) and a dry run, and was measured
        assert r["job_s"] >= r["check_s"] + r["import_s"] and r["check_s"] > 0 and r["import_s"] > 0
        assert r["dry_run_s"] > 0 and r["read_s"] > 0 and r["frame_mb"] > 0
        assert r["peak_growth_mb"] >= 0
    assert [(n["rows"], n["database"]) for n in report["naive"]] == [(300, "SQLite")]
    assert report["naive"][0]["naive_rows"] == 300
    text = out.read_text(encoding="utf-8")
    assert "| 300 | SQLite |" in text and "| 600 | SQLite |" in text and "40 erreurs" in text


def test_workbook_stages_bench_at_tiny_scale(tmp_path):
    """bench/workbook_stages.py times every stage of the check on a valid workbook (it
    exits 1 on an invalid one) and says whether calamine's parse holds the GIL."""
    out = run(["bench/workbook_stages.py", "--rows", "300", "--repeat", "1",
               "--cache", str(tmp_path / "cache")], {**os.environ}, timeout=120).stdout
    assert "300 lignes" in out
    for stage in ("référence", "_inspect_zip", "_read_grids", "validate_workbook", "vérification"):
        assert stage in out
    assert "verrou" in out
