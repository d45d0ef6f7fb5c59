#!/usr/bin/python3
"""gen-mail.py - distinct customer mail, written straight into a Maildir.

    gen-mail.py --count N --maildir DIR --manifest FILE [--prefix P]
                [--reply-every K] [--body-bytes B] [--seed S]

Writes N messages into DIR/new (each first into DIR/tmp, owned by
nobody:nogroup as tests/system/dovecot.sh's mail tree, then renamed), as
an MTA delivering to Maildir does.  Every K-th message (default 4) is a
customer's reply to a message at least 20 places earlier, so the daemon
both opens tickets and updates them; the others open a ticket each, from
distinct senders (the auto-reply limit never holds back an
acknowledgement).

File names start with increasing past times and a zero-padded sequence
number, so Dovecot gives out UIDs in the order written and a reply gets
a higher UID than the message it answers.

Appends one line per message to FILE: "MESSAGE-ID<TAB>PARENT" (without
angle brackets; PARENT is "-" for a message that opens a ticket).
Standard library only; run as root (for the chown).
"""
import argparse
import grp
import os
import pwd
import random
import time


def message(mid, sender, subject, parent, body):
    head = [
        f"From: Customer <{sender}>",
        "To: trialsupport@corp.example",
        f"Subject: {subject}",
        "Date: Mon, 08 Jan 2024 09:00:00 +0000",
        f"Message-ID: <{mid}>",
    ]
    if parent:
        head.append(f"In-Reply-To: <{parent}>")
        head.append(f"References: <{parent}>")
    head += ["MIME-Version: 1.0",
             "Content-Type: text/plain; charset=utf-8", ""]
    return ("\n".join(head) + "\n" + body + "\n").encode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--prefix", default="m")
    ap.add_argument("--reply-every", type=int, default=4)
    ap.add_argument("--body-bytes", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    uid = pwd.getpwnam("nobody").pw_uid
    gid = grp.getgrnam("nogroup").gr_gid
    base = int(time.time()) - args.count - 10
    words = ("license trial install SAML SSO repository search index "
             "upgrade error timeout token webhook cluster").split()
    originals = []	# (message-id, sender, subject)
    with open(args.manifest, "a") as manifest:
        for i in range(args.count):
            mid = f"{args.prefix}{i}.{args.seed}@customers.example"
            body = " ".join(rnd.choice(words)
                            for _ in range(args.body_bytes // 7 + 1))
            body = "Hello,\n\n" + body[:args.body_bytes] + "\n\nThanks"
            k = args.reply_every
            if k > 0 and i % k == k - 1 and len(originals) > 20:
                parent, sender, subject = rnd.choice(originals[:-20])
                raw = message(mid, sender, "Re: " + subject, parent, body)
            else:
                parent = None
                sender = f"{args.prefix}{i}.{args.seed}@customers.example"
                subject = f"Question {i}: {rnd.choice(words)}"
                originals.append((mid, sender, subject))
                raw = message(mid, sender, subject, None, body)
            name = (f"{base + i}.M{i:07d}P{os.getpid()}.mailproc-gen,"
                    f"S={len(raw)}")
            tmp = os.path.join(args.maildir, "tmp", name)
            with open(tmp, "wb") as f:
                f.write(raw)
            os.chown(tmp, uid, gid)
            os.rename(tmp, os.path.join(args.maildir, "new", name))
            manifest.write(f"{mid}\t{parent or '-'}\n")


if __name__ == "__main__":
    main()
