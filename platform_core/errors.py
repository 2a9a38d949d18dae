"""French error pages; never a stack trace to users."""
from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: ("Requête incorrecte", "La requête envoyée n'a pas pu être comprise."),
    403: ("Accès refusé", "Vous n'avez pas les droits nécessaires pour accéder à cette page."),
    404: ("Page introuvable", "La page que vous cherchez n'existe pas ou n'est pas accessible."),
    405: ("Méthode non autorisée", "Cette action n'est pas possible sur cette page."),
    409: ("Conflit de modification", "Cet élément a été modifié entre-temps."),
    413: ("Fichier trop volumineux", "Le fichier envoyé dépasse la taille maximale autorisée."),
    429: ("Trop de tentatives", "Trop de requêtes en peu de temps : réessayez dans quelques minutes."),
    500: ("Erreur inattendue", "Une erreur s'est produite de notre côté. L'équipe technique a été prévenue."),
}


def render_error(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    return render_template("errors/error.html", code=code, title=title,
                           message=detail or message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(err):
        return render_error(
            400,
            "Le formulaire a expiré ou son jeton de sécurité (CSRF) est absent : "
            "rechargez la page et recommencez. Rien n'a été enregistré.",
        )

    @app.errorhandler(HTTPException)
    def http_error(err):
        return render_error(err.code or 500)

    @app.errorhandler(Exception)
    def unexpected(err):
        app.logger.exception("erreur non gérée")
        from .extensions import db

        db.session.rollback()
        return render_error(500)
