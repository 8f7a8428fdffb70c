"""The floor the redemption benchmark compares its API with through the same stack: the project's
own URLs plus one POST that does next to nothing, served by the same gunicorn, settings,
middleware and token authentication as POST /api/v1/redemptions.

`POST /api/bench-floor/redeem` takes the redemption's JSON body and `Idempotency-Key`, runs the
same authentication (`requires(points:write, load=may_redeem_somewhere)`: the token's lookup,
its hash check, the tenant scope, the scope check) and body validation, and answers 200
`{"ok": true}` without touching the ledger. The difference between the two rates is what a
redemption itself costs (idempotency, the hold, the records), not the HTTP, Django and
authentication around it.

Used only by bench/redemptions.py, whose gunicorn runs `bench.redemption_floor_settings`.
"""

from __future__ import annotations

from importlib import import_module

from django.http import HttpRequest
from django.urls import path

from carbon.points.api import WRITE, may_redeem_somewhere
from carbon.points.api_redemptions import RedemptionIn
from portal.api import PortalApi, requires

FLOOR_PATH = "/api/bench-floor/redeem"

floor_api = PortalApi(
    title="Benchmark floor",
    version="floor",
    urls_namespace="bench-floor",
    docs_url=None,
    openapi_url=None,
    auth=requires(WRITE, load=may_redeem_somewhere),
)


@floor_api.post("/redeem")
def floor_redeem(request: HttpRequest, payload: RedemptionIn) -> dict[str, bool]:
    # The header is read as the real endpoint reads it; nothing is stored.
    request.headers.get("Idempotency-Key", "")
    return {"ok": True}


# Before the project's own patterns: its catch-all under api/ would answer 404 otherwise.
_project = import_module("portal.urls")
urlpatterns = [path("api/bench-floor/", floor_api.urls), *_project.urlpatterns]
for _handler in ("handler400", "handler403", "handler404", "handler429", "handler500"):
    if hasattr(_project, _handler):
        globals()[_handler] = getattr(_project, _handler)
