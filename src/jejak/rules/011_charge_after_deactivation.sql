-- id: JJK-011
-- title: Package charge after the package's deactivation or expiry
-- severity: high
-- meaning: A package charge was posted more than a day after the package was deactivated or
--   expired on that line, with no new activation or renewal in between: the charge does not
--   follow from any valid provisioning.
-- evidence: the charge_id and the deactivation / expiry event_id
-- false_positives: billing in arrears for the last partial period posted within a day of the
--   deactivation is not flagged; later arrears postings are
-- references: seed case 2016 (charges CH000009 and CH000010 after the 2016-12-20 deactivation);
--   billing_after_deactivation scenario
-- triage: read the line's provisioning history; refund if confirmed; pivot on package_id
-- slice: msisdn within all time
WITH ranked AS (
  SELECT c.charge_id, c.msisdn, c."at", c.package_id, c.amount,
         d.event_id, d.action, d."at" AS ended_at,
         row_number() OVER (PARTITION BY c.charge_id ORDER BY d."at" DESC, d.event_id DESC) AS rn
  FROM charges c
  JOIN provisioning d
    ON d.msisdn = c.msisdn AND d.package_id = c.package_id
   AND d.action IN ('deactivate', 'expire') AND d."at" < c."at"
  WHERE c.kind = 'package' AND c.amount > 0
)
SELECT c."at" AS "at",
       CAST(NULL AS VARCHAR) AS agent_id,
       c.msisdn AS msisdn,
       CAST(NULL AS VARCHAR) AS outlet_id,
       concat_ws(';', c.charge_id, c.event_id) AS record_ids,
       'A charge of ' || CAST(c.amount AS VARCHAR) || ' IDR for package ' || c.package_id
         || ' was billed after the package had been ' || c.action || 'd, with no new activation since' AS explanation
FROM ranked c
ANTI JOIN provisioning a
  ON a.msisdn = c.msisdn AND a.package_id = c.package_id
 AND a.action IN ('activate', 'renew', 'modify')
 AND a."at" > c.ended_at AND a."at" <= c."at"
WHERE c.rn = 1
  AND c."at" > c.ended_at + INTERVAL 1 DAY
