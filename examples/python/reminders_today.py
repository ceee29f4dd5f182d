#!/usr/bin/env python3
"""Today's reminders of a Pitstop store as CSV, for an SMS gateway.

    python examples/python/reminders_today.py PATH [--date 2025-04-15] [--channel sms]
        [--kind birthday --kind order_arrived ...] [--mark-sent] [--out FILE]

Writes one row per customer to contact (``id,kind,customer,name,phone,due_on,text``) to
standard output or ``--out``: the gateway reads ``phone`` and ``text``; ``id`` is the
reminder's stable key. Only customers who agreed to the channel (SMS by default) and
have a phone are listed; the text is the programme's template, already filled in.

``--mark-sent`` records each written reminder as sent on that channel
(``reminders.mark``), so tomorrow's file does not repeat it; without it nothing in the
store changes (``reminders.due`` is a pure read) and the file can be made again.

Every reminder comes from the core's ``reminders.due``; this script only writes it out.
The date defaults to today in the programme's timezone.
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date
from typing import IO, Any, Dict, List, Optional, Sequence

import pitstop

COLUMNS = ["id", "kind", "customer", "name", "phone", "due_on", "text"]


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def rows(reminders: Sequence[Dict[str, Any]]) -> List[List[str]]:
    """CSV rows of the reminders that can go by SMS (a phone is needed)."""
    out = []
    for item in reminders:
        if not item.get("phone"):
            continue
        out.append(
            [
                item["id"],
                item["kind"],
                str(item["customer"]),
                item["customer_name"],
                item["phone"],
                item["due_on"].isoformat(),
                # A gateway takes one line per message.
                " ".join(item["text"].split()),
            ]
        )
    return out


def write(file: IO[str], table: Sequence[Sequence[str]]) -> None:
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(table)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="the Pitstop store directory")
    parser.add_argument("--date", type=parse_date, help="the day (default: today in the programme's timezone)")
    parser.add_argument("--channel", default="sms", help="only customers who agreed to it (default: sms)")
    parser.add_argument("--kind", action="append", dest="kinds", help="only this kind of reminder (repeatable)")
    parser.add_argument("--mark-sent", action="store_true", help="record the written reminders as sent")
    parser.add_argument("--out", help="the CSV file (default: standard output)")
    args = parser.parse_args(argv)

    try:
        with pitstop.open(args.path) as shop:
            table = rows(shop.reminders_due(args.date, kinds=args.kinds, channel=args.channel))
            if args.out:
                with open(args.out, "w", encoding="utf-8", newline="") as file:
                    write(file, table)
            else:
                write(sys.stdout, table)
                sys.stdout.flush()
            if args.mark_sent:
                # Only after the file is written: a reminder is never marked and lost.
                for row in table:
                    shop.mark_reminder(row[0], "sent", args.channel)
    except pitstop.Locked:
        print(f"{args.path} is open in another program; run this when it is closed", file=sys.stderr)
        return 2
    except pitstop.PitstopError as err:
        print(f"{args.path}: {err.code}: {err.message}", file=sys.stderr)
        return 2
    print(f"{len(table)} reminders" + (", marked sent" if args.mark_sent else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
