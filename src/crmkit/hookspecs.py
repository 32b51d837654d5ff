"""The crmkit plugin API.

A plugin is a module or object with functions named after these hooks and
marked with :data:`hookimpl`. Installed plugins are found through the
``crmkit`` entry-point group; crmkit's own backends, profile and file formats
are plugins too, registered the same way.

Data hooks (``crmkit_storage_backends``, ``crmkit_profiles``,
``crmkit_importers``, ``crmkit_exporters``, ``crmkit_import_presets``) take no
arguments and return a list of spec objects; crmkit calls each
implementation once, collects every list, and refuses two plugins that claim
the same name, naming both. A list may hold a :class:`crmkit.LazySpec` in
place of a spec: its name now, and a function (or ``"module:function"``) that
builds the spec when a command first needs it, so that commands on other
stores never import it. Action hooks (``crmkit_validate_record``,
``crmkit_on_event``, ``crmkit_on_commit``, ``crmkit_register_commands``) return nothing.
``crmkit_customer_sections`` returns blocks that are shown in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from .crm import CRM
    from .io.base import ExporterSpec, ImporterSpec, ImportPreset
    from .models import CommittedEvents, Customer, Event
    from .profiles.base import Profile
    from .storage.base import BackendSpec
    from .views import Section

PROJECT = "crmkit"
hookspec = pluggy.HookspecMarker(PROJECT)
#: Mark a function as a crmkit hook implementation: ``@crmkit.hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def crmkit_storage_backends() -> list[BackendSpec]:
    """Contribute storage backends, one per URL scheme.

    Called once per plugin manager, when a store is first opened.

    :return: a list of :class:`crmkit.storage.base.BackendSpec`; each names a
        URL scheme (``"sqlite"``) and a function that opens a store from the
        whole URL. Lists from all plugins are combined; two plugins offering
        one scheme is a ``PluginError`` naming both.

    Example::

        @hookimpl
        def crmkit_storage_backends():
            return [BackendSpec(scheme="redis", open=RedisStorage, description="Redis")]

    .. versionadded:: 0.1
    """


@hookspec
def crmkit_profiles() -> list[Profile]:
    """Contribute industry profiles (stages, ticket categories, SLA targets, custom fields).

    Called once per plugin manager, when a CRM is opened or ``crmkit profiles`` runs.

    :return: a list of :class:`crmkit.profiles.base.Profile`. Lists from all
        plugins are combined; two profiles with one name is a ``PluginError``.

    Example::

        @hookimpl
        def crmkit_profiles():
            return [Profile(name="school", title="School", stages=..., ...)]

    .. versionadded:: 0.1
    """


@hookspec
def crmkit_validate_record(crm: CRM, kind: str, record: Any) -> None:
    """Check a record before it is written; raise to refuse it.

    Called for every record the library is about to create or update, inside
    the write transaction and before anything is stored.

    :param crm: the open :class:`crmkit.CRM` (read from it; do not write).
    :param kind: the record type, as in :mod:`crmkit.entities`: ``"customer"``, ``"interaction"``,
        ``"ticket"``, ``"deal"``, ``"contract"``, ``"order"``, ``"task"``, ``"feedback"``,
        ``"campaign"`` or ``"campaign_member"``.
    :param record: the new state of the record (a frozen attrs model).
    :return: nothing. Raise :class:`crmkit.ValidationError` naming the field and
        value to refuse the write. Implementations run in turn; the first that
        raises stops the others and the write.

    Example::

        @hookimpl
        def crmkit_validate_record(crm, kind, record):
            if kind == "customer" and not record.emails:
                raise ValidationError("email", None, "is required in this shop")

    .. versionadded:: 0.1
    """


@hookspec
def crmkit_on_event(crm: CRM, event: Event) -> None:
    """React to a change after it has been committed.

    Called once per event, in order, after the transaction that wrote it has
    committed (so a failing implementation cannot undo the change), and after
    ``crmkit_on_commit``. A bulk import makes one call per record it creates:
    a listener for a few event types is cheaper as ``crmkit_on_commit``.

    :param crm: the open :class:`crmkit.CRM`.
    :param event: the :class:`crmkit.Event` just stored (type like
        ``"ticket.resolved"``, actor, record id, changed fields).
    :return: nothing; return values are ignored.

    Example::

        @hookimpl
        def crmkit_on_event(crm, event):
            if event.type == "ticket.escalated":
                notify_manager(event.record_id)

    .. versionadded:: 0.1
    """


@hookspec
def crmkit_on_commit(crm: CRM, events: CommittedEvents) -> None:
    """React to a transaction that has been committed, once, with all the events it wrote.

    Called after the commit, before ``crmkit_on_event`` is called for each event.
    Prefer it to ``crmkit_on_event`` for anything that cares about a few event
    types or about the commit itself: a bulk import commits one event per
    record, and ``events`` builds :class:`crmkit.Event` objects only for what
    you read.

    :param crm: the open :class:`crmkit.CRM`.
    :param events: a :class:`crmkit.models.CommittedEvents`, a sequence of the
        transaction's events in order; ``events.of_type("ticket.closed")`` gives
        the events of some types, ``events.types()`` the types present.
    :return: nothing; return values are ignored.

    Example::

        @hookimpl
        def crmkit_on_commit(crm, events):
            for event in events.of_type("ticket.escalated"):
                notify_manager(event.record_id)

    .. versionadded:: 0.2
    """


@hookspec
def crmkit_importers() -> list[ImporterSpec]:
    """Contribute file formats that ``crmkit import`` can read.

    :return: a list of :class:`crmkit.io.base.ImporterSpec`, each with a format
        name, file suffixes and a ``read(fp)`` function yielding (line, row)
        pairs. Lists are combined; a duplicate format name is a ``PluginError``.
        Set ``uniform_rows=True`` when every whole row has exactly the header's
        columns (as in CSV): crmkit then reads a regular file a chunk at a time
        while it imports, instead of holding it whole.

    Example::

        @hookimpl
        def crmkit_importers():
            return [ImporterSpec(format="vcf", read=read_vcards, suffixes=(".vcf",))]

    .. versionadded:: 0.1
    """


@hookspec
def crmkit_exporters() -> list[ExporterSpec]:
    """Contribute file formats that ``crmkit export --format`` can write.

    :return: a list of :class:`crmkit.io.base.ExporterSpec`, each with a format
        name and a ``write(fp, rows, columns)`` function. Lists are combined;
        a duplicate format name is a ``PluginError``.

    Example::

        @hookimpl
        def crmkit_exporters():
            return [ExporterSpec(format="tsv", write=write_tsv, suffix=".tsv")]

    .. versionadded:: 0.1
    """


@hookspec
def crmkit_import_presets() -> list[ImportPreset]:
    """Contribute column mappings for files exported by other tools (``import --preset NAME``).

    :return: a list of :class:`crmkit.io.base.ImportPreset`. Lists are combined;
        a duplicate preset name is a ``PluginError``.

    Example::

        @hookimpl
        def crmkit_import_presets():
            return [ImportPreset(name="hubspot", record_type="customers",
                                 mapping={"Email": "emails", "First Name": "name"})]

    .. versionadded:: 0.1
    """


@hookspec
def crmkit_register_commands(cli: click.Group) -> None:
    """Add commands or command groups to the ``crmkit`` command line.

    Called once when the CLI is built, after the built-in groups are added.
    Commands should stay thin: parse options, call the library, render. A
    command gets the store with :func:`crmkit.cli.current_crm` (opened from
    ``--db`` and the other global options, closed when the command ends) and
    prints report rows with :func:`crmkit.cli.render_rows` (table, json,
    jsonl or csv, like every crmkit list).

    :param cli: the root :class:`click.Group`; call ``cli.add_command(...)``.
    :return: nothing.

    Example::

        @hookimpl
        def crmkit_register_commands(cli):
            cli.add_command(my_report_command)   # which calls current_crm() and render_rows()

    .. versionadded:: 0.1
    """


@hookspec
def crmkit_customer_sections(crm: CRM, customer: Customer) -> list[Section] | None:
    """Add sections to a customer's overview (``crmkit customer show`` and ``customers.overview``).

    Called once per overview, after crmkit has gathered its own sections. A
    profile plugin shows what its trade needs here: a retail RFM segment, a
    service contract's renewal date, a KYC review date. Check ``crm.profile``
    first when the section only makes sense for your profile.

    :param crm: the open :class:`crmkit.CRM` (read from it; do not write).
    :param customer: the :class:`crmkit.models.Customer` being shown.
    :return: a list of :class:`crmkit.Section` (label/value ``fields``, a table
        of ``rows``, or ``lines``), or None for nothing. The lists of all
        plugins are combined in plugin order and shown after crmkit's own
        sections, in ``customer show`` and in its JSON (``sections``).

    Example::

        @hookimpl
        def crmkit_customer_sections(crm, customer):
            return [Section(title="Loyalty", fields={"points": customer.fields.get("points", 0)})]

    .. versionadded:: 0.2
    """
