# django-modelcluster ships no type information; mypy needs only to know that this base class is
# a Django model, so that the Django plugin types the fields of the models built on it.
from django.db import models

class ClusterableModel(models.Model): ...
