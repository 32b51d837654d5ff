"""The ``crmkit`` command line: a thin layer of click commands over the library.

Every command parses its options, makes one call on :class:`crmkit.CRM` (or
``crmkit.io``), and hands the result to :mod:`crmkit.cli.output`. Errors the
library raises on purpose (:class:`crmkit.CrmkitError`) are turned into one
line on stderr and exit code 1 in exactly one place, :class:`CrmkitGroup`.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Sequence
from typing import Any

import click

from typing import TYPE_CHECKING

from .._version import __version__
from ..errors import CrmkitError, ImportRowsError, PluginError

if TYPE_CHECKING:
    from ..plugins import PluginManager

__all__ = ["CrmkitGroup", "build_cli", "current_crm", "lazy_command", "main", "render_rows"]


class CrmkitGroup(click.Group):
    """The root group: turns every :class:`crmkit.CrmkitError` into ``Error: ...`` and exit 1.

    Sub-commands, plugin commands included, run inside the root's ``invoke``,
    so catching here once covers all of them. Usage errors keep click's exit 2.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ImportRowsError as err:
            # An import refuses the whole file: every bad row is worth a line,
            # so the user can fix them all in one go.
            for line, message in err.problems:
                click.echo(f"line {line}: {message}", err=True)
            raise click.ClickException(
                f"{len(err.problems)} bad rows; nothing imported from {err.total} rows"
            ) from err
        except CrmkitError as err:
            raise click.ClickException(str(err)) from err


#: Built-in commands: name -> ("module:attribute", short help). They are imported
#: only when run (or asked for their own help), so `crmkit --help` stays quick;
#: a test checks that each short help matches the command's docstring.
BUILTIN_COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("crmkit.cli.init:init", "Create a new store here and write crmkit.toml so later commands find it."),
    "customer": ("crmkit.cli.customer:customer", "Add, list, show, edit and delete customers (people and companies)."),
    "contact": ("crmkit.cli.customer:contact", "Manage the contact people of a customer."),
    "interaction": ("crmkit.cli.interaction:interaction", "Log and list contacts with customers."),
    "ticket": ("crmkit.cli.ticket:ticket", "Open, work on, resolve and rate tickets."),
    "lifecycle": ("crmkit.cli.lifecycle:lifecycle",
                  "Move customers through the lifecycle and see how they got where they are."),
    "deal": ("crmkit.cli.deal:deal", "Track sales opportunities through the pipeline: add, move, win, lose."),
    "lead": ("crmkit.cli.deal:lead", "Convert leads into deals."),
    "contract": ("crmkit.cli.contract:contract",
                 "Draft, sign and run contracts with payment plans; list overdue instalments."),
    "feedback": ("crmkit.cli.feedback:feedback",
                 "Record and list customer feedback: praise, complaints, suggestions, survey answers."),
    "survey": ("crmkit.cli.feedback:survey", "Record NPS and CSAT survey answers and report on them."),
    "campaign": ("crmkit.cli.campaign:campaign",
                 "Run marketing campaigns: target a segment, add members, record responses, see the funnel."),
    "order": ("crmkit.cli.order:order",
              "Record orders, follow them through payment and shipping, and see what customers bought."),
    "task": ("crmkit.cli.task:task", "Add, list, complete and export tasks and follow-ups."),
    "export": ("crmkit.cli.transfer:export",
               "Write records to a file: one record type (customers, deals, orders, events ...) or all of them."),
    "import": ("crmkit.cli.transfer:import_", "Import records from a file (- reads stdin)."),
    "db": ("crmkit.cli.db:db",
           "Look after the store: copy it to another backend, check it, back it up and restore it."),
    "plugins": ("crmkit.cli.plugins:plugins",
                "List the loaded plugins (built-ins included) and the hooks each implements."),
    "profiles": ("crmkit.cli.plugins:profiles",
                 "Describe each installed profile: stages and allowed moves, deal stages, ticket categories, SLA, "
                 "custom fields."),
    "demo": ("crmkit.cli.demo:demo", "Build a store full of realistic sample data and show a few commands on it."),
}


def current_crm() -> Any:
    """The store the running command works on, for plugin commands.

    It is the store ``--db``/``$CRMKIT_DB``/``crmkit.toml`` name, opened with
    ``--profile``/``--user``/``--region`` on first use and closed when the
    command ends, exactly as the built-in commands get it.
    """
    from .context import AppContext

    app = click.get_current_context().find_object(AppContext)
    if app is None:
        raise click.UsageError("this command runs under `crmkit` only")
    return app.crm


def render_rows(rows: Any, fmt: str, *, columns: Sequence[str] | None = None) -> None:
    """Print a plugin report's rows (dicts) as a table, or as json/jsonl/csv like every crmkit list.

    See :func:`crmkit.cli.output.render_rows`.
    """
    from .output import render_rows as _render_rows

    _render_rows(rows, fmt, columns=columns)


def load_command(target: str) -> click.Command:
    """Import ``module:attribute`` and return the click command it names."""
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


class LazyCommand(click.Command):
    """A stand-in in the root group for a command that is imported when it runs (see :func:`lazy_command`)."""

    def __init__(self, name: str, target: str, help: str) -> None:
        super().__init__(name, help=help)
        self.target = target


def lazy_command(name: str, target: str, help: str) -> click.Command:
    """A stand-in for a plugin's command (or group) that imports it only when it runs or shows its help.

    Add it to the root group in ``crmkit_register_commands`` instead of the
    command itself, so that other commands do not pay for importing yours::

        cli.add_command(lazy_command("realestate", "crmkit_realestate.cli:realestate",
                                     "Estate agency commands (stores with the realestate profile)."))

    ``target`` is ``"module:attribute"``; ``help`` is what ``crmkit --help``
    lists, so give the first line of the command's own docstring.
    """
    return LazyCommand(name, target, help)


class LazyCrmkitGroup(CrmkitGroup):
    """The root group, with built-in commands (and plugins' stand-ins) imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*BUILTIN_COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if isinstance(command, LazyCommand):
            self.add_command(load_command(command.target), cmd_name)
        elif cmd_name in BUILTIN_COMMANDS and command is None:
            self.add_command(load_command(BUILTIN_COMMANDS[cmd_name][0]), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        limit = formatter.width - 6 - max(len(name) for name in self.list_commands(ctx))
        for name in self.list_commands(ctx):
            if name in BUILTIN_COMMANDS and name not in self.commands:
                placeholder = click.Command(name, help=BUILTIN_COMMANDS[name][1])
                rows.append((name, placeholder.get_short_help_str(limit)))
                continue
            command = self.commands.get(name)
            if not isinstance(command, LazyCommand):  # a stand-in lists its own help, unimported
                command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def build_cli(pm: PluginManager) -> click.Group:
    """Build the ``crmkit`` command tree for this plugin manager (built-ins first, then plugins)."""

    @click.group("crmkit", cls=LazyCrmkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.option("--db", metavar="URL", help="Store to use: a path, tinydb:///path/crm.json or memory://. "
                  "Default: $CRMKIT_DB, then crmkit.toml in this or a parent directory, then the per-user store.")
    @click.option("--profile", metavar="NAME", help="Profile the store must use (default: the store's own).")
    @click.option("--user", metavar="NAME", help="Who is making the changes, for the event log "
                  "(default: $CRMKIT_USER or the login name).")
    @click.option("--region", metavar="CC", help="Country for phone numbers written without +, such as GB.")
    @click.version_option(__version__, prog_name="crmkit")
    @click.pass_context
    def root(ctx: click.Context, db: str | None, profile: str | None, user: str | None,
             region: str | None) -> None:
        """crmkit: customers and everything that happens with them, from first contact to churn.

        Start with `crmkit init` in a folder, or try `crmkit demo`.
        """
        from .context import AppContext

        ctx.obj = AppContext(pm=pm, ctx=ctx, db=db, profile=profile, user=user, region=region)

    pm.hook.crmkit_register_commands(cli=root)
    return root


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: build the plugin manager, then run the command line."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:
        # Answered before plugins load: a version check should cost no more than starting Python.
        click.echo(f"crmkit, version {__version__}")
        return
    # A command runs once and exits: cyclic garbage collection only costs time
    # here (20-25% of a command's CPU on a 10k store), and our records hold no cycles.
    gc.disable()
    from .._codecache import install
    from ..plugins import make_plugin_manager

    install()

    try:
        pm = make_plugin_manager()
    except PluginError as err:
        # No click context exists yet, so render the error the way click would.
        click.ClickException(str(err)).show()
        sys.exit(1)
    build_cli(pm).main(args=args, prog_name="crmkit")
