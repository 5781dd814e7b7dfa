"""Input that attacks: FIFOs, symlinks and hostile names in the watched directory."""
import os
import time

from conftest import wait_idle, write_csv_atomically


def test_fifo_and_symlink_matching_the_pattern_are_skipped_not_opened(cluster, data_dir, tmp_path):
    cluster.query("CREATE TABLE guarded (id bigint PRIMARY KEY, payload text)")
    cluster.query("SELECT ingest.create_source('guarded', %s, 'guarded')", (str(data_dir),))
    os.mkfifo(data_dir / "evil.csv")
    outside = tmp_path / "secret.csv"
    outside.write_text("id,payload\n666,stolen\n")
    tmp_path.chmod(0o755)
    os.symlink(outside, data_dir / "link.csv")
    cluster.query("SELECT ingest.start('guarded')")
    cluster.worker_pid("guarded")
    write_csv_atomically(data_dir, "good.csv", "id,payload", ["1,fine"])
    wait_idle(cluster, "guarded")
    assert cluster.query("SELECT id, payload FROM guarded") == [(1, "fine")]
    assert cluster.query("SELECT file_name FROM ingest.files WHERE source = 'guarded'") == [
        ("good.csv",)]
    log = cluster.log()
    assert 'pg_ingest source "guarded": skipping "evil.csv": not a regular file: fifo' in log
    assert 'pg_ingest source "guarded": skipping "link.csv": not a regular file: symbolic link' in log
    # The worker is not blocked on the FIFO: it keeps loading.
    write_csv_atomically(data_dir, "later.csv", "id,payload", ["2,also fine"])
    wait_idle(cluster, "guarded")
    assert cluster.scalar("SELECT count(*) FROM guarded") == 2
    cluster.query("SELECT ingest.stop('guarded')")


def test_hostile_header_and_file_names_change_nothing_but_the_rows(cluster, data_dir):
    cluster.query('CREATE TABLE hostile ("x""); DROP TABLE hostile; --" text, id bigint)')
    cluster.query("SELECT ingest.create_source('hostile', %s, 'hostile', '*')", (str(data_dir),))
    cluster.query("SELECT ingest.start('hostile')")
    name = "it's a \"quoted\" name; DROP TABLE hostile.csv"
    write_csv_atomically(data_dir, name, '"x""); DROP TABLE hostile; --",id', ["a,1", "b,2"])
    wait_idle(cluster, "hostile")
    assert cluster.query('SELECT "x""); DROP TABLE hostile; --", id FROM hostile ORDER BY id') == [
        ("a", 1), ("b", 2)]
    assert cluster.query("SELECT file_name, status FROM ingest.files WHERE source = 'hostile'") == [
        (name, "done")]
    cluster.query("SELECT ingest.stop('hostile')")
