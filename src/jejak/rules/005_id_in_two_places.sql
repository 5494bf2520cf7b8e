-- id: JJK-005
-- title: One user ID active in two places at once
-- severity: high
-- meaning: Two sessions of the same user ID overlap in time on different terminals from
--   different addresses: the ID's credentials are shared or stolen.
-- evidence: both session_ids
-- false_positives: a session that was never closed (its end is the next morning) while the
--   owner logs in elsewhere; sessions without an end time are ignored for that reason
-- references: MITRE ATT&CK T1078 Valid Accounts; shared_credentials scenario
-- triage: compare terminals and addresses of both sessions with the roster; pivot on agent_id
-- slice: agent_id within 0
SELECT s2.started_at AS "at",
       s2.agent_id AS agent_id,
       CAST(NULL AS VARCHAR) AS msisdn,
       CAST(NULL AS VARCHAR) AS outlet_id,
       concat_ws(';', s1.session_id, s2.session_id) AS record_ids,
       'User ID ' || s2.agent_id || ' was logged in on terminal ' || coalesce(s1.device_id, '?')
         || ' and on terminal ' || coalesce(s2.device_id, '?') || ' at the same time' AS explanation
FROM sessions s1
JOIN sessions s2
  ON s1.agent_id = s2.agent_id
 AND s1.session_id <> s2.session_id
 AND s1.started_at <= s2.started_at
 AND s1.ended_at > s2.started_at
WHERE s1.ended_at IS NOT NULL
  AND s1.device_id IS NOT NULL AND s2.device_id IS NOT NULL
  AND s1.device_id <> s2.device_id
  AND s1.source_ip IS NOT NULL AND s2.source_ip IS NOT NULL
  AND s1.source_ip <> s2.source_ip
  AND (s1.started_at < s2.started_at OR s1.session_id < s2.session_id)
