"""Membership's own settings, read once by its entrypoints and handed to the use cases (the
domain reads no environment). The platform's Settings hold what every service shares."""

from __future__ import annotations

import os
from collections.abc import Mapping

from coop_membership.domain.model import languages_with

LANGUAGES_VARIABLE = "COOP_MEMBER_LANGUAGES"


def member_languages(environ: Mapping[str, str] = os.environ) -> frozenset[str]:
    """The languages members may choose: fr, nl, en and those COOP_MEMBER_LANGUAGES adds
    (comma separated, e.g. "de,it")."""
    return languages_with(environ.get(LANGUAGES_VARIABLE, "").split(","))
