"""The contract page is generated from the declaration that drives the validator."""
from quality_framework.workbook import load_contract
from tests.conftest import page


def test_contract_page_lists_every_sheet_column_and_problem_code(client_for):
    text = page(client_for("operateur").get("/suivi/bilans/contrat?annee=2025"))
    contract = load_contract()
    for sheet in contract.sheets:
        assert f"Feuille « {sheet.name} »" in text
        for column in sheet.columns:
            assert column.name in text
            assert column.expected_text(2025) in text
    for code in contract.problem_codes:
        assert code in text
    # date bounds follow the year asked for
    assert "31/12/2025" in text and "01/01/2020" in text


def test_contract_page_tolerates_a_bad_year(client_for):
    assert client_for("observateur").get("/suivi/bilans/contrat?annee=abc").status_code == 200
