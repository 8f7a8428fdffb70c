"""`portal.urls` imports every app's `api` module: the wings attach their routers here."""

from beta_program.programmes import api, feedback_api  # noqa: F401
