// A directory under /tmp that lives as long as the test that made it.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <stdexcept>
#include <system_error>

namespace test_support {

class TempDir {
  public:
    TempDir() {
        char path[] = "/tmp/pg_ingest_unit_XXXXXX";
        if (mkdtemp(path) == nullptr) throw std::system_error(errno, std::generic_category());
        path_ = path;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;

    const std::string &path() const { return path_; }
    std::string operator/(const std::string &name) const { return path_ + "/" + name; }

  private:
    std::string path_;
};

// Creates or replaces a file with exactly `content`.
inline void write_file(const std::string &path, const std::string &content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace test_support
