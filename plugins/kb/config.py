"""Options of the `kb` MkDocs plugin (under `plugins: - kb:` in mkdocs.yml).

Relative paths are read relative to the folder of mkdocs.yml.
"""

from __future__ import annotations

from mkdocs.config import config_options as c
from mkdocs.config.base import Config

from search.review import DEFAULT_REVIEW_DAYS


class KbConfig(Config):
    # Where the Whoosh index lives. Default: the engine's cache folder for docs_dir
    # (~/.cache/service-kb/NAME-HASH, or $KB_INDEX_DIR), never inside docs_dir.
    index_dir = c.Optional(c.Dir(exists=False))
    # An extra synonyms file, in the format of search/data/synonyms.txt.
    synonyms = c.Optional(c.File(exists=True))
    # A procedure whose `reviewed` date is older than this many days is marked "Review overdue" and
    # listed on the "Due for review" page; tags.yml may give a category its own `review_days`.
    review_days = c.Type(int, default=DEFAULT_REVIEW_DAYS)
    # "Report a problem" and "Ask for a procedure" open a new issue here (GitHub or GitLab, e.g.
    # https://github.com/ORG/REPO/issues). Default: the tracker of repo_url, else of an absolute edit_uri.
    issues_url = c.Optional(c.URL())
    # Without a tracker, reports are e-mailed to the procedure's owner: owner name -> address ...
    owners = c.DictOfItems(c.Type(str), default={})
    # ... else to this address, which also receives "Ask for a procedure".
    report_email = c.Optional(c.Type(str))
    # The tag vocabulary (search/vocabulary.py). Default: tags.yml beside mkdocs.yml, if present.
    tags_file = c.Optional(c.File(exists=True))
    # Folder of the site that receives the browser search data.
    search_dir = c.Type(str, default="kb-search")
    # Search insights: where the search box sends a report of each finished search (JSON, with
    # navigator.sendBeacon). Off when unset. `/insights` is what `kb serve` receives; a relative
    # URL is read from the site's root.
    insights_url = c.Optional(c.Type(str))
    # Treat procedure warnings as errors even without `mkdocs build --strict`.
    strict = c.Type(bool, default=False)
