# Stand-in for the official image quay.io/prometheuscommunity/postgres-exporter:v0.15.0, built
# without a registry from Debian 12's prometheus-postgres-exporter, so that tests/docker/run.sh
# runs docker/docker-compose.yml unchanged. run.sh tags it with the official name only inside its
# private container storage.
# Like the official image: the exporter is the entrypoint (arguments are its flags), it runs as
# nobody and listens on 9187, configured by DATA_SOURCE_NAME and --extend.query-path.
# How it differs: the exporter is Debian's 0.11.1, not 0.15.0 (--extend.query-path is the same
# flag, deprecated in both, and custom queries add a "server" label in 0.11 only); the base is a
# debootstrap --variant=minbase of bookworm, not busybox.
FROM localhost/pg_ingest-standin/debian:bookworm
# No service started at install time.
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d \
    && apt-get update \
    && apt-get install -y --no-install-recommends prometheus-postgres-exporter \
    && rm -rf /var/lib/apt/lists/*
USER nobody
EXPOSE 9187
ENTRYPOINT ["/usr/bin/prometheus-postgres-exporter"]
