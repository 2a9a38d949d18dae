"""The demo step: nothing without contracts, every state with contracts, idempotent."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from audit.quality.demo_data import load
from audit.quality.models import Audit, CorrectiveAction
from audit.quality.services import action_overdue
from platform_core.demo import load_core
from platform_core.extensions import db
from platform_core.models import Organisation
from tests.functional.quality_support import make_contract


def test_demo_without_contracts_creates_nothing(app):
    load_core()
    assert "aucun marché" in load()
    assert db.session.scalar(select(func.count(Audit.id))) == 0


def test_demo_audits_in_every_state_and_idempotent(app):
    load_core()
    db.session.commit()
    operators = list(db.session.scalars(select(Organisation).where(Organisation.kind == "OPERATEUR")
                                        .order_by(Organisation.id)))
    for i, org in enumerate(operators[:6]):
        make_contract(org.id, region=org.region_code or "53", reference=f"DEMO-{i}",
                      starts=date(2024, 1, 1), ends=date(2027, 12, 31))
    summary = load()
    db.session.commit()
    assert "audits qualité" in summary
    states = {s for (s,) in db.session.execute(select(Audit.state))}
    assert states == {"planifie", "en_cours", "soumis", "valide", "clos"}
    actions = list(db.session.scalars(select(CorrectiveAction)))
    assert any(action_overdue(a) for a in actions)
    count = db.session.scalar(select(func.count(Audit.id)))
    assert load() is None
    assert db.session.scalar(select(func.count(Audit.id))) == count
