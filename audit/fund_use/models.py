"""Payments to operators. A payment is immutable once recorded: it is never edited or
deleted; a mistake is reversed by a REGULARISATION of the opposite amount that points at
it (`reverses_payment_id`)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_core.clock import now
from platform_core.extensions import db
from platform_core.models import User
from tenders.models import Contract

PAYMENT_KIND_LABELS = {"FIXE": "part fixe", "VARIABLE": "part variable",
                       "REGULARISATION": "régularisation"}


class PaymentIsImmutable(RuntimeError):
    pass


class Payment(db.Model):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    paid_on: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    kind: Mapped[str] = mapped_column(String(15))
    reference: Mapped[str] = mapped_column(String(80), default="")
    year: Mapped[int]  # the contract year the payment relates to
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=now)
    reverses_payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"),
                                                            unique=True)

    contract: Mapped[Contract] = relationship()
    recorded_by: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_payments_contract_year", "contract_id", "year"),)

    @property
    def kind_label(self) -> str:
        return PAYMENT_KIND_LABELS.get(self.kind, self.kind)


@event.listens_for(Payment, "before_update")
def _refuse_update(mapper, connection, target):
    raise PaymentIsImmutable("Un paiement enregistré ne peut pas être modifié : "
                             "enregistrez une régularisation.")


@event.listens_for(Payment, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise PaymentIsImmutable("Un paiement enregistré ne peut pas être supprimé : "
                             "enregistrez une régularisation.")
