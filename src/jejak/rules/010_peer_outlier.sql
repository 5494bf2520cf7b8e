-- id: JJK-010
-- title: User ID or outlet far above its peers in unconsented activations
-- severity: medium
-- meaning: A user ID (or an outlet) made many more activations without a verified consent
--   than its peers: robust z-score (distance from the median in units of 1.4826 x the median
--   absolute deviation, at least 1) above 3.5, and at least 3 such activations.
-- evidence: every unconsented activation of that user ID or outlet
-- false_positives: a dealer whose consents are captured on a system not in the export
-- references: dealer_mass_activation scenario; Iglewicz and Hoaglin (1993), modified z-score
-- triage: list the activations (record_ids) and call a sample of the subscribers; pivot on
--   agent_id / outlet_id
-- slice: whole (peer statistics)
WITH acts AS (
  SELECT p.event_id, p."at", p.agent_id, p.outlet_id,
         CASE WHEN c.consent_id IS NULL THEN 1 ELSE 0 END AS unconsented
  FROM provisioning p
  LEFT JOIN consents c
    ON c.consent_id = p.consent_id AND c.msisdn = p.msisdn AND c.verified = TRUE
  WHERE p.action = 'activate' AND p.agent_id IS NOT NULL
),
counts AS (
  SELECT 'agent' AS entity, agent_id AS key, sum(unconsented) AS n,
         max(CASE WHEN unconsented = 1 THEN "at" END) AS last_at,
         string_agg(CASE WHEN unconsented = 1 THEN event_id END, ';') AS events
  FROM acts GROUP BY agent_id
  UNION ALL
  SELECT 'outlet' AS entity, outlet_id AS key, sum(unconsented) AS n,
         max(CASE WHEN unconsented = 1 THEN "at" END) AS last_at,
         string_agg(CASE WHEN unconsented = 1 THEN event_id END, ';') AS events
  FROM acts WHERE outlet_id IS NOT NULL GROUP BY outlet_id
),
med AS (
  SELECT entity, median(n) AS m FROM counts GROUP BY entity
),
mad AS (
  SELECT c.entity, median(abs(c.n - d.m)) AS mad FROM counts c JOIN med d ON d.entity = c.entity
  GROUP BY c.entity
)
SELECT c.last_at AS "at",
       CASE WHEN c.entity = 'agent' THEN c.key END AS agent_id,
       CAST(NULL AS VARCHAR) AS msisdn,
       CASE WHEN c.entity = 'outlet' THEN c.key END AS outlet_id,
       c.events AS record_ids,
       CASE WHEN c.entity = 'agent' THEN 'User ID ' ELSE 'Outlet ' END || c.key || ' made '
         || CAST(c.n AS VARCHAR) || ' activations without verified consent, far more than its peers (typically '
         || CAST(CAST(d.m AS BIGINT) AS VARCHAR) || ')' AS explanation
FROM counts c
JOIN med d ON d.entity = c.entity
JOIN mad a ON a.entity = c.entity
WHERE c.n >= 3
  AND (c.n - d.m) / greatest(1.4826 * a.mad, 1.0) > 3.5
