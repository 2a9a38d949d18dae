"""Who has deposited: the officers' status board, the dashboard items and the
`rappels_bilans` reminder job. A workbook for year N is due on 31 March N+1."""
from __future__ import annotations

from datetime import date, datetime

from flask import render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from platform_core.clock import today_paris, to_paris
from platform_core.extensions import db
from platform_core.models import User, UserRole
from platform_core.notifications import notify
from platform_core.roles import ACHETEUR, ADMIN, OPERATEUR, allow
from platform_core.scheduler import register_job
from platform_core.ui import Attention, register_dashboard
from tenders.models import Contract

from .access import OFFICERS
from .models import WorkbookUpload, WorkbookVersion
from .views import bp


def due_on(year: int) -> date:
    return date(year + 1, 3, 31)


def statuses(year: int, contracts: list[Contract], today: date) -> list[dict]:
    """One line per contract covering year N: deposited / only refused attempts / late / expected."""
    ids = [c.id for c in contracts]
    current, attempts = {}, {}
    if ids:
        for v in db.session.scalars(select(WorkbookVersion).where(
                WorkbookVersion.contract_id.in_(ids), WorkbookVersion.year == year,
                WorkbookVersion.is_current.is_(True))):
            current[v.contract_id] = v
        for u in db.session.scalars(select(WorkbookUpload).where(
                WorkbookUpload.contract_id.in_(ids), WorkbookUpload.year == year,
                WorkbookUpload.dry_run.is_(False)).order_by(WorkbookUpload.id)):
            attempts.setdefault(u.contract_id, []).append(u)
    late = today > due_on(year)
    lines = []
    for c in contracts:
        version = current.get(c.id)
        tries = attempts.get(c.id, [])
        refused = [u for u in tries if u.outcome not in (None, "depose")]
        if version:
            key, label, level = "depose", f"déposé (version {version.number})", "success"
        elif refused:
            key, label, level = "echecs", f"seulement des dépôts refusés ({len(refused)})", "error"
        elif late:
            key, label, level = "retard", "en retard", "error"
        else:
            key, label, level = "attendu", f"attendu avant le {due_on(year):%d/%m/%Y}", "info"
        if key == "echecs" and late:
            label += ", en retard"
        lines.append({"contract": c, "key": key, "label": label, "level": level, "version": version,
                      "last_attempt": tries[-1] if tries else None, "late": late and not version})
    return lines


def contracts_for_year(year: int, active_only: bool = False) -> list[Contract]:
    q = select(Contract).options(selectinload(Contract.operator)).order_by(  # no N+1 (tests/perf)
        Contract.region_code, Contract.reference)
    if active_only:
        q = q.where(Contract.status == "ACTIF")
    return [c for c in db.session.scalars(q) if c.covers_year(year)]


@bp.route("/etat-des-depots")
@allow(ADMIN, ACHETEUR)
def status_board():
    today = today_paris()
    value = request.args.get("annee", "")
    year = int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else today.year - 1
    lines = statuses(year, contracts_for_year(year), today)
    summary = {k: sum(1 for line in lines if line["key"] == k) for k in ("depose", "echecs", "retard", "attendu")}
    return render_template("audit/workbooks/status.html", year=year, lines=lines, summary=summary,
                           due=due_on(year), years=list(range(today.year, today.year - 5, -1)))


# --------------------------------------------------------------------------- dashboard

@register_dashboard
def dashboard(user) -> list[Attention]:
    today = today_paris()
    year = today.year - 1  # the campaign due on 31 March of this year
    items: list[Attention] = []
    if user.has_role(OPERATEUR) and user.organisation_id:
        own = [c for c in contracts_for_year(year, active_only=True) if c.operator_id == user.organisation_id]
        for line in statuses(year, own, today):
            if line["key"] == "depose":
                continue
            c = line["contract"]
            detail = f"Marché {c.reference} : bilan {year} à déposer au plus tard le {due_on(year):%d/%m/%Y}"
            if line["key"] == "echecs":
                detail += " — le dernier dépôt a été refusé, corrigez les erreurs signalées"
            elif line["late"]:
                detail += " — en retard"
            items.append(Attention(f"Bilan d'activité {year} non déposé", detail + ".",
                                   url_for("audit.workbooks.upload", marche=c.id),
                                   "error" if line["late"] or line["key"] == "echecs" else "warning"))
    if user.has_role(*OFFICERS):
        lines = statuses(year, contracts_for_year(year), today)
        late = sum(1 for line in lines if line["late"])
        if late:
            items.append(Attention(f"Bilans {year} en retard", f"{late} marché(s) n'ont pas de bilan {year} "
                                   f"accepté (échéance du {due_on(year):%d/%m/%Y}).",
                                   url_for("audit.workbooks.status_board", annee=year), "warning", late))
    return items


# --------------------------------------------------------------------------- reminders

def reminder_stage(year: int, today: date) -> str | None:
    """J-30, J-7, J-1 before the due date, then one stage per week of delay."""
    days_left = (due_on(year) - today).days
    if days_left < 0:
        return f"retard-S{(-days_left - 1) // 7 + 1}"
    if days_left <= 1:
        return "J-1"
    if days_left <= 7:
        return "J-7"
    if days_left <= 30:
        return "J-30"
    return None


def send_reminders(now: datetime) -> dict:
    """Idempotent: notify(key=bilan-<contract>-<N>-<stage>) sends each stage once."""
    today = to_paris(now).date()
    year = today.year - 1
    stage = reminder_stage(year, today)
    if stage is None:
        return {"annee": year, "rappels": 0}
    sent = contracts = 0
    for line in statuses(year, contracts_for_year(year, active_only=True), today):
        if line["key"] == "depose":
            continue
        c = line["contract"]
        users = db.session.scalars(select(User).join(UserRole).where(
            User.organisation_id == c.operator_id, User.active.is_(True), UserRole.role == OPERATEUR)).all()
        if not users:
            continue
        contracts += 1
        late = stage.startswith("retard")
        subject = (f"Bilan d'activité {year} en retard — marché {c.reference}" if late else
                   f"Rappel : bilan d'activité {year} à déposer avant le {due_on(year):%d/%m/%Y}")
        body = (f"Le bilan annuel d'activité {year} du marché {c.reference} n'a pas encore été déposé "
                f"(échéance : {due_on(year):%d/%m/%Y}). Téléchargez le modèle, vérifiez votre classeur "
                "puis déposez-le sur la plateforme.")
        sent += notify(users, subject, body, link=f"/suivi/bilans/depot?marche={c.id}",
                       key=f"bilan-{c.id}-{year}-{stage}")
    db.session.commit()
    return {"annee": year, "etape": stage, "marches": contracts, "rappels": sent}


register_job("rappels_bilans", send_reminders, trigger={"hour": 8, "minute": 0},
             description="Rappels du bilan annuel d'activité : J-30, J-7, J-1 avant le 31 mars, "
                         "puis chaque semaine de retard, aux opérateurs qui n'ont pas déposé.")
