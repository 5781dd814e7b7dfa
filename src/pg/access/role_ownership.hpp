// Sources as objects their owner owns: in the database where the statement runs, DROP ROLE is
// refused while the role owns sources, DROP OWNED BY drops them and REASSIGN OWNED BY hands them
// over, as for tables. PostgreSQL cannot see rows of an extension's table in other databases:
// there, a worker whose owner is gone fails its source instead.
#pragma once

extern "C" {
#include "postgres.h"
#include "nodes/nodes.h"
}

namespace pg_ingest {

struct RoleStatement;

// The roles a DROP ROLE, DROP OWNED BY or REASSIGN OWNED BY statement names, resolved before it
// runs (DROP ROLE removes them); nullptr for any other statement.
RoleStatement *resolve_role_statement(Node *parsetree);

// Applies the statement to this database's sources once PostgreSQL has run it (and checked its
// privileges); an ERROR aborts the statement.
void apply_role_statement(const RoleStatement *statement);

}  // namespace pg_ingest
