"""Export and import records: the library calls behind ``crmkit export`` and ``crmkit import``.

Scripts and the CLI call the same functions::

    with open("customers.csv", "w", encoding="utf-8", newline="") as fp:
        export_records(crm, "customers", fp, format="csv")
    report = import_records(crm, "customers.csv", record_type="customers", mode="upsert", match_on="email")

Nothing here prints. Errors are :class:`~crmkit.errors.CrmkitError` subclasses:
``ValidationError`` for a bad argument or an unreadable file, and
``ImportRowsError`` (carrying every bad row's line and reason) when an import
found bad rows and wrote nothing.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import itertools
import json
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import pluggy

from ..config import CONFIG_NAME
from ..entities import RECORD_TYPES, entity, link_columns
from ..errors import ValidationError
from ..privacy import mask_documents
from ..registry import registry
from ..storage.url import parse_store_url
from ._importer import ImportOptions, ImportReport, import_groups
from .base import NAME_PARTS, ROW_ERROR, ExporterSpec, ImporterSpec, ImportPreset
from .csv_format import write_csv
from .records import MODELS, columns, flatten, is_column

#: The order in which ``all`` is imported: a record type after the ones it refers to
#: (an interaction may point at a ticket), so every link can be checked.
IMPORT_ORDER = RECORD_TYPES
MODES = ("create", "upsert", "update")
MATCH_KEYS = ("email", "phone", "external_id")
#: How many rows pass between two ``progress`` calls.
CHUNK = 500

Progress = Callable[[int], None] | None
Source = str | Path | IO[str]

__all__ = [
    "IMPORT_ORDER", "RECORD_TYPES", "ImportReport", "check_output_dir", "check_output_path", "export_all_to_dir",
    "export_records", "export_to_path", "import_records", "read_rows", "store_paths",
]


# -- output paths ---------------------------------------------------------------------

#: Store backends whose URL location is a file path.
FILE_BACKENDS = ("tinydb", "sqlite")
#: Files a store keeps beside its main file (SQLite's journal and shared memory).
STORE_SIBLINGS = ("-wal", "-shm", "-journal")


def store_paths(crm: Any) -> list[Path]:
    """The paths of the store's main file(s) on disk, resolved; empty for ``memory://`` or a server.

    Taken from ``crm.storage.url`` (file backends: tinydb, sqlite), plus the
    backend's ``path`` and ``files()`` when it has them.
    """
    storage = crm.storage
    found: list[str] = []
    url = getattr(storage, "url", "") or ""
    try:
        scheme, location = parse_store_url(url) if url else ("", "")
    except ValidationError:
        scheme, location = "", ""
    if scheme in FILE_BACKENDS and location and location != ":memory:":
        found.append(location.removeprefix("file:").split("?", 1)[0])
    path = getattr(storage, "path", None)
    if isinstance(path, (str, os.PathLike)):
        found.append(os.fspath(path))
    listed = getattr(storage, "files", None)
    if callable(listed):
        with contextlib.suppress(Exception):
            found.extend(os.fspath(p) for p in listed())
    return list(dict.fromkeys(Path(os.path.realpath(os.path.expanduser(p))) for p in found if p))


def _same_file(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)  # hard links, case-insensitive file systems
    except OSError:
        return False


def _belongs_to(path: Path, store: Path) -> bool:
    """Whether ``path`` is the store's file or one it keeps: lock, temp, ``-wal``, ``<store>.d/...``."""
    if _same_file(path, store) or str(path).startswith(str(store)):
        return True  # crm.json.lock, crm.json-wal, crm.json.d/..., a folder store's files
    if path.parent == store.parent and path.name == f".{store.name}.crmkit-tmp":
        return True  # the temp file the store commits through
    return any(_same_file(path, store.with_name(store.name + suffix)) for suffix in (".lock", *STORE_SIBLINGS))


def check_output_path(crm: Any, path: str | os.PathLike[str]) -> Path | None:
    """Refuse to write an export (or a rejects file) over the store or its settings; return the path.

    ``path`` is refused with ``ValidationError("output", path, ...)`` when it is
    the open store's file or any file that belongs to it (its lock file, a
    SQLite ``-wal``/``-shm`` file, anything under ``<store>.d/`` or named with
    the store's path as prefix), or a ``crmkit.toml``. Symbolic and hard links
    are followed. ``"-"`` (stdout) is always fine and gives None. Call it
    before opening the file: opening for writing already empties it.
    """
    if os.fspath(path) == "-":
        return None
    target = Path(os.path.realpath(os.path.expanduser(os.fspath(path))))
    for store in store_paths(crm):
        if _belongs_to(target, store):
            raise ValidationError("output", os.fspath(path), f"is the store itself or one of its files ({store}); "
                                                             "write the export to another file")
    if target.name.casefold() == CONFIG_NAME or Path(os.fspath(path)).name.casefold() == CONFIG_NAME:
        raise ValidationError("output", os.fspath(path), f"is a crmkit settings file ({CONFIG_NAME}); "
                                                         "write the export to another file")
    return Path(os.fspath(path))


def check_output_dir(crm: Any, folder: str | os.PathLike[str]) -> Path:
    """Refuse a folder for :func:`export_all_to_dir` that is (or is inside) the store's own data.

    That is the store itself, its ``<store>.d/`` directory, or any path with the
    store's path as prefix; raises ``ValidationError("output", folder, ...)``.
    """
    target = Path(os.path.realpath(os.path.expanduser(os.fspath(folder))))
    for store in store_paths(crm):
        if _belongs_to(target, store) or any(_belongs_to(parent, store) for parent in target.parents):
            raise ValidationError("output", os.fspath(folder), f"is the store itself or its data directory "
                                                               f"({store}); write the export to another folder")
    return Path(os.fspath(folder))


# -- export ---------------------------------------------------------------------------


def _service(crm: Any, record_type: str) -> Any:
    if record_type not in RECORD_TYPES:
        raise ValidationError("record_type", record_type, f"must be one of {', '.join(RECORD_TYPES)} or all")
    return entity(record_type).service(crm)


def _docs(crm: Any, record_type: str, where: Any = None, sort: Any = None, limit: int | None = None, *,
          reveal_sensitive: bool = False) -> list[dict]:
    # Stored documents straight from the store: they already are the converter's
    # output, so the model round trip that ``find`` does would only cost time.
    service = _service(crm, record_type)
    if limit is not None and limit < 0:
        raise ValidationError("limit", limit, "must be zero or more")
    docs = crm.storage.scan(service.collection, service.compile_where(where), service.compile_sort(sort), limit)
    return docs if reveal_sensitive else mask_documents(docs, crm.profile, record_type)


def _counting(rows: Iterable[Any], progress: Progress) -> Iterator[Any]:
    pending = 0
    for row in rows:
        yield row
        pending += 1
        if progress is not None and pending == CHUNK:
            progress(pending)
            pending = 0
    if progress is not None and pending:
        progress(pending)


def _flat_rows(crm: Any, record_type: str, docs: list[dict]) -> tuple[list[dict[str, str]], list[str]]:
    model = MODELS[record_type]
    rows = [flatten(doc, model) for doc in docs]
    for field, (column, target, key) in link_columns(record_type).items():
        # The readable key beside the reference (the customer's first email), so an
        # edited file re-imports into a store whose ids differ.
        ids = list(dict.fromkeys(doc[field] for doc in docs if doc.get(field)))
        keys = {d["id"]: (d.get(key) or [""])[0] if isinstance(d.get(key), list) else str(d.get(key) or "")
                for d in crm.storage.get_many(target, ids)}
        for row, doc in zip(rows, docs):
            row[column] = keys.get(doc.get(field) or "", "")
    return rows, columns(model, docs)


def export_records(crm: Any, record_type: str, fp: IO[str], *, format: str, where: Any = None, sort: Any = None,
                   limit: int | None = None, progress: Progress = None, reveal_sensitive: bool = False) -> int:
    """Write the records of one type (or ``"all"``) to ``fp`` in ``format``; return how many were written.

    ``where`` (``--where`` text or a filter), ``sort`` (``"-opened_at,name"``)
    and ``limit`` select the records, in insertion order by default. Flat
    formats (csv) get one text cell per column (see :mod:`crmkit.io.records`);
    json and jsonl keep the stored form. ``record_type="all"`` writes every
    type into one file, for formats that can (json: ``{"customers": [...],
    ...}``; jsonl: ``{"type": ..., "record": ...}`` lines); csv refuses it, use
    :func:`export_all_to_dir`. ``progress(n)`` is called as rows are written.
    The profile's sensitive custom fields are masked (see :mod:`crmkit.privacy`)
    unless ``reveal_sensitive``. Open ``fp`` with ``newline=""`` for csv.
    """
    exporter: ExporterSpec = registry(crm.pm, "exporter").get(format, "format")
    if record_type == "all":
        if exporter.write_all is None:
            raise ValidationError("record_type", "all", f"a {format} file holds one record type; export each type, "
                                                        "or use export_all_to_dir for a folder of files")
        if where or sort or limit is not None:
            raise ValidationError("where", where, "where, sort and limit select records of one type, not all")
        groups = {t: _docs(crm, t, reveal_sensitive=reveal_sensitive) for t in RECORD_TYPES}
        total = sum(len(docs) for docs in groups.values())
        if exporter.flat:
            raise ValidationError("format", format, "a flat format cannot hold several record types")
        exporter.write_all(fp, {t: _counting(docs, progress) for t, docs in groups.items()})
        return total
    docs = _docs(crm, record_type, where, sort, limit, reveal_sensitive=reveal_sensitive)
    if exporter.flat:
        rows, cols = _flat_rows(crm, record_type, docs)
        exporter.write(fp, _counting(rows, progress), cols)
    else:
        exporter.write(fp, _counting(docs, progress), [])
    return len(docs)


def export_to_path(crm: Any, record_type: str, path: str | os.PathLike[str], *, format: str, where: Any = None,
                   sort: Any = None, limit: int | None = None, progress: Progress = None,
                   reveal_sensitive: bool = False) -> int:
    """:func:`export_records` into the file ``path``; return how many records were written.

    The path is checked first with :func:`check_output_path` (never the store
    or its settings). The records go to a temp file beside it that replaces
    ``path`` only when the export succeeded, so a failed export leaves any old
    file as it was. A file that cannot be written raises ``ValidationError("output", ...)``.
    """
    target = check_output_path(crm, path)
    if target is None:
        raise ValidationError("output", "-", "export_to_path writes a file; use export_records for stdout")
    temp = target.with_name(f".{target.name}.crmkit-tmp")
    check_output_path(crm, temp)
    try:
        # newline="": the csv writer chooses line endings, even inside quoted cells.
        fp = temp.open("w", encoding="utf-8", newline="")
    except OSError as err:
        raise ValidationError("output", os.fspath(path), f"cannot be written: {err.strerror or err}") from None
    try:
        with fp:
            count = export_records(crm, record_type, fp, format=format, where=where, sort=sort, limit=limit,
                                   progress=progress, reveal_sensitive=reveal_sensitive)
        os.replace(temp, target)
    except OSError as err:
        raise ValidationError("output", os.fspath(path), f"cannot be written: {err.strerror or err}") from None
    finally:
        temp.unlink(missing_ok=True)
    return count


def export_all_to_dir(crm: Any, folder: Path, *, format: str = "csv",
                      reveal_sensitive: bool = False) -> dict[str, int]:
    """Write each record type to its own file in ``folder`` (``customers.csv``, ...); return the counts.

    The folder is created if needed and existing files of those names are
    replaced. A folder that is the store's own data (see
    :func:`check_output_dir`), or a file name that belongs to the store, is
    refused before anything is written.
    """
    exporter: ExporterSpec = registry(crm.pm, "exporter").get(format, "format")
    folder = check_output_dir(crm, folder)
    paths = {t: folder / f"{t}{exporter.suffix or '.' + format}" for t in RECORD_TYPES}
    for path in paths.values():
        check_output_path(crm, path)
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for record_type, path in paths.items():
        with path.open("w", encoding="utf-8", newline="") as fp:
            counts[record_type] = export_records(crm, record_type, fp, format=format,
                                                 reveal_sensitive=reveal_sensitive)
    return counts


# -- reading --------------------------------------------------------------------------


def _importer_for(pm: pluggy.PluginManager, source: Source, format: str | None) -> ImporterSpec:
    importers = registry(pm, "importer")
    if format:
        return importers.get(format, "format")
    name = source if isinstance(source, (str, Path)) else getattr(source, "name", "")
    suffix = Path(str(name)).suffix.lower() if name and str(name) != "-" else ""
    for spec in importers.values():
        if suffix and suffix in spec.suffixes:
            return spec
    raise ValidationError("format", str(name) or "-", f"cannot tell the format from the file name; pass a format "
                                                      f"({', '.join(importers.names())})")


@contextlib.contextmanager
def _opened(source: Source) -> Iterator[IO[str]]:
    if not isinstance(source, (str, Path)):
        yield source
        return
    if str(source) == "-":
        # Wrap stdin's bytes ourselves: the console encoding may not be UTF-8,
        # and a BOM must be dropped. Detach so that stdin stays open afterwards.
        wrapper = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
        try:
            yield wrapper
        finally:
            wrapper.detach()
        return
    path = Path(source)
    try:
        fp = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise ValidationError("file", str(path), "does not exist") from None
    except IsADirectoryError:
        raise ValidationError("file", str(path), "is a directory") from None
    except OSError as err:
        raise ValidationError("file", str(path), f"cannot be read: {err.strerror}") from None
    with fp:
        yield fp


def _default_pm() -> pluggy.PluginManager:
    from ..plugins import make_plugin_manager

    return make_plugin_manager()


def read_rows(path_or_fp: Source, format: str | None = None, pm: pluggy.PluginManager | None = None,
              ) -> tuple[list[tuple[int, dict[str, Any]]], str]:
    """Read a file into ``(line, row)`` pairs and return them with the format used.

    ``path_or_fp`` is a path, ``"-"`` for stdin, or an open text file. The
    format is guessed from the suffix through the importer registry unless
    given; stdin needs it. A row the reader could not read carries the reason
    under :data:`~crmkit.io.base.ROW_ERROR`. ``pm`` defaults to a plugin
    manager with the installed plugins.
    """
    spec = _importer_for(pm or _default_pm(), path_or_fp, format)
    with _opened(path_or_fp) as fp:
        return list(spec.read(fp)), spec.format


# -- import ---------------------------------------------------------------------------


def _check_options(record_type: str, mode: str, match_on: str | None, mapping: Mapping[str, str] | None,
                   preset: ImportPreset | None) -> None:
    if record_type not in RECORD_TYPES and record_type != "all":
        raise ValidationError("record_type", record_type, f"must be one of {', '.join(RECORD_TYPES)} or all")
    if mode not in MODES:
        raise ValidationError("mode", mode, f"must be one of {', '.join(MODES)}")
    if match_on is not None:
        if match_on not in MATCH_KEYS:
            raise ValidationError("match_on", match_on, f"must be one of {', '.join(MATCH_KEYS)}")
        if record_type != "customers":
            raise ValidationError("match_on", match_on, "only customers match on email, phone or external_id; "
                                                        "other records match on id")
    if (mapping or preset) and record_type == "events":
        raise ValidationError("mapping", record_type, "an event log is restored as it was written: no mappings "
                                                      "or presets")
    if record_type == "events" and mode != "create":
        raise ValidationError("mode", mode, "events are restored as they are: only create is possible")
    if preset is not None and preset.record_type != record_type:
        raise ValidationError("preset", preset.name, f"is for {preset.record_type}, not {record_type}")
    if mapping:
        model = MODELS[record_type]
        extra = NAME_PARTS if record_type == "customers" else ()
        for source, target in mapping.items():
            if target not in extra and not is_column(target, model):
                raise ValidationError("mapping", f"{source}={target}", f"{target!r} is not a {record_type} column")


def import_records(
    crm: Any,
    source: Source,
    *,
    record_type: str,
    format: str | None = None,
    mapping: Mapping[str, str] | None = None,
    preset: str | None = None,
    match_on: str | None = None,
    mode: str = "create",
    dry_run: bool = False,
    skip_invalid: bool = False,
    rejects: IO[str] | None = None,
    progress: Progress = None,
) -> ImportReport:
    """Import records from a file (path, ``"-"`` for stdin, or an open text file) and report what happened.

    Every row is validated first, with the same rules as the library (the
    services' ``build``) plus duplicate keys inside the file. When a row is bad
    and ``skip_invalid`` is false, ``ImportRowsError`` lists every bad row by
    line and nothing is written. With ``skip_invalid`` the good rows are
    imported and the bad ones written to ``rejects`` as CSV (their original
    columns plus ``error``). Everything is written in one transaction.

    - ``mapping`` renames source columns to crmkit columns (``{"E-mail":
      "emails"}``); ``preset`` names a preset (``google``, ``salesforce-contacts``).
      Without either, a column that is not a crmkit column is an error; with
      one, unmapped columns are ignored.
    - ``mode``: ``create`` (every row is new; an existing id or match key is an
      error), ``upsert`` (rows matching a record by ``id``, else by ``match_on``
      = ``email``/``phone``/``external_id``, update it; the rest are created), or
      ``update`` (every row must match). On update, each column in the file sets
      its field and an empty cell clears it; columns not in the file are left alone.
    - Rows carrying ids keep them (with their timestamps and version), so an
      export imported into an empty store exports byte for byte the same.
    - ``record_type="events"`` restores an event log into a store that has no
      history yet (none, or only the creation events of its records, which the
      restored log replaces). ``"all"`` reads a json/jsonl ``all`` export and
      imports customers, tickets, interactions and events in one transaction.
    - ``dry_run`` does all of it and rolls back: same report, nothing written.
    - ``progress(n)`` is called after every chunk of rows.
    """
    pm = crm.pm
    preset_spec: ImportPreset | None = registry(pm, "preset").get(preset, "preset") if preset else None
    _check_options(record_type, mode, match_on, mapping, preset_spec)
    spec = _importer_for(pm, source, format)
    if record_type == "all":
        if spec.read_all is None:
            raise ValidationError("record_type", "all", f"a {spec.format} file holds one record type; import each "
                                                        "file with its own record type")
        with _opened(source) as fp:
            groups: dict[str, list[tuple[int, dict[str, Any]]]] = {t: [] for t in IMPORT_ORDER}
            unknown: list[tuple[int, str]] = []
            for kind, line, row in spec.read_all(fp):
                if kind in groups:
                    groups[kind].append((line, row))
                else:
                    unknown.append((line, row.get(ROW_ERROR) or f"record type {kind!r} is not one of "
                                                                 f"{', '.join(RECORD_TYPES)}"))
    options = ImportOptions(
        mode=mode, match_on=match_on, flat=spec.flat, skip_invalid=skip_invalid, dry_run=dry_run,
        mapping={**(preset_spec.mapping if preset_spec else {}), **(mapping or {})} or None,
        preset=preset_spec, passthrough=preset_spec is None,
    )
    if record_type == "all":
        report = import_groups(crm, groups, options, progress=progress, record_type=record_type,
                               unreadable=unknown)
    else:
        with _opened(source) as fp:
            rows, header = _stream_or_drain(spec, spec.read(fp), streamable=_regular_file(fp))
            headers = {record_type: header} if header is not None else {}
            _check_sources(header if header is not None else list(dict.fromkeys(
                key for _line, row in rows for key in row if key != ROW_ERROR)), mapping, preset_spec)
            report = import_groups(crm, {record_type: rows}, options, progress=progress, record_type=record_type,
                                   unreadable=[], headers=headers)
    if report.problems and skip_invalid and rejects is not None and not dry_run:
        _write_rejects(rejects, report.rejected)
    return report


def _regular_file(fp: IO[str]) -> bool:
    """Whether ``fp`` reads a regular file: a pipe or a terminal may keep the import (and so the
    store's write lock) waiting, and is read whole before the import starts."""
    try:
        return stat.S_ISREG(os.fstat(fp.fileno()).st_mode)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False


def _stream_or_drain(spec: ImporterSpec, rows: Iterable[tuple[int, dict[str, Any]]], *, streamable: bool,
                     ) -> tuple[Iterable[tuple[int, dict[str, Any]]], list[str] | None]:
    """A CSV file's rows as a stream, with its columns read off the first row; anything else drained.

    A 100k-row CSV file held whole cost ~100 MB of an import's peak memory; a
    stream holds one chunk. Only a regular file is streamed (see
    :func:`_regular_file`), and only from a reader whose rows all have the
    header's columns (``ImporterSpec.uniform_rows``), so the first whole row
    names them; the importer checks each chunk's columns all the same (see ``import_groups``).
    """
    iterator = iter(rows)
    if spec.uniform_rows and streamable:
        try:
            first = next(iterator)
        except StopIteration as stop:  # no rows: the header, if the reader gave one
            return [], [str(name) for name in stop.value] if isinstance(stop.value, (list, tuple)) else None
        if ROW_ERROR not in first[1]:
            return itertools.chain([first], iterator), [str(name) for name in first[1]]
        iterator = itertools.chain([first], iterator)
    return _drain(iterator)


def _drain(rows: Iterable[tuple[int, dict[str, Any]]]) -> tuple[list[tuple[int, dict[str, Any]]], list[str] | None]:
    """A reader's rows, and the column names its generator returned (a CSV header), if it did."""
    collected: list[tuple[int, dict[str, Any]]] = []
    iterator = iter(rows)
    while True:
        try:
            collected.append(next(iterator))
        except StopIteration as stop:
            header = stop.value
            return collected, [str(name) for name in header] if isinstance(header, (list, tuple)) else None


def _shown(names: list[str], most: int = 40) -> str:
    if len(names) <= most:
        return ", ".join(names)
    return ", ".join(names[:most]) + f", ... ({len(names) - most} more)"


def _check_sources(names: list[str], mapping: Mapping[str, str] | None, preset: ImportPreset | None) -> None:
    """Refuse a ``--map`` column the file lacks, and a preset whose key columns the file lacks.

    ``names`` are the file's columns (its header, or the keys of its records);
    a file with none (no rows, no header) imports nothing and is not checked.
    """
    if not names:
        return
    present = set(names)
    for source in mapping or {}:
        if source not in present:
            close = difflib.get_close_matches(source, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValidationError("map", source, f"no such column in the file; columns are: {_shown(names)}{hint}")
    if preset is None:
        return
    groups = preset.key_columns or (tuple(preset.mapping),)
    for group in groups:
        if not present.intersection(group):
            wanted = _shown(list(dict.fromkeys(group)), 12)
            raise ValidationError("preset", preset.name, f"the file does not look like a {preset.name} export: it "
                                  f"has none of the columns {wanted}; its columns are: {_shown(names, 12)}. "
                                  "Pick the preset made for this file, or map its columns with --map")


def _write_rejects(fp: IO[str], rejected: list[tuple[dict[str, Any], str]]) -> None:
    names: dict[str, None] = {}
    for row, _error in rejected:
        names.update(dict.fromkeys(k for k in row if k != ROW_ERROR))
    cols = [*names, "error"]

    def cells() -> Iterator[dict[str, Any]]:
        for row, error in rejected:
            out = {k: (v if isinstance(v, str) or v is None else json.dumps(v, ensure_ascii=False))
                   for k, v in row.items() if k != ROW_ERROR}
            yield {**out, "error": error}

    write_csv(fp, cells(), cols)

