"""API protobuf messages <-> domain values (the events are adapters/events_out.py's). v2's
requests and responses reuse v1's resources, so both versions share these translations."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, time
from typing import Any

from coop.elections.v1 import elections_pb2 as pb
from coop.elections.v2 import elections_pb2 as pb2
from coop_domain.errors import InvalidArgument
from coop_elections.domain.election import (
    ElectionSpec,
    EncryptionSpec,
    QuestionSpec,
    Text,
    make_spec,
)
from coop_elections.domain.model import Method
from coop_elections.domain.stored import StoredElection
from coop_elections.domain.verification import seed_commitment
from coop_elections.domain.window import DEFAULT_TZ, local_close
from coop_platform.pbtypes import from_date, from_timestamp

METHOD_TO_PB = {
    Method.PLURALITY: pb.METHOD_PLURALITY, Method.APPROVAL: pb.METHOD_APPROVAL,
    Method.STV: pb.METHOD_STV, Method.SCHULZE: pb.METHOD_SCHULZE,
    Method.RESOLUTION: pb.METHOD_RESOLUTION,
}
PB_TO_METHOD = {v: k for k, v in METHOD_TO_PB.items()}
STATUS_TO_PB = {"scheduled": pb.ELECTION_STATUS_SCHEDULED, "open": pb.ELECTION_STATUS_OPEN,
                "closed": pb.ELECTION_STATUS_CLOSED, "tallying": pb.ELECTION_STATUS_TALLYING}
MAX_ANSWER_CHOICES = 200


def _instant(text: str, field: str, required: bool = True) -> datetime | None:
    if not text:
        if required:
            raise InvalidArgument(f"{field} is required (RFC 3339 with offset)", field=field, reason="FIELD_REQUIRED")
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidArgument(f"{field} is not an RFC 3339 instant", field=field, reason="INVALID_TIMESTAMP") from exc
    if value.tzinfo is None:
        raise InvalidArgument(f"{field} needs a UTC offset", field=field, reason="TIME_ZONE_MISSING")
    return value


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidArgument(f"{field} must be YYYY-MM-DD", field=field, reason="INVALID_DATE") from exc


def _local_time(text: str, field: str) -> time:
    try:
        value = time.fromisoformat(text)
    except ValueError as exc:
        raise InvalidArgument(f"{field} must be HH:MM", field=field, reason="INVALID_LOCAL_TIME") from exc
    if value.second or value.microsecond or value.tzinfo:
        raise InvalidArgument(f"{field} must be HH:MM", field=field, reason="INVALID_LOCAL_TIME")
    return value


def texts_from_pb(texts: Any) -> tuple[Text, ...]:
    return tuple(Text(t.language, t.title, t.description) for t in texts)


def texts_to_pb(texts: tuple[Text, ...]) -> list[pb.LocalizedText]:
    return [pb.LocalizedText(language=t.language, title=t.title, description=t.description) for t in texts]


def question_from_pb(q: pb.QuestionSpec) -> QuestionSpec:
    if q.method not in PB_TO_METHOD:
        raise InvalidArgument(f"question {q.question_id!r}: method is required", field="questions.method",
                              reason="METHOD_REQUIRED")
    return QuestionSpec(
        question_id=q.question_id, method=PB_TO_METHOD[q.method], texts=texts_from_pb(q.texts),
        candidates=tuple(q.candidates), seats=q.seats or 1, mandate_years=q.mandate_years,
        majority=q.majority or "1/2",
        majority_strict=q.majority_strict if q.majority else True,
        quorum_count=q.quorum_count, quorum_fraction=q.quorum_fraction or "0",
    )


def _closing(r: pb2.CreateElectionRequest, tz: str) -> tuple[date, time]:
    """The Assembly day (window.assembly_day or assembly_date) and local closing time, or both
    computed from close_time in the election's zone; a given day that is not close_time's local
    date (a UTC date, say) is refused rather than close the vote a day off."""
    w = r.window
    day = _day(w.assembly_day, "window.assembly_day") if w.assembly_day else None
    dated = from_date(r.assembly_date, field="assembly_date")
    if day is not None and dated is not None and day != dated:
        raise InvalidArgument("window.assembly_day and assembly_date differ: give one", field="assembly_date",
                              reason="ASSEMBLY_DAY_TWICE")
    day = day or dated
    closes = _local_time(w.closes_local, "window.closes_local") if w.closes_local else None
    close_time = from_timestamp(r.close_time, field="close_time")
    if close_time is not None:
        local_day, local_time = local_close(close_time, tz)
        if day is not None and day != local_day:
            raise InvalidArgument(
                f"the Assembly day must be the local date in {tz}: close_time falls on {local_day.isoformat()} "
                f"there, not {day.isoformat()} (leave the day out to have it computed)",
                field="assembly_date" if dated else "window.assembly_day", reason="ASSEMBLY_DAY_NOT_LOCAL",
                local_date=local_day.isoformat(), time_zone=tz)
        if closes is not None and closes != local_time:
            raise InvalidArgument(f"window.closes_local must be close_time's local time in {tz}: "
                                  f"{local_time.strftime('%H:%M')}", field="window.closes_local",
                                  reason="CLOSES_LOCAL_NOT_CLOSE_TIME", local_time=local_time.strftime("%H:%M"))
        return local_day, local_time
    return (day or _day(w.assembly_day, "window.assembly_day"),
            closes or _local_time(w.closes_local, "window.closes_local"))


def spec_from_pb(r: pb2.CreateElectionRequest) -> ElectionSpec:
    w = r.window
    tz = w.time_zone or DEFAULT_TZ
    assembly_day, closes_local = _closing(r, tz)
    return make_spec(
        texts_from_pb(r.texts), [question_from_pb(q) for q in r.questions],
        opens_at=_instant(w.opens_at, "window.opens_at"),  # type: ignore[arg-type]
        assembly_day=assembly_day, closes_local=closes_local, tz=tz,
        roll_cutoff=_instant(r.roll_cutoff, "roll_cutoff", required=False),
        allow_revote=r.allow_revote, max_proxies_held=r.max_proxies_held,
        nominations_open=_instant(r.nominations_open, "nominations_open", required=False),
        nominations_close=_instant(r.nominations_close, "nominations_close", required=False),
        max_permanent_staff_seats=r.max_permanent_staff_seats,
        encryption=encryption_from_pb(r.encryption) if r.HasField("encryption") else None,
    )


def encryption_from_pb(e: pb.EncryptionSettings) -> EncryptionSpec:
    return EncryptionSpec(e.threshold, tuple(e.trustee_ids), tuple(e.mixer_ids))


def encryption_to_pb(e: StoredElection) -> pb.EncryptionSettings | None:
    settings = e.spec.encryption
    if settings is None:
        return None
    return pb.EncryptionSettings(threshold=settings.threshold, trustee_ids=list(settings.trustees),
                                 mixer_ids=list(settings.mixers),
                                 public_key=bytes.fromhex(e.election_key) if e.election_key else b"")


def request_fingerprint(request: pb2.CreateElectionRequest) -> str:
    """SHA-256 of the request without its request_id: tells a retry from another request that
    reuses the key."""
    bare = type(request)()
    bare.CopyFrom(request)
    bare.ClearField("request_id")
    return hashlib.sha256(bare.SerializeToString(deterministic=True)).hexdigest()


def iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def question_to_pb(q: QuestionSpec) -> pb.QuestionSpec:
    return pb.QuestionSpec(
        question_id=q.question_id, method=METHOD_TO_PB[q.method], texts=texts_to_pb(q.texts),
        candidates=list(q.candidates), seats=q.seats, mandate_years=q.mandate_years,
        majority=q.majority, majority_strict=q.majority_strict, quorum_count=q.quorum_count,
        quorum_fraction=q.quorum_fraction,
    )


def election_to_pb(e: StoredElection) -> pb.Election:
    s, w = e.spec, e.spec.window
    return pb.Election(
        election_id=e.election_id, tenant=e.tenant, texts=texts_to_pb(s.texts),
        questions=[question_to_pb(q) for q in s.questions],
        window=pb.VotingWindowSpec(opens_at=iso(w.opens_at), assembly_day=w.assembly_day.isoformat(),
                                   closes_local=w.closes_local.strftime("%H:%M"), time_zone=w.tz),
        closes_at=iso(w.closes_at), roll_cutoff=iso(s.roll_cutoff), allow_revote=s.allow_revote,
        max_proxies_held=s.max_proxies_held, status=STATUS_TO_PB[e.status],
        tie_break_seed_sha256=seed_commitment(e.tie_break_seed),
        nominations_open=iso(s.nominations_open), nominations_close=iso(s.nominations_close),
        max_permanent_staff_seats=s.max_permanent_staff_seats, encryption=encryption_to_pb(e),
    )


def content_from_answers(answers: Any, election: StoredElection) -> dict[str, Any]:
    """Answers -> the domain's ballot content (validated again by the domain)."""
    methods = {q.question_id: q.method for q in election.spec.questions}
    content: dict[str, Any] = {}
    for a in answers:
        if a.question_id in content:
            raise InvalidArgument(f"question {a.question_id!r} answered twice", field="answers", reason="INVALID_ANSWER")
        if a.question_id not in methods:
            raise InvalidArgument(f"ballot answers unknown question {a.question_id!r}", field="answers", reason="INVALID_ANSWER")
        if len(a.choices) > MAX_ANSWER_CHOICES:
            raise InvalidArgument("too many choices", field="answers", reason="INVALID_ANSWER")
        if methods[a.question_id] is Method.RESOLUTION:
            if a.choices:
                raise InvalidArgument(f"question {a.question_id}: give resolution, not choices", field="answers", reason="INVALID_ANSWER")
            content[a.question_id] = a.resolution
        else:
            if a.resolution:
                raise InvalidArgument(f"question {a.question_id}: give choices, not resolution", field="answers", reason="INVALID_ANSWER")
            content[a.question_id] = list(a.choices)
    return content


def candidacy_to_pb(row: Any) -> pb.Candidacy:
    statement = [pb.LocalizedText(**t) for t in json.loads(row.statement)]
    return pb.Candidacy(election_id=row.election_id, question_id=row.question_id,
                        candidate_id=row.candidate_id, statement=statement,
                        withdrawn=row.withdrawn, category=row.category)


def sign_in_audit_to_pb(row: Any) -> pb.SignInAuditEntry:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)  # SQLite returns naive UTC
    return pb.SignInAuditEntry(sequence=row.sequence, voter_id=row.voter_id, teller_id=row.teller_id,
                               action=row.action, reason=row.reason, at=at.astimezone(UTC).isoformat())


def _tallies(q: dict[str, Any]) -> dict[str, str]:
    method = q["method"]
    if method in ("plurality", "approval"):
        return {c: str(n) for c, n in q["tallies"]}
    if method == "stv":
        return {c: str(n) for c, n in q["rounds"][-1]["tallies"]} if q["rounds"] else {}
    if method == "resolution":
        return {"yes": str(q["yes"]), "no": str(q["no"]), "abstain": str(q["abstain"])}
    # schulze: number of pairwise wins per candidate
    cands, d = q["candidates"], q["pairwise"]
    return {c: str(sum(1 for j in range(len(cands)) if d[i][j] > d[j][i])) for i, c in enumerate(cands)}


def results_to_pb(results: dict[str, Any]) -> pb.Results:
    count = results["count"]
    mandates = results.get("mandates", {})
    questions = []
    for q in count["questions"]:
        start, end = mandates.get(q["question_id"], ["", ""])
        questions.append(pb.QuestionResult(
            question_id=q["question_id"], method=METHOD_TO_PB[Method(q["method"])],
            winners=q.get("winners", []), tallies=_tallies(q), adopted=bool(q.get("adopted")),
            quorum_met=bool(q.get("quorum_met")), detail_json=json.dumps(q, sort_keys=True),
            mandate_start=start, mandate_end=end))
    tie_breaks = [pb.TieBreakRecord(question_id=t["question_id"], step=t["step"], tied=t["tied"],
                                    order=t["order"])
                  for q in count["questions"] for t in q.get("tie_breaks", [])]
    return pb.Results(
        election_id=results["election_id"], ballots=count["ballots"], total_weight=count["total_weight"],
        tie_break_seed=count["tie_break_seed"], box_head_hash=results["head_hash"],
        superseded_count=results["superseded_count"], questions=questions, tie_breaks=tie_breaks,
        published_at=results["published_at"])


def _stv_round(r: dict[str, Any]) -> pb2.StvRound:
    return pb2.StvRound(
        number=r["number"], action=r["action"], candidate=r["candidate"] or "",
        transfer_factor=r["transfer_factor"] or "",
        transfers=[pb2.StvTally(candidate=c, value=v) for c, v in r["transfers"]],
        exhausted=r["exhausted"], rounding_loss=r["rounding_loss"],
        tallies=[pb2.StvTally(candidate=c, value=v) for c, v in r["tallies"]],
        exhausted_total=r["exhausted_total"], elected=r["elected"], excluded=r["excluded"])


def stv_counts_to_pb(results: dict[str, Any]) -> list[pb2.StvCount]:
    """The STV questions' rounds and transfers as typed messages (v1 has them in detail_json)."""
    return [pb2.StvCount(question_id=q["question_id"], seats=q["seats"], valid=q["valid"], blank=q["blank"],
                         quota=q["quota"], rounds=[_stv_round(r) for r in q["rounds"]], winners=q["winners"])
            for q in results["count"]["questions"] if q["method"] == "stv"]
