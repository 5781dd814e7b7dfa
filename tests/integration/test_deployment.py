"""The Docker deployment, checked without a Docker engine: docker/build.sh (the image's build stage)
stages exactly the files the image ships and their shared libraries come from the packages the
image installs; the compose file and pgAdmin's servers.json parse and agree with each other and
with files that exist; docker/initdb.sh sets up a real server as the image's first start does."""
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from conftest import PG_CONFIG, PGBIN, ROOT, eventgen, eventgen_ddl, postgres_dir, wait_idle

DOCKER = ROOT / "docker"
# Debian packages postgres:N-bookworm already has (PostgreSQL itself needs them); the image's
# final stage must apt-get install every other package the shipped binaries link to.
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libzstd1"}


def pg_config(option):
    return subprocess.run([PG_CONFIG, option], check=True, capture_output=True,
                          text=True).stdout.strip()


# The major under test, e.g. 17 from "PostgreSQL 17.6 (Debian 17.6-0+deb13u1)", 19 from
# "PostgreSQL 19rc1 (Debian 19~rc1-1)".
PG_MAJOR = re.match(r"PostgreSQL (\d+)", pg_config("--version")).group(1)
# What follows the major in a server's version: a release ("17.0", "17.6") or a pre-release
# ("19devel", "19beta2", "19rc1").
VERSION_AFTER_MAJOR = r"(\.\d+|devel|(alpha|beta|rc)\d+)"


def library(package):
    """A library package's name without its soname version (libfmt9 -> libfmt): the image's
    packages are Debian 12's, the build under test may be another Debian's (libfmt10, ...)."""
    return re.sub(r"[0-9.]+(t64)?$", "", package)


def dockerfile_stages():
    """The Dockerfile's stages, each as its lines with continuations joined."""
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    stages = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("FROM "):
            stages.append([])
        if stages and line and not line.startswith("#"):
            stages[-1].append(line)
    return stages


def build_arguments():
    """The Dockerfile's ARG lines before its first FROM."""
    lines = (DOCKER / "Dockerfile").read_text().split("\nFROM ")[0].splitlines()
    return [line for line in lines if line.startswith("ARG ")]


def apt_installed(stage):
    packages = []
    for line in stage:
        for match in re.finditer(r"apt-get install -y --no-install-recommends ([^&]+)", line):
            packages += match.group(1).split()
    return set(packages)


def owning_package(path):
    # With merged /usr a library is found under /lib or /usr/lib, dpkg knows one of the two.
    alternate = path[len("/usr"):] if path.startswith("/usr/") else "/usr" + path
    for candidate in (path, alternate):
        result = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
        # "PACKAGE: PATH", after "diversion by PACKAGE from/to: PATH" lines where a package
        # diverts the path (libc6 does the dynamic loader's on Debian 13).
        owners = [line.split(":")[0] for line in result.stdout.splitlines()
                  if not line.startswith("diversion by ")]
        if result.returncode == 0 and owners:
            return owners[0]
    raise AssertionError(f"{path} belongs to no Debian package")


def linked_packages(binary):
    ldd = subprocess.run(["ldd", str(binary)], check=True, capture_output=True, text=True).stdout
    assert "not found" not in ldd, ldd
    paths = re.findall(r"(/\S+) \(0x", ldd)
    assert paths, ldd
    return {owning_package(path) for path in paths}


def test_build_stages_exactly_what_the_image_ships():
    stage = Path(tempfile.mkdtemp(prefix="pg_ingest_stage_"))
    try:
        result = subprocess.run(["bash", str(DOCKER / "build.sh"), str(stage / "root")],
                                check=True, capture_output=True, text=True, timeout=900)
        assert re.match(rf"installed pg_ingest for PostgreSQL {PG_MAJOR}{VERSION_AFTER_MAJOR} ",
                        result.stdout), result.stdout
        root = stage / "root"
        extension_dir = Path(pg_config("--sharedir")) / "extension"
        scripts = sorted(p.name for p in (ROOT / "sql" / "extension").glob("pg_ingest--*.sql"))
        assert scripts, "no install script in sql/extension"
        expected = {
            Path(pg_config("--pkglibdir")) / "pg_ingest.so",
            extension_dir / "pg_ingest.control",
            *(extension_dir / name for name in scripts),
            Path("/usr/local/bin/eventgen"),
        }
        staged = {Path("/") / p.relative_to(root) for p in root.rglob("*") if not p.is_dir()}
        assert staged == expected

        assert (root / extension_dir.relative_to("/") / "pg_ingest.control").read_bytes() == \
            (ROOT / "pg_ingest.control").read_bytes()
        for name in scripts:
            assert (root / extension_dir.relative_to("/") / name).read_bytes() == \
                (ROOT / "sql" / "extension" / name).read_bytes()
        staged_eventgen = root / "usr/local/bin/eventgen"
        assert os.access(staged_eventgen, os.X_OK)
        ddl = subprocess.run([str(staged_eventgen), "--print-ddl"], check=True,
                             capture_output=True, text=True).stdout
        assert ddl == eventgen_ddl()

        # What the final stage installs is enough for what it ships: the build stage's -dev
        # packages are not there to satisfy a forgotten runtime library.
        build, final = dockerfile_stages()
        runtime = apt_installed(final)
        assert runtime == {"libcsv3", "libfmt9"}
        assert not any(p.endswith("-dev") for p in runtime)
        staged_library = root / pg_config("--pkglibdir").lstrip("/") / "pg_ingest.so"
        for binary in (staged_library, staged_eventgen):
            assert {library(p) for p in linked_packages(binary)} <= \
                {library(p) for p in BASE_IMAGE_PACKAGES | runtime}
        # The image's major is the build argument PG_MAJOR (15, 17 or 18).
        assert {"postgresql-server-dev-${PG_MAJOR}", "libcsv-dev", "cmake", "g++", "make"} <= \
            apt_installed(build)
        assert "ARG PG_MAJOR=15" in build_arguments() and \
            "ARG PG_IMAGE=postgres:${PG_MAJOR}-bookworm" in build_arguments()
        assert "ARG PG_MAJOR" in build
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def test_dockerfile_builds_with_the_ci_scripts():
    build, final = dockerfile_stages()
    assert build[0] == "FROM ${PG_IMAGE} AS build" and final[0] == "FROM ${PG_IMAGE}"
    assert "RUN bash docker/build.sh /stage" in build
    assert "COPY --from=build /stage/ /" in final
    assert "COPY --chmod=755 docker/initdb.sh /docker-entrypoint-initdb.d/10-pg_ingest.sh" in final
    assert final[-1] == 'CMD ["postgres", "-c", "shared_preload_libraries=pg_ingest"]'
    # Every file copied from the build context exists.
    for line in build + final:
        if line.startswith("COPY ") and "--from=" not in line:
            sources = [w for w in line.split()[1:-1] if not w.startswith("--")]
            for source in sources:
                assert (ROOT / source).exists(), line
    for script in ("build.sh", "initdb.sh"):
        assert os.access(DOCKER / script, os.X_OK)
    # BuildKit's ignore file for this Dockerfile keeps local build output out of the context.
    ignored = (DOCKER / "Dockerfile.dockerignore").read_text().split()
    assert {"build", "**/*.o", "**/*.so"} <= set(ignored)


def test_compose_file_and_pgadmin_servers_are_consistent():
    compose = yaml.safe_load((DOCKER / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "generator", "pgadmin", "exporter"}

    for name in ("db", "generator"):
        service = services[name]
        context = (DOCKER / service["build"]["context"]).resolve()
        assert context == ROOT
        assert (context / service["build"]["dockerfile"]).resolve() == DOCKER / "Dockerfile"
        assert service["image"] == "pg_ingest:demo"
        assert service["build"]["args"] == {"PG_MAJOR": "${PG_MAJOR:-15}"}
    assert services["pgadmin"]["image"].startswith("dpage/pgadmin4:")

    mounts = {}
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith((".", "/")):
                assert (DOCKER / source).exists(), f"{name}: {volume}"
            else:
                assert source in compose["volumes"], f"{name}: {volume}"
            mounts[(name, source)] = target
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services and condition == {"condition": "service_healthy"}
    assert "healthcheck" in services["db"]

    # The generator writes where the server's source reads: the shared volume, at initdb.sh's
    # default DATA_DIR.
    data_dir = re.search(r"^DATA_DIR=\$\{DATA_DIR:-(\S+)\}$", (DOCKER / "initdb.sh").read_text(),
                         re.M).group(1)
    assert mounts[("db", "data")] == mounts[("generator", "data")] == data_dir == "/data"
    command = services["generator"]["command"]
    assert command[:3] == ["eventgen", "--out", data_dir]
    assert command[command.index("--files") + 1] == "0"
    assert services["generator"]["user"] == "postgres"

    # pgAdmin loads servers.json from that path on first start; it points at the db service.
    assert mounts[("pgadmin", "./pgadmin/servers.json")] == "/pgadmin4/servers.json"
    assert services["pgadmin"]["environment"]["PGADMIN_CONFIG_SERVER_MODE"] == "False"
    servers = json.loads((DOCKER / "pgadmin" / "servers.json").read_text())["Servers"]
    assert list(servers) == ["1"]
    server = servers["1"]
    db_env = services["db"]["environment"]
    assert server["Host"] == "db"
    assert server["Port"] == int(services["db"]["ports"][0].split(":")[-1]) == 5432
    assert server["MaintenanceDB"] == db_env["POSTGRES_DB"]
    assert server["Username"] == db_env["POSTGRES_USER"]
    assert server["PasswordExecCommand"] == f"echo {db_env['POSTGRES_PASSWORD']}"

    # postgres_exporter scrapes the db service with the shipped custom queries.
    exporter = services["exporter"]
    assert exporter["image"].startswith("quay.io/prometheuscommunity/postgres-exporter:")
    queries_path = mounts[("exporter", "./postgres_exporter/queries.yaml")]
    assert exporter["command"] == [f"--extend.query-path={queries_path}"]
    assert exporter["environment"]["DATA_SOURCE_NAME"] == (
        f"postgresql://{db_env['POSTGRES_USER']}:{db_env['POSTGRES_PASSWORD']}@db:5432/"
        f"{db_env['POSTGRES_DB']}?sslmode=disable")


def run_initdb(cluster, data, path):
    # The entrypoint's environment: POSTGRES_USER and POSTGRES_DB, no PGUSER or PGDATABASE.
    env = {key: value for key, value in os.environ.items()
           if key not in ("PGUSER", "PGDATABASE", "PGPORT", "PGHOST")}
    env.update(POSTGRES_USER="postgres", POSTGRES_DB="shop", PGHOST=str(cluster.dir),
               PGPORT="5432", DATA_DIR=str(data), PATH=path)
    return subprocess.run([str(DOCKER / "initdb.sh")], env=env, capture_output=True, text=True)


def test_initdb_script_sets_up_the_demo_source(cluster):
    cluster.query("CREATE DATABASE shop")
    data = postgres_dir("pg_ingest_docker_data_")
    try:
        # Without eventgen (no DDL) the script fails and leaves nothing behind.
        failed = run_initdb(cluster, data, f"{PGBIN}:/usr/bin:/bin")
        assert failed.returncode != 0
        assert "eventgen" in failed.stderr
        assert cluster.scalar("SELECT count(*) FROM pg_extension WHERE extname = 'pg_ingest'",
                              dbname="shop") == 0
        assert cluster.scalar("SELECT to_regclass('user_events') IS NULL", dbname="shop") is True

        done = run_initdb(cluster, data, f"{ROOT / 'build'}:{PGBIN}:/usr/bin:/bin")
        assert done.returncode == 0, done.stderr
        assert done.stdout == \
            f'pg_ingest: source "events" loads {data}/user_events_*.csv into shop.user_events\n'
        assert cluster.query("SELECT name, directory, target::text, pattern, batch_size, enabled "
                             "FROM ingest.sources", dbname="shop") == \
            [("events", str(data), "user_events", "user_events_*.csv", 10000, True)]
        assert cluster.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'user_events' ORDER BY ordinal_position", dbname="shop") == [
            ("event_id", "uuid"), ("user_id", "bigint"), ("product_id", "bigint"),
            ("event_type", "text"), ("event_time", "timestamp with time zone"),
            ("price", "numeric"), ("category", "text"), ("user_device", "text"),
            ("user_location", "text")]
        cluster.worker_pid("events", dbname="shop")

        # The entrypoint then stops its temporary server and starts the real one: the source is
        # still enabled, so its worker comes back without anyone calling ingest.start.
        cluster.stop()
        cluster.start()
        cluster.worker_pid("events", dbname="shop")

        written = eventgen(data, "--files", 2, "--events", 1000)
        eventgen(data, "--files", 1, "--events", 10, "--prefix", "other_events")
        names = sorted(Path(line.split()[0]).name for line in written.splitlines())
        assert len(names) == 2
        wait_idle(cluster, "events", dbname="shop")
        assert cluster.query("SELECT file_name, status, rows_loaded, rows_rejected "
                             "FROM ingest.files ORDER BY file_name", dbname="shop") == \
            [(name, "done", 1000, 0) for name in names]
        assert cluster.query("SELECT count(*), count(DISTINCT event_id) FROM user_events",
                             dbname="shop") == [(2000, 2000)]
        assert cluster.scalar("SELECT count(*) FROM ingest.rejects", dbname="shop") == 0
        cluster.query("SELECT ingest.stop('events')", dbname="shop")
    finally:
        shutil.rmtree(data, ignore_errors=True)
