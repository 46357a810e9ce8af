"""A free loopback port, for listeners hubd does not own (the proxy, services, fake servers).

hubd's own port needs none of this: the harness gives it port 0 and reads the port it bound. For a
process that must be told its port in advance the bind-then-close race remains; keep it to those."""
import socket


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
