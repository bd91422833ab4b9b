"""coop.board.v1 minutes messages <-> domain values (the minutes servicer's translation)."""

from __future__ import annotations

from coop.board.v1 import common_pb2
from coop.board.v1 import minutes_pb2 as pb
from coop_board.domain.minutes import Edit, Minutes, MinutesDecision, TranslationTask
from coop_board.domain.minutes_public import PublishedDecision, PublishedMinutes
from coop_board.domain.texts import LANGUAGES, LocalizedText
from coop_platform.pbtypes import mask_paths, to_date, to_timestamp

STATUS = {"draft": pb.MINUTES_STATUS_DRAFT, "submitted": pb.MINUTES_STATUS_SUBMITTED,
          "approved": pb.MINUTES_STATUS_APPROVED, "published": pb.MINUTES_STATUS_PUBLISHED}
KIND = {"minutes": pb.MINUTES_KIND_MINUTES, "erratum": pb.MINUTES_KIND_ERRATUM}
VISIBILITY = {"open": common_pb2.ITEM_VISIBILITY_OPEN, "closed": common_pb2.ITEM_VISIBILITY_CLOSED}
VISIBILITY_IN = {common_pb2.ITEM_VISIBILITY_UNSPECIFIED: "", common_pb2.ITEM_VISIBILITY_OPEN: "open",
                 common_pb2.ITEM_VISIBILITY_CLOSED: "closed"}
UPDATABLE = tuple(f"{target}.{lang}" for target in ("title", "sections", "decisions") for lang in LANGUAGES)


def text_to_pb(text: LocalizedText) -> common_pb2.LocalizedText:
    return common_pb2.LocalizedText(fr=text.fr, nl=text.nl, en=text.en)


def text_from_pb(message: common_pb2.LocalizedText) -> LocalizedText:
    return LocalizedText(message.fr, message.nl, message.en)


def _missing(parts) -> list[pb.MissingTranslation]:
    return [pb.MissingTranslation(part=part, languages=list(langs)) for part, langs in parts]


def _decision(d: MinutesDecision) -> pb.MinutesDecision:
    return pb.MinutesDecision(decision_id=d.decision_id, item_id=d.item_id, kind=d.kind, closed=d.closed,
                              title=text_to_pb(d.title), adopted_text=text_to_pb(d.adopted_text),
                              counts=common_pb2.VoteCounts(in_favour=d.in_favour, against=d.against,
                                                           abstentions=d.abstentions),
                              effective_date=to_date(d.effective_on))


def minutes_to_pb(m: Minutes, errata: list[str] | None = None) -> pb.Minutes:
    return pb.Minutes(
        minutes_id=m.minutes_id, meeting_id=m.meeting_id, meeting_date=to_date(m.meeting_date), kind=KIND[m.kind],
        erratum_of=m.erratum_of or "", status=STATUS[m.status], revision=m.revision, title=text_to_pb(m.title),
        sections=[pb.MinutesSection(section_id=s.section_id, position=s.position, visibility=VISIBILITY[s.visibility],
                                    item_id=s.item_id or "", title=text_to_pb(s.title), body=text_to_pb(s.body),
                                    decided=s.decided) for s in m.sections],
        decisions=[_decision(d) for d in m.decisions], drafted_at=to_timestamp(m.drafted_at),
        approved_at=to_timestamp(m.approved_at), approval_decision_id=m.approval_decision_id or "",
        approved_in_meeting_id=m.approved_in_meeting or "", published_at=to_timestamp(m.published_at),
        approval_item_id=m.approval_item_id or "", missing=_missing(m.missing_parts()), errata_ids=errata or [])


def edits_from_pb(request: pb.UpdateMinutesRequest) -> list[Edit]:
    """UpdateMinutes's mask and texts as edits (see the request's comment for the paths)."""
    edits: list[Edit] = []
    for path in mask_paths(request.update_mask, UPDATABLE):
        target, lang = path.split(".")
        if target == "title":
            edits.append(Edit("title", "", lang, getattr(request.minutes.title, lang), f"minutes.title.{lang}"))
        elif target == "sections":
            edits.extend(Edit("sections", s.section_id, lang, getattr(s.body, lang), f"minutes.sections[{n}].body.{lang}")
                         for n, s in enumerate(request.minutes.sections))
        else:
            edits.extend(Edit("decisions", d.decision_id, lang, getattr(d.adopted_text, lang),
                              f"minutes.decisions[{n}].adopted_text.{lang}")
                         for n, d in enumerate(request.minutes.decisions))
    return edits


def task_to_pb(t: TranslationTask, today) -> pb.TranslationTask:
    return pb.TranslationTask(minutes_id=t.minutes_id, meeting_id=t.meeting_id, missing=_missing(t.missing),
                              languages=list(t.languages), opened_date=to_date(t.opened_on),
                              due_date=to_date(t.due_on), overdue=today > t.due_on)


def published_minutes_to_pb(d: PublishedMinutes) -> pb.PublishedMinutes:
    return pb.PublishedMinutes(minutes_id=d.minutes_id, meeting_id=d.meeting_id, meeting_date=to_date(d.meeting_date),
                               language=d.language, title=d.title,
                               sections=[pb.PublishedSection(heading=h, body=b) for h, b in d.sections],
                               published_at=to_timestamp(d.published_at), erratum_of=d.erratum_of or "")


def published_decision_to_pb(d: PublishedDecision) -> pb.PublishedDecision:
    return pb.PublishedDecision(
        decision_id=d.decision_id, language=d.language, title=d.title, adopted_text=d.adopted_text,
        counts=None if d.closed else common_pb2.VoteCounts(in_favour=d.in_favour, against=d.against,
                                                           abstentions=d.abstentions),
        effective_date=to_date(d.effective_on), meeting_date=to_date(d.meeting_date), meeting_id=d.meeting_id,
        minutes_id=d.minutes_id, closed=d.closed)
