-- id: JJK-013
-- title: Package charge above its agreed price
-- severity: high
-- meaning: A package charge is higher than the price agreed at the activation it follows
--   (after a promo has ended, the package's list price).
-- evidence: the charge_id and the activation event_id
-- false_positives: price changes announced to all subscribers that the export does not
--   record as a modify event
-- references: billing_after_promo scenario; outputs.md billing_error hypothesis
-- triage: compare the charge with the package's price list and the activation; refund the
--   difference if confirmed
-- slice: msisdn within all time
WITH ranked AS (
  SELECT c.charge_id, c.msisdn, c."at", c.package_id, c.amount,
         a.event_id, a.agent_id, a.outlet_id, a.price, a.promo_ends,
         row_number() OVER (PARTITION BY c.charge_id ORDER BY a."at" DESC, a.event_id DESC) AS rn
  FROM charges c
  JOIN provisioning a
    ON a.msisdn = c.msisdn AND a.package_id = c.package_id
   AND a.action IN ('activate', 'renew', 'modify') AND a."at" <= c."at"
  WHERE c.kind = 'package' AND c.amount > 0
)
SELECT c."at" AS "at",
       c.agent_id AS agent_id,
       c.msisdn AS msisdn,
       c.outlet_id AS outlet_id,
       concat_ws(';', c.charge_id, c.event_id) AS record_ids,
       'A charge of ' || CAST(c.amount AS VARCHAR) || ' IDR for package ' || c.package_id
         || ' is above the agreed price of '
         || CAST(CASE WHEN c.promo_ends IS NOT NULL THEN k.price ELSE c.price END AS VARCHAR) || ' IDR' AS explanation
FROM ranked c
LEFT JOIN packages k ON k.package_id = c.package_id
WHERE c.rn = 1
  AND ((c.promo_ends IS NULL AND c.price IS NOT NULL AND c.amount > c.price)
   OR (c.promo_ends IS NOT NULL AND CAST(c."at" AS DATE) > c.promo_ends
       AND k.price IS NOT NULL AND c.amount > k.price))
