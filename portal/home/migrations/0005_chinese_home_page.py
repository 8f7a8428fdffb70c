"""The landing page in Simplified Chinese: a zh-hans locale and a translation of the home page
(same translation key, its own page beside the English one, as Wagtail's "Translate" makes it),
so that the page tree for the visitor's language is served. Both get an SEO title, so the
browser tab no longer reads "GreenLoop · GreenLoop"."""

from django.db import migrations

EN_SEO_TITLE = "Carbon footprint and rewards for your orders"
ZH_SEO_TITLE = "订单碳足迹与绿色奖励"
ZH_BODY = [
    {
        "type": "hero",
        "value": {
            "heading": "查看订单的碳足迹，绿色选择赢取奖励",
            "text": "查看每一笔采购订单的物流排放，凭绿色电力和更绿色的运输赚取碳积分，"
            "并与我们一起规划产品路线图。",
            "button_label": "登录",
            "button_url": "/accounts/login/",
        },
    },
    {
        "type": "features",
        "value": {
            "heading": "您可以在这里做什么",
            "features": [
                {
                    "title": "每笔订单的碳足迹",
                    "text": "按 ISO 14083 / GLEC 方法计算每段运输的油井到车轮排放，"
                    "每个数字都可追溯到有出处的排放因子。",
                },
                {
                    "title": "碳积分",
                    "text": "实测减排即可赚取积分，并可兑换上门维护、延长保修和培训。",
                },
                {
                    "title": "社区与测试项目",
                    "text": "向我们的工程师和其他客户提问，参加测试项目，并为我们下一步要做的想法投票。",
                },
            ],
        },
    },
]
ZH_SLUG = "home-zh-hans"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # treebeard's, 4 characters per level


def _next_sibling_path(last: str) -> str:
    number = int(last[-4:], 36) + 1
    step = ""
    for _ in range(4):
        number, digit = divmod(number, 36)
        step = _ALPHABET[digit] + step
    return last[:-4] + step


def add_chinese_home(apps, schema_editor):
    Page = apps.get_model("wagtailcore.Page")
    HomePage = apps.get_model("home.HomePage")
    Locale = apps.get_model("wagtailcore.Locale")
    home = HomePage.objects.filter(depth=2, slug="home").first()
    if home is None:
        return
    if not home.seo_title:
        home.seo_title = EN_SEO_TITLE
        home.save(update_fields=["seo_title"])
    zh, _ = Locale.objects.get_or_create(language_code="zh-hans")
    if HomePage.objects.filter(translation_key=home.translation_key, locale=zh).exists():
        return
    root = Page.objects.get(depth=1)
    last = Page.objects.filter(depth=2).order_by("-path").values_list("path", flat=True)[0]
    HomePage.objects.create(
        title="GreenLoop",
        draft_title="GreenLoop",
        seo_title=ZH_SEO_TITLE,
        slug=ZH_SLUG,
        content_type_id=home.content_type_id,
        path=_next_sibling_path(last),
        depth=2,
        numchild=0,
        url_path=f"/{ZH_SLUG}/",
        locale=zh,
        translation_key=home.translation_key,
        body=ZH_BODY,
        live=True,
        has_unpublished_changes=False,
    )
    root.numchild = Page.objects.filter(depth=2).count()
    root.save(update_fields=["numchild"])


def remove_chinese_home(apps, schema_editor):
    Page = apps.get_model("wagtailcore.Page")
    apps.get_model("home.HomePage").objects.filter(depth=2, slug=ZH_SLUG).delete()
    root = Page.objects.get(depth=1)
    root.numchild = Page.objects.filter(depth=2).count()
    root.save(update_fields=["numchild"])


class Migration(migrations.Migration):
    dependencies = [("home", "0004_beta_blocks")]

    operations = [migrations.RunPython(add_chinese_home, remove_chinese_home)]
