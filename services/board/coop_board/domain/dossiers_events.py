"""Events of the dossiers family (translated by adapters/events_out_dossiers.py)."""

from __future__ import annotations

from dataclasses import dataclass

from coop_board.domain.dossiers import Dossier, DossierVersion, SendBack


@dataclass(frozen=True)
class DossierSubmitted:
    """dossier.submitted: management submitted a dossier's version (1, or the next after a send back)."""

    dossier: Dossier
    version: DossierVersion


@dataclass(frozen=True)
class DossierSentBack:
    """dossier.sent_back: the board rejected every proposal of a version; due again by a date."""

    dossier: Dossier
    send_back: SendBack
    closed: bool = False      # a closed item: the event carries no reasons
