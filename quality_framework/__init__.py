"""Pure-Python rules of the CEP platform: reference data, the workbook contract and
validator, the quality referential, and every formula (scores, indicators, alerts,
variable part). Nothing here imports Flask: views, exports, CLI and tests call it."""
