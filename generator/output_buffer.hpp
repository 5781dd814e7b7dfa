// A growable byte buffer that formatting code writes into through raw pointers, without the
// bookkeeping of std::string::append on every field.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace eventgen {

class OutputBuffer {
  public:
    explicit OutputBuffer(size_t capacity)
        : data_(std::make_unique<char[]>(capacity)), capacity_(capacity) {}

    // Room for at least `bytes` more; write there, then commit() what was written.
    char *reserve(size_t bytes) {
        if (capacity_ - size_ < bytes) grow(size_ + bytes);
        return data_.get() + size_;
    }
    void commit(size_t bytes) { size_ += bytes; }

    void append(std::string_view text) {
        std::memcpy(reserve(text.size()), text.data(), text.size());
        size_ += text.size();
    }
    void append(char c) {
        *reserve(1) = c;
        ++size_;
    }

    const char *data() const { return data_.get(); }
    size_t size() const { return size_; }
    void clear() { size_ = 0; }

  private:
    void grow(size_t needed) {
        size_t capacity = capacity_ * 2;
        while (capacity < needed) capacity *= 2;
        auto data = std::make_unique<char[]>(capacity);
        std::memcpy(data.get(), data_.get(), size_);
        data_ = std::move(data);
        capacity_ = capacity;
    }

    std::unique_ptr<char[]> data_;
    size_t size_ = 0;
    size_t capacity_;
};

}  // namespace eventgen
