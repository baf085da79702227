"""A fake LivePerson API over HTTPS for end-to-end tests, the local runner and the soak."""

from Tests.fake_liveperson import data
from Tests.fake_liveperson.server import FakeLivePerson, FaultSchedule, RequestRecord, load_schema

__all__ = ["FakeLivePerson", "FaultSchedule", "RequestRecord", "data", "load_schema"]
