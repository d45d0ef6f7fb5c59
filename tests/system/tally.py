#!/usr/bin/python3
"""tally.py - what became of generated mail: the figures crash.t and
faults.t assert on.

    tally.py --db DB --manifest FILE --smtp-dir DIR [--mailbox NAME]

FILE is gen-mail.py's manifest ("MESSAGE-ID<TAB>PARENT" lines), DIR the
spool of smtpd.py.  Prints "key value" lines:

  messages            lines in the manifest
  originals           of them, messages that open a ticket
  lost                manifest messages with no row in the store's messages
  duplicate_messages  extra rows for a Message-ID (stored twice)
  unprocessed         manifest messages without a processed row
  quarantined         quarantine rows of the mailbox
  tickets             tickets of the mailbox
  duplicate_tickets   tickets beyond one per original
  misthreaded         replies not on their parent's ticket, originals
                      sharing a ticket
  outbox              outbox rows (not digests) of the mailbox's tickets
  outbox_unsent       of them, rows not "sent"
  acks                ticket-ack rows
  acks_expected       one per original
  deliveries          messages the SMTP server stored for those rows, one
                      per (Message-ID, recipient)
  undelivered         (row, recipient) pairs the server never got
  duplicate_deliveries  deliveries beyond the first per (Message-ID, rcpt)
  duplicate_acks        of them, acknowledgements
"""
import argparse
import collections
import email.parser
import json
import os
import sqlite3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--smtp-dir", required=True)
    ap.add_argument("--mailbox", default="trialsupport")
    args = ap.parse_args()
    mb = args.mailbox

    parent = {}
    with open(args.manifest) as f:
        for line in f:
            mid, p = line.rstrip("\n").split("\t")
            parent[mid] = None if p == "-" else p
    originals = [m for m, p in parent.items() if p is None]

    db = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True, timeout=30)
    rows = db.execute("SELECT message_id, ticket FROM messages"
                      " WHERE mailbox = ?", (mb,)).fetchall()
    per_mid = collections.defaultdict(list)
    for mid, ticket in rows:
        per_mid[(mid or "").strip("<>")].append(ticket)
    lost = sum(1 for m in parent if m not in per_mid)
    dup_msgs = sum(len(t) - 1 for m, t in per_mid.items() if m in parent)
    processed = db.execute("SELECT count(*) FROM processed WHERE mailbox = ?"
                           " AND outcome NOT LIKE 'quarantined%'",
                           (mb,)).fetchone()[0]
    quarantined = db.execute("SELECT count(*) FROM quarantine"
                             " WHERE mailbox = ?", (mb,)).fetchone()[0]
    tickets = db.execute("SELECT count(*) FROM tickets WHERE mailbox = ?",
                         (mb,)).fetchone()[0]
    misthreaded = 0
    seen_tickets = collections.Counter()
    for m in originals:
        for t in per_mid.get(m, [])[:1]:
            seen_tickets[t] += 1
    misthreaded += sum(n - 1 for n in seen_tickets.values())
    for m, p in parent.items():
        if p is not None and per_mid.get(m) and per_mid.get(p):
            if per_mid[m][0] != per_mid[p][0]:
                misthreaded += 1

    out = db.execute("SELECT o.id, o.template, o.recipients, o.message_id,"
                     " o.status FROM outbox o JOIN tickets t"
                     " ON t.id = o.ticket WHERE t.mailbox = ?",
                     (mb,)).fetchall()
    want = {}		# (message-id, rcpt) -> template
    for _id, template, rcpts, mid, _status in out:
        for r in rcpts.split("\n"):
            want[(mid.strip("<>"), r.lower())] = template
    got = collections.Counter()
    hp = email.parser.BytesHeaderParser()
    names = [n for n in os.listdir(args.smtp_dir) if n.endswith(".json")]
    for n in names:
        with open(os.path.join(args.smtp_dir, n)) as f:
            meta = json.load(f)
        with open(os.path.join(args.smtp_dir, n[:-5] + ".eml"), "rb") as f:
            mid = (hp.parse(f)["Message-ID"] or "").strip().strip("<>")
        for r in meta["rcpt_tos"]:
            if (mid, r.lower()) in want:
                got[(mid, r.lower())] += 1
    dup = {k: n - 1 for k, n in got.items() if n > 1}

    figures = [
        ("messages", len(parent)),
        ("originals", len(originals)),
        ("lost", lost),
        ("duplicate_messages", dup_msgs),
        ("unprocessed", len(parent) - min(processed, len(parent))),
        ("quarantined", quarantined),
        ("tickets", tickets),
        ("duplicate_tickets", max(0, tickets - len(originals))),
        ("misthreaded", misthreaded),
        ("outbox", len(out)),
        ("outbox_unsent", sum(1 for o in out if o[4] != "sent")),
        ("acks", sum(1 for o in out if o[1] == "ticket-ack")),
        ("acks_expected", len(originals)),
        ("deliveries", len(got)),
        ("undelivered", sum(1 for k in want if k not in got)),
        ("duplicate_deliveries", sum(dup.values())),
        ("duplicate_acks", sum(n for k, n in dup.items()
                               if want[k] == "ticket-ack")),
    ]
    for k, v in figures:
        print(k, v)


if __name__ == "__main__":
    main()
