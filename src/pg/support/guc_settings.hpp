// The pg_ingest.* settings (pg_settings shows their descriptions, units and ranges).
#pragma once

namespace pg_ingest {

extern bool ingest_enabled;
extern int poll_interval_ms;
extern int rejects_retention_minutes;
extern bool prefault_buffers;

void define_settings();

}  // namespace pg_ingest
