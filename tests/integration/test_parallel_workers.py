"""Several workers per source (option `workers`): files shared out exactly once, through a kill -9,
stopped together, and fewer of them after alter_source."""
import json
import re

from conftest import eventgen, eventgen_ddl, wait_idle, wait_until

FILES, EVENTS = 20, 5000
TOTAL = FILES * EVENTS


def start_parallel_source(cluster, name, directory, workers=2, batch_size=1000):
    cluster.query(f"CREATE SCHEMA {name}")
    # Without the primary key a row loaded twice stays, and the counts below see it.
    cluster.query(f"SET search_path = {name}; {eventgen_ddl().replace(' PRIMARY KEY', '')}")
    cluster.query("SELECT ingest.create_source(%s, %s, %s, batch_size => %s, options => %s)",
                  (name, str(directory), f"{name}.user_events", batch_size,
                   json.dumps({"workers": workers})))
    assert cluster.scalar("SELECT ingest.start(%s)", (name,)) is True


def running_workers(cluster, name):
    """(worker number, pid) of the source's running workers, from ingest.workers."""
    return cluster.query("SELECT worker, pid FROM ingest.workers WHERE source = %s "
                         "ORDER BY worker", (name,))


def worker_applications(cluster, name):
    return cluster.query("SELECT application_name, pid FROM pg_stat_activity "
                         "WHERE application_name LIKE %s ORDER BY application_name",
                         (f"pg_ingest: {name}%",))


def wait_for_workers(cluster, name, count, timeout=30):
    """The pids of exactly `count` running workers of the source, checked against the names
    pg_stat_activity shows them by."""
    pids = cluster.wait_for_workers(name, count, timeout=timeout)
    return wait_until(lambda: pids if len(worker_applications(cluster, name)) == count else None,
                      timeout, f"{count} workers of {name} in pg_stat_activity")


def loader_pids(cluster, name):
    """The pids that logged 'loaded file' for the source, from the server log's prefix."""
    pattern = re.compile(r"\[(\d+)\] pg_ingest worker LOG:  pg_ingest source \"" + name +
                         r"\": loaded file \"([^\"]+)\"")
    return {int(m.group(1)) for m in pattern.finditer(cluster.log())}


def assert_loaded_exactly_once(cluster, name):
    assert cluster.query(f"SELECT count(*), count(DISTINCT event_id) FROM {name}.user_events") \
        == [(TOTAL, TOTAL)]
    assert cluster.query("SELECT status, rows_loaded, rows_rejected, count(*) FROM ingest.files "
                         "WHERE source = %s GROUP BY 1, 2, 3", (name,)) == \
        [("done", EVENTS, 0, FILES)]


def test_two_workers_share_the_files_exactly_once(cluster, data_dir):
    start_parallel_source(cluster, "par", data_dir)
    pids = wait_for_workers(cluster, "par", 2)
    assert worker_applications(cluster, "par") == [("pg_ingest: par", pids[0]),
                                                    ("pg_ingest: par #2", pids[1])]
    eventgen(data_dir, "--files", FILES, "--events", EVENTS)
    wait_idle(cluster, "par")
    assert_loaded_exactly_once(cluster, "par")
    # Both workers loaded files, each file once.
    assert loader_pids(cluster, "par") == set(pids)
    assert cluster.scalar("SELECT count(*) FROM ingest.status WHERE source = 'par'") == 1
    # Both report into the source's one metrics entry.
    assert cluster.query("SELECT files_done FROM ingest.metrics WHERE source = 'par'") == \
        [(FILES,)]
    cluster.query("SELECT ingest.stop('par')")


def test_kill_9_of_one_worker_mid_load_loses_and_duplicates_nothing(cluster, data_dir):
    start_parallel_source(cluster, "parkill", data_dir, batch_size=200)
    # 20 ms per batch statement: the 500 batches take seconds, so the kill lands mid-load.
    cluster.query("CREATE FUNCTION parkill.slow() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$ BEGIN PERFORM pg_sleep(0.02); RETURN NULL; END $$")
    cluster.query("CREATE TRIGGER slow BEFORE INSERT ON parkill.user_events "
                  "FOR EACH STATEMENT EXECUTE FUNCTION parkill.slow()")
    pids = wait_for_workers(cluster, "parkill", 2)
    eventgen(data_dir, "--files", FILES, "--events", EVENTS)

    def second_worker_loading():
        rows = cluster.query("SELECT pid FROM ingest.workers WHERE source = 'parkill' "
                             "AND worker = 2 AND state = 'loading'")
        return rows[0][0] if rows else None
    victim = wait_until(second_worker_loading, 30, "worker #2 loading")
    assert victim == pids[1]
    loaded_before = cluster.scalar("SELECT count(*) FROM parkill.user_events")
    assert loaded_before < TOTAL
    # The server restarts every process after a crash; the workers come back and go on.
    killed, restarted = cluster.kill_workers("parkill", numbers=[2])
    assert killed == [victim] and len(restarted) == 2 and not set(restarted) & set(pids)
    wait_idle(cluster, "parkill", "300s")
    assert_loaded_exactly_once(cluster, "parkill")
    cluster.query("SELECT ingest.stop('parkill')")


def test_stop_stops_every_worker_and_alter_to_one_leaves_one(cluster, data_dir):
    start_parallel_source(cluster, "parstop", data_dir)
    wait_for_workers(cluster, "parstop", 2)
    assert cluster.scalar("SELECT ingest.stop('parstop')") is True
    wait_until(lambda: worker_applications(cluster, "parstop") == [], 30, "both workers to exit")
    assert running_workers(cluster, "parstop") == []
    assert cluster.scalar("SELECT state FROM ingest.status WHERE source = 'parstop'") == "stopped"

    assert cluster.scalar("SELECT ingest.start('parstop')") is True
    wait_for_workers(cluster, "parstop", 2)
    cluster.query("SELECT ingest.alter_source('parstop', options => '{\"workers\": 1}')")
    pid = wait_for_workers(cluster, "parstop", 1)[0]
    assert worker_applications(cluster, "parstop") == [("pg_ingest: parstop", pid)]
    # The one worker loads every file alone.
    eventgen(data_dir, "--files", 4, "--events", 1000)
    wait_idle(cluster, "parstop")
    assert cluster.scalar("SELECT count(*) FROM parstop.user_events") == 4000
    assert running_workers(cluster, "parstop") == [(1, pid)]
    assert loader_pids(cluster, "parstop") == {pid}
    cluster.query("SELECT ingest.stop('parstop')")
