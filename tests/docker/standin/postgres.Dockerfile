# Stand-in for the official image postgres:15-bookworm (Docker Hub's "postgres", from
# docker-library/postgres), built without a registry from Debian 12's own packages, so that
# tests/docker/run.sh can build docker/Dockerfile and run docker/docker-compose.yml unchanged.
# run.sh tags it postgres:15-bookworm only inside its private container storage.
# Like the official image: Debian 12, PostgreSQL 15 under /usr/lib/postgresql/15 with its bin
# directory last on PATH, the user postgres, PGDATA, listen_addresses = '*', STOPSIGNAL SIGINT,
# port 5432, the volume /var/lib/postgresql/data, and an entrypoint (docker-entrypoint.sh, ours)
# doing what the official one documents for what our compose file uses.
# How it differs: the base is a debootstrap --variant=minbase of bookworm, not debian:bookworm-slim;
# postgresql-15 is Debian's (15.x+deb12), not the PostgreSQL apt repository's, which is not
# configured either (docker/Dockerfile needs only Debian 12's packages); the locale is C.UTF-8,
# not en_US.utf8; postgres has Debian's system uid, not 999; no gosu (setpriv from util-linux);
# the entrypoint leaves out POSTGRES_INITDB_ARGS, POSTGRES_INITDB_WALDIR,
# POSTGRES_HOST_AUTH_METHOD, the *_FILE secrets and *.sql.gz/xz/zst init files.
FROM localhost/pg_ingest-standin/debian:bookworm
ENV PG_MAJOR=15
ENV PATH=$PATH:/usr/lib/postgresql/$PG_MAJOR/bin
ENV LANG=C.UTF-8
# No cluster of Debian's own (the entrypoint makes the one of PGDATA) and no service started at
# install time.
RUN mkdir -p /etc/postgresql-common \
    && echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf \
    && printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d \
    && apt-get update \
    && apt-get install -y --no-install-recommends postgresql-$PG_MAJOR \
    && rm -rf /var/lib/apt/lists/* \
    && sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" \
        /usr/share/postgresql/$PG_MAJOR/postgresql.conf.sample \
    && mkdir -p /docker-entrypoint-initdb.d /var/run/postgresql \
    && chown postgres:postgres /var/run/postgresql && chmod 3777 /var/run/postgresql
ENV PGDATA=/var/lib/postgresql/data
RUN mkdir -p "$PGDATA" && chown -R postgres:postgres /var/lib/postgresql && chmod 1777 "$PGDATA"
VOLUME /var/lib/postgresql/data
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
