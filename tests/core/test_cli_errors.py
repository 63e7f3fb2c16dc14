"""The CLI turns user errors into one line on stderr with exit code 2."""
import subprocess
import sys

from attnscope.errors import ConfigError, DomainError


def test_error_one_line_names_field_and_value():
    err = DomainError("must be > 0", field="rope_theta", value=-1.0)
    assert err.one_line() == "rope_theta=-1.0: must be > 0"
    assert isinstance(err, ValueError)
    assert "\n" not in ConfigError("bad\n  json", field="config", value="x").one_line()


def test_main_maps_attnscope_error_to_exit_2(monkeypatch, capsys):

    from attnscope import cli

    @cli.app.command("_raise_for_test", hidden=True)
    def _raise() -> None:
        raise DomainError("must be > 0", field="T", value=0)

    try:
        code = cli.run(["_raise_for_test"])
    finally:
        cli.app.registered_commands = [c for c in cli.app.registered_commands if c.name != "_raise_for_test"]
    assert code == 2
    err = capsys.readouterr().err
    assert err.strip() == "attnscope: error: T=0: must be > 0"
    assert "Traceback" not in err


def test_unknown_command_exits_2():
    proc = subprocess.run([sys.executable, "-m", "attnscope", "no-such-command"], capture_output=True, text=True)
    assert proc.returncode == 2


def test_run_returns_exit_codes_in_process(capsys):
    from attnscope import cli

    assert cli.run(["presets", "--json"]) == 0
    assert cli.run(["card", "pythia-70m", "--context", "-5"]) == 2
    assert "context=-5" in capsys.readouterr().err
