"""Carbon's entries for the authorisation walk (tests/authz.py imports this module).

Each function takes the foreign organisation and returns a URL or API parameter that points at
one of ITS objects, creating the object when needed; the walk then expects 404.
"""

from __future__ import annotations

URL_PARAM_SAMPLES: dict = {}
NESTED_PARAM_SAMPLES: dict = {}
API_PARAM_SAMPLES: dict = {}
PUBLIC_ROUTE_NAMES: set[str] = set()
