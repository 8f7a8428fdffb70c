"""The CRM bridge: the outbox's delivery engine (delivery.py), its connectors (connectors.py) and
Celery tasks (tasks.py)."""
