"""What the suite needs from the machine: `make test` names everything missing and the package that brings
it, in one message, before any test runs; and what it has is enough to print a document (WeasyPrint on
Pango) and read it back as a person would (its text, its QR code), with no system program."""

import os
import subprocess
import sys

from saved_cards.views import qr_svg
from tests.readers import pdf_pages_pictures, pdf_pages_text, qr_codes
from tests.system_check import ROOT


def test_the_check_names_everything_missing_and_the_package_to_install(tmp_path):
    nothing_installed = tmp_path / "bin"
    nothing_installed.mkdir()
    env = {**os.environ, "PATH": str(nothing_installed),
           "DATABASE_URL": "postgres://postgres@127.0.0.1:9/posbackoffice", "REDIS_URL": "redis://127.0.0.1:9/0"}
    result = subprocess.run([sys.executable, "-m", "tests.system_check"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)

    assert result.returncode == 1
    message = result.stderr
    assert message.startswith("The tests need, and this machine lacks:")
    assert "msgfmt, msgattrib, xgettext (translations): apt-get install -y gettext" in message
    assert "redis-server (worker tests start their own Redis): apt-get install -y redis-server" in message
    assert "PostgreSQL is not reachable at 127.0.0.1:9 (DATABASE_URL)" in message
    assert "Redis is not reachable at 127.0.0.1:9 (REDIS_URL)" in message
    assert "WeasyPrint" not in message  # found whatever PATH says: it is a library of this Python


def test_a_printed_page_reads_back_its_text_and_its_qr_code():
    import weasyprint

    link = "http://192.168.1.20:8000/card/abc:def/"
    document = weasyprint.HTML(string=f"<h1>Reçu n° 42</h1><p>Total 40,00 €</p><div class=qr>{qr_svg(link)}</div>",
                               ).write_pdf(stylesheets=[weasyprint.CSS(string=".qr { width: 5cm }")])

    [text] = pdf_pages_text(document)
    assert text.splitlines() == ["Reçu n° 42", "Total 40,00 €"]
    [page] = pdf_pages_pictures(document)
    assert qr_codes(page) == [link]
