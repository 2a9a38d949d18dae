"""Tender tables. `Contract` is defined here first because every other domain
(workbooks, fund use, audits) hangs off it; the tender issue adds Tender, Lot,
Bid, evaluation and award tables beside it."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.clock import now
from platform_core.extensions import db
from platform_core.models import Organisation

CONTRACT_STATUSES = {"ACTIF": "actif", "TERMINE": "terminé", "RESILIE": "résilié"}


class Contract(db.Model):
    """A regional CEP contract awarded to an operator for a lot and a period."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The lot's region (INSEE code); lots grouping regions use their first region.
    region_code: Mapped[str] = mapped_column(String(3), index=True)
    lot_id: Mapped[int | None]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    annual_capacity: Mapped[int]
    annual_price: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    fixed_share: Mapped[float] = mapped_column(default=0.8)
    variable_share: Mapped[float] = mapped_column(default=0.2)
    satisfaction_target: Mapped[float] = mapped_column(default=0.85)
    status: Mapped[str] = mapped_column(String(10), default="ACTIF")
    created_at: Mapped[datetime] = mapped_column(default=now)
    version: Mapped[int] = mapped_column(default=1)

    operator: Mapped[Organisation] = relationship()

    __mapper_args__ = {"version_id_col": version}

    def covers_year(self, year: int) -> bool:
        return self.starts_on.year <= year <= self.ends_on.year

    @property
    def status_label(self) -> str:
        return CONTRACT_STATUSES.get(self.status, self.status)
