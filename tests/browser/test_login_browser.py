"""Each demo role signs in through the real UI in Chromium and sees its dashboard."""
from __future__ import annotations

import pytest

from platform_core.roles import ROLES

pytestmark = pytest.mark.browser


def test_each_role_sees_its_dashboard(page_for, live_server):
    for role, label in ROLES.items():
        page = page_for(role)
        assert page.locator("h1").first.inner_text() == "Tableau de bord"
        assert label.upper() in [t.upper() for t in page.locator("[data-testid=role]").all_inner_texts()]
        # the DSFR is served locally and applied (no CDN): the header is styled
        assert "Marianne" in page.evaluate("getComputedStyle(document.body).fontFamily")
        page.context.close()


def test_wrong_password_shows_french_error(browser, live_server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}/connexion")
    page.fill("#email", "acheteur@test.example.fr")
    page.fill("#password", "mauvais")
    page.click("button[type=submit]")
    assert "Adresse électronique ou mot de passe incorrect." in page.inner_text("main")
    context.close()


def test_each_demo_account_signs_in_with_its_printed_password(app, browser, live_server):
    """The accounts `flask demo` prints are the ones that work (one per role)."""
    from platform_core.demo import DEMO_ACCOUNTS, load_core
    from platform_core.extensions import db

    load_core()
    db.session.commit()
    seen_roles = set()
    for account in DEMO_ACCOUNTS:
        context = browser.new_context(locale="fr-FR")
        page = context.new_page()
        page.goto(f"{live_server}/connexion")
        page.fill("#email", account.email)
        page.fill("#password", account.password)
        page.click("button[type=submit]")
        page.wait_for_url("**/tableau-de-bord")
        badges = [t.upper() for t in page.locator("[data-testid=role]").all_inner_texts()]
        assert all(ROLES[r].upper() in badges for r in account.roles), (account.email, badges)
        seen_roles.update(account.roles)
        context.close()
    assert seen_roles == set(ROLES)
