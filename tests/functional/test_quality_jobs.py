"""Yearly planning job (idempotent, rotation skipping declared conflicts), corrective
action deadline reminders, and latest_audit_scores for the fund-use domain."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from audit.quality import jobs
from audit.quality.models import Audit, AuditorConflict, CorrectiveAction, Finding
from audit.quality.services import latest_audit_scores
from platform_core.extensions import db
from platform_core.models import User, UserRole
from platform_core.scheduler import JOBS
from tests.functional.quality_support import make_audit, make_contract


def _auditor(email, password_hash) -> int:
    user = User(email=email, full_name=email.split("@")[0], password_hash=password_hash,
                must_change_password=False, roles=[UserRole(role="auditeur")])
    db.session.add(user)
    db.session.commit()
    return user.id


def test_jobs_are_registered():
    assert {"planification_audits", "actions_correctives_echeances"} <= set(JOBS)


def test_planning_job_twice_one_audit_per_contract_and_year_with_rotation(app, accounts, password_hash):
    second = _auditor("deuxieme.auditeur@test.example.fr", password_hash)
    first = accounts["auditeur"]
    op_a, op_b = accounts["_orgs"]["op_a"], accounts["_orgs"]["op_b"]
    c1 = make_contract(op_a, reference="C1")
    c2 = make_contract(op_b, region="52", reference="C2")
    c3 = make_contract(op_a, reference="C3")
    make_contract(op_b, region="52", reference="C4-ended", status="TERMINE")
    make_contract(op_b, region="52", reference="C5-later", starts=date(2027, 1, 1))
    # the first auditor declared a conflict with operator A: never lead of its audits
    db.session.add(AuditorConflict(auditor_id=first, organisation_id=op_a, reason="ancien salarié"))
    db.session.commit()

    # before the planning day (1 March, Paris time): nothing
    assert jobs.plan_audits(datetime(2025, 2, 28, 12))["crees"] == 0
    result = jobs.plan_audits(datetime(2025, 3, 1, 6))
    assert result["crees"] == 3
    again = jobs.plan_audits(datetime(2025, 3, 2, 6))
    assert again["crees"] == 0 and again["deja_presents"] == 3
    db.session.expire_all()
    audits = {a.contract.reference: a for a in db.session.scalars(select(Audit))}
    assert set(audits) == {"C1", "C2", "C3"}
    assert all(a.year == 2025 and a.origin == "planification" and a.state == "planifie" for a in audits.values())
    assert audits["C1"].lead_auditor_id == second and audits["C3"].lead_auditor_id == second
    assert audits["C2"].lead_auditor_id == first  # rotation: the least loaded auditor without conflict
    # next year: one more audit per contract
    assert jobs.plan_audits(datetime(2026, 3, 1, 6))["crees"] == 3
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Audit.id))) == 6
    assert c1 and c2 and c3


def test_planning_day_is_configurable(app, accounts):
    make_contract(accounts["_orgs"]["op_a"])
    app.config["AUDIT_PLANNING_DAY"] = "04-15"
    assert jobs.plan_audits(datetime(2025, 4, 1, 12))["crees"] == 0
    assert jobs.plan_audits(datetime(2025, 4, 15, 12))["crees"] == 1


def _action(audit, due: date, state="a_proposer", ind="A5") -> CorrectiveAction:
    finding = Finding(audit_id=audit.id, indicator_id=ind, rating="NC_MAJEURE", observation="x")
    action = CorrectiveAction(finding=finding, audit_id=audit.id, due_on=due, state=state)
    db.session.add(action)
    db.session.commit()
    return action


def test_deadline_job_through_the_scheduler_notifies_once(app, accounts):
    from platform_core.notifications import Notification
    from platform_core.scheduler import run_job

    audit = make_audit(make_contract(accounts["_orgs"]["op_a"]), 2025, accounts["auditeur"], state="valide")
    _action(audit, date(2025, 8, 1), ind="B4")  # overdue
    first = run_job("actions_correctives_echeances", now=datetime(2025, 9, 1, 7))
    assert first.outcome == "ok" and first.counts["notifications"] == 2
    second = run_job("actions_correctives_echeances", now=datetime(2025, 9, 2, 7))
    assert second.outcome == "ok" and second.counts["notifications"] == 0
    assert db.session.scalar(select(func.count(Notification.id))) == 2
    planning = run_job("planification_audits", now=datetime(2025, 3, 1, 6))
    assert planning.outcome == "ok" and planning.counts["deja_presents"] == 1


def test_deadline_job_notifies_operator_and_lead(app, accounts, monkeypatch):
    audit = make_audit(make_contract(accounts["_orgs"]["op_a"]), 2025, accounts["auditeur"], state="valide")
    _action(audit, date(2025, 9, 10), ind="A5")             # due in 9 days
    _action(audit, date(2025, 8, 1), ind="B4")              # overdue
    _action(audit, date(2025, 12, 1), ind="C1")             # far away
    _action(audit, date(2025, 8, 1), state="close", ind="D1")  # closed: ignored
    sent = []
    monkeypatch.setattr(jobs, "notify", lambda users, subject, body, link=None, key=None:
                        sent.append(({u.email for u in users}, subject, key)) or len(users))
    result = jobs.action_deadlines(datetime(2025, 9, 1, 7))
    assert result["a_echeance"] == 1 and result["en_retard"] == 1
    assert {k for _, _, k in sent} == {f"qualite-action-{i}-{s}" for i, s in ((1, "j15"), (2, "retard"))}
    for emails, _, _ in sent:
        assert emails == {"operateur@test.example.fr", "auditeur@test.example.fr"}


def test_latest_audit_scores(app, accounts):
    c1 = make_contract(accounts["_orgs"]["op_a"], reference="S1")
    c2 = make_contract(accounts["_orgs"]["op_b"], region="52", reference="S2")
    old = make_audit(c1, 2024, accounts["auditeur"], state="clos")
    new = make_audit(c1, 2025, accounts["auditeur"], state="valide")
    make_audit(c1, 2026, accounts["auditeur"], state="en_cours")
    make_audit(c2, 2025, accounts["auditeur"], state="soumis")
    old.score, new.score, new.has_major = 0.5, 0.9, True
    db.session.commit()
    assert latest_audit_scores([c1.id, c2.id]) == {c1.id: (0.9, True)}
    assert latest_audit_scores([]) == {}
