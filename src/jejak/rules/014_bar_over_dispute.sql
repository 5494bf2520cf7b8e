-- id: JJK-014
-- title: Line barred for non-payment of an amount an open complaint disputes
-- severity: critical
-- meaning: The line was barred for non-payment while a complaint of the subscriber disputing
--   charges was open (opened before the bar and not closed before it: export 1.1 closed_at
--   with status closed; a complaint with no status is open), or after a complaint was closed
--   as upheld, and the amount due is no more than the disputed amount: the bar enforces the
--   disputed debt.
-- evidence: the line action_id, the complaint_id and the disputed charge_ids
-- false_positives: exports of version 1.0, which do not say when a complaint was closed
--   (every complaint counts as open); a complaint closed in the CRM after the subscriber
--   withdrew it by phone
-- references: seed case 2016 (LA000001 bars over TCK-2017-0206-0001); bar_over_dispute scenario
-- triage: lift the bar first, then settle the complaint; pivot on msisdn
-- slice: msisdn within all time
WITH disputed AS (
  SELECT complaint_id, string_agg(charge_id, ';') AS charge_ids
  FROM complaint_charges
  GROUP BY complaint_id
)
SELECT b."at" AS "at",
       b.agent_id AS agent_id,
       b.msisdn AS msisdn,
       CAST(NULL AS VARCHAR) AS outlet_id,
       concat_ws(';', b.action_id, k.complaint_id, d.charge_ids) AS record_ids,
       'The line was barred for non-payment of ' || CAST(coalesce(b.amount_due, 0) AS VARCHAR)
         || ' IDR while complaint ' || k.complaint_id || ' disputing '
         || CAST(k.disputed_amount AS VARCHAR) || ' IDR '
         || CASE WHEN w.open_until IS NULL OR w.open_until > b."at" THEN 'was open'
                 ELSE 'had been upheld' END AS explanation
FROM line_actions b
JOIN complaints k ON k.msisdn = b.msisdn AND k.opened_at <= b."at"
JOIN complaint_spans w ON w.complaint_id = k.complaint_id
LEFT JOIN disputed d ON d.complaint_id = k.complaint_id
WHERE b.action IN ('bar_outgoing', 'bar_all')
  AND b.reason = 'non_payment'
  AND k.disputed_amount > 0
  AND coalesce(b.amount_due, 0) <= k.disputed_amount
  AND (w.open_until IS NULL OR w.open_until > b."at" OR w.resolution = 'upheld')
