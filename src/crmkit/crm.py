"""The CRM facade: one object per store, one service per entity.

>>> import crmkit
>>> crm = crmkit.open("memory://")
>>> ann = crm.customers.add("Ann Lee", emails=["ann@example.com"])
>>> crm.tickets.open(ann.id, "Printer jams").status.value
'new'
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import pluggy

from .config import locate_store
from .entities import ENTITIES, referrers
from .errors import StorageError, ValidationError
from .models import CommittedEvents, Event, utcnow
from .models.event import STORED_KEYS
from .models.convert import format_datetime
from .profiles.base import Profile
from .registry import registry
from .storage.query import Compare
from .storage.url import parse_store_url

if TYPE_CHECKING:
    from pathlib import Path

    from .services.campaigns import CampaignMemberService, CampaignService
    from .services.contracts import ContractService
    from .services.customers import CustomerService
    from .services.deals import DealService
    from .services.events import EventService
    from .services.feedback import FeedbackService
    from .services.interactions import InteractionService
    from .services.lifecycle import LifecycleService
    from .services.orders import OrderService
    from .services.tasks import TaskService
    from .services.tickets import TicketService
    from .services.timeline import TimelineService
    from .storage.base import Storage

try:  # how an untraced pluggy PluginManager runs hooks (see CRM.validate)
    from pluggy._callers import _multicall as _PLAIN_HOOKEXEC
except ImportError:  # another pluggy: always take its own path
    _PLAIN_HOOKEXEC = None


class EventDraft(NamedTuple):
    """An event about to be written; services pass plain tuples in this order."""

    type: str
    record_id: str
    customer_id: str | None
    changes: Mapping[str, Any]
    note: str | None
    #: When the change took effect, if not now (a backdated step).
    effective_at: datetime | None = None


class CRM:
    """An open store with its profile. Use :func:`open` to get one.

    Services: ``customers`` (with contacts), ``interactions``, ``tickets``,
    ``lifecycle``, ``deals`` (the sales pipeline and lead conversion),
    ``contracts`` (with payment plans), ``orders`` (with purchase summaries),
    ``tasks``, ``feedback`` (with surveys), ``campaigns`` (with
    ``campaign_members``), ``events`` and ``timeline`` (a customer's history
    and time nodes). Group several calls into one atomic write with
    ``with crm.transaction(): ...``.
    """

    def __init__(self, storage: Storage, profile: Profile, pm: pluggy.PluginManager, *,
                 actor: str | None = None, region: str | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.storage = storage
        self.profile = profile
        self.pm = pm
        given = actor or os.environ.get("CRMKIT_USER") or None
        if given is not None:
            self.actor = given  # checked now: a bad name is refused before any write
        self.region = region
        self._clock = clock or utcnow
        self._depth = 0
        self._pending: list[tuple[Any, ...]] = []  # this transaction's events (see CommittedEvents)

    @property
    def actor(self) -> str:
        """Who makes the changes, as the event log names them: ``actor``, ``CRMKIT_USER`` or the OS user."""
        try:
            return self._actor
        except AttributeError:
            # Asked of the OS only when needed: a read-only command never pays for the passwd lookup.
            self.actor = _os_user()
            return self._actor

    @actor.setter
    def actor(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():  # every event names it
            raise ValidationError("actor", value, "is required and cannot be empty (set CRMKIT_USER)")
        self._actor = value

    # Every service is made on first use: a command imports only the services it calls.

    @functools.cached_property
    def customers(self) -> CustomerService:
        """Customers and their contacts (``crmkit.services.customers``)."""
        from .services.customers import CustomerService

        return CustomerService(self)

    @functools.cached_property
    def interactions(self) -> InteractionService:
        """Calls, emails, meetings and notes (``crmkit.services.interactions``)."""
        from .services.interactions import InteractionService

        return InteractionService(self)

    @functools.cached_property
    def tickets(self) -> TicketService:
        """Tickets from opening to rating, with their SLA (``crmkit.services.tickets``)."""
        from .services.tickets import TicketService

        return TicketService(self)

    @functools.cached_property
    def lifecycle(self) -> LifecycleService:
        """Lifecycle stages and moves between them (``crmkit.services.lifecycle``)."""
        from .services.lifecycle import LifecycleService

        return LifecycleService(self)

    @functools.cached_property
    def events(self) -> EventService:
        """The event log (``crmkit.services.events``)."""
        from .services.events import EventService

        return EventService(self)

    @functools.cached_property
    def timeline(self) -> TimelineService:
        """Customer timelines and time nodes."""
        from .services.timeline import TimelineService

        return TimelineService(self)

    @functools.cached_property
    def feedback(self) -> FeedbackService:
        """Feedback and survey answers (``crmkit.services.feedback``)."""
        from .services.feedback import FeedbackService

        return FeedbackService(self)

    @functools.cached_property
    def campaigns(self) -> CampaignService:
        """Campaigns, their members and responses (``crmkit.services.campaigns``)."""
        from .services.campaigns import CampaignService

        return CampaignService(self)

    @functools.cached_property
    def campaign_members(self) -> CampaignMemberService:
        """The members of campaigns, one per customer per campaign; usually reached through ``campaigns``."""
        from .services.campaigns import CampaignMemberService

        return CampaignMemberService(self)

    @functools.cached_property
    def deals(self) -> DealService:
        """Sales opportunities: the pipeline, win, lose, reopen, and lead conversion."""
        from .services.deals import DealService

        return DealService(self)

    @functools.cached_property
    def contracts(self) -> ContractService:
        """Contracts: sign, activate, terminate, expire, and their payment plans."""
        from .services.contracts import ContractService

        return ContractService(self)

    @functools.cached_property
    def orders(self) -> OrderService:
        """Orders: the transaction history and the purchase figures derived from it."""
        from .services.orders import OrderService

        return OrderService(self)

    @functools.cached_property
    def tasks(self) -> TaskService:
        """Tasks and follow-ups, with due lists and the calendar export."""
        from .services.tasks import TaskService

        return TaskService(self)

    def __enter__(self) -> CRM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the store."""
        self.storage.close()

    def now(self) -> datetime:
        """The current time as this CRM sees it (tests and demos pass a clock)."""
        return self._clock()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Make everything inside one atomic write; ``crmkit_on_commit`` and ``crmkit_on_event`` run after it commits."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._depth = 1
        self._pending = []
        try:
            with self.storage.transaction():
                self._stamp_new_store()
                yield
        except BaseException:
            self._pending = []
            raise
        finally:
            self._depth = 0
        rows, self._pending = self._pending, []
        if rows:
            events = CommittedEvents(rows)
            self.pm.hook.crmkit_on_commit(crm=self, events=events)
            on_event = self.pm.hook.crmkit_on_event
            if on_event.get_hookimpls():  # a bulk import's 100k events are built only when someone listens
                for event in events:
                    on_event(crm=self, event=event)

    def _stamp_new_store(self) -> None:
        if self.storage.get_meta("profile") is None:
            self.storage.set_meta("profile", self.profile.name)
            if self.region:
                self.storage.set_meta("region", self.region)

    # -- used by the services ------------------------------------------------------

    def record_events(self, drafts: Sequence[EventDraft | tuple[Any, ...]]) -> list[str]:
        """Append events to the log inside the current transaction (see :class:`EventDraft`); return their ids.

        The events are written in stored form straight away (what
        ``to_doc(Event(...))`` gives, which a test checks): bulk writes log one
        event per record, and building models only to turn them into dicts cost
        a third of an import's write time.
        """
        if not drafts:
            return []
        now = self.now()
        at = format_datetime(now)
        numbers = self.storage.next_ids(Event.PREFIX, len(drafts))
        rows = []  # in STORED_KEYS order
        for number, draft in zip(numbers, drafts):
            kind, record_id, customer_id, changes, note, *rest = draft
            effective = rest[0] if rest else None
            if not isinstance(kind, str) or not isinstance(record_id, str) or not kind.strip() or not record_id.strip():
                raise ValidationError("event", (kind, record_id), "needs a type and a record id")
            if effective is not None and (not isinstance(effective, datetime) or effective.tzinfo is None):
                raise ValidationError("effective_at", effective, "must be a timezone-aware datetime")
            rows.append((f"{Event.PREFIX}-{number}", at, at, 1, at, self.actor, kind, record_id, customer_id,
                         dict(changes), note,
                         None if effective is None or effective == now else format_datetime(effective)))
        self.storage.insert("events", [dict(zip(STORED_KEYS, row)) for row in rows])
        hook = self.pm.hook
        if hook.crmkit_on_commit.get_hookimpls() or hook.crmkit_on_event.get_hookimpls():
            self._pending.extend(rows)  # kept for the listeners, until the commit
        return [row[0] for row in rows]

    def validate(self, kind: str, record: Any) -> None:
        """Let plugins refuse a record before it is written (``crmkit_validate_record``)."""
        self.record_validator(kind)(record)

    def validate_many(self, kind: str, records: Iterable[Any]) -> None:
        """:meth:`validate` each record in turn; the first refusal raises."""
        check = self.record_validator(kind)
        for record in records:
            check(record)

    def record_validator(self, kind: str) -> Callable[[Any], None]:
        """:meth:`validate` for records of one ``kind``, prepared once for many records.

        Plugins registered after the call are not asked: take a fresh one per batch.
        """
        hook = self.pm.hook.crmkit_validate_record
        impls = hook.get_hookimpls()
        if not impls:
            return _accept
        # A bulk import validates every record; pluggy's dispatch cost more than the checks.
        # Plain implementations are called here in pluggy's order (last registered first),
        # with the arguments each one names; wrappers or a traced plugin manager take
        # pluggy's own path.
        if _PLAIN_HOOKEXEC is None or getattr(self.pm, "_inner_hookexec", None) is not _PLAIN_HOOKEXEC or any(
                impl.hookwrapper or impl.wrapper for impl in impls):
            return lambda record: hook(crm=self, kind=kind, record=record)
        order = ("crm", "kind", "record")
        if all(impl.argnames == order for impl in impls):
            functions = [impl.function for impl in reversed(impls)]

            def check(record: Any) -> None:
                for function in functions:
                    function(self, kind, record)

            return check
        calls = [(impl.function, [order.index(n) for n in impl.argnames]) for impl in reversed(impls)]

        def check_picked(record: Any) -> None:
            given = (self, kind, record)
            for function, picked in calls:
                function(*[given[i] for i in picked])

        return check_picked

    def check_fields(self, values: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
        """Check custom fields against the profile (see :meth:`Profile.check_fields`)."""
        if not isinstance(values, Mapping):
            raise ValidationError("fields", values, "must be a mapping of field names to values")
        return self.profile.check_fields(values, current)

    def dependants(self, customer_id: str) -> dict[str, list[str]]:
        """Ids of the records that belong to a customer, per collection, in the order to delete them.

        A record type that refers to another comes before it (contracts before
        their deals), so deleting in this order never leaves a dangling link.
        """
        found = {}
        for entity in reversed(ENTITIES.values()):
            if entity.owner is not None:
                where = Compare((entity.owner,), "=", customer_id)
                found[entity.name] = [doc["id"] for doc in self.storage.scan(entity.name, where)]
        return found

    def referring(self, collection: str, record_id: str) -> dict[str, list[str]]:
        """Ids of the records whose references name ``record_id`` of ``collection``, per collection."""
        found: dict[str, list[str]] = {}
        for entity, field in referrers(collection):
            ids = [doc["id"] for doc in self.storage.scan(entity.name, Compare((field,), "=", record_id))]
            if ids:
                found.setdefault(entity.name, []).extend(ids)
        return found

    def stats(self) -> dict[str, int]:
        """How many records each collection holds."""
        return {name: self.storage.count(name) for name in ENTITIES}


def _accept(_record: Any) -> None:
    """The validator when no plugin validates records."""


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


def open(url: str | Path | None = None, profile: str | None = None, *, pm: pluggy.PluginManager | None = None,
         actor: str | None = None, region: str | None = None, clock: Callable[[], datetime] | None = None,
         cwd: Path | None = None) -> CRM:
    """Open (or prepare to create) a store and return a :class:`CRM`.

    ``url`` is ``memory://``, ``tinydb:///path/crm.json`` or a bare path;
    without it the store is found from ``CRMKIT_DB``, a ``crmkit.toml`` in the
    working directory or above, or the per-user default. ``profile`` must match
    the profile the store was created with (a new store records it; default
    ``generic``). ``region`` is the default country for phone numbers written
    without ``+``. ``actor`` names who makes the changes in the event log.
    """
    from .plugins import make_plugin_manager

    pm = pm or make_plugin_manager()
    location = locate_store(str(url) if url else None, cwd=cwd)
    scheme, _rest = parse_store_url(location.url, location.base_dir)
    backend = registry(pm, "backend").get(scheme, "db")
    storage = backend.open(_absolute_url(location.url, location.base_dir))
    try:
        stored_profile = storage.get_meta("profile")
        wanted = profile or location.settings.get("profile")
        if stored_profile and wanted and wanted != stored_profile:
            raise ValidationError("profile", wanted, f"the store {location.url} uses profile {stored_profile!r}; "
                                                     f"to change it, run `crmkit db switch-profile {wanted}` "
                                                     "(it checks every record first)")
        chosen = registry(pm, "profile").get(stored_profile or wanted or "generic", "profile")
        region = region or storage.get_meta("region") or location.settings.get("region") \
            or os.environ.get("CRMKIT_REGION")
        if region is not None:
            if not isinstance(region, str) or len(region.strip()) != 2 or not region.strip().isalpha():
                raise ValidationError("region", region, "must be a two-letter country code, like GB")
            region = region.strip().upper()
        return CRM(storage, chosen, pm, actor=actor, region=region, clock=clock)
    except BaseException:
        storage.close()
        raise


def _absolute_url(url: str, base_dir: Path | None) -> str:
    scheme, location = parse_store_url(url, base_dir)
    if scheme == "tinydb":
        return f"tinydb://{location}" if location.startswith("/") else f"tinydb:///{location}"
    if scheme == "sqlite" and location and not location.startswith(("/", ":memory:", "file:")):
        # a relative sqlite path in crmkit.toml means beside that file, as for tinydb
        return f"sqlite://{os.path.join(os.fspath(base_dir) if base_dir is not None else os.getcwd(), location)}"
    return url


def init(url: str | Path | None = None, profile: str = "generic", *, region: str | None = None,
         pm: pluggy.PluginManager | None = None, cwd: Path | None = None) -> CRM:
    """Create a store with a profile (an existing store is refused) and return it open."""
    crm = open(url, profile, pm=pm, region=region, cwd=cwd)
    if crm.storage.exists():
        crm.close()
        raise StorageError(f"{crm.storage.url} already holds a crmkit store")
    with crm.transaction():
        pass  # the first transaction records the profile and region
    return crm


__all__ = ["CRM", "init", "open"]
