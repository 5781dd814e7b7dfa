// Whether a source's owner may still write its target: the worker writes as the owner, and stops
// the source rather than write for a role that lost the right (or no longer exists).
#pragma once

#include "pg/catalog/source_definition.hpp"

namespace pg_ingest {

// nullptr when the owner exists and has INSERT on the target; otherwise why not. The worker asks
// before each file and in each batch's transaction. Needs a transaction.
const char *owner_refusal(const SourceDefinition *source);

}  // namespace pg_ingest
