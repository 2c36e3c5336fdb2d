"""Packaging for unictokens: every setting is read from settings.ini (nbdev's single source of truth)."""
from configparser import ConfigParser
from pathlib import Path

import setuptools

cfg_file = Path(__file__).parent / "settings.ini"
config = ConfigParser(delimiters=["="])
config.read(cfg_file, encoding="utf-8")
cfg = config["DEFAULT"]

required = ["version", "description", "keywords", "author", "author_email"]
missing = [k for k in required if not cfg.get(k)]
if missing:
    raise SystemExit(f"{cfg_file}: missing required field(s) {missing}")

licenses = {"apache2": ("Apache Software License 2.0", "OSI Approved :: Apache Software License")}
statuses = ["1 - Planning", "2 - Pre-Alpha", "3 - Alpha", "4 - Beta", "5 - Production/Stable", "6 - Mature", "7 - Inactive"]
py_versions = "3.10 3.11 3.12 3.13".split()
min_python = cfg["min_python"]
lic = licenses.get(cfg["license"].lower(), (cfg["license"], None))


def _version_tuple(v):
    return tuple(int(x) for x in v.split("."))


requirements = cfg.get("requirements", "").split()
dev_requirements = cfg.get("dev_requirements", "").split()
console_scripts = cfg.get("console_scripts", "").split()
readme = Path(__file__).parent / "README.md"

setuptools.setup(
    name=cfg["lib_name"],
    license=lic[0],
    classifiers=[
        "Development Status :: " + statuses[int(cfg["status"])],
        "Intended Audience :: " + cfg["audience"].title(),
        "Natural Language :: " + cfg["language"].title(),
    ]
    + ["Programming Language :: Python :: " + v for v in py_versions
       if _version_tuple(v) >= _version_tuple(min_python)]
    + (["License :: " + lic[1]] if lic[1] else []),
    url=cfg["git_url"],
    packages=setuptools.find_packages(include=["unictokens", "unictokens.*"]),
    include_package_data=True,
    package_data={"unictokens": ["assets/**/*"]},
    install_requires=requirements,
    extras_require={"dev": dev_requirements, "faces": ["insightface", "onnxruntime"]},
    dependency_links=cfg.get("dep_links", "").split(),
    python_requires=">=" + min_python,
    long_description=readme.read_text(encoding="utf-8") if readme.exists() else cfg["description"],
    long_description_content_type="text/markdown",
    zip_safe=False,
    entry_points={"console_scripts": console_scripts, "nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
    version=cfg["version"],
    description=cfg["description"],
    keywords=cfg["keywords"],
    author=cfg["author"],
    author_email=cfg["author_email"],
)
