"""People's names in the order their readers expect (issue #19 item 8): family name first in
Chinese and for Han names, without a space between Han characters."""

from __future__ import annotations

from django.utils import translation

from portal.models.users import full_name


def test_han_names_are_family_first_without_a_space_in_every_language():
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert full_name("芳", "王") == "王芳"


def test_a_chinese_persons_romanised_name_follows_the_page_language():
    with translation.override("en"):
        assert full_name("Wei", "Li", chinese=True) == "Wei Li"
    with translation.override("zh-hans"):
        assert full_name("Wei", "Li", chinese=True) == "Li Wei"


def test_a_western_name_keeps_its_order_on_chinese_pages():
    with translation.override("zh-hans"):
        assert full_name("Anna", "Schmidt") == "Anna Schmidt"


def test_one_part_only_or_mixed_scripts():
    with translation.override("en"):
        assert full_name("Anna", "") == "Anna"
        assert full_name("", "Schmidt") == "Schmidt"
        assert full_name("Min", "张") == "张 Min"
