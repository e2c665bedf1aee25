"""The English catalogue covers every user-visible string in the sources, placeholders intact.

The message ids are the Swedish texts. The sources are extracted exactly as `make
translations-update` does (babel.cfg, with `_l` and `lazy_gettext` as extra keywords), so a
string added anywhere without an English translation fails here, named.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "coordination" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
SOURCE_DIRS = {"coordination", "notifications", "templates"}
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifr]")


def _in_sources(dirpath: str) -> bool:
    """Walk only the directories babel.cfg names (skips .venv, node_modules and the like)."""
    parts = Path(os.path.relpath(dirpath, ROOT)).parts
    return parts[0] in SOURCE_DIRS and not any(p.startswith((".", "_")) for p in parts)


def _extracted() -> dict[object, str]:
    """Every message id in the sources (a tuple for plurals), with its first location."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[object, str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS, directory_filter=_in_sources
    ):
        if context:
            message = (context, message)
        key = message if isinstance(message, str) else tuple(message)
        found.setdefault(key, f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def catalogue():
    with open(CATALOGUE, "rb") as po:
        return read_po(po, locale="en")


def _forms(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_every_message_in_the_sources_has_an_english_translation(catalogue):
    extracted = _extracted()
    assert len(extracted) > 100, "nothing extracted: is babel.cfg still at the repository root?"
    missing = []
    for key, where in extracted.items():
        msgid = key if isinstance(key, str) else key[0]
        message = catalogue.get(msgid)
        translated = (
            message is not None
            and not message.fuzzy
            and all(form.strip() for form in _forms(message.string))
        )
        if not translated:
            missing.append(f"{where}: {msgid!r}")
    assert not missing, (
        f"{len(missing)} message(s) without an English translation (run `make "
        "translations-update` and fill in coordination/translations/en/LC_MESSAGES/"
        "messages.po):\n" + "\n".join(missing)
    )


def test_translations_keep_the_placeholders_of_their_message_ids(catalogue):
    wrong = []
    for message in catalogue:
        if not message.id or not message.string:
            continue
        ids = _forms(message.id)
        for n, translation in enumerate(_forms(message.string)):
            if not translation:
                continue
            source = ids[min(n, len(ids) - 1)]
            expected = set(PLACEHOLDER.findall(source))
            found = set(PLACEHOLDER.findall(translation))
            if found != expected or translation.count("%%") != source.count("%%"):
                wrong.append(f"{source!r} -> {translation!r}")
    assert not wrong, "translations whose %(name)s placeholders differ:\n" + "\n".join(wrong)


def test_the_catalogue_has_no_fuzzy_or_obsolete_entries(catalogue):
    fuzzy = [message.id for message in catalogue if message.id and message.fuzzy]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not catalogue.obsolete, f"obsolete entries: {list(catalogue.obsolete)}"
