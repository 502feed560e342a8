"""``callcenter ivr check``: load an IVR flow and check it as a save would (docs/ivr.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from callcenter.cli.app import app, fail, write_stdout

ivr_app = typer.Typer(help="IVR flows: check a flow file.", no_args_is_help=True)
app.add_typer(ivr_app, name="ivr")


@ivr_app.command("check")
def check_cmd(
    flow_file: Path = typer.Argument(..., help="The flow, a YAML file (docs/ivr.md)."),
    prompts: Path | None = typer.Option(
        None,
        "--prompts",
        help="Folder of the center's own prompts (<language>/<name>.wav); default: the "
        "ivr_prompts_dir setting. Debian's recorded prompts are always there.",
    ),
    queue: list[str] | None = typer.Option(
        None, "--queue", help="A queue the center has (repeat); given: unknown queues fail."
    ),
    hours: list[str] | None = typer.Option(
        None, "--hours", help="A business-hours name (repeat); given: unknown names fail."
    ),
) -> None:
    """Print the flow's summary, or the one line saying why it cannot work (exit 1)."""
    from callcenter.errors import UserError
    from callcenter.settings import Settings
    from callcenter.voice.ivr import PromptCatalogue, check_flow, load_flow

    settings = Settings.load()
    own = prompts if prompts is not None else settings.ivr_prompts
    if prompts is not None and not prompts.is_dir():
        raise fail(f"--prompts {prompts}: no such folder", 1)
    catalogue = PromptCatalogue([own, settings.ivr_sounds_dir])
    try:
        flow = load_flow(flow_file)
        check_flow(flow, catalogue, queues=queue or None, hours=hours or None)
    except UserError as e:
        raise fail(str(e), 1) from None
    write_stdout(summary(flow))


def summary(flow: object) -> str:
    """A few lines describing a checked flow."""
    from collections import Counter

    from callcenter.voice.ivr.model import CollectNode, Flow, HoursNode, prompts_of

    assert isinstance(flow, Flow)
    nodes = flow.nodes.values()
    kinds = Counter(n.kind for n in nodes)
    queues = sorted({q for n in nodes if (q := getattr(n, "queue", None)) is not None})
    hours = sorted({n.hours for n in nodes if isinstance(n, HoursNode)})
    variables = [
        f"{n.variable} ({n.label})" if n.label else n.variable
        for n in nodes
        if isinstance(n, CollectNode)
    ]
    names = {name for n in nodes for _, p in prompts_of(n) for _, name in p.all_names(flow.offered)}
    lines = [
        f"flow {flow.name}: {len(flow.nodes)} nodes, start {flow.start_node!r}, "
        f"languages {', '.join(flow.offered)} (default {flow.language})",
        "  nodes: " + ", ".join(f"{k} {v}" for k, v in kinds.items()),
        "  queues: " + (", ".join(queues) or "none"),
        "  business hours: " + (", ".join(hours) or "none"),
        "  collected: " + (", ".join(variables) or "nothing"),
        f"  prompts: {len(names)} names, each recorded in {', '.join(flow.offered)}",
        "ok",
    ]
    return "\n".join(lines)
