-- id: JJK-016
-- title: User ID or outlet far above its peers in its share of high-value activations
-- severity: medium
-- meaning: Of the activations a user ID (or an outlet) made, a far larger share were
--   high-value packages (priced above the catalogue's median) than its peers': robust z-score
--   of the share (distance from the peers' median share in units of 1.4826 x the median absolute
--   deviation, at least 0.05) above 3.5, at least half of its activations high-value, and at
--   least 5 of them. A share, not a count: a busy outlet sells more of everything.
-- evidence: every high-value activation of that user ID or outlet
-- false_positives: a corporate sales desk that sells only premium plans; a promotion run by one
--   outlet alone
-- references: dealer_mass_activation scenario; Iglewicz and Hoaglin (1993), modified z-score
-- triage: compare the packages with what the subscribers use; call a sample of them; pivot on
--   agent_id / outlet_id
-- slice: whole (peer statistics)
WITH median_price AS (
  SELECT median(price) AS m FROM packages
),
acts AS (
  SELECT p.event_id, p."at", p.agent_id, p.outlet_id,
         CASE WHEN coalesce(p.price, k.price) > (SELECT m FROM median_price) THEN 1 ELSE 0 END AS hv
  FROM provisioning p
  LEFT JOIN packages k ON k.package_id = p.package_id
  WHERE p.action = 'activate' AND p.agent_id IS NOT NULL
),
counts AS (
  SELECT 'agent' AS entity, agent_id AS key, count(*) AS total, sum(hv) AS n,
         max(CASE WHEN hv = 1 THEN "at" END) AS last_at,
         string_agg(CASE WHEN hv = 1 THEN event_id END, ';') AS events
  FROM acts GROUP BY agent_id
  UNION ALL
  SELECT 'outlet' AS entity, outlet_id AS key, count(*) AS total, sum(hv) AS n,
         max(CASE WHEN hv = 1 THEN "at" END) AS last_at,
         string_agg(CASE WHEN hv = 1 THEN event_id END, ';') AS events
  FROM acts WHERE outlet_id IS NOT NULL GROUP BY outlet_id
),
shares AS (
  SELECT entity, key, total, n, last_at, events, CAST(n AS DOUBLE) / total AS share FROM counts
),
med AS (
  SELECT entity, median(share) AS m FROM shares GROUP BY entity
),
mad AS (
  SELECT s.entity, median(abs(s.share - d.m)) AS mad FROM shares s JOIN med d ON d.entity = s.entity
  GROUP BY s.entity
)
SELECT s.last_at AS "at",
       CASE WHEN s.entity = 'agent' THEN s.key END AS agent_id,
       CAST(NULL AS VARCHAR) AS msisdn,
       CASE WHEN s.entity = 'outlet' THEN s.key END AS outlet_id,
       s.events AS record_ids,
       CASE WHEN s.entity = 'agent' THEN 'User ID ' ELSE 'Outlet ' END || s.key || ' sold high-value packages in '
         || CAST(s.n AS VARCHAR) || ' of its ' || CAST(s.total AS VARCHAR)
         || ' activations, far more often than its peers (typically '
         || CAST(CAST(round(100 * d.m) AS BIGINT) AS VARCHAR) || '%)' AS explanation
FROM shares s
JOIN med d ON d.entity = s.entity
JOIN mad a ON a.entity = s.entity
WHERE s.n >= 5
  AND s.share >= 0.5
  AND (s.share - d.m) / greatest(1.4826 * a.mad, 0.05) > 3.5
