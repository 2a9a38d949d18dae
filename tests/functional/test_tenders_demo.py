"""The tender demo step: realistic, idempotent, a Contract for every demo operator."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from platform_core.demo import DEMO_OPERATORS, load_core, operator_siret
from platform_core.extensions import db
from platform_core.models import Organisation
from tenders import demo
from tenders.models import Bid, Contract, Tender


def test_demo_step(app, client):
    load_core()
    db.session.commit()
    summary = demo.load()
    db.session.commit()
    assert "AO-CEP-2024-2027" in summary
    closed = db.session.scalar(select(Tender).where(Tender.reference == demo.REFERENCE))
    assert closed.status == "ATTRIBUEE" and len(closed.lots) == 18
    statuses = [lot.status for lot in closed.lots]
    assert statuses.count("INFRUCTUEUX") == 1 and statuses.count("ATTRIBUE") == 17
    inadmissible = db.session.scalar(select(func.count()).select_from(Bid).where(Bid.admissible.is_(False)))
    assert inadmissible >= 3
    contracts = db.session.scalars(select(Contract)).all()
    assert len(contracts) == 17
    # Reduced demonstration volumes, on the scale of the workbook demo (~850 entries/year).
    assert "volumes de démonstration réduits" in closed.title and "volumes de démonstration réduits" in summary
    assert all(1000 <= lot.annual_demand <= 1400 for lot in closed.lots)
    for c in contracts:
        assert c.starts_on == date(2024, 1, 1) and c.ends_on == date(2027, 12, 31)
        assert c.annual_capacity == demo.WINNER_CAPACITY[c.region_code]
        assert 850 <= c.annual_capacity <= 1300
        assert 550 <= float(c.annual_price) / c.annual_capacity <= 750
        assert 450_000 <= float(c.annual_price) <= 900_000
    # most contracts at ~90 % of the ~850 demo entries, one or two over-committed (alert)
    assert 1 <= sum(1 for c in contracts if c.annual_capacity > 850 / 0.8) <= 2
    winners = {c.operator_id for c in contracts}
    for i in range(len(DEMO_OPERATORS)):
        org = db.session.scalar(select(Organisation).where(Organisation.siret == operator_siret(i)))
        assert org.id in winners, org.name
        home = [c for c in contracts if c.operator_id == org.id and c.region_code == org.region_code]
        assert home, f"{org.name} ne gagne pas sa région"
    opened = db.session.scalar(select(Tender).where(Tender.reference == demo.OPEN_REFERENCE))
    assert opened.effective_status() == "PUBLIEE"
    # Idempotent.
    assert demo.load() is None
    assert db.session.scalar(select(func.count()).select_from(Contract)) == 17
