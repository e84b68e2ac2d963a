-- Showdesk 0024: a venue hub relays its kiosks' changes, each as the kiosk that made it.
--
-- A venue hub (an organizer's or admin's laptop, app/sync/hub) runs these same migrations on
-- a PostgreSQL beside it; its door and producer kiosks push to it over the venue network. When
-- the hub reaches this server it forwards what they pushed with relay_push: the mutations
-- keep their client UUIDs, so sync_mutations answers "duplicate" for any the kiosk also pushed
-- here directly, and nothing is applied twice.
--
-- The relay does not lend the hub's rights to the kiosk: for the duration of the batch the
-- caller is the kiosk (its organization, its enrolled role, its device), so Row Level Security
-- and push_one decide exactly as if the kiosk had pushed itself (a door's lineup edit is
-- refused here too). Who may relay: a registered organizer or admin device of the same
-- organization. Which kiosk: any unrevoked device of that organization. Its role: the one it
-- was enrolled with (0021) when it has one, else the one the hub's organizer gave it when it
-- joined the hub (p_role; an organizer's hub cannot hand out admin), else door.

SET search_path = showdesk, pg_catalog;

-- The relayed device's role (see above). Definer code: device_bindings has no policy.
CREATE OR REPLACE FUNCTION showdesk_private.relay_role(p_device_id uuid, p_org uuid, p_hub_role text,
                                                       p_caller_role text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_device showdesk.devices;
  v_role text;
BEGIN
  SELECT d.* INTO v_device FROM showdesk.devices d WHERE d.id = p_device_id;
  IF NOT FOUND OR v_device.organization_id IS DISTINCT FROM p_org THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'The venue hub relayed a change from a device this organization does not have.';
  END IF;
  IF v_device.revoked_at IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = format('The venue hub relayed a change from "%s", a device removed from the organization.',
                       v_device.name),
      HINT = 'showdesk:relay-revoked';
  END IF;
  SELECT b.staff_role INTO v_role FROM showdesk.device_bindings b
   WHERE b.device_id = p_device_id AND b.staff_role IS NOT NULL
   ORDER BY b.bound_at DESC LIMIT 1;
  IF v_role IS NULL AND p_hub_role IN ('door', 'producer', 'organizer', 'admin') THEN
    v_role := CASE WHEN p_hub_role = 'admin' AND p_caller_role <> 'admin' THEN 'organizer'
                   ELSE p_hub_role END;
  END IF;
  RETURN coalesce(v_role, 'door');
END
$$;

CREATE OR REPLACE FUNCTION showdesk.relay_push(p_device_id uuid, p_mutations jsonb,
                                               p_role text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, showdesk
AS $$
DECLARE
  v_me record := showdesk_private.whoami();  -- raises for a revoked hub device
  v_role text;
  v_results jsonb;
BEGIN
  IF v_me.organization_id IS NULL OR v_me.device_id IS NULL
     OR v_me.staff_role NOT IN ('organizer', 'admin') THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = 'Only an organizer''s or admin''s registered device can relay a venue hub''s changes.';
  END IF;
  IF jsonb_typeof(p_mutations) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'p_mutations must be a JSON array of mutations.';
  END IF;
  IF jsonb_array_length(p_mutations) > 1000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'Too many mutations in one push (at most 1000).';
  END IF;
  v_role := showdesk_private.relay_role(p_device_id, v_me.organization_id, p_role, v_me.staff_role);
  -- Become the kiosk for this batch: whoami's transaction cache (0004, keyed by the claims)
  -- answers the kiosk's identity to every policy and to push_one until it is cleared.
  PERFORM set_config('showdesk.whoami',
                     concat_ws('|', md5(coalesce(current_setting('request.jwt.claims', true), '')),
                               v_me.organization_id::text, v_role, p_device_id::text),
                     true);
  v_results := showdesk_private.push_batch(p_device_id, v_me.organization_id, p_mutations);
  PERFORM set_config('showdesk.whoami', '', true);
  RETURN jsonb_build_object('results', v_results, 'server_time', showdesk_private.iso_now());
END
$$;

CREATE OR REPLACE FUNCTION public.showdesk_relay_push(p_device_id uuid, p_mutations jsonb,
                                                      p_role text DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY INVOKER SET search_path = pg_catalog
AS $$ SELECT showdesk.relay_push(p_device_id, p_mutations, p_role) $$;

REVOKE ALL ON FUNCTION showdesk_private.relay_role(uuid, uuid, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION showdesk.relay_push(uuid, jsonb, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.showdesk_relay_push(uuid, jsonb, text) FROM PUBLIC;
DO $$
BEGIN
  EXECUTE 'REVOKE ALL ON FUNCTION showdesk_private.relay_role(uuid, uuid, text, text) FROM anon';
  EXECUTE 'REVOKE EXECUTE ON FUNCTION showdesk.relay_push(uuid, jsonb, text) FROM anon';
  EXECUTE 'REVOKE EXECUTE ON FUNCTION public.showdesk_relay_push(uuid, jsonb, text) FROM anon';
END
$$;
GRANT EXECUTE ON FUNCTION showdesk_private.relay_role(uuid, uuid, text, text) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION showdesk.relay_push(uuid, jsonb, text) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.showdesk_relay_push(uuid, jsonb, text) TO authenticated, service_role;

RESET search_path;
