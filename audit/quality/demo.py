"""Demo audits (step 40), built on the demo contracts of the tender step (order 10)."""
from __future__ import annotations

from platform_core.demo import register_demo_step


def load_demo_audits() -> str:
    from .demo_data import load

    return load()


register_demo_step(40, "audits qualité", load_demo_audits)
