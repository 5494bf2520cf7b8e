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
-- slice: agent_id within 0
WITH activity AS (
  SELECT p."at", p.agent_id, p.msisdn, p.outlet_id, p.event_id AS record_id
  FROM provisioning p WHERE p.agent_id IS NOT NULL
  UNION ALL
  SELECT s.started_at, s.agent_id, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), s.session_id
  FROM sessions s WHERE s.agent_id IS NOT NULL
),
-- the validity dates as UTC instants: the (UTC) day of an instant is before valid_from exactly
-- when the instant is before valid_from's midnight, and after valid_to when at or after the
-- midnight that ends valid_to
bounds AS (
  SELECT agent_id, person, status,
         CAST(valid_from AS TIMESTAMPTZ) AS valid_from_at,
         CAST(valid_to AS TIMESTAMPTZ) + INTERVAL 1 DAY AS valid_until_at
  FROM agents
),
suspect AS (
  SELECT x."at", x.agent_id, x.msisdn, x.outlet_id, x.record_id, a.person, a.status,
         coalesce(x."at" < a.valid_from_at OR x."at" >= a.valid_until_at, FALSE) AS outside
  FROM activity x
  JOIN bounds a ON a.agent_id = x.agent_id
  WHERE x."at" < a.valid_from_at
     OR x."at" >= a.valid_until_at
     OR a.status IN ('on_leave', 'suspended', 'terminated')
)
SELECT x."at" AS "at",
       x.agent_id AS agent_id,
       x.msisdn AS msisdn,
       x.outlet_id AS outlet_id,
       x.record_id AS record_ids,
       CASE WHEN x.outside
            THEN 'User ID ' || x.agent_id || ' (' || x.person || ') was used outside the dates it is valid for'
            ELSE 'User ID ' || x.agent_id || ' (' || x.person || ') was used while its owner was '
                 || replace(x.status, '_', ' ') || ' and not rostered'
       END AS explanation,
       CASE WHEN x.outside THEN 'critical' ELSE 'high' END AS severity
FROM suspect x
ANTI JOIN shift_windows s
  ON NOT x.outside
 AND s.agent_id = x.agent_id AND s.early_from <= x."at" AND s.late_until > x."at"
ANTI JOIN last_rostered r
  ON NOT x.outside
 AND r.agent_id = x.agent_id AND x."at" < r.covered_until
