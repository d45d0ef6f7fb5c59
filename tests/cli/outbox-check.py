#!/usr/bin/python3
"""outbox-check.py - checks every rendered outbox message for security.t.

    outbox-check.py DIR STAFF_DOMAIN...

DIR holds outbox.json (`mailproc outbox --json`) and N.eml for each row N
(`mailproc outbox show N --raw`).  A recipient is internal when its domain
is a STAFF_DOMAIN or a subdomain of one.

Two checks, on every row:

Leaks.  Internal text carries canaries "ZQX<word>" (notes, macro fields,
refused commands, backlog data) and every internal template a marker
"ZQT-<template>" (the test installs marked templates).  A message with an
external recipient must hold neither, except the markers of the templates
SPEC 9 sends to customers.  The raw bytes, every decoded header and every
decoded text part are searched, so quoted-printable or base64 cannot hide
a canary.  A row the internal-stays-internal guard refused (status failed,
error "refused: internal notice ...", never attempted) is counted apart.

Headers.  The header block is CRLF lines, each a field "Name:" or a
continuation; the field names are exactly the ones mailproc writes, each
once; To is the row's recipients; From and Reply-To are one of our
mailbox addresses; no decoded value holds a control character or a line
break; the MIME structure parses without defects.

Prints "key value" lines (rows, external, refused, canaries_internal,
markers_seen, public_external: the "ZQP<word>" canaries of public text
found in messages to external addresses, and for each problem
"leak ROW WHAT" or "header ROW WHAT").
"""
import email
import email.header
import email.policy
import email.utils
import json
import os
import re
import sys

CUSTOMER_TEMPLATES = {"ticket-ack", "ticket-reply", "ticket-assigned",
                      "ticket-transferred", "ticket-ended"}
REQUIRED = ["date", "from", "reply-to", "subject", "to", "message-id",
            "mime-version", "content-type"]
OPTIONAL = ["in-reply-to", "references", "auto-submitted",
            "content-transfer-encoding"]
OURS = {"trialsupport@corp.example", "implementation@corp.example"}
CANARY = re.compile(r"ZQX[A-Za-z0-9]+")
PUBLIC = re.compile(r"ZQP[A-Za-z0-9]+")
MARKER = re.compile(r"ZQT-([a-z-]+[a-z])")
CONTROL = re.compile("[\x00-\x1f\x7f\x80-\x9f\u2028\u2029]")


def norm(addr):
    """An address as it goes on the wire: lower case, IDNA domain."""
    local, _, domain = addr.lower().rpartition("@")
    try:
        domain = domain.encode("idna").decode()
    except UnicodeError:
        pass
    return f"{local}@{domain}"


def internal(addr, domains):
    d = addr.rsplit("@", 1)[-1].lower()
    return any(d == s or d.endswith("." + s) for s in domains)


def decoded_header(v):
    return str(email.header.make_header(email.header.decode_header(v)))


def texts(raw):
    """The raw bytes, each decoded header value and each decoded part."""
    out = [raw.decode("utf-8", "replace")]
    m = email.message_from_bytes(raw, policy=email.policy.compat32)
    for _, v in m.items():
        out.append(decoded_header(v))
    for part in m.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        out.append(payload.decode(part.get_content_charset() or "utf-8",
                                  "replace"))
    return "\n".join(out)


def check_headers(n, row, raw, problems):
    if re.search(rb"[^\r]\n|\r[^\n]|\r\Z", raw) or raw.startswith(b"\n"):
        problems.append(f"header {n} a bare CR or LF in the message")
    head, sep, _ = raw.partition(b"\r\n\r\n")
    if not sep:
        problems.append(f"header {n} no end of the header block")
        return
    fields = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1][1] += line
            continue
        m = re.match(rb"([A-Za-z0-9-]+):(.*)$", line)
        if not m:
            problems.append(f"header {n} not a field: {line[:60]!r}")
            continue
        fields.append([m.group(1).decode().lower(), m.group(2)])
    names = [f[0] for f in fields]
    for name in REQUIRED:
        if names.count(name) != 1:
            problems.append(f"header {n} {name} x{names.count(name)}")
    for name in OPTIONAL:
        if names.count(name) > 1:
            problems.append(f"header {n} {name} x{names.count(name)}")
    for name in set(names) - set(REQUIRED) - set(OPTIONAL):
        problems.append(f"header {n} unexpected field {name}")
    values = {}
    for name, v in fields:
        text = v.decode("utf-8", "replace")
        unfolded = re.sub(r"\r\n([ \t])", r"\1", text).strip()
        # Message-IDs are never decoded (RFC 2047 5): only text and
        # address fields are.
        dec = unfolded if name in ("message-id", "in-reply-to",
                                   "references") else decoded_header(unfolded)
        if CONTROL.search(dec):
            problems.append(f"header {n} control character in {name}: "
                            f"{dec[:80]!r}")
        values[name] = unfolded
    to = sorted(norm(a) for _, a in
                email.utils.getaddresses([values.get("to", "")]))
    if to != sorted(norm(a) for a in row["to"]):
        problems.append(f"header {n} To {to} is not the row's {row['to']}")
    for name in ("from", "reply-to"):
        addrs = email.utils.getaddresses([values.get(name, "")])
        if len(addrs) != 1 or addrs[0][1].lower() not in OURS:
            problems.append(f"header {n} {name} is {values.get(name)!r}")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for part in msg.walk():
        for d in part.defects:
            problems.append(f"header {n} MIME defect {type(d).__name__}")


def main():
    d, domains = sys.argv[1], [s.lower() for s in sys.argv[2:]]
    with open(os.path.join(d, "outbox.json")) as f:
        rows = json.load(f)
    problems = []
    external = refused = 0
    canaries_internal, markers, public = set(), set(), set()
    for row in rows:
        n = row["id"]
        with open(os.path.join(d, f"{n}.eml"), "rb") as f:
            raw = f.read()
        check_headers(n, row, raw, problems)
        all_text = texts(raw)
        found_markers = set(MARKER.findall(all_text))
        markers |= found_markers
        if row["template"] not in found_markers:
            problems.append(f"leak {n} marker of {row['template']} not "
                            "found: the scan cannot see the text")
        ext = [a for a in row["to"] if not internal(a, domains)]
        if not ext:
            canaries_internal |= set(CANARY.findall(all_text))
            continue
        external += 1
        public |= set(PUBLIC.findall(all_text))
        if (row["status"] == "failed" and row["attempts"] == 0 and
                (row.get("error") or "").startswith("refused: internal")):
            refused += 1
            continue
        for c in sorted(set(CANARY.findall(all_text))):
            problems.append(f"leak {n} {row['template']} to {ext}: {c}")
        for t in sorted(found_markers - CUSTOMER_TEMPLATES):
            problems.append(f"leak {n} {row['template']} to {ext}: "
                            f"text of staff-only template {t}")
        if row["template"] not in CUSTOMER_TEMPLATES:
            problems.append(f"leak {n} staff-only {row['template']} "
                            f"queued to {ext}")
    print(f"rows {len(rows)}")
    print(f"external {external}")
    print(f"refused {refused}")
    print(f"canaries_internal {' '.join(sorted(canaries_internal))}")
    print(f"markers_seen {' '.join(sorted(markers))}")
    print(f"public_external {' '.join(sorted(public))}")
    for p in problems:
        print(p)


if __name__ == "__main__":
    main()
