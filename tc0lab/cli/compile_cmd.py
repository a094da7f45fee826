"""`tc0lab compile`: compile zoo architectures into circuits and report depth and size.

Thin layer over `tc0lab.cli.compile_report`; never imports torch.
"""
from __future__ import annotations

from pathlib import Path

import click

from tc0lab.cli.common import emit_json, json_option, library_errors, parse_int_list
from tc0lab.cli.compile_report import (DEFAULT_MAX_GRAPH_NODES, DEFAULT_MAX_NODES, CompileRequest,
                                       refuse_if_too_large, scaling_report)
from tc0lab.spec import zoo

MAX_N = 10**12  # formula mode answers any n up to here; building is limited by --max-nodes


def _parse_precision(text: str) -> int | None:
    if text == "log":
        return None
    try:
        bits = int(text)
    except ValueError:
        raise click.BadParameter(f"expected a number of bits or 'log', got {text!r}", param_hint="--precision") from None
    if not 1 <= bits <= 64:
        raise click.BadParameter(f"precision must be between 1 and 64 bits, got {bits}", param_hint="--precision")
    return bits


def _archs(arch: str) -> list[str]:
    """The named sets (every zoo architecture, as in `tc0lab check`; the Illusion paper's zoo) or a list."""
    named = {"all": zoo.ARCHS, "illusion": zoo.ILLUSION_ARCHS}
    if arch.strip().lower() in named:
        return list(named[arch.strip().lower()])
    names = [a.strip().lower() for a in arch.split(",") if a.strip()]
    unknown = [a for a in names if a not in zoo.ARCHS]
    if unknown or not names:
        raise click.ClickException(f"unknown architecture {', '.join(unknown) or arch!r}; known: {', '.join(zoo.ARCHS)}")
    return names


def _export_target(path: Path, arch: str, n: int, many: bool) -> Path:
    return path.with_name(f"{path.stem}-{arch}-n{n}{path.suffix}") if many else path


def _check_export_path(path: Path) -> None:
    from tc0lab.circuit.export import FORMATS
    if path.suffix.lower() not in FORMATS:
        raise click.ClickException(f"cannot tell the export format from {path.name!r}; use .graphml, .json or .dot")
    if not path.parent.exists() or not path.parent.is_dir():
        raise click.ClickException(f"cannot write {path}: the folder {path.parent} does not exist")


def _export(path: Path, archs: list[str], request: CompileRequest) -> list[str]:
    from tc0lab.circuit.export import export
    from tc0lab.compiler.compiling import compile_circuit
    written = []
    many = len(archs) * len(request.ns) > 1
    for arch in archs:
        stack = zoo.stack(arch, request.layers, request.d_model, request.d_state, seed=request.seed)
        for n in request.ns:
            refuse_if_too_large(stack, n, min(request.max_nodes, DEFAULT_MAX_GRAPH_NODES), graph=True)
            target = _export_target(path, arch, n, many)
            try:
                export(compile_circuit(stack, n).graph, target)
            except OSError as error:
                raise click.ClickException(f"cannot write {target}: {error.strerror or error}") from None
            written.append(str(target))
    return written


def _lowered_report(archs: list[str], request: CompileRequest, export_path: Path | None) -> dict:
    """Lower each circuit to real threshold gates, verify it bit-exactly, compare with the cost model."""
    from tc0lab.circuit.export import export
    from tc0lab.compiler.compiling import compile_circuit
    from tc0lab.threshold.lower import lower_and_measure, lower_circuit
    rows, written = [], []
    for arch in archs:
        stack = zoo.stack(arch, request.layers, request.d_model, request.d_state, seed=request.seed)
        for n in request.ns:
            refuse_if_too_large(stack, n, min(request.max_nodes, DEFAULT_MAX_GRAPH_NODES), graph=True)
            graph = compile_circuit(stack, n).graph
            row = {"arch": arch, "layers": request.layers, "n": n, **lower_and_measure(graph, request.precision_at(n))}
            rows.append(row)
            if export_path is not None:
                target = _export_target(export_path, arch, n, len(archs) * len(request.ns) > 1)
                export(lower_circuit(graph, request.precision_at(n)).circuit.to_networkx(), target)
                written.append(str(target))
    return {"lowered": rows, "exported": written}


def _format_lowered(report: dict) -> str:
    header = ["arch", "n", "bits", "depth (measured)", "depth (model)", "gates (measured)", "gates (model)", "ratio", "verified"]
    lines = [[r["arch"], r["n"], r["bits"], r["measured_depth"], r["model_depth"], f"{r['measured_gates']:,}",
              f"{r['model_gates']:,}", f"{r['ratio']:.3f}" if r["ratio"] is not None else "-",
              f"{r['verified']} ({r['samples']} random inputs)"] for r in report["lowered"]]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines)]
    text = ["threshold circuits built from real gates THR(w, theta) and evaluated bit-exactly against the "
            "fixed-point reference (measured), beside the cost model's prediction:"]
    text += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)) for row in [header] + lines]
    return "\n".join(text + [f"wrote {t}" for t in report["exported"]])


def _format_table(report: dict) -> str:
    by_arch: dict[str, list[dict]] = {}
    for row in report["circuits"]:
        by_arch.setdefault(row["arch"], []).append(row)
    ns = [row["n"] for row in next(iter(by_arch.values()))]
    source = next(iter(by_arch.values()))[0]["source"]
    header = ["arch", "construction"] + [f"depth@{n}" for n in ns] + ["growth", f"thr.gates@{ns[-1]}", "threshold depth formula"]
    lines = []
    for summary in report["architectures"]:
        rows = by_arch[summary["arch"]]
        lines.append([summary["arch"], summary["construction"]] + [str(r["depth_threshold"]) for r in rows]
                     + [summary["growth"], f"{rows[-1]['threshold_gates']:.3g}", summary["formulas"].get("depth_threshold", "")])
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines)]
    text = [f"threshold depth ({source}; layers={report['circuits'][0]['layers']}, d_model={report['circuits'][0]['d_model']}, "
            f"d_state={report['circuits'][0]['d_state']}, precision {report['precision']})"]
    text += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)) for row in [header] + lines]
    text.append("")
    text.append("cost model (threshold depth and gates per arithmetic gate; k = fan-in, p = bits):")
    for entry in report["cost_model"]:
        text.append(f"  {entry['op']:<7} depth {entry['depth']}  size {entry['size']:<34} [{entry['status']}] {entry['source']}")
    return "\n".join(text)


@click.command("compile")
@click.option("--arch", default="illusion", show_default=True,
              help=f"Zoo architecture(s), comma-separated; 'illusion' for the Illusion paper's zoo "
                   f"({' '.join(zoo.ILLUSION_ARCHS)}), 'all' for every zoo architecture (the same set "
                   f"as `tc0lab check --arch all`).")
@click.option("--layers", default=4, show_default=True, type=int, help="Stacked layers L.")
@click.option("--n", "n_list", default="8,16,32", show_default=True, help="Sequence lengths, comma-separated.")
@click.option("--d-model", default=2, show_default=True, type=int, help="Width d of a token.")
@click.option("--d-state", default=2, show_default=True, type=int, help="State size N per channel.")
@click.option("--precision", default="log", show_default=True, help="Bits p, or 'log' for 2*ceil(log2 n).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random parameters.")
@click.option("--formula", is_flag=True, help="Evaluate the symbolic formulas instead of building circuits (any n).")
@click.option("--max-nodes", default=DEFAULT_MAX_NODES, show_default=True, type=int,
              help="Refuse to build circuits estimated above this many nodes (with --export or --lower, "
                   f"also above {DEFAULT_MAX_GRAPH_NODES:,}: the graph costs ~9x the memory).")
@click.option("--lower", type=click.Choice(["threshold"]),
              help="Lower each circuit to real threshold gates, verify it and compare with the cost model.")
@click.option("--export", "export_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the circuit(s) to .graphml, .json (node-link) or .dot.")
@click.option("--workers", default=None, type=click.IntRange(min=1),
              help="Processes compiling architectures at once [default: one per core; use 1 on a busy machine].")
@json_option
@library_errors
def compile_command(arch: str, layers: int, n_list: str, d_model: int, d_state: int, precision: str, seed: int,
                    formula: bool, max_nodes: int, lower: str | None, export_path: Path | None, workers: int | None,
                    as_json: bool) -> None:
    """Compile L stacked layers at each n into a circuit and measure its depth and size.

    Prints, per architecture, the threshold depth at each n, its growth class
    (constant / logarithmic / linear), the threshold-gate count at the largest n and the
    symbolic formula. Every number is measured on a built circuit unless --formula is given.
    """
    if layers < 1:
        raise click.BadParameter(f"must be >= 1, got {layers}", param_hint="--layers")
    if d_model < 1 or d_state < 1:
        raise click.BadParameter("--d-model and --d-state must be >= 1")
    ns = parse_int_list(n_list, "--n")
    too_long = [n for n in ns if n > MAX_N]
    if too_long:
        raise click.BadParameter(f"n={too_long[0]} is absurd; at most {MAX_N:.0e}", param_hint="--n")
    request = CompileRequest(layers, tuple(ns), d_model, d_state, _parse_precision(precision), seed, max_nodes)
    archs = _archs(arch)
    if export_path is not None:
        _check_export_path(export_path)
    if lower is not None:
        lowered = _lowered_report(archs, request, export_path)
        emit_json(lowered) if as_json else click.echo(_format_lowered(lowered))
        return
    report = scaling_report(archs, request, build=not formula, workers=workers)
    if export_path is not None:
        report["exported"] = _export(export_path, archs, request)
    if as_json:
        emit_json(report)
    else:
        click.echo(_format_table(report))
        for target in report.get("exported", []):
            click.echo(f"wrote {target}")
