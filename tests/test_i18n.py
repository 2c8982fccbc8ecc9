import subprocess
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def _msgattrib(flag):
    result = subprocess.run(["msgattrib", flag, "--no-location", str(CATALOGUE)], capture_output=True, text=True,
                            check=True)
    # msgattrib prints the header entry only when something else matched.
    return [line for line in result.stdout.splitlines() if line.startswith("msgid ") and line != 'msgid ""']


def test_french_catalogue_is_complete():
    assert _msgattrib("--untranslated") == []


def test_french_catalogue_has_no_fuzzy_entries():
    assert _msgattrib("--only-fuzzy") == []
