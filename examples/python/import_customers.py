#!/usr/bin/env python3
"""Load customers and their cars from a CSV exported by another system.

    python examples/python/import_customers.py STORE customers.csv [--report FILE] [--encoding cp1251]

The CSV has a header row; ``;``, ``,`` or tab separated; English or Russian column names:

    external_id (код), full_name (фио), phone (телефон), email, birthday (дата рождения,
    YYYY-MM-DD or DD.MM.YYYY), card (карта), sms (смс: да/нет), tags (теги, separated by |),
    plate (госномер), vin, make (марка), model (модель), year (год), mileage (пробег)

Each row registers a customer (with a card when given) and, when the row names a car,
adds the vehicle. Every row gets a line in the report (``STORE-import-report.csv`` next to
the CSV unless ``--report`` says otherwise): ``imported``, ``partial`` (the customer is in,
the car is not) or ``failed``, with the error code, field and message Pitstop gave.

Running it again is safe: each row is sent with an idempotency key built from its
external id (or phone, card, row number), so rows already imported change nothing and
fixed rows go in. Exit status: 0 when every row is in, 1 when some row failed, 2 when the
store or the file cannot be opened.
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pitstop

ALIASES = {
    "код": "external_id",
    "id": "external_id",
    "фио": "full_name",
    "name": "full_name",
    "телефон": "phone",
    "e-mail": "email",
    "почта": "email",
    "дата рождения": "birthday",
    "карта": "card",
    "смс": "sms",
    "теги": "tags",
    "госномер": "plate",
    "марка": "make",
    "модель": "model",
    "год": "year",
    "пробег": "mileage",
}
COLUMNS = {"external_id", "full_name", "phone", "email", "birthday", "card", "sms", "tags", "plate", "vin", "make", "model", "year", "mileage"}
YES = {"1", "yes", "y", "true", "да", "д", "+"}
NO = {"", "0", "no", "n", "false", "нет", "н", "-"}
REPORT = ["row", "external_id", "full_name", "status", "customer", "code", "field", "message"]


class RowError(Exception):
    """A value in the file that cannot be read (reported as code ``invalid_row``)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def column(name: str) -> str:
    key = name.strip().lower().replace("_", " ")
    return ALIASES.get(key, key.replace(" ", "_"))


def parse_birthday(value: str) -> Optional[date]:
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            pass
    raise RowError("birthday", f"{value!r} is not a date (YYYY-MM-DD or DD.MM.YYYY)")


def parse_int(field: str, value: str) -> Optional[int]:
    digits = value.replace(" ", "").replace("\u00a0", "")
    if not digits:
        return None
    if not digits.isdigit():
        raise RowError(field, f"{value!r} is not a whole number")
    return int(digits)


def parse_flag(field: str, value: str) -> Optional[bool]:
    if value.lower() in YES:
        return True
    if value.lower() in NO:
        return None
    raise RowError(field, f"{value!r} is not yes/no")


def customer_args(row: Dict[str, str]) -> Dict[str, Any]:
    if not row.get("full_name"):
        raise RowError("full_name", "is empty")
    args: Dict[str, Any] = {"full_name": row["full_name"]}
    for field in ("external_id", "phone", "email", "card"):
        if row.get(field):
            args[field] = row[field]
    birthday = parse_birthday(row.get("birthday", ""))
    if birthday:
        args["birthday"] = birthday
    if parse_flag("sms", row.get("sms", "")):
        args["consents"] = {"sms": True}
    tags = [tag.strip() for tag in row.get("tags", "").split("|") if tag.strip()]
    if tags:
        args["tags"] = tags
    return args


def vehicle_args(row: Dict[str, str]) -> Optional[Dict[str, Any]]:
    if not (row.get("plate") or row.get("vin") or row.get("make") or row.get("model")):
        return None
    for field in ("make", "model"):
        if not row.get(field):
            raise RowError(field, "a car needs make and model")
    args: Dict[str, Any] = {"make": row["make"], "model": row["model"]}
    for field in ("plate", "vin"):
        if row.get(field):
            args[field] = row[field]
    year = parse_int("year", row.get("year", ""))
    mileage = parse_int("mileage", row.get("mileage", ""))
    if year is not None:
        args["year"] = year
    if mileage is not None:
        args["mileage"] = mileage
    return args


def failure(err: Exception) -> Tuple[str, str, str]:
    """(code, field, message) of an error."""
    if isinstance(err, RowError):
        return "invalid_row", err.field, str(err)
    if isinstance(err, pitstop.PitstopError):
        details = err.details if isinstance(err.details, dict) else {}
        return err.code or "", str(details.get("field", "")), err.message
    raise err


def import_row(shop: pitstop.Engine, number: int, row: Dict[str, str]) -> Dict[str, Any]:
    line: Dict[str, Any] = {"row": number, "external_id": row.get("external_id", ""), "full_name": row.get("full_name", "")}
    key = row.get("external_id") or row.get("phone") or row.get("card") or f"row-{number}"
    try:
        customer = customer_args(row)
        vehicle = vehicle_args(row)
        registered = shop.execute("customer.register", {**customer, "idempotency_key": f"import:{key}"})
    except (RowError, pitstop.PitstopError) as err:
        code, field, message = failure(err)
        return {**line, "status": "failed", "customer": "", "code": code, "field": field, "message": message}
    ident = registered["customer"]["id"]
    line["customer"] = ident
    if vehicle is not None:
        try:
            car = vehicle.get("vin") or vehicle.get("plate") or ""
            shop.execute("vehicle.add", {"customer": {"id": ident}, **vehicle, "idempotency_key": f"import:{key}:car:{car}"})
        except pitstop.PitstopError as err:
            code, field, message = failure(err)
            return {**line, "status": "partial", "code": code, "field": field, "message": f"vehicle: {message}"}
    return {**line, "status": "imported", "code": "", "field": "", "message": ""}


def read_rows(path: Path, encoding: str) -> List[Dict[str, str]]:
    text = path.read_text(encoding=encoding)
    first = text.splitlines()[0] if text else ""
    delimiter = max(";,\t", key=first.count)
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    header = [column(name) for name in next(reader, [])]
    unknown = [name for name in header if name not in COLUMNS]
    if "full_name" not in header or unknown:
        raise ValueError(f"{path}: the header needs full_name; unknown columns: {', '.join(unknown) or 'none'}")
    return [{name: value.strip() for name, value in zip(header, values)} for values in reader if any(v.strip() for v in values)]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", help="the Pitstop store directory")
    parser.add_argument("csv", type=Path, help="the CSV file to load")
    parser.add_argument("--report", type=Path, help="where to write the per-row report (CSV)")
    parser.add_argument("--encoding", default="utf-8-sig", help="the file's encoding (utf-8-sig, cp1251, ...)")
    args = parser.parse_args(argv)
    report_path = args.report or args.csv.with_name(f"{args.csv.stem}-import-report.csv")

    try:
        rows = read_rows(args.csv, args.encoding)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        print(f"cannot read {args.csv}: {err}", file=sys.stderr)
        return 2
    try:
        # Import mode: no sync per customer, one at the end (close); a re-run is safe.
        shop = pitstop.open(args.store, durability="import")
    except pitstop.PitstopError as err:
        print(f"cannot open {args.store}: {err.code}: {err.message}", file=sys.stderr)
        return 2
    with shop:
        lines = [import_row(shop, number, row) for number, row in enumerate(rows, start=2)]

    with report_path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=REPORT)
        writer.writeheader()
        writer.writerows(lines)
    counts = {status: sum(1 for line in lines if line["status"] == status) for status in ("imported", "partial", "failed")}
    print(f"{len(lines)} rows: {counts['imported']} imported, {counts['partial']} partial, {counts['failed']} failed")
    for line in lines:
        if line["status"] != "imported":
            print(f"  row {line['row']} ({line['full_name'] or line['external_id']}): {line['status']}: {line['code']}: {line['message']}")
    print(f"report: {report_path}")
    return 0 if counts["partial"] == counts["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
