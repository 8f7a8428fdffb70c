"""The import graph of the application, read from the source with `ast` (nothing is imported).

Every `import` and `from ... import` counts wherever it stands: at module level, inside a
function, under `if TYPE_CHECKING`, and in migrations (a migration that imports a plugin breaks
the day the plugin goes). A rule forbids one package to import another; to add one, add a row
to RULES.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal", "carbon", "community", "beta_program")
PLUGINS = ("carbon", "community", "beta_program")


@dataclass(frozen=True)
class Rule:
    importer: str  # a package or module, dotted; covers everything below it
    imported: str
    why: str


RULES: list[Rule] = [
    *(
        Rule(plugin, other, "plugins never import each other, only portal")
        for plugin in PLUGINS
        for other in PLUGINS
        if other != plugin
    ),
    *(
        Rule("portal", plugin, "the portal imports no plugin: plugins register with it")
        for plugin in PLUGINS
    ),
    # Carbon's two wings: points may import footprint, never the reverse; what shows both is
    # composed at the app's root (carbon/api.py, urls.py, views.py, wagtail_hooks.py, ...).
    Rule("carbon.footprint", "carbon.points", "points may import footprint, not back"),
    # Reports read both wings and sit beside them: reports may import footprint and points,
    # neither of them imports reports.
    *(
        Rule(wing, "carbon.reports", "reports read the wings; no wing imports reports")
        for wing in ("carbon.footprint", "carbon.points")
    ),
    *(
        Rule(wing, f"carbon.{composer}", "a wing never imports the composers above it")
        for wing in ("carbon.footprint", "carbon.points", "carbon.reports")
        for composer in ("api", "urls", "views", "wagtail_hooks", "portal_hooks", "demo", "apps")
    ),
]


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module (or name in it), dotted
    where: str  # path:line


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of a relative import (`from .x import y` in `module`)."""
    if level == 0:
        return name or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def imports_in(path: Path) -> list[Import]:
    module = _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(ROOT)
    found: list[Import] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        line = f"{where}:{node.lineno}"
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, line) for alias in node.names]
        else:
            base = _resolve(module, path.name == "__init__.py", node.level, node.module)
            # `from a import b` imports module a.b or a name of a; "a.b" is within a either way.
            found += [Import(module, f"{base}.{alias.name}", line) for alias in node.names]
    return found


def application_imports() -> list[Import]:
    return [
        found
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for found in imports_in(path)
    ]


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def violations(imports: list[Import], rules: list[Rule]) -> list[str]:
    return [
        f"{found.where}: {found.module} imports {found.target} ({rule.why})"
        for found in imports
        for rule in rules
        if _within(found.module, rule.importer) and _within(found.target, rule.imported)
    ]


def test_no_import_breaks_a_rule():
    # given every import of the application / then none is forbidden by a rule
    assert violations(application_imports(), RULES) == []


def test_the_walk_sees_imports_at_every_level():
    # given the application's imports
    imports = application_imports()
    targets = {(found.module, found.target) for found in imports}

    # then it finds module-level imports of portal from a plugin,
    assert ("community.actions", "portal.audit") in targets
    # relative ones resolved (portal/settings/dev.py: `from .base import *`),
    assert ("portal.settings.dev", "portal.settings.base.*") in targets
    # and imports inside functions (CommunityConfig.ready)
    assert ("community.apps", "portal.home.block_choices.register_choices") in targets


def test_a_forbidden_import_is_reported_with_its_place_and_reason():
    # given a portal module importing a plugin inside a function, and a plugin importing another
    # under TYPE_CHECKING
    portal_module = Import("portal.home.migrations.0009_x", "community.blocks", "x.py:3")
    plugin_module = Import("carbon.api", "community.models.Topic", "y.py:9")
    allowed = Import("community.api", "portal.api.api", "z.py:1")

    # when the rules are checked
    found = violations([portal_module, plugin_module, allowed], RULES)

    # then both forbidden ones are reported with their place and reason, the allowed one not
    assert found == [
        "x.py:3: portal.home.migrations.0009_x imports community.blocks "
        "(the portal imports no plugin: plugins register with it)",
        "y.py:9: carbon.api imports community.models.Topic "
        "(plugins never import each other, only portal)",
    ]


def test_carbon_has_two_wings_and_points_uses_footprint():
    # given the imports between carbon's parts
    imports = application_imports()
    wings = {
        (found.module.split(".")[1], found.target.split(".")[1])
        for found in imports
        if _within(found.module, "carbon")
        and _within(found.target, "carbon")
        and found.module.split(".")[1] in ("footprint", "points")
        and found.target.count(".") >= 1
        and found.target.split(".")[1] in ("footprint", "points")
    }
    # then points reads footprint, and footprint never reads points
    assert ("points", "footprint") in wings
    assert ("footprint", "points") not in wings


def test_a_rule_between_two_parts_of_one_package_is_one_row():
    # given a rule that one part of a package may not import another
    rule = Rule("carbon.footprint", "carbon.points", "points may import footprint, not back")
    imports = [
        Import("carbon.footprint.orders", "carbon.points.ledger", "a.py:1"),
        Import("carbon.points.ledger", "carbon.footprint.orders", "b.py:1"),
    ]

    # then only the forbidden direction is reported
    assert violations(imports, [rule]) == [
        "a.py:1: carbon.footprint.orders imports carbon.points.ledger "
        "(points may import footprint, not back)"
    ]


def test_reports_may_read_both_wings_and_no_wing_reads_reports():
    # given reports reading both wings, and each wing reading reports
    pairs = [
        ("carbon.reports.loader", "carbon.footprint.units"),
        ("carbon.reports.loader", "carbon.points.ledger"),
        ("carbon.footprint.views", "carbon.reports.inventory"),
        ("carbon.points.api", "carbon.reports.loader.load_inventory"),
    ]
    imports = [Import(module, target, f"x.py:{n}") for n, (module, target) in enumerate(pairs)]

    # then only the wings' imports of reports are reported
    assert violations(imports, RULES) == [
        "x.py:2: carbon.footprint.views imports carbon.reports.inventory "
        "(reports read the wings; no wing imports reports)",
        "x.py:3: carbon.points.api imports carbon.reports.loader.load_inventory "
        "(reports read the wings; no wing imports reports)",
    ]


def test_no_carbon_module_is_over_600_lines():
    # given every module of the carbon app but its migrations (generated, append-only)
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in (ROOT / "carbon").rglob("*.py")
        if "migrations" not in path.parts
    }
    # then none has grown past 600 lines
    assert {path: n for path, n in sizes.items() if n > 600} == {}


# The footprint wing's writes: every caller reaches them in carbon.footprint.actions, their one
# home (issue #12, item 5), never in the domain module that holds their rules and steps.
FOOTPRINT_ACTIONS = "carbon.footprint.actions"
FOOTPRINT_WRITES = frozenset(
    {
        "store_orders",
        "upsert_order",
        "create_job",
        "start_import",
        "run_import",
        "purge_old_import_files",
        "verify_order_data",
        "load_dataset_file",
        "create_draft_dataset",
        "update_draft_dataset",
        "import_factors_csv",
        "create_new_version",
        "submit_for_approval",
        "approve_and_publish",
        "submit_declaration",
        "check_declaration",
        "verify_declaration",
        "reject_declaration",
        "revoke_declaration",
        "recalculate_declaration_orders",
    }
)


def _footprint_callers() -> list[Path]:
    """The modules that write through the footprint wing: its views, API, admin and tasks, the
    composers and demo data at the app's root, and the management commands."""
    wing = ROOT / "carbon" / "footprint"
    return sorted(
        [
            *(
                path
                for path in wing.glob("*.py")
                if path.stem in ("views", "tasks") or path.stem.startswith(("api", "admin"))
            ),
            ROOT / "carbon" / "views.py",
            ROOT / "carbon" / "demo.py",
            *(ROOT / "carbon" / "management" / "commands").glob("*.py"),
        ]
    )


def _dotted(node: ast.expr) -> str | None:
    """`a.b.c` of a name or attribute chain; None for anything else (a call, `self.x`, ...)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        owner = _dotted(node.value)
        return f"{owner}.{node.attr}" if owner else None
    return None


def writes_reached_elsewhere(path: Path, writes: frozenset[str] = FOOTPRINT_WRITES) -> list[str]:
    """Where `path` imports a write by name from another module than the actions, or calls one
    as an attribute of another imported module (`orders.store_orders(...)`)."""
    module = _module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(ROOT)
    bound: dict[str, str] = {}  # local name -> the module or name it was imported as
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                bound[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, path.name == "__init__.py", node.level, node.module)
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{base}.{alias.name}"
                if alias.name in writes and base != FOOTPRINT_ACTIONS:
                    found.append(f"{where}:{node.lineno}: imports {alias.name} from {base}")
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr in writes):
            continue
        owner = _dotted(node.value)
        if owner is None or owner.split(".")[0] not in bound:
            continue
        head, _, rest = owner.partition(".")
        target = ".".join(filter(None, (bound[head], rest)))
        if _within(target, "carbon") and target != FOOTPRINT_ACTIONS:
            found.append(f"{where}:{node.lineno}: calls {node.attr} of {target}")
    return found


def test_footprint_writes_are_reached_only_through_the_actions():
    # given the footprint wing's views, API, admin and tasks, carbon's composers, demo data and
    # management commands
    callers = _footprint_callers()
    assert ROOT / "carbon" / "footprint" / "api_orders.py" in callers

    # then none reaches a write of the wing elsewhere than in carbon.footprint.actions
    assert [found for path in callers for found in writes_reached_elsewhere(path)] == []


def test_a_write_reached_outside_the_actions_is_reported(tmp_path, monkeypatch):
    # given a module that imports one write from its domain module, calls another through that
    # module, and a third through the actions
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    path = tmp_path / "carbon" / "footprint" / "views.py"
    path.parent.mkdir(parents=True)
    path.write_text(
        "from carbon.footprint import actions, datasets\n"
        "from carbon.footprint.importer import start_import\n"
        "from carbon.footprint.actions import store_orders\n"
        "datasets.approve_and_publish(dataset, user)\n"
        "actions.submit_for_approval(dataset, user)\n"
        "self.verify_declaration()\n",
        encoding="utf-8",
    )

    # then the import and the call outside the actions are reported with their place
    assert writes_reached_elsewhere(path) == [
        "carbon/footprint/views.py:2: imports start_import from carbon.footprint.importer",
        "carbon/footprint/views.py:4: calls approve_and_publish of carbon.footprint.datasets",
    ]


# --- the points wing's writes go through its actions

ACTIONS = ROOT / "carbon" / "points" / "actions.py"
# The modules that face callers (screens, API, admin, tasks) and the composers that use points.
WRITE_CALLERS = (
    "carbon/points/views.py",
    "carbon/points/api*.py",
    "carbon/points/admin*.py",
    "carbon/points/tasks.py",
    "carbon/views.py",
    "carbon/demo.py",
)


def public_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
    }


def writes_not_from_actions(path: Path, writes: set[str]) -> list[str]:
    """Each place in `path` that takes one of the points `writes` from a module other than
    carbon.points.actions: `from carbon.points.<m> import <write>`, or `<m>.<write>` where
    `<m>` is a points module imported by name (`from carbon.points import <m> [as <alias>]`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    found, aliases = [], {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
            continue
        for alias in node.names:
            if node.module == "carbon.points":
                aliases[alias.asname or alias.name] = alias.name
            elif (
                _within(node.module, "carbon.points")
                and node.module != "carbon.points.actions"
                and alias.name in writes
            ):
                found.append(f"{where}:{node.lineno}: {alias.name} from {node.module}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and aliases.get(node.value.id, "actions") != "actions"
            and node.attr in writes
        ):
            module = f"carbon.points.{aliases[node.value.id]}"
            found.append(f"{where}:{node.lineno}: {node.attr} from {module}")
    return found


def test_the_points_writes_are_taken_from_the_actions_only():
    # given the public functions of carbon.points.actions, the wing's writes
    writes = public_functions(ACTIONS)
    assert {"request_redemption", "fulfil", "adjust", "create_draft_policy", "settle_order"} <= (
        writes
    )
    # then the screens, API, admin, tasks, views and demo take each of them from there,
    callers = sorted({path for pattern in WRITE_CALLERS for path in ROOT.glob(pattern)})
    assert len(callers) >= 10
    assert [place for path in callers for place in writes_not_from_actions(path, writes)] == []
    # and no other module of the wing defines one of them (no second way in)
    others = {
        str(path.relative_to(ROOT)): sorted(public_functions(path) & writes)
        for path in (ROOT / "carbon" / "points").glob("*.py")
        if path != ACTIONS
    }
    assert {path: names for path, names in others.items() if names} == {}


def test_a_write_taken_from_another_points_module_is_reported(tmp_path):
    # given a module that imports a write from the ledger and calls one through redemptions
    source = tmp_path / "caller.py"
    source.write_text(
        "from carbon.points import actions\n"
        "from carbon.points import redemptions as r\n"
        "from carbon.points.ledger import adjust\n"
        "r.fulfil()\nactions.cancel()\nr.offers()\n"
    )
    # then both are reported with their line, the action and the read not
    found = writes_not_from_actions(source, {"adjust", "fulfil", "cancel"})
    assert [place.split(": ", 1)[1] for place in found] == [
        "adjust from carbon.points.ledger",
        "fulfil from carbon.points.redemptions",
    ]


def _is_private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def private_imports(imports: list[Import]) -> list[str]:
    """Imports (outside migrations) of a name or module whose name starts with `_`: what a
    module keeps to itself, which no other module may rely on."""
    return [
        f"{found.where}: {found.module} imports {found.target}"
        for found in imports
        if "migrations" not in found.module.split(".")
        and any(_is_private(part) for part in found.target.split("."))
    ]


def test_no_module_imports_another_module_s_private_names():
    # given every import of the application / then none takes a `_` name from another module
    assert private_imports(application_imports()) == []


def test_a_private_import_is_reported_with_its_place():
    # given imports of private names and modules, dunders and a migration's
    imports = [
        Import("carbon.points.awards", "carbon.points.ledger._append", "a.py:1"),
        Import("portal.x", "portal._internal.helper", "b.py:2"),
        Import("portal.y", "__future__.annotations", "c.py:3"),
        Import("carbon.migrations.0009_x", "carbon.models._old", "d.py:4"),
    ]

    # then only the first two are reported, with their place
    assert private_imports(imports) == [
        "a.py:1: carbon.points.awards imports carbon.points.ledger._append",
        "b.py:2: portal.x imports portal._internal.helper",
    ]
