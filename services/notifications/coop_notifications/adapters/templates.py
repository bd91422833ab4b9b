"""E-mail templates: Jinja2 with gettext catalogs (Babel), CLDR formatting, HTML with CSS inlined.

``render(name, language, context) -> RenderedMessage``: ``name`` is a notification of
``domain/catalog.py``, ``language`` one of :data:`LANGUAGES`, ``context`` the JSON-typed dict the
catalog documents for that name.

Layout of ``templates/`` (package data, so it ships in the wheel and the images):

- ``<name>.j2``: one file per notification, written once for both parts. It extends the
  ``layout`` it is given (``layout.html.j2`` or ``layout.txt.j2``), defines the blocks
  ``subject`` and ``body``, and draws its paragraphs, buttons and fact lists with the macros of
  the part being rendered (``m.p``, ``m.button``, ``m.facts``, ``m.items``), so a sentence is
  written, extracted and translated once.
- ``i18n/<lang>/LC_MESSAGES/messages.po``: the catalogs, compiled in memory on first use (no
  build step, no ``.mo`` in the tree). ``python -m coop_notifications.adapters.templates
  extract`` refreshes ``i18n/messages.pot`` and merges it into each ``.po``; a test fails while
  any string lacks a translation in one of the languages.

Filters, formatting for the recipient's locale (CLDR through Babel) and the tenant's zone:
``date`` (``"YYYY-MM-DD"`` or an instant -> long date), ``datetime`` (ISO instant -> full date and
short time in ``Europe/Brussels`` unless the context carries ``timezone``), ``money(currency)``
(integer cents), ``number``, ``percent`` (0..100).
"""

from __future__ import annotations

import io
import re
import sys
import threading
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import css_inline
import jinja2
from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import Translations
from jinja2 import pass_context

from coop_domain.clock import COOPERATIVE_TIME_ZONE
from coop_notifications.domain.mail import RenderedMessage

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
I18N_DIR = TEMPLATE_DIR / "i18n"
LANGUAGES: tuple[str, ...] = ("fr", "nl", "en")
# The CLDR locale each language is formatted in: a Belgian cooperative.
LOCALES: dict[str, str] = {"fr": "fr_BE", "nl": "nl_BE", "en": "en_BE"}
DEFAULT_TIMEZONE = COOPERATIVE_TIME_ZONE
FORMATS = ("html", "txt")


class TemplateError(Exception):
    """A notification could not be rendered (unknown name or language, bad context, bad template).

    The delivery loop dead-letters the row with this message; it never blocks the others.
    """


def render(name: str, language: str, context: dict[str, Any]) -> RenderedMessage:
    if language not in LANGUAGES:
        raise TemplateError(f"no templates in language {language!r} (have {', '.join(LANGUAGES)})")
    if name not in _known_names(TEMPLATE_DIR):
        raise TemplateError(f"no template for notification {name!r}")
    values = dict(context)
    values["language"] = language
    values["locale"] = LOCALES[language]
    try:
        html_template = _environment(language, "html").get_template(f"{name}.j2")
        text_template = _environment(language, "txt").get_template(f"{name}.j2")
        subject = _render_block(text_template, "subject", values, "layout.txt.j2")
        html = html_template.render(values, layout="layout.html.j2", subject=subject)
        text = text_template.render(values, layout="layout.txt.j2", subject=subject)
    except TemplateError:
        raise
    except jinja2.TemplateError as exc:
        raise TemplateError(f"template {name!r} ({language}): {exc}") from exc
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise TemplateError(f"template {name!r} ({language}): bad context: {exc!r}") from exc
    return RenderedMessage(subject=subject, html=_inline_css(html), text=_tidy_text(text))


def template_names() -> list[str]:
    return sorted(_known_names(TEMPLATE_DIR))


@cache
def _known_names(directory: Path) -> frozenset[str]:
    return frozenset(p.name[: -len(".j2")] for p in directory.glob("*.j2")
                     if not p.name.startswith(("layout.", "macros.")))


# --- environments ---------------------------------------------------------------------------

_lock = threading.Lock()


@cache
def _environment(language: str, fmt: str) -> jinja2.Environment:
    # One environment per language and part: installed translations are global to an
    # environment, so sharing one between languages would not be thread-safe.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=(fmt == "html"),
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # templates ship with the code: no stat() per message
    )
    env.install_gettext_translations(translations(language), newstyle=True)
    env.globals["fmt"] = fmt
    env.filters.update(
        date=_date_filter, datetime=_datetime_filter, money=_money_filter,
        number=_number_filter, percent=_percent_filter,
    )
    return env


def translations(language: str) -> Translations:
    """The language's catalog, compiled from its committed ``.po`` in memory (cached)."""
    with _lock:
        return _translations(language)


@cache
def _translations(language: str) -> Translations:
    po_path = I18N_DIR / language / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain="messages")


def _render_block(template: jinja2.Template, block: str, values: dict, layout: str) -> str:
    ctx = template.new_context(dict(values, layout=layout, subject=""))
    # One line; ASCII whitespace only, so French no-break spaces stay where they are.
    return re.sub(r"[ \t\r\n]+", " ", "".join(template.blocks[block](ctx))).strip(" ")


# --- formatting filters (CLDR) --------------------------------------------------------------

# The same instant or amount is formatted for thousands of recipients: memoised per locale.

@pass_context
def _date_filter(ctx, value: str | date | datetime) -> str:
    return _format_date(value, ctx["locale"], ctx.get("timezone") or DEFAULT_TIMEZONE)


@pass_context
def _datetime_filter(ctx, value: str | datetime) -> str:
    return _format_datetime(value, ctx["locale"], ctx.get("timezone") or DEFAULT_TIMEZONE)


@pass_context
def _money_filter(ctx, cents: int, currency: str) -> str:
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"amounts are integer cents, got {cents!r}")
    return _format_money(cents, currency, ctx["locale"])


@pass_context
def _number_filter(ctx, value: int | float) -> str:
    return format_decimal(value, locale=ctx["locale"])


@pass_context
def _percent_filter(ctx, value: int | float) -> str:
    # CLDR's percent pattern ("66 %" in French, "66%" in Dutch and English) for 0..100.
    return format_percent(Decimal(str(value)) / 100, locale=ctx["locale"])


def _instant(value: str | datetime, zone: str) -> datetime:
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if dt.tzinfo is None:
        raise ValueError(f"instant without a UTC offset: {value!r}")
    return dt.astimezone(ZoneInfo(zone))


@lru_cache(maxsize=4096)
def _format_date(value: str | date | datetime, locale: str, zone: str) -> str:
    if isinstance(value, str):
        value = _instant(value, zone).date() if "T" in value else date.fromisoformat(value)
    elif isinstance(value, datetime):
        value = _instant(value, zone).date()
    return format_date(value, "long", locale=locale)


@lru_cache(maxsize=4096)
def _format_datetime(value: str | datetime, locale: str, zone: str) -> str:
    dt = _instant(value, zone)
    cldr = Locale.parse(locale)
    return cldr.datetime_formats["long"].format(
        format_time(dt, "short", locale=cldr), format_date(dt, "full", locale=cldr))


@lru_cache(maxsize=4096)
def _format_money(cents: int, currency: str, locale: str) -> str:
    return format_currency(Decimal(cents) / 100, currency, locale=locale)


# --- the two parts --------------------------------------------------------------------------

def _inline_css(html: str) -> str:
    # css-inline (Rust, maintained): moves the layout's <style> rules into style attributes,
    # which is what mail clients that strip <style> (Gmail, Outlook) need; the rules are kept in
    # <head> too for clients that honour media queries.
    return css_inline.CSSInliner(keep_style_tags=False).inline(html)


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line == "" and out and out[-1] == "":
            continue
        out.append(line)
    return "\n".join(out) + "\n"


# --- catalogs: extraction and merge ---------------------------------------------------------

def extract_catalog():
    """Every translatable string of the templates, as a Babel catalog (the ``.pot``)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(project="coopgov notifications", charset="utf-8")
    method_map = [("*.j2", "jinja2")]
    options = {"*.j2": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true",
                        "lstrip_blocks": "true", "newstyle_gettext": "true"}}
    for filename, lineno, message, comments, context in extract_from_dir(
            str(TEMPLATE_DIR), method_map, options_map=options):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def update_catalogs() -> None:  # pragma: no cover - a maintainer's command
    from babel.messages.pofile import write_po

    template = extract_catalog()
    with (I18N_DIR / "messages.pot").open("wb") as fh:
        write_po(fh, template, omit_header=False, sort_output=True)
    for language in LANGUAGES:
        po_path = I18N_DIR / language / "LC_MESSAGES" / "messages.po"
        po_path.parent.mkdir(parents=True, exist_ok=True)
        if po_path.exists():
            with po_path.open("rb") as fh:
                catalog = read_po(fh, locale=language)
        else:
            from babel.messages.catalog import Catalog
            catalog = Catalog(locale=language, project="coopgov notifications")
        catalog.update(template, no_fuzzy_matching=True)
        with po_path.open("wb") as fh:
            write_po(fh, catalog, sort_output=True, ignore_obsolete=True)
        print(f"{po_path}: {len(catalog)} messages")


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1:] == ["extract"]:
        update_catalogs()
    else:
        sys.exit("usage: python -m coop_notifications.adapters.templates extract")
