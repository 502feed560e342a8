"""National phone numbers read in the center's country (``phone_region``): a caller id
from a Russian, Iranian or Lithuanian carrier, a phone typed without ``+``.

The truth: each country's numbering plan as its regulator publishes it — Russia's
mobiles are +7 9xx with trunk prefix 8, Iran's +98 9xx with trunk prefix 0, Lithuania's
mobiles +370 6xx with trunk prefix 8.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.live.voice.calls.base import caller_of, phone_of
from callcenter.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("89161234567", "RU", "+79161234567"),  # trunk prefix 8
        ("79161234567", "RU", "+79161234567"),  # the country code without its +
        ("+7 916 123-45-67", "US", "+79161234567"),  # international: any region
        ("09121234567", "IR", "+989121234567"),  # trunk prefix 0
        ("989121234567", "IR", "+989121234567"),
        ("860012345", "LT", "+37060012345"),  # trunk prefix 8
        ("37060012345", "LT", "+37060012345"),
    ],
)
def test_a_caller_id_is_read_in_the_centers_country(raw: str, region: str, e164: str) -> None:
    assert phone_of(raw, region) == e164
    assert caller_of(raw, region) == e164


def test_what_is_no_number_of_that_country_stays_as_it_came() -> None:
    assert phone_of("89161234567", "US") is None  # not a US number: no phone claimed
    assert caller_of("89161234567", "US") == "89161234567"  # the log keeps its digits
    assert phone_of("anonymous", "RU") is None and caller_of("anonymous", "RU") is None


def test_the_setting_takes_a_known_country_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLCENTER_PHONE_REGION", "ir")
    assert Settings.load().phone_region == "IR"
    monkeypatch.setenv("CALLCENTER_PHONE_REGION", "Persia")
    with pytest.raises(SettingsError) as info:
        Settings.load()
    assert str(info.value) == (
        "CALLCENTER_PHONE_REGION 'Persia': 'Persia' is not a phone region (expected an "
        "ISO 3166 code such as IR, RU, LT or US)"
    )


def test_a_center_in_russia_reads_national_numbers_without_a_region_parameter(
    tmp_path: Path,
) -> None:
    from tests.support.seed import seed
    from tests.support.server import running_server

    url = f"sqlite:///{tmp_path / 'center.db'}"
    seed(url)
    with (
        running_server(url, tmp_path, CALLCENTER_PHONE_REGION="RU") as server,
        server.client("ann") as ann,
    ):
        olga = ann.ok("POST", "/api/customers", json={"name": "Olga", "phone": "8 916 123-45-67"})
        assert olga["phone"] == "+79161234567"
        found = ann.ok("GET", "/api/customers", params={"q": "89161234567"})["customers"]
        assert [c["name"] for c in found] == ["Olga"]
        # the request's own region still wins (a number from abroad)
        body = {"name": "Oliver", "phone": "020 7946 0018", "region": "GB"}
        assert ann.ok("POST", "/api/customers", json=body)["phone"] == "+442079460018"
