"""HTTP security headers. The CSP allows no inline script or style: templates use
classes only, and scripts are served from /static."""
from __future__ import annotations

from flask import Flask

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    @app.after_request
    def set_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
        if app.config["ENV_NAME"] == "production":
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
            )
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _user_key() -> str:
    from flask import request
    from flask_login import current_user

    return f"user:{current_user.get_id()}" if current_user.is_authenticated else f"ip:{request.remote_addr}"


def upload_rate_limit(view):
    """Bound how many uploads one account may post per minute (UPLOAD_RATE_LIMIT):
    each upload costs parsing time, so a loop of them must not starve the server."""
    from flask import current_app

    from .extensions import limiter

    return limiter.limit(lambda: current_app.config["UPLOAD_RATE_LIMIT"], methods=["POST"],
                         key_func=_user_key)(view)
