"""Demo beta programmes (run by `manage.py seed_demo` after community's data): a recruiting open
beta of the monitoring app that demo customers can apply to, and a running confidential beta of
the storage controller firmware under NDA in which Nordwind (anna.schmidt, the "Beta cohort"
member) holds a place. English and Chinese text alike; idempotent."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from wagtail.models import Page

from beta_program.programmes import actions, feedback_demo
from beta_program.programmes.models import (
    Application,
    Build,
    Cohort,
    Confidentiality,
    NdaVersion,
    Phase,
    Programme,
    ProgrammeStatus,
    QuestionKind,
    ScreeningQuestion,
)
from beta_program.programmes.pages import ProgrammePage
from portal.models import Organisation, Role, User
from portal.permissions import act_for_staff

PRODUCT_STAFF = "product@greenloop.example"
NDA_TESTER = "anna.schmidt@nordwind.example"

MONITOR = {
    "slug": "monitor-app-3",
    "name": "GreenLoop Monitor app 3.0",
    "name_zh": "GreenLoop 监控应用 3.0",
    "product_line": "Monitoring",
    "product_line_zh": "监控",
    "summary": (
        "The next version of the monitoring app: live string-level yields, alarm rules you "
        "define yourself and a plant overview that works offline. Open to every customer with "
        "a monitoring gateway."
    ),
    "summary_zh": (
        "新版监控应用：组串级实时发电量、可自定义的告警规则，以及离线可用的电站总览。"
        "面向所有使用监控网关的客户开放。"
    ),
    "goals": "Validate the offline overview and custom alarm rules on at least 10 plants.",
    "goals_zh": "在至少 10 个电站上验证离线总览和自定义告警规则。",
    "exit_criteria": "No open critical bug; NPS 30 or above; 80% of participants active weekly.",
    "exit_criteria_zh": "无未解决的严重缺陷；NPS 不低于 30；80% 的参与者每周活跃。",
    "confidentiality": Confidentiality.OPEN,
    "capacity_total": 20,
    "capacity_per_organisation": 3,
    "auto_accept": True,
}
FIRMWARE = {
    "slug": "storage-controller-fw-4",
    "name": "Storage controller firmware 4.0",
    "name_zh": "储能控制器固件 4.0",
    "product_line": "Energy storage",
    "product_line_zh": "储能",
    "summary": "Pre-release firmware for battery storage cabinets. Confidential: under NDA.",
    "summary_zh": "储能柜预发布固件。保密项目：须签署保密协议。",
    "goals": "Grid-forming mode and faster state-of-charge balancing in the field.",
    "goals_zh": "在现场验证构网模式和更快的荷电状态均衡。",
    "exit_criteria": "Four weeks without a confirmed critical bug on every cohort site.",
    "exit_criteria_zh": "所有测试站点连续四周无已确认的严重缺陷。",
    "confidentiality": Confidentiality.NDA,
    "capacity_total": 5,
    "capacity_per_organisation": 1,
    "auto_accept": True,
    "eligible_tiers": ["silver", "gold", "strategic"],
}
NDA_TEXT = (
    "1. Everything you receive in this programme (builds, release notes, test instructions, "
    "results) is confidential until GreenLoop announces general availability.\n\n"
    "2. You use pre-release firmware only on the sites you named, and only for testing.\n\n"
    "3. You share nothing of it outside your organisation's participants, and you tell us "
    "at once if something was disclosed by mistake."
)
NDA_TEXT_ZH = (
    "1. 您在本计划中获得的一切（固件版本、发布说明、测试说明、测试结果）"
    "在 GreenLoop 宣布正式发布前均属保密信息。\n\n"
    "2. 预发布固件仅可用于您指定的站点，且仅用于测试。\n\n"
    "3. 您不得向本组织参与者以外的任何人透露相关内容；如有误泄露，请立即告知我们。"
)
QUESTIONS = [
    (
        "How many plants would you monitor with the beta?",
        "您打算用测试版监控多少个电站？",
        QuestionKind.NUMBER,
        "",
        True,
    ),
    (
        "Which devices do you use the app on?",
        "您在哪些设备上使用该应用？",
        QuestionKind.MULTIPLE,
        "Android phone|安卓手机\niPhone|苹果手机\nTablet|平板电脑\nDesktop browser|桌面浏览器",
        True,
    ),
    (
        "What would you most like the new version to do better?",
        "您最希望新版本在哪方面有所改进？",
        QuestionKind.TEXT,
        "",
        False,
    ),
]


def _phases(programme: Programme, today: dt.date, spec: list[tuple[str, str, int, int]]) -> None:
    if programme.phases.exists():
        return
    for order, (name, name_zh, start, end) in enumerate(spec):
        Phase.objects.create(
            programme=programme,
            name=name,
            name_zh=name_zh,
            starts_on=today + dt.timedelta(days=start),
            ends_on=today + dt.timedelta(days=end),
            sort_order=order,
        )


def _programme(spec: dict, owner: User | None) -> tuple[Programme, bool]:
    programme, created = Programme.objects.get_or_create(slug=spec["slug"], defaults=spec)
    if created and owner is not None:
        programme.owners.set([owner])
        programme.created_by = owner
        programme.save(update_fields=["created_by"])
    return programme, created


def _page(programme: Programme, title: str, title_zh: str, body: list, body_zh: list) -> None:
    if ProgrammePage.objects.filter(programme=programme).exists():
        return
    home = Page.objects.filter(depth=2).first()
    if home is None:
        return
    home.specific.add_child(
        instance=ProgrammePage(
            title=title,
            title_zh=title_zh,
            slug=programme.slug,
            programme=programme,
            body=body,
            body_zh=body_zh,
        )
    )


def _body(overview: str, what: str, timeline: list[tuple[str, str]], faq: list[tuple[str, str]]):
    return [
        ("overview", f"<p>{overview}</p>"),
        ("what_to_test", f"<p>{what}</p>"),
        ("timeline", [{"when": w, "what": t} for w, t in timeline]),
        ("faq", [{"question": q, "answer": f"<p>{a}</p>"} for q, a in faq]),
    ]


BETA_GROUP = "Beta cohort"  # community's demo group: its private space is this cohort's


def _cohort_and_builds(firmware: Programme) -> None:
    """Wave 1 is backed by the existing "Beta cohort" group (the community's storage-controller
    beta space is restricted to it), with two builds: one expired, one current."""
    import hashlib

    from django.contrib.auth.models import Group
    from django.core.files.base import ContentFile

    group, _created = Group.objects.get_or_create(name=BETA_GROUP)
    cohort = Cohort.objects.filter(programme=firmware).first()
    if cohort is None:
        cohort = Cohort.objects.create(
            programme=firmware, name="Wave 1", name_zh="第一批", group=group
        )
    today = timezone.localdate()
    specs = [
        (
            "4.0.0-beta.1",
            -100,
            -10,
            "First beta: grid-forming mode behind a feature switch.",
            "首个测试版：构网模式（需通过功能开关启用）。",
        ),
        (
            "4.0.0-beta.3",
            -5,
            85,
            "Faster state-of-charge balancing; fixes the schedule editor.",
            "更快的荷电状态均衡；修复了计划编辑器的问题。",
        ),
    ]
    for version, published, expires, notes, notes_zh in specs:
        if Build.objects.filter(programme=firmware, version=version).exists():
            continue
        content = f"GreenLoop BAT-LFP controller firmware {version} (demo)\n".encode()
        build = Build(
            programme=firmware,
            version=version,
            release_notes=notes,
            release_notes_zh=notes_zh,
            what_to_test="Cut the grid feed for 10 minutes; check the cabinet keeps the site up.",
            what_to_test_zh="断开电网供电 10 分钟，检查储能柜能否维持站点运行。",
            published_at=timezone.now() + dt.timedelta(days=published),
            expires_on=today + dt.timedelta(days=expires),
            min_nda_version=1,
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
        )
        build.file.save(f"bat-lfp-fw-{version}.bin", ContentFile(content), save=False)
        build.save()
        build.cohorts.set([cohort])


def _announcement(firmware: Programme, owner: User) -> None:
    """A published announcement to Wave 1 (its member is notified in the portal and by e-mail,
    which the demo prints to the console)."""
    from beta_program.programmes.announcement_actions import publish_announcement
    from beta_program.programmes.announcement_models import Announcement

    if Announcement.objects.filter(programme=firmware).exists():
        return
    draft = Announcement.objects.create(
        programme=firmware,
        title="Beta 3 is out: please repeat the islanding test",
        title_zh="测试版 3 已发布：请重新进行孤岛测试",
        body=(
            "Beta 3 balances the state of charge **twice as fast**. Before you update:\n\n"
            "1. Note the cabinet's current schedule.\n"
            "2. Update, then cut the grid feed for 10 minutes.\n"
            "3. File a bug report if the site drops, with the controller log attached.\n\n"
            "Thank you for the reports on beta 1: three of them are fixed in this build."
        ),
        body_zh=(
            "测试版 3 的荷电状态均衡速度**提升一倍**。更新前请：\n\n"
            "1. 记录储能柜当前的运行计划。\n"
            "2. 更新后断开电网供电 10 分钟。\n"
            "3. 如站点掉电，请提交缺陷报告并附上控制器日志。\n\n"
            "感谢大家对测试版 1 的反馈：其中三个问题已在本版本中修复。"
        ),
    )
    draft.cohorts.set(Cohort.objects.filter(programme=firmware))
    publish_announcement(draft, owner)


def seed(stdout=None) -> None:
    owner = act_for_staff(User.objects.filter(email=PRODUCT_STAFF).first())
    today = timezone.localdate()
    with transaction.atomic():
        monitor, _ = _programme(MONITOR, owner)
        if not monitor.questions.exists():
            for order, (text, text_zh, kind, choices, required) in enumerate(QUESTIONS):
                ScreeningQuestion.objects.create(
                    programme=monitor,
                    text=text,
                    text_zh=text_zh,
                    kind=kind,
                    choices=choices,
                    required=required,
                    sort_order=order,
                )
        _phases(
            monitor,
            today,
            [
                ("Recruiting", "招募", -7, 14),
                ("Closed beta", "封闭测试", 15, 60),
                ("Release candidate", "候选版本", 61, 90),
            ],
        )
        firmware, _ = _programme(FIRMWARE, owner)
        _phases(
            firmware,
            today,
            [("Wave 1", "第一批", -30, 30), ("Wave 2", "第二批", 31, 75)],
        )
    if owner is not None:
        if monitor.status == ProgrammeStatus.PLANNING:
            actions.change_status(monitor, ProgrammeStatus.RECRUITING, owner, note="Demo")
        if firmware.status == ProgrammeStatus.PLANNING:
            actions.change_status(firmware, ProgrammeStatus.RECRUITING, owner, note="Demo")
            tester = User.objects.filter(email=NDA_TESTER).first()
            nordwind = Organisation.objects.filter(slug="nordwind").first()
            if (
                tester is not None
                and nordwind is not None
                and not Application.objects.filter(
                    programme=firmware, organisation=nordwind
                ).exists()
                and tester.memberships.filter(
                    organisation=nordwind, role__in=[Role.MEMBER, Role.ADMIN]
                ).exists()
            ):
                actions.submit_application(firmware, nordwind, tester, {})
            actions.change_status(firmware, ProgrammeStatus.RUNNING, owner, note="Demo: wave 1")
        if not NdaVersion.objects.filter(programme=firmware).exists():
            nda = NdaVersion.objects.create(
                programme=firmware,
                title="Storage controller firmware 4.0: non-disclosure agreement",
                body=NDA_TEXT,
                body_zh=NDA_TEXT_ZH,
            )
            actions.publish_nda(nda, owner)
        _cohort_and_builds(firmware)
        _announcement(firmware, owner)
        feedback_demo.seed(firmware, owner)
    _page(
        monitor,
        "GreenLoop Monitor app 3.0 beta",
        "GreenLoop 监控应用 3.0 公测",
        _body(
            "Help us finish the next monitoring app. You get the new version weeks before "
            "everyone else and a direct line to the product team.",
            "The offline plant overview (switch to flight mode and open it) and alarm rules "
            "on string current.",
            [
                ("Week 1-2", "Recruiting"),
                ("Week 3-8", "Closed beta"),
                ("Week 9-12", "Release candidate"),
            ],
            [
                ("Does the beta replace my current app?", "No: it installs beside it."),
                ("Can I leave the beta?", "Yes, at any time; tell the product team."),
            ],
        ),
        _body(
            "欢迎参与新版监控应用的测试。您将比其他用户提前数周使用新版本，并可直接与产品团队沟通。",
            "离线电站总览（切换到飞行模式后打开）以及基于组串电流的告警规则。",
            [("第 1-2 周", "招募"), ("第 3-8 周", "封闭测试"), ("第 9-12 周", "候选版本")],
            [
                ("测试版会替换我现在的应用吗？", "不会：它与现有应用并行安装。"),
                ("我可以退出测试吗？", "可以，随时告知产品团队即可。"),
            ],
        ),
    )
    _page(
        firmware,
        "Storage controller firmware 4.0 beta",
        "储能控制器固件 4.0 测试",
        _body(
            "Firmware 4.0 for BAT-LFP cabinets, for the first wave of sites.",
            "Grid-forming mode during a grid outage, and state-of-charge balancing after a "
            "full cycle.",
            [("Wave 1", "Four weeks on five sites"), ("Wave 2", "All cohort sites")],
            [("Who do I call on site?", "Your service engineer, quoting the beta build.")],
        ),
        _body(
            "面向首批站点的 BAT-LFP 储能柜 4.0 固件。",
            "电网停电时的构网模式，以及完整循环后的荷电状态均衡。",
            [("第一批", "五个站点，为期四周"), ("第二批", "所有测试站点")],
            [("现场应联系谁？", "联系您的服务工程师，并说明测试版本号。")],
        ),
    )
    if stdout:
        stdout.write(f"beta: {Programme.objects.count()} programmes")
