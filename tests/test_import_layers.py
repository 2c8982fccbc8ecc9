"""The import layers (docs/architecture.md): import-linter's contracts in pyproject.toml hold, no file of
the project takes part in an import cycle (an import inside a function counts), and no view imports
another app's views."""

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
PACKAGES = CONFIG["root_packages"]


def test_the_contracts_hold():
    result = subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_cover_every_app_of_the_project():
    tops = {config.name.split(".")[0]: Path(config.path).resolve() for config in apps.get_app_configs()}
    ours = {top for top, path in tops.items() if path.is_relative_to(ROOT / top)}
    assert set(PACKAGES) == ours


def import_cycles(graph) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others (Tarjan's strongly
    connected components), each sorted; a module importing itself is a group of one."""
    imported_by = {module: sorted(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(start):
        # Iterative, so a long chain of imports cannot reach Python's recursion limit.
        work = [(start, iter(imported_by[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(imported_by[target])))
                    break
                if target in on_stack:
                    low[module] = min(low[module], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[module])
                if low[module] == index[module]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == module:
                            break
                    if len(group) > 1 or module in imported_by[module]:
                        cycles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return sorted(cycles)


def project_graph():
    return grimp.build_graph(*PACKAGES, include_external_packages=False, cache_dir=None)


def describe(graph, cycle: list[str]) -> str:
    lines = [" <-> ".join(cycle)]
    for importer in cycle:
        for imported in cycle:
            details = graph.get_import_details(importer=importer, imported=imported)
            if details:
                lines.append(f"    {importer} -> {imported} (line {', '.join(str(d['line_number']) for d in details)})")
    return "\n".join(lines)


def test_no_file_takes_part_in_an_import_cycle():
    graph = project_graph()
    cycles = import_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(describe(graph, cycle) for cycle in cycles)


def test_the_cycle_check_sees_imports_inside_functions(tmp_path, monkeypatch):
    package = tmp_path / "loop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "services.py").write_text("def start():\n    from loop.tasks import run\n\n    run()\n")
    (package / "tasks.py").write_text("from loop.services import start\n\n\ndef run():\n    pass\n")
    (package / "alone.py").write_text("import loop.services\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    graph = grimp.build_graph("loop", cache_dir=None)

    assert import_cycles(graph) == [["loop.services", "loop.tasks"]]


def app_of(module: str) -> str:
    """The Django app a module belongs to (payments.sandbox is an app of its own: the processor)."""
    return "payments.sandbox" if module.startswith("payments.sandbox.") else module.split(".")[0]


def is_view_module(module: str) -> bool:
    """views.py, a views package, or a module named after its views (sell_views, public_views, ...)."""
    return any(part == "views" or part.endswith("_views") for part in module.split(".")[1:])


def test_no_view_imports_another_apps_views():
    graph = project_graph()
    found = [f"{importer} -> {imported}"
             for importer in sorted(graph.modules) if is_view_module(importer)
             for imported in sorted(graph.find_modules_directly_imported_by(importer))
             if is_view_module(imported) and app_of(imported) != app_of(importer)]
    assert not found, "views importing another app's views:\n" + "\n".join(found)
