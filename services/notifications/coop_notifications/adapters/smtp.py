"""Sending through an SMTP relay: ``COOP_SMTP_URL``, STARTTLS or implicit TLS, auth, a paced rate.

``COOP_SMTP_URL``:

- ``smtp://[user:password@]host[:port]`` (port 25 by default): STARTTLS whenever the relay offers
  it, and required when credentials are given (a password never crosses in clear);
- ``smtps://[user:password@]host[:port]`` (port 465): TLS from the first byte;
- query options: ``tls=required`` (STARTTLS or fail), ``tls=none`` (never, for a loopback relay
  without certificates), ``cafile=/path/ca.pem`` (trust this CA instead of the system's),
  ``timeout=<seconds>`` (30), ``helo=<name>``.

User and password are percent-decoded (``%40`` for ``@``).

``COOP_SMTP_RATE``: messages per second (a token bucket, ``COOP_SMTP_BURST`` tokens deep, 1 by
default, so the pace holds from the first message); 0 or unset: unlimited.

``SmtpSender.send(mail) -> SendOutcome`` (domain/mail.py):

- ``submitted``: the relay took the message (250 after DATA);
- ``deferred``: a 4xx reply at any step, a lost or refused connection, a timeout, or a permanent
  reply that is not about the recipient (5xx to EHLO, AUTH or MAIL FROM: the relay's or our
  configuration, never a reason to suppress a member's address). The delivery loop backs off
  and retries;
- ``rejected``: a 5xx reply to RCPT TO or after DATA: permanent for this address and message;
  the caller suppresses the address.

Connections are kept open and reused (a relay may close one: the next message reconnects), up to
``COOP_SMTP_CONNECTIONS`` (1) at once: ``send`` is safe from several threads, each sending on a
connection of its own.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from coop_notifications.adapters.eml import EmlSender, build_message, mail_from
from coop_notifications.adapters.mail_url import parse_mail_url
from coop_notifications.domain.mail import OutgoingMail, Sender, SendOutcome


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    implicit_tls: bool = False
    starttls: str = "auto"  # "auto" (when offered; required with credentials), "required", "none"
    username: str | None = None
    password: str | None = None
    cafile: str | None = None
    timeout: float = 30.0
    helo: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        u = parse_mail_url(url, variable="COOP_SMTP_URL", plain="smtp", secure="smtps",
                           ports=(25, 465), options=frozenset({"cafile", "timeout", "helo"}))
        if u.username and u.starttls == "none" and not u.implicit_tls:
            raise ValueError("COOP_SMTP_URL: credentials are never sent without TLS (tls=none)")
        return cls(
            host=u.host, port=u.port, implicit_tls=u.implicit_tls, starttls=u.starttls,
            username=u.username, password=u.password, cafile=u.options.get("cafile"),
            timeout=float(u.options.get("timeout", 30)), helo=u.options.get("helo"),
        )

    def redacted(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.username}:***@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; ``take()`` waits for one.

    ``clock`` and ``sleep`` are injectable so that tests count waits instead of timing them.
    """

    def __init__(self, rate: float, burst: float = 1.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if rate < 0 or burst < 1:
            raise ValueError("a token bucket needs rate >= 0 and burst >= 1")
        self.rate, self.burst = rate, burst
        self._clock, self._sleep = clock, sleep
        self._tokens = burst
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> float:
        """Take one token, sleeping until there is one. Returns the time slept."""
        if self.rate == 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


class SmtpSender:
    """Sends through the relay over up to ``connections`` SMTP connections, each reused.

    Threads calling ``send`` at once use a connection each (the delivery loop's batches hand a
    General Assembly's convocations to the relay in parallel); the token bucket paces them all.
    """

    def __init__(self, settings: SmtpSettings, rate: float = 0.0, burst: float = 1.0,
                 from_address: str | None = None, bucket: TokenBucket | None = None,
                 connections: int = 1):
        if connections < 1:
            raise ValueError("an SMTP sender needs at least one connection")
        self.settings = settings
        self.from_address = from_address
        self.bucket = bucket or TokenBucket(rate, burst)
        self.connections = connections
        self._idle: list[smtplib.SMTP] = []  # open connections no send is using (LIFO)
        self._idle_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(connections)

    # -- connection ------------------------------------------------------------------------
    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.cafile)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.implicit_tls:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, local_hostname=s.helo,
                                                  timeout=s.timeout, context=self._tls_context())
        else:
            conn = smtplib.SMTP(s.host, s.port, local_hostname=s.helo, timeout=s.timeout)
        try:
            conn.ehlo()
            if not s.implicit_tls and s.starttls != "none":
                must = s.starttls == "required" or s.username is not None
                if conn.has_extn("starttls"):
                    conn.starttls(context=self._tls_context())
                    conn.ehlo()
                elif must:
                    raise _SetupError(f"{s.redacted()} does not offer STARTTLS")
            if s.username is not None:
                conn.login(s.username, s.password or "")
        except BaseException:
            _close_quietly(conn)
            raise
        return conn

    @property
    def idle_connections(self) -> int:
        with self._idle_lock:
            return len(self._idle)

    def close(self) -> None:
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                _close_quietly(conn)

    # -- sending ---------------------------------------------------------------------------
    def send(self, mail: OutgoingMail) -> SendOutcome:
        try:
            message = build_message(mail, self.from_address or mail_from())
        except ValueError as exc:
            return SendOutcome("rejected", None, f"cannot build the message: {exc}")
        self.bucket.take()
        with self._slots:
            with self._idle_lock:
                conn = self._idle.pop() if self._idle else None
            outcome, keep = self._send_on(conn, mail, message)
            if keep is not None:
                with self._idle_lock:
                    self._idle.append(keep)
            return outcome

    def _send_on(self, conn: smtplib.SMTP | None, mail: OutgoingMail,
                 message) -> tuple[SendOutcome, smtplib.SMTP | None]:
        """One message on ``conn`` (opened when None); the outcome, and the connection to keep."""
        stage = "connect"
        try:
            if conn is None:
                conn = self._connect()
            stage = "send"
            conn.send_message(message, from_addr=mail.return_path, to_addrs=[mail.to_address])
            return SendOutcome("submitted", 250, f"accepted by {self.settings.redacted()}"), conn
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return self._reply_outcome(conn, code, text, "RCPT TO", recipient_fault=True)
        except smtplib.SMTPDataError as exc:
            return self._reply_outcome(conn, exc.smtp_code, exc.smtp_error, "DATA",
                                       recipient_fault=True)
        except smtplib.SMTPSenderRefused as exc:
            return self._reply_outcome(conn, exc.smtp_code, exc.smtp_error, "MAIL FROM",
                                       recipient_fault=False)
        except smtplib.SMTPResponseException as exc:  # EHLO, STARTTLS, AUTH, ...
            return self._reply_outcome(conn, exc.smtp_code, exc.smtp_error, stage,
                                       recipient_fault=False)
        except _SetupError as exc:
            return SendOutcome("deferred", None, str(exc)), _dropped(conn)
        except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            # SMTPServerDisconnected, refused or reset connections, timeouts, TLS failures.
            detail = f"{self.settings.redacted()} ({stage}): {type(exc).__name__}: {exc}"
            return SendOutcome("deferred", None, detail), _dropped(conn)

    def _reply_outcome(self, conn: smtplib.SMTP | None, code: int, text: bytes | str, step: str,
                       *, recipient_fault: bool) -> tuple[SendOutcome, smtplib.SMTP | None]:
        detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        detail = f"{step}: {code} {detail}"
        if 500 <= code < 600 and recipient_fault:
            return SendOutcome("rejected", code, detail), conn  # smtplib sent RSET: reusable
        if 500 <= code < 600:
            outcome = SendOutcome("deferred", code, f"{detail} (not the recipient's fault)")
            return outcome, _dropped(conn)
        if code == 421 or not 400 <= code < 500:
            return SendOutcome("deferred", code, detail), _dropped(conn)  # 421: channel closing
        return SendOutcome("deferred", code, detail), conn


def _dropped(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        _close_quietly(conn)


class _SetupError(Exception):
    pass


def _close_quietly(conn: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError):
        conn.close()


def sender_from_env(env: dict[str, str] | None = None) -> Sender:
    """``SmtpSender`` when ``COOP_SMTP_URL`` is set, else the ``.eml`` sink under var/mail/."""
    env = os.environ if env is None else env
    url = env.get("COOP_SMTP_URL", "").strip()
    from_address = env.get("COOP_MAIL_FROM") or None
    if not url:
        return EmlSender(env.get("COOP_MAIL_DIR") or None, from_address)
    try:
        rate = float(env.get("COOP_SMTP_RATE") or 0)
        burst = float(env.get("COOP_SMTP_BURST") or 1)
        connections = int(env.get("COOP_SMTP_CONNECTIONS") or 1)
    except ValueError:
        raise ValueError("COOP_SMTP_RATE, COOP_SMTP_BURST and COOP_SMTP_CONNECTIONS must be "
                         "numbers") from None
    return SmtpSender(SmtpSettings.from_url(url), rate=rate, burst=burst,
                      from_address=from_address, connections=connections)
