"""Demo data for the community: tags, six spaces (one private to Huadong, one for a beta cohort,
staff-only announcements) and topics in English and Chinese with replies, reactions, an accepted
answer, mentions and a pinned announcement. One question in a public space is left unanswered so
that the "customer asks, engineer answers" story can also be played live.

Everything is written through `community.actions`, so search documents, counters, subscriptions,
audit records and events are those of real use. Idempotent: tags and spaces are matched by slug
and updated in place, and a topic whose title exists is left alone (with its replies and
reactions), so running the seed again writes nothing new.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.utils import timezone

from community import access, actions, app_settings, moderation
from community.models import (
    Audience,
    Member,
    Post,
    ReactionKind,
    Space,
    Tag,
    Topic,
    TopicKind,
    WhoCanPost,
)
from portal.demo import PEOPLE
from portal.models import Organisation, User
from portal.permissions import act_for_staff

BETA_GROUP = "Beta cohort"
BETA_TESTERS = ("anna.schmidt@nordwind.example",)

# Short names used in the topic specs below (and as {placeholders} for @handles in bodies).
WHO = {
    "li": "li.wei@huadong.example",
    "zhang": "zhang.min@huadong.example",
    "chen": "chen.jing@huadong.example",
    "anna": "anna.schmidt@nordwind.example",
    "jonas": "jonas.weber@nordwind.example",
    "lena": "lena.fischer@nordwind.example",
    "consultant": "consultant@energyaudit.example",
    "product": "product@greenloop.example",
    "moderator": "moderator@greenloop.example",
    "success": "success@greenloop.example",
    "sustainability": "sustainability@greenloop.example",
}

TAGS = (
    ("firmware", "Firmware", "Inverter, gateway and controller firmware updates."),
    ("installation", "Installation", "Mounting, wiring and commissioning on site."),
    ("scope-2", "Scope 2", "Purchased electricity: location- and market-based figures."),
    ("储能", "储能 Energy storage", "电池储能系统 · Battery storage cabinets and controllers."),
    ("monitoring", "Monitoring", "Gateways, data logging and the monitoring portal."),
)


@dataclass(frozen=True)
class DemoSpace:
    slug: str
    name: str
    description: str
    sort_order: int
    parent: str | None = None
    audience: str = Audience.CUSTOMERS
    organisations: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    who_can_post: str = WhoCanPost.MEMBERS


SPACES = (
    DemoSpace(
        "announcements",
        "Announcements",
        "News from GreenLoop: releases, maintenance windows, events. 公告与产品更新。",
        sort_order=0,
        who_can_post=WhoCanPost.STAFF,
    ),
    DemoSpace(
        "product-qa",
        "Product Q&A",
        "Ask our engineers and other customers about GreenLoop products. 产品问答。",
        sort_order=10,
    ),
    DemoSpace(
        "inverters",
        "Inverters",
        "SUN series string inverters: firmware, grid codes, troubleshooting. 逆变器。",
        sort_order=11,
        parent="product-qa",
    ),
    DemoSpace(
        "sustainability",
        "Sustainability reporting",
        "Carbon footprints, Scope 2 and CSRD reporting with GreenLoop data. 可持续发展报告。",
        sort_order=20,
    ),
    DemoSpace(
        "huadong-rd",
        "Huadong × GreenLoop R&D board",
        "Joint R&D between Huadong PV and GreenLoop. 华东光伏与 GreenLoop 联合研发（仅限受邀方）。",
        sort_order=30,
        audience=Audience.ORGANISATIONS,
        organisations=("huadong-pv",),
    ),
    DemoSpace(
        "beta-storage",
        "Beta: Storage controller",
        "For the storage controller beta cohort: builds, known issues, feedback.",
        sort_order=40,
        audience=Audience.GROUPS,
        groups=(BETA_GROUP,),
    ),
)


@dataclass(frozen=True)
class DemoReply:
    author: str
    body: str
    hours: float  # after the opening post
    reactions: tuple[tuple[str, str], ...] = ()  # (who, reaction kind)


@dataclass(frozen=True)
class DemoTopic:
    space: str
    author: str
    title: str
    body: str
    days_ago: float
    kind: str = TopicKind.QUESTION
    tags: tuple[str, ...] = ()
    reactions: tuple[tuple[str, str], ...] = ()
    replies: tuple[DemoReply, ...] = ()
    accepted: int | None = None  # index into replies; accepted by the asker
    pinned: bool = False


UP, THANKS, INSIGHTFUL = ReactionKind.UPVOTE, ReactionKind.THANKS, ReactionKind.INSIGHTFUL

TOPICS = (
    DemoTopic(
        space="announcements",
        author="product",
        kind=TopicKind.DISCUSSION,
        title="Welcome to the GreenLoop community · 欢迎来到 GreenLoop 社区",
        body=(
            "Ask questions about your inverters, storage and carbon reporting, and our engineers "
            "and other customers will answer.\n\n"
            "- Ask in **Product Q&A** or one of its sub-spaces; accept the reply that solved it.\n"
            "- Mention someone with their @handle to bring them in.\n"
            "- Follow a topic, space or tag to hear about new posts.\n\n"
            "欢迎使用 GreenLoop 社区！您可以在“产品问答”中提问，工程师和其他客户会为您解答。"
            "问题解决后，请把对您有帮助的回复标记为答案。"
        ),
        days_ago=30,
        reactions=(("li", THANKS), ("anna", UP), ("jonas", UP)),
        pinned=True,
    ),
    DemoTopic(
        space="inverters",
        author="jonas",
        title="SUN-110K-G firmware update stops at 80 %",
        body=(
            "We are updating the SUN-110K-G inverters at Werk Hamburg from firmware 3.1.4 to "
            "3.2.0 through the MON-GW-4G monitoring gateway. Every time the update stops at 80 % "
            "and the inverter restarts on 3.1.4. The grid connection is stable. Any idea what "
            "we are missing?"
        ),
        days_ago=12,
        tags=("firmware", "monitoring"),
        reactions=(("anna", UP),),
        replies=(
            DemoReply(
                "product",
                "Thanks @{jonas}. Inverter firmware 3.2.0 needs gateway firmware 2.4 or later: "
                "older gateways time out while the inverter verifies the new image, which is the "
                "80 % step.\n\n"
                "1. Update the MON-GW-4G first (*Settings → Maintenance → Firmware*).\n"
                "2. Run the inverter update again, with the DC input connected: the update needs "
                "the control board powered.",
                hours=3,
                reactions=(("jonas", UP), ("anna", INSIGHTFUL), ("zhang", THANKS)),
            ),
            DemoReply(
                "jonas",
                "That was it: our gateway was still on 2.2. After updating it, all four "
                "inverters went to 3.2.0. Thank you!",
                hours=20,
            ),
        ),
        accepted=0,
    ),
    DemoTopic(
        space="inverters",
        author="zhang",
        title="逆变器升级固件后监控网关显示离线",
        body=(
            "苏州工厂的 SUN-50K-G 逆变器升级到 3.2.0 固件后，监控网关 MON-GW-4G 显示设备离线，"
            "但逆变器本身运行正常，发电量也正常。请问需要重新配对吗？"
        ),
        days_ago=9,
        tags=("firmware", "monitoring"),
        replies=(
            DemoReply(
                "product",
                "@{zhang} 您好：3.2.0 固件更改了 Modbus 通信地址的默认值。请在网关的"
                "“设备管理”中删除该逆变器，然后重新扫描添加，地址会自动更新。"
                "如果仍然显示离线，请把网关日志发给我们。",
                hours=5,
                reactions=(("zhang", UP), ("li", THANKS)),
            ),
            DemoReply(
                "li",
                "我们合肥工厂也遇到了同样的问题，重新扫描添加后就恢复在线了。",
                hours=26,
                reactions=(("zhang", UP),),
            ),
        ),
    ),
    DemoTopic(
        space="sustainability",
        author="li",
        title="如何导出产品碳足迹报告用于客户审核？",
        body=(
            "我们的欧洲客户要求我们在供应商审核中提供每个订单的产品碳足迹报告，"
            "并注明排放因子的来源。门户里能查到这些数据吗？"
        ),
        days_ago=6,
        tags=("scope-2",),
        replies=(
            DemoReply(
                "sustainability",
                "@{li} 可以。在门户的“订单”页面打开订单详情，每一段运输的排放量都列出了"
                "所用的排放因子及其出处（ISO 14083 / GLEC）。审核方需要正式报告时，"
                "请联系客户成功团队，我们会协助准备。",
                hours=4,
                reactions=(("li", THANKS), ("anna", INSIGHTFUL)),
            ),
        ),
    ),
    DemoTopic(
        space="sustainability",
        author="anna",
        kind=TopicKind.DISCUSSION,
        title="Scope 2 for our CSRD report: market-based or location-based?",
        body=(
            "Our auditor asks which Scope 2 method we report. We have a verified green-power "
            "declaration for Werk Hamburg. How do others handle this, @{li}?"
        ),
        days_ago=4,
        tags=("scope-2",),
        reactions=(("jonas", UP),),
        replies=(
            DemoReply(
                "success",
                "ESRS E1 asks for both figures: location-based, from the average emission factor "
                "of the grid you draw from, and market-based, from your contractual instruments "
                "such as the verified green-power declaration.",
                hours=2,
                reactions=(("anna", UP),),
            ),
            DemoReply(
                "li",
                "We report both as well. Our auditor also wanted the certificates (绿证) that "
                "back the declaration, so keep them at hand.",
                hours=30,
                reactions=(("anna", THANKS),),
            ),
        ),
    ),
    DemoTopic(
        space="huadong-rd",
        author="li",
        kind=TopicKind.DISCUSSION,
        title="BAT-LFP-215 储能柜现场测试计划（合肥工厂）",
        body=(
            "计划下个月在合肥工厂安装两台 BAT-LFP-215 储能柜，测试削峰填谷。"
            "@{product} 请提供 BMS 日志接口文档，我们需要把数据接入工厂能源管理系统。"
        ),
        days_ago=8,
        tags=("储能",),
        replies=(
            DemoReply(
                "product",
                "接口文档 v0.3 本周通过邮件发送。BMS 日志可以通过 Modbus TCP 读取，"
                "每 5 秒一条。We suggest a weekly check-in on Thursdays during the field test.",
                hours=6,
                reactions=(("li", UP),),
            ),
            DemoReply(
                "zhang",
                "测试场地已经准备好，配电柜改造本周完成。",
                hours=48,
            ),
        ),
    ),
    DemoTopic(
        space="beta-storage",
        author="anna",
        kind=TopicKind.DISCUSSION,
        title="Storage controller beta 0.9: first impressions",
        body=(
            "We installed beta 0.9 on our test cabinet. Peak shaving works as described. One "
            "problem: the schedule editor loses changes when two people edit at the same time."
        ),
        days_ago=3,
        tags=("储能",),
        replies=(
            DemoReply(
                "product",
                "Thanks @{anna}, we can reproduce the schedule editor problem. The fix is "
                "planned for beta 0.10; until then, please edit schedules one at a time.",
                hours=5,
                reactions=(("anna", THANKS),),
            ),
        ),
    ),
    # Left unanswered on purpose: the live demo answers it (and the unanswered block lists it).
    DemoTopic(
        space="product-qa",
        author="jonas",
        title="Which torque for the DC connectors on the SUN-50K-G?",
        body=(
            "The installation guide we have gives no torque for the DC connector nuts on the "
            "SUN-50K-G. What value should our installers use?"
        ),
        days_ago=0.2,
        tags=("installation",),
    ),
)


def _users() -> dict[str, User]:
    """The demo people by short name; the portal's seed (run first) has created them all."""
    # Staff here post and moderate as seed data written on their behalf, outside any request.
    users = {
        user.email: act_for_staff(user) if user.is_staff else user
        for user in User.objects.filter(email__in=WHO.values())
    }
    return {short: users[email] for short, email in WHO.items()}


def ensure_tags() -> None:
    for slug, name, description in TAGS:
        Tag.objects.update_or_create(slug=slug, defaults={"name": name, "description": description})


def ensure_spaces() -> dict[str, Space]:
    spaces: dict[str, Space] = {}
    for spec in SPACES:
        space, _created = Space.objects.update_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "description": spec.description,
                "sort_order": spec.sort_order,
                "parent": spaces[spec.parent] if spec.parent else None,
                "audience": spec.audience,
                "who_can_post": spec.who_can_post,
                "is_archived": False,
            },
        )
        space.organisations.set(Organisation.objects.filter(slug__in=spec.organisations))
        space.groups.set([Group.objects.get_or_create(name=name)[0] for name in spec.groups])
        spaces[spec.slug] = space
    return spaces


def ensure_beta_cohort() -> None:
    group, _created = Group.objects.get_or_create(name=BETA_GROUP)
    for user in User.objects.filter(email__in=BETA_TESTERS):
        user.groups.add(group)


def establish_customers() -> None:
    """Demo customers have been members for months: outside the new-member rate limit, so
    neither the seed nor a live demo is refused for posting too often."""
    customers = [person.email for person in PEOPLE if person.memberships]
    joined = timezone.now() - dt.timedelta(days=180)
    User.objects.filter(email__in=customers, date_joined__gt=joined).update(date_joined=joined)
    established = app_settings.new_member_posts()
    for user in User.objects.filter(email__in=customers):
        access.member_for(user)
    Member.objects.filter(user__email__in=customers, post_count__lt=established).update(
        post_count=established
    )


def _backdate(post: Post, when: dt.datetime) -> None:
    Post.objects.filter(pk=post.pk).update(created_at=when)
    Member.objects.filter(pk=post.author_id, first_post_at__gt=when).update(first_post_at=when)


def create_topic(
    spec: DemoTopic, spaces: dict[str, Space], people: dict[str, User], handles: dict[str, str]
) -> Topic:
    """One demo topic with its replies, reactions and answer, dated `days_ago` days back."""
    author = people[spec.author]
    topic = actions.create_topic(
        author,
        spaces[spec.space],
        title=spec.title,
        body=spec.body.format(**handles),
        kind=spec.kind,
        tags=spec.tags,
    )
    opened = timezone.now() - dt.timedelta(days=spec.days_ago)
    opening = topic.posts.get(number=1)
    _backdate(opening, opened)
    for who, kind in spec.reactions:
        actions.react(people[who], opening, kind)
    last = opened
    replies = []
    for reply_spec in spec.replies:
        post = actions.reply(
            people[reply_spec.author], topic, body=reply_spec.body.format(**handles)
        )
        last = opened + dt.timedelta(hours=reply_spec.hours)
        _backdate(post, last)
        for who, kind in reply_spec.reactions:
            actions.react(people[who], post, kind)
        replies.append(post)
    if spec.accepted is not None:
        actions.accept_answer(author, replies[spec.accepted])
    if spec.pinned:
        actions.set_pinned(author, topic, True)
    Topic.objects.filter(pk=topic.pk).update(created_at=opened, last_activity_at=last)
    return topic


SPAM = "Unbeatable prices on guarantees of origin, 90 % off today only: https://cheap-goo.example"


def flag_demo_spam(people: dict[str, User]) -> None:
    """One promotional reply that three customers flagged, so the moderators' review queue has
    something to decide in the demo."""
    topic = Topic.objects.filter(title__startswith="Scope 2 for our CSRD report").first()
    if topic is None or Post.objects.filter(topic=topic, body=SPAM).exists():
        return
    spam = actions.reply(people["consultant"], topic, body=SPAM)
    for who, reason in (("li", "spam"), ("anna", "spam"), ("jonas", "off_topic")):
        moderation.flag_post(people[who], spam, reason=reason)


def seed(stdout=None) -> None:
    """Tags, spaces, the beta cohort and the demo topics (those not there yet)."""
    ensure_tags()
    spaces = ensure_spaces()
    ensure_beta_cohort()
    establish_customers()
    people = _users()
    handles = {short: access.member_for(user).handle for short, user in people.items()}
    created = 0
    for spec in TOPICS:
        if Topic.objects.filter(title=spec.title).exists():
            continue
        create_topic(spec, spaces, people, handles)
        created += 1
    flag_demo_spam(people)
    if stdout:
        stdout.write(
            f"community: {len(spaces)} spaces, {len(TAGS)} tags, {len(TOPICS)} demo topics "
            f"({created} new)"
        )
