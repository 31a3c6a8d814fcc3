"""The knowledge-base commands: regions, explain, kb-check, schema, and the profiles group. None needs credentials."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..model import KeyControl
from .common import (
    AsOfOpt,
    Format,
    HomeOpt,
    ProfileOpt,
    ProviderOpt,
    TrustOpt,
    as_of_date,
    fail,
    kb_and_profile,
    load_kb,
    show,
    show_json,
    viewpoint_of,
    warn,
)


def regions(
    provider: Annotated[ProviderOpt | None, typer.Option(help="Only this provider's locations.")] = None,
    country: Annotated[str | None, typer.Option(help="Only locations with a copy in this ISO country.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """List the knowledge base: every known region, dual-region and multi-region, with country and operator."""
    from .. import serialize

    kb = load_kb()
    locs = [loc for loc in kb.locations if provider is None or loc.provider == provider.value]
    if country is not None:
        cc = country.strip().upper()
        if cc not in kb.countries:
            fail(f"--country {country!r} is not an ISO 3166-1 alpha-2 code (for example DE, US, BR)")
        locs = [loc for loc in locs if cc in loc.countries]
    if fmt is Format.json:
        show_json([serialize.location(loc) for loc in locs])
    else:
        from ..tables import regions_table

        show(regions_table(locs))


def explain(
    location: Annotated[str, typer.Argument(help="PROVIDER:LOCATION, e.g. azure:brazilsouth, gcp:EUR4.")],
    home: HomeOpt = None,
    trust: TrustOpt = None,
    key_control: Annotated[
        KeyControl,
        typer.Option("--key-control", help="Who holds the keys, to see how it changes the exposure."),
    ] = KeyControl.PROVIDER_MANAGED,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    profile: ProfileOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Show one location's facts and its exposure from a viewpoint, with the reasons and their sources."""
    from .. import serialize
    from ..classify import assess
    from ..model import Copy, CopyRole, Provider

    at = as_of_date(as_of)
    kb, prof = kb_and_profile(profile, at)
    provider_text, sep, code = location.partition(":")
    if not sep or provider_text.lower() not in {p.value for p in Provider}:
        fail(f"{location!r} is not PROVIDER:LOCATION (provider aws, azure or gcp), e.g. aws:eu-central-1")
    provider = Provider(provider_text.lower())
    loc = kb.resolve(provider, code)
    if loc is None:
        close = kb.suggest(provider, code)
        hint = f"; closest known: {', '.join(close)}" if close else ""
        fail(f"unknown location {location!r}{hint} (see `residency-audit regions --provider {provider}`)")
    view = viewpoint_of(kb, prof, home, trust, at)
    result = assess(kb, [Copy(loc.code, CopyRole.PRIMARY, loc)], key_control, view)
    for line in kb.due_for_review(at):
        warn(line)
    if fmt is Format.json:
        from ..tables import instruments_in

        laws = [serialize.instrument(i) for i in instruments_in(kb, result)]
        show_json(
            serialize.location(loc)
            | {
                "viewpoint": view.label,
                "as_of": at.isoformat(),
                "assessment": serialize.assessment(result),
                "laws": laws,
                "reverify": kb.due_for_review(at),
            }
        )
    else:
        from ..tables import explain_view

        show(explain_view(kb, loc, result, f"{view.label} (law as of {at.isoformat()})"))


def kb_check(as_of: AsOfOpt = None) -> None:
    """Check the knowledge base's integrity, and that it knows every region of the installed botocore."""
    from ..kbcheck import botocore_regions, check

    kb = load_kb()
    problems = check(kb, botocore_regions())
    for problem in problems:
        typer.echo(problem, err=True)
    for line in kb.due_for_review(as_of_date(as_of)):  # listed, never failing: the facts still stand until re-read
        warn(line)
    if problems:
        fail(f"knowledge base: {len(problems)} problem(s)", code=1)
    typer.echo(
        f"knowledge base OK: {len(kb.locations)} locations, {len(kb.operators)} operators, "
        f"{len(kb.countries)} countries, {len(kb.instruments)} legal instruments, {len(kb.sources)} sources"
    )


def schema() -> None:
    """Print the JSON Schema of the JSON report."""
    from importlib import resources

    sys.stdout.write(resources.files("residency_audit").joinpath("schema", "report-v2.schema.json").read_text())


profiles_app = typer.Typer(help="List and validate policy profiles.", no_args_is_help=True)


@profiles_app.command("list")
def profiles_list() -> None:
    """List the bundled profiles (use one with --profile NAME)."""
    from ..profiles import ProfileError, bundled, load_profile

    kb = load_kb()
    for name, path in bundled().items():
        try:
            description = load_profile(name, kb).description
        except ProfileError as exc:
            description = f"(invalid: {exc})"
        typer.echo(f"{name:<14} {description.splitlines()[0] if description else ''}")
        typer.echo(f"{'':<14} {path}")


@profiles_app.command("validate")
def profiles_validate(file: Annotated[str, typer.Argument(help="A profile .toml file or bundled name.")]) -> None:
    """Check a profile: exit 0 when valid, 2 with the file, field and fix when not."""
    from datetime import date

    from ..profiles import ProfileError, load_profile

    kb = load_kb()
    try:
        prof = load_profile(file, kb)
    except ProfileError as exc:
        fail(str(exc))
    expired = [w for w in prof.waivers if w.expires < date.today()]
    typer.echo(
        f"{prof.source}: valid profile {prof.name!r}: {len(prof.overrides)} override(s), {len(prof.waivers)} "
        f"waiver(s){f', {len(expired)} expired (each is a violation, RA005)' if expired else ''}"
    )
