#include "temp_dir.hpp"
#include "core/discovery/path_containment.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <string>

namespace pg_ingest {
namespace {

using test_support::TempDir;

TEST(PathIsInsideTest, ComparesWholeComponents) {
    EXPECT_TRUE(path_is_inside("/data", "/data"));
    EXPECT_TRUE(path_is_inside("/data/in", "/data"));
    EXPECT_TRUE(path_is_inside("/data/in/deeper", "/data"));
    EXPECT_FALSE(path_is_inside("/data2", "/data"));
    EXPECT_FALSE(path_is_inside("/dat", "/data"));
    EXPECT_FALSE(path_is_inside("/", "/data"));
    EXPECT_FALSE(path_is_inside("/etc", "/data"));
}

TEST(PathIsInsideTest, RootContainsEveryAbsolutePath) {
    EXPECT_TRUE(path_is_inside("/", "/"));
    EXPECT_TRUE(path_is_inside("/etc", "/"));
}

TEST(ResolvePathTest, FollowsSymlinksAndDotDot) {
    TempDir dir;
    const std::string base = *resolve_path(dir.path());
    ASSERT_EQ(mkdir((dir / "real").c_str(), 0755), 0);
    ASSERT_EQ(symlink((dir / "real").c_str(), (dir / "link").c_str()), 0);
    EXPECT_EQ(resolve_path(dir / "link"), base + "/real");
    EXPECT_EQ(resolve_path(dir / "real/../real/."), base + "/real");
    EXPECT_EQ(resolve_path(dir / "missing"), std::nullopt);
}

TEST(InsideAnyTest, ResolvesTheAllowedEntries) {
    TempDir dir;
    const std::string base = *resolve_path(dir.path());
    ASSERT_EQ(mkdir((dir / "allowed").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((dir / "allowed/in").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((dir / "allowed2").c_str(), 0755), 0);
    ASSERT_EQ(symlink((dir / "allowed").c_str(), (dir / "alias").c_str()), 0);

    EXPECT_TRUE(inside_any(base + "/allowed/in", {dir / "alias"}));
    EXPECT_TRUE(inside_any(base + "/allowed", {dir / "missing", dir / "allowed"}));
    EXPECT_FALSE(inside_any(base + "/allowed2", {dir / "allowed"}));
    EXPECT_FALSE(inside_any(base + "/allowed", {dir / "missing"}));
    EXPECT_FALSE(inside_any(base + "/allowed", {}));
}

}  // namespace
}  // namespace pg_ingest
