"""The command line: the only package that prints or exits.

Each command parses its options, calls one function of the library, renders and exits; common.py holds what they
share.

Cloud SDKs and even the knowledge base are imported inside the commands that need them, so `--help` is instant.

Exit codes: 0 done, nothing skipped; 1 policy violations (with a profile); 2 usage, configuration or input error;
3 scan incomplete (something could not be read); 130 interrupted (Ctrl-C during a scan: nothing is written).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from typer.core import TyperGroup

from .. import __version__
from . import files, knowledge, scan
from .common import EXIT_TERMINATED


class _Ordered(TyperGroup):
    """Lists commands in the order a user reaches for them, not the order they are defined in."""

    ORDER = ("scan", "check", "plan", "explain", "regions", "profiles", "diff", "schema", "kb-check")

    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: self.ORDER.index(n) if n in self.ORDER else len(self.ORDER))


app = typer.Typer(
    cls=_Ordered,
    name="residency-audit",
    help="Where does every copy of your cloud data live, which states can compel its disclosure, "
    "and does that break your policy?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"residency-audit {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Log every step and SDK call to stderr, with credentials redacted.")
    ] = False,
) -> None:
    """Audit data residency and legal reach across AWS, Azure and Google Cloud."""
    if debug:
        from ..logs import setup

        ctx.call_on_close(setup())


app.command()(scan.scan)
app.command()(files.check)
app.command()(files.plan)
app.command()(files.diff)
app.command()(knowledge.explain)
app.command()(knowledge.regions)
app.command("kb-check")(knowledge.kb_check)
app.command()(knowledge.schema)
app.add_typer(knowledge.profiles_app, name="profiles")


def main() -> None:
    """Console-script entry point."""
    import gc

    # A scan or check builds 10^5-10^6 small acyclic objects; the default thresholds make the cyclic collector
    # walk the whole growing heap again and again (a third of `check`'s time at 100,000 resources).
    gc.set_threshold(100_000, 50, 100)
    from ..output import Terminated

    try:
        app()
    except Terminated:
        # SIGTERM while a report was being written: its temporary file is gone, nothing half-written remains
        sys.stderr.write("residency-audit: error: terminated: no report was written\n")
        sys.exit(EXIT_TERMINATED)
