"""`mms-mp` options given as an empty string (an unset shell variable: `--outdir "$OUT"`): each is refused
with exit 2 and a message naming the option, instead of falling back to a default folder (./results, ./pydata)
or ignoring the option (`--config ""`)."""
import pytest

from mms_mp.cli import main

TR = ["--start", "2015-09-02T16:58:44", "--end", "2015-09-02T17:07:04"]


@pytest.mark.parametrize("argv, option", [
    (["analyze", *TR, "--outdir", ""], "--outdir"),
    (["analyze", *TR, "--data-dir", " "], "--data-dir"),
    (["analyze", *TR, "--config", ""], "--config"),
    (["analyze", *TR, "--overlay-json", ""], "--overlay-json"),
    (["report", *TR, "--out", ""], "--out"),
    (["demo", "--outdir", ""], "--outdir"),
    (["batch", "", "--out", "x"], "events"),
])
def test_empty_path_option_is_refused(argv, option, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{option} is empty" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []   # nothing written, not even a lock file
