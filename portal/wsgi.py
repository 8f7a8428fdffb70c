import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")

application = get_wsgi_application()

# After Django is set up, before the server hands this process a connection.
from portal.warmup import warm_up  # noqa: E402

warm_up()
