# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The house rules of docs/contributing.md, checked on the source: who may import whom (the layers of
docs/architecture.md), no import cycle in plugins/ (function-level imports included), no private name imported
from another file (plugins/ and tests/), only the transport speaks HTTP and only the store's dialects load a
database driver, small files and classes.

Run as a script to print the import graph's summary: ``.venv/bin/python tests/unit/test_house_rules.py``.
"""

from __future__ import annotations

import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "plugins"
PACKAGE = "ansible_collections.mdm.vpp."
# "about 400 lines a file, about 300 a class" (ARCHITECTURE.md); modules are long because of their documentation
MAX_FILE_LINES = 420
MAX_CLASS_LINES = 320

# Who may import whom: a file imports from its own layer or a lower one. A new file must be given its layer here.
FOUNDATION, LOGIC, GATEWAY, USE_CASE, ENTRY = range(5)
LAYERS = {
    FOUNDATION: ("errors", "version", "vocabulary", "timestamps", "support"),
    # decisions and planning, without I/O: unit-tested without HTTP or SQL
    LOGIC: (
        "spelling",
        "batches",
        "events",
        "answers",
        "member_list",
        "members",
        "members_file",
        "licensing",
        "submission",
        "intents",
        "parallel",
        "stoken",
        "token_facts",
        "notification_settings",
        "token_dependents",
        "sync_decisions",
        "app_facts",
        "audit_facts",
        "application_decisions",
        "deployment_views",
        "report",
        "report_rows",
        "report_text",
        "report_chart",
        "report_html",
        "mdm_commands",
        "mdm_answers",
        "install_plan",
        "change_events",
        "apple_notifications",
    ),
    # the two doors out of the process: HTTP (transport and the Apple client on it) and SQL (the store)
    GATEWAY: (
        "transport",
        "apple_classifier",
        "pacing",
        "paging",
        "service_config",
        "metadata",
        "writes",
        "event_reads",
        "client",
        "store",
        "mdm_classifier",
        "mdm",
        "mdm_nanomdm",
        "mdm_micromdm",
        "mdm_kmfddm",
    ),
    USE_CASE: (
        "tokens",
        "token_notifications",
        "token_revoke",
        "token_sync",
        "sync",
        "apps",
        "audit",
        "deployments",
        "deployment_run",
        "deployment_writes",
        "deployment_outcomes",
        "deployment_results",
        "mdm_receipts",
        "deployment_installs",
        "license_outcomes",
        "notification_receipts",
        "change_poll",
    ),
    ENTRY: ("module",),
}
HTTP_DRIVERS = ("requests", "urllib3", "http.client")
SQL_DRIVERS = ("sqlite3", "psycopg", "psycopg2")
DRIVER_PACKAGES = {driver.split(".", maxsplit=1)[0] for driver in HTTP_DRIVERS + SQL_DRIVERS}


def module_name(path):
    """``plugins/module_utils/store/db.py`` -> ``plugins.module_utils.store.db`` (a package is its __init__)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files(top):
    return sorted(path for path in top.rglob("*.py") if "__pycache__" not in path.parts)


def collection_imports(path):
    """``(line, imported module, imported names)`` of every import of a collection module in ``path``, nested ones
    included; ``from package import submodule`` names the submodule."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE):
            found.append((node.lineno, node.module[len(PACKAGE) :], [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE):
                    found.append((node.lineno, alias.name[len(PACKAGE) :], []))
    return found


def import_graph():
    """module -> the set of plugins modules it imports (``from pkg import sub`` counts as importing ``pkg.sub``)."""
    modules = {module_name(path): path for path in python_files(PLUGINS)}
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for _line, target, names in collection_imports(path):
            targets = [target + "." + each for each in names if target + "." + each in modules] or [target]
            graph[name].update(each for each in targets if each in modules and each != name)
    return graph


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def layer_of(module):
    """The layer of a plugins module: modules, filters and doc fragments are entries, store.* is the store."""
    if not module.startswith("plugins.module_utils."):
        return ENTRY
    name = module[len("plugins.module_utils.") :].split(".", maxsplit=1)[0]
    return next((layer for layer, names in LAYERS.items() if name in names), None)


def layer_violations(graph):
    """``a -> b`` for every import of a higher layer, of a file with no layer, or between the HTTP and SQL sides."""
    found = []
    sql = {name for name in graph if name.startswith("plugins.module_utils.store")}
    for module in sorted(graph):
        if layer_of(module) is None:
            found.append("%s has no layer in LAYERS" % module)
            continue
        for target in sorted(graph[module]):
            crosses = layer_of(module) == GATEWAY and layer_of(target) == GATEWAY and (module in sql) != (target in sql)
            if (layer_of(target) or 0) > layer_of(module) or crosses:
                found.append("%s -> %s" % (module, target))
    return found


def driver_imports(paths):
    """``file: driver`` for every file outside transport.py importing an HTTP library, and outside the store's
    dialects importing a database driver."""
    found = []
    for path in paths:
        relative = str(path.relative_to(ROOT))
        allowed = ()
        if relative == "plugins/module_utils/transport.py":
            allowed = HTTP_DRIVERS
        elif relative.startswith("plugins/module_utils/store/dialects/"):
            allowed = SQL_DRIVERS
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            names += [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
            found += [
                "%s: %s" % (relative, name)
                for name in names
                if name.split(".", maxsplit=1)[0]
                in {driver.split(".", maxsplit=1)[0] for driver in HTTP_DRIVERS + SQL_DRIVERS}
                and not any(name == each or name.startswith(each + ".") for each in allowed)
            ]
    return found


def private_imports(paths):
    """``file:line imports _name from module`` for every private name imported from another collection file."""
    found = []
    for path in paths:
        for line, target, names in collection_imports(path):
            found += [
                "%s:%d imports %s from %s" % (path.relative_to(ROOT), line, name, target)
                for name in names
                if name.startswith("_") and not name.startswith("__")
            ]
    return found


# Private attributes of other libraries' objects that their own API documents or requires.
THIRD_PARTY_PRIVATE = {
    "_replace",  # namedtuple's (urllib.parse results)
    "_asdict",
    "_host",  # Ansible's callback API: TaskResult._host / _result
    "_result",
    "_diff",  # AnsibleModule._diff: how a module learns diff mode
    "_content",  # requests.Response: the transport hands it the body it read under its deadline
    "_content_consumed",
    "_exit",  # os._exit
    "_getframe",  # sys._getframe
}


def private_attributes(paths):
    """``file:line obj._name`` for every private attribute read on something other than ``self`` or ``cls``."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and node.attr not in THIRD_PARTY_PRIVATE
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                found.append("%s:%d %s" % (path.relative_to(ROOT), node.lineno, ast.unparse(node)))
    return found


def oversized(paths):
    """Files above MAX_FILE_LINES (module files excepted: their length is documentation), classes above
    MAX_CLASS_LINES."""
    found = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(ROOT)
        lines = text.count("\n")
        if lines > MAX_FILE_LINES and relative.parts[:2] != ("plugins", "modules"):
            found.append("%s: %d lines" % (relative, lines))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES:
                found.append("%s: class %s has %d lines" % (relative, node.name, node.end_lineno - node.lineno + 1))
    return found


def test_every_file_imports_only_its_layer_or_lower():
    assert layer_violations(import_graph()) == []


def test_only_the_transport_speaks_http_and_only_the_dialects_load_a_database_driver():
    assert driver_imports(python_files(PLUGINS)) == []


def test_the_import_graph_of_plugins_has_no_cycle():
    assert cycles(import_graph()) == []


def test_no_file_imports_a_private_name_of_another():
    assert private_imports(python_files(PLUGINS) + python_files(ROOT / "tests")) == []


def test_no_file_reads_a_private_attribute_of_another_object():
    assert private_attributes(python_files(PLUGINS) + python_files(ROOT / "tests")) == []


def test_files_and_classes_stay_small():
    assert oversized(python_files(PLUGINS)) == []


def test_the_checks_see_a_cycle_and_a_private_import(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    upward = {"plugins.module_utils.errors": {"plugins.module_utils.client"}, "plugins.module_utils.client": set()}
    assert layer_violations(upward) == ["plugins.module_utils.errors -> plugins.module_utils.client"]
    across = {
        "plugins.module_utils.store.db": {"plugins.module_utils.transport"},
        "plugins.module_utils.transport": set(),
    }
    assert layer_violations(across) == ["plugins.module_utils.store.db -> plugins.module_utils.transport"]
    source = tmp_path / "x.py"
    source.write_text("def f():\n    from ansible_collections.mdm.vpp.plugins.module_utils.store import _secret\n")
    assert collection_imports(source) == [(2, "plugins.module_utils.store", ["_secret"])]


def main():
    graph = import_graph()
    edges = sum(len(targets) for targets in graph.values())
    print("plugins/: %d modules, %d import edges (function-level imports included)" % (len(graph), edges))
    print("cycles: %s" % (cycles(graph) or "none"))
    print("imports of a higher layer: %s" % (layer_violations(graph) or "none"))
    print(
        "HTTP or SQL drivers outside transport.py and store/dialects/: %s"
        % (driver_imports(python_files(PLUGINS)) or "none")
    )
    print(
        "private names imported across files: %s"
        % (private_imports(python_files(PLUGINS) + python_files(ROOT / "tests")) or "none")
    )
    print("oversized files/classes: %s" % (oversized(python_files(PLUGINS)) or "none"))
    for name in sorted(graph):
        print("  %s -> %s" % (name, ", ".join(sorted(graph[name])) or "-"))


if __name__ == "__main__":
    sys.exit(main())
