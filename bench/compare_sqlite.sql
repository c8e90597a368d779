-- scripts/compare.sh, the SQLite side: run as `sqlite3 FRESH.sqlite < compare_sqlite.sql` in the directory
-- holding the CSV files written by bench/compare_export.py. In one transaction: import the orders and the
-- facts they depend on, decide each order's eligibility, compute its CPS commission and the 1:2:7 split as
-- the default policy books it (agency 20% when its contract is at least 14 days old at paid_at, the rest
-- to the streamer; SPEC §5), and store per-account totals in fen. Every amount is integer arithmetic with
-- the rounding of SPEC §5: commission = round half away from zero (net >= 0), the agency's share
-- round-half-up (largest remainder with two shares, a tie to the share declared first).
.bail on
BEGIN;
CREATE TABLE agencies(agency TEXT PRIMARY KEY, contracted_us INTEGER NOT NULL);
CREATE TABLE signings(streamer TEXT PRIMARY KEY, agency TEXT NOT NULL, signed_us INTEGER NOT NULL);
CREATE TABLE plans(plan TEXT PRIMARY KEY, merchant TEXT NOT NULL, kind TEXT NOT NULL, rate_ppm INTEGER NOT NULL,
                   created_us INTEGER NOT NULL);
CREATE TABLE approvals(plan TEXT, streamer TEXT, approved_us INTEGER NOT NULL, PRIMARY KEY(plan, streamer));
CREATE TABLE orders(order_id TEXT PRIMARY KEY, merchant TEXT NOT NULL, streamer TEXT NOT NULL, plan TEXT NOT NULL,
                    amount_fen INTEGER NOT NULL, paid_us INTEGER NOT NULL, via_link INTEGER NOT NULL,
                    confirmed_us INTEGER);
CREATE TABLE refunds(order_id TEXT NOT NULL, refund_case TEXT NOT NULL, amount_fen INTEGER NOT NULL,
                     at_us INTEGER NOT NULL, PRIMARY KEY(order_id, refund_case));
.import --csv --skip 1 agencies.csv agencies
.import --csv --skip 1 signings.csv signings
.import --csv --skip 1 plans.csv plans
.import --csv --skip 1 approvals.csv approvals
.import --csv --skip 1 orders.csv orders
.import --csv --skip 1 refunds.csv refunds
-- .import stores an empty field as '' rather than NULL
UPDATE orders SET confirmed_us = NULL WHERE confirmed_us = '';

CREATE TABLE commissions AS
WITH refunded AS (SELECT order_id, SUM(amount_fen) AS fen FROM refunds GROUP BY order_id),
eligible AS (
  SELECT o.order_id, o.merchant, o.streamer, o.paid_us, o.amount_fen - COALESCE(r.fen, 0) AS net, p.rate_ppm
  FROM orders o
  JOIN plans p ON p.plan = o.plan AND p.merchant = o.merchant
  LEFT JOIN refunded r ON r.order_id = o.order_id
  WHERE o.confirmed_us IS NOT NULL AND o.via_link = 1
    -- a general plan is effective at creation, a directed one at the first +08:00 midnight after it
    AND (CASE p.kind WHEN 'general' THEN p.created_us
         ELSE ((p.created_us + 28800000000) / 86400000000 + 1) * 86400000000 - 28800000000 END) <= o.paid_us
    AND (p.kind = 'general' OR EXISTS (SELECT 1 FROM approvals a WHERE a.plan = o.plan AND a.streamer = o.streamer
                                                                     AND a.approved_us <= o.paid_us))
),
commission AS (
  SELECT e.*, (2 * e.net * e.rate_ppm + 1000000) / 2000000 AS fen,
         CASE WHEN a.contracted_us + 14 * 86400000000 <= e.paid_us THEN s.agency END AS active_agency
  FROM eligible e
  LEFT JOIN signings s ON s.streamer = e.streamer AND s.signed_us <= e.paid_us
  LEFT JOIN agencies a ON a.agency = s.agency
)
SELECT order_id, merchant, streamer, active_agency, fen,
       CASE WHEN active_agency IS NULL THEN 0 ELSE (2 * fen * 200000 + 1000000) / 2000000 END AS agency_fen
FROM commission;

CREATE TABLE totals AS
SELECT account, SUM(fen) AS fen FROM (
  SELECT '@merchant:' || merchant || ':cps' AS account, -fen AS fen FROM commissions
  UNION ALL SELECT '@agency:' || active_agency || ':cps', agency_fen FROM commissions WHERE active_agency IS NOT NULL
  UNION ALL SELECT '@streamer:' || streamer || ':cps', fen - agency_fen FROM commissions
) GROUP BY account;
COMMIT;
.mode tabs
SELECT account, fen FROM totals WHERE fen != 0 ORDER BY account;
