"""The annual fund-use report (spec/fund-use.md) assembled from plain inputs.

No Flask, no database: the page, the xlsx export, the CLI and the tests all call
`build_report` with the same plain inputs (contracts, payments, current workbook versions,
audit scores) and read the same structure. Every figure comes from the formulas of
`fund_use.py`, `indicators.py` and `alerts.py`; this module only assembles them.

Choices (also in docs/fund-use.md):
- A contract is in the report of year N when it covers N (starts_on.year ≤ N ≤
  ends_on.year) or has a payment or a workbook version for N. Its annual price is due in
  full for every year it covers (no pro rata).
- A payment counts for the year it relates to (`year`), not the year it was paid in.
- The variable part is computed per contract with its own rates and parameters; a region
  or the nation adds the contracts' amounts (never applies the rule to aggregated rates).
- Activity, costs and quality of a region or the nation aggregate the counts, means and
  finances of the contracts that have a current workbook for N (« aggregate the rows »);
  the capacity used for taux_realisation is that of the same contracts.
- FINANCEMENT_FRANCE_COMPETENCES declared vs paid, for a region or the nation, compares
  the declarations with what was paid to the contracts that declared.
- The national median of an efficiency figure is the median of the contracts' figures
  (non calculable ones ignored); each contract and region is positioned against it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping

from .alerts import ALERT_RULES, DEFAULT_THRESHOLDS, evaluate_alerts
from .fund_use import (
    PAYMENT_KINDS, balance, charge_shares, explain_variable_earned, funding_gap, median,
    position_vs_median, split_price,
)
from .indicators import (
    CHARGE_POSTES, Counts, indicators_from_counts, sum_capacity, sum_counts, sum_finances,
    sum_means,
)

FC_FUNDING = "FINANCEMENT_FRANCE_COMPETENCES"
ACTIVITY_FIELDS = ("entrees", "parcours_actifs", "sorties", "heures_totales", "taux_realisation")
EFFICIENCY_FIELDS = ("cout_par_entree", "cout_par_heure", "entrees_par_etp")
QUALITY_FIELDS = ("taux_satisfaits", "taux_document_synthese")

# Flat figures of one scale and year: the columns of the xlsx sheets, the evolution
# series and the CLI's JSON. (key, French label, kind: euros | number | percent | text)
SUMMARY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("annual_price", "Prix annuel", "euros"),
    ("fixed", "Part fixe", "euros"),
    ("variable_max", "Part variable maximale", "euros"),
    ("paid_FIXE", "Payé — fixe", "euros"),
    ("paid_VARIABLE", "Payé — variable", "euros"),
    ("paid_REGULARISATION", "Payé — régularisations", "euros"),
    ("paid_total", "Total payé", "euros"),
    ("variable_earned", "Part variable gagnée", "euros"),
    ("balance", "Solde (dû > 0, trop-perçu < 0)", "euros"),
    ("charges_totales", "Charges déclarées", "euros"),
    ("fc_declared", "Financement France compétences déclaré", "euros"),
    ("fc_gap", "Écart déclaré − payé", "euros"),
    ("fc_gap_flagged", "Écart > 2 %", "text"),
    ("entrees", "Entrées", "number"),
    ("parcours_actifs", "Parcours actifs", "number"),
    ("sorties", "Sorties", "number"),
    ("heures_totales", "Heures totales", "number"),
    ("taux_realisation", "Taux de réalisation", "percent"),
    ("cout_par_entree", "Coût par entrée", "euros"),
    ("cout_par_heure", "Coût par heure", "euros"),
    ("entrees_par_etp", "Entrées par ETP", "number"),
    ("taux_satisfaits", "Taux de satisfaits", "percent"),
    ("taux_document_synthese", "Taux de document de synthèse", "percent"),
    ("alerts", "Alertes", "number"),
)

_CENT = Decimal("0.01")


# --------------------------------------------------------------------------- inputs

@dataclass(frozen=True)
class ContractInput:
    id: int
    reference: str
    region_code: str
    operator_name: str
    annual_price: float
    annual_capacity: float | None
    starts_on: date
    ends_on: date
    fixed_share: float = 0.8
    satisfaction_target: float = 0.85
    status: str = "ACTIF"
    operator_id: int | None = None

    def covers_year(self, year: int) -> bool:
        return self.starts_on.year <= year <= self.ends_on.year


@dataclass(frozen=True)
class PaymentInput:
    id: int
    contract_id: int
    year: int
    kind: str
    amount: float
    paid_on: date
    reference: str = ""
    reverses_payment_id: int | None = None


@dataclass(frozen=True)
class VersionInput:
    """The current workbook version of a contract and year."""

    id: int
    contract_id: int
    year: int
    number: int
    counts: Mapping[str, Any] | None
    means: Mapping[str, Any] | None = None
    finances: Mapping[str, float] | None = None
    uploaded_at: datetime | None = None
    sha256: str | None = None


# --------------------------------------------------------------------------- helpers

def _add(values: Iterable[float | None]) -> float:
    total = sum((Decimal(str(v)) for v in values if v is not None), Decimal(0))
    return float(total.quantize(_CENT, rounding=ROUND_HALF_UP))


def _region_name(code: str) -> str:
    try:
        from .reference import regions

        region = regions().get(code)
        return region.name if region else code
    except Exception:  # reference data unavailable: the code is still meaningful
        return code


def _alerts(indicators: Mapping[str, Any] | None, thresholds) -> list[dict[str, Any]]:
    if not indicators:
        return []
    return [{"indicator": a.indicator, "label": ALERT_RULES[a.indicator]["label_fr"],
             "value": a.value, "threshold": a.threshold, "message": a.message_fr}
            for a in evaluate_alerts(indicators, thresholds)]


def _use_block(finances: Mapping[str, float] | None, paid_total_of_declarers: float,
               indicators: Mapping[str, Any] | None) -> dict[str, Any]:
    declared = finances.get(FC_FUNDING) if finances is not None else None
    return {
        "declared": finances is not None,
        "charges": {p: float((finances or {}).get(p) or 0) for p in CHARGE_POSTES}
        if finances is not None else None,
        "shares": charge_shares(finances),
        "charges_totales": indicators.get("charges_totales") if indicators else None,
        "fc_gap": funding_gap(declared, paid_total_of_declarers),
    }


def _activity_block(indicators: Mapping[str, Any] | None, capacity) -> dict[str, Any]:
    values = {k: (indicators or {}).get(k) for k in ACTIVITY_FIELDS}
    values["capacity"] = capacity
    return values


# --------------------------------------------------------------------------- contract

def _contract_figures(c: ContractInput, payments: list[PaymentInput],
                      version: VersionInput | None, counts: Counts | None):
    """(indicators, funds) of one contract and year: the variable part and the balance.
    `counts`: the version's parsed counts (None without a version)."""
    split = split_price(c.annual_price, c.fixed_share)
    indicators = None
    if version is not None:
        indicators = indicators_from_counts(counts, version.means, version.finances,
                                            c.annual_capacity)
    rates = indicators or {}
    variable = explain_variable_earned(split.variable_max, rates.get("taux_realisation"),
                                       rates.get("taux_satisfaits"), c.satisfaction_target)
    paid_by_kind = {k: _add(p.amount for p in payments if p.kind == k) for k in PAYMENT_KINDS}
    bal = balance(split.fixed, variable["value"], paid_by_kind)
    funds = {
        "annual_price": float(c.annual_price),
        "fixed": split.fixed,
        "variable_max": split.variable_max,
        "paid_by_kind": bal["paid_by_kind"],
        "paid_total": bal["paid_total"],
        "variable_earned": variable["value"],
        "variable": variable,
        "balance": bal,
    }
    return indicators, funds


def _contract_block(c: ContractInput, year: int, payments: list[PaymentInput],
                    version: VersionInput | None, audit_score, thresholds,
                    counts: Counts | None) -> dict[str, Any]:
    indicators, funds = _contract_figures(c, payments, version, counts)
    rates = indicators or {}
    finances = version.finances if version is not None else None
    return {
        "scale": "contrat",
        "id": c.id,
        "reference": c.reference,
        "label": f"{c.reference} — {c.operator_name}",
        "operator": c.operator_name,
        "operator_id": c.operator_id,
        "region_code": c.region_code,
        "region_name": _region_name(c.region_code),
        "status": c.status,
        "funds": funds,
        "use": _use_block(finances, funds["paid_total"], indicators),
        "activity": _activity_block(indicators, c.annual_capacity),
        "indicators": indicators,
        "efficiency": {k: {"value": rates.get(k)} for k in EFFICIENCY_FIELDS},
        "quality": {
            **{k: rates.get(k) for k in QUALITY_FIELDS},
            "alerts": _alerts(indicators, thresholds),
            "audit": ({"score": audit_score[0], "has_major": bool(audit_score[1])}
                      if audit_score else None),
        },
        "source": {
            "version": None if version is None else {
                "id": version.id, "number": version.number,
                "uploaded_at": version.uploaded_at, "sha256": version.sha256,
            },
            "payment_ids": sorted(p.id for p in payments),
        },
    }


# --------------------------------------------------------------------------- aggregate

def _aggregate(scale: str, key: str, label: str, blocks: list[dict[str, Any]],
               versions: Mapping[int, VersionInput], contracts: Mapping[int, ContractInput],
               thresholds, counts_of) -> dict[str, Any]:
    """A region or the nation: amounts added, activity from summed counts.
    `counts_of(version)`: its parsed counts (parsed once per build by `_Inputs`)."""
    paid_by_kind = {k: _add(b["funds"]["paid_by_kind"].get(k) for b in blocks)
                    for k in PAYMENT_KINDS}
    fixed = _add(b["funds"]["fixed"] for b in blocks)
    earned = _add(b["funds"]["variable_earned"] for b in blocks)
    bal = balance(fixed, earned, paid_by_kind)
    with_wb = [b for b in blocks if b["id"] in versions]
    indicators = None
    finances = None
    capacity = None
    if with_wb:
        vs = [versions[b["id"]] for b in with_wb]
        counts = sum_counts(counts_of(v) for v in vs)
        finances = sum_finances(v.finances for v in vs)
        capacity = sum_capacity(contracts[b["id"]].annual_capacity for b in with_wb)
        indicators = indicators_from_counts(counts, sum_means(v.means for v in vs),
                                            finances, capacity)
    declarers = [b for b in blocks if b["use"]["declared"]]
    rates = indicators or {}
    return {
        "scale": scale,
        "id": key,
        "label": label,
        "contract_ids": [b["id"] for b in blocks],
        "contracts_without_workbook": [b["reference"] for b in blocks
                                       if b["id"] not in versions],
        "funds": {
            "annual_price": _add(b["funds"]["annual_price"] for b in blocks),
            "fixed": fixed,
            "variable_max": _add(b["funds"]["variable_max"] for b in blocks),
            "paid_by_kind": bal["paid_by_kind"],
            "paid_total": bal["paid_total"],
            "variable_earned": earned,
            "balance": bal,
            "contracts_due": sum(1 for b in blocks if b["funds"]["balance"]["status"] == "DU"),
            "contracts_overpaid": sum(1 for b in blocks
                                      if b["funds"]["balance"]["status"] == "TROP_PERCU"),
        },
        "use": _use_block(finances, _add(b["funds"]["paid_total"] for b in declarers),
                          indicators),
        "activity": _activity_block(indicators, capacity),
        "indicators": indicators,
        "efficiency": {k: {"value": rates.get(k)} for k in EFFICIENCY_FIELDS},
        "quality": {
            **{k: rates.get(k) for k in QUALITY_FIELDS},
            "alerts": _alerts(indicators, thresholds),
            "audits": [b["quality"]["audit"] for b in blocks if b["quality"]["audit"]],
        },
    }


def summary(block: Mapping[str, Any]) -> dict[str, Any]:
    """The flat figures of one block, keyed like SUMMARY_COLUMNS."""
    f, u, a = block["funds"], block["use"], block["activity"]
    gap = u["fc_gap"]
    values = {
        "annual_price": f["annual_price"], "fixed": f["fixed"],
        "variable_max": f["variable_max"],
        **{f"paid_{k}": f["paid_by_kind"].get(k, 0.0) for k in PAYMENT_KINDS},
        "paid_total": f["paid_total"], "variable_earned": f["variable_earned"],
        "balance": f["balance"]["balance"],
        "charges_totales": u["charges_totales"],
        "fc_declared": gap["declared"], "fc_gap": gap["gap"],
        "fc_gap_flagged": "oui" if gap["flagged"] else "non",
        **{k: a[k] for k in ACTIVITY_FIELDS},
        **{k: block["efficiency"][k]["value"] for k in EFFICIENCY_FIELDS},
        **{k: block["quality"][k] for k in QUALITY_FIELDS},
        "alerts": len(block["quality"]["alerts"]),
    }
    return {key: values[key] for key, _, _ in SUMMARY_COLUMNS}


# --------------------------------------------------------------------------- report

class _Inputs:
    """Payments and current versions indexed by year and contract once per build, each
    version's stored counts parsed once: every year of the evolution reuses them instead
    of filtering the whole lists again."""

    def __init__(self, payments: Iterable[PaymentInput], versions: Iterable[VersionInput]):
        self.payments: dict[int, dict[int, list[PaymentInput]]] = {}
        for p in payments:
            self.payments.setdefault(p.year, {}).setdefault(p.contract_id, []).append(p)
        # several versions given for a (contract, year): the highest number wins
        self.current: dict[int, dict[int, VersionInput]] = {}
        for v in versions:
            per_year = self.current.setdefault(v.year, {})
            if v.contract_id not in per_year or v.number > per_year[v.contract_id].number:
                per_year[v.contract_id] = v
        self._counts: dict[int, Counts] = {}

    def counts(self, version: VersionInput) -> Counts:
        # keyed by identity: two inputs may share an id in hand-made tests
        key = id(version)
        if key not in self._counts:
            self._counts[key] = Counts.from_dict(version.counts or {})
        return self._counts[key]

    def years(self) -> list[int]:
        return sorted(set(self.payments) | set(self.current))


def _contracts_of_year(year: int, contracts: Iterable[ContractInput],
                       inputs: _Inputs) -> list[ContractInput]:
    """Contracts covering N or with a payment or a workbook for N, by region then reference."""
    active_ids = set(inputs.payments.get(year, {})) | set(inputs.current.get(year, {}))
    return sorted((c for c in contracts if c.covers_year(year) or c.id in active_ids),
                  key=lambda c: (c.region_code, c.reference))


def _year_scopes(year: int, contracts: list[ContractInput], inputs: _Inputs,
                 audit_scores: Mapping[int, tuple[float, bool]], thresholds):
    """(contracts of N, their blocks, region blocks, national block) of year N, each
    block computed once."""
    current = inputs.current.get(year, {})
    year_payments = inputs.payments.get(year, {})
    in_year = _contracts_of_year(year, contracts, inputs)
    by_id = {c.id: c for c in in_year}
    blocks = [
        _contract_block(c, year, year_payments.get(c.id, []), current.get(c.id),
                        audit_scores.get(c.id), thresholds,
                        inputs.counts(current[c.id]) if c.id in current else None)
        for c in in_year
    ]
    regions = []
    for code in sorted({c.region_code for c in in_year}):
        members = [b for b in blocks if b["region_code"] == code]
        region = _aggregate("region", code, _region_name(code), members, current, by_id,
                            thresholds, inputs.counts)
        region["region_code"] = code
        regions.append(region)
    national = _aggregate("national", "FR", "National", blocks, current, by_id, thresholds,
                          inputs.counts)
    return in_year, blocks, regions, national


def build_report(
    year: int,
    contracts: Iterable[ContractInput],
    payments: Iterable[PaymentInput],
    versions: Iterable[VersionInput],
    audit_scores: Mapping[int, tuple[float, bool]] | None = None,
    thresholds: Mapping[str, float] = DEFAULT_THRESHOLDS,
    with_evolution: bool = True,
) -> dict[str, Any]:
    """The report of year N at three scales, with its sources and its evolution.

    `versions`: the current workbook version of each (contract, year) (any year: the
    evolution uses the earlier ones; if several are given for a pair, the highest number
    wins). `audit_scores`: {contract_id: (score, has_major)}, latest audit per contract."""
    contracts = list(contracts)
    payments = list(payments)
    audit_scores = audit_scores or {}
    inputs = _Inputs(payments, versions)
    current = inputs.current.get(year, {})
    in_year, blocks, regions, national = _year_scopes(year, contracts, inputs, audit_scores,
                                                      thresholds)
    by_id = {c.id: c for c in in_year}
    year_payments = [p for p in payments if p.year == year]

    medians = {k: median(b["efficiency"][k]["value"] for b in blocks) for k in EFFICIENCY_FIELDS}
    for block in [*blocks, *regions, national]:
        for k in EFFICIENCY_FIELDS:
            entry = block["efficiency"][k]
            entry["median"] = medians[k]
            entry["position"] = position_vs_median(entry["value"], medians[k])

    report: dict[str, Any] = {
        "year": year,
        "contracts": blocks,
        "regions": regions,
        "national": national,
        "medians": medians,
        "sources": {
            "versions": [
                {"contract_id": c.id, "contract_reference": c.reference,
                 "version_id": current[c.id].id, "number": current[c.id].number,
                 "uploaded_at": current[c.id].uploaded_at, "sha256": current[c.id].sha256}
                for c in in_year if c.id in current
            ],
            "payments": [
                {"id": p.id, "contract_id": p.contract_id,
                 "contract_reference": by_id[p.contract_id].reference if p.contract_id in by_id else "",
                 "paid_on": p.paid_on, "kind": p.kind, "amount": p.amount, "year": p.year,
                 "reference": p.reference, "reverses_payment_id": p.reverses_payment_id}
                for p in sorted(year_payments, key=lambda p: (p.paid_on, p.id))
            ],
        },
    }
    if with_evolution:
        report["evolution"] = _evolution(year, contracts, inputs, audit_scores, thresholds,
                                         report)
    return report


def _evolution(year, contracts, inputs: _Inputs, audit_scores, thresholds, report):
    """Summaries for every year on record up to N (earlier years, then N itself). An
    earlier year needs only its blocks (no medians, positions or sources): summaries
    read the values, never the positions."""
    years = [y for y in inputs.years() if y < year] + [year]
    result: dict[str, Any] = {"years": years, "national": [], "regions": {}, "contracts": {}}
    for y in years:
        if y == year:
            blocks, regions, national = report["contracts"], report["regions"], report["national"]
        else:
            _, blocks, regions, national = _year_scopes(y, contracts, inputs, audit_scores,
                                                        thresholds)
        result["national"].append(summary(national))
        for r in regions:
            result["regions"].setdefault(r["id"], {})[y] = summary(r)
        for b in blocks:
            result["contracts"].setdefault(b["id"], {})[y] = summary(b)
    return result


def contract_funds(year: int, contracts: Iterable[ContractInput],
                   payments: Iterable[PaymentInput],
                   versions: Iterable[VersionInput]) -> list[dict[str, Any]]:
    """{id, reference, funds} of each contract of year N, in the report's order, with
    the report's own formulas (`_contract_figures`): for the officers' dashboard, which
    needs balances and variable parts only, not the aggregates nor the evolution.
    Payments and versions of other years may be left out."""
    inputs = _Inputs(payments, versions)
    current = inputs.current.get(year, {})
    year_payments = inputs.payments.get(year, {})
    result = []
    for c in _contracts_of_year(year, contracts, inputs):
        version = current.get(c.id)
        _, funds = _contract_figures(c, year_payments.get(c.id, []), version,
                                     inputs.counts(version) if version is not None else None)
        result.append({"id": c.id, "reference": c.reference, "funds": funds})
    return result


def series(evolution: Mapping[str, Any], key: str, scale: str = "national",
           ident: Any = None) -> list[float | None]:
    """One figure over the evolution's years (None where the scale is absent that year)."""
    if scale == "national":
        return [s[key] for s in evolution["national"]]
    per_year = evolution[scale].get(ident, {})
    return [per_year[y][key] if y in per_year else None for y in evolution["years"]]
