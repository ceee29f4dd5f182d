#!/usr/bin/env python3
"""The owner's monthly report of a Pitstop store.

    python examples/python/monthly_report.py PATH [--from 2025-01-01] [--to 2025-12-31] [--out DIR]

Prints, month by month, the customers served, how many came back (returning share), new
customers, revenue, the average check and the points earned and redeemed; then the points
programme as a whole: issued, redeemed, expired, outstanding and what they are worth
(the liability). Writes the same as CSV (``monthly_report.csv``, ``points_report.csv`` in
``--out``), and a chart (``monthly_report.png``) when matplotlib is installed.

Every figure comes from the core's ``report.activity`` and ``report.points`` operations;
this script only lays them out. Money stays ``Decimal`` all the way to the CSV.
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import pitstop

COLUMNS = [
    ("month", "Month"),
    ("visits", "Visits"),
    ("customers", "Served"),
    ("returning_customers", "Returning"),
    ("returning_share", "Returning %"),
    ("new_customers", "New"),
    ("revenue", "Revenue"),
    ("average_check", "Avg check"),
    ("points_accrued", "Pts earned"),
    ("points_redeemed", "Pts redeemed"),
]
POINTS = ["issued", "redeemed", "expired", "outstanding", "pending", "held", "liability"]


def text(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:,}".replace(",", " ")
    return str(value)


def table(rows: Sequence[Dict[str, Any]], total: Dict[str, Any]) -> str:
    cells = [[title for _, title in COLUMNS]]
    cells += [[text(row[key]) for key, _ in COLUMNS] for row in rows]
    cells.append(["Total"] + [text(total[key]) for key, _ in COLUMNS[1:]])
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]

    def render(line: List[str]) -> str:
        first = line[0].ljust(widths[0])
        return "  ".join([first] + [cell.rjust(width) for cell, width in zip(line[1:], widths[1:])])

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([render(cells[0]), rule] + [render(line) for line in cells[1:-1]] + [rule, render(cells[-1])])


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows([[str(cell) for cell in row] for row in rows])


def plot(path: Path, rows: Sequence[Dict[str, Any]]) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    months = [row["month"] for row in rows]
    figure, revenue_axis = plt.subplots(figsize=(10, 5))
    revenue_axis.bar(months, [float(row["revenue"]) for row in rows], color="#4c72b0")  # plotting only
    revenue_axis.set_ylabel("Revenue")
    share_axis = revenue_axis.twinx()
    share_axis.plot(months, [float(row["returning_share"]) for row in rows], color="#dd8452", marker="o")
    share_axis.set_ylabel("Returning customers, %")
    revenue_axis.set_title("Revenue and returning customers by month")
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


def first_of_month(day: date, months_back: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months_back, 12)
    return date(year, month + 1, 1)


def parse_date(value: str) -> date:
    return date.fromisoformat(value)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="the Pitstop store directory")
    today = date.today()
    parser.add_argument(
        "--from", dest="start", type=parse_date, default=first_of_month(today, 11), help="first date (default: 12 months back)"
    )
    parser.add_argument("--to", dest="end", type=parse_date, default=today, help="last date (default: today)")
    parser.add_argument("--out", type=Path, default=Path("."), help="directory for the CSV and PNG files")
    args = parser.parse_args(argv)

    try:
        with pitstop.open(args.path) as shop:
            activity = shop.report("activity", from_=args.start, to=args.end)
            (points,) = shop.report("points")
    except pitstop.Locked:
        print(f"{args.path} is open in another program; run the report when it is closed", file=sys.stderr)
        return 2
    except pitstop.PitstopError as err:
        print(f"{args.path}: {err.code}: {err.message}", file=sys.stderr)
        return 2

    total = activity.summary["total"]
    print(f"Activity {args.start} .. {args.end}")
    print(table(activity, total))
    print()
    print(f"Points programme ({points['currency']})")
    for key in POINTS:
        print(f"  {key:<12}{text(points[key]):>16}")

    args.out.mkdir(parents=True, exist_ok=True)
    keys = [key for key, _ in COLUMNS]
    monthly = [[row[key] for key in keys] for row in activity] + [["total"] + [total[key] for key in keys[1:]]]
    write_csv(args.out / "monthly_report.csv", keys, monthly)
    write_csv(args.out / "points_report.csv", POINTS + ["currency"], [[points[key] for key in POINTS] + [points["currency"]]])
    written = ["monthly_report.csv", "points_report.csv"]
    if plot(args.out / "monthly_report.png", activity):
        written.append("monthly_report.png")
    else:
        print("\n(matplotlib is not installed: no chart)")
    print(f"\nWritten to {args.out}: {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
