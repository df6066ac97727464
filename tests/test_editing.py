"""The editors' workflow: `kb new`, `kb check FILE...`, the pull-request checks (workflow, pre-commit,
template), CONTRIBUTING.md, and "Edit this page" on the site."""

from __future__ import annotations

import datetime as _dt
import json
import os
import pty
import re
import select
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from search.model import NEW_CONTEXT_LINE, NEW_STEP_LINE, parse_procedure
from search.scaffold import new_procedure_text
from search.vocabulary import parse_vocabulary

from .conftest import ROOT, procedure_text, run_kb
from .test_check import CASES
from .test_vocabulary import MALFORMED_VOCABULARIES

TODAY = _dt.date.today().isoformat()
VOCABULARY = "categories:\n  Complaint: Unhappy customers.\n  Shipping: Parcels.\n  Billing: Money.\n"
EXISTING = {
    "complaints/late-delivery.md": procedure_text(
        "Late delivery complaint", ["Complaint: Late Delivery", "Shipping"], owner="Care Team", reviewed="2025-05-01"
    ),
    "complaints/damaged.md": procedure_text("Damaged item", ["Complaint: Damaged Item"], owner="Care Team"),
    "misc/odd.md": procedure_text("Odd one", ["Complaint: Staff Conduct"], owner="Quality"),
    "billing/refund.md": procedure_text("Refund", ["Billing: Refund"], owner="Billing Ops"),
}


def make_kb(root: Path, files: dict[str, str] = EXISTING) -> Path:
    for rel, text in files.items():
        path = root / "kb" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "tags.yml").write_text(VOCABULARY, encoding="utf-8")
    return root


def kb(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = run_kb("--procedures", "kb", "--tags-file", "tags.yml", *args, cwd=root, stdin="")
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


def problem_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if ": error: " in line or ": warning: " in line]


# ---- kb new ------------------------------------------------------------------------------------------
def test_new_writes_the_template_where_the_category_lives(tmp_path: Path) -> None:
    root = make_kb(tmp_path)
    done = kb(root, "new", "Complaint: Late Shipment", "--title", "Late shipment complaint")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "kb/complaints/late-shipment-complaint.md"
    text = (root / "kb" / "complaints" / "late-shipment-complaint.md").read_text(encoding="utf-8")
    assert text.startswith(
        '---\ntitle: "Late shipment complaint"\ntags:\n  - "Complaint: Late Shipment"\nkeywords: []\nsummary: ""\n'
        f'owner: "Care Team"\nreviewed: {TODAY}\n---\n'
    )
    assert f"\n{NEW_CONTEXT_LINE}\n\n## Steps\n\n{NEW_STEP_LINE}\n" in text
    assert "<!-- Other acceptable ways" in text and "     ## Alternate methods" in text
    # It parses, and the only findings are the two placeholders, at their lines.
    procedure, problems = parse_procedure(text.encode(), "x.md")
    assert procedure is not None and procedure.alternates == [] and procedure.reviewed == _dt.date.today()
    assert [(p.line, p.severity) for p in problems] == [(11, "warning"), (15, "warning")]
    assert "Alternate" not in procedure.main_text  # the hint is a comment, not indexed text
    assert "owner: Care Team" in done.stderr and "kb check kb/complaints/late-shipment-complaint.md" in done.stderr


def test_new_area_owner_and_unknown_category(tmp_path: Path) -> None:
    root = make_kb(tmp_path)
    done = kb(
        root, "new", "Billing: Gift Card", "Shipping", "--title", "Gift card balance", "--area", "money/cards/", "--owner", " Gift  Desk "
    )
    assert done.returncode == 0, done.stderr
    text = (root / "kb" / "money" / "cards" / "gift-card-balance.md").read_text(encoding="utf-8")
    assert 'owner: "Gift Desk"' in text and '  - "Billing: Gift Card"\n  - "Shipping"\n' in text
    # A category nobody uses yet: its slug is the folder; no usual owner; the vocabulary warns.
    done = kb(root, "new", "Warranty Claims: Oven", "--title", "Oven warranty")
    assert done.returncode == 0
    assert done.stdout.strip() == "kb/warranty-claims/oven-warranty.md"
    assert 'owner: ""' in (root / "kb" / "warranty-claims" / "oven-warranty.md").read_text(encoding="utf-8")
    assert "warning: unknown tag category 'Warranty Claims'" in done.stderr


def test_new_keeps_the_existing_spelling_of_a_tag(tmp_path: Path) -> None:
    root = make_kb(tmp_path)
    done = kb(root, "new", "complaint :late delivery", "--title", "Another late one")
    assert done.returncode == 0
    assert '  - "Complaint: Late Delivery"' in (root / "kb" / "complaints" / "another-late-one.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["Complaints: Late deliveries", "--title", "X"],
            "tag 'Complaints: Late deliveries' is a near-duplicate of 'Complaint: Late Delivery'",
        ),
        (["Complaint: Late: Shipment", "--title", "X"], "has more than one colon"),
        (["Complaint: Late Shipment", "--title", "Late delivery complaint"], "a procedure titled 'Late delivery complaint' already exists"),
        (["Complaint: Late Shipment", "--title", "  "], "the title is empty"),
        (["Complaint: Late Shipment", "--title", "X", "--area", "../outside"], "must be a folder inside the procedures folder"),
        (["Complaint: Late Shipment", "--title", "X", "--area", "/etc"], "must be a folder inside the procedures folder"),
    ],
)
def test_new_refuses_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    root = make_kb(tmp_path)
    before = sorted(p for p in (root / "kb").rglob("*"))
    done = kb(root, "new", *args)
    assert done.returncode == 2 and message in done.stderr
    assert sorted(p for p in (root / "kb").rglob("*")) == before


def test_new_never_overwrites(tmp_path: Path) -> None:
    root = make_kb(tmp_path)
    target = root / "kb" / "complaints" / "late-shipment.md"
    target.write_text("notes that are not a procedure\n", encoding="utf-8")
    done = kb(root, "new", "Complaint: Late Shipment", "--title", "Late shipment!")
    assert done.returncode == 2
    assert "kb/complaints/late-shipment.md already exists" in done.stderr
    assert target.read_text(encoding="utf-8") == "notes that are not a procedure\n"


@pytest.mark.parametrize(
    ("args", "missing"), [([], "give a tag and --title"), (["Shipping"], "give --title"), (["--title", "X"], "give a tag")]
)
def test_new_without_arguments_outside_a_terminal_is_a_usage_error(tmp_path: Path, args: list[str], missing: str) -> None:
    root = make_kb(tmp_path)
    done = kb(root, "new", *args)
    assert done.returncode == 2
    assert done.stderr.startswith("usage: kb new") and missing in done.stderr


class Terminal:
    """kb in a pseudo-terminal (stdin.isatty() is true), answered prompt by prompt; never hangs."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: kb with the terminal as stdin and stdout
            try:
                os.chdir(cwd)
                os.execv(sys.executable, [sys.executable, "-m", "search", *args])
            finally:
                os._exit(127)
        self.output = b""

    def _read(self, until, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if until(self.output):
                return True
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    return until(self.output)
                if not chunk:
                    return until(self.output)
                self.output += chunk
        return until(self.output)

    def answer(self, text: str, timeout: float = 30) -> None:
        """Waits for the next prompt (the output ends with ': '), then types `text` and Enter."""
        seen = len(self.output)
        assert self._read(lambda out: len(out) > seen and out.rstrip(b" ").endswith(b":"), timeout), self.text
        os.write(self.fd, text.encode() + b"\n")

    def finish(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._read(lambda out: False, 0.2)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self._read(lambda out: False, 0.2)
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        os.close(self.fd)
        raise AssertionError(f"kb did not finish:\n{self.text}")

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace").replace("\r\n", "\n")


def test_new_prompts_in_a_terminal(tmp_path: Path) -> None:
    root = make_kb(tmp_path)
    terminal = Terminal(["--procedures", "kb", "--tags-file", "tags.yml", "new"], root)
    for answer in [
        "Late delivery complaint",  # taken: asked again
        "Late shipment complaint",
        "Complaint: Late: Shipment",  # malformed: asked again
        "Complaint: Late Shipment, Shipping",
        "../nope",  # outside: asked again
        "",  # the suggested folder
        "Fulfillment Support",
    ]:
        terminal.answer(answer)
    assert terminal.finish() == 0, terminal.text
    output = terminal.text
    assert "Folder (area) [complaints]:" in output and "Owner (the team that keeps it correct) [Care Team]:" in output
    assert "already exists" in output and "more than one colon" in output and "must be a folder inside" in output
    text = (root / "kb" / "complaints" / "late-shipment-complaint.md").read_text(encoding="utf-8")
    assert '  - "Complaint: Late Shipment"\n  - "Shipping"\n' in text and 'owner: "Fulfillment Support"' in text
    assert "Traceback" not in output


def test_new_in_a_terminal_ends_cleanly_on_end_of_input(tmp_path: Path) -> None:
    root = make_kb(tmp_path)
    terminal = Terminal(["--procedures", "kb", "new"], root)
    terminal.answer("A title")
    terminal.answer("\x04")  # Ctrl-D at the tags prompt
    assert terminal.finish() == 2
    assert "cancelled" in terminal.text and "Traceback" not in terminal.text
    assert not list((root / "kb").rglob("a-title.md"))


# ---- kb check FILE... ----------------------------------------------------------------------------------
def test_check_selected_files_keeps_cross_file_checks(tmp_path: Path) -> None:
    root = make_kb(
        tmp_path,
        {
            **EXISTING,
            "a/broken.md": "---\ntitle: [unclosed\n---\n",
            "a/new.md": procedure_text("Late delivery complaint", ["Complaints: Late deliveries"], owner="X", reviewed=TODAY),
            "a/fine.md": procedure_text("Fine", ["Shipping"], owner="X"),
        },
    )
    everything = kb(root, "check")
    assert any(line.startswith("a/broken.md") for line in problem_lines(everything.stdout))
    only = kb(root, "check", "kb/a/new.md")  # as pre-commit gives it: relative to the current folder
    assert only.returncode == 1
    assert problem_lines(only.stdout) == [
        "a/new.md:2: error: title 'Late delivery complaint' is also used by complaints/late-delivery.md; titles must be unique",
        "a/new.md:4: error: tag 'Complaints: Late deliveries' is a near-duplicate of 'Complaint: Late Delivery' "
        "(used in complaints/late-delivery.md); use 'Complaint: Late Delivery'",
        "a/new.md:4: warning: unknown tag category 'Complaints': did you mean 'Complaint' ('Complaint: Late deliveries')?",
    ]
    assert "1 of 7 file(s) checked: 2 error(s), 1 warning(s)" in only.stderr
    fine = kb(root, "check", "a/fine.md", "kb/a/fine.md")  # relative to the procedures folder, and twice
    assert fine.returncode == 0 and problem_lines(fine.stdout) == []
    assert "1 of 7 file(s) checked" in fine.stderr
    # The file that a cross-file finding sits on is reported when the other file is the one checked.
    other = kb(root, "check", "kb/complaints/late-delivery.md")
    assert [line.split(": error: ")[0] for line in problem_lines(other.stdout) if ": error: " in line] == ["a/new.md:2", "a/new.md:4"]


@pytest.mark.parametrize(
    ("given", "message"),
    [("nope.md", "'nope.md' does not exist"), ("tags.yml", "is not in the procedures folder"), ("kb/a", "is not a procedure file")],
)
def test_check_bad_file_arguments(tmp_path: Path, given: str, message: str) -> None:
    root = make_kb(tmp_path)
    (root / "kb" / "a").mkdir()
    done = kb(root, "check", given)
    assert done.returncode == 2 and message in done.stderr


# ---- end to end: new, edit, check, build, search --------------------------------------------------------
def test_new_procedure_goes_through_check_build_and_both_searches(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(ROOT / "procedures", site / "procedures")
    for name in ("mkdocs.yml", "tags.yml"):
        shutil.copy(ROOT / name, site / name)
    env = {"KB_INDEX_DIR": str(tmp_path / "index")}
    done = run_kb("new", "Complaint: Late Shipment", "--title", "Late shipment complaint", cwd=site, env=env, stdin="")
    assert done.returncode == 0, done.stderr
    path = site / done.stdout.strip()
    assert path == site / "procedures" / "complaints" / "late-shipment-complaint.md"

    # Not edited yet: the placeholders are warnings, as GitHub annotations with the file and line.
    github = run_kb("check", "--format", "github", cwd=site, env=env)
    assert github.returncode == 0
    assert "::warning file=procedures/complaints/late-shipment-complaint.md,line=11::placeholder" in github.stdout
    assert run_kb("check", "--strict", cwd=site, env=env).returncode == 1

    text = path.read_text(encoding="utf-8")
    text = text.replace('summary: ""', 'summary: "A shipment sits at the Zanzibar hub past its promised date."')
    text = text.replace(NEW_CONTEXT_LINE, "Use this when the ZQ-17 hub holds a parcel.")
    text = text.replace(NEW_STEP_LINE, "1. Ask the hub for a zanzibarite release form.")
    path.write_text(text, encoding="utf-8")
    strict = run_kb("check", "--strict", cwd=site, env=env)
    assert strict.returncode == 0, strict.stdout + strict.stderr

    results = json.loads(run_kb("search", "--json", "zanzibarite release", cwd=site, env=env).stdout)["results"]
    assert results[0]["path"] == "complaints/late-shipment-complaint.md"

    build_env = {**os.environ, **env, "NO_MKDOCS_2_WARNING": "1"}
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=site, env=build_env, capture_output=True, text=True, timeout=300
    )
    assert built.returncode == 0, built.stderr
    page = (site / "site" / "complaints" / "late-shipment-complaint" / "index.html").read_text(encoding="utf-8")
    assert "Late shipment complaint" in page
    assert 'href="https://github.com/example-org/service-kb/edit/main/procedures/complaints/late-shipment-complaint.md"' in page
    if shutil.which("node"):  # the browser's engine, over the search data the site serves
        harness = ROOT / "tests" / "js" / "search_cli.js"
        answer = subprocess.run(
            ["node", str(harness), str(site / "site" / "kb-search")],
            input="zanzibarite release\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert answer.returncode == 0, answer.stderr
        assert json.loads(answer.stdout)["results"][0]["path"] == "complaints/late-shipment-complaint.md"

    # A broken edit: the annotation names the file and the line.
    path.write_text(re.sub(r"summary: .*", "summary: Customer says: where is it", text), encoding="utf-8")
    broken = run_kb("check", "--format", "github", cwd=site, env=env)
    assert broken.returncode == 1
    assert re.search(
        r"^::error file=procedures/complaints/late-shipment-complaint\.md,line=6::front matter is not valid YAML: a value contains",
        broken.stdout,
        re.MULTILINE,
    ), broken.stdout


# ---- "Edit this page" ------------------------------------------------------------------------------------
def test_edit_link_on_procedure_pages_only(tmp_path: Path) -> None:
    env = {**os.environ, "KB_INDEX_DIR": str(tmp_path / "index"), "NO_MKDOCS_2_WARNING": "1"}
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    site = tmp_path / "site"
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert "content.action.edit" in config["theme"]["features"]
    prefix = config["edit_uri"]  # a full address: no repo_url, whose host Material would call for its stars
    for rel in ("complaints/late-delivery", "billing/refund-request", "it/phishing-report"):
        page = (site / rel / "index.html").read_text(encoding="utf-8")
        assert re.search(rf'<a href="{re.escape(prefix)}{re.escape(rel)}\.md" title="Edit this page"[^>]*rel="edit"', page), rel
    for rel in ("index.html", "tags/index.html", "due-for-review/index.html", "areas/complaints/index.html", "tags/shipping/index.html"):
        assert 'rel="edit"' not in (site / rel).read_text(encoding="utf-8"), rel


# ---- the pull-request checks -----------------------------------------------------------------------------
def ci_commands() -> list[str]:
    """The commands of .ci/run's install-and-test line."""
    line = next(line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines() if line.startswith("python3 -m venv"))
    return [part.strip() for part in line.split("&&")]


def test_workflow_runs_the_ci_commands_and_the_checks() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "checks.yml").read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("actions/checkout@") for u in uses)
    setup = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python@"))
    assert str(setup["with"]["python-version"]) == "3.11"
    runs = [step["run"] for step in steps if "run" in step]
    script = "\n".join(runs)
    assert "apt-get install" in script and "chromium" in script
    commands = [part.strip() for run in runs for line in run.splitlines() for part in line.split("&&")]
    for command in ci_commands():  # the same install and test commands as .ci/run
        assert command in commands, command
    for command in (
        ".venv/bin/kb check --format github",
        ".venv/bin/mkdocs build --strict",
        ".venv/bin/kb eval tests/queries.jsonl --baseline tests/quality-baseline.json",
    ):
        assert command in commands, command
    assert (ROOT / "tests" / "quality-baseline.json").is_file()


def test_pre_commit_hook_checks_staged_procedures() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    (repo,) = config["repos"]
    (hook,) = repo["hooks"]
    assert repo["repo"] == "local" and hook["language"] == "system"
    assert shlex.split(hook["entry"]) == ["kb", "check"]
    assert re.match(hook["files"], "procedures/complaints/late-delivery.md")
    assert not re.match(hook["files"], "search/cli.py") and not re.match(hook["files"], "procedures/notes.txt")
    # What the hook runs: kb check with the staged files as pre-commit passes them (repository-relative).
    _kb, *args = shlex.split(hook["entry"])  # `kb` is `python -m search` here
    done = run_kb(*args, "procedures/complaints/late-delivery.md", "procedures/billing/refund-request.md")
    assert done.returncode == 0 and "2 of 60 file(s) checked" in done.stderr


def test_pull_request_template_has_a_checklist() -> None:
    text = (ROOT / ".github" / "pull_request_template.md").read_text(encoding="utf-8")
    assert text.count("- [ ]") >= 4 and "kb check" in text and "tags.yml" in text


# ---- CONTRIBUTING.md lists every kb check message ---------------------------------------------------------
def skeleton(message: str) -> str:
    """A message without its particulars: quoted values, file names, numbers and type names."""
    text = re.sub(r"^\S+:\d+: (error|warning): ", "", message)
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r'"[^"]*"', '"…"', text)
    text = re.sub(r"[\w./-]+\.md", "FILE", text)
    text = re.sub(r"(, FILE)+( and \d+ more)?", "", text)
    text = re.sub(r"0x[0-9a-f]{2}", "0xNN", text)
    text = re.sub(r"\d+", "N", text)
    return re.sub(r"not (a mapping|a list|a number|true/false|empty)", "not TYPE", text)


MESSAGE_FIXTURES = {
    "w/twice.md": procedure_text("Tag twice", ["Shipping", "shipping "], owner="Care"),
    "w/future.md": procedure_text("Future", ["Shipping"], owner="Care", reviewed="2099-01-01"),
    "w/nosteps.md": procedure_text("No steps", ["Shipping"], body="Just text.\n", owner="Care"),
    "w/alt-empty.md": procedure_text("Alt empty", ["Shipping"], body="## Steps\n\n1. x\n\n## Alternate methods\n\nText.\n", owner="Care"),
    "w/alt-untitled.md": procedure_text(
        "Alt untitled", ["Shipping"], body="## Steps\n\n1. x\n\n## Alternate methods\n\n### \nText.\n\n### Offer credit\n", owner="Care"
    ),
    "w/placeholders.md": new_procedure_text("Placeholders", ["Shipping"], "Care", _dt.date(2026, 1, 1)),
    "w/unknown.md": procedure_text("Unknown category", ["Complant: Late Shipment", "Gizmos"], owner="Care"),
    "w/case.md": procedure_text("Category case", ["complaint: Rude Driver"], owner="Care"),
    "w/subjects.md": procedure_text("Subjects", ["Billing: Refund Stats", "Billing: Gift Cards"], owner="Care"),
    "w/no-owner.md": procedure_text("No owner", ["Shipping"]),
    "w/empty-owner.md": procedure_text("Empty owner", ["Shipping"], owner=""),
    "w/near.md": procedure_text("Near", ["Complaints: Late shipping"], owner="Care", reviewed="2026-02-01"),
    "w/empty-front.md": "---\n---\n\n## Steps\n",
    "w/list-front.md": "---\n- a\n- b\n---\n\n## Steps\n",
    "w/tag-number.md": "---\ntitle: Tag number\ntags:\n  - 42\n  - ''\nowner: Care\n---\n\n## Steps\n\n1. x\n",
}


def test_contributing_explains_every_kb_check_message(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    for case, (files, _) in CASES.items():
        for rel, content in files.items():
            path = root / case / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    for rel, content in MESSAGE_FIXTURES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content, encoding="utf-8")
    (tmp_path / "tags.yml").write_text(
        "categories:\n  Complaint: x\n  Shipping: x\n  Billing:\n    description: x\n    subjects: [Refund Status]\n", encoding="utf-8"
    )
    done = run_kb("--procedures", str(root), "--tags-file", str(tmp_path / "tags.yml"), "check")
    messages = {line for line in problem_lines(done.stdout)}
    messages |= {str(p) for text, _ in MALFORMED_VOCABULARIES.values() for p in parse_vocabulary(text, "tags.yml").problems}
    assert len(messages) > 60
    guide = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    documented = {skeleton(span) for span in re.findall(r"`([^`\n]+)`", guide)}
    missing = sorted({skeleton(m) for m in messages} - documented)
    assert not missing, "CONTRIBUTING.md does not explain:\n" + "\n".join(missing)


def test_contributing_covers_the_editors_topics() -> None:
    guide = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for topic in (
        "Edit this page",
        "Create new file",
        "kb new",
        "mkdocs serve",
        "tags.yml",
        "## Alternate methods",
        "kb review",
        "kb eval",
    ):
        assert topic in guide, topic
    for step in ("Check the procedures", "Build the site", "Judged search queries", "Tests"):  # each workflow step is explained
        assert step in guide
        assert step in (ROOT / ".github" / "workflows" / "checks.yml").read_text(encoding="utf-8")
