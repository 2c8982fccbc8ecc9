"""The French catalogue is complete: every string the code and templates mark for translation, as
`make makemessages` extracts it now, has a French translation that is not fuzzy."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = Path("locale") / "fr" / "LC_MESSAGES" / "django.po"
# One extraction for the three tests, in one process when the suite runs in parallel.
pytestmark = pytest.mark.xdist_group("i18n")
SKIPPED = (".venv", "var", ".git", "__pycache__", "node_modules", "test-results", "bench")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Path:
    """A copy of the project with its catalogue refreshed from the sources, as `make makemessages` does."""
    copy = tmp_path_factory.mktemp("i18n") / "src"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*SKIPPED))
    env = {**os.environ, "DEBUG": "true", "HTTPS": "false", "VAR_DIR": str(copy / "var")}
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "fr", "--ignore=.venv", "--ignore=var",
                    "--no-obsolete", "--add-location", "file", "-v", "0"], cwd=copy, env=env, check=True,
                   capture_output=True, text=True, timeout=300)
    return copy / CATALOGUE


def _msgattrib(catalogue: Path, flag: str) -> list[str]:
    result = subprocess.run(["msgattrib", flag, str(catalogue)], capture_output=True, text=True, check=True)
    # msgattrib prints the header entry only when something else matched.
    entries = [block for block in result.stdout.split("\n\n") if 'msgid ""\nmsgstr ""\n"' not in block]
    return [block.strip() for block in entries if "msgid " in block]


def test_every_string_of_the_code_has_a_french_translation(extracted):
    missing = _msgattrib(extracted, "--untranslated")
    assert missing == [], f"{len(missing)} strings lack French (make makemessages, then translate):\n" + \
        "\n\n".join(missing[:40])


def test_no_french_translation_is_fuzzy(extracted):
    fuzzy = _msgattrib(extracted, "--only-fuzzy")
    assert fuzzy == [], f"{len(fuzzy)} fuzzy entries (check and remove the fuzzy flag):\n" + "\n\n".join(fuzzy[:40])


def test_the_committed_catalogue_is_the_extracted_one(extracted):
    """Nothing stays untranslated in the committed file either (what compilemessages ships)."""
    assert _msgattrib(ROOT / CATALOGUE, "--untranslated") == []
    assert _msgattrib(ROOT / CATALOGUE, "--only-fuzzy") == []
