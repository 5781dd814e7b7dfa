// The pg_ingest.* settings (pg_settings shows their descriptions, units and ranges).
#pragma once

namespace pg_ingest {

extern bool ingest_enabled;
extern int poll_interval_ms;
extern int rejects_retention_minutes;
// pg_ingest.files_retention's "forever".
constexpr int kKeepFilesForever = -1;
extern int files_retention_seconds;
extern bool prefault_buffers;

void define_settings();

}  // namespace pg_ingest
