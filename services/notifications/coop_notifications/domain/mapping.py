"""What an event asks of this service: a Notice (which notification, to whom, with what context).

The table of events is adapters/event_map.py (one Route per event: adding an event and its
template is one entry there and one template); this module holds the pure values it builds.

Audiences:
- Members(ids): the members the event names (a welcome, a convocation, promoters, non-voters);
- AllMembers(): every active member of the tenant (minutes published);
- Roll(election_id): the voters on an election's roll (read through the ElectionRolls port).

Texts an event carries in several languages are stored as {"_i18n": {"fr": ..., "nl": ..., "en":
...}} in the row's context and resolved for each recipient when the message is rendered
(`localize`), so that one row context serves every language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from coop_notifications.domain.recipients import DEFAULT_LANGUAGE

I18N = "_i18n"


@dataclass(frozen=True)
class Members:
    ids: tuple[str, ...]


@dataclass(frozen=True)
class AllMembers:
    statuses: tuple[str, ...] = ("active",)


@dataclass(frozen=True)
class Roll:
    election_id: str


Audience = Members | AllMembers | Roll


@dataclass(frozen=True)
class Notice:
    notification: str
    tenant: str
    audience: Audience
    context: dict[str, Any] = field(default_factory=dict)


def texts(values: dict[str, str]) -> dict[str, Any]:
    """A text in several languages, for a context."""
    return {I18N: {k: v for k, v in values.items() if v}}


def _pick(choices: dict[str, str], language: str) -> str:
    for lang in (language, DEFAULT_LANGUAGE, "en"):
        if choices.get(lang):
            return choices[lang]
    return next((v for v in choices.values() if v), "")


def localize(value: Any, language: str) -> Any:
    """The context with every multi-language text resolved to `language` (then fr, en, any)."""
    if isinstance(value, dict):
        if set(value) == {I18N}:
            return _pick(value[I18N], language)
        return {k: localize(v, language) for k, v in value.items()}
    if isinstance(value, list):
        return [localize(v, language) for v in value]
    return value
