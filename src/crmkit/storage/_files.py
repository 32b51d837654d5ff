"""What the file backends share: where a store file really is, and OS errors as one line."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import StorageError


def reason(err: OSError) -> str:
    """The OS's own words for an error, without the errno and path noise."""
    return err.strerror or str(err)


def store_file(path: str | os.PathLike[str]) -> Path:
    """The store file's real path (symlinks resolved), after checking that its directory exists.

    Resolving matters: a rename must replace the real file rather than the
    link, and every process must find the same lock and sibling files.
    """
    resolved = Path(os.path.realpath(os.path.abspath(os.fspath(path))))
    parent = resolved.parent
    try:
        parent_is_dir = stat.S_ISDIR(os.stat(parent).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        parent_is_dir = False
    except OSError as err:
        raise StorageError(f"{resolved}: cannot open: {reason(err)}") from None
    if not parent_is_dir:
        raise StorageError(f"{resolved}: directory {parent} does not exist")
    return resolved
