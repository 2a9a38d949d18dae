"""The stored validation report (ValidationResult.to_json()) as shown on the page:
grouped by problem code with counts and the first rows of each."""
from __future__ import annotations

from collections import OrderedDict

from quality_framework.workbook.problems import ERROR, WARNING, Problem, ValidationResult
from quality_framework.workbook.contract import load_contract

FIRST_ROWS = 20


def code_descriptions() -> dict[str, str]:
    return {code: spec.get("description", "") for code, spec in load_contract().problem_codes.items()}


def grouped(report: dict | None, first: int = FIRST_ROWS) -> list[dict]:
    """[{code, severity, description, count, rows: first entries}] errors first."""
    if not report:
        return []
    descriptions = code_descriptions()
    groups: "OrderedDict[tuple[str, str], dict]" = OrderedDict()
    for key, severity in (("erreurs", ERROR), ("avertissements", WARNING)):
        for entry in report.get(key, []):
            group = groups.setdefault((severity, entry["code"]), {
                "code": entry["code"], "severity": severity, "count": 0, "rows": [],
                "description": descriptions.get(entry["code"], "")})
            group["count"] += 1
            if len(group["rows"]) < first:
                group["rows"].append(entry)
    return list(groups.values())


def result_from_report(report: dict) -> ValidationResult:
    """Rebuild the problems of a stored report (for the annotated copy)."""
    def problems(entries, severity):
        return [Problem(e["feuille"], e["ligne"], e["colonne"], e["lettre"], e["valeur"],
                        e["code"], e["message"], severity) for e in entries]

    return ValidationResult(errors=problems(report.get("erreurs", []), ERROR),
                            warnings=problems(report.get("avertissements", []), WARNING),
                            lines=dict(report.get("lignes", {})))
