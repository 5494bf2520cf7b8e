-- id: JJK-001
-- title: Activation by a user ID whose owner was not rostered at that outlet
-- severity: high
-- meaning: A package was activated under a staff user ID at an outlet where the roster
--   has no shift (regular or on call) for that ID's owner at that moment, allowing the shift
--   tolerance (setting shift_tolerance_minutes, or the person's own habit of starting early or
--   finishing late, table shift_windows). Either the owner worked off the roster or someone
--   else used the ID.
-- evidence: the provisioning event_id and its session_id
-- false_positives: roster exports that lag behind real shift swaps; agents whose shifts are
--   recorded under another outlet while they cover a neighbouring one
-- references: seed case 2016 (user ID 16009045 used at 21:14, owner rostered 08:00-16:00);
--   MITRE ATT&CK T1078 Valid Accounts
-- triage: pull the shifts of the outlet that day and the session's terminal; ask who was on
--   duty; compare with the owner's own sessions that day (pivot: agent_id, session_id, device_id)
-- slice: agent_id within 0
SELECT p."at" AS "at",
       p.agent_id AS agent_id,
       p.msisdn AS msisdn,
       p.outlet_id AS outlet_id,
       concat_ws(';', p.event_id, p.session_id) AS record_ids,
       'Package ' || coalesce(p.package_id, '?') || ' was activated under user ID ' || p.agent_id
         || ' at outlet ' || p.outlet_id || ' while the owner of that ID was not rostered there' AS explanation
FROM provisioning p
JOIN outlets o ON o.outlet_id = p.outlet_id
JOIN rostered_agents r ON r.agent_id = p.agent_id
ANTI JOIN shift_windows s
  ON s.agent_id = p.agent_id
 AND s.outlet_id = p.outlet_id
 AND s.early_from <= p."at"
 AND s.late_until > p."at"
WHERE p.action = 'activate'
  AND p.agent_id IS NOT NULL
  AND o.kind IN ('service_center', 'dealer', 'call_center')
