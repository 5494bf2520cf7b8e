-- id: JJK-015
-- title: Dangling reference: a user ID, session or consent that no export knows
-- severity: medium
-- meaning: An activation or session names a user ID (high), a session or a consent that is in
--   none of the exports. A user ID no roster or HR export knows is itself evidence.
-- evidence: the provisioning event_id or session_id, with the unknown identifier
-- false_positives: partial exports (one month of sessions against a year of provisioning)
-- references: operator-export.md "dangling references"; external_attacker scenario
-- triage: ask the operator's identity team for the ID; check whether the export is complete
-- slice: whole (a reference is dangling until a record of that id arrives, whenever)
SELECT p."at" AS "at", p.agent_id AS agent_id, p.msisdn AS msisdn, p.outlet_id AS outlet_id,
       p.event_id AS record_ids,
       'Package ' || coalesce(p.package_id, '?') || ' was changed under user ID ' || p.agent_id
         || ', which no staff or HR export knows' AS explanation,
       'high' AS severity
FROM provisioning p
WHERE p.agent_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.agent_id = p.agent_id)
UNION ALL
SELECT p."at", p.agent_id, p.msisdn, p.outlet_id, p.event_id,
       'Package ' || coalesce(p.package_id, '?') || ' was changed in session ' || p.session_id
         || ', which no session export knows',
       'medium'
FROM provisioning p
WHERE p.session_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.session_id = p.session_id)
UNION ALL
SELECT p."at", p.agent_id, p.msisdn, p.outlet_id, p.event_id,
       'Package ' || coalesce(p.package_id, '?') || ' names consent ' || p.consent_id
         || ', which no consent export knows',
       'medium'
FROM provisioning p
WHERE p.consent_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.consent_id = p.consent_id)
UNION ALL
SELECT s.started_at, s.agent_id, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), s.session_id,
       'Session ' || s.session_id || ' logged in under user ID ' || s.agent_id
         || ', which no staff or HR export knows',
       'high'
FROM sessions s
WHERE s.agent_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.agent_id = s.agent_id)
