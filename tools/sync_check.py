"""Fail if the generated package, the cleaned notebooks or README.md are out of step with nbs/.

Runs `nbdev_export` and `nbdev_clean`, then compares every tracked-kind file (mms_mp/**/*.py,
nbs/**/*.ipynb, README.md) before and after by content hash. Works without git.
"""
import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def snapshot():
    files = list((ROOT / "mms_mp").rglob("*.py")) + [p for p in (ROOT / "nbs").rglob("*.ipynb")
                                                     if ".ipynb_checkpoints" not in p.parts]
    files.append(ROOT / "README.md")
    return {p.relative_to(ROOT): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.exists()}


def main():
    before = snapshot()
    for cmd in (["nbdev_export"], ["nbdev_clean"]):
        r = subprocess.run([str(BIN / cmd[0])] + cmd[1:], cwd=ROOT, capture_output=True, text=True)
        if r.returncode:
            print(f"{cmd[0]} failed:\n{r.stdout}\n{r.stderr}")
            return 1
    readme = subprocess.run([sys.executable, str(ROOT / "tools" / "make_readme.py"), "--check"], cwd=ROOT)
    after = snapshot()
    changed = sorted(str(p) for p in set(before) | set(after) if before.get(p) != after.get(p))
    if changed:
        print("Out of step with nbs/ (nbdev_export / nbdev_clean changed these files):")
        for c in changed:
            print("  ", c)
        print("Run `make export`, review, commit.")
        return 1
    if readme.returncode:
        return 1
    print("sync check: mms_mp/ matches nbs/, notebooks are clean, README.md matches nbs/index.ipynb")
    return 0


if __name__ == "__main__":
    sys.exit(main())
