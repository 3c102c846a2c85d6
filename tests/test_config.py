"""Configuration files as a new user writes them: every key's value checked when the file is read (exit 2)."""
import pytest

from mms_mp.cli import build_parser, event_config, main
from mms_mp.config import check_sections, load_config
from mms_mp.core import InputError

TR = ["--start", "2019-01-27T12:15", "--end", "2019-01-27T12:20"]


def _cfg(tmp_path, text):
    p = tmp_path / "event.toml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("value, want", [("1", ["1"]), ('"mms1"', ["1"]), ('"1"', ["1"]), ('"1,2"', ["1", "2"]),
                                         ('"1 2"', ["1", "2"]), ('[1, "mms2", "3,4"]', ["1", "2", "3", "4"]),
                                         ('["2", 2]', ["2"])])
def test_config_probes_normalised(tmp_path, value, want):
    "`probes = 1` crashed analyze with TypeError (exit 4); `probes = \"mms1\"` was split into letters."
    p = _cfg(tmp_path, f"probes = {value}\n")
    assert load_config(p)["probes"] == want
    assert event_config(build_parser().parse_args(["analyze", *TR, "--config", str(p)]))["probes"] == want


@pytest.mark.parametrize("value", ["5", '"m"', "[]", '"mms5"', "[1, 1.5]", '""'])
def test_config_bad_probes_are_usage_errors(tmp_path, capsys, value):
    p = _cfg(tmp_path, f'source = "local"\nprobes = {value}\n')
    with pytest.raises(InputError, match="probes"):
        load_config(p)
    assert main(["analyze", *TR, "--config", str(p), "--quiet", "--outdir", str(tmp_path / "o")]) == 2
    assert "bad input" in capsys.readouterr().err


@pytest.mark.parametrize("section, key, value", [("vn", "cadence", "-3"), ("vn", "cadence", '"fast"'),
                                                 ("vn", "cadence", "0"), ("vn", "align_to", '"banana"'),
                                                 ("timing", "seed", "-1"), ("detector", "tilt_step_deg", "0"),
                                                 ("detector", "he_frac_min", "2.0"),
                                                 ("detector", "min_density_ratio", "0.5")])
def test_config_section_values_checked_before_data(tmp_path, capsys, section, key, value):
    "`[vn] cadence = -3` passed the check and failed the vn stage as 'no V_N (no plasma or E data)', exit 5."
    p = _cfg(tmp_path, f'source = "local"\n[{section}]\n{key} = {value}\n')
    with pytest.raises(InputError, match=rf"\[{section}\] {key} = "):
        check_sections(load_config(p))
    empty = tmp_path / "empty"
    empty.mkdir()   # no data at all: a config error must be reported before the data are looked at
    assert main(["analyze", *TR, "--config", str(p), "--data-dir", str(empty), "--quiet",
                 "--outdir", str(tmp_path / "o")]) == 2
    assert f"[{section}] {key}" in capsys.readouterr().err


@pytest.mark.parametrize("section, key, value", [("vn", "cadence", '"4.5s"'), ("vn", "cadence", "0.15"),
                                                 ("vn", "align_to", '"FPI ions"'), ("vn", "align_to", '"auto"'),
                                                 ("timing", "seed", "7"), ("detector", "tilt_step_deg", "0.5")])
def test_config_good_section_values_pass(tmp_path, section, key, value):
    p = _cfg(tmp_path, f"[{section}]\n{key} = {value}\n")
    assert check_sections(load_config(p))[section][key] is not None


@pytest.mark.parametrize("text, match", [('start = "banana"\n', "start = 'banana'"),
                                         ('end = "2019-13-45"\n', "end = '2019-13-45'"),
                                         ('start = "2019-01-27T12:55"\nend = "2019-01-27T12:15"\n', "not before end")])
def test_config_times_read_when_the_file_is_read(tmp_path, text, match):
    with pytest.raises(InputError, match=match):
        load_config(_cfg(tmp_path, text))


def test_vn_sigma_n_rad_is_refused_with_where_to_set_it():
    "[vn] sigma_n_rad put n̂'s error into the blend's shared σ, and the displacement added it again: twice."
    from mms_mp.config import check_sections
    with pytest.raises(InputError, match=r"\[vn\] sigma_n_rad: .* use \[displacement\] sigma_n_rad"):
        check_sections({"vn": {"sigma_n_rad": 0.05}})
    check_sections({"displacement": {"sigma_n_rad": 0.05}})


def test_config_data_dir_tilde_is_the_home_folder(tmp_path, monkeypatch, capsys):
    "`data_dir = \"~/mms_data\"` (the CLI page's example) was read literally: exit 2, 'data_dir ~/mms_data is not a folder'."
    from pathlib import Path
    real = Path(__file__).parent / "fixtures" / "real"
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "mms_data").symlink_to(real.resolve(), target_is_directory=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    p = _cfg(tmp_path, 'data_dir = "~/mms_data"\noutdir = "~/out"\nsource = "local"\nprobes = 1\nrate = "brst"\n'
                       'start = "2015-09-02T16:58:44"\nend = "2015-09-02T17:07:04"\n')
    assert load_config(p)["data_dir"] == str(tmp_path / "home" / "mms_data")
    assert main(["analyze", "--config", str(p), "--quiet"]) == 0, capsys.readouterr().err
    assert (tmp_path / "home" / "out" / "mp_analysis.json").is_file()
