"""The ``tinydb`` backend: one TinyDB-compatible JSON file, loaded once, written once per transaction.

File format (readable by stock ``tinydb.TinyDB(path)``)::

    {"_crmkit":   {"1": {"format": 1, "meta": {...}, "counters": {"C": 12}}},
     "customers": {"12": {"id": "C-12", "version": 1, ...}, ...},
     "tickets":   {"3": {"id": "T-3", ...}}}

Every collection is a TinyDB table whose keys are the numbers of the record
ids, so ``TinyDB(path).table("customers").get(doc_id=12)`` finds ``C-12``.

How it stays safe (see ARCHITECTURE, "Reliability rules"):

- The file is read once per process and re-read only when its
  (inode, mtime, size) signature changes, i.e. another process committed.
- The outermost write transaction holds ``<path>.lock``, reloads if the file
  changed, applies its changes in memory, and commits by writing the whole file
  once: temp file, fsync, ``os.replace``, fsync of the directory. A crash at
  any point leaves either the old file or the new one.
- Anything that goes wrong rolls memory back and leaves the file untouched;
  a file that is not a crmkit store is never overwritten.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any, NoReturn

import filelock
import orjson
import tinydb.storages

from ..errors import Conflict, StorageError, ValidationError
from ..hookspecs import hookimpl
from ._engine import Engine, no_gc
from .base import BackendSpec, Document
from .url import parse_store_url

#: The version of the file layout described in the module docstring.
FORMAT = 1
#: The TinyDB table that holds crmkit's own bookkeeping (meta, counters).
META_TABLE = "_crmkit"

Signature = tuple[int, int, int]


def _reason(err: OSError) -> str:
    return err.strerror or str(err)


class AtomicJSONStorage(tinydb.storages.Storage):
    """A TinyDB storage that writes atomically and durably, using orjson.

    Usable by stock TinyDB too (``TinyDB(path, storage=AtomicJSONStorage)``).
    ``read()`` returns None for a missing file; every OS or JSON problem is a
    one-line :class:`StorageError` naming the path. New files are 0600.
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self._tmp_path = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.crmkit-tmp")

    def signature(self) -> Signature | None:
        """The file's (inode, mtime_ns, size), or None when it does not exist."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as err:
            raise StorageError(f"{self.path}: cannot read: {_reason(err)}") from None
        return self._check_stat(st)

    def _check_stat(self, st: os.stat_result) -> Signature:
        if stat.S_ISDIR(st.st_mode):
            raise StorageError(f"{self.path}: is a directory, not a crmkit store")
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def load(self) -> tuple[dict[str, Any] | None, Signature | None]:
        """Read and parse the file; return the data and the signature of exactly what was read."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None, None
        except OSError as err:
            raise StorageError(f"{self.path}: cannot read: {_reason(err)}") from None
        try:
            with os.fdopen(fd, "rb") as handle:
                signature = self._check_stat(os.fstat(handle.fileno()))
                raw = handle.read()
        except OSError as err:
            raise StorageError(f"{self.path}: cannot read: {_reason(err)}") from None
        if not raw.strip():
            raise StorageError(f"{self.path} is not a crmkit store: the file is empty")
        try:
            with no_gc():
                data = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            raise StorageError(f"{self.path} is not a crmkit store: not valid JSON ({err})") from None
        if not isinstance(data, dict):
            raise StorageError(f"{self.path} is not a crmkit store: the top level is not a JSON object")
        return data, signature

    def read(self) -> dict[str, dict[str, Any]] | None:
        """TinyDB's read: the parsed file, or None when it does not exist."""
        return self.load()[0]

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """TinyDB's write: replace the file atomically (see :meth:`save`)."""
        self.save(data)

    def save(self, data: dict[str, Any]) -> Signature:
        """Write ``data`` to a temp file, fsync, rename over the file, fsync the directory.

        Returns the new file's signature. The caller must hold the store's lock:
        the temp file name is fixed, so a leftover from a killed writer is
        simply replaced.
        """
        with no_gc():
            payload = orjson.dumps(data)
        try:
            mode = stat.S_IMODE(os.stat(self.path).st_mode)
        except FileNotFoundError:
            mode = 0o600
        except OSError as err:
            raise StorageError(f"{self.path}: cannot write: {_reason(err)}") from None
        try:
            try:
                os.unlink(self._tmp_path)
            except FileNotFoundError:
                pass
            # O_EXCL: never follow a planted symlink; 0600 before any byte is written.
            fd = os.open(self._tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as err:
            raise StorageError(f"{self.path}: cannot write: {_reason(err)}") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                if mode != 0o600 and hasattr(os, "fchmod"):
                    os.fchmod(handle.fileno(), mode)  # keep the permissions the owner chose
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
                signature = self._check_stat(os.fstat(handle.fileno()))
            os.replace(self._tmp_path, self.path)
        except OSError as err:
            try:
                os.unlink(self._tmp_path)
            except OSError:
                pass  # the next writer removes it under the lock
            raise StorageError(f"{self.path}: cannot write: {_reason(err)}") from None
        self._fsync_directory()
        return signature

    def _fsync_directory(self) -> None:
        # Makes the rename itself durable. Some filesystems cannot fsync a
        # directory (EINVAL), and Windows cannot open one; there the rename is
        # as durable as it gets.
        if os.name == "nt":
            return
        try:
            dir_fd = os.open(os.path.dirname(self.path), os.O_RDONLY)
        except OSError as err:
            raise StorageError(f"{self.path}: cannot sync directory: {_reason(err)}") from None
        try:
            os.fsync(dir_fd)
        except OSError as err:
            if err.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
                raise StorageError(f"{self.path}: cannot sync directory: {_reason(err)}") from None
        finally:
            os.close(dir_fd)


def _file_key(record_id: str) -> str:
    # Ids are validated as PREFIX-N with no leading zeros, so this is str(N).
    return record_id[record_id.index("-") + 1 :]


class TinyDBStore(Engine):
    """The default backend: a JSON file on disk, shared safely between processes."""

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float = 30.0) -> None:
        # Resolve symlinks: the rename must replace the real file, not the link,
        # and every process must lock the same lock file.
        self.path = Path(os.path.realpath(os.path.abspath(os.fspath(path))))
        super().__init__(url=f"tinydb://{self.path}")
        parent = self.path.parent
        try:
            parent_is_dir = stat.S_ISDIR(os.stat(parent).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            parent_is_dir = False
        except OSError as err:
            raise StorageError(f"{self.path}: cannot open: {_reason(err)}") from None
        if not parent_is_dir:
            raise StorageError(f"{self.path}: directory {parent} does not exist")
        self._file = AtomicJSONStorage(str(self.path))
        self._lock = filelock.FileLock(f"{self.path}.lock", timeout=lock_timeout, mode=0o600)
        self._lock_timeout = lock_timeout
        self._loaded = False
        self._signature: Signature | None = None
        # Tables whose names start with "_" other than ours: kept and written back untouched.
        self._extra_tables: dict[str, Any] = {}
        # Per collection, id number -> id, to refuse "X-12" next to "C-12" (one TinyDB key).
        self._numbers: dict[str, dict[str, str]] = {}

    # -- loading -----------------------------------------------------------

    def _refresh(self) -> None:
        signature = self._file.signature()
        if self._loaded and signature == self._signature:
            return
        data, signature = self._file.load() if signature is not None else (None, None)
        with no_gc():
            self._decode(data)
        self._signature = signature
        self._loaded = True

    def _decode(self, data: dict[str, Any] | None) -> None:
        collections: dict[str, dict[str, Document]] = {}
        meta: dict[str, Any] = {}
        counters: dict[str, int] = {}
        extra: dict[str, Any] = {}
        if data is not None:
            meta, counters = self._decode_header(data.get(META_TABLE))
            for name, table in data.items():
                if name == META_TABLE:
                    continue
                if name.startswith("_"):
                    extra[name] = table
                    continue
                if not isinstance(table, dict):
                    self._not_a_store(f"table {name!r} is not a JSON object")
                docs: dict[str, Document] = {}
                for key, doc in table.items():
                    record_id = doc.get("id") if isinstance(doc, dict) else None
                    if not isinstance(record_id, str):
                        self._not_a_store(f"document {key} in table {name!r} has no id")
                    docs[record_id] = doc
                collections[name] = docs
        self._set_state(collections, meta, counters)
        self._extra_tables = extra
        self._numbers.clear()

    def _decode_header(self, table: Any) -> tuple[dict[str, Any], dict[str, int]]:
        if not isinstance(table, dict):
            self._not_a_store(f"no {META_TABLE} table")
        header = table.get("1")
        if not isinstance(header, dict):
            self._not_a_store(f"no document 1 in the {META_TABLE} table")
        if header.get("format") != FORMAT:
            self._not_a_store(f"unknown format {header.get('format')!r} (this crmkit reads format {FORMAT})")
        meta, counters = header.get("meta", {}), header.get("counters", {})
        if not isinstance(meta, dict) or not isinstance(counters, dict):
            self._not_a_store("meta and counters must be JSON objects")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in counters.values()):
            self._not_a_store("id counters must be numbers")
        return meta, counters

    def _not_a_store(self, reason: str) -> NoReturn:
        raise StorageError(f"{self.path} is not a crmkit store: {reason}")

    def _encode(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            META_TABLE: {"1": {"format": FORMAT, "meta": self._meta, "counters": self._counters}}
        }
        data.update(self._extra_tables)
        for name, docs in self._data.items():
            if docs:
                data[name] = {_file_key(record_id): doc for record_id, doc in docs.items()}
        return data

    # -- transaction hooks -------------------------------------------------

    def _begin(self) -> None:
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise StorageError(
                f"{self.path}: locked by another process for more than {self._lock_timeout:g} s"
            ) from None
        except OSError as err:
            raise StorageError(f"{self.path}: cannot lock {self._lock.lock_file}: {_reason(err)}") from None
        try:
            self._refresh()  # another process may have committed since we last looked
        except BaseException:
            self._lock.release()
            raise

    def _commit(self) -> None:
        try:
            with no_gc():
                data = self._encode()
            self._signature = self._file.save(data)
        except BaseException:
            # Memory is about to be rolled back; if the rename did happen the
            # file is newer than memory, so look at it again next time.
            self._loaded = False
            raise

    def _end(self) -> None:
        self._lock.release()

    def _check_insert(self, collection: str, docs: list[Document]) -> None:
        numbers = self._numbers.get(collection)
        stored = self._data.get(collection, {})
        # Inserts add to the map and nothing removes from it, so it always holds
        # every stored number: equal sizes mean equal contents. Deletes and
        # rollbacks leave extras behind, and the size check rebuilds it then.
        if numbers is None or len(numbers) != len(stored):
            numbers = {_file_key(record_id): record_id for record_id in stored}
            self._numbers[collection] = numbers
        keys = [(_file_key(doc["id"]), doc["id"]) for doc in docs]
        for key, record_id in keys:
            if key in numbers:
                raise Conflict(record_id, f"{numbers[key]} already uses number {key} in {collection} (one TinyDB doc_id)")
        numbers.update(keys)

    # -- the rest of the contract ------------------------------------------

    def exists(self) -> bool:
        """Whether the file exists (and is a crmkit store: anything else raises ``StorageError``)."""
        self._check_open()
        if not self._order_saved:
            self._refresh()
        return self._signature is not None

    def close(self) -> None:
        """Forget the in-memory copy; the file is closed already (it is never held open)."""
        super().close()
        self._file.close()


def open_tinydb(url: str) -> TinyDBStore:
    """Open the tinydb store named by ``tinydb:///path`` or a bare path."""
    scheme, location = parse_store_url(url)
    if scheme != "tinydb":
        raise ValidationError("db", url, "the tinydb backend serves tinydb:// URLs and bare paths")
    return TinyDBStore(location)


@hookimpl
def crmkit_storage_backends() -> list[BackendSpec]:
    """Contribute the ``tinydb`` backend (also used for bare paths)."""
    return [
        BackendSpec(
            scheme="tinydb",
            open=open_tinydb,
            description="One JSON file (TinyDB format), no server: the default for small teams.",
        )
    ]
