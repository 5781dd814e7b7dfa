// What happens in the shop: who does what to which product when. Users and products are drawn
// with Zipf-like popularity; each user remembers a few recently viewed products, and carts,
// wishlists and purchases mostly pick from those, which gives a plausible funnel
// (view -> add_to_cart -> purchase) in bounded memory.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "catalog.hpp"
#include "random_engine.hpp"
#include "uuid.hpp"
#include "zipf_sampler.hpp"

namespace eventgen {

enum class EventType : uint8_t { kView, kAddToCart, kRemoveFromCart, kPurchase, kWishlist };

// Text written to the event_type column, indexed by EventType.
extern const std::string_view kEventTypeNames[5];

struct Event {
    Uuid id;
    int64_t user_id;
    int64_t product_id;
    EventType type;
    int64_t time_micros;  // since the Unix epoch, UTC
    int64_t price_cents;
    std::string_view category;
    std::string_view device;
    std::string_view location;
};

class EventModel {
  public:
    // Event times start after start_micros and advance by 1 .. 2*mean_gap_micros-1 each event.
    EventModel(RandomEngine rng, int64_t start_micros, int64_t mean_gap_micros);

    Event next();

    // Moves the event clock forward to at least `micros` (never back, so times stay monotonic).
    void advance_clock_to(int64_t micros);

  private:
    static constexpr int kRecentSlots = 4;

    // A user's last few viewed products (product ranks), a ring; bit k of in_cart marks slot k.
    struct RecentProducts {
        uint16_t product[kRecentSlots];
        uint8_t count;
        uint8_t next_slot;
        uint8_t in_cart;
    };

    static void remember_view(RecentProducts &recent, uint32_t product);
    int pick_recent_slot(const RecentProducts &recent);
    int pick_cart_slot(const RecentProducts &recent);

    RandomEngine rng_;
    Catalog catalog_;
    ZipfSampler user_popularity_;
    ZipfSampler product_popularity_;
    static_assert(Catalog::kProductCount <= UINT16_MAX + 1, "product ranks are stored as uint16_t");
    std::vector<RecentProducts> recent_;  // per user rank
    int64_t clock_micros_;
    uint32_t gap_span_;  // gaps are 1 + below(gap_span_)
};

}  // namespace eventgen
