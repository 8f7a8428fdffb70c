"""`{% kept %}` (portal/templatetags/kept_fragment.py): page chrome rendered once per process
for each language and named value, never showing a value it was not rendered with; and the
top bar's menu labels (portal/templatetags/personal_header.py), kept per language."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test.utils import override_settings
from django.utils import translation
from django.utils.translation import gettext_lazy, pgettext_lazy

from portal.templatetags import personal_header
from tests.static_manifest import rename_static_file


def _kept(body: str, names: str = "") -> Template:
    # One Template object: its {% kept %} node (and what it keeps) lives as long as it does,
    # as a compiled template does in the cached loader.
    load = "{% load i18n kept_fragment static %}"
    return Template(f"{load}{{% kept {names} %}}{body}{{% endkept %}}")


def test_a_kept_piece_is_rendered_again_for_another_value():
    # given a piece kept for one unread count
    piece = _kept("{{ unread }} unread", "unread=count")
    assert piece.render(Context({"count": 1})) == "1 unread"
    # when the count changes / then the piece shows the new count, and the old one still holds
    assert piece.render(Context({"count": 3})) == "3 unread"
    assert piece.render(Context({"count": 1})) == "1 unread"


def test_a_kept_piece_sees_only_the_values_it_names():
    # given a page whose context holds a person's name besides the named value
    piece = _kept("[{{ name }}|{{ route }}]", "route=route")
    # when two people open the same route / then neither sees a name in the kept piece
    assert piece.render(Context({"route": "index", "name": "Ada"})) == "[|index]"
    assert piece.render(Context({"route": "index", "name": "Bob"})) == "[|index]"


def test_each_language_has_its_own_kept_piece():
    # given a kept piece rendered in English
    piece = _kept('{% translate "Skip to content" %}')
    with translation.override("en"):
        assert piece.render(Context()) == "Skip to content"
    # when a Chinese reader opens a page / then it is in Chinese, not the English one kept
    with translation.override("zh-hans"):
        assert piece.render(Context()) == "跳到主要内容"


def test_a_lazy_value_is_kept_by_what_it_stands_for():
    # given the unread count as the context processor gives it (lazy)
    from django.utils.functional import SimpleLazyObject

    piece = _kept("{{ unread }}", "unread=count")
    node = piece.nodelist[-1]
    assert piece.render(Context({"count": SimpleLazyObject(lambda: 2)})) == "2"
    # then the key holds the number, not the lazy object (nor the request behind it)
    assert list(node.kept)
    assert all(type(value) is int for key in node.kept for _name, value in key[-1])


def test_new_static_file_names_render_a_kept_piece_again(monkeypatch):
    # given a kept link to the stylesheet
    piece = _kept("{% static 'portal/css/portal.css' %}")
    assert piece.render(Context()) == "/static/portal/css/portal.css"
    # when collectstatic gives it a new hashed name (a new manifest the storage answers from)
    rename_static_file(monkeypatch, "portal/css/portal.css", "portal/css/portal.new.css")
    # then the piece has the new name
    assert piece.render(Context()) == "/static/portal/css/portal.new.css"


def test_another_static_storage_renders_a_kept_piece_again():
    piece = _kept("{% static 'portal/css/portal.css' %}")
    assert piece.render(Context()) == "/static/portal/css/portal.css"
    with override_settings(STATIC_URL="/assets/"):
        assert piece.render(Context()) == "/assets/portal/css/portal.css"


@pytest.mark.django_db
def test_menu_labels_follow_the_language(client, member_a):
    # given the top bar's menu seen in English
    client.force_login(member_a)
    english = client.get("/o/acme/", headers={"accept-language": "en"}).text
    assert ">Community</a>" in english
    # when the same person reads in Chinese / then the plugins' labels are in Chinese
    chinese = client.get("/o/acme/", headers={"accept-language": "zh-hans"}).text
    assert ">Community</a>" not in chinese
    assert ">社区</a>" in chinese


def test_a_kept_label_is_told_apart_by_its_kind_and_arguments():
    # given the same word as a plain and as a contextual translation, in two languages
    plain, contextual = gettext_lazy("Save"), pgettext_lazy("notifications", "unread")
    # then each keeps its own text per language
    assert personal_header._label(plain, "en") == "Save"
    with translation.override("zh-hans"):
        chinese = personal_header._label(plain, "zh-hans")
    assert chinese != "Save"
    assert personal_header._label(plain, "en") == "Save"
    assert personal_header._label(contextual, "en") == "unread"
    # and a plain string (a hook's own text) is used as it is
    assert personal_header._label("Field trials", "en") == "Field trials"
