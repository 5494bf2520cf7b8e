-- id: JJK-004
-- title: Session on a terminal another person was just using, by an ID not on duty
-- severity: high
-- meaning: A user ID logged in on a terminal that another user ID was using (overlapping, or
--   within 30 minutes of its log-out), while the first ID's owner had no shift at that time,
--   allowing the shift tolerance (a log-in a few minutes before one's shift is ordinary;
--   table shift_windows).
--   The person at the terminal is most likely the other user.
-- evidence: both session_ids and the activations made in the later session
-- false_positives: shared back-office terminals with unrostered supervisors logging in to
--   approve something
-- references: seed case 2016 (SRG-PC-07 used by the on-call colleague until 20:58, the
--   owner's ID logged in on it at 21:05)
-- triage: identify the person rostered at the outlet then; pivot on device_id and on the
--   other session's agent_id
-- slice: whole (the activations of a session are linked by its id, whenever they happened)
SELECT s2.started_at AS "at",
       s2.agent_id AS agent_id,
       CAST(NULL AS VARCHAR) AS msisdn,
       max(p.outlet_id) AS outlet_id,
       concat_ws(';', s1.session_id, s2.session_id, string_agg(p.event_id, ';')) AS record_ids,
       'User ID ' || s2.agent_id || ' logged in on terminal ' || s2.device_id
         || ' right after user ID ' || s1.agent_id || ' had been using it, while its owner was not on duty' AS explanation
FROM sessions s2
JOIN sessions s1
  ON s1.device_id = s2.device_id
 AND s1.agent_id <> s2.agent_id
 AND s1.started_at < s2.started_at
 AND coalesce(s1.ended_at, s1.started_at) > s2.started_at - INTERVAL 30 MINUTE
ANTI JOIN shift_windows s
  ON s.agent_id = s2.agent_id AND s.early_from <= s2.started_at AND s.late_until > s2.started_at
LEFT JOIN provisioning p ON p.session_id = s2.session_id
WHERE s2.device_id IS NOT NULL
GROUP BY s2.started_at, s2.agent_id, s2.device_id, s1.agent_id, s1.session_id, s2.session_id
