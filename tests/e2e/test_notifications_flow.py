"""Notifications end to end, through the real processes (issue 13, "Done when"): membership,
elections, the board and notifications, api and worker each, started as `make run` starts them
(conftest.py, `notifications_platform`), the notifications worker sending through the test
Postfix and reading its bounces from Dovecot (scripts/ensure_mail.sh). Every message is read
back over IMAP from the member's own mailbox:

- admissions send a welcome mail in each member's language (fr, nl, en);
- one member's address is an unknown local user: Postfix accepts, then bounces it with a real
  non-delivery report, which the worker reads from the bounce mailbox; the delivery is bounced,
  the address suppressed, and nothing later is sent there (the convocation goes to the postal
  list instead);
- one member opts out of every category she may through the preferences api;
- an election opens and the roll's voters get invitations; one votes, and the reminder reaches
  only the others; the results reach every voter;
- the General Assembly is convened through the board's AssemblyService: the legal convocation
  reaches every member, the one who opted out included, without List-Unsubscribe;
- a List-Unsubscribe link read from a message opts its member out when POSTed (RFC 8058).

Each message is checked for its language (subject and sentences from the templates' own
catalogs), its headers (Message-ID and X-Coop-Delivery from the delivery row's key, VERP
Return-Path, Content-Language, List-Unsubscribe signed and on non-legal mail only) and its links
(the portal's vote, results, register and inbox pages).

The invitations go to the voters of the frozen roll, which elections publishes with the opening
(`election.roll_frozen`); here the roll is every member (checked against GetVoterRoll), and the
results go to the same roll. The reminder
goes to the non-voters `election.closing_soon` names, re-checked against `election.voted` before
each batch is sent. An election shorter than two days is reminded halfway through its window
(VotingWindow.reminder_at); the test still plans the opening a few seconds after a tick of the
elections worker's timer (every 10 s here, its phase read from the worker's metrics), so that the
voter votes at once, before the reminder's tick.

Local only, with no Compose variant (nothing is skipped: the test exists in this form only).
The containers would have to reach this machine's test Postfix and Dovecot, which listen on
127.0.0.1 and relay for 127.0.0.0/8 only (scripts/ensure_mail.sh, shared by the mail tests);
docker-compose.yml passes the notifications containers no COOP_SMTP_URL, COOP_BOUNCE_* or
COOP_UNSUBSCRIBE_PORT; and the session's one Compose stack runs its elections worker on a 1 s tick,
which leaves no room to vote before the tick that opens the vote.

The bounce mailbox is shared: every VERP return path is bounces+<token>@coop.test, so the worker
reads bounces@coop.test, and deletes the reports it reads, ours or not. Two runs of this test at
the same moment on one machine could take each other's reports (the mail tests of the service
give their bounces mailboxes of their own, so this one is the only reader).
"""

from __future__ import annotations

import contextlib
import shutil
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import grpc
import pytest
from board_helpers import rid
from election_helpers import ZONE, Coop, Plan, seconds_until, utcnow
from notification_helpers import (
    MAIL_FROM,
    MAILDIRS,
    PORTAL_URL,
    TENANT,
    UNSUBSCRIBE_SECRET,
    Ledger,
    Member,
    Row,
    admit,
    board_members_in_good_standing,
    grid_instant,
    html_of,
    observe_tick,
    squeeze,
    subjects,
    text_of,
    tr,
    wait_for_mail,
)

from coop.board.v1 import assembly_pb2 as apb
from coop.board.v1 import assembly_pb2_grpc as agrpc
from coop.board.v1 import common_pb2 as cpb
from coop.elections.v1 import elections_pb2 as epb
from coop.notifications.v1 import notifications_pb2 as npb
from coop.notifications.v1 import notifications_pb2_grpc as ngrpc
from coop_notifications.adapters.bounces import parse_verp
from coop_notifications.domain.links import check_unsubscribe
from coop_platform.pbtypes import to_timestamp
from coop_platform.rich_status import details_of
from coop_testkit import bearer, wait_until
from coop_testkit.mailbox import MailPath, mail_path

pytestmark = [pytest.mark.rabbitmq]

# Creating the election and the members standing, before the earliest tick that may build its roll.
STANDING_SECONDS = 20
# The opening instant, this long after a tick of the elections worker: the next tick, which opens
# the vote, comes tick - OPEN_AFTER_TICK seconds after it (election.closing_soon halfway later).
OPEN_AFTER_TICK = 3.0
# From the tick that opens the vote to the earliest close (the reminders on their way meanwhile).
VOTING_SECONDS = 10
MAIL_SECONDS = 180  # Postfix, Dovecot and the worker's loop on a busy machine
ELECTION_TITLE = {"fr": "Élection du conseil", "nl": "Verkiezing van de raad", "en": "Board election"}
ASSEMBLY_TITLE = cpb.LocalizedText(fr="Assemblée générale ordinaire", nl="Gewone algemene vergadering",
                                   en="Ordinary General Assembly")
LEGAL_NOTE = "This is a legal notice: every member receives it, whatever their e-mail preferences."
ON_THEIR_WAY = ("pending", "claimed", "deferred")
SUPPRESSED_ADDRESS = "address suppressed (bounced or refused)"


@pytest.fixture
def new_mailbox() -> Iterator[Callable[[str], str]]:
    """Fresh addresses of the test domain, one mailbox each; the mailboxes are removed afterwards."""
    path = mail_path()
    made: list[str] = []

    def new(name: str) -> str:
        made.append(path.new_address(f"e2e-{name}"))
        return made[-1]

    yield new
    for address in made:
        local, _, domain = address.partition("@")
        shutil.rmtree(MAILDIRS / domain / local, ignore_errors=True)


@pytest.fixture
def channels(notifications_platform) -> Iterator[dict[str, grpc.Channel]]:
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(grpc.insecure_channel(target))
               for name, target in notifications_platform.targets.items()}


def member(m: Member) -> list[tuple[str, str]]:
    return bearer(m.member_id, "member")


def check_mail(path: MailPath, message: EmailMessage, m: Member, key: str, *, category: str | None,
               links: tuple[str, ...] = ()) -> None:
    """The headers, the greeting and the links of a message to `m` (`category` None: legal)."""
    language = m.language
    assert message["Message-ID"] == f"<{key}@{path.domain}>"
    assert message["X-Coop-Delivery"] == key
    assert parse_verp(str(message["Return-Path"]), path.domain) == key  # the VERP envelope sender
    assert (str(message["From"]), str(message["To"])) == (MAIL_FROM, m.address)
    assert message["Content-Language"] == language and message["Auto-Submitted"] == "auto-generated"
    text, html = squeeze(text_of(message)), html_of(message)
    assert tr(language, "Dear %(name)s,", name=m.name) in text
    assert tr(language, "Member number %(number)s", number=m.number) in text
    for url in (f"{PORTAL_URL}/inbox/{key}", *links):
        assert url in text and f'href="{url}"' in html, url
    if category is None:
        assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
        assert squeeze(tr(language, LEGAL_NOTE)) in text
        return
    link = unsubscribe_link(message)
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert (query["t"], query["m"], query["c"]) == (TENANT, m.member_id, category)
    assert check_unsubscribe(UNSUBSCRIBE_SECRET.encode(), query["t"], query["m"], query["c"], query["s"])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in text and squeeze(tr(language, LEGAL_NOTE)) not in text


def unsubscribe_link(message: EmailMessage) -> str:
    header = str(message["List-Unsubscribe"])
    assert header.startswith("<") and header.endswith(">"), header
    return header[1:-1]


def settled(ledger: Ledger, notification: str, members: tuple[Member, ...],
            timeout: float = MAIL_SECONDS) -> dict[str, Row]:
    """A notification's e-mail rows once each of `members` has one (others may too: the caller
    compares) and none is on its way."""
    found: list[dict[str, Row]] = []
    wanted = {m.member_id for m in members}

    def done() -> bool:
        rows = ledger.emails(notification)
        if wanted <= set(rows) and not any(r.state in ON_THEIR_WAY for r in rows.values()):
            found.append(rows)
            return True
        return False

    wait_until(done, timeout=timeout, interval=0.5, message=f"the {notification} e-mails sent or suppressed")
    return found[0]


def states(rows: dict[str, Row], members: tuple[Member, ...]) -> dict[str, tuple[str, str]]:
    """Each member's row by name: (state, detail), the detail only for rows not sent."""
    names = {m.member_id: m.name for m in members}
    return {names.get(k, k): (r.state, "" if r.state == "submitted" else r.detail) for k, r in rows.items()}


def test_members_read_every_notice_in_their_language_over_imap_and_a_bounce_suppresses_the_address(
        notifications_platform, channels: dict[str, grpc.Channel], new_mailbox: Callable[[str], str]) -> None:
    platform = notifications_platform
    path = mail_path()
    data_dir = platform.processes["notifications-worker"].env["COOP_DATA_DIR"]
    ledger = Ledger(Path(data_dir) / "notifications.db")
    coop = Coop(platform, channels["membership"], channels["elections"])
    preferences = ngrpc.PreferenceServiceStub(channels["notifications"])
    assemblies = agrpc.AssemblyServiceStub(channels["board"])
    admin = coop.admin

    # -- 1. Admissions: a welcome mail in each member's language. ---------------------------------
    ana = admit(coop.membership, admin, "Ana", "fr", new_mailbox("ana"))
    bram = admit(coop.membership, admin, "Bram", "nl", new_mailbox("bram"))
    claire = admit(coop.membership, admin, "Claire", "en", new_mailbox("claire"))
    noor = admit(coop.membership, admin, "Noor", "nl", new_mailbox("noor"))
    dan = admit(coop.membership, admin, "Dan", "fr", path.unknown_address())  # Postfix bounces it
    everyone = (ana, bram, claire, noor, dan)
    welcome_subjects = {lang: tr(lang, "Welcome to %(tenant)s", tenant=TENANT) for lang in ("fr", "nl", "en")}
    assert len(set(welcome_subjects.values())) == 3, welcome_subjects  # three languages, three texts
    for m in (ana, bram, claire, noor):
        welcome = wait_for_mail(path, m.address, welcome_subjects[m.language], MAIL_SECONDS)
        check_mail(path, welcome, m, ledger.emails("member_welcome")[m.member_id].key, category="membership",
                   links=(PORTAL_URL,))
        assert squeeze(tr(m.language, "In the member portal you can follow your shares, vote, and choose which "
                                      "e-mails you receive.")) in squeeze(text_of(welcome))

    # -- 2. The bounce: Postfix's report read back from Dovecot, the address suppressed. ----------
    def dan_bounced() -> bool:
        rows = ledger.of_member(dan.member_id)
        sent = {r.notification for r in rows}
        return ({"member_welcome", "share_due", "share_paid"} <= sent
                and all(r.state in ("bounced", "suppressed") for r in rows)
                and ledger.suppressed(dan.address) is not None)

    wait_until(dan_bounced, timeout=MAIL_SECONDS, interval=0.5,
               message="the notifications worker reading Postfix's bounces for Dan")
    to_dan = ledger.emails("member_welcome")[dan.member_id]
    assert to_dan.state == "bounced" and "5.1.1" in to_dan.detail, to_dan
    assert "5.1.1" in (ledger.suppressed(dan.address) or "")

    # -- 3. Noor opts out of every category she may, through the preferences api. ----------------
    categories = [p.category for p in preferences.GetPreferences(npb.GetPreferencesRequest(), metadata=member(noor),
                                                                  timeout=15).preferences]
    assert {"legal", "elections", "assembly", "membership"} <= set(categories)
    for category in categories:
        if category != "legal":
            preferences.SetPreference(npb.SetPreferenceRequest(category=category, opted_out=True, request_id=rid()),
                                      metadata=member(noor), timeout=15)
    with pytest.raises(grpc.RpcError) as refused:
        preferences.SetPreference(npb.SetPreferenceRequest(category="legal", opted_out=True, request_id=rid()),
                                  metadata=member(noor), timeout=15)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details_of(refused.value).reason == "LEGAL_NOTICES_REQUIRED"
    chosen = preferences.GetPreferences(npb.GetPreferencesRequest(), metadata=member(noor), timeout=15).preferences
    assert {p.category: p.opted_out for p in chosen} == {c: c != "legal" for c in categories}

    # -- 4. An election whose opening falls a few seconds after a tick of the elections worker. ---
    tick = platform.elections_tick_seconds
    tick_at = observe_tick(lambda: platform.metrics_text("elections-worker"), tick)
    created = utcnow().replace(microsecond=0)
    opens = grid_instant(tick_at, tick, created + timedelta(seconds=3 * tick + STANDING_SECONDS), OPEN_AFTER_TICK)
    closes = (opens + timedelta(seconds=tick + VOTING_SECONDS)).replace(second=0) + timedelta(minutes=1)
    plan = Plan(created, opens, closes, ZONE if not closes.astimezone(ZoneInfo(ZONE)).fold else "UTC")
    election = coop.elections.CreateElection(epb.CreateElectionRequest(
        texts=[epb.LocalizedText(language=lang, title=title) for lang, title in ELECTION_TITLE.items()],
        questions=[
            epb.QuestionSpec(question_id="board", method=epb.METHOD_PLURALITY, seats=1, mandate_years=4,
                             texts=[epb.LocalizedText(language="en", title="Seat")]),
            epb.QuestionSpec(question_id="accounts", method=epb.METHOD_RESOLUTION,
                             texts=[epb.LocalizedText(language="en", title="Accounts")]),
        ],
        window=epb.VotingWindowSpec(opens_at=plan.opens.isoformat(), assembly_day=plan.assembly_day.isoformat(),
                                    closes_local=plan.local_close.strftime("%H:%M"), time_zone=plan.zone),
        roll_cutoff=plan.opens.isoformat(), nominations_open=plan.created.isoformat(),
        nominations_close=plan.opens.isoformat()), metadata=admin, timeout=15)
    eid = election.election_id
    # Standing proves the elections worker has projected each member in good standing (the roll
    # is built from that projection); all but Claire withdraw.
    for m in everyone:
        coop.stand(eid, m.member_id)
        if m is not claire:
            coop.withdraw(eid, m.member_id)
    assert utcnow() < plan.opens - timedelta(seconds=3 * tick), (
        "the members stood after the worker may have built the roll: raise STANDING_SECONDS")
    wait_until(lambda: all(coop.on_roll(eid, m.member_id) for m in everyone), timeout=seconds_until(plan.opens),
               interval=0.5, message="the elections worker building the roll")
    roll = coop.elections.GetVoterRoll(epb.ElectionRef(election_id=eid), metadata=admin, timeout=15)
    assert roll.size == len(everyone)  # the roll: exactly the members in good standing

    # -- 5. Voting opens by the clock; Ana votes before the tick announces it. --------------------
    wait_until(lambda: utcnow() >= plan.opens, timeout=seconds_until(plan.opens) + 5, interval=0.05,
               message="the opening instant")
    coop.vote(eid, ana.member_id, [claire.member_id], "yes")
    vote_url = f"{PORTAL_URL}/elections/{eid}/vote"
    for m in (ana, bram, claire):
        invitation = wait_for_mail(path, m.address, tr(m.language, "You are invited to vote: %(title)s",
                                                       title=ELECTION_TITLE[m.language]), tick + MAIL_SECONDS)
        check_mail(path, invitation, m, ledger.emails("election_invitation")[m.member_id].key, category="elections",
                   links=(vote_url,))
    invitations = settled(ledger, "election_invitation", everyone)
    assert states(invitations, everyone) == {
        "Ana": ("submitted", ""), "Bram": ("submitted", ""), "Claire": ("submitted", ""),
        "Noor": ("suppressed", "opted out"), "Dan": ("suppressed", SUPPRESSED_ADDRESS)}

    # -- 6. The reminder: the non-voters election.closing_soon names, Ana left out. --------------
    reminders = settled(ledger, "election_reminder", (bram, claire, noor, dan), tick + MAIL_SECONDS)
    assert states(reminders, everyone) == {
        "Bram": ("submitted", ""), "Claire": ("submitted", ""),
        "Noor": ("suppressed", "opted out"), "Dan": ("suppressed", SUPPRESSED_ADDRESS)}, (
        "Ana voted at the opening, long before the tick halfway through the window that sent "
        "election.closing_soon: neither it nor the re-check against election.voted may leave her a row")
    reminder_subjects = {m.member_id: tr(m.language, "Reminder: vote before the close of %(title)s",
                                         title=ELECTION_TITLE[m.language]) for m in everyone}
    for m in (bram, claire):
        reminder = wait_for_mail(path, m.address, reminder_subjects[m.member_id], MAIL_SECONDS)
        check_mail(path, reminder, m, reminders[m.member_id].key, category="elections", links=(vote_url,))
        assert squeeze(tr(m.language, "Vote now")) in squeeze(text_of(reminder))

    # -- 7. The results, at the close, to every voter of the roll. ---------------------------------
    results_url = f"{PORTAL_URL}/elections/{eid}/results"
    result_mails = {}
    for m in (ana, bram, claire):
        result_mails[m.name] = mail = wait_for_mail(path, m.address, tr(
            m.language, "Results: %(title)s", title=ELECTION_TITLE[m.language]),
            seconds_until(plan.closes) + tick + MAIL_SECONDS)
        check_mail(path, mail, m, ledger.emails("election_results")[m.member_id].key, category="elections",
                   links=(results_url,))
        ballots = tr(m.language, "%(label)s: %(value)s", label=tr(m.language, "Ballots cast"), value="1")
        assert squeeze(ballots) in squeeze(text_of(mail))
    assert states(settled(ledger, "election_results", everyone), everyone) == {
        "Ana": ("submitted", ""), "Bram": ("submitted", ""), "Claire": ("submitted", ""),
        "Noor": ("suppressed", "opted out"), "Dan": ("suppressed", SUPPRESSED_ADDRESS)}

    # -- 8. The General Assembly's convocation: every member, opted out or not. ------------------
    board_db = Path(data_dir) / "board.db"
    wait_until(lambda: {m.member_id for m in everyone} <= board_members_in_good_standing(board_db), timeout=60,
               interval=0.5, message="the board worker projecting the members")
    starts = utcnow() + timedelta(days=30)
    assembly = assemblies.ScheduleAssembly(apb.ScheduleAssemblyRequest(
        title=ASSEMBLY_TITLE, starts_at=to_timestamp(starts), place="Tour & Taxis, Bruxelles",
        registration_deadline=to_timestamp(starts - timedelta(days=3)), election_id=eid, request_id=rid()),
        metadata=admin, timeout=15).assembly
    aid = assembly.assembly_id
    assemblies.ConveneAssembly(apb.ConveneAssemblyRequest(assembly_id=aid, request_id=rid()), metadata=admin,
                               timeout=15)

    def convened() -> apb.Assembly:
        return assemblies.GetAssembly(apb.GetAssemblyRequest(assembly_id=aid), metadata=admin, timeout=15).assembly

    wait_until(lambda: convened().status == apb.ASSEMBLY_STATUS_CONVENED, timeout=120, interval=0.5,
               message="the board worker sending the convocation")
    progress = convened().convocation
    assert progress.sent == progress.total == len(everyone)
    register_url = f"{PORTAL_URL}/assembly/{aid}/register"
    convocations = settled(ledger, "assembly_convocation", everyone)
    assert states(convocations, everyone) == {
        "Ana": ("submitted", ""), "Bram": ("submitted", ""), "Claire": ("submitted", ""),
        "Noor": ("submitted", ""), "Dan": ("suppressed", SUPPRESSED_ADDRESS)}
    for m in (ana, bram, claire, noor):
        convocation = wait_for_mail(path, m.address, tr(m.language, "Convocation: %(title)s",
                                                        title=getattr(ASSEMBLY_TITLE, m.language)), MAIL_SECONDS)
        check_mail(path, convocation, m, convocations[m.member_id].key, category=None, links=(register_url,))
    # the convocation no e-mail carried is on the secretariat's postal list
    postal = ngrpc.DeliveryServiceStub(channels["notifications"]).ListPostalFallback(
        npb.ListPostalFallbackRequest(), metadata=admin, timeout=15).notices
    assert [(n.member_id, n.member_number, n.notification) for n in postal] == [
        (dan.member_id, dan.number, "assembly_convocation")]
    assert SUPPRESSED_ADDRESS in postal[0].reason

    # -- 9. Nothing else was sent: no reminder to Ana, none of the election's mails to Noor or Dan. -
    assert squeeze(reminder_subjects[ana.member_id]) not in subjects(path, ana.address)
    noor_read = subjects(path, noor.address)
    for subject in (tr("nl", "You are invited to vote: %(title)s", title=ELECTION_TITLE["nl"]),
                    reminder_subjects[noor.member_id], tr("nl", "Results: %(title)s", title=ELECTION_TITLE["nl"])):
        assert squeeze(subject) not in noor_read, subject
    assert not [r for r in ledger.of_member(dan.member_id) if r.state == "submitted"]  # none after the bounce

    # -- 10. A List-Unsubscribe link, POSTed as a mail client does (RFC 8058), opts out. ----------
    link = unsubscribe_link(result_mails["Claire"])
    request = urllib.request.Request(link, data=b"List-Unsubscribe=One-Click", method="POST")
    with urllib.request.urlopen(request, timeout=15) as answer:  # noqa: S310 - the api's local endpoint
        assert answer.status == 200
    claire_chose = preferences.GetPreferences(npb.GetPreferencesRequest(), metadata=member(claire), timeout=15)
    assert {p.category for p in claire_chose.preferences if p.opted_out} == {"elections"}
