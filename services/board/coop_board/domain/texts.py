"""Texts of the board exist in French, Dutch and English; members read them in their language."""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES: tuple[str, ...] = ("fr", "nl", "en")


@dataclass(frozen=True)
class LocalizedText:
    fr: str = ""
    nl: str = ""
    en: str = ""

    def get(self, language: str) -> str:
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        return getattr(self, language)

    def missing(self) -> tuple[str, ...]:
        """The languages without a text (blank counts as missing), in LANGUAGES order."""
        return tuple(lang for lang in LANGUAGES if not getattr(self, lang).strip())

    @property
    def complete(self) -> bool:
        return not self.missing()

    @property
    def empty(self) -> bool:
        return len(self.missing()) == len(LANGUAGES)

    def filled(self) -> LocalizedText:
        """Every language given: a missing one shows the first text given (in LANGUAGES order).
        A member writes in their own language; where the board needs all three (an agenda item,
        an Assembly's agenda) their own words stand in until the secretary translates them."""
        original = next((getattr(self, lang) for lang in LANGUAGES if getattr(self, lang).strip()), "")
        return LocalizedText(**{lang: getattr(self, lang) if getattr(self, lang).strip() else original
                                for lang in LANGUAGES})

    def as_dict(self) -> dict[str, str]:
        return {lang: getattr(self, lang) for lang in LANGUAGES}

    @classmethod
    def of(cls, values: dict[str, str]) -> LocalizedText:
        unknown = set(values) - set(LANGUAGES)
        if unknown:
            raise ValueError(f"unknown languages {sorted(unknown)}")
        return cls(**values)
