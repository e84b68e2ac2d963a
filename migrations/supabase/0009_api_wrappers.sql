-- Showdesk 0009: the only objects Showdesk puts in public, the schema PostgREST exposes.
--
-- Three thin wrappers with a showdesk_ prefix (a name the platform does not take) around the
-- RPC functions of schema showdesk. They are SECURITY INVOKER: the caller's role and JWT
-- claims reach the wrapped function unchanged, so Row Level Security decides exactly as
-- before. With them an organizer needs no API setting: the project's default exposed schema
-- (public) serves POST /rest/v1/rpc/showdesk_sync_pull, ..._sync_push and ..._register_device,
-- while Showdesk's tables stay out of the API.
--
-- The wrappers are LANGUAGE sql without BEGIN ATOMIC, so the wrapped function is looked up
-- when called: 0005-0008 may drop and recreate it on a re-apply.

DROP FUNCTION IF EXISTS public.showdesk_sync_pull(uuid, text, integer);
CREATE FUNCTION public.showdesk_sync_pull(p_event_id uuid, p_cursor text DEFAULT NULL,
                                          p_limit integer DEFAULT 500)
RETURNS json
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog
AS $$ SELECT showdesk.sync_pull(p_event_id, p_cursor, p_limit) $$;

CREATE OR REPLACE FUNCTION public.showdesk_sync_push(p_device_id uuid, p_mutations jsonb)
RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY INVOKER SET search_path = pg_catalog
AS $$ SELECT showdesk.sync_push(p_device_id, p_mutations) $$;

CREATE OR REPLACE FUNCTION public.showdesk_register_device(p_name text, p_gate text DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY INVOKER SET search_path = pg_catalog
AS $$ SELECT showdesk.register_device(p_name, p_gate) $$;

REVOKE EXECUTE ON FUNCTION public.showdesk_sync_pull(uuid, text, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.showdesk_sync_push(uuid, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION public.showdesk_register_device(text, text) FROM PUBLIC;
DO $$
BEGIN
  EXECUTE 'REVOKE EXECUTE ON FUNCTION public.showdesk_sync_pull(uuid, text, integer) FROM anon';
  EXECUTE 'REVOKE EXECUTE ON FUNCTION public.showdesk_sync_push(uuid, jsonb) FROM anon';
  EXECUTE 'REVOKE EXECUTE ON FUNCTION public.showdesk_register_device(text, text) FROM anon';
END
$$;
GRANT EXECUTE ON FUNCTION public.showdesk_sync_pull(uuid, text, integer) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.showdesk_sync_push(uuid, jsonb) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.showdesk_register_device(text, text) TO authenticated, service_role;

