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
WITH seq AS (
  SELECT p.event_id, p."at", p.agent_id, p.msisdn, p.outlet_id, o.city,
         lag(p.event_id) OVER (PARTITION BY p.agent_id ORDER BY p."at", p.event_id) AS prev_event,
         lag(p."at") OVER (PARTITION BY p.agent_id ORDER BY p."at", p.event_id) AS prev_at,
         lag(p.outlet_id) OVER (PARTITION BY p.agent_id ORDER BY p."at", p.event_id) AS prev_outlet,
         lag(o.city) OVER (PARTITION BY p.agent_id ORDER BY p."at", p.event_id) AS prev_city
  FROM provisioning p
  JOIN outlets o ON o.outlet_id = p.outlet_id
  WHERE p.agent_id IS NOT NULL
    AND p.action IN ('activate', 'modify', 'renew', 'deactivate')
    AND o.kind IN ('service_center', 'dealer')
    AND o.city IS NOT NULL
)
SELECT "at" AS "at",
       agent_id AS agent_id,
       msisdn AS msisdn,
       outlet_id AS outlet_id,
       concat_ws(';', prev_event, event_id) AS record_ids,
       'User ID ' || agent_id || ' acted at ' || prev_outlet || ' in ' || prev_city || ' and at '
         || outlet_id || ' in ' || city || ' less than two hours apart' AS explanation
FROM seq
WHERE prev_city IS NOT NULL
  AND prev_city <> city
  AND prev_at > "at" - INTERVAL 2 HOUR
