#include "catalog.hpp"

#include <iterator>

#include "random_engine.hpp"

namespace eventgen {

const std::string_view kCategories[] = {
    "electronics", "books",  "clothing", "home & kitchen", "sports & outdoors",
    "toys",        "beauty", "grocery",  "automotive",     "garden",
};
const size_t kCategoryCount = std::size(kCategories);

const std::string_view kDevices[] = {"mobile", "desktop", "tablet"};
const size_t kDeviceCount = std::size(kDevices);

const std::string_view kLocations[] = {
    "New York", "Los Angeles", "Chicago",   "Washington, D.C.", "Austin, TX",
    "Toronto",  "Mexico City", "São Paulo", "London",           "Paris",
    "Berlin",   "Zürich",      "Kraków",    "Madrid",           "Lagos",
    "Mumbai",   "Tokyo",       "Seoul",     "Sydney",           "Singapore",
};
const size_t kLocationCount = std::size(kLocations);

namespace {

// Price range per category, in whole dollars, parallel to kCategories.
struct PriceRange {
    int64_t min_dollars;
    int64_t max_dollars;
};
constexpr PriceRange kPriceRanges[] = {
    {20, 1999}, {5, 60},  {8, 250}, {10, 500}, {10, 800},
    {5, 150},   {4, 120}, {1, 40},  {10, 900}, {5, 400},
};
static_assert(std::size(kPriceRanges) == std::size(kCategories));

// Shop prices end in a few typical ways.
constexpr int64_t kCentEndings[] = {99, 49, 0, 95, 29};

// Multipliers coprime to the counts, so rank -> id is a bijection that scatters neighbours.
constexpr uint64_t kProductScatter = 3571;
constexpr uint64_t kUserScatter = 7919;
constexpr int64_t kFirstProductId = 1000;
constexpr int64_t kFirstUserId = 100000;

// Percent of the time a user is on their primary device.
constexpr uint32_t kPrimaryDevicePercent = 85;

}  // namespace

Catalog::Catalog() : products_(kProductCount) {
    for (uint32_t rank = 0; rank < kProductCount; ++rank) {
        const int64_t id =
            kFirstProductId + static_cast<int64_t>(rank * kProductScatter % kProductCount);
        const uint64_t hash = mix64(static_cast<uint64_t>(id));
        const size_t category = hash % kCategoryCount;
        const PriceRange range = kPriceRanges[category];
        // The smaller of two draws skews towards the cheap end of the range, as in real catalogs.
        const uint64_t span = static_cast<uint64_t>(range.max_dollars - range.min_dollars + 1);
        const uint64_t a = (hash >> 8) % span;
        const uint64_t b = (hash >> 32) % span;
        const int64_t dollars = range.min_dollars + static_cast<int64_t>(a < b ? a : b);
        const int64_t cents = kCentEndings[(hash >> 56) % std::size(kCentEndings)];
        products_[rank] = Product{id, kCategories[category], dollars * 100 + cents};
    }
}

User Catalog::user(uint32_t rank) {
    const int64_t id = kFirstUserId + static_cast<int64_t>(rank * kUserScatter % kUserCount);
    const uint64_t hash = mix64(static_cast<uint64_t>(id));
    // 60% mostly on mobile, 30% on desktop, 10% on tablet.
    const uint64_t device_roll = (hash >> 32) % 100;
    const uint32_t device = device_roll < 60 ? 0 : device_roll < 90 ? 1 : 2;
    return User{id, kLocations[hash % kLocationCount], device};
}

std::string_view Catalog::device_for(const User &user, uint32_t percent_roll) {
    if (percent_roll < kPrimaryDevicePercent) return kDevices[user.primary_device];
    return kDevices[(user.primary_device + 1 + percent_roll % 2) % kDeviceCount];
}

}  // namespace eventgen
