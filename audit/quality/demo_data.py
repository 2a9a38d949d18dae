"""Demo audits; filled in below."""


def load() -> str:
    return "rien à créer"
