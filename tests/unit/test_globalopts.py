"""Global options after the command name (``revgraph check -q``): the table and ``hoist``.

The table the fast paths read (``globalopts.VALUES``/``FLAGS``) is held
against the typer callback, so the two cannot drift; ``hoist`` is held
against click's own parse of the command line the user meant.
"""

from __future__ import annotations

import pytest
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revgraph import cli, entry, globalopts, resultcache


def click_group():
    return typer.main.get_command(cli.app)


def options_of(command) -> dict[str, tuple[str, bool, object]]:
    """spelling -> (parameter name, takes a value, value when given as a flag)."""
    found = {}
    for p in command.params:
        if p.param_type_name != "option":
            continue
        # typer's flags are boolean: True when given, False for --no-x.
        assert not p.is_flag or p.is_bool_flag, p.name
        for s in p.opts:
            found[s] = (p.name, not p.is_flag, True if p.is_flag else None)
        for s in p.secondary_opts:  # --no-color
            found[s] = (p.name, False, False)
    return found


def command_named(name: str):
    group = click_group()
    return group.get_command(None, name)


# ------------------------------------------------------------ one table
def test_the_fast_paths_global_table_is_the_callbacks():
    callback = options_of(click_group())
    table = {s: (key, True, None) for s, key in globalopts.VALUES.items()}
    table.update({s: (key, False, value) for s, (key, value) in globalopts.FLAGS.items()})
    for spelling in globalopts.FULL_CLI_ONLY:
        table[spelling] = callback.get(spelling)
    assert table == callback


def test_the_table_hoist_reads_is_the_callbacks_too():
    callback = {s: takes for s, (_, takes, _) in options_of(click_group()).items()}
    assert globalopts.TAKES_VALUE == {**callback, "-h": False, "--help": False}


def test_the_merge_driver_has_no_option_of_its_own():
    # entry.moves_global reads merge-driver's options as the help options only.
    assert options_of(command_named("merge-driver")) == {}


@pytest.mark.parametrize(
    "command, values, flags",
    [("check", resultcache._CHECK_VALUES, resultcache._CHECK_FLAGS),
     ("heads", entry.HEADS_VALUES, entry.HEADS_FLAGS)],
)  # fmt: skip
def test_a_fast_path_knows_each_global_spelling_its_command_has(command, values, flags):
    # parse_argv reads a spelling it does not find in the command's (partial)
    # fast table as a global option: the command's own must be there.
    own = set(options_of(command_named(command))) & (set(globalopts.VALUES) | set(globalopts.FLAGS))
    assert own <= set(values) | set(flags)


# ---------------------------------------------------------------- hoist
GLOBALS = {"-C": True, "-c": True, "--config": True, "-n": True, "--name": True, "-q": False,
           "--quiet": False, "-v": False, "--verbose": False, "--no-cache": False,
           "--color": False, "--no-color": False, "-h": False, "--help": False}  # fmt: skip
COMMANDS = {
    "check": {"--base": True, "-f": True, "--format": True, "--strict": False, "-h": False, "--help": False},
    "heads": {"--ref": True, "-v": False, "--verbose": False, "-h": False, "--help": False},
    "fix": {"-n": False, "--dry-run": False, "-m": True, "--message": True, "-s": True},
}


def hoist(*args: str) -> list[str]:
    return globalopts.hoist(args, GLOBALS, COMMANDS.get)


@pytest.mark.parametrize(
    "argv, expected",
    [
        ("check -q", "-q check"),
        ("check --base main -q", "-q check --base main"),
        ("-v check --no-cache --base main --quiet", "-v --no-cache --quiet check --base main"),
        ("check -C dir --config=a.ini", "-C dir --config=a.ini check"),
        ("check -Cdir", "-Cdir check"),
        ("--color check --no-color", "--color --no-color check"),  # the last one still wins
        ("check --base -q", "check --base -q"),  # the value of --base, as click reads it
        ("check --base=-q -q", "-q check --base=-q"),
        ("check -C -q", "-C -q check"),  # the folder -q
        ("check -f -q", "check -f -q"),
        ("check -fjson -q", "-q check -fjson"),
        ("check -- -q", "check -- -q"),
        ("check --strict -- -q", "check --strict -- -q"),
        ("check -qv", "-qv check"),
        ("check -qfjson", "-q check -fjson"),
        ("check -qf json", "-q check -f json"),
        ("check -qC dir", "-qC dir check"),
        ("check -qz", "-q check -z"),  # click reports -z, where it stands
        ("check --bogus -q", "-q check --bogus"),
        ("check --help -q", "-q check --help"),
        ("heads -v", "heads -v"),  # heads' own -v wins
        ("heads -qv", "-q heads -v"),
        ("heads --verbose --quiet", "--quiet heads --verbose"),
        ("fix -n", "fix -n"),  # fix's --dry-run, not --name
        ("fix -m -q", "fix -m -q"),  # a message
        ("fix -m -q -q", "-q fix -m -q"),
        ("fix --message=-q --name x", "--name x fix --message=-q"),
        ("fix -nm -q", "fix -nm -q"),
        ("fix -qnm msg", "-q fix -nm msg"),
        ("fix a -q b", "-q fix a b"),  # arguments stay in their order
        ("fix - -q", "-q fix -"),
        ("-C dir fix -q", "-C dir -q fix"),
        ("-C check check -q", "-C check -q check"),  # the folder named check
        ("check", "check"),
        ("-q", "-q"),
        ("", ""),
        ("nosuch -q", "nosuch -q"),  # not a command: click says so
        ("--bogus check -q", "--bogus check -q"),
        ("-- check -q", "-- check -q"),
    ],
)
def test_hoist_moves_global_options_as_click_would_read_them(argv, expected):
    assert hoist(*argv.split()) == expected.split()


@pytest.mark.parametrize("argv, option", [("check -C", "-C"), ("check -q --config", "--config"),
                                          ("check -qC", "-C")])  # fmt: skip
def test_hoist_refuses_a_global_option_without_its_value(argv, option):
    # Moved in front of the command it would take the command's name as its value.
    with pytest.raises(globalopts.MissingValue) as raised:
        hoist(*argv.split())
    assert raised.value.option == option


@pytest.mark.parametrize(
    "argv, expected",
    [
        ("--env a --env b check", ("--env", "a", "b")),
        ("--env=a -q --env b check", ("--env", "a", "b")),
        ("-c x.ini --config y.ini check", ("--config", "x.ini", "y.ini")),
        ("-qn one -n two heads", ("-n", "one", "two")),
        ("--env a --env a check", None),  # the same value twice means it once
        ("--env a -n a check", None),
        ("-q -q check --env a", None),
        ("-C a -C b check", None),  # relative to the first, as in git
    ],
)
def test_a_global_option_given_twice_with_two_values_is_found(argv, expected):
    table = cli._option_table(typer.main.get_group(cli.app), ["-h", "--help"])
    assert globalopts.conflicting_values(argv.split(), table) == expected


def test_check_refuses_an_environment_named_twice_instead_of_taking_the_last(capsys):
    # click kept the last silently: `--env a check --env b` checked b alone.
    code = cli.run_app(["--env", "a", "check", "--env", "b"])
    assert code == 2
    assert "Option '--env' given twice, as 'a' and as 'b': give it once." in capsys.readouterr().err


def test_a_commands_help_names_the_global_options_it_takes_there():
    # A spelling the command has itself is not offered (the command's wins).
    fix = command_named("fix").epilog
    heads = command_named("heads").epilog
    check = command_named("check").epilog
    assert "-q/--quiet" in check and "-n/--name" in check and "-v/--verbose" in check
    assert "--name" in fix and "-n/--name" not in fix
    assert "-v" not in heads.split("--color/--no-color")[1] and "-q/--quiet" in heads
    assert "--version" not in check.replace("--versions", "")


# ------------------------------------------------- against click's parse
CHECK_FLAGS = ["--strict"]
CHECK_VALUED = ["--base", "--format", "-f", "--select", "--ignore", "-o", "--output", "--db"]
GLOBAL_FLAGS = ["--no-cache", "--color", "--no-color", "-q", "--quiet", "-v", "--verbose", "-qv"]
GLOBAL_VALUED = ["-C", "-c", "--config", "-n", "--name", "--versions", "--env"]
VALUES = ["main", "-q", "--quiet", "-C", "json", "--", "-", "a=b", "check"]


def part(flags, valued, is_global):
    flag = st.sampled_from(flags).map(lambda f: [f])
    pair = st.tuples(st.sampled_from(valued), st.sampled_from(VALUES)).map(list)
    inline = st.tuples(st.sampled_from([o for o in valued if o.startswith("--")]),
                       st.sampled_from(VALUES)).map(lambda t: [f"{t[0]}={t[1]}"])  # fmt: skip
    return st.tuples(st.just(is_global), st.one_of(flag, pair, inline))


@st.composite
def check_lines(draw):
    """(what the user typed, what it means): globals anywhere, and the same with them in front."""
    before = draw(st.lists(part(GLOBAL_FLAGS, GLOBAL_VALUED, True), max_size=2))
    after = draw(st.lists(st.one_of(part(GLOBAL_FLAGS, GLOBAL_VALUED, True),
                                    part(CHECK_FLAGS, CHECK_VALUED, False)), max_size=5))  # fmt: skip
    cut = draw(st.one_of(st.none(), st.integers(0, len(after))))  # where a `--` goes, if any
    typed, meant_front, meant_rest = [], [], []
    for _, tokens in before:
        typed += tokens
        meant_front += tokens
    typed.append("check")
    for k, (is_global, tokens) in enumerate(after):
        if k == cut:
            typed.append("--")
            meant_rest.append("--")
        typed += tokens
        (meant_front if is_global and (cut is None or k < cut) else meant_rest).extend(tokens)
    return typed, [*meant_front, "check", *meant_rest]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=check_lines())
def test_a_check_line_with_global_options_anywhere_means_them_in_front(lines, monkeypatch, capsys):
    typed, meant = lines

    def outcome(argv):
        seen = []

        def record(**kw):
            s = cli.state()
            seen.append((s.options, s.quiet, s.verbose, s.color, kw))
            return 0

        with monkeypatch.context() as m:
            m.setattr(cli, "_run_check", record)
            capsys.readouterr()
            code = cli.run_app(list(argv))
        return code, seen, capsys.readouterr().err

    assert outcome(typed) == outcome(meant), typed
