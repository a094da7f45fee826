"""`tc0lab check`: TC0 / NC1-hard / open verdicts for zoo layers, and predictions for the probe."""
from __future__ import annotations

import click

from tc0lab.cli.common import emit_json, json_option, library_errors, log


def _arch_names(arch: str) -> list[str]:
    from tc0lab.spec.zoo import ARCHS
    return list(ARCHS) if arch == "all" else [arch]


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


@click.command("check")
@click.option("--arch", default="all", show_default=True, help="Zoo architecture, or 'all'.")
@click.option("--group", default=None, help="A group (e.g. S5, A4xZ5): print the prediction for the probe.")
@click.option("--layers", default=1, show_default=True, type=click.IntRange(min=1), help="Stack depth L.")
@click.option("--latex", is_flag=True, help="Print a LaTeX table of the verdicts.")
@click.option("--workers", default=None, type=click.IntRange(min=1),
              help="Processes checking layers at once [default: one per core].")
@json_option
@library_errors
def check_command(arch: str, group: str | None, layers: int, latex: bool, workers: int | None, as_json: bool) -> None:
    """Decide TC0 vs NC1-hard for a layer from its matrices, with a verified witness."""
    from tc0lab.check.predict import predict
    from tc0lab.check.stack import check_stack, latex_table
    from tc0lab.check.batch import check_many
    names = _arch_names(arch)
    if group is not None:
        rows = []
        for name in names:
            log(f"predicting {name} on {group} ...")
            rows.append(predict(name, group))
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
        documents = []
        for name in names:
            log(f"checking {name} x {layers} layers ...")
            documents.append(check_stack(name, layers))
    if latex:
        from tc0lab.formulas import cached_zoo_formulas
        formulas = {name: cached_zoo_formulas(name)[0].depth_threshold for name in names}  # names are zoo archs here
        click.echo(latex_table([d if layers == 1 else {**d["layer_verdicts"][0], **{k: d[k] for k in ("verdict", "rule")}}
                                for d in documents], formulas))
    elif as_json:
        emit_json(documents[0] if len(documents) == 1 else {"verdicts": documents})
    else:
        for d, name in zip(documents, names):
            click.echo(_verdict_text(d) if layers == 1 else
                       f"{name} x {layers} layers: {d['verdict']} ({d['rule']})"
                       + (f"; threshold depth {d['threshold_depth']} ({d['threshold_depth_status']})" if "threshold_depth" in d else ""))
