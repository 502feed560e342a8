"""pjsip.conf rendering (``voice/pjsip_config.py``) against hand-written text, and every
value check: nothing a table holds can add a line or a section to the configuration."""

from __future__ import annotations

import hashlib

import pytest

from callcenter.voice import pjsip_config as pc

OPTS = pc.PjsipOptions(media_address="127.0.0.1")
# md5("agent-bob:callcenter:secret"), computed by hand with `printf ... | md5sum`
BOB_HA1 = hashlib.md5(b"agent-bob:callcenter:secret").hexdigest()

MEDIA = """disallow = all
allow = ulaw,alaw
dtmf_mode = rfc4733
direct_media = no
rtp_symmetric = yes
media_address = 127.0.0.1
bind_rtp_to_media_address = yes
allow_subscribe = no
allow_unauthenticated_options = no
"""

IP_TRUNK = (
    """[trunk-carrier-a]
type = endpoint
context = callcenter-in
transport = transport-udp
"""
    + MEDIA
    + """deny = 0.0.0.0/0
deny = ::/0
permit = 198.51.100.0/24
permit = 203.0.113.7/32

[trunk-carrier-a]
type = identify
endpoint = trunk-carrier-a
match = 198.51.100.0/24
match = 203.0.113.7/32
"""
)

SIP_PHONE = (
    """[agent-bob]
type = endpoint
context = callcenter-phones
transport = transport-udp
auth = agent-bob
aors = agent-bob
"""
    + MEDIA
    + f"""force_rport = yes
rewrite_contact = yes

[agent-bob]
type = auth
auth_type = digest
username = agent-bob
realm = callcenter
password_digest = MD5:{BOB_HA1}
supported_algorithms_uas = MD5

[agent-bob]
type = aor
max_contacts = 1
remove_existing = yes
qualify_frequency = 30
"""
)


def test_ha1_is_the_rfc2617_digest() -> None:
    # RFC 2617 §3.5's example: Mufasa / testrealm@host.com / Circle Of Life
    assert pc.ha1("Mufasa", "Circle Of Life", "testrealm@host.com") == (
        "939e7578ed9e3c518a452acee763bce9"
    )
    assert pc.ha1("agent-bob", "secret") == BOB_HA1


def test_ip_trunk_and_sip_phone_render_as_written_by_hand() -> None:
    trunk = pc.TrunkSpec("carrier-a", "ip", networks=("198.51.100.0/24", "203.0.113.7/32"))
    phone = pc.PhoneSpec("agent-bob", "sip", BOB_HA1)
    text = pc.render_pjsip([trunk], [phone], OPTS)
    ws = "[transport-ws]\ntype = transport\nprotocol = ws\nbind = 127.0.0.1\n"
    assert text == "\n".join([pc.GENERATED_MARKER, ws, IP_TRUNK, SIP_PHONE])


def test_register_trunk_registers_with_line_and_its_password() -> None:
    trunk = pc.TrunkSpec(
        "carrier-b", "register", server="sip.example.net:5070", username="u1", password="p@ss"
    )
    text = pc.render_pjsip([trunk], [], OPTS)
    assert (
        "[trunk-carrier-b]\ntype = auth\nauth_type = digest\nusername = u1\npassword = p@ss\n"
        in (text)
    )
    assert (
        "[trunk-carrier-b]\ntype = aor\ncontact = sip:sip.example.net:5070\n"
        "qualify_frequency = 60\n"
    ) in text
    assert (
        "[trunk-carrier-b-reg]\ntype = registration\ntransport = transport-udp\n"
        "outbound_auth = trunk-carrier-b\nserver_uri = sip:sip.example.net:5070\n"
        "client_uri = sip:u1@sip.example.net:5070\ncontact_user = u1\n"
        "retry_interval = 60\nforbidden_retry_interval = 600\nexpiration = 3600\n"
        "line = yes\nendpoint = trunk-carrier-b\n"
    ) in text
    assert "outbound_auth = trunk-carrier-b\naors = trunk-carrier-b\n" in text
    assert "p@ss" not in repr(trunk)


def test_a_trunk_of_one_address_is_asked_whether_it_is_there() -> None:
    """One carrier address: an AOR with that contact and qualify, so ARI's endpoint state
    says online / offline; a trunk of networks has no one address to ask."""
    one = pc.render_pjsip([pc.TrunkSpec("c1", "ip", networks=("203.0.113.7/32",))], [], OPTS)
    assert "aors = trunk-c1\n" in one
    assert "[trunk-c1]\ntype = aor\ncontact = sip:203.0.113.7\nqualify_frequency = 60\n" in one
    six = pc.render_pjsip([pc.TrunkSpec("c6", "ip", networks=("2001:db8::7",))], [], OPTS)
    assert "contact = sip:[2001:db8::7]\n" in six
    many = pc.render_pjsip([pc.TrunkSpec("c2", "ip", networks=("198.51.100.0/24",))], [], OPTS)
    assert "type = aor" not in many and "aors =" not in many


def test_webrtc_phone_uses_ws_dtls_and_no_phone_takes_opus() -> None:
    text = pc.render_pjsip([], [pc.PhoneSpec("agent-amy", "webrtc")], OPTS)
    assert "transport = transport-ws\n" in text
    assert "webrtc = yes\ndtls_auto_generate_cert = yes\n" in text
    assert f"password_digest = MD5:{pc.LOCKED_HA1}\n" in text  # no credential issued yet
    assert "opus" not in text and "allow = ulaw,alaw\n" in text


def test_nat_acl_ice_and_the_phone_context() -> None:
    opts = pc.PjsipOptions(
        media_address="10.0.0.5",
        external_media_address="198.51.100.9",
        external_signaling_address="198.51.100.9",
        local_networks=("10.0.0.0/8",),
        sip_networks=("192.0.2.0/24",),
    )
    trunk = pc.TrunkSpec("carrier-a", "ip", networks=("203.0.113.7/32",))
    text = pc.render_pjsip([trunk], [], opts)
    assert (
        "[transport-udp](+)\nexternal_media_address = 198.51.100.9\n"
        "external_signaling_address = 198.51.100.9\nlocal_net = 10.0.0.0/8\n"
    ) in text
    assert (
        "[acl-callcenter]\ntype = acl\ndeny = 0.0.0.0/0.0.0.0\ndeny = ::/0\n"
        "permit = 192.0.2.0/24\npermit = 203.0.113.7/32\n"
    ) in text
    assert pc.render_rtp(opts) == (
        "ice_deny = 0.0.0.0/0\nice_deny = ::/0\n"
        "ice_permit = 10.0.0.5/32\nice_permit = 198.51.100.9/32\n"
    )
    ext = pc.render_extensions("callcenter")
    assert ext.startswith("[callcenter-phones]\n")
    lines = [x for x in ext.splitlines() if "=>" in x]
    assert all(",Stasis(callcenter,phone)" in x or "n,Hangup()" in x for x in lines)
    assert "Dial" not in ext


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (pc.TrunkSpec("bad\n[evil]", "ip", networks=("192.0.2.1",)), "trunk: 'bad\\n[evil]'"),
        (pc.TrunkSpec("ok\n", "ip", networks=("192.0.2.1",)), "trunk: 'ok\\n' is not valid"),
        (pc.PhoneSpec("agent-b\n", "sip"), "username: 'agent-b\\n' is not valid"),
        (pc.TrunkSpec("a;b", "ip", networks=("192.0.2.1",)), "trunk: 'a;b' is not valid"),
        (pc.TrunkSpec("ok", "ip", networks=("192.0.2.1\nx=y",)), "networks: '192.0.2.1\\nx=y'"),
        (
            pc.TrunkSpec("ok", "ip", networks=("sip.example.net",)),
            "networks: 'sip.example.net' is not valid; expected an IP address or network",
        ),
        (pc.TrunkSpec("ok", "ip", networks=()), "networks: empty"),
        (
            pc.TrunkSpec("ok", "register", server="h\n[x]", username="u", password="p"),
            "server: 'h\\n[x]' is not valid",
        ),
        (
            pc.TrunkSpec("ok", "register", server="h", username="u;x", password="p"),
            "username: 'u;x' is not valid",
        ),
        (
            pc.TrunkSpec("ok", "register", server="h", username="u", password="p\n[evil]"),
            "password: the value given is not usable",
        ),
        (
            pc.TrunkSpec("ok", "register", server="h", username="u", password="a;b"),
            "password: the value given is not usable",
        ),
        (
            pc.TrunkSpec("ok", "register", server="h"),
            "trunk 'ok': a register trunk needs server, username and password",
        ),
        (pc.TrunkSpec("ok", "ip", networks=("192.0.2.1",), codecs=("opus",)), "codecs: 'opus'"),
        (pc.TrunkSpec("ok", "ip", networks=("192.0.2.1",), dtmf_mode="x\ny"), "dtmf_mode:"),
        (pc.PhoneSpec("agent-b\nx", "sip"), "username: 'agent-b\\nx' is not valid"),
        (pc.PhoneSpec("agent-b", "sip", "zz\n[x]"), "ha1: not an MD5 digest"),
    ],
)
def test_values_that_would_inject_configuration_are_refused(
    spec: pc.TrunkSpec | pc.PhoneSpec, message: str
) -> None:
    trunks = [spec] if isinstance(spec, pc.TrunkSpec) else []
    phones = [spec] if isinstance(spec, pc.PhoneSpec) else []
    with pytest.raises(pc.ConfigValueError, match="^" + _re(message)):
        pc.render_pjsip(trunks, phones, OPTS)


def _re(text: str) -> str:
    import re

    return re.escape(text)


def test_a_secret_is_never_in_the_message() -> None:
    with pytest.raises(pc.ConfigValueError) as e:
        pc.check_secret("hunter2 with space")
    assert "hunter2" not in str(e.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (pc.PjsipOptions(bind_host="0.0.0.0\n[x]"), "bind_host: '0.0.0.0\\n[x]' is not valid"),
        (pc.PjsipOptions(media_address="host"), "media_address: 'host' is not valid"),
        (pc.PjsipOptions(external_media_address="a;b"), "external_media_address: 'a;b'"),
        (pc.PjsipOptions(sip_networks=("10.0.0.0/33",)), "sip_networks: '10.0.0.0/33'"),
        (pc.PjsipOptions(app="cc\nx"), "app: 'cc\\nx' is not valid"),
        (pc.PjsipOptions(sip_port=0), "sip_port: 0 is not valid"),
    ],
)
def test_bad_options_are_refused(options: pc.PjsipOptions, message: str) -> None:
    with pytest.raises(pc.ConfigValueError, match="^" + _re(message)):
        pc.render_pjsip([], [], options)


def test_numbers_languages_and_hosts() -> None:
    for good in ("+74951234567", "370520", "1"):
        assert pc.check_number(good) == good
    with pytest.raises(pc.ConfigValueError) as e:
        pc.check_number("+7 abc")
    assert str(e.value) == (
        "number: '+7 abc' is not a telephone number; "
        "expected 1-20 digits with an optional leading +"
    )
    for bad in ("", "++1", "1-2", "123\n", "+" + "1" * 21, "١٢٣"):  # Arabic-Indic digits too
        with pytest.raises(pc.ConfigValueError):
            pc.check_number(bad)
    assert pc.check_language("ru") == "ru"
    assert pc.check_language("pt_BR") == "pt_BR"
    with pytest.raises(pc.ConfigValueError, match="language: 'EN'"):
        pc.check_language("EN")
    for host in ("sip.example.net", "sip.example.net:5060", "192.0.2.1:5080", "[2001:db8::1]:5060"):
        assert pc.check_host_port(host) == host
    for host in ("sip.example.net:0", "sip.example.net:70000", "a b", "-x.net", "[::1", "h:1:2"):
        with pytest.raises(pc.ConfigValueError):
            pc.check_host_port(host)


def test_networks_are_normalised_and_duplicates_dropped() -> None:
    assert pc.check_networks(["198.51.100.7/24", "203.0.113.7", "203.0.113.7/32"]) == (
        "198.51.100.0/24",
        "203.0.113.7/32",
    )


def test_a_name_defined_twice_is_refused() -> None:
    t = pc.TrunkSpec("a", "ip", networks=("192.0.2.1",))
    with pytest.raises(pc.ConfigValueError, match="endpoint 'trunk-a' is defined twice"):
        pc.render_pjsip([t, t], [], OPTS)


def test_phone_username_is_prefixed_and_sip_safe() -> None:
    assert pc.phone_username("bob") == "agent-bob"
    assert pc.phone_username("j.doe_2") == "agent-j.doe_2"
    with pytest.raises(pc.ConfigValueError):
        pc.phone_username("bob smith")


def test_a_whole_file_writes_its_own_udp_transport() -> None:
    opts = pc.PjsipOptions(
        bind_host="192.0.2.10", sip_port=5080, udp_transport=True,
        external_signaling_address="198.51.100.9",
    )  # fmt: skip
    text = pc.render_pjsip([], [], opts)
    assert (
        "[transport-udp]\ntype = transport\nprotocol = udp\nbind = 192.0.2.10:5080\n"
        "external_signaling_address = 198.51.100.9\n"
    ) in text
    assert "(+)" not in text
    v6 = pc.render_pjsip([], [], pc.PjsipOptions(bind_host="::1", udp_transport=True))
    assert "bind = [::1]:5060\n" in v6
