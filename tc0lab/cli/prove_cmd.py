"""`tc0lab prove`: run the executable claims; exit 3 when a checked claim fails."""
from __future__ import annotations

import click

from tc0lab.cli.common import emit_json, json_option, library_errors, log

CLAIM_FAILED_EXIT_CODE = 3


@click.command("prove")
@click.argument("names", nargs=-1)
@json_option
@library_errors
def prove_command(names: tuple[str, ...], as_json: bool) -> None:
    """Run the claims in tc0lab/proofs (all, or the NAMES given); exit 3 if any fails."""
    from tc0lab.proofs import CLAIMS, claim_module, run_claim
    selected = list(names) or list(CLAIMS)
    for name in selected:
        claim_module(name)  # an unknown name is an input error (exit 1) before anything runs
    results = []
    for name in selected:
        log(f"checking {name} ...")
        results.append(run_claim(name))
    failed = [r["name"] for r in results if not r["holds"]]
    if as_json:
        emit_json({"claims": results, "all_hold": not failed, "failed": failed})
    else:
        for r in results:
            click.echo(f"[{'ok' if r['holds'] else 'FAILED'}] {r['name']} ({r['seconds']:.1f} s): {r['statement']}")
            if not r["holds"]:
                click.echo(f"    details: {r['details']}")
    if failed:
        log(f"{len(failed)} claim(s) failed: {', '.join(failed)}")
        raise SystemExit(CLAIM_FAILED_EXIT_CODE)
