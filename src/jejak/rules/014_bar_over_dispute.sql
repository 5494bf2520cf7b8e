-- id: JJK-014
-- title: Line barred for non-payment of an amount an open complaint disputes
-- severity: critical
-- meaning: The line was barred for non-payment after the subscriber had opened a complaint
--   disputing charges, and the amount due is no more than the disputed amount plus the
--   disputed charges' share: the bar enforces the disputed debt.
-- evidence: the line action_id, the complaint_id and the disputed charge_ids
-- false_positives: complaints that were resolved before the bar (the export has no closing
--   date for complaints; check the complaint's updates)
-- references: seed case 2016 (LA000001 bars over TCK-2017-0206-0001); bar_over_dispute scenario
-- triage: lift the bar first, then settle the complaint; pivot on msisdn
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
         || CAST(k.disputed_amount AS VARCHAR) || ' IDR was open' AS explanation
FROM line_actions b
JOIN complaints k ON k.msisdn = b.msisdn AND k.opened_at <= b."at"
LEFT JOIN disputed d ON d.complaint_id = k.complaint_id
WHERE b.action IN ('bar_outgoing', 'bar_all')
  AND b.reason = 'non_payment'
  AND k.disputed_amount > 0
  AND coalesce(b.amount_due, 0) <= k.disputed_amount
