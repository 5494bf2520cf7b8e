-- id: JJK-012
-- title: Package charge during its free or discounted promo
-- severity: high
-- meaning: A package charge above the promotional price was posted while the promo of the
--   activation it follows was still running: posted before the (UTC) day of promo_ends. A
--   charge on the very last promo day is not flagged, as promo_ends carries no time zone.
-- evidence: the charge_id and the activation event_id
-- false_positives: promos whose end date was entered wrongly at activation
-- references: billing_after_promo scenario; the seed case's "free for six months" offer
-- triage: compare the offer the subscriber was told with the activation's price and promo end
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
         || ' was billed during its promo, which runs until ' || CAST(c.promo_ends AS VARCHAR)
         || ' at ' || CAST(coalesce(c.price, 0) AS VARCHAR) || ' IDR' AS explanation
FROM ranked c
WHERE c.rn = 1
  AND c.promo_ends IS NOT NULL
  AND CAST(c."at" AS DATE) < c.promo_ends
  AND c.amount > coalesce(c.price, 0)
