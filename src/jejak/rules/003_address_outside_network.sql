-- id: JJK-003
-- title: Activation from an address outside the outlet's networks
-- severity: high
-- meaning: The source address of an activation is not in any network of the outlet it was
--   booked at. When it is in no operator network at all the severity is critical: someone
--   outside the operator reached the provisioning front end.
-- evidence: the provisioning event_id and its session_id
-- false_positives: outlets whose network list in the export is out of date; VPN concentrators
--   that are not listed as any outlet's network
-- references: MITRE ATT&CK T1133 External Remote Services
-- triage: look the address up (whois, VPN logs); pivot on source_ip for other activations
--   and sessions from it
-- slice: outlet_id within 0; whole: outlet_networks
SELECT p."at" AS "at",
       p.agent_id AS agent_id,
       p.msisdn AS msisdn,
       p.outlet_id AS outlet_id,
       concat_ws(';', p.event_id, p.session_id) AS record_ids,
       CASE WHEN NOT EXISTS (SELECT 1 FROM outlet_networks a WHERE i.ip_hex BETWEEN a.lo AND a.hi)
            THEN 'Package ' || coalesce(p.package_id, '?') || ' was activated from address ' || p.source_ip
                 || ', which is outside every network of the operator'
            ELSE 'Package ' || coalesce(p.package_id, '?') || ' was activated from address ' || p.source_ip
                 || ', which belongs to another outlet than ' || p.outlet_id
       END AS explanation,
       CASE WHEN NOT EXISTS (SELECT 1 FROM outlet_networks a WHERE i.ip_hex BETWEEN a.lo AND a.hi)
            THEN 'critical' ELSE 'high' END AS severity
FROM provisioning p
JOIN ip_addresses i ON i.ip = p.source_ip
SEMI JOIN outlet_networks x ON x.outlet_id = p.outlet_id
ANTI JOIN outlet_networks n
  ON n.outlet_id = p.outlet_id AND i.ip_hex BETWEEN n.lo AND n.hi
WHERE p.action = 'activate'
  AND p.agent_id IS NOT NULL
