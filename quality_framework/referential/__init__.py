"""The versioned quality referential of the CEP service: data files (`versions/`),
loader and validator, JSON round trip for audits, xlsx export and import."""
from .loader import (
    available_versions,
    from_dict,
    latest_version,
    load_referential,
    load_version,
    validate_referential,
)
from .model import Node, Referential, ReferentialError
from .xlsx import export_referential_xlsx, import_referential_xlsx

__all__ = [
    "Node",
    "Referential",
    "ReferentialError",
    "available_versions",
    "export_referential_xlsx",
    "from_dict",
    "import_referential_xlsx",
    "latest_version",
    "load_referential",
    "load_version",
    "validate_referential",
]
