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


def _every_section_parameter():
    "Each parameter a section may set, at its default (None too), unless the config refuses it there."
    from mms_mp.config import SECTION_TARGETS, param_annotations, section_params
    cfg, refused = {}, []
    for sec, (target, own) in SECTION_TARGETS.items():
        ann = param_annotations(target)
        for k in sorted(section_params(target, own)):
            try: check_sections({sec: {k: ann[k][1]}})
            except InputError: refused.append((sec, k))
            else: cfg.setdefault(sec, {})[k] = ann[k][1]
    return cfg, refused


def test_every_section_parameter_is_refused_or_runs():
    """`[displacement] sigma_sys_v` passed the config, and then displacement and crossing_vn failed with TypeError
    (the stage passes it itself). Every section parameter is set at once, at its default: each is either refused
    when the configuration is read or reaches its stage, and no stage fails (SIMULATED 2019-01-27, MMS1 and 2)."""
    from mms_mp.pipeline import analyze
    from mms_mp.synthetic import demo_event_dir
    cfg, refused = _every_section_parameter()
    assert refused == [("vn", "sigma_n_rad")]   # the one a message sends to [displacement]
    cfg["context"]["windows"] = 0.5   # 0 would skip the context's call
    res = analyze(("2019-01-27T12:15", "2019-01-27T12:35"), ["1", "2"], source="local",
                  data_dir=demo_event_dir(), config=cfg)
    bad = {k: v.reason for k, v in res.status.items() if v.status != "ok"}
    assert bad == {}
    # the stages that take a section ran their call: context loaded, the B_N prior and the timing formed
    assert res.context is not None and res.bn_prior is not None and res.timing is not None


def test_every_section_parameter_has_a_type():
    "An unannotated parameter (sigma_sys_v) took any value, 'abc' and [1, 2] too: every parameter has a type."
    from mms_mp.config import SECTION_TARGETS, annotation_types, param_annotations, section_params
    untyped = [(s, k) for s, (t, own) in SECTION_TARGETS.items() for k in section_params(t, own)
               if not annotation_types(*param_annotations(t)[k])]
    assert untyped == []


@pytest.mark.parametrize("section, key, value, why", [
    ("lmn", "bz_nT", "500", "nT: the solar wind's IMF Bz"), ("lmn", "bz_nT", "1e300", "≥ -100 and ≤ 100"),
    ("lmn", "dp_nPa", "1e-5", "typically 1–10 nPa"), ("lmn", "dp_nPa", "500", "≤ 100"),
    ("context", "windows", "1e5", "≤ 10 (window lengths"), ("context", "windows", "1e12", "≤ 10"),
    ("detector", "smooth_s", "1e300", "≤ 3600 (s:"), ("detector", "grid_dt_s", "1e-300", "≥ 0.001"),
    ("displacement", "sigma_sys_v", "1.0", "unknown parameter(s) ['sigma_sys_v']")])
def test_out_of_range_physical_inputs_are_usage_errors(tmp_path, capsys, section, key, value, why):
    """`[lmn] bz_nT = 500` gave a confident tailward 'outward' normal; `[context] windows = 1e12` an OverflowError
    (exit 4); `[detector] smooth_s = 1e300` numpy's 'Maximum allowed dimension exceeded' (exit 5): each is now
    exit 2 before any data are read, with the range and why."""
    p = _cfg(tmp_path, f'source = "local"\n[{section}]\n{key} = {value}\n')
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["analyze", *TR, "--config", str(p), "--data-dir", str(empty), "--quiet",
                 "--outdir", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "bad input" in err and why in err and "Traceback" not in err


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_config_file_not_utf8_is_a_usage_error(tmp_path, capsys, encoding):
    "A config saved as UTF-16 (Windows 'Unicode text') was exit 4 'analysis failed: UnicodeDecodeError'."
    p = tmp_path / "event.toml"
    p.write_text('source = "local"  # Überprüfung\n', encoding=encoding)
    assert main(["analyze", *TR, "--config", str(p), "--quiet", "--outdir", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"config file {p} is not UTF-8 text" in err and "save it as UTF-8" in err


@pytest.mark.parametrize("sec, key, value, words", [
    ("vn", "scatter_window", 100000, "≤ 1000"), ("timing", "n_mc", 10**12, "≤ 100000"),
    ("detector", "min_dwell_s", 1e300, "≤ 3600")])
def test_unbounded_work_parameters_have_an_upper_bound(sec, key, value, words):
    """scatter_window = 1e5 ran out of memory (a running median quadratic in it), n_mc = 1e12 asked for 44 TiB (exit 5),
    min_dwell_s = 1e300 silently merged every crossing: each is now a usage error naming its bound and unit."""
    from mms_mp.config import check_sections
    with pytest.raises(InputError, match=f"\\[{sec}\\] {key} = .*{words}"):
        check_sections({sec: {key: value}})
