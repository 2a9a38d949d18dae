"""A live server in a thread and headless Chromium (Debian's, never a download)."""
from __future__ import annotations

import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import skip_or_fail

CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if not path:
        skip_or_fail("Chromium absent : installez le paquet Debian chromium pour les tests navigateur")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("Le paquet Python playwright n'est pas installé")
    pw = sync_playwright().start()
    instance = pw.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
    yield instance
    instance.close()
    pw.stop()


@pytest.fixture
def live_server(app, accounts):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page_for(browser, live_server):
    """page_for('acheteur') -> a Playwright page signed in with that account."""
    contexts = []

    def make(key: str):
        from tests.conftest import TEST_PASSWORD

        context = browser.new_context(locale="fr-FR")
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server}/connexion")
        page.fill("#email", f"{key}@test.example.fr")
        page.fill("#password", TEST_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/tableau-de-bord")
        return page

    yield make
    for context in contexts:
        context.close()
