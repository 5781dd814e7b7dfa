"""A Citus formation for tests and benchmarks: a coordinator with citus and pg_ingest preloaded and
two Citus worker nodes, each a throwaway cluster of tests/integration's Cluster on its own unix
socket. Citus reaches the nodes through those socket directories (citus_add_node takes a directory
as node name: libpq reads a host that starts with '/' as one)."""
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from conftest import Cluster, wait_until  # noqa: E402

NODE_COUNT = 2
# How often the coordinator's maintenance daemon resolves the prepared transactions that a crash
# left on the nodes: the tests wait for none to be left. (The pg_ingest worker resolves them
# itself before its first file, see docs/distributed.md.)
RECOVER_2PC_INTERVAL = "1s"
COMMON_CONF = (
    "max_prepared_transactions = 100",
    "max_connections = 200",
    "citus.enable_statistics_collection = off",
)


class Formation:
    """The coordinator (`coordinator`) and its worker nodes (`nodes`), set up for Citus."""

    def __init__(self, extra_conf=()):
        self.base = Path(tempfile.mkdtemp(prefix="pg_ingest_citus_"))
        self.base.chmod(0o755)
        self.nodes = [Cluster(self.base / f"node{n}",
                              ("shared_preload_libraries = 'citus'", *COMMON_CONF, *extra_conf))
                      for n in range(1, NODE_COUNT + 1)]
        self.coordinator = Cluster(self.base / "coordinator", (
            "shared_preload_libraries = 'citus,pg_ingest'", *COMMON_CONF,
            f"citus.recover_2pc_interval = '{RECOVER_2PC_INTERVAL}'", *extra_conf))
        for node in self.nodes:
            node.query("CREATE EXTENSION citus")
        self.coordinator.query("CREATE EXTENSION citus")
        self.coordinator.query("CREATE EXTENSION pg_ingest")
        self.coordinator.query("SELECT citus_set_coordinator_host(%s, 5432)",
                               (str(self.coordinator.dir),))
        for node in self.nodes:
            self.coordinator.query("SELECT citus_add_node(%s, 5432)", (str(node.dir),))

    def data_dir(self, name):
        """A directory the servers (running as postgres) can read and write, removed with the
        formation."""
        path = self.base / name
        path.mkdir()
        shutil.chown(path, "postgres", "postgres")
        path.chmod(0o755)
        return path

    @property
    def servers(self):
        return [self.coordinator, *self.nodes]

    def prepared_transactions(self):
        """The prepared transactions of every server, as (server directory name, gid)."""
        return [(server.dir.name, gid) for server in self.servers
                for (gid,) in server.query("SELECT gid FROM pg_prepared_xacts")]

    def wait_for_no_prepared_transactions(self, timeout=60):
        """Waits until Citus's recovery (every RECOVER_2PC_INTERVAL) has resolved every prepared
        transaction a crash left behind."""
        wait_until(lambda: not self.prepared_transactions(), timeout,
                   "no prepared transactions on any server")

    def destroy(self):
        for server in self.servers:
            server.destroy()
        shutil.rmtree(self.base, ignore_errors=True)
