#!/usr/bin/env python3
"""Prepares the inputs of scripts/compare.sh from a `fenzhang gen` stream (Python standard library only).

    compare_export.py GEN.jsonl N_ORDERS OUTDIR

Keeps the first N_ORDERS orders of the stream with everything they depend on, and writes to OUTDIR:

  events.jsonl       what fenzhang appends: agency contracts, each streamer's first signing, plans,
                     applications and decisions, and the order.paid / order.confirmed / order.refunded
                     events of the kept orders, in the generator's order. Dropped: payout bindings,
                     V-tasks and withdrawals (they touch other accounts) and agency moves (released +
                     re-signed), so that a streamer's agency is the one of its first signing.
  agencies.csv, signings.csv, plans.csv, approvals.csv, orders.csv, refunds.csv
                     the same facts as plain columns (money in fen, times in UTC microseconds, rates in
                     millionths) for SQLite, which computes eligibility and the split itself in SQL.
  journal.ledger     the split postings written out, for hledger and ledger-cli, which only sum them:
                     one transaction per event that changes an order's commission (its confirmation,
                     and each refund after it, posting the claw-back delta), as fenzhang books them.
  expected.tsv       per-account totals in fen from the walk that wrote the journal.
  summary.txt        counts.

The policy replayed here is the CPS rule of rules/taobao-live.rules (SPEC §5, D1-D6, D11), written a
second time, independently of the engine: commission = round(net × plan rate), half away from zero;
when the streamer's agency (at the order's paid_at) holds a contract at least 14 days old, 20% of it
to the agency and the rest to the streamer, else all of it to the streamer; paid by the merchant. With
two shares the largest-remainder rule of SPEC §5 gives the agency round-half-up(C × 20%) (a tie goes
to the share declared first, the agency's), so every amount here is computed exactly in integers, the
same way in Python, in SQL and in fenzhang; all accounts are compared, not only those that split evenly.
"""
import csv
import json
import os
import re
import sys
from datetime import datetime, timedelta, timezone

DAY_US = 86_400_000_000
LAG_US = 14 * DAY_US            # set contract_lag = 14d
TZ_US = 8 * 3_600_000_000       # set timezone = "+08:00"
AGENCY_PPM = 200_000            # let agency_share = 20%
MILLION = 1_000_000

_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:\d{2})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def time_us(s):
    m = _TIME.match(s)
    if not m:
        raise ValueError(f"bad time {s!r}")
    day, hh, mm, ss, frac, off = m.groups()
    y, mo, d = (int(x) for x in day.split("-"))
    local = datetime(y, mo, d, int(hh), int(mm), int(ss), tzinfo=timezone.utc)
    us = (local - _EPOCH) // timedelta(microseconds=1) + int((frac or "").ljust(6, "0") or 0)
    if off != "Z":
        sign = 1 if off[0] == "+" else -1
        us -= sign * (int(off[1:3]) * 3600 + int(off[4:6]) * 60) * MILLION
    return us


def fen(s):
    neg = s.startswith("-")
    whole, _, dec = s.lstrip("-").partition(".")
    if len(dec) > 2:
        raise ValueError(f"bad money {s!r}")
    v = int(whole) * 100 + int(dec.ljust(2, "0") or 0)
    return -v if neg else v


def ppm(percent):  # "7.5%" -> 75000 (millionths of one)
    p = percent.rstrip("%")
    whole, _, dec = p.partition(".")
    if len(dec) > 4:
        raise ValueError(f"bad percent {percent!r}")
    return int(whole) * 10_000 + int(dec.ljust(4, "0") or 0)


def money(v):
    sign = "-" if v < 0 else ""
    v = abs(v)
    return f"{sign}{v // 100}.{v % 100:02d}"


def local_date(us):
    return (_EPOCH + timedelta(microseconds=us + TZ_US)).strftime("%Y-%m-%d")


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: compare_export.py GEN.jsonl N_ORDERS OUTDIR")
    src, n_orders, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(out, exist_ok=True)

    agencies = {}      # agency -> contracted_us
    signings = {}      # streamer -> (agency, signed_us), first signing only
    plans = {}         # plan -> dict
    approvals = {}     # (plan, streamer) -> approved_us
    orders = {}        # order -> dict
    refunds = []       # (order, case, fen, at_us)
    kept = []
    totals = {}
    journal = []
    counts = {"orders": 0, "confirmed": 0, "refunds": 0, "eligible": 0, "transactions": 0}

    def eligible(o):
        p = plans.get(o["plan"])
        if not o["via_link"] or p is None or p["merchant"] != o["merchant"]:
            return False
        if p["kind"] == "general":
            effective = p["created_us"]
        else:  # the first local midnight strictly after creation
            effective = ((p["created_us"] + TZ_US) // DAY_US + 1) * DAY_US - TZ_US
        if effective > o["paid_us"]:
            return False
        if p["kind"] == "directed":
            at = approvals.get((o["plan"], o["streamer"]))
            return at is not None and at <= o["paid_us"]
        return True

    def allocation(o):
        net = o["amount"] - o["refunded"]
        c = (2 * net * plans[o["plan"]]["ppm"] + MILLION) // (2 * MILLION)   # round half away from zero, net >= 0
        alloc = {f"merchant:{o['merchant']}:cps": -c}
        sign = signings.get(o["streamer"])
        agency = sign[0] if sign and sign[1] <= o["paid_us"] else None
        if agency is not None and agencies[agency] + LAG_US <= o["paid_us"]:
            a = (2 * c * AGENCY_PPM + MILLION) // (2 * MILLION)
            alloc[f"agency:{agency}:cps"] = a
            alloc[f"streamer:{o['streamer']}:cps"] = c - a
        else:
            alloc[f"streamer:{o['streamer']}:cps"] = c
        return alloc

    def post(o, at_us, what):
        new = allocation(o)
        old = o["alloc"]
        lines = []
        for acct in list(old) + [a for a in new if a not in old]:
            d = new.get(acct, 0) - old.get(acct, 0)
            if d:
                lines.append((acct, d))
                totals[acct] = totals.get(acct, 0) + d
        o["alloc"] = new
        if lines:
            counts["transactions"] += 1
            journal.append(f"{local_date(at_us)} {what} {o['id']}\n" +
                           "".join(f"    {a}  {money(d)}\n" for a, d in lines))

    with open(src, encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            t = e["type"]
            at = time_us(e["at"])
            keep = True
            if t == "agency.contracted":
                agencies[e["agency"]] = at
            elif t == "streamer.signed":
                if e["streamer"] in signings:
                    keep = False
                else:
                    signings[e["streamer"]] = (e["agency"], at)
            elif t == "plan.created":
                plans[e["plan"]] = {"merchant": e["merchant"], "kind": e["kind"], "ppm": ppm(e["rate"]),
                                    "approval": e.get("approval", ""), "created_us": at}
            elif t == "plan.applied":
                if plans[e["plan"]]["approval"] == "auto":
                    approvals[(e["plan"], e["streamer"])] = at
            elif t == "plan.approved":
                approvals[(e["plan"], e["streamer"])] = at
            elif t == "plan.rejected":
                pass
            elif t == "order.paid":
                if counts["orders"] >= n_orders:
                    keep = False
                else:
                    counts["orders"] += 1
                    orders[e["order"]] = {"id": e["order"], "merchant": e["merchant"], "streamer": e["streamer"],
                                          "plan": e["plan"], "amount": fen(e["amount"]), "paid_us": at,
                                          "via_link": e["via_link"], "confirmed_us": None, "refunded": 0,
                                          "alloc": {}}
            elif t in ("order.confirmed", "order.refunded"):
                o = orders.get(e["order"])
                if o is None:
                    keep = False
                elif t == "order.confirmed":
                    counts["confirmed"] += 1
                    o["confirmed_us"] = at
                    if eligible(o):
                        counts["eligible"] += 1
                        post(o, at, "confirmed")
                else:
                    counts["refunds"] += 1
                    o["refunded"] += fen(e["amount"])
                    refunds.append((o["id"], e["case"], fen(e["amount"]), at))
                    if o["confirmed_us"] is not None and eligible(o):
                        post(o, at, "refunded")
            else:  # payout.bound, streamer.released, vtask.*, withdrawal.requested
                keep = False
            if keep:
                kept.append(line if line.endswith("\n") else line + "\n")

    if counts["orders"] < n_orders:
        sys.exit(f"compare_export: the stream has only {counts['orders']} orders, {n_orders} asked")

    with open(os.path.join(out, "events.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(kept)

    def write_csv(name, header, rows):
        with open(os.path.join(out, name), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)

    write_csv("agencies.csv", ["agency", "contracted_us"], sorted(agencies.items()))
    write_csv("signings.csv", ["streamer", "agency", "signed_us"],
              [(s, a, at) for s, (a, at) in sorted(signings.items())])
    write_csv("plans.csv", ["plan", "merchant", "kind", "rate_ppm", "created_us"],
              [(p, v["merchant"], v["kind"], v["ppm"], v["created_us"]) for p, v in plans.items()])
    write_csv("approvals.csv", ["plan", "streamer", "approved_us"],
              [(p, s, at) for (p, s), at in approvals.items()])
    write_csv("orders.csv",
              ["order_id", "merchant", "streamer", "plan", "amount_fen", "paid_us", "via_link", "confirmed_us"],
              [(o["id"], o["merchant"], o["streamer"], o["plan"], o["amount"], o["paid_us"], int(o["via_link"]),
                "" if o["confirmed_us"] is None else o["confirmed_us"]) for o in orders.values()])
    write_csv("refunds.csv", ["order_id", "refund_case", "amount_fen", "at_us"], refunds)

    with open(os.path.join(out, "journal.ledger"), "w", encoding="utf-8") as f:
        f.write("; written by bench/compare_export.py: the CPS split postings of the kept orders\n\n")
        f.write("\n".join(journal))
    with open(os.path.join(out, "expected.tsv"), "w", encoding="utf-8") as f:
        for acct in sorted(totals):
            if totals[acct]:
                f.write(f"@{acct}\t{totals[acct]}\n")
    with open(os.path.join(out, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(f"events {len(kept)}\n")
        for k, v in counts.items():
            f.write(f"{k} {v}\n")
        f.write(f"accounts {sum(1 for v in totals.values() if v)}\n")


if __name__ == "__main__":
    main()
