"""The desk's softphone, pure parts: ``rtp.conf``'s ``[ice_host_candidates]`` mapping for
a loopback media address (against text written by hand), the host addresses read from
``ip -4 -o addr`` output, and the softphone's WebSocket URL from the settings."""

from __future__ import annotations

import pytest

from callcenter.live.voice.config import parse_ip_addr
from callcenter.live.voice.desk_phone import ws_url
from callcenter.settings import Settings
from callcenter.voice import pjsip_config as pc

HEAD = "ice_deny = 0.0.0.0/0\nice_deny = ::/0\n"


def test_a_loopback_media_address_gets_the_hosts_other_addresses_mapped_to_it() -> None:
    text = pc.render_rtp(pc.PjsipOptions(), ["127.0.0.1", "192.0.2.2", "10.1.2.3", "::1"])
    assert text == (
        HEAD + "ice_permit = 127.0.0.1/32\n"
        "\n[ice_host_candidates]\n"
        "192.0.2.2 = 127.0.0.1\n"
        "10.1.2.3 = 127.0.0.1\n"
    )


def test_the_mapping_names_the_media_address_and_each_host_once() -> None:
    opts = pc.PjsipOptions(media_address="127.0.0.2", bind_host="127.0.0.2")
    text = pc.render_rtp(opts, ["192.0.2.2", "192.0.2.2", "127.0.0.1"])
    assert text.endswith("\n[ice_host_candidates]\n192.0.2.2 = 127.0.0.2\n")
    assert text.count("192.0.2.2") == 1


@pytest.mark.parametrize(
    ("media", "hosts"),
    [
        ("192.0.2.2", ["192.0.2.2", "10.1.2.3"]),  # a LAN media address: offered as it is
        ("127.0.0.1", []),  # nothing to map
        ("127.0.0.1", ["127.0.0.1", "::1", "2001:db8::1"]),  # loopback and IPv6 only
    ],
)
def test_no_mapping_without_a_loopback_media_address_or_another_ipv4(
    media: str, hosts: list[str]
) -> None:
    text = pc.render_rtp(pc.PjsipOptions(media_address=media, bind_host=media), hosts)
    assert "ice_host_candidates" not in text
    assert text == HEAD + f"ice_permit = {media}/32\n"


@pytest.mark.parametrize("bad", ["192.0.2.2\n[general]", "192.0.2.2 ; x", "eth0", ""])
def test_a_host_address_that_is_not_an_ip_is_refused(bad: str) -> None:
    with pytest.raises(pc.ConfigValueError) as e:
        pc.render_rtp(pc.PjsipOptions(), [bad])
    assert str(e.value) == f"host address: {bad!r} is not valid; expected an IP address"


def test_render_files_passes_the_hosts_to_rtp_conf() -> None:
    files = pc.render_files([], [], pc.PjsipOptions(), ["192.0.2.2"])
    assert files["rtp.conf"].endswith("[ice_host_candidates]\n192.0.2.2 = 127.0.0.1\n")


def test_ip_addr_output_is_read_address_by_address() -> None:
    # `ip -4 -o addr show up` as iproute2 prints it (one line per address)
    out = (
        "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n"
        "4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\       valid_lft "
        "forever preferred_lft forever\n"
        "4: eth0    inet 10.1.2.3/8 scope global secondary eth0\\       valid_lft forever\n"
        "\n"
    )
    assert parse_ip_addr(out) == ["127.0.0.1", "192.0.2.2", "10.1.2.3"]


def _settings(**kw: object) -> Settings:
    return Settings.load(names={}, **kw)


def test_the_ws_url_of_the_embedded_asterisk_and_the_override() -> None:
    assert ws_url(_settings(voice="embedded", voice_http_port=8188)) == "ws://127.0.0.1:8188/ws"
    assert (
        ws_url(_settings(voice="embedded", voice_bind="::1", voice_http_port=8188))
        == "ws://[::1]:8188/ws"
    )
    over = "wss://pbx.example/ws"
    assert ws_url(_settings(voice="embedded", voice_ws_url=over)) == over
    assert ws_url(_settings(voice="external", voice_ws_url=over)) == over
    # external without the setting, and any free port before Asterisk has started: unknown
    assert ws_url(_settings(voice="external")) is None
    assert ws_url(_settings(voice="embedded", voice_http_port=0)) is None
