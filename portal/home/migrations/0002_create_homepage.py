from django.db import migrations

HOME_BODY = [
    {
        "type": "hero",
        "value": {
            "heading": "Your orders' carbon footprint, and rewards for greener choices",
            "text": "See the logistics emissions of every purchase order, earn carbon points for "
            "green power and greener transport, and shape our roadmap with us.",
            "button_label": "Sign in",
            "button_url": "/accounts/login/",
        },
    },
    {
        "type": "features",
        "value": {
            "heading": "What you can do here",
            "features": [
                {
                    "title": "Carbon footprint per order",
                    "text": "ISO 14083 / GLEC well-to-wheel emissions for every transport leg, "
                    "traceable to a cited emission factor.",
                },
                {
                    "title": "Carbon points",
                    "text": "Earn points for measured reductions and redeem them for maintenance "
                    "visits, extended warranty and training.",
                },
                {
                    "title": "Community and betas",
                    "text": "Ask our engineers and other customers, join beta programmes and vote "
                    "on the ideas we build next.",
                },
            ],
        },
    },
]


def create_homepage(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Page = apps.get_model("wagtailcore.Page")
    Site = apps.get_model("wagtailcore.Site")
    HomePage = apps.get_model("home.HomePage")
    Locale = apps.get_model("wagtailcore.Locale")

    # Wagtail's initial migration creates a placeholder "Welcome" page; ours replaces it.
    Page.objects.filter(depth=2, slug="home").delete()
    content_type, _ = ContentType.objects.get_or_create(model="homepage", app_label="home")
    locale = Locale.objects.first()
    home = HomePage.objects.create(
        title="GreenLoop",
        draft_title="GreenLoop",
        slug="home",
        content_type=content_type,
        path="00010001",
        depth=2,
        numchild=0,
        url_path="/home/",
        locale=locale,
        body=HOME_BODY,
        live=True,
    )
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "root_page": home, "site_name": "GreenLoop"},
    )
    root = Page.objects.get(depth=1)
    root.numchild = 1
    root.save(update_fields=["numchild"])


def remove_homepage(apps, schema_editor):
    apps.get_model("home.HomePage").objects.filter(slug="home", depth=2).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("home", "0001_initial"),
        ("wagtailcore", "0094_alter_page_locale"),
        ("wagtailcore", "0002_initial_data"),
    ]

    operations = [migrations.RunPython(create_homepage, remove_homepage)]
