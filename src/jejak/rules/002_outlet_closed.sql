-- id: JJK-002
-- title: Activation while the outlet was closed, with no on-call duty
-- severity: high
-- meaning: A package was activated at an outlet outside its opening hours (in the outlet's
--   own time zone and open days), and the user ID that did it had no on-call shift there then.
--   Both allow the shift tolerance (setting shift_tolerance_minutes; for the on-call shift the
--   person's own habit too): the last customer is often served a few minutes after closing.
-- evidence: the provisioning event_id and its session_id
-- false_positives: outlets that opened late for an event without updating their hours;
--   on-call duty that was agreed by phone and never entered in the roster
-- references: seed case 2016 (GraPARI Sragen closes 16:00, activation at 21:14)
-- triage: check the outlet's hours and the roster's on_call shifts for that evening; pivot on
--   the session's terminal (device_id) and address (source_ip)
-- slice: outlet_id within 0
SELECT p."at" AS "at",
       p.agent_id AS agent_id,
       p.msisdn AS msisdn,
       p.outlet_id AS outlet_id,
       concat_ws(';', p.event_id, p.session_id) AS record_ids,
       'Package ' || coalesce(p.package_id, '?') || ' was activated at outlet ' || p.outlet_id
         || ' while it was closed, and user ID ' || coalesce(p.agent_id, 'unknown')
         || ' had no on-call duty there' AS explanation
FROM provisioning p
JOIN scheduled_outlets x ON x.outlet_id = p.outlet_id
ANTI JOIN outlet_hours h
  ON h.outlet_id = p.outlet_id AND h.early_from <= p."at" AND h.late_until > p."at"
ANTI JOIN shift_windows s
  ON s.agent_id = p.agent_id
 AND s.outlet_id = p.outlet_id
 AND s.duty = 'on_call'
 AND s.early_from <= p."at"
 AND s.late_until > p."at"
WHERE p.action = 'activate'
  AND p.agent_id IS NOT NULL
