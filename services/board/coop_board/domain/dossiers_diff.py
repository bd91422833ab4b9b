"""Differences between texts of the board, per language (difflib's unified diff): an amendment
against the text it amends, a proposal of version N against the one of version N-1 it revises."""

from __future__ import annotations

import difflib

from coop_board.domain.texts import LANGUAGES, LocalizedText


def unified(old: str, new: str, old_label: str, new_label: str) -> str:
    """The unified diff of two texts, line by line ("" when they are equal)."""
    if old == new:
        return ""
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), fromfile=old_label, tofile=new_label,
                                 lineterm="")
    return "\n".join(lines)


def unified_localized(old: LocalizedText, new: LocalizedText, old_label: str, new_label: str) -> LocalizedText:
    """One unified diff per language; labels get the language appended ("proposal p1 (fr)")."""
    return LocalizedText(**{
        lang: unified(old.get(lang), new.get(lang), f"{old_label} ({lang})", f"{new_label} ({lang})")
        for lang in LANGUAGES})

