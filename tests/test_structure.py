"""The package's shape: imports run one way with no cycle, no import indirection, short exported cells and lines.

These read the source as text (ast), so they hold for every module whether or not a test imports it.
"""
import ast
import json
import re
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "mms_mp"
MODULES = {p.stem: p for p in PKG.glob("*.py") if p.name not in ("__init__.py", "_modidx.py")}

# Layers, lowest first: a module may import only from its own layer's predecessors (earlier in this list).
LAYERS = ["core", "layout", "cdfwrite", "cdfread", "digest", "products", "data", "simtruth", "validation", "synthetic",
          "toy", "resample", "quality", "minvar", "coords", "normals", "normal_prior", "formation", "multispacecraft", "delays",
          "velocity", "electric", "motion", "boundary", "crossings", "detect", "boundary_multi", "thickness", "overlay",
          "idl", "visualize", "panels", "figures", "spectra", "config", "schema", "stages", "stages_timing", "outset",
          "outputs", "pipeline", "report", "batch", "cli", "console"]


def package_imports(path: Path) -> set:
    "Names of mms_mp modules that `path` imports anywhere (module level or inside functions)."
    deps = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level and mod: deps.add(mod.split(".")[0])
            elif mod.startswith("mms_mp."): deps.add(mod.split(".")[1])
            elif mod == "mms_mp" or (node.level and not mod): deps.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            deps.update(a.name.split(".")[1] for a in node.names if a.name.startswith("mms_mp."))
    return {d for d in deps if d in MODULES and d != path.stem}


GRAPH = {m: package_imports(p) for m, p in MODULES.items()}


def test_every_module_has_a_layer():
    "A new module must be placed in LAYERS, so the import order stays a decision, not an accident."
    assert sorted(set(MODULES) - set(LAYERS)) == []


def test_imports_run_one_way():
    "core → layout → data → physics → visualize → pipeline → report/batch/cli: never upwards, so never a cycle."
    rank = {m: i for i, m in enumerate(LAYERS)}
    up = sorted(f"{m} imports {d}" for m, ds in GRAPH.items() for d in ds if rank.get(d, -1) >= rank.get(m, -1))
    assert up == []


def test_walk_finds_no_cycle():
    "Depth-first walk of the import graph (independent of LAYERS)."
    state, cycles = {}, []
    def visit(u, stack):
        state[u] = 1
        for v in sorted(GRAPH[u]):
            if state.get(v) == 1: cycles.append(stack[stack.index(v):] + [v])
            elif not state.get(v): visit(v, stack + [v])
        state[u] = 2
    for m in sorted(GRAPH):
        if not state.get(m): visit(m, [m])
    assert cycles == []


def test_no_import_indirection():
    "Modules are imported by name; importlib appears only for the package's own metadata or resources."
    hits = [f"{p.name}:{i}" for p in MODULES.values()
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if "importlib" in line and "metadata" not in line and "resources" not in line
            and not line.strip().startswith("#")]
    assert hits == []


def exported_cells():
    "Non-blank line counts of every `#| export` cell in nbs/."
    for nb in sorted((ROOT / "nbs").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in nb.parts: continue
        for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            src = "".join(c["source"])
            if c["cell_type"] == "code" and re.match(r"\s*#\|\s*export", src):
                yield nb.name, len([ln for ln in src.splitlines() if ln.strip()])


def test_exported_cells_are_short():
    "One function per exported cell: the median exported cell is at most 15 non-blank lines."
    lens = [n for _, n in exported_cells()]
    assert lens and statistics.median(lens) <= 15, f"median {statistics.median(lens)} lines"


def test_no_long_lines():
    "No line of the package is longer than 120 characters (the generated _modidx.py aside)."
    def limit(line):  # nbdev wraps the __all__ list at 120 and then prefixes `__all__ = ` to its first line
        return 120 + len("__all__ = ") if line.startswith("__all__ = [") else 120
    long = [f"{p.name}:{i} ({len(line)})" for p in MODULES.values()
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if len(line) > limit(line)]
    assert long == []


def test_no_outside_docs_cited():
    "Notebooks and code cite papers and the project's own pages, never files outside the repository."
    pat = re.compile(r"physics\.md|mms-l2-offline\.md|STYLE\.md|\.\./shared")
    files = list((ROOT / "nbs").rglob("*.ipynb")) + list(MODULES.values()) + [ROOT / "README.md"]
    assert [str(f.relative_to(ROOT)) for f in files if pat.search(f.read_text(encoding="utf-8"))] == []


def test_no_packed_statements():
    "No two statements share a line (`a; b`): a `;` token outside strings and comments does not occur."
    import io
    import tokenize
    packed = [f"{p.name}:{t.start[0]}" for p in MODULES.values()
              for t in tokenize.generate_tokens(io.StringIO(p.read_text(encoding="utf-8")).readline)
              if t.type == tokenize.OP and t.string == ";"]
    assert packed == []


def test_no_undefined_names():
    """Every name the package uses is defined or imported (pyflakes). An undefined name fails only when its line runs:
    `math.isfinite` in `cdfread._fill_index` without `import math` crashed any file whose FILLVAL is not −1e31."""
    from pyflakes import checker, messages
    bad = []
    for m, p in sorted(MODULES.items()):
        w = checker.Checker(ast.parse(p.read_text(encoding="utf-8")), filename=str(p))
        bad += [f"{p.name}:{x.lineno}: {x.message % x.message_args}" for x in w.messages
                if isinstance(x, (messages.UndefinedName, messages.UndefinedLocal, messages.UndefinedExport))]
    assert bad == []


def test_no_private_names_across_modules():
    """A module uses another module's public names only: `from .x import _y` (one line or a parenthesised block) is a
    seam into x's internals. Dunders such as `__version__` from the package are not private."""
    seams = []
    for m, p in sorted(MODULES.items()):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom): continue
            mod = node.module or ""
            src = mod.split(".")[0] if node.level else (mod.split(".")[1] if mod.startswith("mms_mp.") else "")
            if src in MODULES and src != m:
                seams += [f"{m} imports {src}.{a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert seams == []
