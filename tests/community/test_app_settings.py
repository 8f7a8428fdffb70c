"""community/app_settings.py: each knob's default, and a deployment's value when it sets one."""

from __future__ import annotations

import pytest

from community import app_settings

KNOBS = [
    ("COMMUNITY_ATTACHMENT_MAX_BYTES", app_settings.attachment_max_bytes, 5_242_880),
    ("COMMUNITY_ATTACHMENTS_PER_POST", app_settings.attachments_per_post, 5),
    ("COMMUNITY_NEW_MEMBER_DAYS", app_settings.new_member_days, 3),
    ("COMMUNITY_NEW_MEMBER_POSTS", app_settings.new_member_posts, 5),
    ("COMMUNITY_NEW_MEMBER_POSTS_PER_HOUR", app_settings.new_member_posts_per_hour, 3),
    ("COMMUNITY_FLAG_THRESHOLD", app_settings.flag_threshold, 3),
]


@pytest.mark.parametrize(("name", "read", "default"), KNOBS)
def test_a_knob_has_its_default_when_the_settings_do_not_name_it(settings, name, read, default):
    # given settings without the knob
    if hasattr(settings, name):
        delattr(settings, name)
    # then its default applies
    assert read() == default


@pytest.mark.parametrize(("name", "read", "default"), KNOBS)
def test_a_deployment_setting_wins_and_is_read_on_each_call(settings, name, read, default):
    # given a deployment that sets the knob / then that value is read, also after a change
    setattr(settings, name, 7)
    assert read() == 7
    setattr(settings, name, 11)
    assert read() == 11
