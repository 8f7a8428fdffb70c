"""`portal.urls` imports every app's `api` module: the wings attach their routers here."""

from beta_program.boards import api as boards_api  # noqa: F401
from beta_program.programmes import api, feedback_api  # noqa: F401
