#!/usr/bin/python3
"""smtpd.py - a real, scriptable SMTP server for mailproc's tests.

    smtpd.py --port N --dir DIR [--tls-cert C --tls-key K] [--implicit-tls]
             [--auth USER:PASS] [--idle-timeout S] [--lifetime S]

Listens on 127.0.0.1 only (port 0: any free port).  Run it with
/usr/bin/python3, which has Debian's python3-aiosmtpd.

What it promises, all under DIR:
  smtpd.pid    its PID, written before it listens
  port         the port it listens on
  ready        "ready", written once it listens (removed when it stops)
  NNNNNN.eml   each accepted message, the bytes as received, dot-unstuffed
  NNNNNN.json  {"mail_from", "rcpt_tos", "received_at", "tls", "auth"};
               written after the .eml, so a .json means both are complete
  connections  the number of TCP connections accepted so far
  held         the number of DATA replies held back by "delay" so far
Every file is written to a temporary name and renamed into place.

Fault control: DIR/mode is read again for every command, so a test changes
behaviour without a restart.  One directive a line; no file or an empty
file accepts everything:
  rcpt ADDRESS CODE   answer RCPT TO for ADDRESS (case-insensitive) with CODE
  rcpt * CODE         answer every RCPT TO with CODE
  mail CODE           answer MAIL FROM with CODE
  data CODE           answer the end of DATA with CODE (nothing is stored)
  delay SECONDS       hold the end of DATA that long before answering (and
                      storing); each hold adds one to DIR/held first, so a
                      test knows a client is waiting on a DATA (0..3600)
  hang                accept connections but never greet; sessions already
                      open stop answering at their next command
CODE is 400..599.

--tls-cert/--tls-key offer STARTTLS; with --implicit-tls the port speaks
TLS from the start instead.  --auth USER:PASS requires AUTH (offered after
TLS only, unless the port is implicit TLS).  --idle-timeout S (default 60)
closes a session that sends nothing for S seconds with a 421 reply, as
Postfix does.

It stops within a second on SIGTERM or SIGINT, when its parent process
goes away, or after --lifetime seconds (default 600), so a test that dies
leaves no server behind.
"""
import argparse
import asyncio
import json
import logging
import os
import re
import signal
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

HOST = "127.0.0.1"
NAME_RE = re.compile(r"^(\d{6})\.json$")


def write_atomic(path, data):
    tmp = os.path.join(os.path.dirname(path),
                       ".tmp." + os.path.basename(path))
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def parse_code(word):
    code = int(word)
    if not 400 <= code <= 599:
        raise ValueError(word)
    return code


class Mode:
    """One reading of DIR/mode; unreadable lines are ignored."""

    def __init__(self, path):
        self.rcpt = {}
        self.rcpt_all = None
        self.mail = None
        self.data = None
        self.hang = False
        self.delay = 0.0
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return
        for line in lines:
            w = line.split()
            try:
                if w == ["hang"]:
                    self.hang = True
                elif len(w) == 3 and w[0] == "rcpt" and w[1] == "*":
                    self.rcpt_all = parse_code(w[2])
                elif len(w) == 3 and w[0] == "rcpt":
                    self.rcpt[w[1].lower()] = parse_code(w[2])
                elif len(w) == 2 and w[0] == "mail":
                    self.mail = parse_code(w[1])
                elif len(w) == 2 and w[0] == "data":
                    self.data = parse_code(w[1])
                elif len(w) == 2 and w[0] == "delay":
                    d = float(w[1])
                    if not 0 <= d <= 3600:
                        raise ValueError(w[1])
                    self.delay = d
            except ValueError:
                pass


def refusal(code, what):
    enh = "4.0.0" if code < 500 else "5.0.0"
    return f"{code} {enh} {what} refused by smtpd.py mode file"


class Box:
    """The server's state: where messages go and what is open."""

    def __init__(self, directory):
        self.dir = directory
        self.connections = 0
        self.held = 0
        self.protocols = set()
        self.last = 0
        for name in os.listdir(directory):
            m = NAME_RE.match(name)
            if m:
                self.last = max(self.last, int(m.group(1)))

    def mode(self):
        return Mode(os.path.join(self.dir, "mode"))

    def store(self, envelope, tls, auth):
        self.last += 1
        base = os.path.join(self.dir, f"{self.last:06d}")
        write_atomic(base + ".eml", envelope.original_content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "received_at": int(time.time()),
            "tls": tls,
            "auth": auth,
        }
        write_atomic(base + ".json", json.dumps(meta).encode() + b"\n")

    def count_held(self):
        self.held += 1
        write_atomic(os.path.join(self.dir, "held"),
                     f"{self.held}\n".encode())

    def count_connection(self):
        self.connections += 1
        write_atomic(os.path.join(self.dir, "connections"),
                     f"{self.connections}\n".encode())


async def hang_forever():
    # Ends when the connection closes (aiosmtpd cancels the session task)
    # or the server stops.
    await asyncio.Event().wait()


class Handler:
    def __init__(self, box):
        self.box = box

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        if self.box.mode().hang:
            await hang_forever()
        session.host_name = hostname
        return responses

    async def handle_NOOP(self, server, session, envelope, arg):
        if self.box.mode().hang:
            await hang_forever()
        return "250 OK"

    async def handle_MAIL(self, server, session, envelope, address,
                          mail_options):
        mode = self.box.mode()
        if mode.hang:
            await hang_forever()
        if mode.mail:
            return refusal(mode.mail, "MAIL")
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        mode = self.box.mode()
        if mode.hang:
            await hang_forever()
        code = mode.rcpt.get(address.lower(), mode.rcpt_all)
        if code:
            return refusal(code, "RCPT")
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        mode = self.box.mode()
        if mode.hang:
            await hang_forever()
        if mode.data:
            return refusal(mode.data, "DATA")
        if mode.delay:
            self.box.count_held()
            await asyncio.sleep(mode.delay)
        tls = server.transport.get_extra_info("ssl_object") is not None
        auth = session.auth_data if session.authenticated else None
        self.box.store(envelope, tls, auth)
        return "250 2.0.0 OK stored"


class Hang(asyncio.Protocol):
    """A connection accepted in hang mode: never greeted, never answered."""

    def __init__(self, box):
        self.box = box
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        self.box.protocols.add(self)

    def connection_lost(self, exc):
        self.box.protocols.discard(self)
        self.transport = None


class Connection(SMTP):
    def _timeout_cb(self):
        # Says goodbye first, as Postfix does (RFC 5321 4.2.2, 421).
        if self.transport is not None:
            self.transport.write(b"421 4.4.2 localhost idle timeout\r\n")
        super()._timeout_cb()

    def connection_lost(self, error):
        self.box.protocols.discard(self)
        super().connection_lost(error)


def main():
    ap = argparse.ArgumentParser(description="scriptable test SMTP server")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--implicit-tls", action="store_true")
    ap.add_argument("--auth", metavar="USER:PASS")
    ap.add_argument("--idle-timeout", type=float, default=60)
    ap.add_argument("--lifetime", type=float, default=600)
    args = ap.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if args.implicit_tls and not args.tls_cert:
        ap.error("--implicit-tls needs --tls-cert and --tls-key")
    if args.auth is not None and ":" not in args.auth:
        ap.error("--auth takes USER:PASS")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="smtpd.py: %(message)s")

    directory = os.path.abspath(args.dir)
    box = Box(directory)
    parent = os.getppid()
    write_atomic(os.path.join(directory, "smtpd.pid"),
                 f"{os.getpid()}\n".encode())

    ctx = None
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)

    authenticator = None
    if args.auth is not None:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, data):
            ok = (isinstance(data, LoginPassword)
                  and data.login == user.encode()
                  and data.password == password.encode())
            # handled=False: aiosmtpd then answers 535 itself.
            return AuthResult(success=ok, handled=False,
                              auth_data=user if ok else None)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = Handler(box)

    def factory():
        box.count_connection()
        if box.mode().hang:
            return Hang(box)
        proto = Connection(
            handler,
            hostname="localhost",
            enable_SMTPUTF8=True,
            tls_context=None if args.implicit_tls else ctx,
            auth_required=args.auth is not None,
            auth_require_tls=not args.implicit_tls,
            authenticator=authenticator,
            timeout=args.idle_timeout,
            loop=loop)
        proto.box = box
        box.protocols.add(proto)
        return proto

    server = loop.run_until_complete(loop.create_server(
        factory, host=HOST, port=args.port,
        ssl=ctx if args.implicit_tls else None))
    port = server.sockets[0].getsockname()[1]
    write_atomic(os.path.join(directory, "port"), f"{port}\n".encode())
    write_atomic(os.path.join(directory, "ready"), b"ready\n")

    def stop():
        server.close()
        for p in list(box.protocols):
            if p.transport is not None:
                p.transport.abort()
        loop.call_later(0.05, loop.stop)

    def watch(deadline):
        # The parent check bounds a test that died without stopping us.
        if os.getppid() != parent or time.monotonic() > deadline:
            stop()
        else:
            loop.call_later(0.5, watch, deadline)

    loop.add_signal_handler(signal.SIGTERM, stop)
    loop.add_signal_handler(signal.SIGINT, stop)
    watch(time.monotonic() + args.lifetime)
    loop.run_forever()
    for name in ("ready", "smtpd.pid"):
        try:
            os.unlink(os.path.join(directory, name))
        except FileNotFoundError:
            pass
    sys.stderr.flush()
    # Skips interpreter teardown, which would complain about the session
    # tasks the abort left pending, and keeps the stop well under 1 s.
    os._exit(0)


if __name__ == "__main__":
    main()
