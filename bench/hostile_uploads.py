"""Measure every hostile workbook of tests/security/hostile_corpus.py through the real
reader and validator, each in its own child process, and write docs/security-figures.md.

    .venv/bin/python -m bench.hostile_uploads                 # all cases, writes the doc
    .venv/bin/python -m bench.hostile_uploads --cases far_cells million_rows --no-write
    .venv/bin/python -m bench.hostile_uploads --root /tmp/old-checkout --no-write   # older code
    .venv/bin/python -m bench.hostile_uploads --before-root /tmp/prefix   # + « avant correction » table
      (/tmp/prefix: `git archive c863b81 quality_framework | tar -x -C /tmp/prefix`)

Per case: the file is generated (realistic size) and written to a temporary file; a child
process limited to --limit-gb of address space (RLIMIT_AS) runs validate_workbook on it
and reports the outcome (refused with its French message, or a report with its problem
codes) and the validation time; the parent takes the child's wall time and its peak
resident memory from os.wait4 (the child's own rusage: ru_maxrss, in KB on Linux —
resource.getrusage(RUSAGE_CHILDREN) gives the same figure, but as a maximum over all
children so far). The baseline row (a valid two-row workbook) shows what the interpreter
and its libraries cost alone. A child killed by a signal (SIGABRT from a failed Rust
allocation, SIGKILL from the OOM killer) is reported as such.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.security import hostile_corpus as hc  # noqa: E402

DOC = ROOT / "docs" / "security-figures.md"

CHILD = """
import json, resource, sys, time
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
sys.path.insert(0, sys.argv[1])
from quality_framework.workbook import UnreadableWorkbook, validate_workbook
start = time.perf_counter()
try:
    result = validate_workbook(sys.argv[2], expected_siret="{siret}", allowed_regions={{"{region}"}}, year={year})
    codes = {{}}
    for p in result.errors + result.warnings:
        codes[p.code] = codes.get(p.code, 0) + 1
    first = (result.errors + result.warnings)[:1]
    out = {{"outcome": "rapport", "valid": result.valid, "codes": codes,
           "message": first[0].message if first else ""}}
except UnreadableWorkbook as exc:
    out = {{"outcome": "refusé", "message": exc.message}}
out["seconds"] = time.perf_counter() - start
print(json.dumps(out, ensure_ascii=False))
""".format(siret=hc.SIRET, region=hc.REGION, year=hc.YEAR)


_peak_kb: dict[int, int] = {}


class _Popen(subprocess.Popen):
    """Popen whose reaping goes through os.wait4, to keep each child's own peak RSS."""

    def _try_wait(self, wait_flags):
        try:
            pid, status, usage = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            return self.pid, 0
        if pid == self.pid:
            _peak_kb[pid] = usage.ru_maxrss
        return pid, status



def run_case(name: str, data: bytes, suffix: str, code_root: Path, limit: int, timeout: float) -> dict:
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as handle:
        handle.write(data)
        path = handle.name
    try:
        start = time.perf_counter()
        proc = _Popen([sys.executable, "-c", CHILD, str(code_root), path, str(limit)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        wall = time.perf_counter() - start
        peak_kb = _peak_kb.pop(proc.pid, None)  # recorded when _Popen reaped the child
        status = proc.returncode
    finally:
        os.unlink(path)
    row = {"name": name, "bytes": len(data), "wall": wall, "peak_mb": (peak_kb or 0) / 1024, "status": status}
    if status == 0 and stdout.strip():
        row.update(json.loads(stdout.decode().splitlines()[-1]))
    else:
        sig = -status if status and status < 0 else None
        why = f"signal {signal.Signals(sig).name}" if sig else f"code de sortie {status}"
        err = stderr.decode(errors="replace").strip().splitlines()
        cause = next((line for line in err if "memory allocation" in line), err[-1] if err else "")
        row.update(outcome="processus tué" if sig else "erreur",
                   message=why + (f" — {cause[:160]}" if cause else ""))
    return row


def machine() -> dict:
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    return {"nproc": os.cpu_count(), "memory_gb": mem_kb / 1024 / 1024, "cpu": cpu,
            "python": platform.python_version(), "system": f"{platform.system()} {platform.release()}",
            "load": os.getloadavg()}


def human_bytes(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} Mo".replace(".", ",")
    if n >= 1024:
        return f"{n / 1024:.1f} Ko".replace(".", ",")
    return f"{n} o"


def fr(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}".replace(".", ",")


def summary(row: dict) -> str:
    if row["outcome"] == "rapport":
        codes = ", ".join(f"{c} × {n}" for c, n in sorted(row["codes"].items())) or "aucun problème"
        verdict = "valide" if row["valid"] else "erreurs"
        return f"{verdict} ({codes})" + (f" — « {row['message'][:110]} »" if row.get("message") else "")
    return f"« {row.get('message', '')} »"


def write_doc(rows: list[dict], info: dict, started: dt.datetime, limit_gb: float,
              before: list[dict] | None = None) -> None:
    lines = [
        "# Fichiers hostiles : chiffres mesurés",
        "",
        "Généré par `.venv/bin/python -m bench.hostile_uploads` (bench/hostile_uploads.py) à partir du",
        "corpus `tests/security/hostile_corpus.py` (fichiers fabriqués avec zipfile, openpyxl ou des",
        "octets bruts, sans le code du lecteur). Chaque cas est validé par `validate_workbook` dans un",
        f"processus fils limité à {fr(limit_gb, 1)} Go d'espace d'adressage (RLIMIT_AS) ; le temps total",
        "inclut le démarrage de Python et l'import de pandas/calamine (≈ la ligne « témoin »).",
        "Le pic mémoire est le ru_maxrss du fils (os.wait4), en Mo.",
        "",
        f"- Date : {started:%d/%m/%Y %H:%M} UTC",
        f"- Machine : {info['nproc']} processeurs ({info['cpu']}), {fr(info['memory_gb'], 1)} Go de mémoire,"
        f" {info['system']}",
        f"- Python {info['python']} ; charge moyenne pendant la mesure : "
        + " / ".join(fr(x, 1) for x in info["load"])
        + " (d'autres travaux tournaient sur la machine : les temps sont des majorants)",
        "",
        "| Cas | Fichier | Résultat | Message ou problèmes | Validation (s) | Total (s) | Pic mémoire (Mo) |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for row in rows:
        desc = row["description"].replace("|", "\\|")
        text = summary(row).replace("|", "\\|").replace("\n", " ")
        seconds = fr(row["seconds"], 3) if "seconds" in row else "—"
        lines.append(f"| **{row['name']}** — {desc} | {human_bytes(row['bytes'])} | {row['outcome']} | {text} "
                     f"| {seconds} | {fr(row['wall'], 2)} | {fr(row['peak_mb'], 0)} |")
    if before:
        lines += ["", "## Avant correction (même machine, même mesure, code du commit c863b81)", "",
                  "| Cas | Résultat | Message ou erreur | Validation (s) | Total (s) | Pic mémoire (Mo) |",
                  "|---|---|---|---:|---:|---:|"]
        for row in before:
            text = summary(row).replace("|", "\\|").replace("\n", " ")
            seconds = fr(row["seconds"], 3) if "seconds" in row else "—"
            lines.append(f"| **{row['name']}** | {row['outcome']} | {text} | {seconds} | {fr(row['wall'], 2)} "
                         f"| {fr(row['peak_mb'], 0)} |")
    lines += ["", DOC_TAIL.strip(), ""]
    DOC.write_text("\n".join(lines), encoding="utf-8")


DOC_TAIL = """
## Bornes appliquées (quality_framework/workbook/reader.py)

| Borne | Valeur par défaut | Réglage |
|---|---|---|
| Taille du fichier déposé | 20 Mo | `MAX_UPLOAD_BYTES` |
| Taille décompressée totale (mesurée en décompressant, pas lue dans les en-têtes) | 200 Mo | `max_uncompressed` |
| Taux de compression d'un membre de plus de 1 Mo | 200:1 | `max_ratio` |
| Nombre de membres de l'archive | 5 000 | `MAX_MEMBERS` |
| Lignes d'une feuille (estimées sur le XML avant lecture, puis vérifiées après) | 500 000 | `MAX_WORKBOOK_ROWS` |
| Cellules de la grille d'une feuille (lignes × colonnes, estimées sur le XML avant lecture) | 12 000 000 | `max_cells` |
| DOCTYPE / ENTITY dans une partie XML | refus | — |
| Macros (`vbaProject.bin`, Basic/Scripts en .ods), OLE2 (.xls, chiffré), .xlsb | refus | — |
| Liaisons externes | ignorées (avertissement LIAISON_EXTERNE), valeurs enregistrées lues | — |
| Formules | jamais évaluées ; sans valeur enregistrée : erreur FORMULE_SANS_VALEUR | — |

## Défauts trouvés par ce corpus et corrigés

Mesures avant correction faites sur la même machine, au commit c863b81 (corpus seul) :

- **Grille creuse (far_cells)** : deux cellules A1 et XFD400000 (7 Ko) faisaient allouer à
  calamine la grille entière (400 000 × 16 384 cases, 209 715 200 000 octets) ; l'allocation
  échouait dans Rust, qui **arrête le processus** (SIGABRT, aucune exception Python) : un seul
  dépôt pouvait tuer un processus du serveur. Même mécanisme avec un .ods de quelques centaines
  d'octets répétant une cellule (`table:number-columns-repeated` × `table:number-rows-repeated`) :
  20 000 × 1 000 cases répétées prenaient 12 s et 2,5 Go (ods_repeated_dense). Désormais la taille
  de la grille est estimée sur le XML avant toute lecture (quality_framework/workbook/extent.py) et
  la feuille est refusée au-delà de 12 millions de cases ou de 500 000 lignes.
- **1 000 000 de lignes (million_rows)** : la feuille était entièrement lue (≈ 810 Mo, voir « Avant correction ») avant
  d'être refusée par la borne de lignes ; elle est maintenant refusée avant la lecture.
- **Caractère NUL dans une cellule** (`_x0000_` d'Excel, ou octet brut accepté par calamine) :
  la conversion en texte (qui joint les cellules sur NUL) levait `ValueError` au lieu de produire
  un rapport ; la cellule est maintenant signalée (TYPE_INVALIDE / CODE_INCONNU).
- **Copie annotée** d'un tel classeur : openpyxl refusait les caractères de contrôle (500 sur
  « classeur annoté ») ; ils sont remplacés par « \ufffd » et un XML que openpyxl ne sait pas relire
  est reconstruit à partir des valeurs lues.
- **Valeurs reprises dans les rapports** : les caractères de contrôle passaient tels quels ; le
  rapport texte de la commande `flask workbook check` pouvait ainsi envoyer des séquences ESC au
  terminal de l'opérateur. Ils sont affichés « \ufffd » (problems.py).

## Risque résiduel (choix à arbitrer)

Une grille juste sous les bornes est lue : c'est le coût du plus gros classeur honnête autorisé
(500 000 lignes). Mesuré hors limite mémoire : un .ods répétant une cellule sur 11 000 lignes ×
1 000 colonnes (11 millions de cases, fichier de quelques centaines d'octets) se valide en 13 s
avec un pic de 1,7 Go (≈ 125 octets par case lue, calamine puis pandas). Les bilans réels
comptent quelques milliers à quelques dizaines de milliers de lignes : abaisser
`MAX_WORKBOOK_ROWS` (et `max_cells`, par exemple 2 millions de cases ≈ 250 Mo) réduirait d'autant
ce plafond ; la décision revient à l'équipe (volumétrie réelle des opérateurs). Une feuille de
16 384 colonnes (all_columns) reste lente à valider (coût par colonne du validateur, ≈ 1 ms par
colonne hors charge) mais bornée.

## Défaut trouvé hors du lecteur (platform_core), corrigé par le responsable

`platform_core/files.py` `sniff_kind()` (contrôle du type au dépôt, avant le lecteur) lisait le
membre `mimetype` en entier et ne rattrapait que `BadZipFile`/`OSError`/`ValueError` :

- **mimetype_bomb** : un dépôt de 2 Mo dont le membre `mimetype` se décompresse en 2 Go faisait
  allouer 2 Go au processus web (MemoryError sous 1,5 Go ; au-delà, le tueur OOM) ;
- **corrupt_mimetype** : un flux `mimetype` endommagé levait `zlib.error` → **HTTP 500**.

Corrigé au commit b12466a (lecture d'un préfixe borné, archive endommagée = type inconnu) ;
tests/security/test_hostile_http.py le vérifie (dont un processus limité à 1,5 Go).

## Ce que l'application garde d'un dépôt refusé

- Refus par le formulaire (type reconnu au contenu : vide, PDF, OLE2, macros, zip illisible…) :
  réponse 400 avec le message du lecteur sous le champ fichier ; **rien** n'est enregistré.
- Refus après lecture (illisible, ou erreurs) : la ligne de traitement `workbook_uploads`
  (résultat, message, rapport JSON) et une **copie temporaire** des octets dans
  `INSTANCE_DIR/workbook_uploads/<id>.bin`, purgée après 7 jours, qui sert au classeur annoté ;
  pour un fichier illisible il n'y a pas de rapport et la copie n'est jamais relue.
  Aucune version, aucune ligne de bénéficiaire, aucun fichier dans le magasin de fichiers
  (`UPLOAD_DIR`), aucune entrée de journal « bilan_depose ». Vérifié par
  tests/security/test_hostile_http.py, qui interroge aussi `/sante` après chaque dépôt.

## Tests

- `tests/security/test_hostile_uploads.py` : chaque cas, message français et mots attendus ;
  les cas lourds dans un processus limité à 1,5 Go.
- `tests/security/test_workbook_fixes.py` : les défauts ci-dessus (dont le fils qui mourait de SIGABRT).
- `tests/security/test_validator_properties.py` (hypothesis) : valeurs quelconques dans chaque
  colonne, aller-retour openpyxl, en-têtes permutés / casse / accents (30 exemples par défaut ;
  une campagne avec `SECURITY_EXAMPLES=400`, puis 150 pour les en-têtes, n'a trouvé aucun défaut
  du validateur — seulement une erreur de tri dans le test lui-même, corrigée).
- `tests/security/test_hostile_http.py` : dépôt HTTP (vérifier et déposer) de chaque cas.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=list(hc.CASES))
    parser.add_argument("--root", type=Path, default=ROOT, help="code under test (a checkout)")
    parser.add_argument("--limit-gb", type=float, default=1.5)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--before-root", type=Path, help="older checkout measured too (« avant correction »)")
    parser.add_argument("--before-cases", nargs="*", default=[
        "far_cells", "million_rows", "ods_repeated_dense", "control_raw", "control_escape"])
    args = parser.parse_args(argv)
    started = dt.datetime.now(dt.timezone.utc)
    limit = int(args.limit_gb * 1024 ** 3)
    rows = []
    baseline = hc.valid_xlsx()
    cases = [("témoin", baseline, ".xlsx", "Classeur valide de 2 lignes (coût fixe du processus)")]
    for name in args.cases:
        case = hc.CASES[name]
        cases.append((name, case.data("bench"), Path(case.filename).suffix, case.description))
    for name, data, suffix, description in cases:
        row = run_case(name, data, suffix, args.root, limit, args.timeout)
        row["description"] = description
        rows.append(row)
        print(f"{name:18s} {row['outcome']:14s} {row.get('seconds', 0):7.3f}s {row['wall']:7.2f}s "
              f"{row['peak_mb']:7.0f} MB  {summary(row)[:100]}", flush=True)
    before = []
    for name in (args.before_cases if args.before_root else []):
        case = hc.CASES[name]
        row = run_case(name, case.data("bench"), Path(case.filename).suffix, args.before_root, limit, args.timeout)
        row["description"] = case.description
        before.append(row)
        print(f"avant : {name:18s} {row['outcome']:14s} {row['wall']:7.2f}s {row['peak_mb']:7.0f} MB  "
              f"{summary(row)[:100]}", flush=True)
    info = machine()
    print(f"RUSAGE_CHILDREN ru_maxrss (max over all children): "
          f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB")
    if not args.no_write:
        write_doc(rows, info, started, args.limit_gb, before)
        print(f"écrit : {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
