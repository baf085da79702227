"""python3 -m Tests fake [--seed-days N] [--per-day N] [--port N]: serve a seeded fake LivePerson until
Ctrl-C (or SIGTERM), then remove its temporary TLS folder. It prints the one command that points the local runner's
instance .state/fake at it, its CA bundle included."""

import argparse
import shlex
import signal
import sys
import time
from datetime import UTC, datetime, timedelta

from Tests.fake_liveperson import FakeLivePerson, data

STATE = ".state/fake"


def configure_command(fake: FakeLivePerson) -> str:
    """The runner command that configures an instance for this fake: only what a new user gives, plus the fake's place."""
    settings = {
        "domain_api_url": fake.url,
        "ca_bundle": fake.ca_bundle,
        "account_id": fake.account_id,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
    }
    words = ["python3", "-m", "Tests", "run", "--state", STATE, "configure"]
    return shlex.join([*words, *(f"{key}={value}" for key, value in settings.items())])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m Tests fake", description=__doc__)
    parser.add_argument("--seed-days", type=int, default=3)
    parser.add_argument("--per-day", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0, help="the port on 127.0.0.1 (default: a free one)")
    arguments = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as on Ctrl-C, so the TLS folder is removed
    with FakeLivePerson(seed=arguments.seed) as fake:
        now = datetime.now(UTC)
        fake.add_records(
            data.generate_backlog(
                now - timedelta(days=arguments.seed_days), now, arguments.per_day, data.make_rng(arguments.seed)
            )
        )
        print(f"Fake LivePerson at {fake.url} with {len(fake.records)} records, until Ctrl-C.")
        print("Point the local runner at it (the instance .state/fake) with:")
        print(f"  {configure_command(fake)}")
        print(f"then: python3 -m Tests run --state {STATE} test-module  (or fetch-events, liveperson-get-events limit=5)")
        print(flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
