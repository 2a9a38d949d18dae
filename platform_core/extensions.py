"""Flask extensions, created once and bound to the app in the factory."""
import os

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
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
