-- Plans option transform against an empty temporary `batch` shaped like the target, as the
-- owner, and rolls that back; raises the planner's error (syntax, missing relation, privilege).
CREATE OR REPLACE FUNCTION ingest._check_transform(target regclass, transform text, owner oid)
RETURNS void LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_check_transform';

REVOKE EXECUTE ON FUNCTION ingest._check_transform(regclass, text, oid) FROM PUBLIC;
