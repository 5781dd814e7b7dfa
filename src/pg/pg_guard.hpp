// The one boundary between C++ and PostgreSQL error handling.
//
// PostgreSQL reports errors with longjmp, which skips C++ destructors; C++ reports them with
// exceptions, which PostgreSQL frames cannot unwind. So:
//  - cpp_guard(fn): PostgreSQL-side code calls pure C++ through it; an exception becomes an
//    ereport(ERROR) raised after the exception object is gone.
//  - pg_guard(fn): C++ code that owns destructors calls PostgreSQL through it; an ERROR becomes a
//    PgError exception that unwinds normally, and cpp_guard re-raises it unchanged at the border.
// Server-facing code between the two keeps no locals with destructors.
#pragma once

#include <cstring>
#include <exception>
#include <system_error>
#include <type_traits>
#include <utility>

extern "C" {
#include "postgres.h"
#include "utils/elog.h"
#include "utils/memutils.h"
}

namespace pg_ingest {

class PgError : public std::exception {
  public:
    explicit PgError(ErrorData *error) : error_(error) {}
    ErrorData *error() const { return error_; }
    const char *what() const noexcept override { return error_->message; }

  private:
    ErrorData *error_;
};

// Carries a message and SQLSTATE out of a catch block, so ereport runs with no exception alive.
struct CaughtException {
    int sqlstate = 0;
    ErrorData *pg_error = nullptr;
    char message[1024] = {0};

    void set(int code, const char *text) {
        sqlstate = code;
        strlcpy(message, text, sizeof message);
    }
};

[[noreturn]] void raise_caught(const CaughtException &caught);

template <typename Fn>
auto cpp_guard(Fn &&fn) -> decltype(fn()) {
    CaughtException caught;
    try {
        return fn();
    } catch (const PgError &e) {
        caught.pg_error = e.error();
    } catch (const std::system_error &e) {
        caught.set(ERRCODE_IO_ERROR, e.what());
    } catch (const std::bad_alloc &) {
        caught.set(ERRCODE_OUT_OF_MEMORY, "out of memory in pg_ingest");
    } catch (const std::exception &e) {
        caught.set(ERRCODE_INTERNAL_ERROR, e.what());
    } catch (...) {
        caught.set(ERRCODE_INTERNAL_ERROR, "unknown C++ exception in pg_ingest");
    }
    raise_caught(caught);
}

template <typename Fn>
void pg_guard(Fn &&fn) {
    MemoryContext caller_context = CurrentMemoryContext;
    ErrorData *error = nullptr;
    PG_TRY();
    { fn(); }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller_context);
        error = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    if (error != nullptr) throw PgError(error);
}

}  // namespace pg_ingest
