"""The SMTP sender against an in-process relay that answers 421, 450 and 550 on demand."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from notif_mail_samples import outgoing

from coop_notifications.adapters.bounces import parse_verp
from coop_notifications.adapters.eml import EmlSender
from coop_notifications.adapters.smtp import SmtpSender, SmtpSettings, TokenBucket, sender_from_env
from coop_testkit.smtp_fault import SmtpFaultServer, throwaway_tls


@pytest.fixture
def relay():
    with SmtpFaultServer() as server:
        yield server


def _sender(server: SmtpFaultServer, **kwargs) -> SmtpSender:
    return SmtpSender(SmtpSettings.from_url(server.url()), **kwargs)


# --- COOP_SMTP_URL ---------------------------------------------------------------------------

def test_the_url_gives_host_port_credentials_and_tls_mode():
    s = SmtpSettings.from_url("smtp://mailer:p%40ss@relay.example:587?tls=required&timeout=5")
    assert (s.host, s.port, s.username, s.password) == ("relay.example", 587, "mailer", "p@ss")
    assert (s.implicit_tls, s.starttls, s.timeout) == (False, "required", 5.0)
    assert SmtpSettings.from_url("smtp://relay.example").port == 25
    smtps = SmtpSettings.from_url("smtps://u:p@relay.example")
    assert (smtps.port, smtps.implicit_tls) == (465, True)


def test_the_url_never_shows_its_password():
    assert "p@ss" not in SmtpSettings.from_url("smtp://u:p%40ss@relay:587").redacted()


@pytest.mark.parametrize("url, reason", [
    ("http://relay", "smtp:// or smtps://"),
    ("smtp://", "no host"),
    ("smtp://u:p@relay?tls=none", "never sent without TLS"),
    ("smtp://relay?tls=maybe", "tls must be"),
    ("smtp://relay?colour=blue", "unknown options"),
])
def test_a_bad_url_is_refused_with_its_reason(url, reason):
    with pytest.raises(ValueError, match=reason):
        SmtpSettings.from_url(url)


def test_without_a_relay_the_sender_is_the_eml_sink(tmp_path):
    sender = sender_from_env({"COOP_MAIL_DIR": str(tmp_path)})
    assert isinstance(sender, EmlSender) and sender.directory == tmp_path


def test_with_a_relay_the_sender_is_smtp_at_the_configured_pace():
    sender = sender_from_env({"COOP_SMTP_URL": "smtp://relay:2525?tls=none",
                              "COOP_SMTP_RATE": "50", "COOP_SMTP_CONNECTIONS": "4"})
    assert isinstance(sender, SmtpSender) and sender.bucket.rate == 50
    assert sender.connections == 4


# --- the pace -----------------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_token_bucket_spaces_messages_at_the_configured_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=20, burst=1, clock=clock, sleep=clock.sleep)
    for _ in range(101):
        bucket.take()
    assert clock.now - 1000.0 == pytest.approx(100 / 20)  # 101 messages: 100 intervals of 50 ms


def test_the_token_bucket_allows_its_burst_then_paces():
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=5, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        bucket.take()
    assert clock.sleeps == []
    bucket.take()
    assert clock.sleeps == [pytest.approx(0.1)]


def test_idle_time_refills_the_bucket_only_up_to_its_burst():
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=2, clock=clock, sleep=clock.sleep)
    clock.now += 3600
    for _ in range(3):
        bucket.take()
    assert clock.sleeps == [pytest.approx(0.1)]


def test_a_zero_rate_is_unlimited():
    clock = FakeClock()
    bucket = TokenBucket(rate=0, clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        bucket.take()
    assert clock.sleeps == []


def test_the_sender_takes_a_token_per_message(relay):
    clock = FakeClock()
    sender = _sender(relay, bucket=TokenBucket(4, 1, clock=clock, sleep=clock.sleep))
    for i in range(5):
        assert sender.send(outgoing(key=f"evt-{i}:m:email")).kind == "submitted"
    assert clock.now - 1000.0 == pytest.approx(1.0)
    sender.close()


# --- outcomes -------------------------------------------------------------------------------

def test_an_accepted_message_is_submitted_with_the_verp_envelope_sender(relay):
    mail = outgoing("election_invitation", "nl")
    outcome = _sender(relay).send(mail)
    assert (outcome.kind, outcome.code) == ("submitted", 250)
    [received] = relay.messages
    assert received.mail_from == mail.return_path
    assert parse_verp(received.mail_from) == mail.delivery_key
    assert received.rcpt_tos == ["ana@coop.test"]
    assert received.message["Message-ID"] == mail.message_id
    assert received.message["Content-Language"] == "nl"


def test_one_connection_carries_many_messages(relay):
    sender = _sender(relay)
    for i in range(3):
        sender.send(outgoing(key=f"evt-{i}:m:email"))
    assert len(relay.messages) == 3
    assert sender.idle_connections == 1
    sender.close()
    assert sender.idle_connections == 0


def test_concurrent_sends_use_up_to_the_configured_connections(relay):
    sender = _sender(relay, connections=3)
    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(sender.send, [outgoing(key=f"evt-{i}:m:email")
                                               for i in range(30)]))
    assert {o.kind for o in outcomes} == {"submitted"}
    assert len(relay.messages) == 30
    assert 1 <= sender.idle_connections <= 3
    sender.close()


def test_a_refused_recipient_leaves_the_connection_usable(relay):
    relay.reject("gone@coop.test", 550)
    sender = _sender(relay)
    assert sender.send(outgoing(to="gone@coop.test")).kind == "rejected"
    assert sender.idle_connections == 1
    assert sender.send(outgoing()).kind == "submitted"


def test_a_450_to_the_recipient_defers_and_the_retry_goes_through(relay):
    relay.fail("rcpt", 450, times=1)
    sender = _sender(relay)
    first = sender.send(outgoing())
    assert (first.kind, first.code) == ("deferred", 450)
    assert "RCPT TO" in first.detail
    assert sender.send(outgoing()).kind == "submitted"


def test_a_421_defers_and_the_next_message_reconnects(relay):
    relay.fail("mail", 421, times=1)
    sender = _sender(relay)
    first = sender.send(outgoing())
    assert (first.kind, first.code) == ("deferred", 421)
    assert sender.idle_connections == 0  # the relay closed the channel
    assert sender.send(outgoing()).kind == "submitted"
    assert len(relay.messages) == 1


def test_a_relay_refusing_connections_with_421_defers_until_it_takes_them_again(relay):
    relay.fail("connect", 421, times=2)
    sender = _sender(relay)
    outcomes = [sender.send(outgoing()) for _ in range(3)]
    assert [(o.kind, o.code) for o in outcomes] == [
        ("deferred", 421), ("deferred", 421), ("submitted", 250)]
    assert "connect" in outcomes[0].detail
    assert relay.fault_replies == [("connect", 421), ("connect", 421)]


def test_a_permanent_refusal_at_the_greeting_defers_and_suppresses_nobody(relay):
    relay.fail("connect", 554, "5.3.2 No SMTP service here", times=1)
    outcome = _sender(relay).send(outgoing())
    assert (outcome.kind, outcome.code) == ("deferred", 554)


def test_a_421_after_the_data_defers(relay):
    relay.fail("data", 421, times=1)
    outcome = _sender(relay).send(outgoing())
    assert (outcome.kind, outcome.code) == ("deferred", 421)


def test_a_550_to_the_recipient_is_rejected_so_the_address_is_suppressed(relay):
    relay.reject("gone@coop.test", 550)
    outcome = _sender(relay).send(outgoing(to="gone@coop.test"))
    assert (outcome.kind, outcome.code) == ("rejected", 550)
    assert "5.1.1" in outcome.detail


def test_a_permanent_refusal_of_the_message_is_rejected(relay):
    relay.fail("data", 554, times=1)
    outcome = _sender(relay).send(outgoing())
    assert (outcome.kind, outcome.code) == ("rejected", 554)


def test_a_5xx_to_our_own_sender_address_defers_instead_of_suppressing_members(relay):
    relay.fail("mail", 550, times=1)
    outcome = _sender(relay).send(outgoing())
    assert (outcome.kind, outcome.code) == ("deferred", 550)
    assert "not the recipient's fault" in outcome.detail


def test_the_relay_in_a_lasting_4xx_state_defers_every_message_then_recovers(relay):
    relay.fail("rcpt", 450)
    sender = _sender(relay)
    outcomes = [sender.send(outgoing(key=f"evt-{i}:m:email")) for i in range(5)]
    assert {(o.kind, o.code) for o in outcomes} == {("deferred", 450)}
    relay.clear()
    assert sender.send(outgoing()).kind == "submitted"


def test_no_relay_listening_defers_without_a_code():
    with SmtpFaultServer() as server:
        url = server.url()
    outcome = SmtpSender(SmtpSettings.from_url(url + "&timeout=5")).send(outgoing())
    assert (outcome.kind, outcome.code) == ("deferred", None)
    assert "connect" in outcome.detail


def test_a_message_that_cannot_be_built_is_rejected_without_a_connection(relay):
    outcome = _sender(relay).send(outgoing(to="no-domain"))
    assert outcome.kind == "rejected" and relay.messages == []


# --- TLS and authentication ---------------------------------------------------------------

def test_starttls_and_auth_when_credentials_are_given(tmp_path):
    context, cafile = throwaway_tls(tmp_path)
    with SmtpFaultServer(tls_context=context, users={"mailer": "s3cret"}) as server:
        url = server.url(userinfo="mailer:s3cret", query=f"cafile={cafile}")
        outcome = SmtpSender(SmtpSettings.from_url(url)).send(outgoing())
        assert outcome.kind == "submitted"
        assert len(server.messages) == 1


def test_a_wrong_password_defers_and_never_suppresses_the_recipient(tmp_path):
    context, cafile = throwaway_tls(tmp_path)
    with SmtpFaultServer(tls_context=context, users={"mailer": "s3cret"}) as server:
        url = server.url(userinfo="mailer:wrong", query=f"cafile={cafile}")
        outcome = SmtpSender(SmtpSettings.from_url(url)).send(outgoing())
        assert (outcome.kind, outcome.code) == ("deferred", 535)


def test_credentials_are_not_sent_to_a_relay_without_starttls(relay):
    url = relay.url(userinfo="mailer:s3cret", query="")
    outcome = SmtpSender(SmtpSettings.from_url(url)).send(outgoing())
    assert outcome.kind == "deferred" and "does not offer STARTTLS" in outcome.detail
    assert relay.messages == []


def test_a_relay_certificate_from_an_unknown_ca_defers(tmp_path):
    context, _ = throwaway_tls(tmp_path / "relay")
    _, other_ca = throwaway_tls(tmp_path / "other")
    with SmtpFaultServer(tls_context=context) as server:
        url = server.url(query=f"tls=required&cafile={other_ca}")
        outcome = SmtpSender(SmtpSettings.from_url(url)).send(outgoing())
        assert outcome.kind == "deferred" and "CERTIFICATE_VERIFY_FAILED" in outcome.detail
        assert server.messages == []


def test_smtps_speaks_tls_from_the_first_byte(tmp_path):
    context, cafile = throwaway_tls(tmp_path)
    with SmtpFaultServer(implicit_tls=context) as server:
        url = server.url(scheme="smtps", query=f"cafile={cafile}")
        assert SmtpSender(SmtpSettings.from_url(url)).send(outgoing()).kind == "submitted"
        assert len(server.messages) == 1
