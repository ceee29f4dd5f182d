"""Pitstop from Python: the embedded loyalty core of an auto-service business.

    import pitstop
    from datetime import date
    from decimal import Decimal

    with pitstop.open("/var/lib/shop/pitstop") as shop:
        customer = shop.register_customer("Смирнов Алексей", phone="8 916 555-12-34")
        receipt = shop.commit(
            customer["customer"]["id"],
            [{"sku": "TO-2", "name": "ТО-2", "kind": "labor", "qty": 1, "unit_price": Decimal("4500")}],
            order_id="ЗН-1",
        )
        rows = shop.report("activity", from_=date(2025, 1, 1), to=date(2025, 12, 31))

Every operation of the contract is reachable with ``Engine.execute(op, args)``; the typed
methods are shortcuts that build the same arguments. Money and points are
``decimal.Decimal`` (``int`` and ``str`` are accepted, ``float`` never), dates
``datetime.date``, instants timezone-aware ``datetime.datetime`` (UTC in results).
Results are plain dicts and lists. Errors raise a subclass of :class:`PitstopError`, one
per error code (``pitstop.NotFound``, ``pitstop.InsufficientPoints``, ...).

The native calls release the GIL: one engine can be shared by many threads.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Union, cast

from pitstop import _native
from pitstop._native import (
    ERRORS,
    AccessDenied,
    AlreadyExists,
    Blocked,
    Closed,
    Corrupted,
    HoldNotActive,
    IdempotencyConflict,
    Internal,
    InsufficientPoints,
    InvalidArgument,
    InvalidProgram,
    InvalidRequest,
    Io,
    Locked,
    NoProgram,
    NotFound,
    PitstopError,
    PluginAbiMismatch,
    PluginBadOutput,
    PluginFailed,
    PluginForbiddenImport,
    PluginFuelExhausted,
    PluginInvalid,
    PluginInvalidEffect,
    PluginMemoryLimit,
    PluginOutputTooLarge,
    PluginTimeout,
    PluginTrap,
    RefundExceedsVisit,
    TierRequired,
    TooLarge,
    Unavailable,
    UnknownOperation,
    UnsupportedVersion,
    __version__,
    operations,
)
from pitstop._native import restore as _restore

if TYPE_CHECKING:
    import pandas  # type: ignore[import-untyped, unused-ignore]

__all__ = [
    "ERRORS",
    "AccessDenied",
    "AlreadyExists",
    "Blocked",
    "Closed",
    "Corrupted",
    "CustomerRef",
    "Engine",
    "HoldNotActive",
    "IdempotencyConflict",
    "Internal",
    "InsufficientPoints",
    "InvalidArgument",
    "InvalidProgram",
    "InvalidRequest",
    "Io",
    "Locked",
    "Money",
    "NoProgram",
    "NotFound",
    "PitstopError",
    "PluginAbiMismatch",
    "PluginBadOutput",
    "PluginFailed",
    "PluginForbiddenImport",
    "PluginFuelExhausted",
    "PluginInvalid",
    "PluginInvalidEffect",
    "PluginMemoryLimit",
    "PluginOutputTooLarge",
    "PluginTimeout",
    "PluginTrap",
    "RefundExceedsVisit",
    "Report",
    "TierRequired",
    "TooLarge",
    "Unavailable",
    "UnknownOperation",
    "UnsupportedVersion",
    "__version__",
    "open",
    "operations",
    "restore",
    "to_pandas",
]

Money = Union[Decimal, int, str]
"""Money, points and quantities: exact. ``float`` is refused with ``TypeError``."""

CustomerRef = Union[int, Mapping[str, Any]]
"""A customer: its id, or a mapping with one key: ``id``, ``card``, ``phone``, ``email``,
``external_id``, ``plate`` or ``vin``."""

VehicleRef = Union[int, Mapping[str, Any]]
"""A vehicle: its id, or a mapping with one key: ``id``, ``vin`` or ``plate``."""

Result = Dict[str, Any]


def _ref(reference: Union[int, Mapping[str, Any]]) -> Mapping[str, Any]:
    if isinstance(reference, bool) or not isinstance(reference, (int, Mapping)):
        raise TypeError(
            f"a reference is an id (int) or a mapping like {{'card': '...'}}, not {type(reference).__name__}"
        )
    return {"id": reference} if isinstance(reference, int) else reference


def _args(fields: Mapping[str, Any], extra: Mapping[str, Any]) -> Dict[str, Any]:
    """Arguments of an operation: absent (None) fields are left out, extras pass through."""
    args = {name: value for name, value in fields.items() if value is not None}
    args.update(extra)
    return args


class Report(List[Dict[str, Any]]):
    """The rows of a report: a list of dicts with typed values.

    ``summary`` holds the rest of the core's result (for ``activity``: ``from``, ``to``
    and the ``total`` row over the whole period).
    """

    name: str
    summary: Dict[str, Any]

    def __init__(self, name: str, rows: Iterable[Dict[str, Any]], summary: Dict[str, Any]):
        super().__init__(rows)
        self.name = name
        self.summary = summary

    def __repr__(self) -> str:
        return f"Report({self.name!r}, {list.__repr__(self)}, summary={self.summary!r})"

    def to_dataframe(self) -> "pandas.DataFrame":
        """The rows as a ``pandas.DataFrame`` (one column per field; money and points stay
        ``Decimal``, dates ``datetime.date``); ``summary`` and the report's name go to
        ``DataFrame.attrs``. pandas is optional: without it this raises ``ImportError``
        saying how to install it (``pip install pandas``)."""
        frame = to_pandas(self)
        frame.attrs["report"] = self.name
        frame.attrs["summary"] = dict(self.summary)
        return frame


class Engine:
    """An open Pitstop store. Use it as a context manager, or call :meth:`close`.

    Thread-safe: share one engine between threads; calls run in parallel with the GIL
    released. A store can be open only once at a time (else :class:`Locked`).
    """

    def __init__(self, path: Union[str, "os.PathLike[str]"], **options: Any) -> None:
        self._native = _native.Engine(os.fspath(path), options)

    # -- lifecycle ------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The store: its directory, or ``postgresql://user@host:port/db`` (never a password)."""
        return self._native.path

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._native.closed

    def close(self) -> None:
        """Sync and close the store (harmless twice). The file lock is released."""
        self._native.close()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(
        self,
        exc_type: Optional[type],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return repr(self._native)

    def _call(self, op: str, args: Mapping[str, Any]) -> Result:
        return cast(Result, self._native.execute(op, args))

    # -- the contract -------------------------------------------------------------------

    def execute(self, op: str, args: Optional[Mapping[str, Any]] = None) -> Any:
        """Run any operation of the contract (see ``docs/operations.md``) and return its
        result as Python objects."""
        return self._native.execute(op, args)

    def execute_json(self, request: str) -> str:
        """Run one request in its JSON form and return the JSON response, unconverted."""
        return self._native.execute_json(request)

    # -- customers and vehicles -------------------------------------------------------

    def register_customer(
        self,
        full_name: str,
        *,
        phone: Optional[str] = None,
        email: Optional[str] = None,
        birthday: Optional[date] = None,
        card: Optional[str] = None,
        issue_card: Optional[bool] = None,
        external_id: Optional[str] = None,
        tags: Optional[Sequence[str]] = None,
        consents: Optional[Mapping[str, bool]] = None,
        source: Optional[str] = None,
        notes: Optional[str] = None,
        at: Optional[datetime] = None,
        idempotency_key: Optional[str] = None,
        **fields: Any,
    ) -> Result:
        """``customer.register``: ``{customer, welcome_bonus, balance, messages, plugins}``.

        Other fields of the operation (``gender``, ``kind``, ``company``, ``agreement``)
        go in ``fields``.
        """
        return self._call(
            "customer.register",
            _args(
                {
                    "full_name": full_name,
                    "phone": phone,
                    "email": email,
                    "birthday": birthday,
                    "card": card,
                    "issue_card": issue_card,
                    "external_id": external_id,
                    "tags": tags,
                    "consents": consents,
                    "source": source,
                    "notes": notes,
                    "at": at,
                    "idempotency_key": idempotency_key,
                },
                fields,
            ),
        )

    def get_customer(self, customer: CustomerRef, *, at: Optional[datetime] = None) -> Result:
        """``customer.get``: ``{customer, vehicles, balance, tier, last_visits}``."""
        return self._call("customer.get", _args({"customer": _ref(customer), "at": at}, {}))

    def find_customers(
        self,
        query: Optional[str] = None,
        *,
        by: Optional[Mapping[str, Any]] = None,
        limit: Optional[int] = None,
        after: Optional[str] = None,
    ) -> Result:
        """``customer.find`` by a name or phone prefix (``query``) or an identifier (``by``):
        ``{items, next}``; pass ``next`` as ``after`` for the next page."""
        return self._call(
            "customer.find", _args({"query": query, "by": by, "limit": limit, "after": after}, {})
        )

    def find_duplicates(
        self,
        *,
        limit: Optional[int] = None,
        after: Optional[str] = None,
        min_score: Optional[Union[Decimal, int, str]] = None,
    ) -> Result:
        """``customer.duplicates``: ``{candidates, next, total, truncated}``; each candidate
        ``{a, b, a_name, b_name, score, reasons}`` with reasons ``{code, evidence}``, best
        first; pass ``next`` as ``after`` for the next page."""
        return self._call(
            "customer.duplicates", _args({"limit": limit, "after": after, "min_score": min_score}, {})
        )

    def merge_customers(
        self,
        keep: CustomerRef,
        merge: CustomerRef,
        *,
        dry_run: Optional[bool] = None,
        at: Optional[datetime] = None,
        idempotency_key: Optional[str] = None,
    ) -> Result:
        """``customer.merge``: moves everything of ``merge`` to ``keep`` (``dry_run``: only
        counts what would move); the merged customer's id, cards and identifiers then lead
        to ``keep``. Refused while either has an active hold."""
        return self._call(
            "customer.merge",
            _args(
                {
                    "keep": _ref(keep),
                    "merge": _ref(merge),
                    "dry_run": dry_run,
                    "at": at,
                    "idempotency_key": idempotency_key,
                },
                {},
            ),
        )

    def add_vehicle(
        self,
        customer: CustomerRef,
        *,
        make: str,
        model: str,
        vin: Optional[str] = None,
        plate: Optional[str] = None,
        year: Optional[int] = None,
        mileage: Optional[int] = None,
        usage: Optional[str] = None,
        transfer: Optional[bool] = None,
        at: Optional[datetime] = None,
        idempotency_key: Optional[str] = None,
        operator: Optional[str] = None,
    ) -> Result:
        """``vehicle.add``: the vehicle."""
        return self._call(
            "vehicle.add",
            _args(
                {
                    "customer": _ref(customer),
                    "make": make,
                    "model": model,
                    "vin": vin,
                    "plate": plate,
                    "year": year,
                    "mileage": mileage,
                    "usage": usage,
                    "transfer": transfer,
                    "at": at,
                    "idempotency_key": idempotency_key,
                    "operator": operator,
                },
                {},
            ),
        )

    # -- checkout -----------------------------------------------------------------------

    def _checkout(
        self,
        op: str,
        customer: CustomerRef,
        lines: Sequence[Mapping[str, Any]],
        fields: Mapping[str, Any],
        extra: Mapping[str, Any],
    ) -> Result:
        vehicle = fields.get("vehicle")
        args = _args({**fields, "customer": _ref(customer), "lines": list(lines)}, extra)
        if vehicle is not None:
            args["vehicle"] = _ref(vehicle)
        return self._call(op, args)

    def quote(
        self,
        customer: CustomerRef,
        lines: Sequence[Mapping[str, Any]],
        *,
        redeem: Optional[Money] = None,
        vehicle: Optional[VehicleRef] = None,
        mileage: Optional[int] = None,
        at: Optional[datetime] = None,
        **fields: Any,
    ) -> Result:
        """``checkout.quote``: price a basket (changes nothing). ``lines`` are mappings with
        ``sku``, ``name``, ``kind`` (``labor``, ``part``, ``goods``), ``qty``,
        ``unit_price`` and optional ``category``, ``discount``, ``promo``. ``redeem`` is
        ``"max"`` or a number of points."""
        return self._checkout(
            "checkout.quote",
            customer,
            lines,
            {"redeem": redeem, "vehicle": vehicle, "mileage": mileage, "at": at},
            fields,
        )

    def commit(
        self,
        customer: CustomerRef,
        lines: Sequence[Mapping[str, Any]],
        *,
        order_id: Optional[str] = None,
        redeem: Optional[Money] = None,
        vehicle: Optional[VehicleRef] = None,
        mileage: Optional[int] = None,
        at: Optional[datetime] = None,
        idempotency_key: Optional[str] = None,
        **fields: Any,
    ) -> Result:
        """``checkout.commit``: price and record the visit; returns the receipt.
        ``branch`` and ``advisor`` go in ``fields``."""
        return self._checkout(
            "checkout.commit",
            customer,
            lines,
            {
                "order_id": order_id,
                "redeem": redeem,
                "vehicle": vehicle,
                "mileage": mileage,
                "at": at,
                "idempotency_key": idempotency_key,
            },
            fields,
        )

    def refund(
        self,
        order_id: str,
        *,
        lines: Optional[Sequence[Mapping[str, Any]]] = None,
        reason: Optional[str] = None,
        at: Optional[datetime] = None,
        idempotency_key: Optional[str] = None,
        operator: Optional[str] = None,
    ) -> Result:
        """``checkout.refund``: the whole visit, or ``lines`` (``{"line": i, "qty": q}``)."""
        return self._call(
            "checkout.refund",
            _args(
                {
                    "order_id": order_id,
                    "lines": None if lines is None else list(lines),
                    "reason": reason,
                    "at": at,
                    "idempotency_key": idempotency_key,
                    "operator": operator,
                },
                {},
            ),
        )

    # -- points ------------------------------------------------------------------------

    def balance(self, customer: CustomerRef, *, at: Optional[datetime] = None) -> Result:
        """``points.balance``: available, pending, held, total, money value, next expiries."""
        return self._call("points.balance", _args({"customer": _ref(customer), "at": at}, {}))

    def statement(
        self, customer: CustomerRef, *, limit: Optional[int] = None, before: Optional[int] = None
    ) -> Result:
        """``points.statement``: ``{entries, next_before, balance, ...}``, newest first."""
        return self._call(
            "points.statement",
            _args({"customer": _ref(customer), "limit": limit, "before": before}, {}),
        )

    def adjust(
        self,
        customer: CustomerRef,
        points: Money,
        *,
        reason: str,
        operator: str,
        expiry_days: Optional[int] = None,
        at: Optional[datetime] = None,
        idempotency_key: Optional[str] = None,
    ) -> Result:
        """``points.adjust``: a signed manual correction."""
        return self._call(
            "points.adjust",
            _args(
                {
                    "customer": _ref(customer),
                    "points": points,
                    "reason": reason,
                    "operator": operator,
                    "expiry_days": expiry_days,
                    "at": at,
                    "idempotency_key": idempotency_key,
                },
                {},
            ),
        )

    def daily(
        self, day: Optional[date] = None, *, at: Optional[datetime] = None, operator: Optional[str] = None
    ) -> Result:
        """``jobs.daily`` for ``day`` (default: today in the programme's timezone);
        ``operator`` is recorded in the audit log with the expiries and bonuses."""
        if isinstance(day, datetime):
            raise TypeError("daily() takes a date; pass datetime.date(), not a datetime")
        return self._call("jobs.daily", _args({"date": day, "at": at, "operator": operator}, {}))

    # -- bringing customers back ------------------------------------------------------------

    def reminders_due(
        self,
        date: Optional[date] = None,
        kinds: Optional[Sequence[str]] = None,
        channel: Optional[str] = None,
        *,
        customer: Optional[CustomerRef] = None,
        page_size: int = 500,
        at: Optional[datetime] = None,
    ) -> List[Result]:
        """``reminders.due``: everyone to contact on ``date`` and why, every page read.

        ``date`` defaults to today in the programme's timezone. ``kinds`` keeps only those
        reasons (``service_due``, ``points_expiring``, ``birthday``, ``recommendation``,
        ``tyre_season``, ``order_arrived``, ``quality_call``, ``lapsed``, ``promotion``); ``channel``
        (``sms``, ``email``, ``call``, ...) only customers who agreed to it; ``customer``
        only that customer's (read from their own records, as for their card).

        Each reminder is a dict: ``id`` (the stable reason key to pass to
        :meth:`mark_reminder`), ``kind``, ``customer``, ``customer_name``, ``phone``,
        ``email``, ``vehicle``, ``plate``, ``due_on`` (a ``date``), the consented
        ``channels``, the rendered ``text``, ``details`` (per kind: ``points`` as
        ``Decimal``, ``expires_on`` as ``date``, ...) and ``failed_attempts``.

        A pure read: asking again gives the same list until reminders are marked.
        """
        if isinstance(date, datetime):
            raise TypeError("reminders_due() takes a date; pass datetime.date(), not a datetime")
        if isinstance(kinds, str):
            raise TypeError("kinds is a list of reminder kinds, e.g. ['birthday'], not a str")
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise ValueError(f"page_size must be a positive int, not {page_size!r}")
        fields = {
            "date": date,
            "kinds": None if kinds is None else list(kinds),
            "channel": channel,
            "customer": None if customer is None else _ref(customer),
            "limit": page_size,
            "at": at,
        }
        items: List[Result] = []
        after: Optional[str] = None
        while True:
            page = self._call("reminders.due", _args({**fields, "after": after}, {}))
            items.extend(page["items"])
            following = page.get("next")
            if following is None:
                return items
            # The core's cursor always moves forward; a repeated one would loop forever.
            if following == after:
                raise RuntimeError(f"reminders.due returned the same cursor twice: {following!r}")
            after = following

    def mark_reminder(
        self,
        id: str,  # noqa: A002 - the operation's field name
        status: str,
        channel: Optional[str] = None,
        *,
        at: Optional[datetime] = None,
        idempotency_key: Optional[str] = None,
        operator: Optional[str] = None,
    ) -> Result:
        """``reminders.mark``: what was done about reminder ``id`` (from
        :meth:`reminders_due`): ``status`` is ``sent``, ``failed`` or ``declined``,
        ``channel`` the one used. Sent and declined reminders never come back; failed ones
        stay due and count ``failed_attempts``. Marking a sent or declined one again raises
        :class:`AlreadyExists`."""
        return self._call(
            "reminders.mark",
            _args(
                {"id": id, "status": status, "channel": channel, "at": at, "idempotency_key": idempotency_key,
                 "operator": operator},
                {},
            ),
        )

    def campaign_report(self, campaign: Union[int, str], *, at: Optional[datetime] = None) -> Result:
        """``campaign.report`` of ``campaign``, its id (``int``) or its name (``str``, any
        case): ``{campaign, notified, came, conversion, visits, revenue, budget,
        cost_per_customer, points_spent, points_redeemed}``. Money and points are
        ``Decimal``; ``conversion`` is a percentage; ``cost_per_customer`` is ``None`` when
        nobody came."""
        if isinstance(campaign, bool) or not isinstance(campaign, (int, str)):
            raise TypeError(f"campaign is the campaign's id (int) or name (str), not {type(campaign).__name__}")
        named = {"name": campaign} if isinstance(campaign, str) else {"campaign": campaign}
        return self._call("campaign.report", _args({**named, "at": at}, {}))

    def dashboard(
        self,
        *,
        from_: Optional[date] = None,
        to: Optional[date] = None,
        branch: Optional[str] = None,
        at: Optional[datetime] = None,
    ) -> str:
        """``report.dashboard``: the owner's dashboard as one self-contained HTML page
        (inline CSS and SVG charts, nothing fetched) for ``from_``..``to`` (default: the
        twelve months up to today), in the programme's language. Write it to a file and
        open it in a browser."""
        result = self._call("report.dashboard", _args({"from": from_, "to": to, "branch": branch, "at": at}, {}))
        return cast(str, result["html"])

    def export_customer(self, customer: CustomerRef, *, at: Optional[datetime] = None) -> Result:
        """``customer.export``: everything known about one customer (a personal-data
        request): profile, consent history, every card, vehicles, visits, the account and
        its ledger entries, the referral code, referrer and referees, campaign
        notifications. Write it out with ``json.dumps(result, default=str)``."""
        return self._call("customer.export", _args({"customer": _ref(customer), "at": at}, {}))

    # -- everything out, page by page ----------------------------------------------------

    def _pages(self, op: str, after: Any, page_size: int) -> Iterator[Result]:
        """The items of ``op`` from ``after`` on, one page of ``page_size`` at a time.

        The first page is read now, so a bad argument raises here and not at the first
        ``next()``; the following pages are read as the iterator is consumed, so at most
        one page is held in memory whatever the size of the store."""
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise ValueError(f"page_size must be a positive int, not {page_size!r}")
        first = self._call(op, _args({"after": after, "limit": page_size}, {}))

        def follow(page: Result, cursor: Any) -> Iterator[Result]:
            while True:
                yield from page["items"]
                following = page.get("next_after")
                if following is None:
                    return
                # The core's cursor always moves forward; a repeated one would loop forever.
                if following == cursor:
                    raise RuntimeError(f"{op} returned the same cursor twice: {following!r}")
                cursor = following
                page = self._call(op, {"after": cursor, "limit": page_size})

        return follow(first, after)

    def iter_customers(self, *, after: Optional[int] = None, page_size: int = 1000) -> Iterator[Result]:
        """``customer.list``, every page: each customer (a dict, as in ``customer.get``'s
        ``customer``) in id order, after customer id ``after`` if given. Pages of
        ``page_size`` (1..1000) are read as the iterator advances."""
        return self._pages("customer.list", after, page_size)

    def iter_visits(self, *, after: Optional[int] = None, page_size: int = 1000) -> Iterator[Result]:
        """``visit.export``, every page: each visit (lines, totals, refunds; money as
        ``Decimal``) in id order, after visit id ``after`` if given. Pages of ``page_size``
        (1..1000) are read as the iterator advances."""
        return self._pages("visit.export", after, page_size)

    def iter_ledger(self, *, after: Optional[Mapping[str, int]] = None, page_size: int = 1000) -> Iterator[Result]:
        """``ledger.export``, every page: each ledger entry with its ``customer``, by
        customer then ``seq``, after ``{"customer": id, "seq": n}`` if given. Pages of
        ``page_size`` (1..1000) are read as the iterator advances."""
        return self._pages("ledger.export", None if after is None else dict(after), page_size)

    # -- programme and plugins ------------------------------------------------------------

    def set_program(
        self, program: Mapping[str, Any], *, idempotency_key: Optional[str] = None, operator: Optional[str] = None
    ) -> Result:
        """``program.set``: validate and store a new programme version; ``operator``
        is recorded in the audit log with the fields that changed."""
        return self._call(
            "program.set",
            _args({"program": program, "idempotency_key": idempotency_key, "operator": operator}, {}),
        )

    def install_plugin(
        self,
        name: str,
        wasm: Union[bytes, str, "os.PathLike[str]"],
        *,
        config: Optional[Mapping[str, Any]] = None,
        priority: Optional[int] = None,
        on_error: Optional[str] = None,
        limits: Optional[Mapping[str, Any]] = None,
        enabled: Optional[bool] = None,
        replace: Optional[bool] = None,
        idempotency_key: Optional[str] = None,
        operator: Optional[str] = None,
    ) -> Result:
        """``plugin.install``: ``wasm`` is the module's bytes or a path to a ``.wasm`` file."""
        source: Dict[str, Any] = (
            {"wasm": bytes(wasm)} if isinstance(wasm, (bytes, bytearray)) else {"path": os.fspath(wasm)}
        )
        return self._call(
            "plugin.install",
            _args(
                {
                    "name": name,
                    "config": config,
                    "priority": priority,
                    "on_error": on_error,
                    "limits": limits,
                    "enabled": enabled,
                    "replace": replace,
                    "idempotency_key": idempotency_key,
                    "operator": operator,
                },
                source,
            ),
        )

    def simulate_program(
        self,
        program: Mapping[str, Any],
        from_: date,
        to: date,
        *,
        plugins: Optional[Mapping[str, Union[bytes, str, "os.PathLike[str]"]]] = None,
    ) -> Result:
        """``program.simulate``: replay the visits of ``from_``..``to`` under ``program``
        (and the proposed ``plugins``, name → module bytes or ``.wasm`` path) beside the
        programme in force; the store is only read. The result has ``actual`` (the
        ledger), ``in_force`` and ``proposed`` (the replays), each with ``issued``,
        ``redeemed``, ``expired``, ``adjusted``, ``liability_start``, ``liability_end``,
        ``discounts``, ``visits``, ``refunds`` and ``tiers``; ``changes`` (the ten customers whose
        outcome changes most), ``assumption`` and ``starting_state``."""
        proposed: List[Dict[str, Any]] = []
        for name, wasm in (plugins or {}).items():
            proposed.append(
                {"name": name, "wasm": bytes(wasm)}
                if isinstance(wasm, (bytes, bytearray))
                else {"name": name, "path": os.fspath(wasm)}
            )
        return self._call(
            "program.simulate",
            _args({"program": program, "from": from_, "to": to, "plugins": proposed}, {}),
        )

    def plugins(self) -> List[Result]:
        """``plugin.list``: the installed plugins."""
        return cast(List[Result], self._native.execute("plugin.list", {}))

    def enable_plugin(self, name: str, *, operator: Optional[str] = None) -> Result:
        """``plugin.enable``."""
        return self._call("plugin.enable", _args({"name": name, "operator": operator}, {}))

    def disable_plugin(self, name: str, *, operator: Optional[str] = None) -> Result:
        """``plugin.disable``: stop calling it; it stays installed."""
        return self._call("plugin.disable", _args({"name": name, "operator": operator}, {}))

    def remove_plugin(self, name: str, *, operator: Optional[str] = None) -> Result:
        """``plugin.remove``."""
        return self._call("plugin.remove", _args({"name": name, "operator": operator}, {}))

    # -- service names ------------------------------------------------------------------

    def catalog_duplicates(
        self, from_: Optional[date] = None, to: Optional[date] = None, *, limit: Optional[int] = None,
    ) -> Result:
        """``catalog.duplicates``: groups of visit-line names that mean the same service,
        each with a ``proposed`` name and every name's line count."""
        return self._call("catalog.duplicates", _args({"from": from_, "to": to, "limit": limit}, {}))

    def catalog_alias(self, name: str, aliases: Sequence[str]) -> Result:
        """``catalog.alias``: confirm ``aliases`` as the service ``name``; reminders and
        ``report.services`` treat them as one service from then on."""
        return self._call("catalog.alias", {"name": name, "aliases": list(aliases)})

    def catalog_unalias(self, name: str) -> Result:
        """``catalog.unalias``: detach an alias, or undo a whole group by its service's name."""
        return self._call("catalog.unalias", {"name": name})

    # -- reports ------------------------------------------------------------------------

    def _owner_report(
        self,
        name: str,
        from_: date,
        to: date,
        branch: Optional[str],
        segment: Optional[str],
        top: Optional[int],
    ) -> Report:
        args = _args({"from": from_, "to": to, "branch": branch, "segment": segment, "top": top}, {})
        return self.report(name, **args)

    def report_customers(
        self, from_: date, to: date, *, branch: Optional[str] = None,
        segment: Optional[str] = None, top: Optional[int] = None,
    ) -> Report:
        """``report.customers``: rows are the most active customer of each month;
        ``summary["by_spend"]`` and ``summary["by_visits"]`` the top ``top`` (default 10)."""
        return self._owner_report("customers", from_, to, branch, segment, top)

    def report_pareto(
        self, from_: date, to: date, *, branch: Optional[str] = None,
        segment: Optional[str] = None, top: Optional[int] = None,
    ) -> Report:
        """``report.pareto``: the customers who bring 80% of revenue, best first;
        ``summary`` has their number and share."""
        return self._owner_report("pareto", from_, to, branch, segment, top)

    def report_lapsed(
        self, from_: date, to: date, *, segment: Optional[str] = None, top: Optional[int] = None,
    ) -> Report:
        """``report.lapsed``: valuable customers gone quiet with RFM scores, usual
        interval and last visit; ``summary["rule"]`` states the rule."""
        return self._owner_report("lapsed", from_, to, None, segment, top)

    def report_tiers(self, from_: date, to: date, *, segment: Optional[str] = None) -> Report:
        """``report.tiers``: rows are the moves between tiers by month and reason;
        ``summary["tiers"]`` the customers per tier now."""
        return self._owner_report("tiers", from_, to, None, segment, None)

    def report_cohorts(
        self, from_: date, to: date, *, branch: Optional[str] = None, segment: Optional[str] = None,
    ) -> Report:
        """``report.cohorts``: one row per cohort (month of first visit) with
        ``retained`` counts and ``percent`` by month after it."""
        return self._owner_report("cohorts", from_, to, branch, segment, None)

    def report_birthdays(
        self, from_: date, to: date, *, segment: Optional[str] = None, top: Optional[int] = None,
    ) -> Report:
        """``report.birthdays``: customers with a birthday in the range (it may cross
        the year end) with ``consents`` per channel."""
        return self._owner_report("birthdays", from_, to, None, segment, top)

    def report_sources(
        self, from_: date, to: date, *, branch: Optional[str] = None, segment: Optional[str] = None,
    ) -> Report:
        """``report.sources``: new customers and their revenue by acquisition source."""
        return self._owner_report("sources", from_, to, branch, segment, None)

    def report_points_monthly(self, from_: date, to: date, *, segment: Optional[str] = None) -> Report:
        """``report.points_monthly``: points by month with the liability at each month's
        end; ``summary["expiring"]`` what expires in 30/60/90 days."""
        return self._owner_report("points_monthly", from_, to, None, segment, None)

    def report_services(
        self, from_: date, to: date, *, branch: Optional[str] = None,
        segment: Optional[str] = None, top: Optional[int] = None,
    ) -> Report:
        """``report.services``: works and parts sold, repeats and the real median
        interval next to the reminder rule's."""
        return self._owner_report("services", from_, to, branch, segment, top)

    def report_changes(
        self, from_: date, to: date, *, operator: Optional[str] = None, customer: Optional[int] = None,
        page_size: int = 1000,
    ) -> Report:
        """``report.changes``, every page: who created or changed customer cards, cards,
        balances, the programme and plugins from ``from_`` to ``to``, oldest first. Each
        row is one record (``seq``, ``at``, ``op``, ``operator``, ``customer``,
        ``changes``: ``entity``, ``id``, ``field``, ``before``, ``after``, the values as
        text). ``operator`` and ``customer`` (an id) filter."""
        args = _args(
            {"from": from_, "to": to, "operator": operator, "customer": customer, "limit": page_size}, {}
        )
        records: List[Result] = []
        while True:
            page = self._call("report.changes", args)
            records.extend(page["records"])
            if page.get("next_after") is None:
                return Report("changes", records, {})
            args = {**args, "after": page["next_after"]}

    def report_completeness(
        self, *, registered_by: Optional[str] = None, top: Optional[int] = None,
    ) -> Result:
        """``report.completeness``: missing phone, email, birthday, gender, source and
        consents overall and by registrar; customers to complete, names to correct,
        genders told by patronymics (proposals only)."""
        return self._call("report.completeness", _args({"registered_by": registered_by, "top": top}, {}))

    def report(self, name: str, **params: Any) -> Report:
        """Run the core's ``report.<name>`` and return its rows.

        Parameters are the operation's arguments; ``from_`` may be written for ``from``
        (a Python keyword). ``report("activity", from_=date(2025, 1, 1), to=...)`` gives
        one row per month with ``summary["total"]``; ``report("points")`` one row.
        """
        args = {(key[:-1] if key.endswith("_") else key): value for key, value in params.items()}
        result = self._native.execute(f"report.{name}", args)
        if isinstance(result, dict) and isinstance(result.get("rows"), list):
            summary = {key: value for key, value in result.items() if key != "rows"}
            return Report(name, result["rows"], summary)
        if isinstance(result, list):
            return Report(name, result, {})
        return Report(name, [result], {})


def open(path: Union[str, "os.PathLike[str]"], **options: Any) -> Engine:  # noqa: A001
    """Open (or create) the store at ``path``: a directory, or a PostgreSQL connection
    string (``postgresql://user:password@host:5432/shop`` or ``host=… dbname=…``) for a
    store several processes share.

    Options: ``durability`` (``"durable"``, the default, or ``"import"`` for bulk
    loading), ``cache_capacity_bytes``, ``request_bytes_max``, ``plugin_cache_dir``,
    ``branch`` (the dealer-group site this engine records visits for).
    """
    return Engine(path, **options)


def restore(
    backup: Union[str, "os.PathLike[str]"], path: Union[str, "os.PathLike[str]"], **options: Any
) -> Result:
    """Restore a backup file (written by ``store.backup``) into a new store at ``path``,
    verified completely before anything is created; then :func:`open` it.
    Returns ``{records, bytes, sha256, seq}``."""
    return _restore(os.fspath(backup), os.fspath(path), options)


def to_pandas(rows: Iterable[Mapping[str, Any]]) -> "pandas.DataFrame":
    """The rows (of a :class:`Report`, or any list of dicts) as a pandas DataFrame.

    Needs pandas (``pip install pandas``); money stays ``Decimal`` (object columns),
    so nothing is rounded.
    """
    try:
        import pandas
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("pitstop.to_pandas needs pandas: pip install pandas") from err
    return pandas.DataFrame.from_records([dict(row) for row in rows])
