"""Demo R&D boards (run by `manage.py seed_demo` after the beta programmes): a public
"Product ideas" board with a dozen ideas from both demo customers, Huadong's in Chinese and
Nordwind's in English, voted on by people of both with importances, moved along the workflow by
product staff (planned, in progress, shipped with a note, declined with a note); and Huadong's
private co-development board, with a co-owned idea, milestones and a shared pilot plan, which
Nordwind never sees. Everything goes through the actions, so counters, notifications and CRM
events are what real use gives. Idempotent: nothing is added once the public board exists."""

from __future__ import annotations

import datetime as dt

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from wagtail import hooks

from beta_program.boards import actions, codev_actions
from beta_program.boards.models import Board, Category, IdeaStatus, Tag, Visibility
from beta_program.boards.status_actions import change_status
from portal.models import Organisation, User
from portal.permissions import act_for_staff

PRODUCT_STAFF = "product@greenloop.example"
PUBLIC = {
    "slug": "product-ideas",
    "name": "Product ideas",
    "name_zh": "产品创意",
    "description": (
        "Tell us what would make our inverters, storage and this portal more useful, and vote "
        "for what matters most to you. Product managers read every idea and answer here."
    ),
    "description_zh": (
        "告诉我们怎样让逆变器、储能产品和本门户更好用，并为您最看重的创意投票。"
        "产品经理会阅读每一条创意并在此答复。"
    ),
}
CATEGORIES = (
    ("Monitoring", "监控"),
    ("Storage", "储能"),
    ("Carbon reporting", "碳报告"),
    ("Portal", "门户"),
)
TAGS = (("API", "API", "api"), ("Export", "导出", "export"), ("Mobile app", "移动应用", "mobile"))
CODEV = {
    "slug": "huadong-codev",
    "name": "Huadong co-development",
    "name_zh": "华东光伏联合开发",
    "description": "Joint R&D between Huadong PV and the vendor's storage team.",
    "description_zh": "华东光伏与供应商储能团队的联合研发。",
}

# author e-mail, category, tags, title, problem, solution, votes (e-mail, importance, why),
# path through the workflow [(status key, note, Chinese note)], planned quarter offset
IDEAS = (
    (
        "anna.schmidt@nordwind.example",
        "Carbon reporting",
        ("export",),
        "Export the carbon report as CSV per site",
        "Our auditors want the figures per plant in a spreadsheet; today we copy them from "
        "the PDF by hand every quarter.",
        "A CSV download next to the PDF, one row per site and order, with the factor source.",
        (
            ("anna.schmidt@nordwind.example", 3, "Quarterly audit"),
            ("jonas.weber@nordwind.example", 2, ""),
            ("li.wei@huadong.example", 2, "集团汇总需要"),
            ("zhang.min@huadong.example", 1, ""),
        ),
        (("planned", "", ""),),
        1,
    ),
    (
        "li.wei@huadong.example",
        "Monitoring",
        ("export",),
        "支持按组串导出发电量数据",
        "运维团队需要按组串分析发电量差异，目前只能导出逆变器级数据。",
        "在电站页面增加“按组串导出”，支持 CSV 和 Excel。",
        (
            ("li.wei@huadong.example", 3, "排查遮挡问题"),
            ("zhang.min@huadong.example", 3, ""),
            ("jonas.weber@nordwind.example", 1, ""),
        ),
        (("under_review", "", ""),),
        None,
    ),
    (
        "jonas.weber@nordwind.example",
        "Monitoring",
        ("mobile",),
        "Alarm when inverter efficiency drops below a threshold",
        "We notice a failing inverter only at month end when the yield report comes in.",
        "Let us set a minimum conversion efficiency per inverter and get a push alarm.",
        (
            ("jonas.weber@nordwind.example", 3, "Lost 4 MWh last summer"),
            ("anna.schmidt@nordwind.example", 2, ""),
            ("zhang.min@huadong.example", 2, "同样需要"),
        ),
        (("planned", "", ""), ("in_progress", "", "")),
        0,
    ),
    (
        "zhang.min@huadong.example",
        "Monitoring",
        ("mobile",),
        "监控应用增加离线模式",
        "偏远电站信号差，现场巡检时应用经常无法打开。",
        "缓存最近 7 天的数据，离线时也能查看电站总览。",
        (
            ("zhang.min@huadong.example", 3, ""),
            ("li.wei@huadong.example", 2, ""),
            ("anna.schmidt@nordwind.example", 2, "Our Alpine sites too"),
        ),
        (
            ("planned", "", ""),
            ("in_progress", "", ""),
            # Shipped by the changelog entry below, which names it.
            ("changelog", "", ""),
        ),
        None,
    ),
    (
        "anna.schmidt@nordwind.example",
        "Portal",
        (),
        "Single sign-on with Microsoft Entra ID",
        "Our people already sign in to everything with their company account.",
        "",
        (("anna.schmidt@nordwind.example", 2, ""),),
        (),
        None,
    ),
    (
        "li.wei@huadong.example",
        "Carbon reporting",
        (),
        "碳报告中加入范围三类别 4 的明细",
        "客户要求我们按 GHG Protocol 范围三类别 4（上游运输）披露排放明细。",
        "在碳报告中按运输方式和路线列出类别 4 的排放。",
        (
            ("li.wei@huadong.example", 3, "客户审核要求"),
            ("anna.schmidt@nordwind.example", 3, "CSRD reporting"),
            ("jonas.weber@nordwind.example", 2, ""),
        ),
        (("planned", "", ""),),
        2,
    ),
    (
        "jonas.weber@nordwind.example",
        "Monitoring",
        ("mobile",),
        "Dark mode for the monitoring app",
        "The control room is dark at night and the white app is glaring.",
        "",
        (("jonas.weber@nordwind.example", 1, ""),),
        (
            (
                "declined",
                "Not this year: the control-room display profile in 3.0 already dims the app.",
                "今年不做：3.0 版的控制室显示模式已可调暗界面。",
            ),
        ),
        None,
    ),
    (
        "zhang.min@huadong.example",
        "Storage",
        (),
        "储能控制器支持峰谷电价策略",
        "工业园区实行峰谷电价，储能目前只能按固定时段充放电。",
        "按电价时段表自动安排充放电，并显示节省的电费。",
        (
            ("zhang.min@huadong.example", 3, ""),
            ("li.wei@huadong.example", 3, "每月可省约 8%"),
            ("anna.schmidt@nordwind.example", 2, ""),
            ("jonas.weber@nordwind.example", 2, "Dynamic tariffs in DE"),
        ),
        (("under_review", "", ""),),
        None,
    ),
    (
        "anna.schmidt@nordwind.example",
        "Portal",
        ("api",),
        "Webhook when an order's footprint is final",
        "Our ERP polls the API every hour to find out whether a footprint changed.",
        "Send a signed webhook when an order's footprint is settled.",
        (("anna.schmidt@nordwind.example", 2, ""), ("li.wei@huadong.example", 1, "")),
        (),
        None,
    ),
    (
        "li.wei@huadong.example",
        "Portal",
        (),
        "维护预约时显示工程师到达时间",
        "预约上门维护后，我们不知道工程师何时到达，现场人员需要全天等候。",
        "在预约详情中显示预计到达时间，并在出发时通知。",
        (("li.wei@huadong.example", 2, ""), ("zhang.min@huadong.example", 2, "")),
        (),
        None,
    ),
    (
        "jonas.weber@nordwind.example",
        "Storage",
        (),
        "Battery state-of-health forecast",
        "We plan battery replacements from the warranty date, not from the real wear.",
        "Forecast state of health per battery string for the next 24 months.",
        (
            ("jonas.weber@nordwind.example", 3, ""),
            ("zhang.min@huadong.example", 2, ""),
        ),
        (("planned", "", ""),),
        3,
    ),
    (
        "zhang.min@huadong.example",
        "Carbon reporting",
        ("export",),
        "导出碳报告为 CSV",
        "审计需要表格格式的碳排放数据。",
        "",
        (("zhang.min@huadong.example", 2, ""), ("li.wei@huadong.example", 3, "")),
        (),
        None,
    ),
)
CODEV_IDEA = (
    "li.wei@huadong.example",
    "储能削峰调度算法联合试点",
    "苏州工厂需要在不影响生产的前提下把最大需量降低 15%。",
    "在苏州工厂 2 MWh 储能上试点供应商的新调度算法，双方共享运行数据。",
)
MILESTONES = (
    ("Pilot plan agreed", "试点方案确认", -20, "done"),
    ("Algorithm on site", "算法现场部署", 25, "active"),
    ("Three-month review", "三个月评估", 120, "planned"),
)
PILOT_PLAN_HTML = (
    "<html><head><style>body{font-family:'Noto Sans CJK SC','DejaVu Sans',sans-serif}</style>"
    "</head><body><h1>储能削峰调度联合试点方案 · Peak-shaving pilot plan</h1>"
    "<p>站点：苏州工厂，2 MWh 储能。目标：最大需量降低 15%。</p>"
    "<p>Site: Suzhou plant, 2 MWh storage. Goal: cut peak demand by 15%.</p></body></html>"
)


def _quarter(today: dt.date, offset: int) -> dt.date:
    month = 3 * ((today.month - 1) // 3) + 1 + 3 * offset
    return dt.date(today.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def _pilot_plan_pdf() -> bytes:
    from weasyprint import HTML

    return HTML(string=PILOT_PLAN_HTML).write_pdf()


def _changelog(ideas, owner) -> None:
    """The Changelog under the home page, with the release that shipped `ideas`. Shipped as the
    product manager (publishing in the admin ships as the publisher; here nobody signs in)."""
    from wagtail.models import Page

    from beta_program.boards.changelog import (
        ChangelogEntryPage,
        ChangelogIdea,
        ChangelogIndexPage,
        ship_linked_ideas,
    )

    home = Page.objects.filter(depth=2, slug="home").first()
    if home is None:
        return
    index = ChangelogIndexPage(title="Changelog", title_zh="更新日志", slug="changelog")
    home.add_child(instance=index)
    index.save_revision().publish(skip_permission_checks=True)
    entry = ChangelogEntryPage(
        title="Monitor app 3.0",
        title_zh="监控应用 3.0",
        slug="monitor-app-3-0",
        body=(
            "<p>The plant overview of the last 7 days now works offline: open the app once on "
            "site with signal and it keeps the data for the week.</p>"
        ),
        body_zh=(
            "<p>最近 7 天的电站总览现可离线查看：在有信号的现场打开一次应用，即可缓存一周数据。</p>"
        ),
        live=False,
    )
    entry.shipped_ideas = [ChangelogIdea(idea=idea) for idea in ideas]
    index.add_child(instance=entry)
    entry.save_revision().publish(skip_permission_checks=True)
    ship_linked_ideas(entry, owner)


def seed(stdout=None) -> None:
    owner = act_for_staff(User.objects.filter(email=PRODUCT_STAFF).first())
    huadong = Organisation.objects.filter(slug="huadong-pv").first()
    nordwind = Organisation.objects.filter(slug="nordwind").first()
    if owner is None or huadong is None or nordwind is None:
        return
    if Board.objects.filter(slug=PUBLIC["slug"]).exists():
        return
    people = {u.email: u for u in User.objects.filter(email__contains="@")}
    organisation_of = {
        email: huadong if email.endswith("@huadong.example") else nordwind for email in people
    }
    statuses = {s.key: s for s in IdeaStatus.objects.all()}
    today = timezone.localdate()
    released = []
    with transaction.atomic():
        board = Board.objects.create(**PUBLIC)
        categories = {
            name: Category.objects.create(board=board, name=name, name_zh=zh, sort_order=n)
            for n, (name, zh) in enumerate(CATEGORIES)
        }
        tags = {
            slug: Tag.objects.get_or_create(slug=slug, defaults={"name": name, "name_zh": zh})[0]
            for name, zh, slug in TAGS
        }
        for author, category, tag_slugs, title, problem, solution, votes, path, quarter in IDEAS:
            idea = actions.propose(
                board,
                organisation_of[author],
                people[author],
                actions.Proposal(
                    title=title,
                    problem=problem,
                    solution=solution,
                    category_id=categories[category].pk,
                    tag_ids=tuple(tags[s].pk for s in tag_slugs),
                ),
            )
            for email, importance, why in votes:
                actions.vote(idea, organisation_of[email], people[email], importance, why)
            if quarter is not None:
                type(idea).objects.filter(pk=idea.pk).update(
                    planned_quarter=_quarter(today, quarter)
                )
            for key, note, note_zh in path:
                if key == "changelog":
                    released.append(idea)
                    continue
                change_status(idea, statuses[key], owner, note=note, note_zh=note_zh)
        _changelog(released, owner)
        codev = Board.objects.create(visibility=Visibility.PRIVATE, **CODEV)
        codev.organisations.set([huadong])
        codev.save()
        author, title, problem, solution = CODEV_IDEA
        idea = actions.propose(
            codev,
            huadong,
            people[author],
            actions.Proposal(title=title, problem=problem, solution=solution),
        )
        actions.vote(idea, huadong, people["zhang.min@huadong.example"], 3)
        change_status(idea, statuses["planned"], owner)
        change_status(idea, statuses["in_progress"], owner)
        codev_actions.set_co_owners(idea, [huadong], owner)
        for title_en, title_zh, days, status in MILESTONES:
            milestone = codev_actions.add_milestone(
                idea, None, owner, title=title_en, title_zh=title_zh,
                due_on=today + dt.timedelta(days=days),
            )  # fmt: skip
            if status != "planned":
                codev_actions.update_milestone(
                    milestone, None, owner, status=status, due_on=milestone.due_on
                )
        plan = ContentFile(_pilot_plan_pdf(), name="pilot-plan.pdf")
        codev_actions.share_document(
            idea, huadong, people[author], plan, title="试点方案 · Pilot plan"
        )
    if stdout is not None:
        stdout.write(f"R&D boards: {len(IDEAS)} ideas on {board.name}, one co-development idea.")


# After the beta programmes' demo data (order 300).
@hooks.register("greenloop_seed_demo", order=310)
def seed_boards_demo(stdout=None) -> None:
    seed(stdout=stdout)
