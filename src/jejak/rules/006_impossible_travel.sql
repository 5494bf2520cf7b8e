-- id: JJK-006
-- title: Impossible travel between outlets
-- severity: high
-- meaning: The same user ID activated packages at physical outlets in two different cities
--   less than two hours apart: one person cannot have been at both.
-- evidence: both provisioning event_ids
-- false_positives: outlets whose city is recorded wrongly; two outlets in neighbouring
--   cities closer than two hours apart
-- references: impossible_travel scenario; UEBA "impossible travel" detections
-- triage: check both sessions' terminals and addresses; pivot on agent_id for the day
-- slice: agent_id within 2 hours
WITH acts AS (
  SELECT p.event_id, p."at", p.agent_id, p.msisdn, p.outlet_id, o.city,
         CAST(floor(epoch(p."at") / 7200) AS BIGINT) AS b
  FROM provisioning p
  JOIN outlets o ON o.outlet_id = p.outlet_id
  WHERE p.agent_id IS NOT NULL
    AND p.action IN ('activate', 'modify', 'renew', 'deactivate')
    AND o.kind IN ('service_center', 'dealer')
    AND o.city IS NOT NULL
),
-- A previous action less than two hours back lies in the same two-hour bucket or the one
-- before (two before, to be safe with floating-point epochs). Only buckets whose last three
-- buckets hold two cities can hold a finding, so only their actions need ordering.
spans AS (
  SELECT agent_id, b, min(city) AS lo, max(city) AS hi
  FROM acts
  WHERE b IS NOT NULL
  GROUP BY agent_id, b
),
mixed AS (
  SELECT agent_id, b
  FROM (SELECT agent_id, b, lo, hi FROM spans
        UNION ALL SELECT agent_id, b + 1, lo, hi FROM spans
        UNION ALL SELECT agent_id, b + 2, lo, hi FROM spans) w
  GROUP BY agent_id, b
  HAVING min(lo) <> max(hi)
),
near AS (
  SELECT a.*
  FROM acts a
  JOIN (SELECT agent_id, b FROM mixed
        UNION SELECT agent_id, b - 1 FROM mixed
        UNION SELECT agent_id, b - 2 FROM mixed) w
    ON w.agent_id = a.agent_id AND w.b = a.b
),
seq AS (
  SELECT n.event_id, n."at", n.agent_id, n.msisdn, n.outlet_id, n.city, n.b,
         lag(n.event_id) OVER (PARTITION BY n.agent_id ORDER BY n."at", n.event_id) AS prev_event,
         lag(n."at") OVER (PARTITION BY n.agent_id ORDER BY n."at", n.event_id) AS prev_at,
         lag(n.outlet_id) OVER (PARTITION BY n.agent_id ORDER BY n."at", n.event_id) AS prev_outlet,
         lag(n.city) OVER (PARTITION BY n.agent_id ORDER BY n."at", n.event_id) AS prev_city
  FROM near n
)
SELECT s."at" AS "at",
       s.agent_id AS agent_id,
       s.msisdn AS msisdn,
       s.outlet_id AS outlet_id,
       concat_ws(';', s.prev_event, s.event_id) AS record_ids,
       'User ID ' || s.agent_id || ' acted at ' || s.prev_outlet || ' in ' || s.prev_city || ' and at '
         || s.outlet_id || ' in ' || s.city || ' less than two hours apart' AS explanation
FROM seq s
JOIN mixed m ON m.agent_id = s.agent_id AND m.b = s.b
WHERE s.prev_city IS NOT NULL
  AND s.prev_city <> s.city
  AND s.prev_at > s."at" - INTERVAL 2 HOUR
