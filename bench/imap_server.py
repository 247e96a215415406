"""A real IMAP server for the replies tests and bench (bench/replies.py): mail-devel (pymap's in-memory
IMAP, with SMTP to deliver into it), started as a child process on free loopback ports. Not a mock of
imap-tools: the poll talks IMAP over a socket to a server that keeps flags, UIDs and UIDVALIDITY as any
server does."""

import smtplib
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from email.message import EmailMessage

from imap_tools import MailBoxUnencrypted

USER, PASSWORD = "founder@arkwatch-demo.fr", "app-password-for-tests"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ImapServer:
    process: subprocess.Popen
    imap_port: int
    smtp_port: int

    @property
    def url(self) -> str:
        return f"imap://{USER.replace('@', '%40')}:{PASSWORD}@127.0.0.1:{self.imap_port}/INBOX"

    def deliver(self, raw: bytes | EmailMessage) -> None:
        """Hand a message to the server's SMTP side: it lands in the INBOX, unseen, as a real reply would."""
        data = bytes(raw)
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as smtp:
            smtp.sendmail("someone@acme-industrie.fr", [USER], data)

    def flags(self) -> list[tuple[str, ...]]:
        with MailBoxUnencrypted("127.0.0.1", self.imap_port).login(USER, PASSWORD, initial_folder=None) as box:
            box.folder.set("INBOX", readonly=True)
            return [m.flags for m in box.fetch(mark_seen=False, headers_only=True)]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_imap_server() -> ImapServer:
    imap_port, smtp_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mail_devel",
            "--host",
            "127.0.0.1",
            "--imap-port",
            str(imap_port),
            "--smtp-port",
            str(smtp_port),
            "--no-http",
            "--user",
            USER,
            "--password",
            PASSWORD,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", imap_port), timeout=0.5):
                with socket.create_connection(("127.0.0.1", smtp_port), timeout=0.5):
                    return ImapServer(process, imap_port, smtp_port)
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("mail-devel's IMAP server did not start")
