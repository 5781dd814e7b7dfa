"""Operations: pg_ingest.enabled turns every worker off for maintenance and back on."""
import time

from conftest import wait_idle, wait_until, write_csv_atomically


def worker_count(cluster):
    return cluster.scalar("SELECT count(*) FROM pg_stat_activity "
                          "WHERE backend_type = 'pg_ingest worker'")


def test_enabled_off_runs_no_worker_and_on_resumes_sources(cluster, data_dir):
    cluster.query("CREATE TABLE maintained (id bigint PRIMARY KEY, payload text)")
    cluster.query("SELECT ingest.create_source('maintained', %s, 'maintained')", (str(data_dir),))
    cluster.query("SELECT ingest.start('maintained')")
    cluster.worker_pid("maintained")

    cluster.query("ALTER SYSTEM SET pg_ingest.enabled = off")
    cluster.stop()
    cluster.start()
    time.sleep(1.5)
    assert worker_count(cluster) == 0
    write_csv_atomically(data_dir, "during_maintenance.csv", "id,payload", ["1,a", "2,b"])
    time.sleep(1.5)
    assert cluster.scalar("SELECT count(*) FROM maintained") == 0
    assert cluster.scalar("SELECT state FROM ingest.status WHERE source = 'maintained'") == "starting"

    cluster.query("ALTER SYSTEM RESET pg_ingest.enabled")
    cluster.query("SELECT pg_reload_conf()")
    cluster.worker_pid("maintained")
    wait_idle(cluster, "maintained")
    assert cluster.query("SELECT id FROM maintained ORDER BY id") == [(1,), (2,)]

    # Off by reload stops the running workers too.
    cluster.query("ALTER SYSTEM SET pg_ingest.enabled = off")
    cluster.query("SELECT pg_reload_conf()")
    wait_until(lambda: worker_count(cluster) == 0, 60, "every worker to exit")
    cluster.query("ALTER SYSTEM RESET pg_ingest.enabled")
    cluster.query("SELECT pg_reload_conf()")
    cluster.worker_pid("maintained")
    cluster.query("SELECT ingest.stop('maintained')")
