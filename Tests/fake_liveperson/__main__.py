"""python3 -m Tests fake [--seed-days N] [--per-day N] [--port N] [schema options]: serve a seeded fake LivePerson
until Ctrl-C (or SIGTERM), then remove its temporary TLS folder. It prints the one command that points the local
runner's instance .state/fake at it, its CA bundle included (with --api-key, an instance that uses the fake's API
key, OAuth 1.0, its two secret halves in the command's environment). The schema options type its arguments (see
--help)."""

import argparse
import shlex
import signal
import sys
import time
from datetime import UTC, datetime, timedelta

from Tests.fake_liveperson import FakeLivePerson, data
from Tests.fake_liveperson.server import FROM_DATE_TYPES, TYPINGS

STATE = ".state/fake"


def configure_command(fake: FakeLivePerson, api_key: bool = False) -> str:
    """The runner command that configures an instance for this fake: only what a new user gives, plus the fake's place.
    The client secret goes in the command's environment, as the runner takes it (never on its command line); it is
    the fake's own throwaway secret: for a real one, leave it out and configure asks for it. With `api_key`, the
    fake's API key instead of client credentials (app key and access token; their two secrets in the environment)."""
    settings = {"domain_api_url": fake.url, "ca_bundle": fake.ca_bundle, "account_id": fake.account_id}
    if api_key:
        app_key, secret, access_token, access_token_secret = fake.api_key
        settings.update(app_key=app_key, access_token=access_token)
        environment = [f"LIVEPERSON_SECRET={secret}", f"LIVEPERSON_ACCESS_TOKEN_SECRET={access_token_secret}"]
    else:
        settings.update(client_id=fake.client_id)
        environment = [f"LIVEPERSON_CLIENT_SECRET={fake.client_secret}"]
    words = [*environment, "python3", "-m", "Tests", "run", "--state", STATE, "configure"]
    return shlex.join([*words, *(f"{key}={value}" for key, value in settings.items())])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m Tests fake", description=__doc__)
    parser.add_argument("--seed-days", type=int, default=3)
    parser.add_argument("--per-day", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0, help="the port on 127.0.0.1 (default: a free one)")
    for option in ("order-by", "order-direction", "component-types"):
        parser.add_argument(f"--{option}", choices=TYPINGS, default="strings", help="how the argument is typed")
    parser.add_argument("--from-date", choices=FROM_DATE_TYPES, default="String", help="fromDate's type")
    parser.add_argument("--no-action-type", action="store_true", help="records have no actionType field")
    parser.add_argument("--no-introspection", action="store_true", help="refuse GraphQL introspection")
    parser.add_argument("--api-key", action="store_true", help="print the command for an instance using the API key")
    arguments = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as on Ctrl-C, so the TLS folder is removed
    schema = {
        "order_by": arguments.order_by,
        "order_direction": arguments.order_direction,
        "component_types": arguments.component_types,
        "from_date": arguments.from_date,
        "action_type": not arguments.no_action_type,
        "introspection": not arguments.no_introspection,
    }
    with FakeLivePerson(seed=arguments.seed, **schema) as fake:
        now = datetime.now(UTC)
        fake.add_records(
            data.generate_backlog(
                now - timedelta(days=arguments.seed_days), now, arguments.per_day, data.make_rng(arguments.seed)
            )
        )
        print(f"Fake LivePerson at {fake.url} with {len(fake.records)} records, until Ctrl-C.")
        print("Point the local runner at it (the instance .state/fake) with:")
        print(f"  {configure_command(fake, arguments.api_key)}")
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
