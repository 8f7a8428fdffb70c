"""The demo's e-mail backend: one short block per message on the console instead of its raw
MIME (a demo run sends dozens; the raw form took some 900 lines before the server's address).
Set EMAIL_BACKEND=django.core.mail.backends.console.EmailBackend to see messages whole."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

LINK = re.compile(r"https?://\S+")


def summary(message: EmailMessage) -> str:
    """`E-mail to a@x, b@y: "Subject"` and the body's first link, indented, if it has one."""
    line = f'E-mail to {", ".join(message.recipients())}: "{message.subject}"'
    link = LINK.search(str(message.body))
    return f"{line}\n    {link.group(0)}" if link else line


class ShortConsoleBackend(BaseEmailBackend):
    def __init__(self, *args, stream: TextIO | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.RLock()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        with self._lock:
            for message in email_messages:
                if not message.recipients():
                    continue
                self.stream.write(summary(message) + "\n")
                sent += 1
            self.stream.flush()
        return sent
