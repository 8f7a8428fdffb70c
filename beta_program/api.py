"""`portal.urls` imports every app's `api` module: the wings attach their routers here."""

from beta_program.programmes import api  # noqa: F401
