"""The command line: exit codes, formats, JSON shapes, schema, light imports."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
Q5 = ROOT / "specs/seed/q5-architecture.yaml"
Q6 = ROOT / "specs/seed/q6-design.yaml"


def test_validate_json_shape(cli):
    r = cli("validate", "--format", "json", Q6, ROOT / "specs/invalid/unknown-key.yaml")
    assert r.code == 1
    files = json.loads(r.out)["files"]
    assert [f["valid"] for f in files] == [True, False]
    d = files[1]["diagnostics"][0]
    assert set(d) >= {"line", "column", "code", "severity", "message"} and d["code"] == "unknown-key"


def test_usage_errors_exit_2(cli, tmp_path):
    assert cli("validate", tmp_path / "missing.yaml").code == 2
    assert cli("validate", tmp_path).code == 2  # folder without specs
    assert cli("nonsense").code == 2


def test_shapes_json(cli):
    r = cli("shapes", "--format", "json", Q6)
    assert r.code == 0
    doc = json.loads(r.out)
    first = doc["layers"][0]
    assert set(first) >= {"index", "name", "type", "input", "output", "params", "macs"}
    assert first["input"] == [224, 224, 3] and first["output"] == [112, 112, 64]
    assert doc["layers"][-2]["output"] == [12544] and doc["layers"][-1]["output"] == [5]
    assert doc["params"] == sum(layer["params"] for layer in doc["layers"])


def test_shapes_text_shows_arithmetic(cli):
    r = cli("shapes", Q5)
    assert "floor((106 - 2 + 2*0) / 2) + 1 = 53" in r.out
    assert "5,307,210" in r.out


def test_shapes_markdown(cli):
    r = cli("shapes", "--format", "markdown", Q6)
    assert r.out.splitlines()[2].startswith("| # | layer |")


def test_shapes_of_invalid_spec_reports(cli):
    r = cli("shapes", ROOT / "specs/invalid/kernel-too-large.yaml")
    assert r.code == 1 and "kernel-too-large" in r.err


def test_schema_is_json_schema_with_every_layer(cli, tmp_path):
    r = cli("schema")
    schema = json.loads(r.out)
    text = json.dumps(schema)
    for t in ("conv2d", "maxpool2d", "linear", "flatten", "before_flatten"):
        assert f'"{t}"' in text
    assert "prefixItems" not in text  # the YAML language server ignores tuple schemas


def test_committed_schema_is_current(cli):
    r = cli("schema")
    assert (ROOT / "schema/archspec.schema.json").read_text() == r.out, \
        "run: archspec schema -o schema/archspec.schema.json"


def test_validate_does_not_import_heavy_modules():
    code = ("import sys; from archspec.cli import main; rc = main(['validate', '-q', %r]); "
            "heavy = [m for m in ('torch', 'sympy', 'graphviz', 'numpy', 'matplotlib') if m in sys.modules]; "
            "print(heavy); sys.exit(rc)") % str(ROOT / "specs")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.stdout.strip().splitlines()[-1] == "[]", p.stdout + p.stderr


def test_python_api():
    import archspec

    spec = archspec.load(str(Q6))
    assert archspec.shapes(spec).output == (5,)
    assert archspec.check_file(Q6).valid
    with pytest.raises(TypeError, match="kind: cnn"):
        archspec.shapes(str(ROOT / "specs/seed/q4a-conv.yaml"))


@pytest.mark.parametrize("spec, option", [("specs/seed/q5-architecture.yaml", ["--activation", "relu"]),
                                          ("specs/seed/q4a-conv.yaml", ["--steps", "3"])])
def test_explain_refuses_options_the_kind_does_not_take(cli, spec, option):
    r = cli("explain", ROOT / spec, *option)
    assert r.code == 2 and option[0] in r.err and r.out == ""


def test_explain_passes_equation_options(cli):
    r = cli("explain", ROOT / "specs/seed/q2-backprop.yaml", "--activation", "relu", "--steps", "2", "--format", "json")
    assert r.code == 0 and "loss_after" in r.out


def test_validate_a_folder_skips_hidden_files_and_folders(cli, tmp_path):
    """`archspec validate .` in a project must not read .venv's or .git's YAML (torch ships some) as specs."""
    (tmp_path / "net.yaml").write_text((ROOT / "specs" / "seed" / "q3a.yaml").read_text())
    for hidden in (".venv/lib/torch/schema.yaml", ".git/x.yml", ".pre-commit-hooks.yaml"):
        (tmp_path / hidden).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / hidden).write_text("- id: not-a-spec\n")
    r = cli("validate", tmp_path)
    assert r.code == 0 and "1 valid, 0 invalid" in r.err, r.out + r.err
    assert cli("validate", tmp_path / ".pre-commit-hooks.yaml").code == 1  # named on the command line: checked


@pytest.mark.parametrize("suffix, start", [(".tex", "% archspec explain --format latex"), (".json", "{"),
                                           (".md", "# q2-backprop"), (".txt", "q2-backprop: worked solution\n===")])
def test_explain_output_format_follows_the_extension(cli, tmp_path, suffix, start):
    """As render does: `explain -o q2.tex` writes LaTeX (it wrote Markdown into a .tex file)."""
    out = tmp_path / f"q2{suffix}"
    assert cli("explain", ROOT / "specs" / "seed" / "q2-backprop.yaml", "-o", out).code == 0
    assert out.read_text().startswith(start)


def test_explain_refuses_an_extension_it_cannot_write(cli, tmp_path):
    """`explain -o q2.pdf` wrote Markdown text into q2.pdf; an extension-less name still gets Markdown."""
    r = cli("explain", ROOT / "specs" / "seed" / "q2-backprop.yaml", "-o", tmp_path / "q2.pdf")
    assert r.code == 2 and "cannot tell the format from" in r.err and ".md, .tex, .json, .txt" in r.err
    assert not (tmp_path / "q2.pdf").exists()
    assert cli("explain", ROOT / "specs" / "seed" / "q2-backprop.yaml", "-o", tmp_path / "q2").code == 0
    assert (tmp_path / "q2").read_text().startswith("# q2-backprop")


def test_explain_format_flag_wins_over_the_extension(cli, tmp_path):
    out = tmp_path / "q2.tex"
    assert cli("explain", ROOT / "specs" / "seed" / "q2-backprop.yaml", "-o", out, "--format", "markdown").code == 0
    assert out.read_text().startswith("# q2-backprop")


@pytest.mark.parametrize("argv, name", [
    (["explain", "specs/seed/q2-backprop.yaml", "-o"], "q2.md"),
    (["render", "specs/seed/q3a.yaml", "-o"], "q3a.dot"),
    (["schema", "-o"], "schema.json"),
    (["compile", "specs/seed/medical-cnn.yaml", "-q", "--code"], "model.py"),  # -q: no summary on stdout
])
def test_every_command_that_writes_a_file_says_so_on_stderr(cli, tmp_path, monkeypatch, argv, name):
    monkeypatch.chdir(ROOT)
    r = cli(*argv, tmp_path / name)
    assert r.code == 0, r.err
    assert r.out == "" and r.err.strip().endswith(f"wrote {tmp_path / name}") and (tmp_path / name).is_file()


def test_version_and_a_bare_command_line(cli):
    import archspec

    r = cli("--version")
    assert r.code == 0 and r.out.strip() == f"archspec {archspec.__version__}"
    r = cli()
    assert r.code == 2 and "validate" in r.err and "train" in r.err and "COMMAND --help" in r.err


def test_the_package_version_is_the_distributions():
    import tomllib

    import archspec

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert archspec.__version__ == meta["version"]


DIGITS = ROOT / "specs/examples/digits-cnn.yaml"


@pytest.mark.parametrize("absent, argv", [("torch", ["compile", Q5]), ("torch", ["train", DIGITS, "--epochs", "1"]),
                                          ("PIL", ["train", DIGITS, "--epochs", "1"]),
                                          ("torch", ["predict", Q5, "img.png", "--weights", "model.safetensors"])])
def test_train_commands_without_the_train_extra_say_what_to_install(absent, argv, tmp_path):
    """`pip install archspec-nn` has no torch: compile/train/evaluate/predict say so in one line, no traceback."""
    code = (f"import sys; sys.modules[{absent!r}] = None  # as if not installed\n"
            "from archspec.cli import main; sys.exit(main(sys.argv[1:]))")
    p = subprocess.run([sys.executable, "-c", code, *map(str, argv)], capture_output=True, text=True, cwd=tmp_path)
    expected = f"archspec: this command needs '{absent}': pip install 'archspec-nn[train]'\n"
    assert (p.returncode, p.stderr) == (2, expected)


def test_validate_github_format_writes_workflow_annotations(cli, tmp_path):
    path = tmp_path / "bad,name.yaml"
    path.write_text("kind: cnn\ninput: [8, 8, 1]\nlayers:\n  - {type: conv2d, out_channels: 4, kernel_size: 9}\n")
    r = cli("validate", "--format", "github", path, ROOT / "specs" / "seed" / "q6-design.yaml")
    assert r.code == 1
    (line,) = r.out.splitlines()  # the valid spec prints nothing
    where = str(path).replace(":", "%3A").replace(",", "%2C")
    assert line.startswith(f"::error file={where},line=4,col=") and ",title=archspec kernel-too-large::" in line
    assert "\n" not in line and "%0Ahint: " in line


def test_no_command_or_trainer_chooses_by_kind_name():
    """Per-kind behaviour lives in archspec/kinds.py: commands, training and the design search read its rows,
    so adding a kind touches one row (plus its modules)."""
    import re

    for path in sorted((ROOT / "archspec").rglob("*.py")):
        if path.name == "kinds.py" or "__pycache__" in path.parts:
            continue
        text = path.read_text()
        found = re.findall(r"kind\s*(?:==|!=|not in|in)\s*[\"'({](?:cnn|equations|feature_map|rules)", text)
        assert not found, f"{path.relative_to(ROOT)} chooses by kind: {found}"


def test_every_function_level_import_says_why():
    """An import inside a function is there for a reason (torch or graphviz only on use, the CLI's start-up, a
    module that loads only for one command), and a comment on its line, or above the run of import lines it
    belongs to, says which; one that only dodged an import circle is fixed instead (issue 18, item 3)."""
    import ast

    silent = []
    for path in sorted((ROOT / "archspec").rglob("*.py")):
        rel = path.relative_to(ROOT / "archspec")
        if "__pycache__" in path.parts:
            continue
        lines = path.read_text().splitlines()
        for fn in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if not isinstance(node, (ast.Import, ast.ImportFrom)):
                    continue
                i = node.lineno - 2  # up through the uncommented import lines of the run
                while i >= 0 and lines[i].strip().startswith(("import ", "from ")) and "#" not in lines[i]:
                    i -= 1
                if "#" not in lines[node.lineno - 1] and not (i >= 0 and lines[i].strip().startswith("#")):
                    silent.append((str(rel), node.lineno, lines[node.lineno - 1].strip()))
    assert not silent, "function-level imports that do not say why:\n" + "\n".join(
        f"archspec/{f}:{n}: {line}" for f, n, line in sorted(set(silent)))
