"""Settings that the `kb` command and the site plugin share: default file names beside mkdocs.yml,
and how an extra synonyms file and the tag vocabulary are found.

Both read them the same way: an explicit value (a flag of `kb`, an option of the plugin) wins,
then the environment ($KB_SYNONYMS), then the file of the default name beside mkdocs.yml.
"""

from __future__ import annotations

import os
from pathlib import Path

TAGS_FILE = "tags.yml"  # the default tag vocabulary (search/vocabulary.py), beside mkdocs.yml
SYNONYMS_FILE = "synonyms.txt"  # the default extra synonyms file, beside mkdocs.yml


class SettingError(ValueError):
    """A setting names a file that does not exist; the message is one line for the user."""


def synonyms_file(option: str | Path | None, project: Path | None) -> Path | None:
    """The extra synonyms file: $KB_SYNONYMS, else `option`, else synonyms.txt in `project`."""
    from_env = os.environ.get("KB_SYNONYMS")
    if from_env:
        if not Path(from_env).is_file():
            raise SettingError(f"synonyms file '{from_env}' (from KB_SYNONYMS) does not exist")
        return Path(from_env)
    return _explicit_or_beside(option, project, SYNONYMS_FILE)


def tags_file(option: str | Path | None, project: Path | None) -> Path | None:
    """The tag vocabulary: `option`, else tags.yml in `project`."""
    return _explicit_or_beside(option, project, TAGS_FILE)


def _explicit_or_beside(option: str | Path | None, project: Path | None, name: str) -> Path | None:
    if option:
        return Path(option)
    beside = project / name if project is not None else None
    return beside if beside is not None and beside.is_file() else None
