"""The one settings resolver of `kb` and the site plugin: flags > environment > plugin options >
files beside mkdocs.yml > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.settings import Flags, SettingError, find_project, read_mkdocs_config, resolve


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with a procedures folder and a default synonyms.txt and tags.yml beside mkdocs.yml."""
    (tmp_path / "procedures").mkdir()
    (tmp_path / "docs").mkdir()
    names = ("synonyms.txt", "tags.yml", "option-synonyms.txt", "option-tags.yml", "env-synonyms.txt", "flag-synonyms.txt", "flag-tags.yml")
    for name in names:
        (tmp_path / name).write_text("", encoding="utf-8")
    return tmp_path


def test_defaults_are_the_files_beside_mkdocs_yml(project: Path) -> None:
    found = resolve(project, {}, {})
    assert found.procedures == project / "procedures"
    assert found.synonyms == project / "synonyms.txt"
    assert found.tags_file == project / "tags.yml"
    assert found.index_dir is None  # the engine's cache folder
    assert found.review_days is None


def test_without_a_project_nothing_beside_is_read(project: Path) -> None:
    found = resolve(None, {}, {}, Flags(procedures=project / "procedures"))
    assert found.synonyms is None and found.tags_file is None


def test_plugin_options_beat_the_files_beside(project: Path) -> None:
    options = {"synonyms": "option-synonyms.txt", "tags_file": "option-tags.yml", "index_dir": "build/index", "review_days": 30}
    found = resolve(project, options, {}, docs_dir="docs")
    assert found.procedures == project / "docs"
    assert found.synonyms == project / "option-synonyms.txt"
    assert found.tags_file == project / "option-tags.yml"
    assert found.index_dir == project / "build/index"
    assert found.review_days == 30


def test_environment_beats_plugin_options(project: Path) -> None:
    options = {"synonyms": "option-synonyms.txt", "index_dir": "build/index"}
    env = {"KB_SYNONYMS": str(project / "env-synonyms.txt"), "KB_INDEX_DIR": str(project / "env-index")}
    found = resolve(project, options, env)
    assert found.synonyms == project / "env-synonyms.txt"
    assert found.index_dir == project / "env-index"


def test_flags_beat_the_environment(project: Path) -> None:
    env = {"KB_SYNONYMS": str(project / "env-synonyms.txt"), "KB_INDEX_DIR": str(project / "env-index")}
    flags = Flags(project / "docs", project / "flag-index", project / "flag-synonyms.txt", project / "flag-tags.yml")
    found = resolve(project, {"tags_file": "option-tags.yml"}, env, flags)
    assert found.procedures == project / "docs"
    assert found.index_dir == project / "flag-index"
    assert found.synonyms == project / "flag-synonyms.txt"
    assert found.tags_file == project / "flag-tags.yml"


def test_paths_are_shown_relative_to_the_folder_kb_runs_in(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project / "procedures")
    found = resolve(project, {"synonyms": "option-synonyms.txt"}, {}, relative_paths=True)
    assert found.procedures == Path(".")
    assert found.synonyms == Path("../option-synonyms.txt")


@pytest.mark.parametrize(
    ("options", "env", "setting", "words"),
    [
        ({}, {"KB_SYNONYMS": "nowhere.txt"}, "synonyms", "synonyms file 'nowhere.txt' (from KB_SYNONYMS) does not exist"),
        ({"synonyms": "gone.txt"}, {}, "synonyms", "(from synonyms of the kb plugin) does not exist"),
        ({"tags_file": "gone.yml"}, {}, "tags_file", "tag vocabulary"),
        ({"review_days": 0}, {}, "review_days", "must be a whole number of days, not '0'"),
        ({"review_days": True}, {}, "review_days", "must be a whole number of days"),
    ],
)
def test_a_setting_that_cannot_be_used_is_one_line(project: Path, options: dict, env: dict, setting: str, words: str) -> None:
    with pytest.raises(SettingError) as raised:
        resolve(project, options, env)
    assert raised.value.setting == setting
    assert words in str(raised.value) and "\n" not in str(raised.value)


def test_a_missing_procedures_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingError, match=r"procedures folder .* does not exist"):
        resolve(tmp_path, {}, {})


def test_find_project_walks_up_to_mkdocs_yml(project: Path) -> None:
    (project / "mkdocs.yml").write_text("docs_dir: docs\n", encoding="utf-8")
    (project / "docs" / "area").mkdir()
    assert find_project(project / "docs" / "area") == (project, project / "mkdocs.yml")


def test_mkdocs_yml_is_read_without_running_its_tags(tmp_path: Path) -> None:
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        "docs_dir: docs\nsite_name: !ENV [NAME, KB]\nplugins:\n  - search\n  - kb:\n      synonyms: s.txt\n      review_days: 9\n"
        "markdown_extensions:\n  - pymdownx.emoji:\n      emoji_index: !!python/name:material.extensions.emoji.twemoji\n",
        encoding="utf-8",
    )
    assert read_mkdocs_config(config) == ("docs", {"synonyms": "s.txt", "review_days": 9})
