# django-modelcluster ships no type information: a ParentalKey is a ForeignKey to the parent.
from django.db import models

class ParentalKey(models.ForeignKey): ...
