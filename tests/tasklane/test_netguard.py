import ipaddress
import socket

import pytest

from tasklane.netguard import PrivateAddressError, check_url_literal, check_url_resolved


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:8000/",
        "http://api.localhost/",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
    ],
)
def test_internal_literals_are_refused(url: str) -> None:
    with pytest.raises(PrivateAddressError):
        check_url_literal(url)


@pytest.mark.parametrize(
    "url", ["https://example.com/x", "http://93.184.216.34/", "http://[2606:4700::1]/"]
)
def test_public_literals_and_names_pass_without_resolving(url: str) -> None:
    check_url_literal(url)


def _resolves_inward(name: str) -> bool:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, 80)}
    except OSError:
        return False
    return all(not ipaddress.ip_address(a).is_global for a in addresses)


HOST = socket.gethostname()


@pytest.mark.skipif(
    not _resolves_inward(HOST), reason="this host name resolves to a public address"
)
async def test_a_name_resolving_inward_passes_submit_and_is_refused_at_call_time() -> None:
    url = f"http://{HOST}/x"
    check_url_literal(url)  # a plain name: nothing to refuse without resolving it
    with pytest.raises(PrivateAddressError):
        await check_url_resolved(url)
