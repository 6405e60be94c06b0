// Structured log lines: one event name plus key=value fields, written as
// text ("session peer=1.2.3.4 result=quit") or as one JSON object per line.
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bh::log {

enum class Level { debug, info, warn, error };
enum class Format { text, json };

void init(Format format, Level level);

class Line {
 public:
  explicit Line(std::string_view event) : event_(event) {}
  Line& kv(std::string_view key, std::string_view value);
  Line& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  Line& kv(std::string_view key, const std::string& value) {
    return kv(key, std::string_view(value));
  }
  Line& kv(std::string_view key, long long value);
  Line& kv(std::string_view key, unsigned long long value);
  Line& kv(std::string_view key, int value) { return kv(key, static_cast<long long>(value)); }
  Line& kv(std::string_view key, unsigned value) {
    return kv(key, static_cast<unsigned long long>(value));
  }
  Line& kv(std::string_view key, long value) { return kv(key, static_cast<long long>(value)); }
  Line& kv(std::string_view key, unsigned long value) {
    return kv(key, static_cast<unsigned long long>(value));
  }
  Line& kv(std::string_view key, bool value);

  void write(Level level = Level::info) const;
  // JSON: the object's members without braces (the log pattern adds time and level).
  std::string render(Format format) const;

 private:
  struct Field {
    std::string key;
    std::string value;
    bool number;
  };
  std::string event_;
  std::vector<Field> fields_;
};

// Completion handler for co_spawn: whatever escaped the coroutine is logged
// (never rethrown into the event loop, which would end the process).
struct LogEscaped {
  const char* where;
  void operator()(std::exception_ptr escaped) const;
};

}  // namespace bh::log
