"""`tc0lab check`: TC0 / NC1-hard / open verdicts for zoo layers, predictions for the probe, and the
classification table (`--markdown`, `--latex`: tc0lab/check/table.py) of docs/ARCHITECTURES.md."""
from __future__ import annotations

from pathlib import Path

import click

from tc0lab.cli.common import emit_json, json_option, library_errors, log


def _arch_names(arch: str) -> list[str]:
    from tc0lab.spec import zoo
    if arch.strip().lower() == "all":
        return list(zoo.ARCHS)
    names = [name.strip().lower() for name in arch.split(",") if name.strip()]
    unknown = [name for name in names if name not in zoo.ARCHS]
    if unknown or not names:
        raise click.ClickException(f"unknown architecture {', '.join(map(repr, unknown)) or repr(arch)}; known: all, "
                                   f"{', '.join(zoo.ARCHS)}")
    return names


def _table_format(markdown: bool, latex: bool, group: str | None, layers: int, as_json: bool,
                  output: Path | None) -> str | None:
    """'markdown', 'latex' or None (no table); refuses combinations that mean nothing."""
    if markdown and latex:
        raise click.ClickException("--markdown and --latex are two renderings of one table: choose one")
    chosen = "markdown" if markdown else "latex" if latex else None
    if chosen is None:
        if output is not None:
            raise click.ClickException("--output writes the table: add --markdown or --latex")
        return None
    clashes = [flag for flag, used in (("--group", group is not None), ("--layers", layers != 1), ("--json", as_json))
               if used]
    if clashes:
        raise click.ClickException(f"the classification table (--{chosen}) is one layer per architecture and "
                                   f"cannot be combined with {', '.join(clashes)}")
    if output is not None and not output.parent.is_dir():
        raise click.ClickException(f"cannot write {output}: the folder {output.parent} does not exist")
    return chosen


def _print_table(names: list[str], chosen: str, workers: int | None, output: Path | None) -> None:
    from tc0lab.check.table import RENDERERS, table_rows
    log(f"checking {', '.join(names)} ...")
    text = RENDERERS[chosen](table_rows(names, workers, on_done=lambda name: log(f"  {name} done")))
    if output is None:
        click.echo(text, nl=False)
        return
    from tc0lab import atomic_file
    try:
        atomic_file.write_text(output, text)
    except OSError as error:
        raise click.ClickException(f"cannot write {output}: {error.strerror or error}") from None
    log(f"wrote {output}")


def _answer(value: bool | None) -> str:
    return {True: "yes", False: "no"}.get(value, "undecided")


def _verdict_text(v: dict) -> str:
    lines = [f"{v['layer']}: {v['verdict']}  ({v['rule']}; {v.get('status', 'undecided')})",
             f"  citation: {v['citation']}", f"  structure: {v['structure']}; {v.get('evidence', '')}"]
    built = v.get("construction")
    if built:
        depths = ", ".join(f"{d} at n = {n}" for n, d in built["threshold_depths"].items())
        lines.append(f"  circuit: {built['name']}, threshold depth {depths} (measured on the compiled circuit; "
                     f"outputs equal the reference to {built['max_relative_error']:.1e})")
    if not v.get("nonlinear") and v.get("structure") != "attention":
        lines.append(f"  negative real eigenvalue: {_answer(v.get('negative_eigenvalues'))} ({v['eigenvalue_evidence']})")
        lines.append(f"  non-real eigenvalue: {_answer(v.get('non_real_eigenvalues'))} "
                     f"({v.get('non_real_evidence', 'not computed')})")
    witness = v.get("witness")
    if witness:
        lines.append(f"  witness: {witness['group']} (order {witness['group_order']}, solvable={witness['solvable']}), "
                     f"verified={witness['verified']} from {witness['verification']['decoded']}: "
                     f"{witness['words_exhaustive']:,} words up to length "
                     f"{witness['verification']['exhaustive_max_length']} and {witness['words_random']:,} random words "
                     f"of length {witness['verification']['random_length']}; {witness['method']}")
    lines += [f"  note: {note}" for note in v.get("notes", [])]
    if v.get("verdict") != "NC1-hard":
        lines += [f"  searched: {line}" for line in v.get("searched", [])]
    return "\n".join(lines)


def _each(names: list[str], message, job) -> list:
    """[job(name) for name in names], saying message(name) on stderr before each."""
    results = []
    for name in names:
        log(message(name))
        results.append(job(name))
    return results


@click.command("check")
@click.option("--arch", default="all", show_default=True, help="Zoo architecture(s), comma-separated, or 'all'.")
@click.option("--group", default=None, help="A group (e.g. S5, A4xZ5): print the prediction for the probe.")
@click.option("--layers", default=1, show_default=True, type=click.IntRange(min=1), help="Stack depth L.")
@click.option("--markdown", is_flag=True, help="Print the classification table (docs/ARCHITECTURES.md) in Markdown.")
@click.option("--latex", is_flag=True, help="Print the classification table in LaTeX (longtable).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the --markdown / --latex table to this file instead of stdout.")
@click.option("--workers", default=None, type=click.IntRange(min=1),
              help="Processes checking layers at once [default: one per core].")
@json_option
@library_errors
def check_command(arch: str, group: str | None, layers: int, markdown: bool, latex: bool, output: Path | None,
                  workers: int | None, as_json: bool) -> None:
    """Decide TC0 vs NC1-hard for a layer from its matrices, with a verified witness."""
    from tc0lab.check.predict import predict
    from tc0lab.check.stack import check_stack
    from tc0lab.check.batch import check_many
    names = _arch_names(arch)
    chosen = _table_format(markdown, latex, group, layers, as_json, output)
    if chosen is not None:
        _print_table(names, chosen, workers, output)
        return
    if group is not None:
        rows = _each(names, lambda name: f"predicting {name} on {group} ...", lambda name: predict(name, group))
        if as_json:
            emit_json(rows[0] if len(rows) == 1 else {"predictions": rows})
        else:
            click.echo("\n".join(f"{r['model']} on {r['group']} ({r['group_class']}): {r['prediction']}\n  {r['reason']}"
                                 for r in rows))
        return
    if layers == 1:
        log(f"checking {', '.join(names)} ...")
        documents = check_many(names, workers, on_done=lambda name: log(f"  {name} done"))
    else:
        documents = _each(names, lambda name: f"checking {name} x {layers} layers ...",
                          lambda name: check_stack(name, layers))
    if as_json:
        emit_json(documents[0] if len(documents) == 1 else {"verdicts": documents})
    else:
        for d, name in zip(documents, names):
            click.echo(_verdict_text(d) if layers == 1 else
                       f"{name} x {layers} layers: {d['verdict']} ({d['rule']})"
                       + (f"; threshold depth {d['threshold_depth']} ({d['threshold_depth_status']})" if "threshold_depth" in d else ""))
