"""Who sees what: auditors only their audits, operators only their organisation's and
only what is addressed to them, observers validated scores of their region."""
from __future__ import annotations

import io

from sqlalchemy import select

from audit.quality.models import AuditAssignment, DocumentRequest, QualityFile
from platform_core.extensions import db
from platform_core.models import User, UserRole
from tests.conftest import page
from tests.functional.quality_support import PDF, all_leaves, make_audit, make_contract, rate


def _other_auditor(password_hash) -> int:
    user = User(email="autre.auditeur@test.example.fr", full_name="Autre auditeur", password_hash=password_hash,
                must_change_password=False, roles=[UserRole(role="auditeur")])
    db.session.add(user)
    db.session.commit()
    return user.id


def test_auditor_sees_only_audits_where_lead_or_assigned(client_for, accounts, password_hash):
    other = _other_auditor(password_hash)
    mine = make_audit(make_contract(accounts["_orgs"]["op_a"], reference="M-A"), 2025, accounts["auditeur"])
    theirs = make_audit(make_contract(accounts["_orgs"]["op_b"], region="52", reference="M-B"), 2025, other)
    auditor = client_for("auditeur")
    listing = page(auditor.get("/suivi/audits/"))
    assert "M-A" in listing and "M-B" not in listing
    assert auditor.get(f"/suivi/audits/{theirs.id}").status_code == 404
    assert auditor.get(f"/suivi/audits/{theirs.id}/grille").status_code == 404
    r = auditor.post(f"/suivi/audits/{theirs.id}/grille/A1", data={"rating": "CONFORME"})
    assert r.status_code == 404
    assert auditor.get(f"/suivi/audits/{mine.id}/grille").status_code == 200
    db.session.add(AuditAssignment(audit_id=theirs.id, auditor_id=accounts["auditeur"]))
    db.session.commit()
    assert auditor.get(f"/suivi/audits/{theirs.id}/grille").status_code == 200
    # officers read everything
    assert "M-B" in page(client_for("acheteur").get("/suivi/audits/"))


def test_operator_sees_only_its_audits_and_what_is_addressed_to_it(client_for, accounts):
    audit = make_audit(make_contract(accounts["_orgs"]["op_a"], reference="M-A"), 2025, accounts["auditeur"],
                       state="en_cours")
    auditor = client_for("auditeur")
    auditor.post(f"/suivi/audits/{audit.id}/grille/A1",
                 data={"rating": "NC_MINEURE", "observation": "secret interne", "version": 0,
                       "evidence": (io.BytesIO(PDF), "preuve-interne.pdf")}, content_type="multipart/form-data")
    auditor.post(f"/suivi/audits/{audit.id}/demandes", data={"text": "Envoyez la charte d'accueil",
                                                             "due_on": "2025-05-01"})
    db.session.expire_all()
    req = db.session.scalar(select(DocumentRequest))
    internal_file = db.session.scalar(select(QualityFile))
    assert req is not None and internal_file is not None

    op_a, op_b = client_for("operateur"), client_for("operateur_b")
    detail = page(op_a.get(f"/suivi/audits/{audit.id}"))
    assert "Envoyez la charte d'accueil" in detail
    assert "secret interne" not in detail and "preuve-interne.pdf" not in detail
    assert "Score" not in detail  # no in-progress score for the operator
    assert op_a.get(f"/suivi/audits/{audit.id}/grille").status_code == 403
    assert op_a.get(f"/suivi/audits/{audit.id}/rapport").status_code == 404  # not before validation
    assert op_a.get(f"/suivi/audits/fichiers/{internal_file.id}").status_code == 404
    # the other operator sees nothing of it
    assert "M-A" not in page(op_b.get("/suivi/audits/"))
    assert op_b.get(f"/suivi/audits/{audit.id}").status_code == 404
    assert op_b.post(f"/suivi/audits/demandes/{req.id}/reponse", data={"response_text": "x"}).status_code == 404
    # the operator answers with a file; the auditor sees it
    r = op_a.post(f"/suivi/audits/demandes/{req.id}/reponse",
                  data={"response_text": "Voici la charte", "files": (io.BytesIO(PDF), "charte.pdf")},
                  content_type="multipart/form-data")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(DocumentRequest, req.id).status == "repondue"
    text = page(auditor.get(f"/suivi/audits/{audit.id}"))
    assert "Voici la charte" in text and "charte.pdf" in text
    answer = db.session.scalar(select(QualityFile).where(QualityFile.purpose == "reponse_demande"))
    assert op_a.get(f"/suivi/audits/fichiers/{answer.id}").status_code == 200
    # an empty answer is refused
    r = op_a.post(f"/suivi/audits/demandes/{req.id}/reponse", data={"response_text": ""}, follow_redirects=True)
    assert "Joignez un fichier ou écrivez une réponse" in page(r)


def test_observers_see_validated_scores_of_their_region(client_for, accounts):
    a53 = make_audit(make_contract(accounts["_orgs"]["op_a"], region="53", reference="M-53"), 2025,
                     accounts["auditeur"])
    a52 = make_audit(make_contract(accounts["_orgs"]["op_b"], region="52", reference="M-52"), 2025,
                     accounts["auditeur"])
    draft = make_audit(make_contract(accounts["_orgs"]["op_a"], region="53", reference="M-53b"), 2025,
                       accounts["auditeur"])
    for audit in (a53, a52):
        rate(audit, {ind: "CONFORME" for ind in all_leaves()})
        audit.state, audit.score = "valide", 1.0
    db.session.commit()
    bretagne, national = client_for("observateur_bretagne"), client_for("observateur")
    listing = page(bretagne.get("/suivi/audits/"))
    assert "M-53" in listing and "M-52" not in listing and "M-53b" not in listing
    assert bretagne.get(f"/suivi/audits/{a52.id}").status_code == 404
    assert bretagne.get(f"/suivi/audits/{draft.id}").status_code == 404
    assert "100,0\u202f%" in page(bretagne.get(f"/suivi/audits/{a53.id}"))
    assert bretagne.get(f"/suivi/audits/{a53.id}/grille").status_code == 403
    listing = page(national.get("/suivi/audits/"))
    assert "M-53" in listing and "M-52" in listing
    trends = page(national.get("/suivi/audits/tendances"))
    assert "2025" in trends and "100,0\u202f%" in trends
