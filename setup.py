"""Packaging for mms_mp: every setting comes from settings.ini (nbdev 2 design card)."""
from configparser import ConfigParser
from pathlib import Path

import setuptools

here = Path(__file__).parent
cfg = ConfigParser(delimiters=["="])
cfg.read(here / "settings.ini", encoding="utf-8")
cfg = cfg["DEFAULT"]

for key in "version description keywords author author_email license min_python lib_name user".split():
    assert key in cfg, f"settings.ini is missing `{key}`"

statuses = ["1 - Planning", "2 - Pre-Alpha", "3 - Alpha", "4 - Beta", "5 - Production/Stable", "6 - Mature", "7 - Inactive"]
py_versions = "3.10 3.11 3.12 3.13".split()
min_python = cfg["min_python"]


def _reqs(key):
    # Requirements are space separated; an environment marker stays attached with `;` and no space.
    return cfg.get(key, "").split()


setuptools.setup(
    name=cfg["lib_name"],
    version=cfg["version"],
    description=cfg["description"],
    long_description=(here / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    author=cfg["author"],
    author_email=cfg["author_email"],
    license=cfg["license"],  # an SPDX expression (PEP 639); no license classifier
    url=cfg["git_url"],
    keywords=cfg["keywords"],
    classifiers=[
        "Development Status :: " + statuses[int(cfg["status"])],
        "Intended Audience :: " + cfg["audience"].title(),
        "Natural Language :: " + cfg["language"].title(),
        "Topic :: Scientific/Engineering :: Physics",
        "Topic :: Scientific/Engineering :: Astronomy",
    ] + ["Programming Language :: Python :: " + v for v in py_versions[py_versions.index(min_python):]],
    # resources/ (formation table) and reports/ (papermill template) are data folders: listed as packages so that
    # their files install with the code, and their files named explicitly.
    packages=setuptools.find_namespace_packages(include=[cfg["lib_name"], cfg["lib_name"] + ".*"]),
    package_data={cfg["lib_name"] + ".resources": ["*.csv", "*.json"], cfg["lib_name"] + ".reports": ["*.ipynb"]},
    install_requires=_reqs("requirements"),
    extras_require={"report": _reqs("report_requirements"), "batch": _reqs("batch_requirements"),
                    "fast": _reqs("fast_requirements"),
                    "dev": _reqs("dev_requirements") + _reqs("report_requirements") + _reqs("batch_requirements")
                           + _reqs("fast_requirements")},
    python_requires=">=" + min_python,
    zip_safe=False,
    entry_points={
        "console_scripts": cfg["console_scripts"].split(),
        "nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"],
    },
)
