-- A role controls and sees the sources it owns (as a member of the owning role), superusers all.
CREATE OR REPLACE FUNCTION ingest._may_control(owner regrole) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT r.rolsuper OR pg_catalog.pg_has_role(r.oid, owner, 'MEMBER')
    FROM pg_catalog.pg_roles r WHERE r.oid = ingest._caller()
$$;
