"""The fund-use report assembled by quality_framework.fund_use_report, checked by hand."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from quality_framework.fund_use_report import (
    SUMMARY_COLUMNS, ContractInput, PaymentInput, VersionInput, build_report, contract_funds,
    series, summary,
)
from quality_framework.indicators import Counts


def contract(cid, region, price, capacity, ref=None, **kw):
    return ContractInput(id=cid, reference=ref or f"CEP-{cid}", region_code=region,
                         operator_name=f"Op {cid}", annual_price=price,
                         annual_capacity=capacity, starts_on=date(2024, 1, 1),
                         ends_on=date(2027, 12, 31), **kw)


def version(vid, cid, counts, year=2024, etp=10.0, finances=None, number=1):
    return VersionInput(id=vid, contract_id=cid, year=year, number=number,
                        counts=counts.to_dict(), means={"etp_conseillers": etp},
                        finances=finances, uploaded_at=datetime(2025, 2, 1, 10, 0),
                        sha256="ab" * 32)


_pid = iter(range(1, 10_000))


def pay(cid, kind, amount, year=2024, on=date(2024, 6, 30)):
    return PaymentInput(id=next(_pid), contract_id=cid, year=year, kind=kind, amount=amount,
                        paid_on=on, reference=f"P{cid}")


def rates_counts(entrees, answers, satisfied):
    return Counts(entrees=entrees, parcours_actifs=entrees, sorties=answers,
                  satisfaction_answers=answers, satisfaction_satisfied=satisfied,
                  satisfaction_sum=4 * answers, heures_totales=10.0 * entrees)


# ------------------------------------------------------------------ variable part

@pytest.mark.parametrize("entrees, answers, satisfied, capacity, expected", [
    (0, 10, 0, 100, 0.0),              # both rates at 0
    (100, 100, 85, 100, 20000.0),      # both exactly at target
    (130, 100, 97, 100, 20000.0),      # above target: capped at the variable maximum
    (80, 100, 85, 100, 18000.0),       # 0.5 × 0.8 + 0.5 × 1
    (100, 0, 0, 100, 10000.0),         # no survey answer: taux_satisfaits non calculable = 0
    (100, 100, 85, None, 10000.0),     # no capacity: taux_realisation non calculable = 0
    (100, 100, 84, 100, 19882.35),     # just under the satisfaction target
])
def test_variable_part_boundaries_through_the_report(entrees, answers, satisfied, capacity,
                                                     expected):
    c = contract(1, "53", 100000, capacity)
    rep = build_report(2024, [c], [], [version(1, 1, rates_counts(entrees, answers, satisfied))])
    block = rep["contracts"][0]
    assert block["funds"]["variable_max"] == 20000.0
    assert block["funds"]["variable_earned"] == pytest.approx(expected, abs=0.005)
    explained = block["funds"]["variable"]
    assert "0,5 × min(taux de réalisation ; 1)" in explained["formula_fr"]
    assert explained["inputs"]["variable_max"] == 20000.0


def test_no_workbook_means_no_variable_part_and_no_activity():
    rep = build_report(2024, [contract(1, "53", 100000, 100)], [], [])
    block = rep["contracts"][0]
    assert block["funds"]["variable_earned"] == 0.0
    assert block["activity"]["entrees"] is None
    assert block["source"]["version"] is None
    assert rep["national"]["contracts_without_workbook"] == ["CEP-1"]
    # fixed part still due in full
    assert block["funds"]["balance"]["balance"] == 80000.0


# ------------------------------------------------------------------ two contracts

def two_contracts():
    a = contract(1, "53", 100000, 1000, ref="CEP-BRE")
    b = contract(2, "52", 50000, 500, ref="CEP-PDL")
    counts_a = Counts(entrees=800, parcours_actifs=1000, sorties=400, entrees_niveau1=100,
                      sorties_niveau2plus=300, sorties_niveau2plus_document_o=285,
                      sorties_courtes=40, satisfaction_answers=200, satisfaction_sum=800,
                      satisfaction_satisfied=170, heures_totales=4000.0,
                      heures_sorties=2000.0,
                      distributions={"type_sortie": {"ABANDON": 40, "PLAN_ACTION": 360}})
    counts_b = Counts(entrees=600, parcours_actifs=700, sorties=200, entrees_niveau1=300,
                      sorties_niveau2plus=100, sorties_niveau2plus_document_o=80,
                      sorties_courtes=20, satisfaction_answers=100, satisfaction_sum=350,
                      satisfaction_satisfied=60, heures_totales=3000.0,
                      heures_sorties=1000.0,
                      distributions={"type_sortie": {"ABANDON": 10, "PLAN_ACTION": 190}})
    fin_a = {"PERSONNEL": 60000, "LOCAUX": 20000, "FINANCEMENT_FRANCE_COMPETENCES": 95000}
    fin_b = {"PERSONNEL": 54000, "LOCAUX": 18000, "FINANCEMENT_FRANCE_COMPETENCES": 52000}
    versions = [version(11, 1, counts_a, etp=10.0, finances=fin_a),
                version(12, 2, counts_b, etp=5.0, finances=fin_b)]
    payments = [pay(1, "FIXE", 20000, on=date(2024, m, 28)) for m in (3, 6, 9, 12)]
    payments += [pay(1, "VARIABLE", 15000, on=date(2025, 4, 1)),
                 pay(2, "FIXE", 40000), pay(2, "VARIABLE", 10000, on=date(2025, 4, 1)),
                 pay(2, "FIXE", 500, year=2025, on=date(2025, 1, 15))]  # other year
    return [a, b], payments, versions


def test_report_by_hand_for_two_contracts_in_two_regions():
    contracts, payments, versions = two_contracts()
    rep = build_report(2024, contracts, payments, versions, audit_scores={1: (3.2, True)})
    a, b = rep["contracts"]  # sorted by region code: 52 then 53
    a, b = (b, a) if a["id"] == 2 else (a, b)
    assert a["reference"] == "CEP-BRE" and b["reference"] == "CEP-PDL"

    # funds
    assert a["funds"]["fixed"] == 80000.0 and a["funds"]["variable_max"] == 20000.0
    assert a["funds"]["paid_by_kind"] == {"FIXE": 80000.0, "VARIABLE": 15000.0,
                                          "REGULARISATION": 0.0}
    assert a["funds"]["variable_earned"] == 18000.0          # 20000 × (0.4 + 0.5)
    assert a["funds"]["balance"]["balance"] == 3000.0       # 98000 − 95000
    assert a["funds"]["balance"]["status"] == "DU"
    # B: realisation 1.2 capped at 1; satisfied 0.6 / 0.85
    assert b["funds"]["variable_earned"] == pytest.approx(
        round(10000 * (0.5 + 0.5 * 0.6 / 0.85), 2))
    assert b["funds"]["variable_earned"] == 8529.41
    assert b["funds"]["paid_total"] == 50000.0               # 2025 payment not counted
    assert b["funds"]["balance"]["balance"] == -1470.59
    assert b["funds"]["balance"]["status"] == "TROP_PERCU"

    # declared use
    assert a["use"]["charges_totales"] == 80000.0
    assert a["use"]["shares"]["PERSONNEL"] == pytest.approx(0.75)
    assert a["use"]["fc_gap"]["flagged"] is False            # 95000 declared = paid
    assert b["use"]["fc_gap"]["gap"] == 2000.0               # 4 % of 50000
    assert b["use"]["fc_gap"]["flagged"] is True

    # activity and efficiency
    assert a["activity"]["taux_realisation"] == pytest.approx(0.8)
    assert a["efficiency"]["cout_par_entree"]["value"] == pytest.approx(100.0)
    assert b["efficiency"]["cout_par_entree"]["value"] == pytest.approx(120.0)
    assert a["efficiency"]["cout_par_heure"]["value"] == pytest.approx(20.0)
    assert b["efficiency"]["entrees_par_etp"]["value"] == pytest.approx(120.0)
    assert rep["medians"]["cout_par_entree"] == pytest.approx(110.0)
    assert rep["medians"]["entrees_par_etp"] == pytest.approx(100.0)   # (80 + 120) / 2
    assert a["efficiency"]["cout_par_entree"]["position"]["label_fr"] == "en dessous de la médiane"
    assert b["efficiency"]["cout_par_entree"]["position"]["label_fr"] == "au-dessus de la médiane"

    # quality
    assert a["quality"]["taux_satisfaits"] == pytest.approx(0.85)
    assert a["quality"]["taux_document_synthese"] == pytest.approx(0.95)
    assert a["quality"]["audit"] == {"score": 3.2, "has_major": True}
    assert b["quality"]["audit"] is None
    b_alerts = {x["indicator"] for x in b["quality"]["alerts"]}
    # B: information seule 50 %, satisfaits 60 %, document 80 %
    assert b_alerts == {"taux_information_seule", "taux_satisfaits", "taux_document_synthese"}
    assert {x["indicator"] for x in a["quality"]["alerts"]} == set()

    # regions: one contract each
    regions = {r["id"]: r for r in rep["regions"]}
    assert set(regions) == {"52", "53"}
    assert regions["53"]["funds"]["variable_earned"] == 18000.0
    assert regions["52"]["efficiency"]["cout_par_entree"]["value"] == pytest.approx(120.0)

    # national: rows aggregated, never percentages averaged
    nat = rep["national"]
    assert nat["activity"]["entrees"] == 1400
    assert nat["activity"]["taux_realisation"] == pytest.approx(1400 / 1500)
    assert nat["quality"]["taux_satisfaits"] == pytest.approx(230 / 300)
    assert nat["efficiency"]["cout_par_entree"]["value"] == pytest.approx(152000 / 1400)
    assert nat["funds"]["variable_earned"] == 26529.41
    assert nat["funds"]["paid_total"] == 145000.0
    assert nat["funds"]["balance"]["balance"] == 1529.41
    assert nat["funds"]["contracts_due"] == 1 and nat["funds"]["contracts_overpaid"] == 1
    assert nat["use"]["fc_gap"]["declared"] == 147000.0

    # sources: version and payments used
    assert {v["version_id"] for v in rep["sources"]["versions"]} == {11, 12}
    assert len(rep["sources"]["payments"]) == 7
    assert a["source"]["version"]["sha256"] == "ab" * 32


def test_summary_has_every_column_and_evolution_covers_earlier_years():
    contracts, payments, versions = two_contracts()
    versions.append(version(21, 1, rates_counts(900, 100, 90), year=2025,
                            finances={"PERSONNEL": 90000}))
    rep = build_report(2025, contracts, payments, versions)
    assert [k for k, _, _ in SUMMARY_COLUMNS] == list(summary(rep["national"]))
    evo = rep["evolution"]
    assert evo["years"] == [2024, 2025]
    assert series(evo, "entrees") == [1400, 900]
    assert series(evo, "entrees", "regions", "52") == [600, None]
    assert series(evo, "paid_total", "contracts", 2) == [50000.0, 500.0]
    assert rep["national"]["contracts_without_workbook"] == ["CEP-PDL"]


@pytest.mark.parametrize("declared, flagged", [
    (51000.00, False),   # exactly 2 % over what was paid: not flagged
    (51000.01, True),    # just over 2 %
    (49000.00, False),
    (48999.99, True),
])
def test_two_percent_gap_flag(declared, flagged):
    c = contract(1, "53", 62500, 100)   # fixed part 50000
    v = version(1, 1, rates_counts(100, 100, 85),
                finances={"PERSONNEL": 1000, "FINANCEMENT_FRANCE_COMPETENCES": declared})
    rep = build_report(2024, [c], [pay(1, "FIXE", 50000)], [v])
    gap = rep["contracts"][0]["use"]["fc_gap"]
    assert gap["paid"] == 50000.0
    assert gap["flagged"] is flagged
    assert rep["national"]["use"]["fc_gap"]["flagged"] is flagged


def test_regularisation_counts_in_the_balance():
    c = contract(1, "53", 100000, 100)
    payments = [pay(1, "FIXE", 80000), pay(1, "FIXE", 5000), pay(1, "REGULARISATION", -5000)]
    rep = build_report(2024, [c], payments, [])
    funds = rep["contracts"][0]["funds"]
    assert funds["paid_by_kind"]["REGULARISATION"] == -5000.0
    assert funds["paid_total"] == 80000.0
    assert funds["balance"]["status"] == "SOLDE"


# ------------------------------------------------------------------ evolution

def several_years():
    """Three contracts in two regions over 2023-2026: a contract ending in 2024, one
    starting in 2025, a re-deposited workbook (two versions given, the highest number
    wins), payments related to another year than they were paid in, a regularisation."""
    a = contract(1, "53", 100000, 1000, ref="CEP-A")
    b = ContractInput(id=2, reference="CEP-B", region_code="53", operator_name="Op 2",
                      annual_price=60000, annual_capacity=400, starts_on=date(2023, 3, 1),
                      ends_on=date(2024, 12, 31))
    c = ContractInput(id=3, reference="CEP-C", region_code="52", operator_name="Op 3",
                      annual_price=75000.5, annual_capacity=None, starts_on=date(2025, 1, 1),
                      ends_on=date(2026, 12, 31), fixed_share=0.7, satisfaction_target=0.8)
    fin = {"PERSONNEL": 50000, "LOCAUX": 12000.5, "FINANCEMENT_FRANCE_COMPETENCES": 70000}
    versions = [
        version(101, 1, rates_counts(700, 90, 80), year=2024, finances=fin),
        version(102, 1, rates_counts(650, 80, 60), year=2024, finances=fin, number=2),
        version(103, 2, rates_counts(300, 40, 39), year=2024, etp=3.5),
        version(104, 1, rates_counts(1100, 120, 100), year=2025, finances=fin),
        version(105, 3, rates_counts(200, 0, 0), year=2025, etp=0.0),
        version(106, 2, rates_counts(100, 10, 10), year=2023),
    ]
    payments = [pay(1, "FIXE", 80000, year=2024), pay(1, "VARIABLE", 12000.1, year=2024,
                                                     on=date(2025, 4, 15)),
                pay(2, "FIXE", 48000, year=2024), pay(2, "REGULARISATION", -1000.01, year=2024),
                pay(2, "FIXE", 12000, year=2023, on=date(2023, 12, 1)),
                pay(3, "FIXE", 60000.35, year=2025, on=date(2025, 6, 1)),
                pay(1, "FIXE", 85000, year=2025, on=date(2025, 6, 1)),
                pay(1, "FIXE", 1000, year=2026, on=date(2026, 1, 5))]
    return [a, b, c], payments, versions


@pytest.mark.parametrize("year", [2023, 2024, 2025, 2026, 2027])
def test_evolution_equals_the_reports_of_each_year_built_alone(year):
    contracts, payments, versions = several_years()
    scores = {1: (0.82, False), 3: (0.6, True)}
    rep = build_report(year, contracts, payments, versions, audit_scores=scores)
    evo = rep["evolution"]
    expected_years = sorted({y for y in (2023, 2024, 2025, 2026) if y < year} | {year})
    assert evo["years"] == expected_years
    for i, y in enumerate(expected_years):
        alone = build_report(y, contracts, payments, versions, audit_scores=scores,
                             with_evolution=False)
        assert evo["national"][i] == summary(alone["national"])
        for r in alone["regions"]:
            assert evo["regions"][r["id"]][y] == summary(r)
        for b in alone["contracts"]:
            assert evo["contracts"][b["id"]][y] == summary(b)
        # nothing more than the scopes present that year
        assert {k for k, per_year in evo["contracts"].items() if y in per_year} == \
            {b["id"] for b in alone["contracts"]}
        assert {k for k, per_year in evo["regions"].items() if y in per_year} == \
            {r["id"] for r in alone["regions"]}
    # the year itself: the report's own blocks, and the same report without evolution
    without = build_report(year, contracts, payments, versions, audit_scores=scores,
                           with_evolution=False)
    assert {k: v for k, v in rep.items() if k != "evolution"} == without


def test_evolution_figures_by_hand():
    contracts, payments, versions = several_years()
    evo = build_report(2025, contracts, payments, versions)["evolution"]
    assert evo["years"] == [2023, 2024, 2025]
    # 2024 of CEP-A uses version 2 (650 entries), not version 1
    assert series(evo, "entrees", "contracts", 1) == [None, 650, 1100]
    assert series(evo, "entrees") == [100, 950, 1300]
    assert series(evo, "paid_total", "contracts", 2) == [12000.0, 46999.99, None]
    assert series(evo, "paid_total", "regions", "52") == [None, None, 60000.35]


@pytest.mark.parametrize("year", [2023, 2024, 2025, 2026, 2027])
def test_contract_funds_are_the_report_funds_from_that_year_alone(year):
    """The dashboard's light computation: same contracts, order and funds as the report,
    even when given only the payments and versions of that year."""
    contracts, payments, versions = several_years()
    rep = build_report(year, contracts, payments, versions, with_evolution=False)
    expected = [(b["id"], b["reference"], b["funds"]) for b in rep["contracts"]]
    assert [(f["id"], f["reference"], f["funds"]) for f in
            contract_funds(year, contracts, payments, versions)] == expected
    only_year = contract_funds(year, contracts, [p for p in payments if p.year == year],
                               [v for v in versions if v.year == year])
    assert [(f["id"], f["reference"], f["funds"]) for f in only_year] == expected


def test_contract_funds_by_hand():
    contracts, payments, versions = several_years()
    funds = {f["reference"]: f["funds"] for f in contract_funds(2024, contracts, payments, versions)}
    assert set(funds) == {"CEP-A", "CEP-B"}  # CEP-C starts in 2025
    # CEP-B: 48000 fixed + regularisation −1000.01 paid; realisation min(300/400, 1)
    assert funds["CEP-B"]["paid_total"] == 46999.99
    assert funds["CEP-B"]["variable_earned"] == 10500.0  # 12000 × (0.5 × 0.75 + 0.5 × 1)
    assert funds["CEP-B"]["balance"]["balance"] == 11500.01  # 48000 + 10500 − 46999.99
    assert funds["CEP-B"]["balance"]["status"] == "DU"
