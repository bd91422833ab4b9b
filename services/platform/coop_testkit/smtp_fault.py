"""An in-process SMTP server (aiosmtpd) that answers with faults on demand, for sender tests.

    with SmtpFaultServer() as server:               # 127.0.0.1, a free port
        server.fail("rcpt", 450, times=2)           # the next two RCPT TO get 450
        server.fail("mail", 421)                    # every MAIL FROM gets 421 until cleared
        server.fail("connect", 421, times=1)        # the next connection is refused with 421
        server.reject("gone@coop.test", 550)        # this recipient, always
        server.clear()
        server.messages                             # [Received(mail_from, rcpt_tos, message)]

Stages: "connect" (the greeting: the connection is closed after it, as a relay refusing
connections does), "mail" (MAIL FROM), "rcpt" (RCPT TO), "data" (after the message). A 421
closes the connection, as a relay going away does. ``tls_context`` offers STARTTLS, ``implicit_tls``
speaks TLS from the first byte (smtps); ``users`` (login ->
password) requires AUTH (over TLS). Thread-safe: the server runs in aiosmtpd's own thread.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

STAGES = ("connect", "mail", "rcpt", "data")


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class _Fault:
    code: int
    text: str
    times: int | None  # None: until cleared


@dataclass
class _State:
    faults: dict[str, list[_Fault]] = field(default_factory=lambda: {s: [] for s in STAGES})
    rejected: dict[str, tuple[int, str]] = field(default_factory=dict)
    messages: list[Received] = field(default_factory=list)
    replies: list[tuple[str, int]] = field(default_factory=list)  # (stage, code) of each fault


_DEFAULT_TEXT = {
    421: "4.3.2 Service not available, closing transmission channel",
    450: "4.2.1 Mailbox unavailable, try again later",
    451: "4.3.0 Local error in processing",
    452: "4.3.1 Insufficient system storage",
    550: "5.1.1 Mailbox unavailable",
    552: "5.3.4 Message too big",
    554: "5.7.1 Transaction failed",
}


class _Handler:
    def __init__(self, server: SmtpFaultServer):
        self.server = server

    def _fault(self, stage: str, smtp) -> str | None:
        reply = self.server._next_fault(stage)
        if reply is not None and reply.startswith("421") and smtp.transport is not None:
            # aiosmtpd keeps the connection after a handler's reply: close it after this one
            # (transport.close() flushes the reply first).
            smtp.loop.call_soon(smtp.transport.close)
        return reply

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        fault = self._fault("mail", server)
        if fault:
            return fault
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        fault = self._fault("rcpt", server)
        if fault:
            return fault
        rejected = self.server._rejection(address)
        if rejected:
            return rejected
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        fault = self._fault("data", server)
        if fault:
            return fault
        self.server._received(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                       bytes(envelope.original_content or envelope.content)))
        return "250 2.0.0 Ok: queued"


class _Authenticator:
    def __init__(self, users: dict[str, str]):
        self.users = users

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode()
            if self.users.get(login) == auth_data.password.decode():
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)


class _FaultSMTP(SMTP):
    """aiosmtpd's SMTP session with a greeting that can be a fault (aiosmtpd has no hook)."""

    def __init__(self, handler, *, fault_server: SmtpFaultServer, **kwargs):
        super().__init__(handler, **kwargs)
        self._fault_server = fault_server

    async def _handle_client(self) -> None:
        reply = self._fault_server._next_fault("connect")
        if reply is not None:
            await self.push(reply)
            if self.transport is not None:
                self.transport.close()
            return
        await super()._handle_client()


class _FaultController(Controller):
    def __init__(self, handler, *, fault_server: SmtpFaultServer, **kwargs):
        super().__init__(handler, **kwargs)
        self._fault_server = fault_server

    def factory(self):
        return _FaultSMTP(self.handler, fault_server=self._fault_server, **self.SMTP_kwargs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpFaultServer:
    def __init__(self, *, tls_context: ssl.SSLContext | None = None,
                 implicit_tls: ssl.SSLContext | None = None,
                 users: dict[str, str] | None = None, hostname: str = "127.0.0.1"):
        self.hostname = hostname
        self.port = _free_port()
        self._lock = threading.Lock()
        self._state = _State()
        kwargs: dict = {"ready_timeout": 10.0}
        if tls_context is not None:
            kwargs["tls_context"] = tls_context
        if implicit_tls is not None:
            kwargs["ssl_context"] = implicit_tls
        if users is not None:
            kwargs.update(authenticator=_Authenticator(users), auth_required=True,
                          auth_require_tls=tls_context is not None)
        self._controller = _FaultController(_Handler(self), fault_server=self, hostname=hostname,
                                            port=self.port, server_hostname="fault.smtp.test",
                                            **kwargs)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> SmtpFaultServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpFaultServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def url(self, scheme: str = "smtp", userinfo: str = "", query: str = "tls=none") -> str:
        user = f"{userinfo}@" if userinfo else ""
        return f"{scheme}://{user}{self.hostname}:{self.port}" + (f"?{query}" if query else "")

    # -- faults ----------------------------------------------------------------------------
    def fail(self, stage: str, code: int, text: str | None = None, times: int | None = None) -> None:
        """Answer ``code`` at ``stage`` the next ``times`` times (None: until :meth:`clear`)."""
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}")
        with self._lock:
            self._state.faults[stage].append(
                _Fault(code, text or _DEFAULT_TEXT.get(code, "fault on demand"), times))

    def reject(self, address: str, code: int = 550, text: str | None = None) -> None:
        with self._lock:
            self._state.rejected[address.lower()] = (code, text or _DEFAULT_TEXT.get(code, "no"))

    def clear(self) -> None:
        with self._lock:
            self._state.faults = {s: [] for s in STAGES}
            self._state.rejected.clear()

    @property
    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._state.messages)

    @property
    def fault_replies(self) -> list[tuple[str, int]]:
        with self._lock:
            return list(self._state.replies)

    # -- called from the server thread -----------------------------------------------------
    def _next_fault(self, stage: str) -> str | None:
        with self._lock:
            queue = self._state.faults[stage]
            if not queue:
                return None
            fault = queue[0]
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    queue.pop(0)
            self._state.replies.append((stage, fault.code))
            return f"{fault.code} {fault.text}"

    def _rejection(self, address: str) -> str | None:
        with self._lock:
            hit = self._state.rejected.get(address.lower())
            if hit:
                self._state.replies.append(("rcpt", hit[0]))
            return f"{hit[0]} {hit[1]}" if hit else None

    def _received(self, received: Received) -> None:
        with self._lock:
            self._state.messages.append(received)


def throwaway_tls(folder, host: str = "127.0.0.1") -> tuple[ssl.SSLContext, str]:
    """A test CA and a server certificate for ``host`` (an IP address or a DNS name).

    Returns the server's SSL context (for ``tls_context`` / ``implicit_tls``) and the CA's PEM
    path, which a client trusts with ``cafile``.
    """
    import datetime
    import ipaddress
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("smtp fault CA")).issuer_name(name("smtp fault CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    try:
        san: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        san = x509.DNSName(host)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name(host)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([san]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context, str(ca_path)
