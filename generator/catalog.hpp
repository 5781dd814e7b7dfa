// The fixed world the events happen in: product categories and prices, user devices and
// locations. Attributes derive from the id alone (not the seed), so a product keeps its price and
// a user their city across runs, as in a real shop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace eventgen {

// Names of every category, device and location that can appear in a good row.
extern const std::string_view kCategories[];
extern const size_t kCategoryCount;
extern const std::string_view kDevices[];
extern const size_t kDeviceCount;
// Some contain a comma (e.g. "Washington, D.C."), so CSV quoting shows up now and then.
extern const std::string_view kLocations[];
extern const size_t kLocationCount;

struct Product {
    int64_t id;
    std::string_view category;
    int64_t price_cents;
};

struct User {
    int64_t id;
    std::string_view location;
    uint32_t primary_device;  // index into kDevices
};

// Ranks say how popular a product or user is (0 = most); they map to scattered ids so that
// popularity does not follow id order.
class Catalog {
  public:
    static constexpr uint32_t kProductCount = 5000;
    static constexpr uint32_t kUserCount = 20000;

    Catalog();

    const Product &product(uint32_t rank) const { return products_[rank]; }
    // Computed, not stored: users are many, and this keeps start-up and memory small.
    static User user(uint32_t rank);
    // Users mostly stay on one device and sometimes switch, like phone vs. laptop; `percent_roll`
    // is uniform in [0, 100).
    static std::string_view device_for(const User &user, uint32_t percent_roll);

  private:
    std::vector<Product> products_;
};

}  // namespace eventgen
