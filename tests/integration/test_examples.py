"""The analyst's queries in examples/ on events that pg_ingest itself loaded.

`eventgen --seed 1` makes the data, so every result is fixed. Each query's psql output must equal
tests/integration/expected_examples/<name>.out, and its rows must equal what this file computes
on its own from the CSV file in Python. After a deliberate change to a query or to eventgen's
output, PG_INGEST_UPDATE_EXAMPLES=1 rewrites the .out files (then read the diff).
"""
import csv
import os
import shutil
import subprocess
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from conftest import PGBIN, ROOT, eventgen, eventgen_ddl, postgres_dir, wait_idle

EXAMPLES = ROOT / "examples"
EXPECTED = Path(__file__).parent / "expected_examples"
PSQL = f"{PGBIN}/psql"
EVENTS = 5000


def parse_time(text):
    assert text.endswith("+00"), text
    return datetime.strptime(text[:-3], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)


def rounded(value, places):
    """PostgreSQL's round(numeric, places): half away from zero."""
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def percent(part, whole):
    return None if whole == 0 else rounded(Decimal(100) * part / whole, 1)


@pytest.fixture(scope="module")
def events(cluster):
    """Seed-1 events, loaded into user_events by a pg_ingest source; returns the CSV rows."""
    directory = postgres_dir("pg_ingest_examples_")
    try:
        cluster.query(eventgen_ddl())
        cluster.query("SELECT ingest.create_source('examples', %s, 'user_events', "
                      "pattern => 'user_events_*.csv')", (str(directory),))
        cluster.query("SELECT ingest.start('examples')")
        written = eventgen(directory, "--seed", 1, "--files", 1, "--events", EVENTS)
        path = Path(written.split()[0])
        wait_idle(cluster, "examples")
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            row["user_id"] = int(row["user_id"])
            row["product_id"] = int(row["product_id"])
            row["event_time"] = parse_time(row["event_time"])
            row["price"] = Decimal(row["price"])
        yield path.name, rows
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_events_are_loaded_by_pg_ingest(cluster, events):
    name, rows = events
    assert len(rows) == EVENTS
    assert cluster.query("SELECT file_name, status, rows_loaded, rows_rejected FROM ingest.files "
                         "WHERE source = 'examples'") == [(name, "done", EVENTS, 0)]
    assert cluster.query("SELECT count(*), count(DISTINCT event_id) FROM user_events") == \
        [(EVENTS, EVENTS)]
    # Every event type is present, so every column of every example has something to count.
    assert set(Counter(row["event_type"] for row in rows)) == \
        {"view", "add_to_cart", "remove_from_cart", "wishlist", "purchase"}


def events_per_type_per_minute(rows):
    minutes = defaultdict(Counter)
    for row in rows:
        minutes[row["event_time"].replace(second=0, microsecond=0)][row["event_type"]] += 1
    return [(minute, c["view"], c["add_to_cart"], c["remove_from_cart"], c["wishlist"],
             c["purchase"], sum(c.values()))
            for minute, c in sorted(minutes.items(), reverse=True)[:60]]


def conversion_funnel(rows):
    by_pair = defaultdict(list)
    for row in sorted(rows, key=lambda r: r["event_time"]):
        by_pair[(row["user_id"], row["product_id"])].append(row)
    viewers, carters, buyers = set(), set(), set()
    for (user, _), pair_events in by_pair.items():
        stage = 0  # 1 once viewed, 2 once carted after that view, 3 once bought after that
        for row in pair_events:
            if (stage, row["event_type"]) in ((0, "view"), (1, "add_to_cart"), (2, "purchase")):
                stage += 1
        for reached, users in zip((1, 2, 3), (viewers, carters, buyers)):
            if stage >= reached:
                users.add(user)
    counts = [len(viewers), len(carters), len(buyers)]
    assert counts[0] > counts[1] > counts[2] > 0
    return [(step, stage, users, percent(users, counts[step - 2]) if step > 1 else None,
             percent(users, counts[0]))
            for step, stage, users in zip((1, 2, 3), ("view", "add_to_cart", "purchase"), counts)]


def revenue_by_category(rows):
    purchases = [row for row in rows if row["event_type"] == "purchase"]
    total = sum(row["price"] for row in purchases)
    by_category = defaultdict(list)
    for row in purchases:
        by_category[row["category"]].append(row["price"])
    result = [(category, len(prices), sum(prices), rounded(sum(prices) / len(prices), 2),
               percent(sum(prices), total))
              for category, prices in by_category.items()]
    result.sort(key=lambda r: (-r[2], r[0]))
    assert sum(r[2] for r in result) == total
    return result


def top_products(rows):
    counts = defaultdict(Counter)
    revenue = defaultdict(Decimal)
    category = {}
    for row in rows:
        product = row["product_id"]
        counts[product][row["event_type"]] += 1
        category[product] = row["category"]
        if row["event_type"] == "purchase":
            revenue[product] += row["price"]
    result = [(product, category[product], c["view"], c["add_to_cart"], c["purchase"],
               revenue[product], percent(c["purchase"], c["view"]))
              for product, c in counts.items() if c["purchase"] > 0]
    result.sort(key=lambda r: (-r[5], r[0]))
    return result[:10]


def active_users_by_device_location(rows):
    since = max(row["event_time"] for row in rows) - timedelta(hours=1)
    users, events = defaultdict(set), Counter()
    for row in rows:
        if row["event_time"] > since:
            group = (row["user_device"], row["user_location"])
            users[group].add(row["user_id"])
            events[group] += 1
    result = [(device, location, len(users[(device, location)]), events[(device, location)])
              for device, location in users]
    result.sort(key=lambda r: (-r[2], -r[3], r[0], r[1]))
    return result[:20]


REFERENCES = {f.__name__: f for f in (events_per_type_per_minute, conversion_funnel,
                                      revenue_by_category, top_products,
                                      active_users_by_device_location)}


def test_every_example_has_a_reference_here():
    assert sorted(p.stem for p in EXAMPLES.glob("*.sql")) == sorted(REFERENCES)
    assert sorted(p.name for p in EXPECTED.iterdir()) == sorted(f"{n}.out" for n in REFERENCES)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_example(cluster, events, name):
    sql = (EXAMPLES / f"{name}.sql").read_text()
    # A header comment saying what it answers, then one statement.
    assert sql.startswith("-- ")
    assert sql.count(";") == 1 and sql.rstrip().endswith(";")

    assert cluster.query(sql) == REFERENCES[name](events[1])

    env = dict(os.environ, PGHOST=str(cluster.dir), PGPORT="5432", PGUSER="postgres",
               PGDATABASE="postgres", PGTZ="UTC", PGCLIENTENCODING="UTF8")
    output = subprocess.run([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-P", "pager=off", "-f",
                             str(EXAMPLES / f"{name}.sql")], env=env, check=True,
                            capture_output=True, text=True).stdout
    expected = EXPECTED / f"{name}.out"
    if os.environ.get("PG_INGEST_UPDATE_EXAMPLES") == "1":
        expected.write_text(output)
    assert output == expected.read_text()
