"""The import structure: layers only import downwards and no module imports itself back.

Every `import` statement of ltcore/, app/ and pages/ counts, inside functions too (a late import
hides a cycle; it does not remove it). A new module must be placed in LAYERS below.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ltcore", "app", "pages")

LAYERS = [  # lowest first: a module may import its own layer and the layers before it
    ("errors", ["ltcore.errors"]),
    ("registry", ["ltcore.registry", "ltcore.version", "ltcore.engine.loop", "ltcore.paths", "ltcore.safety"]),
    ("data/models", ["ltcore.data", "ltcore.models"]),
    ("methods", ["ltcore.methods", "ltcore.engine.checkpoints"]),
    ("config", ["ltcore.config", "ltcore.recipes", "ltcore.result"]),
    ("metrics", ["ltcore.metrics"]),
    ("train", ["ltcore.engine", "ltcore.inference", "ltcore.whatif"]),
    ("runs", ["ltcore.runs", "ltcore.sweep", "ltcore.reproduce"]),
    ("cli", ["ltcore.cli", "ltcore.__main__", "ltcore"]),
    ("app logic", ["app.logic"]),   # the view's state and numbers: no streamlit
    ("app charts", ["app.charts"]), # figure builders: no streamlit
    ("app", ["app"]),               # streamlit parts: app.ui (every page), app.<page> (one page)
    ("pages", ["pages"]),
]


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imported(module: str, path: Path, known: dict) -> set[str]:
    """The project modules `module` imports: `from A import b` counts as A.b when that is a module
    (a submodule import), else as A (a name from A's __init__)."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:       # `import a.b.c` of a name inside a.b
                target = target.rpartition(".")[0]
            if target and target != module:
                out.add(target)
    return out


def layer_of(module: str) -> int:
    best, depth = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and prefix.count(".") > depth:
                best, depth = index, prefix.count(".")
    assert best is not None, f"{module} has no layer: add it to LAYERS in {__file__}"
    return best


def graph() -> dict[str, set[str]]:
    known = modules()
    return {m: imported(m, p, known) for m, p in known.items()}


def test_the_import_scan_sees_function_level_imports(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text("def f():\n    from .b import c\n    import a.x\n")
    known = {"a": None, "a.b": None, "a.x": None, "a.mod": path}
    assert imported("a.mod", path, known) == {"a.b", "a.x"}


def test_every_module_imports_only_its_own_layer_or_lower_ones():
    upward = []
    for module, targets in graph().items():
        for target in targets:
            if layer_of(target) > layer_of(module):
                upward.append(f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} "
                              f"({LAYERS[layer_of(target)][0]})")
    assert not upward, "\n".join(sorted(upward))


def test_there_is_no_import_cycle():
    edges = graph()
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):                                          # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


NO_STREAMLIT = ("app.logic", "app.charts")  # the app rooms that a unit test imports without a server


def _imports_streamlit(path: Path) -> bool:
    tree = ast.parse(path.read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and not n.level]
    return any(n.split(".")[0] == "streamlit" for n in names)


def test_the_core_and_the_no_streamlit_app_rooms_never_import_streamlit():
    offenders = [module for module, path in modules().items()
                 if (module.startswith("ltcore") or module.startswith(NO_STREAMLIT)) and _imports_streamlit(path)]
    assert not offenders, f"these modules import streamlit: {offenders}"


def test_no_module_imports_the_init_of_a_package_it_is_inside():
    """A package's `__init__` hands its modules' names on; a module inside the package that takes a
    name back from it makes a loop that neither the layers nor the cycle check can see."""
    inward = [f"{module} imports {target}" for module, targets in graph().items() for target in targets
              if module.startswith(target + ".")]
    assert not inward, "\n".join(sorted(inward))
