"""Messages only suggest command-line options that exist.

Every ``--option`` written in a string of seqlab's source (error messages, hints, help texts) must
be an option of some ``seqlab`` command, unless it belongs to another tool named in the same
string. A hint such as "pass --errors replace" for an option that was never added would send a
user in circles.
"""

import ast
import re
from pathlib import Path

import click

import seqlab
from seqlab.cli.main import main

#: Options of other programs that seqlab's messages may quote.
OTHER_TOOLS = {
    "--help": "click's built-in help option",
    "--force-reinstall": "pip",
    "--nproc_per_node": "torchrun",
}

OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9_-]*")


def cli_options() -> set[str]:
    options: set[str] = set()
    stack = [main]
    while stack:
        command = stack.pop()
        for param in command.params:
            options |= set(getattr(param, "opts", ())) | set(getattr(param, "secondary_opts", ()))
        if isinstance(command, click.Group):
            stack += command.commands.values()
    return options


def mentioned_options() -> dict[str, list[str]]:
    """``--option`` -> the source files whose string constants mention it."""
    found: dict[str, list[str]] = {}
    root = Path(seqlab.__file__).parent
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for option in OPTION.findall(node.value):
                    found.setdefault(option, []).append(str(path.relative_to(root)))
    return found


def test_every_suggested_option_exists():
    options = cli_options()
    unknown = {
        option: files
        for option, files in mentioned_options().items()
        if option not in options and option not in OTHER_TOOLS
    }
    assert not unknown, f"messages suggest options that no seqlab command has: {unknown}"


def test_the_check_sees_the_messages():
    """The scan finds options in error messages of the libraries, not only in the CLI."""
    found = mentioned_options()
    assert "embeddings/keyedvectors.py" in found["--min-count"]
    assert "embeddings/formats.py" in found["--format"]
