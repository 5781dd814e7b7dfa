"""The upgrade path: a database created at an earlier version (0.1, 0.2) and loading files is
updated in place with ALTER EXTENSION pg_ingest UPDATE, keeps its sources and file history and goes on loading, and ends
up with exactly the objects a fresh CREATE EXTENSION makes. The comparison reads the catalogs
generically, so objects added to later scripts are covered without being listed here."""
import re

import pytest

from conftest import ROOT, wait_idle, wait_until, write_csv_atomically

# The version this library works with: the control file's default_version.
LIBRARY_VERSION = re.search(r"^default_version = '(.*)'$",
                            (ROOT / "pg_ingest.control").read_text(), re.M).group(1)

# Each query describes one aspect of the extension's objects by name, never by OID, so two
# databases can be compared. The extension's members come from pg_depend; what hangs off them
# (columns, constraints, indexes, policies, triggers) from the catalogs of schema ingest.
SHAPE_QUERIES = {
    "version": "SELECT extversion FROM pg_extension WHERE extname = 'pg_ingest'",
    "members": """
        SELECT pg_describe_object(d.classid, d.objid, d.objsubid)
        FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
        WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'pg_ingest'
          AND d.deptype = 'e'""",
    "config_dump": """
        SELECT c.relname, coalesce(e.extcondition[i], '')
        FROM pg_extension e, generate_subscripts(e.extconfig, 1) i, pg_class c
        WHERE e.extname = 'pg_ingest' AND c.oid = e.extconfig[i]""",
    "functions": """
        SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid), coalesce(p.proacl::text, '')
        FROM pg_proc p WHERE p.pronamespace = 'ingest'::regnamespace AND p.prokind <> 'a'""",
    "relations": """
        SELECT c.relname, c.relkind, coalesce(c.relacl::text, ''), c.relrowsecurity,
               c.relforcerowsecurity, coalesce(c.reloptions::text, ''),
               coalesce(pg_get_viewdef(c.oid), '')
        FROM pg_class c WHERE c.relnamespace = 'ingest'::regnamespace""",
    "columns": """
        SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               coalesce(pg_get_expr(ad.adbin, ad.adrelid), '')
        FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
        LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
        WHERE c.relnamespace = 'ingest'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'ingest'::regnamespace""",
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'ingest'",
    "policies": """
        SELECT tablename, policyname, permissive, roles::text, cmd, coalesce(qual, ''),
               coalesce(with_check, '')
        FROM pg_policies WHERE schemaname = 'ingest'""",
    "triggers": """
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid)
        FROM pg_trigger WHERE NOT tgisinternal
          AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'ingest'::regnamespace)""",
    "types": """
        SELECT t.typname, t.typtype FROM pg_type t
        WHERE t.typnamespace = 'ingest'::regnamespace""",
    "schema": "SELECT nspname, coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = 'ingest'",
}


def extension_shape(cluster, dbname):
    return {aspect: sorted(cluster.query(sql, dbname=dbname))
            for aspect, sql in SHAPE_QUERIES.items()}


@pytest.mark.parametrize("old_version", ["0.1", "0.2", "0.3", "0.4", "0.5", "0.6"])
def test_update_keeps_history_loads_on_and_matches_a_fresh_install(cluster, data_dir,
                                                                  old_version):
    # A new version adds the one before it to old_version.
    assert LIBRARY_VERSION == "0.7"
    cluster.query("CREATE DATABASE upgraded")
    cluster.query("CREATE DATABASE fresh")
    try:
        cluster.query(f"CREATE EXTENSION pg_ingest VERSION '{old_version}'", dbname="upgraded")
        assert cluster.scalar("SELECT extversion FROM pg_extension WHERE extname = 'pg_ingest'",
                              dbname="upgraded") == old_version
        cluster.query("CREATE TABLE loaded (id bigint PRIMARY KEY, payload text)", dbname="upgraded")
        cluster.query("SELECT ingest.create_source('old', %s, 'loaded', batch_size => 3)",
                      (str(data_dir),), "upgraded")
        # As a source created before the options of 0.2 existed stored its options, with one
        # option of its own: the update adds the missing ones with their defaults, keeps the rest.
        cluster.query("UPDATE ingest.sources SET options = options - ARRAY['ready_marker', "
                      "'dedupe', 'workers', 'file_column', 'line_column'] "
                      "|| '{\"max_field_bytes\": 4096}'", dbname="upgraded")
        # History from the old version's days, as its worker would have left it.
        cluster.query("INSERT INTO ingest.files (source, file_name, file_size, file_mtime, "
                      "file_inode, status, rows_loaded, finished_at) "
                      "VALUES ('old', 'history.csv', 1, now(), 1, 'done', 1, now())",
                      dbname="upgraded")
        cluster.query("SELECT ingest.start('old')", dbname="upgraded")
        write_csv_atomically(data_dir, "a.csv", "id,payload", [f"{i},a" for i in range(10)])
        # This library expects its own catalog: its worker waits, touching nothing, and says why.
        wait_until(lambda: cluster.scalar("SELECT state FROM ingest.status", dbname="upgraded")
                   == "needs update", 30, "the worker to wait for the update")
        assert cluster.query("SELECT state, last_error FROM ingest.status", dbname="upgraded") == \
            [("needs update", f"the catalog is pg_ingest {old_version} but the library is "
                              f"{LIBRARY_VERSION}: run ALTER EXTENSION pg_ingest UPDATE")]
        sources_before = cluster.query("SELECT * FROM ingest.sources", dbname="upgraded")
        history = "SELECT file_id, file_name, status, rows_loaded, discovered_at FROM ingest.files"
        files_before = cluster.query(history, dbname="upgraded")
        assert [(f[1], f[2], f[3]) for f in files_before] == [("history.csv", "done", 1)]
        assert cluster.scalar("SELECT count(*) FROM loaded", dbname="upgraded") == 0

        # The update restarts the source's worker, which then loads what waited.
        cluster.query("ALTER EXTENSION pg_ingest UPDATE", dbname="upgraded")
        assert cluster.scalar("SELECT extversion FROM pg_extension WHERE extname = 'pg_ingest'",
                              dbname="upgraded") == LIBRARY_VERSION
        defaults = cluster.scalar("SELECT ingest._default_options()", dbname="upgraded")
        assert {"ready_marker", "dedupe", "workers", "file_column", "line_column"} <= set(defaults)
        options_column = 6
        assert sources_before[0][options_column]["max_field_bytes"] == 4096
        assert "workers" not in sources_before[0][options_column]
        assert cluster.query("SELECT * FROM ingest.sources", dbname="upgraded") == \
            [row[:options_column] + ({**defaults, **row[options_column]},) + row[options_column + 1:]
             for row in sources_before]
        assert cluster.query(history + " WHERE file_name = 'history.csv'",
                             dbname="upgraded") == files_before
        wait_idle(cluster, "old", dbname="upgraded")
        assert cluster.query("SELECT file_name, status, rows_loaded FROM ingest.files "
                             "ORDER BY file_name", dbname="upgraded") == \
            [("a.csv", "done", 10), ("history.csv", "done", 1)]

        write_csv_atomically(data_dir, "b.csv", "id,payload", [f"{i},b" for i in range(10, 15)])
        wait_idle(cluster, "old", dbname="upgraded")
        assert cluster.query("SELECT file_name, status, rows_loaded FROM ingest.files "
                             "ORDER BY file_name", dbname="upgraded") == \
            [("a.csv", "done", 10), ("b.csv", "done", 5), ("history.csv", "done", 1)]
        assert cluster.scalar("SELECT count(*) FROM loaded", dbname="upgraded") == 15
        assert cluster.scalar("SELECT state FROM ingest.status", dbname="upgraded") in \
            ("idle", "loading")

        cluster.query("CREATE EXTENSION pg_ingest", dbname="fresh")
        upgraded = extension_shape(cluster, "upgraded")
        fresh = extension_shape(cluster, "fresh")
        assert upgraded["version"] == [(LIBRARY_VERSION,)]
        assert upgraded["members"], "no extension members found"
        for aspect in SHAPE_QUERIES:
            assert upgraded[aspect] == fresh[aspect], aspect
        cluster.query("SELECT ingest.stop('old')", dbname="upgraded")
    finally:
        cluster.query("DROP DATABASE upgraded WITH (FORCE)")
        cluster.query("DROP DATABASE fresh WITH (FORCE)")
