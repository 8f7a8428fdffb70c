"""Simplified Chinese: Django's formats, but figures grouped by thousands with a comma.

Django's zh_Hans leaves the thousands separator empty, so "94,086 t·km" read "94086 t·km" on
Chinese pages; business and engineering documents in mainland China group by three digits with
a comma ("94,086"), as GB/T 15835 examples and Chinese spreadsheets do.
"""

from django.conf.locale.zh_Hans.formats import *  # type: ignore[import-untyped]  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
