"""jejak's layers: every import goes down, none goes up or sideways, and no import cycle exists.

The order is written here and in docs/architecture.md (a test keeps the two equal). Highest
first; a module may import modules of its own component and of any layer below its own, nothing
else. Within a layer, components are siblings and import nothing of each other (the store does
not know the log; the log does not know the store; ``Home`` wires them).

The imports are read from the source with ``ast``: module-level ones, those inside functions
(a lazy import is still a dependency) and those under ``if TYPE_CHECKING:`` (a type is one too).
Cycles are looked for among the imports that run (everything but ``TYPE_CHECKING`` blocks).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"

#: (layer, its components: each a list of module prefixes), highest first
LAYERS: list[tuple[str, list[list[str]]]] = [
    ("interfaces", [["jejak.__main__", "jejak.cli", "jejak.clidoc"], ["jejak.web"]]),
    ("commands", [["*.cli"], ["jejak.demo"]]),
    ("command options", [["jejak.options"]]),
    ("home", [["jejak", "jejak.home"]]),
    ("accounts, delivery", [["jejak.auth"], ["jejak.notify"]]),
    ("cases", [["jejak.cases"], ["jejak.stream"]]),
    ("investigate", [["jejak.investigate"]]),
    ("detect", [["jejak.detect"]]),
    ("audit", [["jejak.audit"]]),
    (
        "store, ledger, simulate",
        [
            ["jejak.store", "jejak.ingest", "jejak.index", "jejak.commitments"],
            ["jejak.ledger"],
            ["jejak.simulate"],
        ],
    ),
    ("export format", [["jejak.schema", "jejak.sources", "jejak.validate"]]),
    (
        "base",
        [
            [
                "jejak.errors",
                "jejak.settings",
                "jejak.fsio",
                "jejak.sqlq",
                "jejak.terminal",
                "jejak.numbers",
                "jejak.policyfile",
            ]
        ],
    ),
]


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((SRC / "jejak").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def place(module: str) -> tuple[int, str]:
    """(layer index, component) of a module; the most specific prefix wins."""
    best: tuple[int, int, str] | None = None  # (prefix length, layer, component)
    for index, (_, components) in enumerate(LAYERS):
        for component in components:
            for prefix in component:
                if prefix == "*.cli":
                    hit = module.endswith(".cli") and module != "jejak.cli"
                    length, name = 1000, module  # each part's commands: a component of its own
                else:
                    hit = module == prefix or module.startswith(prefix + ".")
                    length, name = len(prefix), component[0]
                if hit and (best is None or length > best[0]):
                    best = (length, index, name)
    assert best is not None, f"{module} is in no layer: add it to LAYERS and docs/architecture.md"
    return best[1], best[2]


def _resolve(name: str) -> str | None:
    """The jejak module an import names (``from a import b`` may name module ``a.b``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(module: str) -> list[tuple[str, int, bool]]:
    """(imported jejak module, line, runs at import time or call time) of one module."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, runs: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for sub in child.body:
                    visit_one(sub, False)
                for sub in child.orelse:
                    visit_one(sub, runs)
                continue
            visit_one(child, runs)

    def visit_one(node: ast.AST, runs: bool) -> None:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            names = [f"{base}.{a.name}" for a in node.names]
        for name in names:
            if name == "jejak" or name.startswith("jejak."):
                target = _resolve(name)
                if target is not None and target != module:
                    found.append((target, node.lineno, runs))  # type: ignore[attr-defined]
        visit(node, runs)

    visit(tree, True)
    return found


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        place(module)


def test_no_import_goes_up_or_sideways() -> None:
    wrong = []
    for module in MODULES:
        layer, component = place(module)
        for target, line, _ in imports(module):
            t_layer, t_component = place(target)
            if t_layer < layer or (t_layer == layer and t_component != component):
                wrong.append(
                    f"{MODULES[module].relative_to(SRC)}:{line}: {module} ({LAYERS[layer][0]}) "
                    f"imports {target} ({LAYERS[t_layer][0]})"
                )
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_no_import_cycle() -> None:
    graph = {m: sorted({t for t, _, runs in imports(m) if runs}) for m in MODULES}
    # Tarjan's strongly connected components: any with two or more modules is a cycle
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                cycles.append(sorted(scc))

    for v in graph:
        if v not in index:
            connect(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_layer_test_catches_what_it_should() -> None:
    # an upward import, a sideways one and a lazy one are all found
    assert place("jejak.store")[0] > place("jejak.audit.records")[0]
    assert place("jejak.store")[0] == place("jejak.ledger.log")[0]
    assert place("jejak.store")[1] != place("jejak.ledger.log")[1]
    assert place("jejak.detect.cli")[1] != place("jejak.ledger.cli")[1]
    assert ("jejak.audit.lines", True) in {(t, r) for t, _, r in imports("jejak.detect.suppress")}


def test_the_order_is_the_one_in_the_architecture_doc() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"<!-- layers -->\n```\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md lost its layer table (between <!-- layers --> and ```)"
    names = [line.split("|")[0].strip() for line in block.group(1).splitlines() if "|" in line]
    assert names == [name for name, _ in LAYERS]


def test_settings_are_read_only_through_settings() -> None:
    """``os.environ`` / ``os.getenv`` are read in jejak.settings only (writes are allowed)."""
    reads = []
    for module, path in MODULES.items():
        if module == "jejak.settings":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("getenv", "getenvb", "environ"):
                ctx = getattr(node, "ctx", None)
                parent_store = any(
                    isinstance(p, ast.Subscript)
                    and p.value is node
                    and isinstance(p.ctx, ast.Store | ast.Del)
                    for p in ast.walk(tree)
                )
                if isinstance(ctx, ast.Load) and not parent_store:
                    reads.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert not reads, "the environment is read outside jejak.settings: " + ", ".join(reads)


def test_the_report_model_does_not_know_its_renderers() -> None:
    """The report is data; the renderers read it (and never the reasoning that made it)."""
    assert not {t for t, _, _ in imports("jejak.investigate.report")} & {
        "jejak.investigate.render_html",
        "jejak.investigate.render_text",
    }
    for renderer in ("jejak.investigate.render_html", "jejak.investigate.render_text"):
        assert "jejak.investigate.attribution" not in {t for t, _, _ in imports(renderer)}


def test_no_library_module_imports_a_command_module() -> None:
    for module in MODULES:
        if place(module)[0] <= 2:  # interfaces, commands, command options
            continue
        commands = [t for t, _, _ in imports(module) if place(t)[0] <= 2]
        assert not commands, f"{module} imports {commands}"
