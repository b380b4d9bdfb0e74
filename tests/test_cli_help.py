"""Every command explains itself: a description and examples under --help, and every example parses."""

import shlex

import pytest

from cityrank_pipeline.cli import EXAMPLES, _leaf_commands, build_parser

COMMANDS = list(_leaf_commands(build_parser()))


def test_every_command_has_examples():
    assert {path for path, _, _ in COMMANDS} == set(EXAMPLES)


@pytest.mark.parametrize("path, parser, help_text", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_help_has_a_description_and_examples(path, parser, help_text, capsys):
    assert help_text and parser.description
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*path.split(), "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert parser.description.split(".")[0] in out.replace("\n", " ").replace("  ", " ") or parser.description[:30] in out
    assert "examples:" in out and all(example in out for example in EXAMPLES[path])


@pytest.mark.parametrize("example", [e for examples in EXAMPLES.values() for e in examples])
def test_every_example_parses(example):
    words = shlex.split(example.split(" > ")[0])
    words = words[words.index("cityrank") + 1:]
    args = build_parser().parse_args(words)
    assert callable(args.func)
