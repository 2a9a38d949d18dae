"""Vectorised validation of an activity workbook against contract.yaml.

    validate_workbook(source, *, expected_siret, allowed_regions, year,
                      contract_region=None, max_rows=500_000, ...) -> ValidationResult

`source` is a path, bytes, a binary file or an already read `RawWorkbook`. A file that
cannot be read at all raises `UnreadableWorkbook` (reader.py). Every check works on whole
columns (masks built with isin / str.fullmatch / to_datetime / comparisons); Python loops
only run over the problems found, over columns, or over the few cells of the
Identification and Moyens sheets.

Problem codes (also declared in contract.yaml, `problem_codes`):
  errors   FEUILLE_MANQUANTE, COLONNE_MANQUANTE, COLONNE_EN_DOUBLE, CHAMP_MANQUANT,
           VALEUR_MANQUANTE, TYPE_INVALIDE, SIRET_INVALIDE, CODE_INCONNU,
           DATE_HORS_PERIODE, VALEUR_HORS_BORNES, SORTIE_INCOHERENTE,
           SATISFACTION_SUR_PARCOURS_OUVERT, DOUBLON, DONNEE_PERSONNELLE,
           IDENTIFICATION_INCORRECTE, FORMULE_SANS_VALEUR
  warnings COLONNE_INCONNUE, CHAMP_INCONNU, LIAISON_EXTERNE, DEPARTEMENT_HORS_REGION,
           DUREE_NIVEAU1_ELEVEE, TAUX_REPONSE_FAIBLE

Report conventions: `ligne` is the spreadsheet row (header = row 1, blank rows count);
`lettre` is the column letter in the uploaded file; `colonne` is the contract name of the
column, or for Identification / Moyens the name of the field (« siret »…), the cell being
in the `valeur` column; `valeur` is the text found (personal data masked).
Numbers written as text with a decimal comma ("12,5") are accepted (see cells.py).
The DEPARTEMENT_HORS_REGION warning uses `contract_region`, or when it is None the
Identification `code_region` if that one is valid and allowed.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from quality_framework import reference
from quality_framework.siret import normalise_siret, siret_error
from quality_framework.workbook import personal_data
from quality_framework.workbook.cells import normalise_name, parse_date, parse_number, text_frame, upper
from quality_framework.workbook.contract import ColumnSpec, Contract, SheetSpec, load_contract
from quality_framework.workbook.problems import ERROR, WARNING, Problem, ProblemSink, ValidationResult
from quality_framework.workbook.reader import (
    DEFAULT_MAX_BYTES, DEFAULT_MAX_ROWS, DEFAULT_MAX_UNCOMPRESSED, RawWorkbook, Source,
    _letter_index, column_letter, read_workbook,
)

BENEFICIARIES = "Beneficiaires"
_EMAIL_FULL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")


def validate_workbook(
    source: Source | RawWorkbook,
    *,
    expected_siret: str,
    allowed_regions: Iterable[str],
    year: int,
    contract_region: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_uncompressed: int = DEFAULT_MAX_UNCOMPRESSED,
    contract: Contract | None = None,
) -> ValidationResult:
    raw = source if isinstance(source, RawWorkbook) else read_workbook(
        source, max_bytes=max_bytes, max_uncompressed=max_uncompressed, max_rows=max_rows)
    return _Validator(contract or load_contract(), expected_siret, set(allowed_regions),
                      int(year), contract_region).run(raw)


@dataclass
class _Sheet:
    """A contract sheet located in the file."""

    spec: SheetSpec
    name: str  # as written in the file
    grid: pd.DataFrame
    text: pd.DataFrame
    header_row: int  # 0-based grid row
    columns: dict[str, int] = field(default_factory=dict)  # contract name -> grid column
    rows: pd.Index = field(default_factory=lambda: pd.Index([]))  # non-empty data rows

    def letter(self, name: str) -> str | None:
        return column_letter(self.columns[name]) if name in self.columns else None


@dataclass
class _Parsed:
    """One checked column: typed values (NaN/None when empty or invalid) and masks."""

    values: pd.Series
    text: pd.Series
    empty: pd.Series
    valid: pd.Series  # non-empty and passed every column check


class _Validator:
    def __init__(self, contract: Contract, expected_siret: str, allowed_regions: set[str],
                 year: int, contract_region: str | None) -> None:
        self.c = contract
        self.expected_siret = normalise_siret(expected_siret)
        self.allowed_regions = {_region_code(r) for r in allowed_regions}
        self.year = year
        self.contract_region = _region_code(contract_region) if contract_region else None
        self.sink = ProblemSink()
        self.parsed: dict[str, dict[str, _Parsed]] = {}
        # Cells allowed to hold what looks like personal data: {"email"|"nir": {sheet: {(row, col)}}}
        self.exempt: dict[str, dict[str, set[tuple[int, int]]]] = {"email": {}, "nir": {}}

    # -- orchestration -------------------------------------------------------------
    def run(self, raw: RawWorkbook) -> ValidationResult:
        texts = {name: text_frame(grid) for name, grid in raw.sheets.items()}
        found = self._locate_sheets(raw, texts)
        for spec in self.c.sheets:
            sheet = found.get(spec.name)
            if sheet is None:
                self.sink.add(spec.name, None, None, None, None, "FEUILLE_MANQUANTE",
                              f"Feuille « {spec.name} » absente : le classeur doit contenir les feuilles "
                              + ", ".join(s.name for s in self.c.sheets) + " (modèle officiel).")
            elif spec.layout == "table":
                self._check_table(sheet)
            else:
                self._check_fields(sheet)
        if BENEFICIARIES in found:
            self._beneficiary_rules(found[BENEFICIARIES])
        self._scan_personal_data(raw, texts, found)
        self._reader_notices(raw, found)
        return self._result(found)

    def _locate_sheets(self, raw: RawWorkbook, texts: dict[str, pd.DataFrame]) -> dict[str, _Sheet]:
        wanted = {normalise_name(s.name): s for s in self.c.sheets}
        found: dict[str, _Sheet] = {}
        for name, grid in raw.sheets.items():
            spec = wanted.get(normalise_name(name))
            if spec is None or spec.name in found:
                continue
            text = texts[name]
            nonempty_rows = text.index[(text != "").any(axis=1).to_numpy()] if len(text.columns) else text.index[:0]
            header = int(nonempty_rows[0]) if len(nonempty_rows) else 0
            sheet = _Sheet(spec, name, grid, text, header, rows=nonempty_rows[nonempty_rows > header])
            self._map_headers(sheet)
            found[spec.name] = sheet
        return found

    def _map_headers(self, sheet: _Sheet) -> None:
        spec = sheet.spec
        known = ([c.name for c in spec.columns] if spec.layout == "table"
                 else [spec.key_column, spec.value_column])
        by_norm = {normalise_name(n): n for n in known}
        header = sheet.text.loc[sheet.header_row] if len(sheet.text) else pd.Series(dtype=object)
        for col, title in header.items():
            norm = normalise_name(title)
            letter = column_letter(int(col))
            if norm in by_norm:
                name = by_norm[norm]
                if name in sheet.columns:
                    self.sink.add(sheet.name, sheet.header_row + 1, name, letter, title, "COLONNE_EN_DOUBLE",
                                  f"Colonne « {name} » en double (déjà en colonne {sheet.letter(name)}) : "
                                  "gardez une seule colonne de ce nom.")
                else:
                    sheet.columns[name] = int(col)
            elif not self._personal_header(sheet.name, sheet.header_row, int(col), title):
                has_data = title != "" or (sheet.text.loc[sheet.rows, col] != "").any()
                if has_data:
                    self.sink.add(sheet.name, sheet.header_row + 1, title or None, letter, title or None,
                                  "COLONNE_INCONNUE", "Colonne hors contrat, ignorée. Colonnes attendues : "
                                  + ", ".join(known) + ".", WARNING)

    def _personal_header(self, sheet: str, row: int, col: int, title: str) -> bool:
        if not _is_personal_name(title, self.c.personal_data_headers):
            return False
        self.sink.add(sheet, row + 1, title, column_letter(col), title, "DONNEE_PERSONNELLE",
                      f"Colonne « {title} » interdite : le bilan est pseudonyme, aucune donnée "
                      "personnelle (nom, prénom, e-mail, téléphone, adresse, date de naissance, NIR). "
                      "Supprimez cette colonne.")
        return True

    # -- sheets ----------------------------------------------------------------------
    def _check_table(self, sheet: _Sheet) -> None:
        out: dict[str, _Parsed] = {}
        for col in sheet.spec.columns:
            if col.name not in sheet.columns:
                if col.required:
                    self.sink.add(sheet.name, sheet.header_row + 1, col.name, None, None, "COLONNE_MANQUANTE",
                                  f"Colonne « {col.name} » absente ({col.description}). "
                                  "Ajoutez-la avec cet en-tête exact, dans n'importe quel ordre.")
                continue
            idx = sheet.columns[col.name]
            parsed = self._check_values(sheet.name, col, sheet.grid.loc[sheet.rows, idx],
                                        sheet.text.loc[sheet.rows, idx], column_letter(idx), col.name)
            if col.unique:
                self._duplicates(sheet.name, col, parsed, column_letter(idx))
            out[col.name] = parsed
        self.parsed[sheet.spec.name] = out

    def _check_fields(self, sheet: _Sheet) -> None:
        spec = sheet.spec
        out: dict[str, _Parsed] = {}
        self.parsed[spec.name] = out
        missing = [c for c in (spec.key_column, spec.value_column) if c not in sheet.columns]
        for name in missing:
            self.sink.add(sheet.name, sheet.header_row + 1, name, None, None, "COLONNE_MANQUANTE",
                          f"Colonne « {name} » absente : la feuille {spec.name} a deux colonnes, "
                          f"« {spec.key_column} » et « {spec.value_column} ».")
        if missing:
            return
        kcol, vcol = sheet.columns[spec.key_column], sheet.columns[spec.value_column]
        vletter = column_letter(vcol)
        keys = sheet.text.loc[sheet.rows, kcol].map(normalise_name)  # a few rows only
        fields = {f.name: f for f in spec.columns}
        for row, key in keys.items():
            if key and key not in fields and not self._personal_header(sheet.name, row, kcol, sheet.text.at[row, kcol]):
                self.sink.add(sheet.name, row + 1, sheet.text.at[row, kcol], column_letter(kcol),
                              sheet.text.at[row, kcol], "CHAMP_INCONNU",
                              "Champ hors contrat, ignoré. Champs attendus : " + ", ".join(fields) + ".", WARNING)
        for f in spec.columns:
            rows = keys.index[(keys == f.name).to_numpy()]
            if len(rows) == 0:
                if f.required:
                    self.sink.add(sheet.name, None, f.name, None, None, "CHAMP_MANQUANT",
                                  f"Champ « {f.name} » absent ({f.description}) : ajoutez une ligne "
                                  f"« {f.name} » dans la colonne {spec.key_column}.")
                continue
            for dup in rows[1:]:
                self.sink.add(sheet.name, dup + 1, f.name, column_letter(kcol), f.name, "DOUBLON",
                              f"Champ « {f.name} » déjà renseigné à la ligne {rows[0] + 1} : une seule ligne par champ.")
            first = rows[:1]
            if (spec.name, f.name) == self.c.email_allowed_in:
                self.exempt["email"].setdefault(sheet.name, set()).add((int(first[0]), vcol))
            if f.type == "siret":
                self.exempt["nir"].setdefault(sheet.name, set()).add((int(first[0]), vcol))
            out[f.name] = self._check_values(sheet.name, f, sheet.grid.loc[first, vcol],
                                             sheet.text.loc[first, vcol], vletter, f.name)
        if spec.name == "Identification":
            self._identification(sheet.name, out, vletter)

    # -- one column ------------------------------------------------------------------
    def _check_values(self, feuille: str, spec: ColumnSpec, raw: pd.Series, text: pd.Series,
                      lettre: str, colonne: str) -> _Parsed:
        add = self.sink.add_mask
        expected = spec.expected_text(self.year)
        empty = text == ""
        if not spec.nullable:
            add(feuille, empty, colonne, lettre, None, "VALEUR_MANQUANTE", f"Cellule vide. {expected}.")
        filled = ~empty
        t = spec.type
        if t in ("integer", "decimal", "year"):
            num = parse_number(raw, text)
            bad = filled & num.isna()
            if t != "decimal":
                bad |= filled & (num % 1 != 0)
            if t == "year":
                bad |= filled & ((num < 1000) | (num > 9999))
            if spec.max_decimals is not None:
                scaled = num * 10 ** spec.max_decimals
                bad |= filled & ((scaled - scaled.round()).abs() > 1e-6)
            add(feuille, bad, colonne, lettre, text, "TYPE_INVALIDE", f"Valeur non reconnue. {expected}.")
            ok = filled & ~bad
            if spec.codes is not None:
                out = ok & ~num.isin([float(c) for c in spec.allowed_codes()])
                add(feuille, out, colonne, lettre, text, "CODE_INCONNU", f"Code inconnu. {expected}.")
            else:
                out = pd.Series(False, index=num.index)
                if spec.min is not None:
                    out |= ok & ((num <= spec.min) if spec.min_exclusive else (num < spec.min))
                if spec.max is not None:
                    out |= ok & (num > spec.max)
                add(feuille, out, colonne, lettre, text, "VALEUR_HORS_BORNES", f"Valeur hors bornes. {expected}.")
            valid = ok & ~out
            return _Parsed(num.where(valid), text, empty, valid)
        if t == "date":
            dates = parse_date(text)
            bad = filled & dates.isna()
            add(feuille, bad, colonne, lettre, text, "TYPE_INVALIDE", f"Date non reconnue. {expected}.")
            lo, hi = spec.date_bounds(self.year)
            out = pd.Series(False, index=dates.index)
            if lo is not None:
                out |= dates < pd.Timestamp(lo)
            if hi is not None:
                out |= dates > pd.Timestamp(hi)
            add(feuille, out, colonne, lettre, text, "DATE_HORS_PERIODE", f"Date hors période. {expected}.")
            valid = filled & ~bad & ~out
            return _Parsed(dates.where(valid), text, empty, valid)
        if t == "code":
            allowed = spec.allowed_codes()
            codes = upper(text)
            valid = codes.isin(allowed)
            if spec.zero_pad and (filled & ~valid).any():  # « 1 » typed as a number means « 01 »
                retry = filled & ~valid
                codes = codes.copy()
                codes[retry] = codes[retry].str.zfill(spec.zero_pad)
                valid = codes.isin(allowed)
            add(feuille, filled & ~valid, colonne, lettre, text, "CODE_INCONNU", f"Code inconnu. {expected}.")
            return _Parsed(codes.where(valid, None), text, empty, valid)
        if t == "text" and spec.pattern:
            valid = filled & text.str.fullmatch(spec.pattern).fillna(False).astype(bool)
            add(feuille, filled & ~valid, colonne, lettre, text, "TYPE_INVALIDE", f"Valeur non reconnue. {expected}.")
            return _Parsed(text.where(valid, None), text, empty, valid)
        if t == "email":
            valid = filled & text.str.fullmatch(_EMAIL_FULL).fillna(False).astype(bool)
            add(feuille, filled & ~valid, colonne, lettre, text, "TYPE_INVALIDE", f"Valeur non reconnue. {expected}.")
            return _Parsed(text.where(valid, None), text, empty, valid)
        if t == "siret":  # only in Identification: one cell
            sirets = text.map(normalise_siret)
            errors = sirets.map(siret_error)
            bad = filled & errors.notna()
            add(feuille, bad, colonne, lettre, text, "SIRET_INVALIDE", errors.fillna("") + " " + expected + ".")
            valid = filled & ~bad
            return _Parsed(sirets.where(valid, None), text, empty, valid)
        return _Parsed(text.where(filled, None), text, empty, filled)

    def _duplicates(self, feuille: str, spec: ColumnSpec, parsed: _Parsed, lettre: str) -> None:
        keys = parsed.values.where(parsed.valid)
        dup = parsed.valid & keys.duplicated(keep="first")
        if not dup.any():
            return
        first_row = pd.Series(keys.index, index=keys.index).groupby(keys).transform("min")
        what = "Identifiant" if spec.type == "text" else "Code"
        msg = (f"{what} déjà présent à la ligne " + (first_row[dup] + 1).astype(str)
               + f" : chaque {spec.name} doit être unique dans le classeur.")
        self.sink.add_mask(feuille, dup, spec.name, lettre, parsed.text, "DOUBLON", msg)

    # -- cross-field rules -----------------------------------------------------------
    def _identification(self, feuille: str, fields: dict[str, _Parsed], lettre: str) -> None:
        def report(name: str, message: str) -> None:
            p = fields[name]
            self.sink.add(feuille, int(p.text.index[0]) + 1, name, lettre, p.text.iloc[0],
                          "IDENTIFICATION_INCORRECTE", message)

        if "siret" in fields and fields["siret"].valid.any():
            if fields["siret"].values.iloc[0] != self.expected_siret:
                report("siret", f"SIRET différent de celui de votre organisme ({self.expected_siret}) : "
                                "déposez le bilan de votre propre organisme.")
        if "code_region" in fields and fields["code_region"].valid.any():
            code = fields["code_region"].values.iloc[0]
            if code not in self.allowed_regions:
                allowed = ", ".join(f"{r} ({reference.regions()[r].name})" if r in reference.regions() else r
                                    for r in sorted(self.allowed_regions)) or "aucune"
                report("code_region", f"Région sans marché pour votre organisme. Région attendue : {allowed}.")
        if "annee" in fields and fields["annee"].valid.any():
            if int(fields["annee"].values.iloc[0]) != self.year:
                report("annee", f"Année différente de celle du dépôt : {self.year} attendu.")

    def _beneficiary_rules(self, sheet: _Sheet) -> None:
        p = self.parsed.get(BENEFICIARIES, {})
        rules, add = self.c.rules, self.sink.add_mask
        feuille = sheet.name

        def rule(rule_id: str, mask: pd.Series, message: str | pd.Series | None = None) -> None:
            r = rules[rule_id]
            add(feuille, mask, r.column, sheet.letter(r.column), p[r.column].text if r.column in p else None,
                r.code, r.message if message is None else message, ERROR if r.severite == "erreur" else WARNING)

        d_in, d_out = p.get("date_entree"), p.get("date_sortie")
        if d_in and d_out:
            before = d_in.valid & d_out.valid & (d_out.values < d_in.values)
            if before.any():
                head, tail = rules["sortie_avant_entree"].message.split("{date_entree}")
                rule("sortie_avant_entree", before, head + d_in.values.dt.strftime("%d/%m/%Y") + tail)
        kind = p.get("type_sortie")
        if kind and d_out:
            rule("type_sans_date", ~kind.empty & d_out.empty)
            rule("date_sans_type", ~d_out.empty & kind.empty)
        naf, statut = p.get("secteur_naf"), p.get("statut")
        if naf and statut:
            rule("naf_manquant", naf.empty & statut.valid & (statut.values != "INDEPENDANT"))
        sat = p.get("satisfaction")
        if sat and d_out:
            rule("satisfaction_parcours_ouvert", ~sat.empty & d_out.empty)
        region = self._warning_region()
        dep = p.get("departement")
        if dep and region:
            regions_of = {code: d.region_code for code, d in reference.departements().items()}
            outside = dep.valid & (dep.values.map(regions_of) != region)
            rule("departement_hors_region", outside,
                 rules["departement_hors_region"].message.format(region=_region_label(region)))
        niveau, duree = p.get("niveau_max"), p.get("duree_heures")
        if niveau and duree:
            limit = rules["duree_niveau1"].threshold or 10
            rule("duree_niveau1", niveau.valid & duree.valid & (niveau.values == 1) & (duree.values > limit))
        if sat and d_out:
            exits = d_out.valid & (d_out.values.dt.year == self.year)
            n_exits, n_answers = int(exits.sum()), int((exits & sat.valid).sum())
            r = rules["taux_reponse_faible"]
            if n_exits and n_answers / n_exits < (r.threshold or 0.10):
                self.sink.add(feuille, None, r.column, sheet.letter(r.column), None, r.code,
                              r.message.format(taux=f"{n_answers / n_exits:.1%}".replace(".", ","),
                                               reponses=n_answers, sorties=n_exits), WARNING)

    def _warning_region(self) -> str | None:
        if self.contract_region:
            return str(self.contract_region)
        code = self.parsed.get("Identification", {}).get("code_region")
        if code is not None and code.valid.any() and code.values.iloc[0] in self.allowed_regions:
            return code.values.iloc[0]
        return None

    # -- whole workbook --------------------------------------------------------------
    def _scan_personal_data(self, raw: RawWorkbook, texts: dict[str, pd.DataFrame],
                            found: dict[str, _Sheet]) -> None:
        located = {s.name: s for s in found.values()}
        for name, text in texts.items():
            sheet = located.get(name)
            if sheet is not None:
                names = {i: n for n, i in sheet.columns.items()}
            else:
                names = {}
                if len(text):  # other sheets: first non-empty row as headers, checked too
                    first = text.index[(text != "").any(axis=1).to_numpy()]
                    if len(first):
                        for col, title in text.loc[first[0]].items():
                            if self._personal_header(name, int(first[0]), int(col), title):
                                names[int(col)] = title
            letters = {int(c): column_letter(int(c)) for c in text.columns}
            personal_data.scan(name, text, self.sink, names, letters, self.exempt["email"].get(name, set()),
                               self.exempt["nir"].get(name, set()))

    def _reader_notices(self, raw: RawWorkbook, found: dict[str, _Sheet]) -> None:
        located = {s.name: s for s in found.values()}
        for n in raw.notices:
            severity = self.c.problem_codes.get(n.code, {}).get("severite", "erreur")
            if n.sheet is None:
                self.sink.add("", None, None, None, None, n.code, n.message, severity)
                continue
            sheet = located.get(n.sheet)
            if sheet is None:
                continue  # a formula without value in a sheet outside the contract is harmless
            names = {i: c for c, i in sheet.columns.items()}
            self.sink.add(sheet.name, n.row + 1, names.get(n.col), column_letter(n.col),
                          None, n.code, n.message, severity)

    def _result(self, found: dict[str, _Sheet]) -> ValidationResult:
        order = {s.name: i for i, s in enumerate(found.values())}
        order.update({s.name: i for i, s in enumerate(self.c.sheets) if s.name not in found})

        def key(p: Problem) -> tuple:
            return (order.get(p.feuille, len(order)), p.feuille, p.ligne or 0,
                    _letter_index(p.lettre) if p.lettre else -1)

        problems = sorted(self.sink.problems, key=key)
        result = ValidationResult(
            errors=[p for p in problems if p.severite == ERROR],
            warnings=[p for p in problems if p.severite != ERROR],
            lines={BENEFICIARIES: len(found[BENEFICIARIES].rows) if BENEFICIARIES in found else 0},
        )
        if result.valid:
            self._normalised(result, found)
        return result

    def _normalised(self, result: ValidationResult, found: dict[str, _Sheet]) -> None:
        ident = self.parsed.get("Identification", {})
        result.identification = {
            "siret": ident["siret"].values.iloc[0],
            "code_region": ident["code_region"].values.iloc[0],
            "annee": int(ident["annee"].values.iloc[0]),
            "contact_email": ident["contact_email"].values.iloc[0],
        }
        result.moyens = {n: float(p.values.iloc[0]) for n, p in self.parsed.get("Moyens", {}).items()}
        fin = self.parsed.get("Finances", {})
        result.finances = {code: 0.0 for code in self.c.sheet("Finances").column("poste").allowed_codes()}
        if "poste" in fin:
            result.finances.update(zip(fin["poste"].values.tolist(), fin["montant_eur"].values.astype(float).tolist()))
        benef = self.parsed.get(BENEFICIARIES, {})
        columns = {}
        for col in self.c.sheet(BENEFICIARIES).columns:
            values = benef[col.name].values.reset_index(drop=True)
            if col.type == "integer" and not col.nullable:
                values = values.astype("int64")
            elif col.type in ("integer", "decimal"):
                values = values.astype("float64")
            elif col.type in ("code", "text"):
                values = pd.Series(values.to_numpy(dtype=object), dtype=object)
            columns[col.name] = values
        # The spreadsheet row of each beneficiary (1-based, as the operator sees it), so
        # the rows behind an alert can be found in the file.
        columns["row_number"] = pd.Series(found[BENEFICIARIES].rows.to_numpy(dtype="int64") + 1)
        result.beneficiaries = pd.DataFrame(columns)


def _is_personal_name(title: str, forbidden: frozenset[str]) -> bool:
    norm = normalise_name(title)
    if not norm:
        return False
    squashed = {re.sub(r"[^a-z0-9]", "", f) for f in forbidden}
    return norm in forbidden or re.sub(r"[^a-z0-9]", "", norm) in squashed


def _region_code(code: object) -> str:
    """84 -> "84", 1 -> "01": callers may pass region codes as numbers."""
    text = str(code).strip()
    return text.zfill(2) if text.isdigit() else text


def _region_label(code: str) -> str:
    region = reference.regions().get(code)
    return f"{code} {region.name}" if region else code
