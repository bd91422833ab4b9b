"""E-mail templates: one per catalog notification, in FR, NL and EN, CLDR-formatted, CSS inlined."""

from __future__ import annotations

import re

import jinja2
import jinja2.meta
import pytest
from babel.messages.pofile import read_po
from notif_mail_samples import SPECIFIC, context

from coop_notifications.adapters import templates
from coop_notifications.adapters.templates import LANGUAGES, TemplateError, render
from coop_notifications.domain.catalog import NOTIFICATIONS

NAMES = sorted(NOTIFICATIONS)


def test_every_catalog_notification_has_a_template_and_no_template_is_orphaned():
    assert templates.template_names() == NAMES


def test_templates_use_only_the_context_keys_the_catalog_documents():
    env = templates._environment("en", "html")
    provided = {"layout", "fmt", "language", "locale", "timezone", "_", "gettext", "ngettext",
                "namespace", "self", "m", "ns"}
    for name in NAMES:
        source = (templates.TEMPLATE_DIR / f"{name}.j2").read_text()
        used = jinja2.meta.find_undeclared_variables(env.parse(source))
        unknown = used - set(NOTIFICATIONS[name].all_context_keys) - provided
        assert not unknown, f"{name}.j2 uses keys the catalog does not document: {unknown}"


def test_the_samples_carry_exactly_the_catalog_context_keys():
    for name in NAMES:
        assert set(context(name)) == set(NOTIFICATIONS[name].all_context_keys), name
    assert set(SPECIFIC) == set(NAMES)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", NAMES)
def test_every_notification_renders_a_subject_an_html_and_a_text_part(name, language):
    rendered = render(name, language, context(name))
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{language}">' in rendered.html
    assert "M000042" in rendered.text and "M000042" in rendered.html
    assert "https://portal.coop.test/inbox/n-1" in rendered.text
    assert "{{" not in rendered.text and "%(" not in rendered.text and "%(" not in rendered.html


@pytest.mark.parametrize("name", NAMES)
def test_french_and_dutch_renderings_are_translated_not_english(name):
    english = render(name, "en", context(name))
    for language in ("fr", "nl"):
        other = render(name, language, context(name))
        assert other.subject != english.subject, (name, language)
        assert other.text != english.text


def _catalog(language):
    path = templates.I18N_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        return read_po(fh, locale=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_string_has_a_translation(language):
    extracted = templates.extract_catalog()
    catalog = _catalog(language)
    missing, fuzzy = [], []
    for message in extracted:
        if not message.id:
            continue
        translated = catalog.get(message.id)
        strings = (translated.string if translated else None) or ""
        strings = strings if isinstance(strings, tuple) else (strings,)
        if translated is None or not all(strings):
            missing.append(message.id)
        elif translated.fuzzy:
            fuzzy.append(message.id)
    assert not missing, f"{language}: {len(missing)} strings without a translation: {missing}"
    assert not fuzzy, f"{language}: fuzzy (unchecked) translations: {fuzzy}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders_of_their_message(language):
    problems = [(m.id, [str(e) for e in errors]) for m, errors in _catalog(language).check()]
    assert not problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_catalog_keeps_strings_the_templates_no_longer_use(language):
    extracted = {m.id for m in templates.extract_catalog() if m.id}
    stale = {m.id for m in _catalog(language) if m.id} - extracted
    assert not stale, "run: python -m coop_notifications.adapters.templates extract"


def test_a_missing_translation_would_fail_the_completeness_test(tmp_path, monkeypatch):
    # The guard itself: a template with a new sentence makes the catalogs incomplete.
    for path in templates.TEMPLATE_DIR.glob("*.j2"):
        (tmp_path / path.name).write_text(path.read_text())
    welcome = tmp_path / "member_welcome.j2"
    welcome.write_text(welcome.read_text().replace(
        "{% block body %}\n", '{% block body %}\n{{ m.p(_("A sentence nobody translated")) }}\n'))
    monkeypatch.setattr(templates, "TEMPLATE_DIR", tmp_path)
    extracted = {m.id for m in templates.extract_catalog() if m.id}
    assert "A sentence nobody translated" in extracted
    assert _catalog("nl").get("A sentence nobody translated") is None


def test_amounts_are_formatted_per_locale():
    ctx = context("share_due")
    nbsp = "[\u00a0\u202f ]"
    assert re.search(f"1{nbsp}250,50{nbsp}€", render("share_due", "fr", ctx).text)
    assert re.search(f"€{nbsp}1\\.250,50", render("share_due", "nl", ctx).text)
    assert re.search(f"1\\.250,50{nbsp}€", render("share_due", "en", ctx).text)


def test_dates_are_formatted_per_locale():
    ctx = context("member_welcome")
    assert "14 mars 2027" in render("member_welcome", "fr", ctx).text
    assert "14 maart 2027" in render("member_welcome", "nl", ctx).text
    assert "14 March 2027" in render("member_welcome", "en", ctx).text


def test_instants_are_shown_in_the_tenants_zone_with_the_locales_weekday():
    ctx = context("election_reminder")  # closes 2027-03-21T17:00Z = 18:00 in Brussels (CET)
    fr = render("election_reminder", "fr", ctx).text
    nl = render("election_reminder", "nl", ctx).text
    assert "dimanche 21 mars 2027" in fr and "18:00" in fr
    assert "zondag 21 maart 2027" in nl and "18:00" in nl
    summer = render("election_reminder", "en", dict(ctx, closes_at="2027-06-21T17:00:00+00:00"))
    assert "Monday, 21 June 2027" in summer.text and "19:00" in summer.text  # CEST


def test_counts_use_the_locales_grouping_and_plural_forms():
    ctx = context("election_results")
    assert re.search("41[\u00a0\u202f ]702", render("election_results", "fr", ctx).text)
    assert "41.702" in render("election_results", "nl", ctx).text
    one = context("digest", items=SPECIFIC["digest"]["items"][:1])
    assert "1 nouvel élément" in render("digest", "fr", one).text
    assert "2 nieuwe items" in render("digest", "nl", context("digest")).text


def test_the_html_part_has_its_css_inlined_and_no_style_block():
    html = render("election_invitation", "en", context("election_invitation")).html
    assert "<style" not in html
    assert 'style="' in html and "background-color: #1d3b2a" in html  # the button's rule


def test_context_values_are_escaped_in_html_and_kept_verbatim_in_text():
    ctx = context("election_invitation", title="Board <2027> & co")
    rendered = render("election_invitation", "en", ctx)
    assert "Board &lt;2027&gt; &amp; co" in rendered.html
    assert "<2027>" not in rendered.html
    assert "Board <2027> & co" in rendered.text
    assert rendered.subject == "You are invited to vote: Board <2027> & co"


def test_the_text_part_wraps_sentences_but_never_breaks_a_link():
    long_url = "https://portal.coop.test/vote/" + "x" * 90
    text = render("election_invitation", "en", context("election_invitation",
                                                       vote_url=long_url)).text
    assert long_url in text.splitlines()
    assert all(len(line) <= 72 for line in text.splitlines() if "://" not in line)


def test_a_legal_notice_has_no_unsubscribe_link_and_says_it_is_legal():
    ctx = context("assembly_convocation", unsubscribe_url="")
    for language in LANGUAGES:
        rendered = render("assembly_convocation", language, ctx)
        assert "unsubscribe" not in rendered.html.lower()
        assert "Annual accounts 2026" in rendered.text
    fr = render("assembly_convocation", "fr", ctx)
    assert "Conformément aux statuts" in fr.text and "notification légale" in fr.text
    assert fr.subject == "Convocation\u00a0: General Assembly 2027"


def test_non_legal_mail_carries_the_unsubscribe_link_in_both_parts():
    rendered = render("election_reminder", "nl", context("election_reminder"))
    assert "https://portal.coop.test/unsubscribe?t=abc.def" in rendered.text
    assert 'href="https://portal.coop.test/unsubscribe?t=abc.def"' in rendered.html
    assert "Uitschrijven voor deze e-mails" in rendered.text


def test_an_unknown_notification_or_language_is_a_template_error():
    with pytest.raises(TemplateError, match="no template"):
        render("no_such_notification", "fr", {})
    with pytest.raises(TemplateError, match="language 'de'"):
        render("member_welcome", "de", context("member_welcome"))


def test_a_missing_context_key_is_a_template_error_naming_the_template():
    ctx = context("election_invitation")
    del ctx["closes_at"]
    with pytest.raises(TemplateError, match="election_invitation"):
        render("election_invitation", "fr", ctx)


def test_a_malformed_value_is_a_template_error():
    with pytest.raises(TemplateError, match="share_due"):
        render("share_due", "fr", context("share_due", amount_cents="12.50"))
    with pytest.raises(TemplateError, match="election_reminder"):
        render("election_reminder", "fr", context("election_reminder", closes_at="tomorrow"))
