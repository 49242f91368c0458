"""The packages of tfgen import each other in one direction only.

Every import statement is read from the source (including the ones inside
functions, which a runtime check would miss) and mapped to its unit: a
subpackage (`tfgen.models`, `tfgen.training`, `tfgen.export`, ...) or a module
at the package root (`tfgen.registry`, `tfgen.sampling`, ...). The graph of
units must have no cycle.

One edge is left out on purpose: `tfgen.registry` imports `tfgen.models` to
run every family's `@registry.register` (the plugin mechanism). Models import
the registry to register; nothing else in `tfgen.models` may reach back up.
"""

import ast

from tests.helpers import REPO

# Installed layout (setup.py's package_dir): where each package's source lives.
SOURCES = {"tfgen": REPO / "tfgen", "tfgen.export": REPO / "export", "tfgen.tools": REPO / "tools"}
PLUGIN_EDGE = ("tfgen.registry", "tfgen.models")


def module_name(path):
    for package, root in sorted(SOURCES.items(), key=lambda kv: -len(kv[0])):
        if root in path.parents:
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            return ".".join([package, *parts])
    raise AssertionError(path)


def all_modules():
    files = [p for root in SOURCES.values() for p in root.rglob("*.py")]
    return {module_name(p): p for p in files}


def unit(module):
    """The subpackage of tfgen a module belongs to (tfgen.models.vae.vae_model: tfgen.models), or a root module."""
    return ".".join(module.split(".")[:2])


def imported_modules(path, modules):
    """Modules of tfgen that a file imports (`from tfgen import x` counts as tfgen.x when x is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("tfgen"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("tfgen"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in modules else node.module)
    return found


def unit_graph():
    modules = all_modules()
    graph = {}
    for name, path in modules.items():
        source = unit(name)
        for target in imported_modules(path, modules):
            target = unit(target)
            if target not in ("tfgen", source) and (source, target) != PLUGIN_EDGE:
                graph.setdefault(source, set()).add(target)
    return graph


def find_cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_import_cycle_between_packages():
    graph = unit_graph()
    assert graph.get("tfgen.models"), "the import graph was not read"
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_the_layers_point_down():
    graph = unit_graph()
    # Models are used by training, evaluation and the tools, and use none of them.
    for low, high in [("tfgen.models", "tfgen.training"), ("tfgen.models", "tfgen.evaluation")]:
        assert high not in graph.get(low, set()), f"{low} imports {high}"
    assert "tfgen.training" not in graph.get("tfgen.export", set())
    assert "tfgen.models" in graph["tfgen.training"] or "tfgen.registry" in graph["tfgen.training"]


def test_a_cycle_is_found():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}}) is None
