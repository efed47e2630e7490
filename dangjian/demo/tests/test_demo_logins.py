"""`demo_logins --address` prints the address `make run` serves on (its HOST), not a fixed one."""

import pytest

from dangjian.demo.management.commands.demo_logins import site_url


@pytest.mark.parametrize(
    ("address", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000/"),
        ("0.0.0.0:9000", "http://127.0.0.1:9000/"),
        (":8080", "http://127.0.0.1:8080/"),
        ("192.168.1.20:8000", "http://192.168.1.20:8000/"),
        ("", "http://127.0.0.1:8000/"),
    ],
)
def test_the_printed_address_is_the_served_one(address, url):
    assert site_url(address) == url
