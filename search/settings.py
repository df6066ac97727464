"""Settings: where the procedures, the index, the extra synonyms and the tag vocabulary are, and the
default review interval, resolved the same way for the `kb` command and the site plugin.

Precedence, for each setting that has it (first found wins):

1. a flag of `kb` (`--procedures`, `--index-dir`, `--synonyms`, `--tags-file`; `--site`, `--db`);
2. the environment (`KB_INDEX_DIR`, `KB_SYNONYMS`);
3. an option of the kb plugin in mkdocs.yml (`index_dir`, `synonyms`, `tags_file`, `review_days`;
   the procedures folder is mkdocs.yml's `docs_dir`, the built site its `site_dir`);
4. a file of the default name beside mkdocs.yml (`synonyms.txt`, `tags.yml`; a `procedures` folder;
   `insights.sqlite3` beside the site folder);
5. the default: no extra synonyms, no vocabulary, the index in the engine's cache folder.

Promises: a named file that does not exist is a `SettingError` with a one-line message; nothing
here imports MkDocs or the CLI, and reading mkdocs.yml never runs its tags.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TAGS_FILE = "tags.yml"  # the default tag vocabulary (search/vocabulary.py), beside mkdocs.yml
SYNONYMS_FILE = "synonyms.txt"  # the default extra synonyms file, beside mkdocs.yml
PROCEDURES_FOLDER = "procedures"  # the procedures folder of a project without docs_dir
CONFIG_FILE = "mkdocs.yml"
SITE_FOLDER = "site"  # MkDocs's default site_dir
INSIGHTS_DB = "insights.sqlite3"  # kb serve's search reports, beside the site folder
INDEX_DIR_ENV = "KB_INDEX_DIR"
SYNONYMS_ENV = "KB_SYNONYMS"


class SettingError(ValueError):
    """A setting that cannot be used; the message is one line for the user. `setting` names it."""

    def __init__(self, message: str, setting: str) -> None:
        super().__init__(message)
        self.setting = setting


@dataclass(frozen=True)
class Settings:
    """The resolved settings. `index_dir` None: the engine's cache folder for the procedures folder."""

    procedures: Path
    index_dir: Path | None
    synonyms: Path | None
    tags_file: Path | None = None  # the tag vocabulary (tags.yml); None: no vocabulary checks
    review_days: int | None = None  # review_days of the kb plugin, if set


@dataclass(frozen=True)
class Flags:
    """What `kb`'s global options gave (None: not given)."""

    procedures: str | Path | None = None
    index_dir: str | Path | None = None
    synonyms: str | Path | None = None
    tags_file: str | Path | None = None


def resolve(
    project_dir: Path | None,
    plugin_options: Mapping[str, Any],
    env: Mapping[str, str],
    flags: Flags | None = None,
    *,
    docs_dir: str | Path | None = None,
    relative_paths: bool = False,
) -> Settings:
    """The settings, by the precedence in this module's docstring.

    `project_dir` is the folder of mkdocs.yml (None: no project, so no files beside it are looked
    for); `plugin_options` the kb plugin's options as written; `docs_dir` mkdocs.yml's. Paths from
    the project are joined to `project_dir`; with `relative_paths` they are made relative to the
    current folder (as `kb` shows them, the way the user would type them).
    """
    flags = flags or Flags()

    def in_project(value: object) -> Path:
        joined = (project_dir or Path()) / str(value)
        return Path(os.path.relpath(joined)) if relative_paths else joined

    def beside(name: str) -> Path | None:
        return in_project(name) if project_dir is not None and (project_dir / name).is_file() else None

    def option(name: str) -> Path | None:
        value = plugin_options.get(name)
        return in_project(value) if value else None

    procedures = Path(flags.procedures) if flags.procedures else in_project(docs_dir or PROCEDURES_FOLDER)
    if not procedures.is_dir():
        raise SettingError(f"procedures folder '{procedures}' does not exist", "procedures")

    index_dir = _first(flags.index_dir, _env_path(env, INDEX_DIR_ENV), option("index_dir"))
    synonyms, source = _first_with_source(
        (flags.synonyms, "--synonyms"),
        (env.get(SYNONYMS_ENV), SYNONYMS_ENV),
        (option("synonyms"), "synonyms of the kb plugin"),
        (beside(SYNONYMS_FILE), SYNONYMS_FILE),
    )
    if synonyms is not None and not synonyms.is_file():
        raise SettingError(f"synonyms file '{synonyms}' (from {source}) does not exist", "synonyms")
    tags_file = _first(flags.tags_file, option("tags_file"), beside(TAGS_FILE))
    if tags_file is not None and not tags_file.is_file():
        raise SettingError(f"tag vocabulary '{tags_file}' does not exist", "tags_file")
    return Settings(procedures, index_dir, synonyms, tags_file, _review_days(plugin_options.get("review_days")))


def _env_path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name)
    return Path(value).expanduser() if value else None


def _first(*values: str | Path | None) -> Path | None:
    return next((Path(value) for value in values if value), None)


def _first_with_source(*values: tuple[str | Path | None, str]) -> tuple[Path | None, str]:
    return next(((Path(value), source) for value, source in values if value), (None, ""))


def _review_days(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingError(f"review_days of the kb plugin in mkdocs.yml must be a whole number of days, not '{value}'", "review_days")
    return value


def find_project(start: Path) -> tuple[Path, Path | None]:
    """The project folder, as git finds its repository: the nearest folder from `start` upwards
    that holds mkdocs.yml (returned with it), else the nearest that holds a `procedures` folder,
    else `start` itself (without a config)."""
    folders = [start, *start.parents]
    for folder in folders:
        if (folder / CONFIG_FILE).is_file():
            return folder, folder / CONFIG_FILE
    return next((folder for folder in folders if (folder / PROCEDURES_FOLDER).is_dir()), start), None


def _read_yaml(config_path: Path) -> object:
    """mkdocs.yml's data; tags such as `!ENV` or `!!python/name` are read as empty values, never run."""
    import yaml

    class Lenient(yaml.SafeLoader):
        pass

    Lenient.add_multi_constructor("", lambda loader, suffix, node: None)
    try:
        return yaml.load(config_path.read_text(encoding="utf-8"), Loader=Lenient) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SettingError(f"cannot read {config_path}: {exc}", "config") from exc


def read_mkdocs_config(config_path: Path) -> tuple[str | None, dict[str, Any]]:
    """docs_dir and the kb plugin's options from mkdocs.yml, without importing MkDocs or running its tags."""
    data = _read_yaml(config_path)
    if not isinstance(data, dict):
        return None, {}
    docs_dir = data["docs_dir"] if isinstance(data.get("docs_dir"), str) else None
    options: dict[str, Any] = {}
    for plugin in data.get("plugins") or []:
        if isinstance(plugin, dict) and isinstance(plugin.get("kb"), dict):
            options.update(plugin["kb"])
    return docs_dir, options


def site_and_database(
    project_dir: Path | None, config_path: Path | None, site_flag: str | Path | None = None, db_flag: str | Path | None = None
) -> tuple[Path, Path]:
    """The built site's folder and the insights database of `kb serve` and `kb insights`: `--site`,
    else the `site_dir` of mkdocs.yml (default `site`) in the project; `--db`, else `INSIGHTS_DB`
    beside the site folder. Neither has to exist yet."""
    if site_flag:
        site = Path(site_flag)
    else:
        data = _read_yaml(config_path) if config_path is not None else {}
        site_dir = data.get("site_dir") if isinstance(data, dict) and isinstance(data.get("site_dir"), str) else SITE_FOLDER
        site = Path(os.path.relpath((project_dir or Path()) / site_dir))
    db = Path(db_flag) if db_flag else Path(os.path.relpath(site.resolve().parent / INSIGHTS_DB))
    return site, db
