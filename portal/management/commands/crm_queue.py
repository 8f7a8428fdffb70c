"""Watch the CRM bridge's RabbitMQ stream as integration middleware would: bind a queue to the
endpoint's topic exchange and print each CloudEvent that arrives (README "Watching events
flow")."""

import json

from django.core.management.base import BaseCommand, CommandError
from kombu import Connection, Exchange, Queue
from kombu.exceptions import OperationalError
from kombu.utils.url import maybe_sanitize_url

from portal.crm.receiver import event_summary
from portal.models import ConnectorKind, CrmEndpoint

DEFAULT_QUEUE = "greenloop-demo-crm"


class Command(BaseCommand):
    help = (
        "Bind a durable queue to a RabbitMQ CRM endpoint's topic exchange and print the events "
        "that arrive (the demo's stand-in for integration middleware)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--endpoint",
            default="Demo RabbitMQ",
            help="Name of the RabbitMQ CRM endpoint whose URL and exchange to use.",
        )
        parser.add_argument("--url", help="amqp://user:password@host:5672/vhost (with --exchange).")
        parser.add_argument("--exchange", help="The topic exchange (with --url).")
        parser.add_argument(
            "--binding", default="#", help="Routing-key pattern, e.g. greenloop.carbon.# (all)."
        )
        parser.add_argument(
            "--queue",
            default=DEFAULT_QUEUE,
            help="Durable queue name: it keeps what arrives while this command is stopped.",
        )
        parser.add_argument(
            "--count", type=int, default=0, help="Stop after this many events (0: never)."
        )
        parser.add_argument(
            "--idle-timeout",
            type=float,
            default=0,
            help="Stop after this many seconds without an event (0: never).",
        )

    def handle(self, *args, endpoint, url, exchange, binding, queue, count, idle_timeout, **kw):
        if not (url and exchange):
            found = CrmEndpoint.objects.filter(name=endpoint, kind=ConnectorKind.RABBITMQ).first()
            if found is None:
                raise CommandError(
                    f"No RabbitMQ CRM endpoint named {endpoint!r}; add one in the admin "
                    "(Customers > CRM endpoints) or pass --url and --exchange."
                )
            url, exchange = found.url, found.exchange
        topic = Exchange(exchange, type="topic", durable=True)
        watched = Queue(queue, topic, routing_key=binding, durable=True)
        seen = 0
        try:
            with Connection(url, connect_timeout=5) as connection:
                # Declared (with the exchange) before anything is published: a topic exchange
                # drops messages that no queue is bound for.
                watched(connection.default_channel).declare()
                self.stdout.write(
                    f"Queue {queue!r} bound to exchange {exchange!r} with {binding!r} "
                    "(Ctrl+C stops; the queue keeps what arrives meanwhile)."
                )
                self.stdout.flush()

                def show(body, message):
                    nonlocal seen
                    event = json.loads(body) if isinstance(body, str | bytes) else body
                    routing_key = message.delivery_info.get("routing_key")
                    shown = {"routing_key": routing_key, **event_summary(event)}
                    self.stdout.write(json.dumps(shown, ensure_ascii=False))
                    self.stdout.flush()
                    message.ack()
                    seen += 1

                with connection.Consumer(watched, callbacks=[show], accept=None):
                    while not count or seen < count:
                        try:
                            connection.drain_events(timeout=idle_timeout or None)
                        except TimeoutError:
                            break
        except KeyboardInterrupt:
            pass
        except (OSError, OperationalError) as error:
            where = maybe_sanitize_url(url)  # the password stays out of the terminal
            raise CommandError(f"Cannot reach RabbitMQ at {where}: {error}") from error
        self.stdout.write(f"{seen} events.")
