#!/usr/bin/python3
"""loop-mta.py - the rest of the mail system for tests/system/loop.t.

    loop-mta.py --spool DIR --smtp-port N --log FILE
                [--maildir ADDRESS=DIR]... [--robot ADDRESS=MODE]...
                [--max-replies N] [--lifetime S]

It plays the MTA behind smtpd.py: every message smtpd.py stores in the
spool DIR is delivered, per envelope recipient, into a Maildir (the
inbox Dovecot serves to a mailproc instance) or to a robot; other
recipients are dropped (a team list, say).  A robot is an auto-responder
that answers each message it gets, to its From: address, by SMTP
(through smtpd.py, so the answer comes back through the spool and is
delivered like any mail).  MODE is THREADING[+MARK]:

  new            no In-Reply-To or References, the fixed subject
                 "I am away": a vacation responder that breaks every thread
  thread         In-Reply-To and References to the mail, "Re: " subject
  +auto-submitted   marked "Auto-Submitted: auto-replied" (RFC 3834)
  +x-autoreply      marked only "X-Autoreply: yes"
  +precedence       marked only "Precedence: auto_reply"

Unmarked, it is a broken responder: nothing tells mailproc the answer is
automatic.

Bounded: robots answer at most --max-replies messages in all (default
50); it stops on SIGTERM or SIGINT, when its parent goes away, or after
--lifetime seconds (default 300).  Each action is one JSON line in FILE:
{"t", "spool", "rcpt", "action": "deliver"|"robot"|"drop", "mode",
"subject", "reply_id"}.
"""
import argparse
import email
import email.policy
import email.utils
import json
import os
import pwd
import grp
import re
import signal
import smtplib
import sys
import time

NAME_RE = re.compile(r"^(\d{6})\.json$")
THREADING = ("new", "thread")
MARKS = {"auto-submitted": "Auto-Submitted: auto-replied",
         "x-autoreply": "X-Autoreply: yes",
         "precedence": "Precedence: auto_reply"}
stop = False


def on_signal(signum, frame):
    global stop
    stop = True


def deliver(maildir, raw, seq):
    """Drops raw into maildir/new as an MTA's delivery agent would."""
    name = f"{time.time():.6f}.loop{os.getpid()}_{seq}.localhost"
    tmp = os.path.join(maildir, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(raw)
    try:
        os.chown(tmp, pwd.getpwnam("nobody").pw_uid,
                 grp.getgrnam("nogroup").gr_gid)
    except (KeyError, PermissionError):
        pass
    os.rename(tmp, os.path.join(maildir, "new", name))


def answer(mode, robot, msg, seq):
    """The robot's answer to msg, as bytes, and its Message-ID."""
    mid = f"<robot{seq}.{os.getpid()}@{robot.split('@')[1]}>"
    subject = str(msg.get("Subject", ""))
    their_id = str(msg.get("Message-ID", "")).strip()
    lines = [f"From: Away Robot <{robot}>",
             f"To: {email.utils.parseaddr(str(msg.get('From', '')))[1]}",
             f"Date: {email.utils.formatdate()}",
             f"Message-ID: {mid}"]
    threading, _, mark = mode.partition("+")
    if threading == "new":
        lines.append("Subject: I am away")
    else:
        lines.append(f"Subject: Re: {subject}")
        if their_id:
            lines.append(f"In-Reply-To: {their_id}")
            lines.append(f"References: {their_id}")
    if mark:
        lines.append(MARKS[mark])
    lines += ["MIME-Version: 1.0",
              "Content-Type: text/plain; charset=utf-8", "",
              f"I am away ({mode}); I will read your mail later.", ""]
    return "\r\n".join(lines).encode(), mid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spool", required=True)
    ap.add_argument("--smtp-port", type=int, required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--maildir", action="append", default=[])
    ap.add_argument("--robot", action="append", default=[])
    ap.add_argument("--max-replies", type=int, default=50)
    ap.add_argument("--lifetime", type=float, default=300)
    args = ap.parse_args()
    maildirs = {}
    for a in args.maildir:
        addr, path = a.split("=", 1)
        maildirs[addr.lower()] = path
    robots = {}
    for a in args.robot:
        addr, mode = a.split("=", 1)
        addr = addr.lower()
        threading, _, mark = mode.partition("+")
        if threading not in THREADING or (mark and mark not in MARKS):
            ap.error(f"unknown robot mode {mode}")
        robots[addr] = mode

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    parent = os.getppid()
    deadline = time.monotonic() + args.lifetime
    done = set()
    replies = 0
    seq = 0
    with open(args.log, "a", buffering=1) as log:
        def note(**kw):
            log.write(json.dumps(dict(t=round(time.time(), 3), **kw)) + "\n")

        while not stop and os.getppid() == parent and \
                time.monotonic() < deadline:
            names = sorted(n for n in os.listdir(args.spool)
                           if NAME_RE.match(n) and n not in done)
            for name in names:
                done.add(name)
                base = os.path.join(args.spool, name[:-5])
                with open(base + ".json") as f:
                    meta = json.load(f)
                with open(base + ".eml", "rb") as f:
                    raw = f.read()
                msg = email.message_from_bytes(raw,
                                               policy=email.policy.compat32)
                subject = str(msg.get("Subject", ""))
                for rcpt in (r.lower() for r in meta["rcpt_tos"]):
                    seq += 1
                    if rcpt in maildirs:
                        deliver(maildirs[rcpt], raw, seq)
                        note(spool=name, rcpt=rcpt, action="deliver",
                             subject=subject)
                    elif rcpt in robots and replies < args.max_replies:
                        replies += 1
                        data, mid = answer(robots[rcpt], rcpt, msg, seq)
                        to = email.utils.parseaddr(str(msg.get("From", "")))[1]
                        with smtplib.SMTP("127.0.0.1", args.smtp_port,
                                          timeout=30) as s:
                            s.sendmail(rcpt, [to], data)
                        note(spool=name, rcpt=rcpt, action="robot",
                             mode=robots[rcpt], subject=subject,
                             reply_id=mid)
                    else:
                        note(spool=name, rcpt=rcpt, action="drop",
                             subject=subject)
            time.sleep(0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main())
