"""Build the self-contained static site into ``static/``.

The site must run from any static host and offline, so everything it loads comes from its
own origin:

- Pyodide and PyScript are copied from ``node_modules`` (pinned in ``package-lock.json``);
- the ``micropip`` wheel, which the npm Pyodide does not ship, is fetched from PyPI once
  (cached in ``build/wheels``) and its entry in ``pyodide-lock.json`` is rewritten to the
  file's real sha256, or the browser's integrity check would refuse it;
- the engine (``py_src/pywebcodecs``) is packed as a pure-Python wheel, with bytecode
  compiled by Pyodide's own Python, that ``engine.mjs`` unpacks into site-packages (and
  PyScript installs with micropip) from the site itself;
- ``web/`` holds the pages; the PNG icons an installable app needs (192 and 512 px) are
  drawn from ``web/icon.svg``;
- the service worker gets the list of every file to precache, and the build's hash (of
  every file) is written into ``sw.js`` itself: the browser looks for a new version by
  comparing that script byte for byte, so without the hash installed users would keep
  the first version they saw forever.

Run: ``python build_scripts/build_site.py`` (``--out DIR`` to build elsewhere;
``--restamp DIR`` to re-list and re-hash a built site whose files were edited in place).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

from svg_icon import svg_to_png

REPO = Path(__file__).resolve().parents[1]
NODE_MODULES = REPO / "node_modules"
MICROPIP = "micropip==0.11.1"
ICON_SIZES = (192, 512)
_BUILD_LINE = re.compile(r'^const BUILD = "[^"]*";$', re.MULTILINE)
PYODIDE_FILES = [
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--out", type=Path, default=REPO / "static")
    target.add_argument(
        "--restamp", type=Path, metavar="DIR", help="only re-list and re-hash the site in DIR"
    )
    args = parser.parse_args(argv)
    if args.restamp is not None:
        print(f"{args.restamp}: build {stamp_service_worker(args.restamp)}")
        return 0
    build(args.out)
    print(f"built {args.out}")
    return 0


def build(out: Path) -> None:
    if not (NODE_MODULES / "pyodide" / "pyodide.mjs").exists():
        raise SystemExit("node_modules is missing: run `npm ci` first")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    copy_pyodide(out / "pyodide")
    copy_pyscript(out / "pyscript")
    wheel = build_engine_wheel(out / "packages")
    shutil.copytree(REPO / "web", out, dirs_exist_ok=True)
    write_site_config(out, wheel)
    draw_icons(out)
    stamp_service_worker(out)


def copy_pyodide(dest: Path) -> None:
    dest.mkdir(parents=True)
    for name in PYODIDE_FILES:
        shutil.copy2(NODE_MODULES / "pyodide" / name, dest / name)
    wheel = fetch_micropip()
    shutil.copy2(wheel, dest / wheel.name)
    lock_path = dest / "pyodide-lock.json"
    lock = json.loads(lock_path.read_text())
    entry = lock["packages"]["micropip"]
    entry["file_name"] = wheel.name
    entry["sha256"] = hashlib.sha256(wheel.read_bytes()).hexdigest()
    lock_path.write_text(json.dumps(lock))


def fetch_micropip() -> Path:
    cache = REPO / "build" / "wheels"
    found = sorted(cache.glob("micropip-*.whl"))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--python-version", "3.14", "--only-binary=:all:", MICROPIP, "-d", str(cache)],
            check=True,
        )  # fmt: skip
        found = sorted(cache.glob("micropip-*.whl"))
    return found[-1]


def copy_pyscript(dest: Path) -> None:
    dist = NODE_MODULES / "@pyscript" / "core" / "dist"
    shutil.copytree(dist, dest, ignore=shutil.ignore_patterns("*.map"))


def build_engine_wheel(dest: Path) -> Path:
    """Pack ``py_src/pywebcodecs`` as ``pywebcodecs-VERSION-py3-none-any.whl``.

    Written by hand (a wheel is a zip with a dist-info folder) because the browser wheel
    holds only the engine, not the host-side packages that share this pyproject.
    """
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    dist_info = f"pywebcodecs-{version}.dist-info"
    files: dict[str, bytes] = {}
    package = REPO / "py_src" / "pywebcodecs"
    for path in sorted(package.rglob("*.py")):
        files[path.relative_to(package.parent).as_posix()] = path.read_bytes()
    files.update(compile_for_pyodide(files))
    files[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: pywebcodecs\nVersion: {version}\n"
        "Summary: Media conversion in the browser with WebCodecs, driven from Python\n"
    ).encode()
    files[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: pywebcodecs build_site\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{dist_info}/top_level.txt"] = b"pywebcodecs\n"
    record = [f"{name},sha256={_record_hash(data)},{len(data)}" for name, data in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    dest.mkdir(parents=True, exist_ok=True)
    wheel = dest / f"pywebcodecs-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return wheel


def compile_for_pyodide(sources: dict[str, bytes]) -> dict[str, bytes]:
    """The ``__pycache__/*.pyc`` of ``sources`` (wheel path → bytes), written by Pyodide's
    own Python (``compile_pyc.mjs`` under node): without them the browser compiles every
    module at the engine's first import, about two thirds of that import's time."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, data in sources.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
        subprocess.run(["node", str(REPO / "build_scripts" / "compile_pyc.mjs"), tmp], check=True)
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.pyc"))}


def _record_hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_site_config(out: Path, wheel: Path) -> None:
    """The PyScript config and the engine loader's settings, naming this build's wheel."""
    wheel_url = f"./packages/{wheel.name}"
    pyscript = {"interpreter": "./pyodide/pyodide.mjs", "packages": [wheel_url]}
    (out / "pyscript.json").write_text(json.dumps(pyscript, indent=2))
    (out / "engine-config.json").write_text(json.dumps({"wheel": wheel_url}, indent=2))


def draw_icons(out: Path) -> None:
    """``icon-192.png`` and ``icon-512.png`` from ``icon.svg`` (the manifest lists them)."""
    for size in ICON_SIZES:
        (out / f"icon-{size}.png").write_bytes(svg_to_png(out / "icon.svg", size))


def stamp_service_worker(out: Path) -> str:
    """List every file for the service worker to precache, and write the build's hash
    into ``sw.js``; returns the hash.

    The hash covers every file but ``sw.js`` and ``precache.json`` (which only carry it),
    so rebuilding unchanged sources gives the same hash and leaves installed copies alone.
    """
    worker = out / "sw.js"
    files = sorted(
        "./" + p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and p.name != "precache.json"
    )
    digest = hashlib.sha256()
    for name in files:
        if out / name != worker:
            digest.update(name.encode() + b"\0")
            digest.update((out / name).read_bytes())
    build_hash = digest.hexdigest()[:16]
    (out / "precache.json").write_text(json.dumps({"version": build_hash, "files": files}))
    script, count = _BUILD_LINE.subn(f'const BUILD = "{build_hash}";', worker.read_text())
    if count != 1:
        raise SystemExit(f'{worker}: expected one `const BUILD = "…";` line to stamp')
    worker.write_text(script)
    return build_hash


if __name__ == "__main__":
    sys.exit(main())
