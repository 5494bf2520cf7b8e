-- id: JJK-007
-- title: Activation with no verified consent
-- severity: high
-- meaning: A staff user ID activated a package on a subscriber's line and no verified consent
--   of that subscriber, given up to a day before (or within ten minutes after), is on record.
-- evidence: the provisioning event_id, its session_id and the consent_id it names (if any)
-- false_positives: consents captured on paper and entered in the system days later
-- references: seed case 2016 (no consent for any of the five activations); owner_no_consent
--   scenario
-- triage: call the subscriber; look for the consent under another msisdn; pivot on agent_id
--   and session_id for other unconsented activations
-- slice: msisdn within 1 day
SELECT p."at" AS "at",
       p.agent_id AS agent_id,
       p.msisdn AS msisdn,
       p.outlet_id AS outlet_id,
       concat_ws(';', p.event_id, p.session_id, p.consent_id) AS record_ids,
       'Package ' || coalesce(p.package_id, '?') || ' was activated on ' || p.msisdn || ' by user ID '
         || p.agent_id || ' with no verified consent of the subscriber on record' AS explanation
FROM provisioning p
ANTI JOIN consents c
  ON c.consent_id = p.consent_id
 AND c.msisdn = p.msisdn
 AND c.verified = TRUE
 AND c."at" >= p."at" - INTERVAL 1 DAY
 AND c."at" <= p."at" + INTERVAL 10 MINUTE
WHERE p.action = 'activate'
  AND p.agent_id IS NOT NULL
