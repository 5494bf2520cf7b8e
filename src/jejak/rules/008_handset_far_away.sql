-- id: JJK-008
-- title: Activation at an outlet while the subscriber's handset was far away
-- severity: high
-- meaning: A package was activated at a physical outlet while the network placed the
--   subscriber's handset in another region (within two hours of the activation) and never in
--   the outlet's city: the subscriber was not there.
-- evidence: the provisioning event_id and its session_id
-- false_positives: a relative activating on the subscriber's behalf with a signed form
-- references: seed case 2016 (handset in Jakarta all evening, activation in Sragen)
-- triage: read the locations around the activation; check for a signed form; pivot on msisdn
-- slice: msisdn within 2 hours
SELECT p."at" AS "at",
       p.agent_id AS agent_id,
       p.msisdn AS msisdn,
       p.outlet_id AS outlet_id,
       concat_ws(';', p.event_id, p.session_id) AS record_ids,
       'Package ' || coalesce(p.package_id, '?') || ' was activated at ' || o.name || ' in ' || o.city
         || ' while the subscriber''s phone was in ' || max(l.city) || ' (' || max(l.region) || ')' AS explanation
FROM provisioning p
JOIN outlets o ON o.outlet_id = p.outlet_id
ANTI JOIN locations n
  ON n.msisdn = p.msisdn
 AND n."at" >= p."at" - INTERVAL 2 HOUR
 AND n."at" <= p."at" + INTERVAL 2 HOUR
 AND (n.city = o.city OR n.region = o.region)
JOIN locations l
  ON l.msisdn = p.msisdn
 AND l."at" >= p."at" - INTERVAL 2 HOUR
 AND l."at" <= p."at" + INTERVAL 2 HOUR
WHERE p.action = 'activate'
  AND o.kind IN ('service_center', 'dealer')
  AND l.region IS NOT NULL
  AND o.region IS NOT NULL
  AND l.region <> o.region
GROUP BY p."at", p.agent_id, p.msisdn, p.outlet_id, p.event_id, p.session_id, p.package_id, o.name, o.city
