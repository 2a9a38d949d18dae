"""Formulas of the fund-use report (spec/fund-use.md): variable part earned, balance,
declared vs paid France compétences funding, medians and positions.

Amounts are euros as floats in and out; sums and differences go through Decimal so that
cents do not drift (1020.10 - 1000.10 is 20.00, not 20.000000000000057) and the 2 %
boundary is exact. Amounts returned are rounded to the cent.
"""
from __future__ import annotations

import statistics
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping, NamedTuple

from .indicators import CHARGE_POSTES, charges_total, share

DEFAULT_FIXED_SHARE = 0.80
DEFAULT_SATISFACTION_TARGET = 0.85
DEFAULT_GAP_TOLERANCE = 0.02
PAYMENT_KINDS = ("FIXE", "VARIABLE", "REGULARISATION")

_CENT = Decimal("0.01")


def _dec(amount: float | int | None) -> Decimal:
    return Decimal(str(amount or 0))


def _euros(amount: Decimal) -> float:
    return float(amount.quantize(_CENT, rounding=ROUND_HALF_UP))


def euros_fr(amount: float) -> str:
    """1234.5 -> '1 234,50 €' (non-breaking spaces)."""
    text = f"{abs(amount):,.2f}".replace(",", "\u00a0").replace(".", ",")
    return ("-" if amount < 0 else "") + text + "\u00a0€"


# --------------------------------------------------------------------------- contract

class PriceSplit(NamedTuple):
    fixed: float
    variable_max: float


def split_price(annual_price: float, fixed_share: float = DEFAULT_FIXED_SHARE) -> PriceSplit:
    """Annual price -> fixed part and variable cap; the cap is the remainder so that the
    two parts always add up to the price to the cent."""
    price = _dec(annual_price)
    fixed = (price * _dec(fixed_share)).quantize(_CENT, rounding=ROUND_HALF_UP)
    return PriceSplit(_euros(fixed), _euros(price - fixed))


# --------------------------------------------------------------------------- variable part

def _factors(taux_realisation: float | None, taux_satisfaits: float | None,
             satisfaction_target: float) -> tuple[float, float]:
    if satisfaction_target <= 0:
        raise ValueError("La cible de satisfaction doit être strictement positive.")
    # « non calculable » counts as 0: no evidence, no variable part for that half.
    realisation = min(taux_realisation or 0.0, 1.0)
    satisfaction = min((taux_satisfaits or 0.0) / satisfaction_target, 1.0)
    return realisation, satisfaction


def variable_earned(
    variable_max: float,
    taux_realisation: float | None,
    taux_satisfaits: float | None,
    satisfaction_target: float = DEFAULT_SATISFACTION_TARGET,
) -> float:
    """variable_max × (0.5 × min(taux_realisation, 1) + 0.5 × min(taux_satisfaits / target, 1)),
    None counting as 0; rounded to the cent."""
    realisation, satisfaction = _factors(taux_realisation, taux_satisfaits, satisfaction_target)
    factor = Decimal(str(0.5 * realisation + 0.5 * satisfaction))
    return _euros(_dec(variable_max) * factor)


def explain_variable_earned(
    variable_max: float,
    taux_realisation: float | None,
    taux_satisfaits: float | None,
    satisfaction_target: float = DEFAULT_SATISFACTION_TARGET,
) -> dict[str, Any]:
    """The figure with what the report shows next to it: inputs, formula, factors."""
    realisation, satisfaction = _factors(taux_realisation, taux_satisfaits, satisfaction_target)
    target = f"{satisfaction_target:g}".replace(".", ",")
    return {
        "inputs": {
            "variable_max": variable_max,
            "taux_realisation": taux_realisation,
            "taux_satisfaits": taux_satisfaits,
            "satisfaction_target": satisfaction_target,
        },
        "realisation_factor": realisation,
        "satisfaction_factor": satisfaction,
        "formula_fr": (
            "part variable gagnée = part variable maximale × (0,5 × min(taux de réalisation ; 1)"
            f" + 0,5 × min(taux de satisfaits / {target} ; 1)) ; un taux non calculable "
            "compte pour 0."
        ),
        "value": variable_earned(variable_max, taux_realisation, taux_satisfaits,
                                 satisfaction_target),
    }


# --------------------------------------------------------------------------- balance

def balance(price_fixed: float, variable_earned: float,
            paid_by_kind: Mapping[str, float]) -> dict[str, Any]:
    """What is owed (fixed part + variable earned) minus everything paid (FIXE, VARIABLE,
    REGULARISATION; a refund is a negative REGULARISATION).

    `balance` > 0: France compétences still owes it to the operator (« reste dû »);
    `balance` < 0: the operator has been overpaid and owes it back (« trop-perçu »)."""
    earned = _dec(price_fixed) + _dec(variable_earned)
    paid_total = sum((_dec(v) for v in paid_by_kind.values()), Decimal(0))
    amount = earned - paid_total
    if amount > 0:
        status, label = "DU", f"Reste dû à l'opérateur : {euros_fr(_euros(amount))}"
    elif amount < 0:
        status, label = "TROP_PERCU", f"Trop-perçu par l'opérateur : {euros_fr(_euros(-amount))}"
    else:
        status, label = "SOLDE", "Contrat soldé : rien n'est dû."
    return {
        "earned": _euros(earned),
        "paid_by_kind": {k: _euros(_dec(paid_by_kind.get(k))) for k in
                         dict.fromkeys(PAYMENT_KINDS + tuple(paid_by_kind))},
        "paid_total": _euros(paid_total),
        "balance": _euros(amount),
        "status": status,
        "label_fr": label,
    }


def funding_gap(declared_fc_funding: float | None, paid_total: float,
                tolerance: float = DEFAULT_GAP_TOLERANCE) -> dict[str, Any]:
    """FINANCEMENT_FRANCE_COMPETENCES declared in the workbook vs paid.

    gap = declared - paid; flagged when |gap| > tolerance × paid (exactly 2 % is not
    flagged). relative_gap is None when nothing was paid; any declared funding is then
    flagged, as any gap exceeds 2 % of 0. No declaration (None): nothing to compare,
    gap None, not flagged."""
    if declared_fc_funding is None:
        return {"declared": None, "paid": paid_total, "gap": None,
                "relative_gap": None, "flagged": False}
    declared, paid = _dec(declared_fc_funding), _dec(paid_total)
    gap = declared - paid
    return {
        "declared": _euros(declared),
        "paid": _euros(paid),
        "gap": _euros(gap),
        "relative_gap": float(gap / paid) if paid else None,
        "flagged": abs(gap) > _dec(tolerance) * abs(paid),
    }


# --------------------------------------------------------------------------- comparisons

def median(values: Iterable[float | None]) -> float | None:
    """Median of the calculable values (None ignored); None when there are none."""
    present = [v for v in values if v is not None]
    return float(statistics.median(present)) if present else None


def position_vs_median(value: float | None, median_value: float | None) -> dict[str, Any]:
    """A contract's figure against the national median: ratio value / median and a label."""
    if value is None or median_value is None:
        return {"ratio": None, "label_fr": "non calculable"}
    if value > median_value:
        label = "au-dessus de la médiane"
    elif value < median_value:
        label = "en dessous de la médiane"
    else:
        label = "égal à la médiane"
    ratio = value / median_value if median_value else None
    return {"ratio": ratio, "label_fr": label}


def charge_shares(finances: Mapping[str, float] | None) -> dict[str, float | None]:
    """Share of each charge poste in charges_totales; None everywhere when the total is 0
    or nothing was declared."""
    total = charges_total(finances)
    return {p: share((finances or {}).get(p) or 0, total) for p in CHARGE_POSTES}
