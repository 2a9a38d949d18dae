"""Annual activity workbook (« bilan annuel d'activité CEP »): contract, safe reader, validator.

Pure Python (no Flask). Public API:
    load_contract()                       -> Contract (contract.yaml as dataclasses)
    read_workbook(source, ...)            -> RawWorkbook, raises UnreadableWorkbook
    validate_workbook(source, *, expected_siret, allowed_regions, year, ...) -> ValidationResult
"""
from quality_framework.workbook.contract import Contract, load_contract
from quality_framework.workbook.reader import RawWorkbook, UnreadableWorkbook, read_workbook
from quality_framework.workbook.validator import Problem, ValidationResult, validate_workbook

__all__ = [
    "Contract", "load_contract", "RawWorkbook", "UnreadableWorkbook", "read_workbook",
    "Problem", "ValidationResult", "validate_workbook",
]
