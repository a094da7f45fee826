"""Whole-file writes that a reader or a crash never sees half done.

The one way tc0lab writes a file that others read while it runs (probe results and summaries,
job files, model checkpoints, the on-disk cache): the bytes go to a temporary file with a unique
name in the same folder, are flushed and fsynced, and the file is renamed over the target. A
reader sees the old file or the new one; concurrent writers never share a temporary file; an
interrupted write leaves at most a stray temporary file, never a truncated target.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Iterator


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[BinaryIO]:
    """A binary stream whose bytes replace `path` atomically when the block ends without error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically (unique temporary name, fsync, rename)."""
    with _replacing(path) as stream:
        stream.write(data)


def write_text(path: Path, text: str) -> None:
    """Replace `path` with UTF-8 `text` atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_with(path: Path, writer: Callable[[BinaryIO], None]) -> None:
    """Replace `path` with what `writer` writes to a binary stream (e.g. torch.save), atomically."""
    with _replacing(path) as stream:
        writer(stream)
