"""Rules of a quality audit against the referential: ratings and their required texts,
the score, corrective-action due dates, and the audit and corrective-action lifecycles
as data. Pure Python; the web layer stores states and calls these checks.

Choices (spec/quality-audit.md):
- Every rating other than CONFORME needs a written observation (what the auditor saw).
  NON_APPLICABLE also needs a separate justification (why the requirement does not apply
  to this operator): the observation does not stand in for it, because an N/A removes
  the indicator from the score's denominator and must be argued on its own.
- The score is the weighted share, among the rated applicable indicators, of those
  rated CONFORME. Indicators not rated yet are left out and listed in `unrated`, so a
  provisional score can be shown while the audit is in progress (`complete` tells).
- Corrective actions: created « à proposer » when an audit with a non-conformity is
  validated; the operator proposes, the auditor accepts or returns (with a reason), the
  operator declares it done with evidence, the auditor closes it or finds the evidence
  insufficient (back to « acceptée »).
"""
from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from fractions import Fraction

from quality_framework.referential.model import Referential

# ---------------------------------------------------------------- ratings


class Rating(StrEnum):
    CONFORME = "CONFORME"
    NC_MINEURE = "NC_MINEURE"
    NC_MAJEURE = "NC_MAJEURE"
    NON_APPLICABLE = "NON_APPLICABLE"

    @property
    def label(self) -> str:
        return RATING_LABELS[self]


RATING_LABELS: dict[Rating, str] = {
    Rating.CONFORME: "Conforme",
    Rating.NC_MINEURE: "Non-conformité mineure",
    Rating.NC_MAJEURE: "Non-conformité majeure",
    Rating.NON_APPLICABLE: "Non applicable",
}
MAX_TEXT_LENGTH = 10_000


def parse_rating(value: Rating | str) -> Rating:
    """A Rating from its code; ValueError with a French message otherwise."""
    try:
        return Rating(value)
    except ValueError:
        codes = ", ".join(r.value for r in Rating)
        raise ValueError(f"note inconnue « {value} » (attendu : {codes})") from None


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def rating_errors(
    rating: Rating | str | None, observation: str | None, justification: str | None = None
) -> list[str]:
    """French messages for a rating and its texts; [] if it can be saved."""
    if rating is None or rating == "":
        return ["aucune note choisie"]
    try:
        rating = parse_rating(rating)
    except ValueError as exc:
        return [str(exc)]
    errors: list[str] = []
    if rating is not Rating.CONFORME and _blank(observation):
        errors.append(f"une observation écrite est obligatoire pour la note « {rating.label} »")
    if rating is Rating.NON_APPLICABLE and _blank(justification):
        errors.append(
            "la note « Non applicable » doit être justifiée : indiquer pourquoi l'exigence "
            "ne s'applique pas à cet opérateur"
        )
    for name, text in (("l'observation", observation), ("la justification", justification)):
        if text is not None and len(text) > MAX_TEXT_LENGTH:
            errors.append(f"{name} dépasse {MAX_TEXT_LENGTH:,} caractères".replace(",", "\u202f"))
    return errors


def opens_corrective_action(rating: Rating | str) -> bool:
    return parse_rating(rating) in (Rating.NC_MINEURE, Rating.NC_MAJEURE)


# ---------------------------------------------------------------- score


@dataclass(frozen=True)
class ScoreResult:
    """`score` and `by_axis` values are fractions in [0, 1], None when nothing
    applicable is rated. Lists hold leaf ids in referential order."""

    score: float | None
    has_major: bool
    majors: list[str] = field(default_factory=list)
    minors: list[str] = field(default_factory=list)
    by_axis: dict[str, float | None] = field(default_factory=dict)
    unrated: list[str] = field(default_factory=list)
    not_applicable: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.unrated


def _share(pairs: Iterable[tuple[float, Rating]]) -> float | None:
    # Fractions keep the arithmetic exact (e.g. 2/3 stays 2/3 until the end).
    applicable = Fraction(0)
    conforme = Fraction(0)
    for weight, rating in pairs:
        if rating is Rating.NON_APPLICABLE:
            continue
        applicable += Fraction(weight)
        if rating is Rating.CONFORME:
            conforme += Fraction(weight)
    return float(conforme / applicable) if applicable else None


def audit_score(
    referential: Referential, ratings: Mapping[str, Rating | str | None]
) -> ScoreResult:
    """Score of an audit. `ratings` maps leaf ids to ratings (None or absent = not rated
    yet). ValueError (French) for an id that is not a leaf of this version or an
    unknown rating: that would mean the audit is read against the wrong version."""
    leaf_ids = {leaf.id for leaf in referential.leaves()}
    strangers = sorted(set(ratings) - leaf_ids)
    if strangers:
        listed = ", ".join(f"« {s} »" for s in strangers)
        raise ValueError(
            f"indicateur(s) {listed} absent(s) de la version {referential.version} du référentiel"
        )
    parsed = {k: parse_rating(v) for k, v in ratings.items() if v is not None and v != ""}

    majors, minors, unrated, not_applicable = [], [], [], []
    rated: list[tuple[float, Rating]] = []
    by_axis: dict[str, float | None] = {}
    for axis in referential.axes():
        axis_pairs: list[tuple[float, Rating]] = []
        for leaf in axis.iter_leaves():
            rating = parsed.get(leaf.id)
            if rating is None:
                unrated.append(leaf.id)
                continue
            {Rating.NC_MAJEURE: majors, Rating.NC_MINEURE: minors,
             Rating.NON_APPLICABLE: not_applicable}.get(rating, []).append(leaf.id)
            axis_pairs.append((leaf.weight or 0, rating))
        by_axis[axis.id] = _share(axis_pairs)
        rated += axis_pairs
    return ScoreResult(
        score=_share(rated),
        has_major=bool(majors),
        majors=majors,
        minors=minors,
        by_axis=by_axis,
        unrated=unrated,
        not_applicable=not_applicable,
    )


def submission_errors(
    referential: Referential,
    entries: Mapping[str, tuple[Rating | str | None, str | None, str | None]],
) -> list[str]:
    """What prevents submitting an audit: every leaf rated, each rating with its texts.
    `entries` maps leaf id -> (rating, observation, justification)."""
    errors: list[str] = []
    for leaf in referential.leaves():
        rating, observation, justification = entries.get(leaf.id, (None, None, None))
        if rating is None or rating == "":
            errors.append(f"{leaf.id} — {leaf.title} : indicateur non noté")
            continue
        errors += [f"{leaf.id} — {leaf.title} : {e}" for e in rating_errors(rating, observation, justification)]
    return errors


# ---------------------------------------------------------------- due dates

DEFAULT_DUE_MONTHS: dict[str, int] = {"NC_MAJEURE": 3, "NC_MINEURE": 6}


def add_months(start: date, months: int) -> date:
    """`start` plus whole months, the day clamped to the end of the target month
    (31 January + 1 month = 28 or 29 February)."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))


def corrective_action_due_date(
    rating: Rating | str, validated_on: date, params: Mapping[str, int] | None = None
) -> date | None:
    """Due date of the corrective action opened by `rating` at the audit's validation
    (None for a rating that opens none). `params` overrides the months per rating."""
    rating = parse_rating(rating)
    months_by_rating = {**DEFAULT_DUE_MONTHS, **(params or {})}
    months = months_by_rating.get(rating.value)
    if months is None or not opens_corrective_action(rating):
        return None
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValueError(f"délai en mois invalide pour {rating.value} : {months!r} (entier ≥ 1 attendu)")
    return add_months(validated_on, months)


def is_overdue(due: date | None, today: date, closed: bool) -> bool:
    """Late once the due date has passed (the due day itself is still on time)."""
    return due is not None and not closed and today > due


# ---------------------------------------------------------------- lifecycles


class TransitionError(ValueError):
    """A forbidden change of state (French message)."""


class AuditState(StrEnum):
    PLANIFIE = "planifie"
    EN_COURS = "en_cours"
    SOUMIS = "soumis"
    VALIDE = "valide"
    CLOS = "clos"

    @property
    def label(self) -> str:
        return AUDIT_STATE_LABELS[self]


AUDIT_STATE_LABELS: dict[AuditState, str] = {
    AuditState.PLANIFIE: "planifié",
    AuditState.EN_COURS: "en cours",
    AuditState.SOUMIS: "soumis",
    AuditState.VALIDE: "validé",
    AuditState.CLOS: "clos",
}

# (from, to) -> action label for the button. soumis -> en_cours lets the lead auditor
# send the ratings back for rework before validating; nothing leaves « validé » but
# closure, since ratings are frozen there.
AUDIT_TRANSITIONS: dict[tuple[AuditState, AuditState], str] = {
    (AuditState.PLANIFIE, AuditState.EN_COURS): "Démarrer l'audit",
    (AuditState.EN_COURS, AuditState.SOUMIS): "Soumettre à l'auditeur principal",
    (AuditState.SOUMIS, AuditState.EN_COURS): "Renvoyer en cours",
    (AuditState.SOUMIS, AuditState.VALIDE): "Valider l'audit",
    (AuditState.VALIDE, AuditState.CLOS): "Clore l'audit",
}
# States where ratings, observations and evidence files can still change.
AUDIT_EDITABLE_STATES = frozenset({AuditState.PLANIFIE, AuditState.EN_COURS})


class ActionState(StrEnum):
    A_PROPOSER = "a_proposer"
    PROPOSEE = "proposee"
    ACCEPTEE = "acceptee"
    RENVOYEE = "renvoyee"
    REALISEE = "realisee"
    CLOSE = "close"

    @property
    def label(self) -> str:
        return ACTION_STATE_LABELS[self]


ACTION_STATE_LABELS: dict[ActionState, str] = {
    ActionState.A_PROPOSER: "à proposer",
    ActionState.PROPOSEE: "proposée",
    ActionState.ACCEPTEE: "acceptée",
    ActionState.RENVOYEE: "renvoyée",
    ActionState.REALISEE: "réalisée",
    ActionState.CLOSE: "close",
}

# (from, to) -> (who acts, button label). « operator » = the audited operator,
# « auditor » = an auditor of the audit.
ACTION_TRANSITIONS: dict[tuple[ActionState, ActionState], tuple[str, str]] = {
    (ActionState.A_PROPOSER, ActionState.PROPOSEE): ("operator", "Proposer l'action"),
    (ActionState.RENVOYEE, ActionState.PROPOSEE): ("operator", "Proposer à nouveau"),
    (ActionState.PROPOSEE, ActionState.ACCEPTEE): ("auditor", "Accepter"),
    (ActionState.PROPOSEE, ActionState.RENVOYEE): ("auditor", "Renvoyer pour reprise"),
    (ActionState.ACCEPTEE, ActionState.REALISEE): ("operator", "Déclarer réalisée"),
    (ActionState.REALISEE, ActionState.CLOSE): ("auditor", "Clore"),
    (ActionState.REALISEE, ActionState.ACCEPTEE): ("auditor", "Preuves insuffisantes"),
}
ACTION_INITIAL_STATE = ActionState.A_PROPOSER


def _refuse(state_from: StrEnum, state_to: StrEnum, allowed: list[StrEnum], what: str) -> None:
    frm, to = state_from.label, state_to.label  # type: ignore[attr-defined]
    if state_from == state_to:
        raise TransitionError(f"{what} est déjà « {frm} »")
    if not allowed:
        raise TransitionError(f"passage de « {frm} » à « {to} » impossible : « {frm} » est un état final")
    targets = ", ".join(f"« {s.label} »" for s in allowed)  # type: ignore[attr-defined]
    raise TransitionError(
        f"passage de « {frm} » à « {to} » impossible pour {what} (possible depuis « {frm} » : {targets})"
    )


def _parse(enum: type[StrEnum], value: str, what: str) -> StrEnum:
    try:
        return enum(value)
    except ValueError:
        codes = ", ".join(s.value for s in enum)
        raise TransitionError(f"état inconnu « {value} » pour {what} (attendu : {codes})") from None


def allowed_audit_transitions(state: AuditState | str) -> list[AuditState]:
    current = _parse(AuditState, state, "un audit")
    return [to for (frm, to) in AUDIT_TRANSITIONS if frm == current]


def check_transition(state_from: AuditState | str, state_to: AuditState | str) -> None:
    """None if an audit may go from `state_from` to `state_to`, else TransitionError."""
    frm = _parse(AuditState, state_from, "un audit")
    to = _parse(AuditState, state_to, "un audit")
    if (frm, to) not in AUDIT_TRANSITIONS:
        _refuse(frm, to, allowed_audit_transitions(frm), "l'audit")


def closure_errors(action_states: Iterable[ActionState | str]) -> list[str]:
    """What prevents closing a validated audit: every corrective action closed."""
    states = [_parse(ActionState, s, "une action corrective") for s in action_states]
    open_count = sum(1 for s in states if s is not ActionState.CLOSE)
    if open_count:
        return [f"{open_count} action(s) corrective(s) non close(s)"]
    return []


def allowed_action_transitions(state: ActionState | str) -> list[ActionState]:
    current = _parse(ActionState, state, "une action corrective")
    return [to for (frm, to) in ACTION_TRANSITIONS if frm == current]


def check_action_transition(
    state_from: ActionState | str,
    state_to: ActionState | str,
    *,
    has_evidence: bool = False,
    comment: str | None = None,
) -> None:
    """None if a corrective action may change state, else TransitionError. Declaring
    it done needs at least one evidence file; returning a proposal or refusing the
    evidence needs a written reason (`comment`)."""
    frm = _parse(ActionState, state_from, "une action corrective")
    to = _parse(ActionState, state_to, "une action corrective")
    if (frm, to) not in ACTION_TRANSITIONS:
        _refuse(frm, to, allowed_action_transitions(frm), "l'action corrective")
    if to is ActionState.REALISEE and not has_evidence:
        raise TransitionError("joindre au moins une preuve de réalisation avant de déclarer l'action réalisée")
    if to is ActionState.RENVOYEE or (frm, to) == (ActionState.REALISEE, ActionState.ACCEPTEE):
        if _blank(comment):
            raise TransitionError("indiquer le motif du renvoi à l'opérateur")
