// The one boundary between C++ and PostgreSQL error handling.
//
// PostgreSQL reports errors with longjmp, which skips C++ destructors; C++ reports them with
// exceptions, which PostgreSQL frames cannot unwind. So server-facing code calls pure C++ only
// through cpp_guard(fn): an exception becomes an ereport(ERROR) raised after the exception object
// is gone. The C++ it calls never calls back into PostgreSQL (src/core does not include
// postgres.h), so no ERROR can longjmp over a C++ frame; server-facing code keeps no locals with
// destructors.
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

// Carries a message and SQLSTATE out of a catch block, so ereport runs with no exception alive.
struct CaughtException {
    int sqlstate = 0;
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

}  // namespace pg_ingest
