"""Write README.md from nbs/index.ipynb without quarto (nbdev_readme needs quarto, absent here).

Markdown cells are copied; visible code cells become fenced Python with their text output; hidden
cells (`#| hide`) are skipped; a figure output becomes a line saying which notebook shows it;
images and links to other pages are made relative to the repo root (nbs/...).
`--check` exits 1 if README.md is out of step instead of writing it.
"""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = "<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->\n\n"


def _src(cell):
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def render(nb_path: Path) -> str:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    out = [HEADER]
    for cell in nb["cells"]:
        src = _src(cell)
        if cell["cell_type"] == "markdown":
            src = re.sub(r"\]\((?!https?://|#|/|mailto:)([^)]+)\)", r"](nbs/\1)", src)  # links relative to nbs/
            out.append(src.strip() + "\n\n")
        elif cell["cell_type"] == "code":
            lines = src.splitlines()
            directives = [l for l in lines if l.startswith("#|")]
            if any(re.match(r"#\|\s*(hide|export|exporti|exec_doc)\b", d) for d in directives):
                continue
            body = "\n".join(l for l in lines if not l.startswith("#|")).strip()
            if body:
                out.append(f"```python\n{body}\n```\n\n")
            for o in cell.get("outputs", []):
                text = o.get("text") or o.get("data", {}).get("text/plain")
                if text and "image/png" not in o.get("data", {}):
                    text = "".join(text) if isinstance(text, list) else text
                    out.append(f"```\n{text.rstrip()}\n```\n\n")
                elif "image/png" in o.get("data", {}):   # the README carries no images: say where it is
                    out.append(f"*(The figure this code draws is in [nbs/{nb_path.name}](nbs/{nb_path.name}).)*\n\n")
    return "".join(out).rstrip() + "\n"


def main(argv):
    text = render(ROOT / "nbs" / "index.ipynb")
    readme = ROOT / "README.md"
    if "--check" in argv:
        if not readme.exists() or readme.read_text(encoding="utf-8") != text:
            print("README.md is out of step with nbs/index.ipynb: run `python tools/make_readme.py`.")
            return 1
        return 0
    readme.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
