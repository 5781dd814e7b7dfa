#include "pg/access/owner_settings.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
}

namespace pg_ingest {

namespace {

struct Setting {
    const char *name;
    const char *value;
};

// Pinned for the worker's own statements, for the whole session. Each is listed in the README
// with its reason.
const Setting kWorkerPins[] = {
    // Every catalog statement names its schemas: nothing in a user schema can capture them.
    {"search_path", ""},
    // A file's row is read again after its claim and must show what the last claimant committed.
    {"default_transaction_isolation", "read committed"},
    // The worker writes in every transaction it starts.
    {"default_transaction_read_only", "off"},
    {"default_transaction_deferrable", "off"},
    // A catalog update cut short would leave a committed batch without its offset's successor.
    {"statement_timeout", "0"},
    {"lock_timeout", "0"},
    {"idle_in_transaction_session_timeout", "0"},
};

// Never taken from the owner's settings: the transaction they would shape has begun already
// (its isolation, read-only and deferrable modes are the worker's), or they would change who the
// worker acts as, which is the owner and nobody else.
const char *const kNeverFromOwner[] = {"default_transaction_isolation",
                                       "default_transaction_read_only",
                                       "default_transaction_deferrable",
                                       "idle_in_transaction_session_timeout",
                                       "role",
                                       "session_authorization"};

// pg_db_role_setting's entries that shape the owner's login, lowest priority first (a later one
// wins, as at login), each "name=value"; and those of the worker's own session user, which
// InitPostgres applied to this session but the owner's login would not.
const char *kLoginSettingsQuery =
    "SELECT l.owner_level, u.item"
    " FROM (VALUES (0::pg_catalog.oid, 0::pg_catalog.oid, 1, true),"
    "              ($1, 0::pg_catalog.oid, 2, true),"
    "              (0::pg_catalog.oid, $2, 3, true), ($1, $2, 4, true),"
    "              (0::pg_catalog.oid, $3, 0, false), ($1, $3, 0, false))"
    "        AS l(db, role, rank, owner_level)"
    " JOIN pg_catalog.pg_db_role_setting s ON s.setdatabase = l.db AND s.setrole = l.role,"
    " pg_catalog.unnest(s.setconfig) WITH ORDINALITY AS u(item, n)"
    " ORDER BY l.rank, l.db, u.n";

// The server's own value of a setting: its last applied line in the configuration files, or
// its built-in default.
const char *kServerValueQuery =
    "SELECT coalesce((SELECT f.setting FROM pg_catalog.pg_file_settings f"
    "                 WHERE pg_catalog.lower(f.name) = s.name AND f.applied"
    "                 ORDER BY f.seqno DESC LIMIT 1), s.boot_val)"
    " FROM pg_catalog.pg_settings s WHERE s.name = $1";

MemoryContext settings_context = nullptr;
// What the owner's statements run with, applied in order: the server's values of the settings
// the worker pins or its session user sets, then the owner's login settings.
Setting *owner_settings = nullptr;
int owner_setting_count = 0;
Oid settings_owner = InvalidOid;
char *settings_fingerprint = nullptr;

bool timeout_armed = false;
TimestampTz timeout_deadline = 0;
bool timed_out = false;

bool never_from_owner(const char *name) {
    for (const char *excluded : kNeverFromOwner)
        if (pg_strcasecmp(name, excluded) == 0) return true;
    return false;
}

bool is_pinned(const char *name) {
    for (const Setting &pin : kWorkerPins)
        if (pg_strcasecmp(name, pin.name) == 0) return true;
    return false;
}

// Applies one setting at the current GUC nest level, to be undone when that level ends; or, with
// change false, only checks it. False when the name or the value is refused.
bool apply_setting(const char *name, const char *value, bool change, int elevel) {
    // set_config_option returns 0 for a refusal, -1 for a valid value it did not apply.
    return set_config_option(name, value, PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE, change, elevel,
                             false) != 0;
}

void add_setting(const char *name, const char *value) {
    if (never_from_owner(name)) return;
    // Checked once here, so that a value PostgreSQL would refuse at login is left out (and said
    // so once) instead of warned about at every statement.
    if (!apply_setting(name, value, false, WARNING)) return;
    owner_settings[owner_setting_count++] = {MemoryContextStrdup(settings_context, name),
                                             MemoryContextStrdup(settings_context, value)};
}

const char *server_value(const char *name) {
    Oid types[1] = {TEXTOID};
    Datum values[1] = {CStringGetTextDatum(name)};
    int ret = SPI_execute_with_args(kServerValueQuery, 1, types, values, nullptr, true, 1);
    if (ret != SPI_OK_SELECT || SPI_processed != 1) return nullptr;
    return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

// The settings as rows of kLoginSettingsQuery: the ones to reset to the server's values first
// (the pins, and the worker's session user's), then the owner's in order.
void rebuild_settings(uint64 rows) {
    MemoryContextReset(settings_context);
    owner_setting_count = 0;
    owner_settings = static_cast<Setting *>(
        MemoryContextAlloc(settings_context, sizeof(Setting) * (rows + lengthof(kWorkerPins))));
    List *reset_names = NIL;
    for (const Setting &pin : kWorkerPins) reset_names = lappend(reset_names, pstrdup(pin.name));
    for (uint64 i = 0; i < rows; i++) {
        bool isnull;
        if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull)))
            continue;
        char *name, *value;
        ParseLongOption(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2), &name,
                        &value);
        if (!is_pinned(name)) reset_names = lappend(reset_names, name);
    }
    SPITupleTable *login = SPI_tuptable;
    ListCell *cell;
    foreach (cell, reset_names) {
        const char *name = static_cast<const char *>(lfirst(cell));
        const char *value = server_value(name);
        if (value != nullptr) add_setting(name, value);
    }
    for (uint64 i = 0; i < rows; i++) {
        bool isnull;
        if (!DatumGetBool(SPI_getbinval(login->vals[i], login->tupdesc, 1, &isnull))) continue;
        char *name, *value;
        ParseLongOption(SPI_getvalue(login->vals[i], login->tupdesc, 2), &name, &value);
        if (value != nullptr) add_setting(name, value);
    }
}

// The rows as one text: equal texts mean equal settings.
char *fingerprint_of(uint64 rows) {
    StringInfoData text;
    initStringInfo(&text);
    for (uint64 i = 0; i < rows; i++)
        appendStringInfo(&text, "%s%s\n",
                         SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1),
                         SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
    return text.data;
}

void arm_statement_timeout() {
    timed_out = false;
    if (StatementTimeout <= 0) return;
    timeout_deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), StatementTimeout);
    enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);
    timeout_armed = true;
}

void disarm_statement_timeout() {
    if (!timeout_armed) return;
    disable_timeout(STATEMENT_TIMEOUT, false);
    timeout_armed = false;
}

// A statement on the owner's behalf failed: its timer must not go on to cancel the worker's
// catalog statements, and whether it was the timer that ended it is kept for the caller.
void on_abort() {
    if (!timeout_armed) return;
    timed_out = GetCurrentTimestamp() >= timeout_deadline;
    disarm_statement_timeout();
}

void on_transaction_event(XactEvent event, void *) {
    if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) on_abort();
}

void on_subtransaction_event(SubXactEvent event, SubTransactionId, SubTransactionId, void *) {
    if (event == SUBXACT_EVENT_ABORT_SUB) on_abort();
}

}  // namespace

void pin_worker_settings() {
    for (const Setting &pin : kWorkerPins)
        SetConfigOption(pin.name, pin.value, PGC_SUSET, PGC_S_SESSION);
    settings_context =
        AllocSetContextCreate(TopMemoryContext, "pg_ingest owner settings", ALLOCSET_SMALL_SIZES);
    RegisterXactCallback(on_transaction_event, nullptr);
    RegisterSubXactCallback(on_subtransaction_event, nullptr);
}

void refresh_owner_settings(Oid owner) {
    Oid types[3] = {OIDOID, OIDOID, OIDOID};
    Datum values[3] = {ObjectIdGetDatum(MyDatabaseId), ObjectIdGetDatum(owner),
                       ObjectIdGetDatum(GetSessionUserId())};
    if (SPI_execute_with_args(kLoginSettingsQuery, 3, types, values, nullptr, true, 0) !=
        SPI_OK_SELECT)
        elog(ERROR, "pg_ingest: could not read the settings of role %u", owner);
    uint64 rows = SPI_processed;
    char *fingerprint = fingerprint_of(rows);
    if (owner == settings_owner && settings_fingerprint != nullptr &&
        strcmp(fingerprint, settings_fingerprint) == 0)
        return;
    // Read before the settings below are rebuilt, since their memory is reset with them.
    char *kept = MemoryContextStrdup(TopMemoryContext, fingerprint);
    rebuild_settings(rows);
    if (settings_fingerprint != nullptr) pfree(settings_fingerprint);
    settings_fingerprint = kept;
    settings_owner = owner;
}

void forget_owner_settings() {
    if (settings_fingerprint != nullptr) pfree(settings_fingerprint);
    settings_fingerprint = nullptr;
}

OwnerScope enter_owner_scope(Oid owner) {
    OwnerScope scope;
    GetUserIdAndSecContext(&scope.saved_user, &scope.saved_security_context);
    scope.guc_nest_level = NewGUCNestLevel();
    // The settings were read for the source's owner before its file; a statement for another
    // role would not run here.
    Assert(owner == settings_owner);
    for (int i = 0; i < owner_setting_count; i++)
        (void)apply_setting(owner_settings[i].name, owner_settings[i].value, true, WARNING);
    SetUserIdAndSecContext(owner, scope.saved_security_context | SECURITY_LOCAL_USERID_CHANGE);
    arm_statement_timeout();
    return scope;
}

void leave_owner_scope(const OwnerScope &scope) {
    disarm_statement_timeout();
    SetUserIdAndSecContext(scope.saved_user, scope.saved_security_context);
    AtEOXact_GUC(true, scope.guc_nest_level);
}

bool take_owner_statement_timeout() {
    bool was = timed_out;
    timed_out = false;
    return was;
}

}  // namespace pg_ingest
