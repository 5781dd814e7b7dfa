"""The README's configuration reference agrees with a real server: every source option with its
default as ingest._default_options() and create_source have it, every pg_ingest.* setting with the
unit, range, default and context pg_settings reports, and each setting described there."""
import json
import re

from conftest import ROOT


def readme_table(heading_row):
    """The rows of the README table whose header row starts with heading_row, as cell lists."""
    lines = (ROOT / "README.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading_row))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def unquote(cell):
    match = re.fullmatch(r"`(.*)`", cell)
    assert match, cell
    return match.group(1)


def test_every_source_option_is_documented_with_its_default(cluster):
    documented = {unquote(row[0]): json.loads(unquote(row[1]))
                  for row in readme_table("| option | default | meaning |")}
    defaults = cluster.scalar("SELECT ingest._default_options()")
    arguments = cluster.scalar(
        "SELECT pg_get_function_arguments('ingest.create_source'::regproc)")
    pattern = re.search(r"pattern text DEFAULT '([^']*)'::text", arguments).group(1)
    batch_size = int(re.search(r"batch_size integer DEFAULT (\d+)", arguments).group(1))
    assert documented == {"pattern": pattern, "batch_size": batch_size, **defaults}
    assert all(row[2] for row in readme_table("| option | default | meaning |"))


def test_every_setting_is_documented_as_pg_settings_reports_it(cluster):
    rows = readme_table("| setting | default | unit | range | context | meaning |")
    documented = {unquote(row[0]): row[1:] for row in rows}
    settings = cluster.query(
        "SELECT name, boot_val, coalesce(unit, ''), vartype, min_val, max_val, context, "
        "short_desc, extra_desc FROM pg_settings WHERE name LIKE 'pg_ingest.%'")
    assert sorted(documented) == sorted(s[0] for s in settings)
    for name, default, unit, vartype, min_val, max_val, context, short, extra in settings:
        doc_default, doc_unit, doc_range, doc_context, meaning = documented[name]
        assert unquote(doc_default) == default, name
        assert doc_unit == unit, name
        expected_range = {"bool": "on, off", "string": ""}.get(vartype, f"{min_val} to {max_val}")
        assert doc_range == expected_range, name
        assert doc_context.split()[0] == context, name
        assert meaning, name
        # What SHOW ALL and pg_settings say: a sentence each.
        assert short.endswith(".") and extra.endswith("."), name
