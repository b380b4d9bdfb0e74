"""The README and docs/ stay honest: every `cityrank …` command they show parses with the real
parser, every command is described in exactly one place, their links lead somewhere, and every
mart view and column carries the COMMENT the docs promise."""

import re
import shlex
from pathlib import Path

import psycopg
import pytest

from cityrank_pipeline.cli import _leaf_commands, build_parser

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# Placeholders the docs write in synopses, and a value of the right type for each.
PLACEHOLDERS = {"D": "2026-01-01", "YYYY-MM-DD": "2026-01-01", "N": "3", "COMMAND": "run"}
COMMAND_PATHS = {path for path, _, _ in _leaf_commands(build_parser())}


def shown_commands(text: str) -> list[str]:
    """Every `cityrank …` invocation in inline code or in a code block of a markdown page."""
    found = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
        found += [line.split(" #")[0] for line in block.splitlines()]
    found += re.findall(r"`([^`\n]*cityrank [^`\n]*)`", re.sub(r"```.*?```", "", text, flags=re.S))
    commands = []
    for snippet in found:
        for match in re.finditer(r"(?:^|[\s\"(&]|\$\()(cityrank (?:[^\"`)&;]|\\\|)*)", snippet):
            command = match.group(1).strip()
            if not re.match(r"cityrank [a-z-]", command) or command.startswith("cityrank_"):
                continue
            commands.append(command)
    return commands


def to_argv(command: str) -> list[str]:
    """The command as a user would type it: optional groups filled in, first of alternatives."""
    text = command.replace("\\|", "|").replace("…", "")
    text = re.sub(r"\s*>\s*\S+$", "", text)  # output redirection
    text = re.sub(r"\[([^\]]*)\]", lambda m: m.group(1).split("|")[0], text)
    words = []
    for word in shlex.split(text)[1:]:
        word = word.split("|")[0] if "|" in word and not word.startswith("-") else word
        words.append(PLACEHOLDERS.get(word, word))
    return words


def test_pages_show_commands():
    commands = [c for page in PAGES for c in shown_commands(page.read_text(encoding="utf-8"))]
    assert len(commands) > 40
    assert "cityrank run" in commands and "cityrank status" in commands and "cityrank db stop" in commands


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_command_shown_parses(page):
    for command in shown_commands(page.read_text(encoding="utf-8")):
        argv = to_argv(command)
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:
            if argv[-1:] == ["--help"] and exc.code == 0:
                continue
            if " ".join(argv) in COMMAND_PATHS:  # the command named in prose, not an invocation
                continue
            raise AssertionError(f"{page.name}: `{command}` does not parse ({argv})") from None
        assert callable(args.func), command


def test_every_command_is_described_once_in_the_cli_reference():
    rows: dict[str, int] = {}
    for page in PAGES:
        for row in re.findall(r"(?m)^\| `(cityrank [^`]*)`", page.read_text(encoding="utf-8")):
            name = " ".join(w for w in to_argv(row) if not w.startswith("-") and w.islower() and "/" not in w)
            rows[name] = rows.get(name, 0) + 1
            assert page.name == "cli.md", f"{page.name} describes `{row}`: command descriptions live in docs/cli.md"
    parser = build_parser()
    for path, _, _ in _leaf_commands(parser):
        group = path.split()[0]
        described = [name for name in rows if name == path or name.startswith(f"{path} ")
                     or (group in ("schedules", "sensors") and name.startswith(group))]
        assert described, f"cityrank {path} is not described in docs/cli.md"
    assert all(count == 1 for count in rows.values()), rows


def test_the_quickstart_keeps_its_two_commands():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    assert "```bash\npip install -e . && cityrank run\n```" in quickstart
    assert "```bash\npip install -e \".[test]\" && python -m pytest -q\n```" in quickstart
    assert "cityrank db stop" in quickstart and "cityrank status" in quickstart


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_links_lead_to_files_and_headings_that_exist(page):
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name} links to {target}"
        if anchor and linked.suffix == ".md":
            headings = re.findall(r"(?m)^#+ (.+)$", linked.read_text(encoding="utf-8"))
            slugs = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}
            assert anchor in slugs, f"{page.name} links to {target}: no such heading"
    if page.name == "README.md":
        assert {p.name for p in PAGES[1:]} <= set(re.findall(r"\(docs/([\w-]+\.md)", text))


def test_every_mart_view_and_column_has_a_comment(migrated_url):
    with psycopg.connect(migrated_url) as conn:
        missing = conn.execute(
            """SELECT c.relname || '.' || a.attname
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
               LEFT JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass
                                         AND d.objsubid = a.attnum
               WHERE n.nspname = 'mart' AND c.relkind IN ('v', 'm') AND d.description IS NULL
               ORDER BY 1""").fetchall()
        views_without = conn.execute(
            """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'mart' AND c.relkind IN ('v', 'm')
                 AND obj_description(c.oid, 'pg_class') IS NULL""").fetchall()
        columns = conn.execute(
            """SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'mart' AND c.relkind IN ('v', 'm') AND a.attnum > 0 AND NOT a.attisdropped""").fetchone()[0]
    assert columns > 200
    assert [m[0] for m in missing] == [] and views_without == []
