"""The benchmark scripts keep working (tiny SQLite dataset, real processes): generator,
indicators benchmark (both ways agree) and the load test (gunicorn on loopback)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv/bin/python") if (ROOT / ".venv/bin/python").exists() else sys.executable


def run(args: list[str], env: dict, timeout: int = 240) -> subprocess.CompletedProcess:
    result = subprocess.run([PYTHON, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_generator_indicators_and_load_scripts(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    env = {**os.environ, "CEP_BENCH_INSTANCE": str(tmp_path / "instance"), "CEP_BENCH_OUT": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    out = run(["bench/generate_dataset.py", "--rows", "3000", "--contracts", "4", "--years", "2025-2026",
               "--database-url", url, "--reset"], env)
    assert "lignes" in out.stdout
    # a second run without --reset refuses, with a French message
    again = subprocess.run([PYTHON, "bench/generate_dataset.py", "--rows", "10", "--database-url", url],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode != 0 and "--reset" in (again.stdout + again.stderr)

    figures = tmp_path / "indicators.json"
    run(["bench/indicators.py", "--database-url", url, "--repeat", "1", "--explain", "--json", str(figures)], env)
    report = json.loads(figures.read_text(encoding="utf-8"))
    assert report["checks"] == {"a_equals_b": True, "page_equals_b": True}
    assert report["rows_total"] > 0 and (tmp_path / "explain-sqlite.txt").exists()

    load = tmp_path / "load.json"
    run(["bench/load_pages.py", "--database-url", url, "--clients", "2", "--workers", "1", "--duration", "2",
         "--sequential", "1", "--port", str(free_port()), "--json", str(load)], env)
    pages = json.loads(load.read_text(encoding="utf-8"))["pages"]
    assert len(pages) == 6
    assert all(p["errors"] == 0 and p["n"] > 0 for p in pages.values())


def test_exports_script(tmp_path):
    """bench/exports.py at tiny scale: both exports answer real xlsx files (checked by the
    script with openpyxl), and the engine's section of the markdown file is rewritten in
    place, the text around it kept."""
    env = {**os.environ, "CEP_BENCH_INSTANCE": str(tmp_path / "instance")}
    env.pop("DATABASE_URL", None)
    doc = tmp_path / "exports.md"
    doc.write_text("# Exports\n\nTexte écrit à la main.\n", encoding="utf-8")
    figures = tmp_path / "exports.json"
    args = ["bench/exports.py", "--lots", "2", "--bids", "3", "--contracts", "2", "--years", "2026-2027",
            "--rows", "200", "--repeat", "1", "--out", str(doc), "--json", str(figures)]
    run(args, env, timeout=120)
    run(args, env, timeout=120)  # a second run replaces its section
    report = json.loads(figures.read_text(encoding="utf-8"))
    assert report["engine"] == "SQLite" and report["sizes"]["tender_bids"] == 6
    exports = report["exports"]
    assert len(exports) == 3 and all(e["statements"] > 0 and e["bytes"] > 0 for e in exports.values())
    assert "Synthèse + 2 lots" in exports["rapport d'analyse des offres, xlsx"]["check"]
    assert "Paiements" in exports["national fund-use xlsx"]["check"]
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Exports\n\nTexte écrit à la main.")
    assert text.count("<!-- bench/exports.py:sqlite -->") == 1 and "| national fund-use xlsx" in text
