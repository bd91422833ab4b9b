"""coop_testkit.free_port never hands the same port out twice in a process: the Compose tests
pick nine host ports in a row, and a repeat made Docker refuse the stack ("port is already
allocated", seen in CI)."""

from __future__ import annotations

import socket

import coop_testkit
from coop_testkit import free_port


def test_free_port_never_repeats_even_when_the_kernel_offers_the_same_port_again(monkeypatch):
    offered = iter([41001, 41001, 41001, 41002])

    class Kernel(socket.socket):
        def getsockname(self):  # the kernel handing the just-closed port back
            return ("127.0.0.1", next(offered))

    monkeypatch.setattr(coop_testkit, "_HANDED_OUT", set())
    monkeypatch.setattr(coop_testkit.socket, "socket", Kernel)
    assert [free_port(), free_port()] == [41001, 41002]


def test_free_ports_picked_in_a_row_are_distinct_and_bindable():
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == 200
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports[-1]))
