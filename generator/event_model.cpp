#include "event_model.hpp"

#include <algorithm>

namespace eventgen {

const std::string_view kEventTypeNames[5] = {"view", "add_to_cart", "remove_from_cart", "purchase",
                                             "wishlist"};

namespace {

// Percent thresholds of the action roll for a user who has viewed something; the rest purchases.
constexpr uint32_t kViewBelow = 65;
constexpr uint32_t kAddToCartBelow = 80;
constexpr uint32_t kWishlistBelow = 87;
constexpr uint32_t kRemoveFromCartBelow = 93;
// Percent of purchases without a cart that buy something never viewed (an ad, a reorder).
constexpr uint32_t kImpulsePurchasePercent = 3;

constexpr double kUserZipfExponent = 0.9;
constexpr double kProductZipfExponent = 1.1;

}  // namespace

EventModel::EventModel(RandomEngine rng, int64_t start_micros, int64_t mean_gap_micros)
    : rng_(rng),
      user_popularity_(Catalog::kUserCount, kUserZipfExponent),
      product_popularity_(Catalog::kProductCount, kProductZipfExponent),
      recent_(Catalog::kUserCount, RecentProducts{}),
      clock_micros_(start_micros),
      gap_span_(static_cast<uint32_t>(2 * std::clamp<int64_t>(mean_gap_micros, 1, INT32_MAX) - 1)) {
}

void EventModel::advance_clock_to(int64_t micros) {
    clock_micros_ = std::max(clock_micros_, micros);
}

void EventModel::remember_view(RecentProducts &recent, uint32_t product) {
    for (int slot = 0; slot < recent.count; ++slot) {
        if (recent.product[slot] == product) return;
    }
    recent.product[recent.next_slot] = static_cast<uint16_t>(product);
    recent.in_cart &= static_cast<uint8_t>(~(1u << recent.next_slot));
    recent.next_slot = static_cast<uint8_t>((recent.next_slot + 1) % kRecentSlots);
    if (recent.count < kRecentSlots) ++recent.count;
}

int EventModel::pick_recent_slot(const RecentProducts &recent) {
    // Half the time the product just viewed, otherwise any remembered one.
    if (rng_.below(2) == 0) return (recent.next_slot + kRecentSlots - 1) % kRecentSlots;
    return static_cast<int>(rng_.below(recent.count));
}

int EventModel::pick_cart_slot(const RecentProducts &recent) {
    int candidates[kRecentSlots];
    int count = 0;
    for (int slot = 0; slot < recent.count; ++slot) {
        if (recent.in_cart & (1u << slot)) candidates[count++] = slot;
    }
    return count == 0 ? -1 : candidates[rng_.below(static_cast<uint32_t>(count))];
}

Event EventModel::next() {
    clock_micros_ += 1 + rng_.below(gap_span_);
    const uint32_t user_rank = user_popularity_.sample(rng_);
    RecentProducts &recent = recent_[user_rank];

    EventType type = EventType::kView;
    uint32_t product = 0;
    const uint32_t roll = rng_.below(100);
    if (recent.count > 0 && roll >= kViewBelow) {
        const int cart_slot = pick_cart_slot(recent);
        if (roll < kAddToCartBelow) {
            const int slot = pick_recent_slot(recent);
            type = EventType::kAddToCart;
            product = recent.product[slot];
            recent.in_cart |= static_cast<uint8_t>(1u << slot);
        } else if (roll < kWishlistBelow) {
            type = EventType::kWishlist;
            product = recent.product[pick_recent_slot(recent)];
        } else if (roll < kRemoveFromCartBelow) {
            // With an empty cart the user browses instead: the event stays a view.
            if (cart_slot >= 0) {
                type = EventType::kRemoveFromCart;
                product = recent.product[cart_slot];
                recent.in_cart &= static_cast<uint8_t>(~(1u << cart_slot));
            }
        } else {
            type = EventType::kPurchase;
            if (cart_slot >= 0) {
                product = recent.product[cart_slot];
                recent.in_cart &= static_cast<uint8_t>(~(1u << cart_slot));
            } else if (rng_.below(100) < kImpulsePurchasePercent) {
                product = product_popularity_.sample(rng_);
            } else {
                product = recent.product[pick_recent_slot(recent)];
            }
        }
    }
    if (type == EventType::kView) {
        product = product_popularity_.sample(rng_);
        remember_view(recent, product);
    }

    const Product &item = catalog_.product(product);
    const User user = Catalog::user(user_rank);
    Event event;
    event.id = random_uuid_v4(rng_);
    event.user_id = user.id;
    event.product_id = item.id;
    event.type = type;
    event.time_micros = clock_micros_;
    event.price_cents = item.price_cents;
    event.category = item.category;
    event.device = Catalog::device_for(user, rng_.below(100));
    event.location = user.location;
    return event;
}

}  // namespace eventgen
