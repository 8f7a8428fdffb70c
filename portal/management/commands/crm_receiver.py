import time

from django.core.management.base import BaseCommand, CommandError

from portal.crm.receiver import Receiver, describe
from portal.models import CrmEndpoint


def wait_until_interrupted() -> None:
    """Serve until Ctrl+C (KeyboardInterrupt); the receiver runs in its own thread."""
    while True:
        time.sleep(1)


class Command(BaseCommand):
    help = (
        "Run a local CRM webhook receiver that verifies each request's Standard Webhooks "
        "signature and prints the events that arrive (the demo's stand-in for a CRM)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=9000)
        parser.add_argument(
            "--endpoint",
            default="Demo CRM receiver",
            help="Name of the CRM endpoint whose secret verifies the signatures.",
        )
        parser.add_argument("--secret", help="The whsec_ secret (instead of --endpoint).")
        parser.add_argument(
            "--fail-with",
            type=int,
            metavar="STATUS",
            help="Answer every request with this HTTP status (e.g. 500) instead of accepting it: "
            "a CRM that is failing, to watch retries and dead letters.",
        )

    def handle(
        self,
        *args,
        port: int,
        endpoint: str,
        secret: str | None,
        fail_with: int | None = None,
        **options,
    ):
        if fail_with is not None and not 100 <= fail_with <= 599:
            raise CommandError(f"--fail-with takes an HTTP status (100-599), not {fail_with}.")
        if not secret:
            found = CrmEndpoint.objects.filter(name=endpoint).first()
            if found is None:
                raise CommandError(f"No CRM endpoint named {endpoint!r}; pass --secret instead.")
            secret = found.secret

        def show(item):
            self.stdout.write(describe(item))
            self.stdout.flush()

        receiver = Receiver(secret, port=port, on_event=show, fail_with=fail_with)
        try:
            receiver.start()
        except OSError as error:
            raise CommandError(f"Cannot listen on 127.0.0.1:{port}: {error}") from error
        self.stdout.write(f"Listening on {receiver.url} (Ctrl+C stops).")
        if fail_with is not None:
            self.stdout.write(f"Answering every request with HTTP {fail_with}.")
        try:
            wait_until_interrupted()
        except KeyboardInterrupt:
            pass
        finally:
            receiver.stop()
            state = receiver.state
            self.stdout.write(
                f"{len(state.received)} events, {state.duplicates} duplicates, "
                f"{state.bad_signatures} bad signatures."
            )
            if fail_with is not None:
                self.stdout.write(f"{state.requests} requests answered with HTTP {fail_with}.")
