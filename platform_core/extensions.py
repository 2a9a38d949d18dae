"""Flask extensions, created once and bound to the app in the factory."""
import os
import sqlite3

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names, so that Alembic migrations are identical on
# SQLite and PostgreSQL and can be altered later (batch mode on SQLite).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Per-process memory by default; set RATELIMIT_STORAGE_URI (e.g. memcached://…) to share
# counters between gunicorn workers. No default limit: sensitive routes opt in.
limiter = Limiter(key_func=get_remote_address,
                  storage_uri=os.environ.get("RATELIMIT_STORAGE_URI", "memory://"))


SQLITE_CACHE_KIB = 64 * 1024


@event.listens_for(Engine, "connect")
def _sqlite_page_cache(dbapi_connection, _record) -> None:
    """SQLite's default page cache is 2 MB: a 200 000-row workbook import then re-reads
    its five indexes from the OS for every batch of rows. 64 MB per connection makes that
    import a quarter faster (docs/performance-workbooks.md); PostgreSQL is untouched."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")

