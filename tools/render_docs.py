"""Render the notebooks to HTML as a reader sees them, without quarto, and optionally screenshot pages.

Usage:
    python tools/render_docs.py                       # every notebook under nbs/ -> _docs_html/
    python tools/render_docs.py index 12_visualize    # only these (names without .ipynb, or paths)
    python tools/render_docs.py --screenshot index 12_visualize   # also PNG screenshots (headless Chromium)
    python tools/render_docs.py --out /tmp/site 14_idl

Steps, per notebook:
1. nbdev's own docs preprocessing (`nbdev.processors.FilterDefaults`, what `nbdev.serve.proc_nbs` runs):
   hides `#| hide` cells, turns exported cells into `show_doc` API entries, builds the front matter.
2. Quarto-only pieces are mapped to what plain HTML can show: the YAML front matter becomes the page
   title and summary, `#| echo: false` / `include: false` / `output: false` are honoured, `#|` lines are
   dropped, and quarto link attributes (`{target=...}`) are removed.
3. `nbconvert`'s HTMLExporter (the engine of `jupyter nbconvert --to html`, no pandoc needed) writes
   `<out>/<name>.html`, with a navigation bar linking all rendered pages.
4. With --screenshot: `chromium --headless --screenshot` of each page into `<out>/screenshots/<name>.png`.

Nothing is executed except nbdev's `show_doc` cells (imports of mms_mp); stored outputs are the evidence.
Exit code 0 when every requested page rendered (and every screenshot was taken), else 1.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
MATHJAX = Path("/usr/share/javascript/mathjax/MathJax.js")   # Debian libjs-mathjax; else the CDN default
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--virtual-time-budget=15000"]


def find_notebooks(names: list[str]) -> list[Path]:
    "Notebook paths for names like 'index', '12_visualize', 'tutorials/explorer' or paths; all when empty."
    if not names:
        return sorted(p for p in NBS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
                      and not p.name.startswith("_") and "reports" not in p.relative_to(NBS).parts)
    out = []
    for n in names:
        p = Path(n)
        cands = [p, NBS / p, NBS / f"{n}.ipynb"] + sorted(NBS.rglob(f"{Path(n).stem}.ipynb"))
        hit = next((c for c in cands if c.suffix == ".ipynb" and c.is_file()), None)
        if hit is None:
            raise SystemExit(f"render_docs: no notebook {n!r} under {NBS}; give a name like 12_visualize or a path")
        out.append(hit.resolve())
    return out


def page_name(nb: Path) -> str:
    "Output file stem: the notebook path under nbs/ with '/' replaced by '__'."
    return str(nb.relative_to(NBS).with_suffix("")).replace(os.sep, "__")


def _frontmatter(src: str) -> dict:
    import yaml
    body = src.strip().strip("-").strip()
    try:
        fm = yaml.safe_load(body) or {}
    except yaml.YAMLError:
        fm = {}
    return fm if isinstance(fm, dict) else {}


def _directives(src: str) -> tuple[dict, str]:
    "Parse leading `#| key: value` lines; return them and the source without them."
    d, keep = {}, []
    for line in src.splitlines():
        m = re.match(r"^\s*#\|\s*([\w-]+)\s*:?\s*(.*)$", line)
        if m: d[m.group(1).lower()] = m.group(2).strip().lower()
        else: keep.append(line)
    return d, "\n".join(keep).strip("\n")


def _plain_output(o):
    "execnb stores text as lists of lines; nbformat's HTML templates want strings."
    import nbformat
    o = nbformat.from_dict(dict(o))
    if isinstance(o.get("text"), list): o["text"] = "".join(o["text"])
    for k, v in (o.get("data") or {}).items():
        if isinstance(v, list): o["data"][k] = "".join(v)
    if o.get("output_type") == "execute_result": o.setdefault("execution_count", None)
    else: o.pop("execution_count", None)
    return o


_QUARTO_ATTR = re.compile(r"\{(?:target|style|\.)[^{}\n]*\}")


def preprocess(nb_path: Path):
    "nbdev docs processing, then quarto-only constructs mapped to plain notebook cells. Returns (nb, title)."
    import nbformat
    from execnb.nbio import read_nb
    from nbdev.processors import FilterDefaults
    nb = read_nb(nb_path)
    old = os.environ.get("IN_TEST"); os.environ["IN_TEST"] = "1"
    cwd = os.getcwd(); os.chdir(nb_path.parent)
    try:
        FilterDefaults()(nb)
    finally:
        os.chdir(cwd)
        if old is None: os.environ.pop("IN_TEST", None)
        else: os.environ["IN_TEST"] = old
    cells, title = [], nb_path.stem
    for c in nb.cells:
        src = c.get("source", "")
        if c.cell_type == "raw" and src.lstrip().startswith("---"):
            fm = _frontmatter(src); title = str(fm.get("title", title))
            md = f"# {title}\n\n" + (f"> {fm['description']}\n" if fm.get("description") else "")
            cells.append(nbformat.v4.new_markdown_cell(md)); continue
        if c.cell_type == "markdown" and "THIS FILE WAS AUTOGENERATED" in src: continue
        if c.cell_type == "code":
            d, body = _directives(src)
            if d.get("include") == "false" or "hide" in d: continue
            outs = [] if d.get("output") == "false" else [_plain_output(o) for o in c.get("outputs", [])]
            for o in outs:
                md = o.get("data", {}).get("text/markdown")
                if md is not None:
                    o["data"]["text/markdown"] = _QUARTO_ATTR.sub("", "".join(md) if isinstance(md, list) else md)
            cell = nbformat.v4.new_code_cell(body, outputs=outs)
            if d.get("echo") == "false" or not body.strip(): cell.metadata["tags"] = ["mms_mp_hide_input"]
            if not body.strip() and not outs: continue
            cells.append(cell)
        else:
            new = nbformat.v4.new_markdown_cell if c.cell_type == "markdown" else nbformat.v4.new_raw_cell
            cells.append(new(src))
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": kernel, "language_info": {"name": "python"}})
    out.metadata["title"] = title
    return out, title


_CSS = """
<style>
 .mms-nav{position:sticky;top:0;z-index:10;background:#1f3a5f;padding:6px 16px;font:14px system-ui,sans-serif}
 .mms-nav a{color:#fff;margin-right:14px;text-decoration:none;white-space:nowrap}
 .mms-nav a.here{font-weight:700;text-decoration:underline}
 body{max-width:1100px;margin:0 auto}
 .jp-RenderedImage img, .output_png img{max-width:100%;height:auto}
 blockquote{border-left:4px solid #9ab;margin-left:0;padding-left:12px;color:#345}
 .jp-InputArea-editor pre, .jp-OutputArea-output pre{white-space:pre-wrap;word-break:break-word}
</style>
"""


def to_html(nb, pages: list[tuple[str, str]], here: str) -> str:
    "HTML of a preprocessed notebook (nbconvert lab template) with a navigation bar."
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config
    cfg = Config(); cfg.TagRemovePreprocessor.remove_input_tags = {"mms_mp_hide_input"}
    cfg.TagRemovePreprocessor.enabled = True
    ex = HTMLExporter(config=cfg, template_name="lab", exclude_input_prompt=True, exclude_output_prompt=True)
    if MATHJAX.is_file(): ex.mathjax_url = MATHJAX.as_uri() + "?config=TeX-AMS_CHTML-full"   # offline maths
    ex.register_preprocessor(TagRemovePreprocessor(config=cfg), enabled=True)
    body, _ = ex.from_notebook_node(nb)
    nav = '<nav class="mms-nav">' + "".join(
        f'<a href="{n}.html"{" class=here" if n == here else ""}>{t}</a>' for n, t in pages) + "</nav>"
    body = body.replace("</head>", _CSS + "</head>", 1)
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav, body, count=1)


def chromium_path() -> str | None:
    names = ("chromium", "chromium-browser", "google-chrome")
    return next((p for p in map(shutil.which, names) if p), None)


def screenshot(html: Path, png: Path, *, width: int = 1280, height: int = 2000, timeout: float = 90) -> Path:
    "Headless-Chromium screenshot of a local HTML file (no network, fresh profile)."
    exe = chromium_path()
    if exe is None:
        raise SystemExit("render_docs: chromium is not installed; `apt-get update && apt-get install -y chromium`")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mms_mp_chromium_") as prof:
        cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={prof}", f"--screenshot={png}",
               f"--window-size={width},{height}", html.resolve().as_uri()]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot for {html} (exit {r.returncode}): {r.stderr[-500:]}")
    return png


def render(names: list[str], out: Path, shots: bool = False) -> list[Path]:
    "Render notebooks to `out/<name>.html` (and screenshots); returns the HTML files."
    nbs = find_notebooks(names); out.mkdir(parents=True, exist_ok=True)
    done, failed = [], []
    for nb in nbs:
        try: done.append((nb, page_name(nb), *preprocess(nb)))
        except Exception as e:  # one broken notebook must not hide the others' pages
            failed.append(nb)
            print(f"render_docs: FAILED to preprocess {nb.relative_to(ROOT)}: {type(e).__name__}: {e}",
                  file=sys.stderr)
    pages = [(n, "mms_mp" if n == "index" else t.split(":")[0][:40]) for _, n, _, t in done]
    files = []
    for nb, name, node, title in done:
        f = out / f"{name}.html"; f.write_text(to_html(node, pages, name), encoding="utf-8"); files.append(f)
        print(f"rendered {nb.relative_to(ROOT)} -> {f} ({f.stat().st_size // 1024} KB)")
        if shots:
            png = screenshot(f, out / "screenshots" / f"{name}.png")
            print(f"screenshot {png}")
    if failed:
        raise RuntimeError(f"{len(failed)} notebook(s) could not be rendered: {', '.join(p.name for p in failed)}")
    return files


def render_reports(out: Path) -> list[Path]:
    """Both report pages of the SIMULATED demo event: `report.html` of an `analyze --plot` run and the papermill
    `event_report.html`, each screenshotted twice: the first screen (1280×900) and the whole page."""
    from mms_mp.pipeline import analyze
    from mms_mp.report import run_report
    from mms_mp.synthetic import demo_event_dir
    d, tr, shots = demo_event_dir(), ("2019-01-27T12:15", "2019-01-27T12:55"), []
    analyze(tr, ["1", "2", "3", "4"], source="local", data_dir=d, outdir=out / "analyze", plot=True)
    run_report(tr, out / "papermill", ["1", "2", "3", "4"], source="local", data_dir=d)
    for name, page in (("report_html", out / "analyze" / "report.html"),
                       ("event_report", out / "papermill" / "event_report.html")):
        shots += [screenshot(page, out / "screenshots" / f"{name}_first_screen.png", height=900),
                  screenshot(page, out / "screenshots" / f"{name}_page.png", height=6000)]
    for png in shots: print(f"screenshot {png}")
    return shots


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", help="notebook names (e.g. index 12_visualize) or paths; default: all")
    ap.add_argument("--out", default=str(ROOT / "_docs_html"), help="output folder (default: _docs_html/)")
    ap.add_argument("--screenshot", action="store_true", help="also take headless-Chromium screenshots")
    ap.add_argument("--reports", action="store_true",
                    help="instead: build both report pages of the simulated demo into OUT/reports and screenshot them")
    a = ap.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        if a.reports: render_reports(Path(a.out) / "reports")
        else: render(a.notebooks, Path(a.out), a.screenshot)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"render_docs: {e}", file=sys.stderr); return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
