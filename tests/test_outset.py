"""An output set under real signals: writer processes killed at random moments, two writers at once.

Each writer is a child Python process that fills an `output_set` slowly (a sleep between files) into
an OUT that already holds a complete set. After every kill, OUT must be exactly the set it was or
exactly the complete new set (checked file by file and against its manifest), and no staging or
old folder may be left, except after SIGKILL, which the next run cleans up.
"""
import errno
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mms_mp.core import EXIT_USAGE, InputError, exit_code
from mms_mp.outset import OutdirBusy, check_set, output_set, read_manifest, set_files

ROOT = Path(__file__).resolve().parents[1]

WRITER = r"""
import sys, time
from pathlib import Path
from mms_mp.core import MMSMPError, exit_code
from mms_mp.outset import output_set
out, tag, n, dt = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
try:
    with output_set(out) as st:
        print("staging", flush=True)
        (st / "figures").mkdir()
        for i in range(n):
            (st / ("figures" if i % 2 else ".") / f"f{i}.txt").write_text(f"{tag} {i}\n")
            time.sleep(dt)
except MMSMPError as e:
    print(e, file=sys.stderr)
    sys.exit(exit_code(e))
"""


def expected(tag, n):
    "relative path -> content of the set a writer with this tag and count makes."
    return {f"{'figures/' if i % 2 else ''}f{i}.txt": f"{tag} {i}\n" for i in range(n)}


def snapshot(out: Path) -> dict:
    return {r: (out / r).read_text() for r in set_files(out)}


def siblings(out: Path) -> list:
    "Hidden staging/old folders beside OUT (the lock file is allowed to stay)."
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")
                  and p.name != f".{out.name}.lock")


def writer(out, tag, n, dt):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-c", WRITER, str(out), tag, str(n), str(dt)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def write_here(out, files):
    with output_set(out) as st:
        for rel, text in files.items():
            (st / rel).parent.mkdir(parents=True, exist_ok=True)
            (st / rel).write_text(text)


@pytest.fixture
def out(tmp_path):
    out = tmp_path / "OUT"
    write_here(out, expected("old", 3))
    return out


def test_kills_leave_old_or_new_set(out):
    "SIGINT and SIGTERM at random moments: OUT is exactly the set before or the complete new set."
    rng, seen = random.Random(20190127), set()
    for k in range(10):
        before, new = snapshot(out), expected(f"new{k}", 6)
        p = writer(out, f"new{k}", 6, 0.08)
        assert p.stdout.readline() == "staging\n"
        time.sleep(rng.uniform(0.0, 0.7))
        p.send_signal(rng.choice([signal.SIGINT, signal.SIGTERM]))
        p.communicate(timeout=10)
        now = snapshot(out)
        assert now in (before, new), f"kill {k}: a mix of two sets"
        assert check_set(out) == []
        assert siblings(out) == []
        seen.add("new" if now == new else "old")
    assert "old" in seen  # most kills land before the swap; a late one may find the new set done


def test_sigkill_staging_is_cleaned_by_next_run(out):
    "SIGKILL leaves the staging folder; the next run removes it (its writer is dead)."
    before = snapshot(out)
    p = writer(out, "killed", 6, 0.2)
    assert p.stdout.readline() == "staging\n"
    time.sleep(0.3)
    p.kill()
    p.communicate(timeout=10)
    assert snapshot(out) == before and check_set(out) == []
    assert [s.split("-")[0] for s in siblings(out)] == [".OUT.staging"]
    write_here(out, expected("next", 2))
    assert snapshot(out) == expected("next", 2) and siblings(out) == []


def _zombie(pid: int, timeout: float = 10.0) -> bool:
    "Whether `pid` has ended and waits to be reaped (state Z in /proc), polled until `timeout` s."
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try: state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError: return False
        if state == "Z": return True
        time.sleep(0.02)
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sigkill_staging_of_an_unreaped_writer_is_cleaned_by_the_first_rerun(out):
    """After `timeout -s KILL 3 mms-mp ...` the killed writer was orphaned and stayed a zombie until init reaped it;
    signal 0 still finds a zombie, so the first rerun kept its staging folder (the second removed it). A writer that
    has ended, reaped or not, writes nothing more: its staging folder goes at the first rerun."""
    p = writer(out, "killed", 6, 0.2)
    assert p.stdout.readline() == "staging\n"
    p.kill()
    assert _zombie(p.pid), "the killed writer, not yet reaped, is a zombie"
    try:
        assert [s.split("-")[0] for s in siblings(out)] == [".OUT.staging"]
        write_here(out, expected("next", 2))
        assert snapshot(out) == expected("next", 2) and siblings(out) == []
    finally: p.communicate(timeout=10)


def test_staging_of_a_pid_that_still_exists_but_holds_no_lock_is_cleaned(out):
    """`timeout -s KILL 4 mms-mp analyze ...`, then at once a rerun: the killed writer was still exiting (state R in
    /proc, its lock already let go), so its pid answered and the rerun kept its staging folder. A writer holds the lock
    for as long as its staging folder exists, so the rerun that holds it now cleans any other process's folder:
    here a pid that exists (a sleeping process, as a pid reused would be) and holds no lock."""
    import subprocess
    live = subprocess.Popen(["sleep", "30"])
    try:
        (out.parent / f".OUT.staging-{live.pid}-00ff").mkdir()
        write_here(out, expected("next", 2))
        assert snapshot(out) == expected("next", 2) and siblings(out) == []
    finally:
        live.kill()
        live.wait()


def test_sigkill_mid_swap_restores_old_set(out, tmp_path):
    "A writer killed between its two renames leaves OUT missing: the next run puts the old set back."
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    before = snapshot(out)
    out.rename(tmp_path / f".OUT.old-{dead.pid}-0abc")
    (tmp_path / f".OUT.staging-{dead.pid}-0def").mkdir()
    with pytest.raises(RuntimeError):
        with output_set(out):
            assert snapshot(out) == before  # restored before the writer starts
            raise RuntimeError("stop")
    assert snapshot(out) == before and check_set(out) == [] and siblings(out) == []


def test_two_writers_one_refused(out):
    "Two runs into one OUT: the second fails at once with exit 2 naming OUT and the holder's pid."
    a = writer(out, "A", 4, 0.1)
    assert a.stdout.readline() == "staging\n"
    t0 = time.monotonic()
    b = writer(out, "B", 4, 0.1)
    _, err_b = b.communicate(timeout=10)
    a.communicate(timeout=10)
    assert (a.returncode, b.returncode) == (0, EXIT_USAGE) and issubclass(OutdirBusy, InputError)
    assert f"{out} is being written by another mms_mp run (pid {a.pid})" in err_b
    assert time.monotonic() - t0 < 3  # refused at once, not after A finished waiting
    assert snapshot(out) == expected("A", 4) and check_set(out) == [] and siblings(out) == []


def test_rerun_with_fewer_files_leaves_none_of_the_old(out):
    write_here(out, {"mp_analysis.json": "{}", "figures/mms1.png": "png"})
    assert set_files(out) == ["figures/mms1.png", "mp_analysis.json"]
    assert [f["path"] for f in read_manifest(out)["files"]] == set_files(out)


def test_sigterm_handler_restored(out):
    "The SIGTERM handler is installed only for the duration of the set."
    def mine(signum, frame): pass
    prev = signal.signal(signal.SIGTERM, mine)
    try:
        with output_set(out):
            assert signal.getsignal(signal.SIGTERM) is not mine
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, prev)


def test_unusable_outdirs(tmp_path, monkeypatch):
    "A file in OUT's place, a parent that cannot be made, a read-only filesystem: InputError, exit 2."
    (tmp_path / "f").write_text("x")
    for bad, msg in [(tmp_path / "f", "is a file"), ("/proc/mms_mp/out", "cannot create the parent"),
                     ("/", "mount point"), (tmp_path / "f" / "out", "cannot create the parent")]:
        with pytest.raises(InputError, match=msg) as e:
            with output_set(bad): pass
        assert exit_code(e.value) == EXIT_USAGE
    real_open = os.open
    def ro_open(path, flags, *a):
        if str(path).endswith(".lock"): raise OSError(errno.EROFS, os.strerror(errno.EROFS), path)
        return real_open(path, flags, *a)
    monkeypatch.setattr(os, "open", ro_open)
    with pytest.raises(InputError, match="Read-only file system"):
        with output_set(tmp_path / "ro"): pass
    assert not (tmp_path / "ro").exists()


def test_own_folder_not_replaced(tmp_path):
    "A folder with files but no manifest is refused unless force=True."
    own = tmp_path / "own"
    own.mkdir()
    (own / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not an mms_mp output set"):
        with output_set(own): pass
    assert (own / "notes.txt").read_text() == "mine"
    with output_set(own, force=True) as st: (st / "a.csv").write_text("x")
    assert set_files(own) == ["a.csv"]


def test_users_own_files_in_a_set_are_never_deleted(out):
    "A rerun into a set to which the user added files is refused (exit 2) and leaves everything; force replaces it."
    write_here(out, {"mp_analysis.json": "{}", "figures/mms1.png": "png"})
    (out / "NOTES.txt").write_text("mine")
    (out / "mine").mkdir(); (out / "mine" / "fit.py").write_text("mine too")
    with pytest.raises(InputError, match=r"does not list \(NOTES.txt, mine/fit.py\)") as e:
        with output_set(out): pass
    assert exit_code(e.value) == EXIT_USAGE
    assert (out / "NOTES.txt").read_text() == "mine" and (out / "figures" / "mms1.png").is_file()
    with output_set(out, force=True) as stage: (stage / "mp_analysis.json").write_text("{}")
    assert set_files(out) == ["mp_analysis.json"]


def test_a_signal_just_before_the_swap_leaves_no_staging_folder(out, monkeypatch):
    """A signal landing after the manifest is written but before the swap defers signals (a window of a few
    bytecodes, hit once in CI under load): OUT keeps the old set and the staging folder is removed."""
    import mms_mp.outset as outset
    before = snapshot(out)
    def interrupted(stage, o): raise KeyboardInterrupt   # as if SIGINT arrived on swap_in's first line
    monkeypatch.setattr(outset, "swap_in", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_here(out, {"mp_analysis.json": "{}"})
    assert snapshot(out) == before and check_set(out) == [] and siblings(out) == []


def test_lock_file_deleted_on_release_never_lets_two_writers_in(tmp_path):
    """The lock file is now deleted as its holder lets go (it was left beside every folder for good). Deleting it is
    safe only because a new holder checks that the name still leads to the file it locked: here 4 threads, each with
    its own open file, take and release the lock 300 times each, and never two hold it at once. Without that check
    (`_names` always True) this fails within a few hundred rounds on 2 cores."""
    import threading
    from mms_mp.outset import OutdirBusy, outdir_lock
    out, inside, seen, errors = tmp_path / "run", [0], [], []
    def writer():
        done = 0
        while done < 300:
            try:
                with outdir_lock(out):
                    inside[0] += 1
                    seen.append(inside[0])
                    time.sleep(0)
                    inside[0] -= 1
                done += 1
            except OutdirBusy: time.sleep(0)
            except Exception as e: errors.append(e); return
    ts = [threading.Thread(target=writer) for _ in range(4)]
    for t in ts: t.start()
    for t in ts: t.join()
    assert not errors and len(seen) == 1200 and max(seen) == 1
    assert not list(tmp_path.iterdir()), "no lock file left"
