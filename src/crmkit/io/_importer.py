"""The import engine behind :func:`crmkit.io.transfer.import_records`.

One transaction holds the whole import. Rows are taken in chunks: each row is
*planned* (mapped, typed, built with the service's ``build`` so it meets the
library's rules, matched against the store, checked for keys repeated in the
file) and the good rows of the chunk are then written through the services'
bulk paths. Writing inside the transaction as we go lets later record types of
an ``all`` import see the records they refer to. At the end, bad rows without
``skip_invalid`` raise :class:`ImportRowsError` and a dry run raises a private
exception: either rolls the transaction back, so nothing reaches the store.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from ..entities import ENTITIES, link_columns
from ..errors import Conflict, CrmkitError, ImportRowsError, NotFound, ValidationError
from ..models import Customer, Event, from_doc, to_doc
from ..services.base import BOOKKEEPING, build, normalize_id, restamp
from ..storage.query import Compare
from ..services.normalize import normalize_email, normalize_phone
from .base import ROW_ERROR, ImportPreset
from .presets import fallback_name, map_row
from .records import MODELS, unflatten, unknown_columns

#: Rows planned and written per step (and per ``progress`` call).
CHUNK = 500
#: Events the services write when a record is created: a store holding only these
#: was filled by an import, and restoring an event log replaces them.
CREATION_EVENTS = {e.created_event: e.name for e in ENTITIES.values() if e.created_event}


@attrs.define
class ImportReport:
    """What an import did, or for a dry run would have done.

    ``problems`` and ``warnings`` are ``(line, "field: reason")`` pairs;
    ``skipped`` counts bad rows left out with ``skip_invalid``; ``unchanged``
    counts rows that matched a record which already held the same values.
    """

    record_type: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    total: int = 0
    dry_run: bool = False
    problems: list[tuple[int, str]] = attrs.field(factory=list)
    warnings: list[tuple[int, str]] = attrs.field(factory=list)
    #: The bad rows as read, each with its message (for the rejects file).
    rejected: list[tuple[dict[str, Any], str]] = attrs.field(factory=list, repr=False)


@attrs.frozen(kw_only=True)
class ImportOptions:
    """The import_records arguments the engine needs, checked already."""

    mode: str
    match_on: str | None
    flat: bool
    skip_invalid: bool
    dry_run: bool
    mapping: Mapping[str, str] | None
    preset: ImportPreset | None
    passthrough: bool


class _DryRun(Exception):
    """Raised at the end of a dry run to roll the transaction back."""


def message(err: CrmkitError) -> str:
    """A row problem as ``field: reason``."""
    if isinstance(err, ValidationError):
        return f"{err.field}: {err.reason}"
    if isinstance(err, NotFound):
        return f"{err.kind}_id: {err.record_id} does not exist"
    return str(err)


def import_groups(crm: Any, groups: Mapping[str, Iterable[tuple[int, dict[str, Any]]]], options: ImportOptions, *,
                  progress: Callable[[int], None] | None, record_type: str,
                  unreadable: list[tuple[int, str]], headers: Mapping[str, Sequence[str]] | None = None,
                  ) -> ImportReport:
    """Import ``{record_type: [(line, row), ...]}`` in the given order, in one transaction.

    ``headers`` gives a type's column names when the file names them (a CSV
    header), so a file without rows is checked like one with rows. The rows
    are consumed: a list has each row replaced by None once planned, and a
    type's rows may be a stream (an iterator), read one chunk at a time, whose
    chunks are checked for unknown columns as they come.
    """
    report = ImportReport(record_type=record_type, dry_run=options.dry_run)
    report.total = len(unreadable)
    for line, reason in unreadable:
        _reject(report, line, {}, f"row: {reason}")
    if not options.mapping:
        for kind, rows in groups.items():
            _check_columns(kind, rows if isinstance(rows, list) else [], (headers or {}).get(kind, ()))
    try:
        with crm.transaction():
            for kind, rows in groups.items():
                if not isinstance(rows, list) or rows:
                    _TypeImport(crm, kind, options, report, progress).run(rows)
            if report.problems and not options.skip_invalid:
                raise ImportRowsError(sorted(report.problems), report.total)
            if options.dry_run:
                raise _DryRun
    except _DryRun:
        pass
    report.problems.sort()
    return report


def _check_columns(record_type: str, rows: list[tuple[int, dict[str, Any]]], header: Sequence[str] = ()) -> None:
    model = MODELS[record_type]
    seen = set(header)
    for _line, row in rows:  # the rows of a file share their columns: a set first, in C
        seen.update(row)
    seen.discard(ROW_ERROR)
    if not unknown_columns(seen, model):
        return
    names = dict.fromkeys([*header, *(key for _line, row in rows for key in row if key != ROW_ERROR)])
    unknown = unknown_columns(names, model)
    if unknown:
        raise ValidationError("columns", unknown, f"unknown columns: {', '.join(unknown)} (not {record_type} "
                                                  "columns); rename them, or import with a mapping or a preset")


def _reject(report: ImportReport, line: int, row: dict[str, Any], text: str) -> None:
    report.problems.append((line, text))
    report.rejected.append((row, text))
    report.skipped += 1


class _TypeImport:
    """Plans and writes the rows of one record type."""

    def __init__(self, crm: Any, record_type: str, options: ImportOptions, report: ImportReport,
                 progress: Callable[[int], None] | None) -> None:
        self.crm = crm
        self.type = record_type
        self.entity = ENTITIES[record_type]
        self.kind = self.entity.kind
        self.model = MODELS[record_type]
        self.links = link_columns(record_type)
        self.service = self.entity.service(crm)
        #: Fields a row must give (no default, and not filled in by the service).
        self.required = [f.name for f in attrs.fields(self.model)
                         if f.default is attrs.NOTHING and f.name not in self.entity.service_filled]
        self.options = options
        self.report = report
        self.progress = progress
        self.check: Callable[[Any], None] = crm.record_validator(self.kind)
        self.file_ids: dict[str, int] = {}  # record id (given or matched) -> line that claims it
        self.file_keys: dict[tuple[str, str], int] = {}  # ("email", key) -> line
        self._customers: dict[str, dict[str, Any]] | None = None
        #: New customers of this chunk stamped when planned (see _start_numbering), and their clock.
        self.planned: list[Customer] = []
        self.now: Any = None
        self.next_number = 0
        self._by_email: dict[str, str] = {}
        self._by_phone: dict[str, set[str]] = {}
        self._by_external: dict[tuple[str, str], set[str]] = {}

    # -- driving ----------------------------------------------------------------

    def run(self, rows: Iterable[tuple[int, dict[str, Any]]]) -> None:
        if self.type == "events":
            self._clear_creation_events()
        for chunk in _chunks(rows):
            if not isinstance(rows, list) and not self.options.mapping:
                _check_columns(self.type, chunk)
            self.report.total += len(chunk)
            self.check = self.crm.record_validator(self.kind)  # crm.validate, prepared once a chunk
            self._start_numbering()
            creates: list[Any] = []  # built records, or event documents
            updates: list[tuple[str, dict[str, Any]]] = []
            for line, row in chunk:
                try:
                    outcome = self._plan(line, row)
                except CrmkitError as err:
                    _reject(self.report, line, row, message(err))
                    continue
                if outcome is None:
                    self.report.unchanged += 1
                elif isinstance(outcome, tuple):
                    updates.append(outcome)
                else:
                    creates.append(outcome)
            self._write(creates, updates)
            self.report.created += len(creates)
            self.report.updated += len(updates)
            if self.progress is not None:
                self.progress(len(chunk))

    def _plan(self, line: int, row: dict[str, Any]) -> dict[str, Any] | tuple[str, dict[str, Any]] | None:
        """A create (values), an update ((id, changes)) or None for unchanged; raise for a bad row."""
        if ROW_ERROR in row:
            raise ValidationError("row", None, row[ROW_ERROR])
        mapped = self._mapped(line, row)
        values = unflatten(mapped, self.model)
        self._resolve_links(values)
        record_id = self._record_id(values, line)
        if self.type == "events":
            return self._plan_event(values, record_id)
        if self.type == "customers":
            existing = self._match_customer(values, record_id)
        else:
            existing = self.crm.storage.get(self.service.collection, record_id) if record_id else None
        mode = self.options.mode
        if existing is not None and mode == "create":
            raise Conflict(existing["id"], f"already exists ({self._how_matched(record_id)}); use upsert or update")
        if existing is None and mode == "update":
            raise self._no_match(values, record_id)
        if existing is not None:
            if existing["id"] in self.file_ids and self.file_ids[existing["id"]] != line:
                raise ValidationError("id", existing["id"], f"{existing['id']} is also changed by line "
                                                             f"{self.file_ids[existing['id']]}")
            self.file_ids[existing["id"]] = line
            return self._plan_update(line, from_doc(self.model, existing), values)
        return self._plan_create(line, values, mapped)

    # -- rows into values ---------------------------------------------------------

    def _mapped(self, line: int, row: dict[str, Any]) -> dict[str, Any]:
        options = self.options
        if not options.mapping:
            return row
        preset = options.preset
        mapped = map_row(row, options.mapping, self.model, transforms=preset.transforms if preset else None,
                         defaults=preset.defaults if preset else None, passthrough=options.passthrough)
        for target in preset.lenient if preset else ():
            self._keep_unreadable(line, mapped, target)
        return mapped

    def _keep_unreadable(self, line: int, mapped: dict[str, Any], target: str) -> None:
        # Address books store anything in a phone or email column ("mobile",
        # "john@doe.invalid"); a preset keeps such values in the notes instead
        # of refusing the contact, and says so in a warning.
        values = mapped.get(target)
        if not isinstance(values, list) or target not in ("emails", "phones"):
            return
        good, bad = [], []
        for value in values:
            try:
                good.append(normalize_email(value) if target == "emails" else normalize_phone(value, self.crm.region))
            except ValidationError:
                bad.append(str(value))
        if bad:
            mapped[target] = good
            note = f"Unreadable {target} from the import: {', '.join(bad)}"
            mapped["notes"] = f"{mapped['notes']}\n{note}" if mapped.get("notes") else note
            kind = "email addresses" if target == "emails" else "phone numbers"
            self.report.warnings.append((line, f"{target}: kept {', '.join(bad)} in notes (not valid {kind})"))

    def _record_id(self, values: dict[str, Any], line: int) -> str | None:
        raw = values.pop("id", None)
        if raw in (None, ""):
            return None
        record_id = normalize_id(self.model.PREFIX, raw, "id")
        if record_id in self.file_ids:
            raise ValidationError("id", record_id, f"{record_id} appears twice in this file "
                                                  f"(also line {self.file_ids[record_id]})")
        self.file_ids[record_id] = line
        values["id"] = record_id
        return record_id

    def _require(self, values: dict[str, Any]) -> None:
        for name in self.required:
            if values.get(name) in (None, ""):
                raise ValidationError(name, values.get(name), "is required")

    # -- customers ------------------------------------------------------------------

    def _load_customers(self) -> dict[str, dict[str, Any]]:
        if self._customers is None:
            self._customers = {}
            for doc in self.crm.storage.scan("customers"):
                cid = doc["id"]
                self._customers[cid] = doc
                for email in doc.get("emails") or ():
                    self._by_email.setdefault(email.casefold(), cid)
                for phone in doc.get("phones") or ():
                    self._by_phone.setdefault(phone, set()).add(cid)
                for system, value in (doc.get("external_ids") or {}).items():
                    self._by_external.setdefault((system, str(value)), set()).add(cid)
        return self._customers

    def _match_keys(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        match_on = self.options.match_on
        if match_on == "email":
            return [("email", normalize_email(e).casefold()) for e in values.get("emails") or ()]
        if match_on == "phone":
            return [("phone", normalize_phone(p, self.crm.region)) for p in values.get("phones") or ()]
        if match_on == "external_id":
            return [("external_id", f"{k}:{v}") for k, v in (values.get("external_ids") or {}).items() if v]
        return []

    def _match_customer(self, values: dict[str, Any], record_id: str | None) -> dict[str, Any] | None:
        customers = self._load_customers()
        if record_id is not None:
            return customers.get(record_id)
        if self.options.match_on is None:  # no keys to match on (_match_keys)
            return None
        found: set[str] = set()
        for key_type, key in self._match_keys(values):
            if key_type == "email":
                found.update([self._by_email[key]] if key in self._by_email else [])
            elif key_type == "phone":
                found.update(self._by_phone.get(key, ()))
            else:
                system, _, value = key.partition(":")
                found.update(self._by_external.get((system, value), ()))
        if len(found) > 1:
            raise ValidationError(self.options.match_on or "id", None,
                                  f"matches several customers ({', '.join(sorted(found))})")
        return customers[found.pop()] if found else None

    def _check_file_keys(self, line: int, values: dict[str, Any], emails: tuple[str, ...], owner: str | None) -> None:
        keys = [("email", e.casefold()) for e in emails]
        if len(set(keys)) < len(keys):  # Ann@x.com and ann@x.com in one row (the model keeps both spellings)
            email = next(e for n, e in enumerate(emails) if keys[n] in keys[:n])
            raise ValidationError("email", email, f"is given twice (for {values.get('name') or 'this row'})")
        if self.options.match_on in ("phone", "external_id"):
            keys += self._match_keys(values)
        for key in keys:
            other = self.file_keys.get(key)
            if other is not None and other != line:
                raise ValidationError(key[0], key[1], f"{key[1]} appears twice in this file (also line {other})")
        for email in emails:
            holder = self._by_email.get(email.casefold())
            if holder is not None and holder != owner:
                name = (self._customers or {}).get(holder, {}).get("name", "")
                raise ValidationError("email", email, f"{email} already belongs to {holder} ({name})")
        for key in keys:
            self.file_keys[key] = line

    # -- planning ---------------------------------------------------------------------

    def _plan_create(self, line: int, values: dict[str, Any], mapped: Mapping[str, Any]) -> Any:
        if self.type == "customers" and self.options.mapping and not str(values.get("name") or "").strip():
            name = fallback_name(values)
            if name is None:
                raise ValidationError("name", None, "is required")
            values["name"] = name
        if self.type == "customers":
            given = values.get("external_ids")
            values["external_ids"] = {k: v for k, v in given.items() if v is not None} if given else {}
        elif self.entity.owner is not None:
            owner = self.entity.owner
            values[owner] = self._customer_ref(values, required=attrs.fields_dict(self.model)[owner].default
                                               is attrs.NOTHING)
        self._require(values)
        stamped = self.type == "customers" and "id" not in values
        if stamped:
            # The id, times and version it gets when written, so that it is built and
            # validated once, as it will be stored (see _reserve_numbers).
            values.update(id=f"{self.model.PREFIX}-{self.next_number}", created_at=self.now, updated_at=self.now,
                          version=1)
        record = self.service.build(values)
        self.check(record)
        if self.type == "customers":
            self._check_file_keys(line, values, record.emails, None)
        if stamped:
            self.next_number += 1
            self.planned.append(record)
        return record

    def _plan_update(self, line: int, old: Any, values: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        changes = {k: v for k, v in values.items() if k not in BOOKKEEPING}
        if self.type == "customers":
            return self._customer_update(line, old, changes)
        owner = self.entity.owner
        if owner is not None and (owner in changes or "customer_email" in changes):
            changes[owner] = self._customer_ref(changes, required=False) or getattr(old, owner)
        changes.pop("customer_email", None)
        base = {f.name: getattr(old, f.name) for f in attrs.fields(self.model) if f.name not in BOOKKEEPING}
        candidate = self.service.build({**base, **changes})
        changed = {k: getattr(candidate, k) for k in changes if getattr(candidate, k) != getattr(old, k)}
        editable = self.entity.import_editable
        if editable is not None:
            for key in changed:
                if key not in editable:
                    raise ValidationError(key, changes[key], "cannot be changed by an import (only "
                                          f"{', '.join(sorted(editable))}); use the {self.kind} commands")
        self.crm.validate(self.kind, attrs.evolve(candidate, id=old.id))
        return (old.id, changed) if changed else None

    def _customer_update(self, line: int, old: Customer, changes: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        for key in ("stage", "stage_history"):
            if key in changes:
                new = changes.pop(key)
                if new not in (None, "", []) and not _same(new, getattr(old, key)):
                    raise ValidationError(key, new if key == "stage" else "...",
                                          "changes through lifecycle moves, not through an import")
        if "external_ids" in changes:
            merged = {**old.external_ids, **changes["external_ids"]}
            changes["external_ids"] = {k: v for k, v in merged.items() if v not in (None, "")}
        probe = dict(changes)
        if "fields" in probe:
            merged_fields = {**old.fields, **probe["fields"]}
            probe["fields"] = {k: v for k, v in merged_fields.items() if v not in (None, "")}
        candidate = self.crm.customers.build(probe, base=old)
        changed = {k: (changes[k] if k == "fields" else getattr(candidate, k))
                   for k in changes if getattr(candidate, k) != getattr(old, k)}
        self._check_file_keys(line, changes, candidate.emails, old.id)
        if not changed:
            return None
        self.crm.validate(self.kind, candidate)
        return old.id, changed

    def _plan_event(self, values: dict[str, Any], record_id: str | None) -> dict[str, Any]:
        if record_id is None:
            raise ValidationError("id", None, "is required: a restored event keeps its id")
        if self.crm.storage.get("events", record_id) is not None:
            raise Conflict(record_id, "already exists in the event log")
        self._require(values)
        return to_doc(build(Event, values))

    def _resolve_links(self, values: dict[str, Any]) -> None:
        """Fill a reference from its readable-key column (``order_number`` for ``order_id``) when the id is
        missing or names no record here; customer references are :meth:`_customer_ref`'s."""
        for field, (column, target, key) in self.links.items():
            if target == "customers" or column not in values:
                continue
            readable = str(values.pop(column) or "").strip()
            given = values.get(field)
            if not readable or (given not in (None, "") and self.crm.storage.get(target, str(given)) is not None):
                continue
            found = self.crm.storage.scan(target, Compare((key,), "=", readable), (), 2)
            kind = ENTITIES[target].kind
            if not found:
                raise ValidationError(column, readable, f"matches no {kind}")
            if len(found) > 1:
                raise ValidationError(column, readable, f"matches several {kind}s")
            values[field] = found[0]["id"]

    def _customer_ref(self, values: dict[str, Any], *, required: bool) -> str | None:
        """The customer a row refers to: ``customer_id`` if it exists, else the one with ``customer_email``."""
        email = str(values.pop("customer_email", None) or "").strip()
        given = values.get("customer_id")
        if given not in (None, ""):
            try:
                cid: str | None = normalize_id("C", given, "customer_id")
            except ValidationError:
                if not email:
                    raise
                cid = None
            if cid is not None and self.crm.storage.get("customers", cid) is not None:
                return cid
            if not email:
                raise ValidationError("customer_id", given, "does not exist")
        if email:
            self._load_customers()
            found = self._by_email.get(email.casefold())
            if found is None:
                raise ValidationError("customer_email", email, "belongs to no customer")
            return found
        if required:
            raise ValidationError("customer_id", None, "is required (or give customer_email)")
        return None

    def _how_matched(self, record_id: str | None) -> str:
        return f"id {record_id}" if record_id else f"same {self.options.match_on}"

    def _no_match(self, values: dict[str, Any], record_id: str | None) -> ValidationError:
        reason = "update mode only changes existing records"
        if record_id:
            return ValidationError("id", record_id, f"{record_id} matches no {self.kind}; {reason}")
        keys = self._match_keys(values)
        if keys:
            return ValidationError(keys[0][0], keys[0][1], f"{keys[0][1]} matches no {self.kind}; {reason}")
        wanted = f"an id or {self.options.match_on}" if self.options.match_on else "an id"
        return ValidationError("id", None, f"the row has {wanted.replace('an ', 'no ', 1)} to match; {reason}")

    # -- writing ------------------------------------------------------------------------

    def _start_numbering(self) -> None:
        """Number this chunk's new customers from the store's counter, as ``stamp_new`` would."""
        if self.type == "customers":
            self.planned = []
            self.now = self.crm.now()
            self.next_number = self.crm.storage.counters().get(self.model.PREFIX, 0) + 1

    def _reserve_numbers(self, creates: list[Any]) -> list[Any]:
        """Reserve the numbers the planned customers carry; return those that stay as validated."""
        planned = self.planned
        if not planned:
            return []
        prefix = self.model.PREFIX
        numbers = self.crm.storage.next_ids(prefix, len(planned))
        if numbers == [int(r.id.split("-")[1]) for r in planned]:
            return planned
        # Something took numbers while the chunk was planned (a plugin writing in a
        # validator): give the rows the numbers reserved, and validate them again.
        new = {id(old): restamp(old, id=f"{prefix}-{n}") for old, n in zip(planned, numbers)}
        creates[:] = [new.get(id(record), record) for record in creates]
        return []

    def _write(self, creates: list[Any], updates: list[tuple[str, dict[str, Any]]]) -> None:
        crm = self.crm
        if self.type == "events":
            if creates:
                crm.storage.insert("events", creates)
                crm.storage.bump_id("E", max(int(doc["id"].split("-")[1]) for doc in creates))
            return
        if creates:
            add = getattr(self.service, self.entity.bulk_add)
            if self.type == "customers":
                # _check_file_keys checked every email against the file and the store already
                add(creates, keep_ids=True, allow_duplicate=True, validated=self._reserve_numbers(creates))
            else:
                add(creates, keep_ids=True)
        for record_id, changes in updates:
            self.service.update(record_id, **changes)

    def _clear_creation_events(self) -> None:
        storage = self.crm.storage
        events = storage.scan("events")
        extra = [e for e in events if CREATION_EVENTS.get(e.get("type", "")) is None
                 or storage.get(CREATION_EVENTS[e["type"]], e.get("record_id", "")) is None]
        if extra:
            raise ValidationError("record_type", "events", f"an event log can only be restored into a store "
                                  f"without history of its own; this store has {len(extra)} other events")
        # The services logged one creation event per record they imported; the
        # log being restored holds the real history, those included.
        for event in events:
            storage.delete("events", event["id"])


def _chunks(rows: Iterable[tuple[int, dict[str, Any]]]) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """``rows`` in lists of CHUNK rows. A list's planned rows are let go as we move on (a rejected
    row stays in the report): a 100k-row file held whole costs ~100 MB; its caller reads it no more."""
    if isinstance(rows, list):
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            rows[start : start + CHUNK] = [None] * len(chunk)  # type: ignore[list-item]
            yield chunk
        return
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, CHUNK)):
        yield chunk


def _same(new: Any, old: Any) -> bool:
    if isinstance(old, tuple):
        return tuple(new) == old
    return str(new).strip() == str(old)
