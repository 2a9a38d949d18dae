"""Tender pages: list, officer set-up (tender, lots, criteria, calendar, documents),
publication, cancellation, questions and answers, scoring simulation."""
from __future__ import annotations

import json
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from platform_core import journal
from platform_core.clock import now, to_paris
from platform_core.extensions import db
from platform_core.files import UploadRejected, read_upload
from platform_core.roles import ACHETEUR, ADMIN, EVALUATEUR, OBSERVATEUR, OPERATEUR, allow
from platform_core.ui import register_nav
from quality_framework import scoring
from quality_framework.reference import regions
from quality_framework.simulation import SimulationInputError, simulate

from . import forms as tf
from .models import DEFAULT_DOCUMENTS, Bid, EvaluatorAssignment, Lot, Tender, TenderQuestion
from .services import get_tender, is_officer, record_closing, set_status

bp = Blueprint("tenders", __name__, url_prefix="/appels-offres")
register_nav("Appels d'offres", "tenders.index",
             {ADMIN, ACHETEUR, EVALUATEUR, OPERATEUR, OBSERVATEUR}, order=10)

ALL = (ADMIN, ACHETEUR, EVALUATEUR, OPERATEUR, OBSERVATEUR)
OFFICERS = (ADMIN, ACHETEUR)
DEFAULT_DEMAND = 5000


@bp.route("/")
@allow(*ALL)
def index():
    query = select(Tender).order_by(Tender.submission_deadline.desc())
    tenders = db.session.scalars(query).all()
    if not is_officer(current_user):
        tenders = [t for t in tenders if t.status != "BROUILLON"]
        if current_user.has_role(EVALUATEUR) and not current_user.has_role(OPERATEUR, OBSERVATEUR):
            lot_ids = set(db.session.scalars(select(EvaluatorAssignment.lot_id).where(
                EvaluatorAssignment.user_id == current_user.id)).all())
            tenders = [t for t in tenders if any(lot.id in lot_ids for lot in t.lots)]
    return render_template("tenders/index.html", tenders=tenders)


def _form_values(tender: Tender | None) -> dict:
    """Form defaults in French wall-clock time."""
    def dt(v):
        return to_paris(v).strftime(tf.DATETIME_FORMAT) if v else ""

    if tender is None:
        start = now().replace(hour=10, minute=0, second=0, microsecond=0)
        return {"reference": "", "title": "", "period_start": f"{date.today().year + 1}-01-01",
                "period_end": f"{date.today().year + 4}-12-31",
                "publication_at": dt(start + timedelta(days=7)),
                "questions_deadline": dt(start + timedelta(days=30)),
                "submission_deadline": dt(start + timedelta(days=45)),
                "opening_at": dt(start + timedelta(days=46)),
                **{f"weight_{k}": v for k, v in scoring.DEFAULT_WEIGHTS.items()},
                **{k: getattr(scoring.DEFAULT_PARAMETERS, k) for k in _param_names()},
                "manual_criteria": "", "mandatory_documents": "\n".join(DEFAULT_DOCUMENTS)}
    manual = {c["code"] for c in tender.manual_criteria}
    return {"reference": tender.reference, "title": tender.title,
            "period_start": tender.period_start.isoformat(), "period_end": tender.period_end.isoformat(),
            "publication_at": dt(tender.publication_at), "questions_deadline": dt(tender.questions_deadline),
            "submission_deadline": dt(tender.submission_deadline), "opening_at": dt(tender.opening_at),
            **{f"weight_{k}": tender.weights.get(k, 0) for k in scoring.AUTOMATIC_CRITERIA},
            **tender.parameters,
            "manual_criteria": "\n".join(f"{c['code']} | {c['label']} | {scoring.fmt(tender.weights[c['code']])}"
                                         for c in tender.manual_criteria if c["code"] in manual),
            "mandatory_documents": "\n".join(tender.mandatory_documents)}


def _param_names():
    return ("entrees_max_par_etp", "delai_cible_jours", "delai_max_jours", "heures_hors_temps_cible",
            "experience_cible_annees", "formation_cible_heures")


@bp.route("/nouveau", methods=["GET", "POST"])
@allow(*OFFICERS)
def create():
    values, errors = _form_values(None), tf.Errors()
    if request.method == "POST":
        values, errors = tf.parse_tender(request.form)
        if not errors and db.session.scalar(select(Tender.id).where(Tender.reference == values["reference"])):
            errors.add("reference", "Référence : une consultation porte déjà cette référence.")
        if not errors:
            tender = Tender(**values, status="BROUILLON")
            for i, (code, region) in enumerate(regions().items(), start=1):
                tender.lots.append(Lot(number=i, title=f"Lot {i} — {region.name}", region_codes=[code],
                                       annual_demand=DEFAULT_DEMAND))
            db.session.add(tender)
            db.session.flush()
            journal.record("consultation_creee", "consultation", tender.id,
                           f"Consultation {tender.reference} créée avec {len(tender.lots)} lots régionaux.",
                           after={"reference": tender.reference, "poids": tender.weights})
            db.session.commit()
            flash("Consultation créée. Vérifiez les lots et leur demande annuelle.", "success")
            return redirect(url_for("tenders.lots", tender_id=tender.id))
        values = dict(request.form)
    return render_template("tenders/tender_form.html", values=values, errors=errors, tender=None,
                           criteria=scoring.AUTOMATIC_CRITERIA, params=_param_names())


@bp.route("/<int:tender_id>/modifier", methods=["GET", "POST"])
@allow(*OFFICERS)
def edit(tender_id: int):
    tender = get_tender(tender_id, current_user)
    if tender.status != "BROUILLON":
        flash("La consultation est publiée : ses critères, poids, calendrier et pièces sont figés.", "error")
        return redirect(url_for("tenders.show", tender_id=tender.id))
    values, errors = _form_values(tender), tf.Errors()
    if request.method == "POST":
        values, errors = tf.parse_tender(request.form)
        if not errors and values["reference"] != tender.reference and db.session.scalar(
                select(Tender.id).where(Tender.reference == values["reference"])):
            errors.add("reference", "Référence : une consultation porte déjà cette référence.")
        if not errors:
            before = {"poids": tender.weights, "documents": tender.mandatory_documents}
            for k, v in values.items():
                setattr(tender, k, v)
            journal.record("consultation_modifiee", "consultation", tender.id,
                           f"Consultation {tender.reference} modifiée.", before=before,
                           after={"poids": tender.weights, "documents": tender.mandatory_documents})
            db.session.commit()
            flash("Consultation enregistrée.", "success")
            return redirect(url_for("tenders.show", tender_id=tender.id))
        values = dict(request.form)
    return render_template("tenders/tender_form.html", values=values, errors=errors, tender=tender,
                           criteria=scoring.AUTOMATIC_CRITERIA, params=_param_names())


@bp.route("/<int:tender_id>")
@allow(*ALL)
def show(tender_id: int):
    tender = get_tender(tender_id, current_user)
    questions = db.session.scalars(select(TenderQuestion).where(TenderQuestion.tender_id == tender.id)
                                   .order_by(TenderQuestion.id)).all()
    counts = dict(db.session.execute(
        select(Bid.lot_id, func.count(Bid.id)).join(Lot).where(Lot.tender_id == tender.id, Bid.status == "DEPOSEE")
        .group_by(Bid.lot_id)).all())
    my_bids = {}
    if current_user.has_role(OPERATEUR) and current_user.organisation_id:
        my_bids = {b.lot_id: b for b in db.session.scalars(select(Bid).join(Lot).where(
            Lot.tender_id == tender.id, Bid.operator_id == current_user.organisation_id)).all()}
    assigned = set()
    if current_user.has_role(EVALUATEUR):
        assigned = set(db.session.scalars(select(EvaluatorAssignment.lot_id).where(
            EvaluatorAssignment.user_id == current_user.id)).all())
    return render_template("tenders/show.html", tender=tender, questions=questions, counts=counts,
                           my_bids=my_bids, assigned=assigned, status=tender.effective_status(),
                           officer=is_officer(current_user), now=now(),
                           label=lambda c: _criterion_label(tender, c))


def _criterion_label(tender, code):
    from .services import criterion_label
    return criterion_label(tender, code)


@bp.route("/<int:tender_id>/lots", methods=["GET", "POST"])
@allow(*OFFICERS)
def lots(tender_id: int):
    tender = get_tender(tender_id, current_user)
    errors = tf.Errors()
    if request.method == "POST":
        if tender.status != "BROUILLON":
            flash("La consultation est publiée : les lots sont figés.", "error")
            return redirect(url_for("tenders.show", tender_id=tender.id))
        plan, seen = [], {}
        for lot in tender.lots:
            p = f"lot_{lot.id}_"
            if request.form.get(p + "remove") == "oui":
                plan.append((lot, None))
                continue
            title = tf.text(request.form, p + "title", f"Lot {lot.number} — intitulé", errors, 200)
            codes = tf.parse_region_codes(request.form.get(p + "regions"), p + "regions", errors)
            for c in codes:
                if c in seen:
                    errors.add(p + "regions", f"Lot {lot.number} : la région {c} figure déjà dans le lot {seen[c]}.")
                seen[c] = lot.number
            demand = tf.number(request.form, p + "demand", f"Lot {lot.number} — demande annuelle", errors,
                               strict=True, integer=True)
            deps = [d for c in codes if c in regions() for d in regions()[c].departements]
            weights = tf.parse_departement_weights(request.form.get(p + "weights"), deps, p + "weights", errors)
            plan.append((lot, {"title": title, "region_codes": codes, "annual_demand": demand,
                               "departement_weights": weights}))
        if not errors and not any(v for _, v in plan):
            errors.add("lots", "Il faut au moins un lot.")
        if not errors:
            removed = []
            for lot, v in plan:
                if v is None:
                    removed.append(lot.number)
                    tender.lots.remove(lot)
                    db.session.delete(lot)
                else:
                    for k, val in v.items():
                        setattr(lot, k, val)
            for i, lot in enumerate(tender.lots, start=1):
                lot.number = i
            journal.record("lots_modifies", "consultation", tender.id,
                           f"Lots de {tender.reference} enregistrés"
                           + (f" (lots retirés : {', '.join(map(str, removed))})" if removed else "") + ".",
                           after={"lots": [{"numero": lot.number, "regions": lot.region_codes,
                                            "demande": lot.annual_demand} for lot in tender.lots]})
            db.session.commit()
            flash("Lots enregistrés.", "success")
            return redirect(url_for("tenders.lots", tender_id=tender.id))
    return render_template("tenders/lots.html", tender=tender, errors=errors, form=request.form,
                           regions=regions(), editable=tender.status == "BROUILLON")


@bp.route("/lots/<int:lot_id>/poids-xlsx", methods=["POST"])
@allow(*OFFICERS)
def import_weights(lot_id: int):
    """Département weights from an xlsx: column A département code, column B weight."""
    from io import BytesIO

    from openpyxl import load_workbook

    lot = db.session.get(Lot, lot_id)
    if lot is None:
        abort(404)
    tender = lot.tender
    if tender.status != "BROUILLON":
        flash("La consultation est publiée : les lots sont figés.", "error")
        return redirect(url_for("tenders.show", tender_id=tender.id))
    try:
        data, _ = read_upload(request.files.get("fichier"), kinds=("xlsx",))
        wb = load_workbook(BytesIO(data), read_only=True, data_only=True)
        pairs = []
        for row in wb.worksheets[0].iter_rows(values_only=True):
            if not row or row[0] is None:
                continue
            code = str(row[0]).strip()
            if code.lower().startswith("d"):  # header « département »
                continue
            code = code.zfill(2) if code.isdigit() and len(code) < 2 else code
            pairs.append(f"{code}={row[1] if len(row) > 1 else ''}")
    except UploadRejected as exc:
        flash(f"Fichier de poids : {exc}", "error")
        return redirect(url_for("tenders.lots", tender_id=tender.id))
    except Exception:  # noqa: BLE001 — unreadable workbook: say so, change nothing
        flash("Fichier de poids : classeur illisible (attendu : colonne A département, colonne B poids).", "error")
        return redirect(url_for("tenders.lots", tender_id=tender.id))
    errors = tf.Errors()
    weights = tf.parse_departement_weights(", ".join(pairs), lot.departements(), "w", errors)
    if errors or not weights:
        flash("Fichier de poids : " + (" ".join(errors.values()) or "aucune ligne lue."), "error")
        return redirect(url_for("tenders.lots", tender_id=tender.id))
    before = lot.departement_weights
    lot.departement_weights = weights
    journal.record("lot_poids_importes", "lot", lot.id, f"Poids des départements du lot {lot.number} importés.",
                   before={"poids": before}, after={"poids": weights})
    db.session.commit()
    flash(f"Poids des départements du lot {lot.number} importés.", "success")
    return redirect(url_for("tenders.lots", tender_id=tender.id))


def publication_problems(tender: Tender) -> list[str]:
    problems = [f"Critères et poids : {m}" for m in scoring.validate_weights(tender.weights, tender.manual_codes())]
    if not tender.lots:
        problems.append("Aucun lot.")
    for lot in tender.lots:
        if not lot.annual_demand or lot.annual_demand <= 0:
            problems.append(f"Lot {lot.number} : demande annuelle > 0 attendue.")
    if tender.submission_deadline <= now():
        problems.append("La date limite de dépôt est déjà passée.")
    if not tender.mandatory_documents:
        problems.append("Aucune pièce obligatoire.")
    return problems


@bp.route("/<int:tender_id>/publier", methods=["POST"])
@allow(*OFFICERS)
def publish(tender_id: int):
    tender = get_tender(tender_id, current_user)
    if tender.status != "BROUILLON":
        flash("Seule une consultation en brouillon peut être publiée.", "error")
        return redirect(url_for("tenders.show", tender_id=tender.id))
    problems = publication_problems(tender)
    if problems:
        flash("Publication impossible : " + " ".join(problems), "error")
        return redirect(url_for("tenders.show", tender_id=tender.id))
    set_status(tender, "PUBLIEE", "Critères, poids, lots et pièces figés.",
               poids=tender.weights, pieces=tender.mandatory_documents)
    db.session.commit()
    flash("Consultation publiée : critères, poids, lots et pièces sont désormais figés.", "success")
    return redirect(url_for("tenders.show", tender_id=tender.id))


@bp.route("/<int:tender_id>/annuler", methods=["POST"])
@allow(*OFFICERS)
def cancel(tender_id: int):
    tender = get_tender(tender_id, current_user)
    reason = (request.form.get("reason") or "").strip()
    if tender.status == "ANNULEE":
        flash("La consultation est déjà annulée.", "error")
    elif not reason:
        flash("Annulation : le motif est obligatoire.", "error")
    else:
        tender.cancel_reason = reason[:2000]
        set_status(tender, "ANNULEE", f"Motif : {reason[:2000]}", motif=reason[:2000])
        db.session.commit()
        flash("Consultation annulée.", "success")
    return redirect(url_for("tenders.show", tender_id=tender.id))


@bp.route("/<int:tender_id>/questions", methods=["POST"])
@allow(OPERATEUR)
def ask(tender_id: int):
    tender = get_tender(tender_id, current_user)
    text = (request.form.get("question") or "").strip()
    if tender.effective_status() != "PUBLIEE" or now() > tender.questions_deadline:
        flash("Les questions sont closes pour cette consultation.", "error")
    elif not text or len(text) > 4000:
        flash("Question : texte obligatoire (4 000 caractères au plus).", "error")
    else:
        q = TenderQuestion(tender_id=tender.id, asked_by_id=current_user.id, question=text)
        db.session.add(q)
        db.session.flush()
        journal.record("question_posee", "question", q.id, f"Question sur {tender.reference}.")
        db.session.commit()
        flash("Question transmise. La réponse sera publiée à tous les candidats, sans votre identité.", "success")
    return redirect(url_for("tenders.show", tender_id=tender.id))


@bp.route("/questions/<int:question_id>/repondre", methods=["POST"])
@allow(*OFFICERS)
def answer(question_id: int):
    q = db.session.get(TenderQuestion, question_id)
    if q is None:
        abort(404)
    text = (request.form.get("answer") or "").strip()
    if not text:
        flash("Réponse : texte obligatoire.", "error")
    else:
        before = q.answer
        q.answer, q.answered_at = text[:8000], now()
        journal.record("question_repondue", "question", q.id, "Réponse publiée à tous les candidats.",
                       before={"reponse": before}, after={"reponse": q.answer})
        db.session.commit()
        flash("Réponse publiée à tous les candidats (anonymisée).", "success")
    return redirect(url_for("tenders.show", tender_id=q.tender_id))


SAMPLE_SIMULATION = {
    "lot": {"departements": ["35", "22"], "demande_annuelle": 4000, "poids_departements": {"35": 2, "22": 1}},
    "criteres": dict(scoring.DEFAULT_WEIGHTS),
    "offres": [
        {"id": "B1", "date_depot": "2023-04-27T10:15:00", "capacite_annuelle": 3500, "etp_conseillers": 15,
         "delai_premier_rdv_jours": 7, "sites": [{"commune": "Rennes", "departement": "35", "type": "PERMANENT"}],
         "canaux_distance": ["TELEPHONE", "VISIO"], "heures_hors_temps_travail_hebdo": 6, "nb_conseillers": 18,
         "nb_conseillers_qualifies": 12, "experience_moyenne_annees": 4, "heures_formation_par_etp": 21,
         "analyse_des_pratiques": True, "prix_annuel_eur": 1900000},
        {"id": "B2", "date_depot": "2023-04-28T09:00:00", "capacite_annuelle": 4200, "etp_conseillers": 20,
         "delai_premier_rdv_jours": 4, "sites": [{"commune": "Saint-Brieuc", "departement": "22", "type": "PERMANENT"},
                                                 {"commune": "Vitré", "departement": "35", "type": "PERMANENCE"}],
         "canaux_distance": ["TELEPHONE", "VISIO", "WEB"], "heures_hors_temps_travail_hebdo": 8,
         "nb_conseillers": 22, "nb_conseillers_qualifies": 20, "experience_moyenne_annees": 6,
         "heures_formation_par_etp": 35, "analyse_des_pratiques": True, "prix_annuel_eur": 2300000},
    ],
}


@bp.route("/simulation", methods=["GET", "POST"])
@allow(*OFFICERS)
def simulation():
    source = json.dumps(SAMPLE_SIMULATION, ensure_ascii=False, indent=2)
    tender_id = request.args.get("consultation", type=int)
    if tender_id and request.method == "GET":
        tender = db.session.get(Tender, tender_id)
        if tender is not None:
            sample = dict(SAMPLE_SIMULATION, criteres={k: v for k, v in tender.weights.items()
                                                       if k in scoring.AUTOMATIC_CRITERIA},
                          parametres=tender.parameters)
            source = json.dumps(sample, ensure_ascii=False, indent=2)
    result, errors = None, []
    if request.method == "POST":
        source = request.form.get("input", "")
        try:
            result = simulate(json.loads(source))
        except json.JSONDecodeError as exc:
            errors = [f"JSON invalide, ligne {exc.lineno}, colonne {exc.colno}."]
        except SimulationInputError as exc:
            errors = exc.errors
    return render_template("tenders/simulation.html", source=source, result=result, errors=errors,
                           sub_scores=scoring.SUB_SCORES)


def close_if_due(tender: Tender) -> None:
    """Officer pages persist the automatic closing if the job has not run yet."""
    if record_closing(tender, now()):
        db.session.commit()


from . import views_bids, views_eval, views_history, views_outputs  # noqa: E402,F401  (routes on bp)
