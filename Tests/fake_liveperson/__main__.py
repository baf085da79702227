"""python3 -m Tests.fake_liveperson [--seed-days N] [--per-day N]: serve a seeded fake LivePerson until Ctrl-C."""

import argparse
import time
from datetime import UTC, datetime, timedelta

from Tests.fake_liveperson import FakeLivePerson, data


def main() -> None:
    parser = argparse.ArgumentParser(prog="python3 -m Tests.fake_liveperson", description=__doc__)
    parser.add_argument("--seed-days", type=int, default=3)
    parser.add_argument("--per-day", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    with FakeLivePerson(seed=arguments.seed) as fake:
        now = datetime.now(UTC)
        fake.add_records(
            data.generate_backlog(
                now - timedelta(days=arguments.seed_days), now, arguments.per_day, data.make_rng(arguments.seed)
            )
        )
        print(f"Fake LivePerson at {fake.url} with {len(fake.records)} records")
        print(f"  Domain API URL: {fake.url}   Sentinel host: {fake.host}   CA bundle: {fake.ca_bundle}")
        print(f"  account_id={fake.account_id} client_id={fake.client_id} client_secret={fake.client_secret}")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
