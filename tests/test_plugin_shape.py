"""What the `kb` plugin relies on in Material, what a site can override, and the state a build
depends on and leaves."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import material

from .conftest import ROOT, procedure_text
from .test_plugin import read, write_site

MATERIAL = Path(material.__file__).parent / "templates"
PLUGIN_TEMPLATES = ROOT / "plugins" / "kb" / "templates"
# The block of Material's partials/header.html that plugins/kb/templates/partials/header.html replaces.
MATERIAL_SEARCH_BLOCK = """    {% if "material/search" in config.plugins %}
      {% set search = config.plugins["material/search"] | attr("config") %}
      {% if search.enabled %}
        <label class="md-header__button md-icon" for="__search">
          {% set icon = config.theme.icon.search or "material/magnify" %}
          {% include ".icons/" ~ icon ~ ".svg" %}
        </label>
        {% include "partials/search.html" %}
      {% endif %}
    {% endif %}
"""
KB_SEARCH_BLOCK = re.compile(r"    \{#- Service KB: .*?\{% include \"partials/kb-search.html\" %\}\n", re.DOTALL)


def build(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", *args],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **env},
        timeout=300,
        check=False,
    )


# ---- what the plugin relies on in Material ---------------------------------------------------------
def test_the_plugin_header_is_materials_header_but_for_the_search_block() -> None:
    material_header = (MATERIAL / "partials" / "header.html").read_text(encoding="utf-8")
    ours = (PLUGIN_TEMPLATES / "partials" / "header.html").read_text(encoding="utf-8")
    assert len(KB_SEARCH_BLOCK.findall(ours)) == 1
    ours_as_material = KB_SEARCH_BLOCK.sub(lambda _: MATERIAL_SEARCH_BLOCK, ours)
    strip_comment = re.compile(r"\A\{#-.*?-#\}\n", re.DOTALL)
    assert strip_comment.sub("", ours_as_material) == strip_comment.sub("", material_header), (
        "Material's partials/header.html changed: make plugins/kb/templates/partials/header.html Material's new header "
        "with its search block replaced by the kb search box"
    )


def test_material_includes_the_partials_and_links_the_assets_the_plugin_relies_on() -> None:
    base = (MATERIAL / "base.html").read_text(encoding="utf-8")
    assert '{% include "partials/header.html" %}' in base
    assert 'id="__search"' in base  # the toggle the search button and the kb search box open
    assert "{% for path in config.extra_css %}" in base
    assert "{% for script in config.extra_javascript %}" in base
    search_box = (PLUGIN_TEMPLATES / "partials" / "kb-search.html").read_text(encoding="utf-8")
    for icon in re.findall(r'\{% include "(\.icons/[^"]+)" %\}', search_box):
        assert (MATERIAL / icon).is_file(), icon


# ---- what a site can override ----------------------------------------------------------------------
SITE = {
    "billing/refund.md": procedure_text("Refund", ["Billing: Refund"], summary="Money back."),
    "billing/charge.md": procedure_text("Charge", ["Billing: Refund", "Billing"], summary="A charge."),
}


def test_a_template_in_the_sites_custom_dir_replaces_the_plugins(tmp_path: Path) -> None:
    root = write_site(tmp_path / "kb", SITE, extra="")
    config = (root / "mkdocs.yml").read_text(encoding="utf-8")
    (root / "mkdocs.yml").write_text(config.replace("  name: material\n", "  name: material\n  custom_dir: overrides\n"), encoding="utf-8")
    (root / "overrides" / "kb").mkdir(parents=True)
    (root / "overrides" / "kb" / "tag.html").write_text(
        "---\ntitle: {{ entry.tag.label | tojson }}\n---\n\n"
        '<p class="own-tag">{{ entry.procedures | length }} under {{ entry.tag.label }}</p>\n',
        encoding="utf-8",
    )
    done = build(root, {"KB_INDEX_DIR": str(tmp_path / "index")}, "--strict")
    assert done.returncode == 0, done.stderr
    assert '<p class="own-tag">2 under Billing: Refund</p>' in read(root / "site", "tags/billing-refund/index.html")
    assert "kb-card" in read(root / "site", "areas/billing/index.html")  # the other templates are the plugin's


def test_a_broken_template_of_the_site_fails_the_build_with_one_line_naming_it(tmp_path: Path) -> None:
    root = write_site(tmp_path / "kb", SITE)
    config = (root / "mkdocs.yml").read_text(encoding="utf-8")
    (root / "mkdocs.yml").write_text(config.replace("  name: material\n", "  name: material\n  custom_dir: overrides\n"), encoding="utf-8")
    (root / "overrides" / "kb").mkdir(parents=True)
    (root / "overrides" / "kb" / "tags.html").write_text("---\ntitle: Tags\n---\n\n{% if %}\n", encoding="utf-8")
    done = build(root, {"KB_INDEX_DIR": str(tmp_path / "index")})
    assert done.returncode != 0
    assert re.search(r"kb: template \S*overrides/kb/tags\.html:5: TemplateSyntaxError", done.stderr), done.stderr
    assert "Traceback" not in done.stderr


# ---- a symbolic link that MkDocs would follow forever ----------------------------------------------
def test_a_link_to_a_folder_above_it_fails_the_build_at_once_naming_the_link(tmp_path: Path) -> None:
    root = write_site(tmp_path / "kb", SITE)
    os.symlink("..", root / "docs" / "billing" / "up")
    done = build(root, {"KB_INDEX_DIR": str(tmp_path / "index")})
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if "billing/up" in line]
    assert len(errors) == 1 and "remove the link" in errors[0], done.stderr
    assert "Traceback" not in done.stderr and "Too many levels" not in done.stderr
    (root / "docs" / "billing" / "up").unlink()
    os.symlink("billing", root / "docs" / "elsewhere")  # a link to a folder beside it is no loop
    assert build(root, {"KB_INDEX_DIR": str(tmp_path / "index")}).returncode == 0


# ---- state -----------------------------------------------------------------------------------------
def site_files(site: Path) -> dict[str, bytes]:
    """Every file of a built site, the sitemap without its dates (MkDocs writes the build's)."""
    files = {path.relative_to(site).as_posix(): path.read_bytes() for path in site.rglob("*") if path.is_file()}
    files["sitemap.xml.gz"] = gzip.decompress(files["sitemap.xml.gz"])
    for name in ("sitemap.xml", "sitemap.xml.gz"):
        files[name] = re.sub(rb"<lastmod>[^<]*</lastmod>", b"", files[name])
    return files


def test_the_sample_site_is_the_same_built_with_an_empty_or_a_warm_cache_and_writes_only_there(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "KB_INDEX_DIR": str(tmp_path / "index")}
    cold = build(ROOT, env, "--strict", "-d", str(tmp_path / "cold"))
    assert cold.returncode == 0, cold.stderr
    assert [path.name for path in home.iterdir()] == [".cache"]
    assert [path.name for path in (home / ".cache").iterdir()] == ["service-kb"]  # the one documented cache folder
    warm = build(ROOT, env, "--strict", "-d", str(tmp_path / "warm"))
    assert warm.returncode == 0, warm.stderr
    cold_files, warm_files = site_files(tmp_path / "cold"), site_files(tmp_path / "warm")
    assert sorted(cold_files) == sorted(warm_files)
    assert [name for name in cold_files if cold_files[name] != warm_files[name]] == []
