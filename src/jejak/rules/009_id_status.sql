-- id: JJK-009
-- title: User ID used while its owner is on leave, suspended, terminated or outside its validity
-- severity: high
-- meaning: A session or activation under a user ID happened outside the ID's validity dates
--   (critical), or while the ID's owner is recorded as on leave, suspended or terminated, had
--   no shift at that time (with the shift tolerance) and the activity came after the owner's
--   last rostered day. The HR status is a snapshot taken at export time, not a history: a
--   person on leave today worked normally before, so activity up to the end of her last
--   rostered day (table last_rostered) is not evidence against her.
-- evidence: the session_id or provisioning event_id
-- false_positives: HR status that changed after the activity but before a roster gap (status
--   is the export's current status, not its history); rosters that end before the export does
-- references: id_while_on_leave and id_after_termination scenarios; ISO 27001 A.5.18
-- triage: confirm the owner's absence with HR; find who used the terminal; pivot on agent_id
WITH activity AS (
  SELECT p."at", p.agent_id, p.msisdn, p.outlet_id, p.event_id AS record_id
  FROM provisioning p WHERE p.agent_id IS NOT NULL
  UNION ALL
  SELECT s.started_at, s.agent_id, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), s.session_id
  FROM sessions s WHERE s.agent_id IS NOT NULL
)
SELECT x."at" AS "at",
       x.agent_id AS agent_id,
       x.msisdn AS msisdn,
       x.outlet_id AS outlet_id,
       x.record_id AS record_ids,
       CASE WHEN CAST(x."at" AS DATE) < a.valid_from OR CAST(x."at" AS DATE) > a.valid_to
            THEN 'User ID ' || x.agent_id || ' (' || a.person || ') was used outside the dates it is valid for'
            ELSE 'User ID ' || x.agent_id || ' (' || a.person || ') was used while its owner was '
                 || replace(a.status, '_', ' ') || ' and not rostered'
       END AS explanation,
       CASE WHEN CAST(x."at" AS DATE) < a.valid_from OR CAST(x."at" AS DATE) > a.valid_to
            THEN 'critical' ELSE 'high' END AS severity
FROM activity x
JOIN agents a ON a.agent_id = x.agent_id
WHERE (a.valid_from IS NOT NULL AND CAST(x."at" AS DATE) < a.valid_from)
   OR (a.valid_to IS NOT NULL AND CAST(x."at" AS DATE) > a.valid_to)
   OR (a.status IN ('on_leave', 'suspended', 'terminated')
       AND NOT EXISTS (
         SELECT 1 FROM shift_windows s
         WHERE s.agent_id = x.agent_id AND s.early_from <= x."at" AND s.late_until > x."at"
       )
       AND NOT EXISTS (
         SELECT 1 FROM last_rostered r
         WHERE r.agent_id = x.agent_id AND x."at" < r.covered_until
       ))
